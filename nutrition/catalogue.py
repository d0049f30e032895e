"""The food and recipe catalogue that meal plans are built from (SCIENCE.md §5).

The data lives in plain files under ``nutrition/data/`` so that every value can be checked
against its USDA FoodData Central entry and reviewed in a diff: ``foods.csv`` (per-100 g
composition, one food per row) and ``recipes.json`` (ingredients in grams). Recipe nutrition,
cost, allergens and diets are COMPUTED here from the foods, never typed in, so a corrected
food value flows into every recipe that uses it.

Pure Python (stdlib + ``nutrition.engine``): the planner, the services and the tests all load
the same validated catalogue without Django. Loading is cached per directory.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from nutrition.engine import mealplan
from nutrition.engine.mealplan import MEAL_KINDS

__all__ = [
    "ALLERGENS",
    "CATEGORIES",
    "DIETS",
    "FOOD_COLUMNS",
    "MEAL_KINDS",
    "STORE_SECTIONS",
    "Catalogue",
    "CatalogueError",
    "Food",
    "NutrientSet",
    "Recipe",
    "load_catalogue",
]

# EU 14 ∪ US major 9. "gluten" = cereals containing gluten; wheat rows also carry "gluten".
ALLERGENS = (
    "gluten",
    "wheat",
    "crustaceans",
    "molluscs",
    "eggs",
    "fish",
    "peanuts",
    "soy",
    "milk",
    "tree-nuts",
    "celery",
    "mustard",
    "sesame",
    "sulphites",
    "lupin",
)
# The diets a food is COMPATIBLE with (vegan ⇒ vegetarian ⇒ pescatarian).
DIETS = (
    "vegan",
    "vegetarian",
    "pescatarian",
    "paleo",
    "gluten-free",
    "dairy-free",
    "halal",
    "kosher-style",
)
STORE_SECTIONS = (
    "produce",
    "meat-fish",
    "dairy-eggs",
    "bakery",
    "pantry",
    "frozen",
    "refrigerated",
    "spices-condiments",
    "drinks",
    "health-sports",
)
CATEGORIES = (
    "meat",
    "poultry",
    "fish",
    "seafood",
    "eggs",
    "dairy",
    "dairy-alternative",
    "legumes",
    "grains",
    "bread",
    "pasta-rice",
    "vegetables",
    "fruit",
    "nuts-seeds",
    "oils-fats",
    "plant-protein",
    "sports",
    "packaged",
    "condiments",
    "beverages",
    "sweets",
)
FOOD_COLUMNS = (
    "slug",
    "name",
    "fdc_id",
    "category",
    "store_section",
    "kcal",
    "protein_g",
    "carbs_g",
    "fat_g",
    "fibre_g",
    "sugar_g",
    "sat_fat_g",
    "sodium_mg",
    "allergens",
    "diets",
    "portions",
    "purchase_g",
    "purchase_label",
    "price_per_kg",
    "pantry",
    "snack_slots",
)
NUTRIENT_FIELDS = (
    "kcal",
    "protein_g",
    "carbs_g",
    "fat_g",
    "fibre_g",
    "sugar_g",
    "sat_fat_g",
    "sodium_mg",
)
RECIPE_KEYS_REQUIRED = (
    "slug",
    "name",
    "meals",
    "servings",
    "prep_min",
    "skill",
    "ingredients",
    "steps",
)
RECIPE_KEYS_OPTIONAL = ("tags",)

FOODS_FILE = "foods.csv"
RECIPES_FILE = "recipes.json"
DEFAULT_DIRECTORY = Path(__file__).resolve().parent / "data"

# Categories that may not share a dish with milk under kosher-style (fish and eggs may).
_MEAT_CATEGORIES = frozenset({"meat", "poultry"})

RECIPE_MAX_PORTIONS = 2  # a second serving of a dish is normal, a third is not a plan
FOOD_MAX_PORTIONS = 3  # e.g. three pieces of fruit or three scoops in one slot

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_WORD_RE = re.compile(r"[a-z0-9]+")


class CatalogueError(ValueError):
    """The catalogue files are invalid; the message names the file, the row/slug and the
    problem so a data fix can be made without a debugger."""


@dataclass(frozen=True)
class NutrientSet:
    """Energy and the nutrients a plan or a label shows, for some amount of food."""

    kcal: float = 0.0
    protein_g: float = 0.0
    carbs_g: float = 0.0
    fat_g: float = 0.0
    fibre_g: float = 0.0
    sugar_g: float = 0.0
    sat_fat_g: float = 0.0
    sodium_mg: float = 0.0

    def __add__(self, other: NutrientSet) -> NutrientSet:
        if not isinstance(other, NutrientSet):
            return NotImplemented
        return NutrientSet(*(getattr(self, f) + getattr(other, f) for f in NUTRIENT_FIELDS))

    def scaled(self, factor: float) -> NutrientSet:
        if factor < 0 or not math.isfinite(factor):
            raise ValueError(f"scale factor must be a finite number ≥ 0, got {factor!r}")
        return NutrientSet(*(getattr(self, f) * factor for f in NUTRIENT_FIELDS))

    def as_dict(self) -> dict[str, float]:
        """Rounded for display/JSON: whole kcal and mg (more digits are noise given the
        composition data), grams to one decimal."""
        out: dict[str, float] = {}
        for f in NUTRIENT_FIELDS:
            value = getattr(self, f)
            out[f] = float(round(value)) if f in ("kcal", "sodium_mg") else round(value, 1)
        return out

    @property
    def macros(self) -> mealplan.Nutrients:
        """The four numbers the meal-plan optimiser works with."""
        return mealplan.Nutrients(self.kcal, self.protein_g, self.carbs_g, self.fat_g)


@dataclass(frozen=True)
class Food:
    """One row of foods.csv; nutrient fields are per 100 g edible portion."""

    slug: str
    name: str
    fdc_id: int  # 0 = no USDA SR Legacy/Foundation entry (typical label values)
    category: str
    store_section: str
    kcal: float
    protein_g: float
    carbs_g: float  # total carbohydrate by difference, fibre included (as USDA reports it)
    fat_g: float
    fibre_g: float
    sugar_g: float
    sat_fat_g: float
    sodium_mg: float
    allergens: frozenset[str]
    diets: frozenset[str]
    portions: tuple[tuple[str, float], ...]  # (label, grams); the first is the default
    purchase_g: float
    purchase_label: str
    price_per_kg: float
    pantry: bool
    snack_slots: frozenset[str]

    @property
    def per_100g(self) -> NutrientSet:
        return NutrientSet(*(getattr(self, f) for f in NUTRIENT_FIELDS))

    def nutrients(self, grams: float) -> NutrientSet:
        """Nutrients in ``grams`` of this food (ValueError for negative amounts)."""
        if grams < 0 or not math.isfinite(grams):
            raise ValueError(f"grams must be a finite number ≥ 0, got {grams!r}")
        return self.per_100g.scaled(grams / 100.0)

    def cost(self, grams: float) -> float:
        return self.price_per_kg * grams / 1000.0

    @property
    def default_portion(self) -> tuple[str, float]:
        return self.portions[0]


@dataclass(frozen=True)
class Recipe:
    """A recipe as written (ingredients for ALL servings) plus the values computed from its
    foods at load time."""

    slug: str
    name: str
    meals: frozenset[str]
    servings: int
    prep_min: int
    skill: int
    tags: tuple[str, ...]
    ingredients: tuple[tuple[str, float], ...]  # (food slug, grams for all servings)
    steps: tuple[str, ...]
    per_serving: NutrientSet
    grams_per_serving: float
    cost_per_serving: float
    allergens: frozenset[str]
    diets: frozenset[str]
    foods: frozenset[str]


def _build_recipe(
    *,
    slug: str,
    name: str,
    meals: Iterable[str],
    servings: int,
    prep_min: int,
    skill: int,
    tags: Iterable[str],
    ingredients: Iterable[tuple[str, float]],
    steps: Iterable[str],
    foods: Mapping[str, Food],
) -> Recipe:
    """Compute nutrition, cost, allergens and diets from the foods (never typed in): the
    recipe is compatible with a diet only if EVERY ingredient is, and carries every
    ingredient's allergens.

    One diet is not a per-ingredient property: kosher-style forbids meat or poultry cooked or
    served with milk in one dish, even when each ingredient is fine on its own (kosher beef,
    kosher cheese). So a recipe with any ``meat``/``poultry`` food AND any food carrying the
    ``milk`` allergen loses ``kosher-style`` (fish with dairy is allowed, so it stays)."""
    ingredients = tuple(ingredients)
    total = NutrientSet()
    cost = 0.0
    grams = 0.0
    allergens: set[str] = set()
    diets: set[str] | None = None
    has_meat = has_milk = False
    for food_slug, g in ingredients:
        food = foods[food_slug]
        total = total + food.nutrients(g)
        cost += food.cost(g)
        grams += g
        allergens |= food.allergens
        diets = set(food.diets) if diets is None else diets & food.diets
        has_meat = has_meat or food.category in _MEAT_CATEGORIES
        has_milk = has_milk or "milk" in food.allergens
    if diets is not None and has_meat and has_milk:
        diets.discard("kosher-style")
    return Recipe(
        slug=slug,
        name=name,
        meals=frozenset(meals),
        servings=servings,
        prep_min=prep_min,
        skill=skill,
        tags=tuple(tags),
        ingredients=ingredients,
        steps=tuple(steps),
        per_serving=total.scaled(1.0 / servings),
        grams_per_serving=grams / servings,
        cost_per_serving=cost / servings,
        allergens=frozenset(allergens),
        diets=frozenset(diets or ()),
        foods=frozenset(s for s, _ in ingredients),
    )


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def _match_rank(query: str, name: str, slug: str) -> int | None:
    """0 exact, 1 prefix, 2 a word starts with the query, 3 substring, 4 every query word
    found as a word prefix somewhere; None = no match. Lower is better."""
    if not query:
        return 0
    q = query.strip().lower()
    q_slug = "-".join(_words(q))
    name_l = name.lower()
    if q in (name_l, slug) or q_slug == slug:
        return 0
    if name_l.startswith(q) or (q_slug and slug.startswith(q_slug)):
        return 1
    words = _words(name_l) + slug.split("-")
    if any(w.startswith(q) for w in words):
        return 2
    if q in name_l or (q_slug and q_slug in slug):
        return 3
    q_words = _words(q)
    if q_words and all(any(w.startswith(qw) for w in words) for qw in q_words):
        return 4
    return None


def _check_known(kind: str, values: Iterable[str], known: Iterable[str]) -> frozenset[str]:
    values = frozenset(values)
    unknown = values - frozenset(known)
    if unknown:
        raise ValueError(f"unknown {kind}: {', '.join(sorted(unknown))}")
    return values


class Catalogue:
    """Validated foods and recipes with search and the meal-plan candidates."""

    def __init__(self, foods: Mapping[str, Food], recipes: Mapping[str, Recipe]) -> None:
        self.foods: Mapping[str, Food] = MappingProxyType(dict(foods))
        self.recipes: Mapping[str, Recipe] = MappingProxyType(dict(recipes))
        self._candidates: tuple[mealplan.Candidate, ...] | None = None

    def __repr__(self) -> str:
        return f"<Catalogue {len(self.foods)} foods, {len(self.recipes)} recipes>"

    def food(self, slug: str) -> Food:
        return self.foods[slug]

    def recipe(self, slug: str) -> Recipe:
        return self.recipes[slug]

    def search_foods(
        self,
        q: str = "",
        *,
        diets: Iterable[str] = (),
        exclude_allergens: Iterable[str] = (),
        category: str | None = None,
        limit: int = 20,
    ) -> list[Food]:
        """Foods matching ``q`` (name or slug, case-insensitive) that suit ALL ``diets`` and
        contain none of ``exclude_allergens``; best match first (exact, prefix, word, then
        substring), shorter names first within a rank."""
        want_diets = _check_known("diet", diets, DIETS)
        avoid = _check_known("allergen", exclude_allergens, ALLERGENS)
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"unknown category: {category}")
        hits: list[tuple[int, int, str, Food]] = []
        for food in self.foods.values():
            if category is not None and food.category != category:
                continue
            if not want_diets <= food.diets or avoid & food.allergens:
                continue
            rank = _match_rank(q, food.name, food.slug)
            if rank is not None:
                hits.append((rank, len(food.name), food.name, food))
        hits.sort(key=lambda h: h[:3])
        return [h[3] for h in hits[: max(limit, 0)]]

    def search_recipes(
        self,
        q: str = "",
        *,
        meal: str | None = None,
        diets: Iterable[str] = (),
        exclude_allergens: Iterable[str] = (),
        max_prep_min: int | None = None,
        limit: int = 20,
    ) -> list[Recipe]:
        """Recipes matching ``q`` (name, slug or tag) for ``meal``, compatible with ALL
        ``diets``, free of ``exclude_allergens`` and quick enough; best match first."""
        want_diets = _check_known("diet", diets, DIETS)
        avoid = _check_known("allergen", exclude_allergens, ALLERGENS)
        if meal is not None and meal not in MEAL_KINDS:
            raise ValueError(f"unknown meal: {meal}")
        hits: list[tuple[int, int, str, Recipe]] = []
        for recipe in self.recipes.values():
            if meal is not None and meal not in recipe.meals:
                continue
            if not want_diets <= recipe.diets or avoid & recipe.allergens:
                continue
            if max_prep_min is not None and recipe.prep_min > max_prep_min:
                continue
            rank = _match_rank(q, recipe.name, recipe.slug)
            if rank is None and q and q.strip().lower() in recipe.tags:
                rank = 2
            if rank is not None:
                hits.append((rank, len(recipe.name), recipe.name, recipe))
        hits.sort(key=lambda h: h[:3])
        return [h[3] for h in hits[: max(limit, 0)]]

    def candidates(self) -> tuple[mealplan.Candidate, ...]:
        """Everything a meal slot can hold: one per recipe (by the serving) and one per food
        that can be eaten on its own (by its default portion). Cached."""
        if self._candidates is None:
            out: list[mealplan.Candidate] = []
            for r in self.recipes.values():
                out.append(
                    mealplan.Candidate(
                        key=f"recipe:{r.slug}",
                        name=r.name,
                        kinds=r.meals,
                        portion=r.per_serving.macros,
                        portion_grams=r.grams_per_serving,
                        portion_label="1 serving",
                        max_portions=RECIPE_MAX_PORTIONS,
                        cost=r.cost_per_serving,
                        prep_min=r.prep_min,
                        skill=r.skill,
                        allergens=r.allergens,
                        diets=r.diets,
                        foods=r.foods,
                        is_recipe=True,
                    )
                )
            for f in self.foods.values():
                if not f.snack_slots:
                    continue
                label, grams = f.default_portion
                out.append(
                    mealplan.Candidate(
                        key=f"food:{f.slug}",
                        name=f.name,
                        kinds=f.snack_slots,
                        portion=f.nutrients(grams).macros,
                        portion_grams=grams,
                        portion_label=label,
                        max_portions=FOOD_MAX_PORTIONS,
                        cost=f.cost(grams),
                        prep_min=0,
                        skill=1,
                        allergens=f.allergens,
                        diets=f.diets,
                        foods=frozenset({f.slug}),
                        is_recipe=False,
                    )
                )
            self._candidates = tuple(out)
        return self._candidates


# --------------------------------------------------------------------------- loading


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _number(value: Any, field: str, *, minimum: float = 0.0, positive: bool = False) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{field} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{field} must be finite, got {value!r}")
    if positive and number <= 0:
        raise ValueError(f"{field} must be > 0, got {value!r}")
    if number < minimum:
        raise ValueError(f"{field} must be ≥ {minimum:g}, got {value!r}")
    return number


def _integer(value: Any, field: str, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} must be an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"{minimum}–{maximum}" if maximum is not None else f"≥ {minimum}"
        raise ValueError(f"{field} must be {bound}, got {value!r}")
    return value


def _portions(cell: str) -> tuple[tuple[str, float], ...]:
    portions = []
    for part in _split(cell):
        label, sep, grams = part.rpartition(":")
        if not sep or not label.strip():
            raise ValueError(f"portion {part!r} must look like 'label:grams'")
        portions.append((label.strip(), _number(grams, f"portion {label!r} grams", positive=True)))
    if not portions:
        raise ValueError("portions must list at least one 'label:grams'")
    return tuple(portions)


def _food_from_row(row: dict[str, str]) -> Food:
    slug = row["slug"].strip()
    if not _SLUG_RE.match(slug):
        raise ValueError(f"slug {slug!r} must be lowercase words joined by hyphens")
    name = row["name"].strip()
    if not name:
        raise ValueError("name is empty")
    fdc = row["fdc_id"].strip()
    if not fdc.isdigit():
        raise ValueError(f"fdc_id must be a non-negative integer, got {fdc!r}")
    category = row["category"].strip()
    if category not in CATEGORIES:
        raise ValueError(f"unknown category: {category!r}")
    section = row["store_section"].strip()
    if section not in STORE_SECTIONS:
        raise ValueError(f"unknown store_section: {section!r}")
    values = {f: _number(row[f].strip(), f) for f in NUTRIENT_FIELDS}
    pantry = row["pantry"].strip()
    if pantry not in ("0", "1"):
        raise ValueError(f"pantry must be 0 or 1, got {pantry!r}")
    return Food(
        slug=slug,
        name=name,
        fdc_id=int(fdc),
        category=category,
        store_section=section,
        **values,
        allergens=_check_known("allergen", _split(row["allergens"]), ALLERGENS),
        diets=_check_known("diet", _split(row["diets"]), DIETS),
        portions=_portions(row["portions"]),
        purchase_g=_number(row["purchase_g"].strip(), "purchase_g", positive=True),
        purchase_label=row["purchase_label"].strip(),
        price_per_kg=_number(row["price_per_kg"].strip(), "price_per_kg"),
        pantry=pantry == "1",
        snack_slots=_check_known("snack slot", _split(row["snack_slots"]), MEAL_KINDS),
    )


def _load_foods(path: Path) -> dict[str, Food]:
    if not path.is_file():
        raise CatalogueError(f"{path.name}: file not found at {path}")
    foods: dict[str, Food] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise CatalogueError(f"{path.name}: empty file (no header row)")
        header = [h.strip() for h in header]
        unknown = [h for h in header if h not in FOOD_COLUMNS]
        missing = [c for c in FOOD_COLUMNS if c not in header]
        if unknown:
            raise CatalogueError(f"{path.name}: unknown column(s): {', '.join(unknown)}")
        if missing:
            raise CatalogueError(f"{path.name}: missing column(s): {', '.join(missing)}")
        if len(header) != len(set(header)):
            raise CatalogueError(f"{path.name}: duplicate column in header")
        for line_no, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            slug = cells[0].strip() if cells else ""
            where = f"{path.name} row {line_no} ({slug or '?'})"
            if len(cells) != len(header):
                raise CatalogueError(f"{where}: expected {len(header)} cells, got {len(cells)}")
            try:
                food = _food_from_row(dict(zip(header, cells, strict=True)))
            except ValueError as exc:
                raise CatalogueError(f"{where}: {exc}") from None
            if food.slug in foods:
                raise CatalogueError(f"{where}: duplicate slug {food.slug!r}")
            foods[food.slug] = food
    if not foods:
        raise CatalogueError(f"{path.name}: no foods")
    return foods


def _recipe_from_obj(obj: Any, foods: Mapping[str, Food]) -> Recipe:
    if not isinstance(obj, dict):
        raise ValueError("must be a JSON object")
    unknown = sorted(set(obj) - set(RECIPE_KEYS_REQUIRED) - set(RECIPE_KEYS_OPTIONAL))
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(unknown)}")
    missing = [k for k in RECIPE_KEYS_REQUIRED if k not in obj]
    if missing:
        raise ValueError(f"missing key(s): {', '.join(missing)}")
    slug = obj["slug"]
    if not isinstance(slug, str) or not _SLUG_RE.match(slug):
        raise ValueError(f"slug {slug!r} must be lowercase words joined by hyphens")
    name = obj["name"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name must be a non-empty string")
    meals = obj["meals"]
    if not isinstance(meals, list) or not meals or not all(isinstance(m, str) for m in meals):
        raise ValueError("meals must be a non-empty list of meal kinds")
    meals_set = _check_known("meal", meals, MEAL_KINDS)
    servings = _integer(obj["servings"], "servings", minimum=1, maximum=50)
    prep_min = _integer(obj["prep_min"], "prep_min", minimum=0, maximum=24 * 60)
    skill = _integer(obj["skill"], "skill", minimum=1, maximum=3)
    tags = obj.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("tags must be a list of strings")
    raw = obj["ingredients"]
    if not isinstance(raw, list) or not raw:
        raise ValueError("ingredients must be a non-empty list")
    ingredients: list[tuple[str, float]] = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) != {"food", "grams"}:
            raise ValueError(f"ingredient {i} must be an object with exactly 'food' and 'grams'")
        food_slug = item["food"]
        if food_slug not in foods:
            raise ValueError(f"ingredient {i} names unknown food {food_slug!r}")
        grams = _number(item["grams"], f"ingredient {i} ({food_slug}) grams", positive=True)
        ingredients.append((food_slug, grams))
    steps = obj["steps"]
    if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
        raise ValueError("steps must be a non-empty list of strings")
    return _build_recipe(
        slug=slug,
        name=name.strip(),
        meals=meals_set,
        servings=servings,
        prep_min=prep_min,
        skill=skill,
        tags=tags,
        ingredients=ingredients,
        steps=steps,
        foods=foods,
    )


def _load_recipes(path: Path, foods: Mapping[str, Food]) -> dict[str, Recipe]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{path.name}: invalid JSON: {exc}") from None
    if not isinstance(data, list):
        raise CatalogueError(f"{path.name}: must be a JSON list of recipe objects")
    recipes: dict[str, Recipe] = {}
    for index, obj in enumerate(data):
        slug = obj.get("slug", "?") if isinstance(obj, dict) else "?"
        where = f"{path.name} recipe {index} ({slug})"
        try:
            recipe = _recipe_from_obj(obj, foods)
        except ValueError as exc:
            raise CatalogueError(f"{where}: {exc}") from None
        if recipe.slug in recipes:
            raise CatalogueError(f"{where}: duplicate slug {recipe.slug!r}")
        recipes[recipe.slug] = recipe
    return recipes


@functools.cache
def _load(directory: Path) -> Catalogue:
    foods = _load_foods(directory / FOODS_FILE)
    recipes_path = directory / RECIPES_FILE
    # recipes.json is optional (a food-only catalogue is valid); when present it must be valid.
    recipes = _load_recipes(recipes_path, foods) if recipes_path.exists() else {}
    return Catalogue(foods, recipes)


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load and validate ``foods.csv`` (+ ``recipes.json`` when present) from ``directory``
    (default: ``nutrition/data`` next to this module). Cached per resolved directory, so
    repeated calls are free; raises CatalogueError naming the file, row and problem."""
    path = DEFAULT_DIRECTORY if directory is None else Path(directory)
    return _load(path.resolve())
