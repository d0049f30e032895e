"""The catalogue loader, recipe arithmetic, search and meal-plan candidates.

Loader errors are the data maintainers' only feedback, so each test writes a broken file into
tmp_path and checks that the message names the file, the row/slug and the problem. Pure: no DB.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nutrition.catalogue import (
    ALLERGENS,
    DIETS,
    FOOD_COLUMNS,
    MEAL_KINDS,
    Catalogue,
    CatalogueError,
    NutrientSet,
    load_catalogue,
)
from nutrition.engine import mealplan

DATA = Path(__file__).resolve().parents[2] / "nutrition" / "data"

with (DATA / "foods.csv").open(encoding="utf-8", newline="") as _fh:
    REAL_ROWS = {r["slug"]: r for r in csv.DictReader(_fh)}

SAMPLE = ["chicken-breast-cooked", "rice-white-cooked", "broccoli-raw", "olive-oil", "banana"]
SAMPLE += ["greek-yogurt-nonfat", "almonds", "tofu-firm", "bread-wholemeal", "honey"]


def write_foods(directory: Path, rows: list[dict[str, str]], columns=FOOD_COLUMNS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "foods.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return directory


def sample_rows(**changes: dict[str, str]) -> list[dict[str, str]]:
    """SAMPLE rows from the real table; ``changes`` maps slug → fields to overwrite."""
    rows = []
    for slug in SAMPLE:
        row = dict(REAL_ROWS[slug])
        row.update(changes.get(slug.replace("-", "_"), {}))
        rows.append(row)
    return rows


def recipe(**overrides) -> dict:
    base = {
        "slug": "chicken-rice-bowl",
        "name": "Chicken rice bowl",
        "meals": ["lunch", "dinner"],
        "servings": 2,
        "prep_min": 25,
        "skill": 1,
        "tags": ["high-protein"],
        "ingredients": [
            {"food": "chicken-breast-cooked", "grams": 240},
            {"food": "rice-white-cooked", "grams": 320},
            {"food": "broccoli-raw", "grams": 200},
            {"food": "olive-oil", "grams": 10},
        ],
        "steps": ["Cook the rice.", "Roast the chicken.", "Steam the broccoli."],
    }
    base.update(overrides)
    return base


def write_recipes(directory: Path, recipes) -> None:
    text = recipes if isinstance(recipes, str) else json.dumps(recipes)
    (directory / "recipes.json").write_text(text, encoding="utf-8")


def load_error(directory: Path) -> str:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(directory)
    return str(info.value)


# ------------------------------------------------------------------------------ loading


def test_default_catalogue_loads_every_row():
    catalogue = load_catalogue()
    assert set(REAL_ROWS) <= set(catalogue.foods)
    chicken = catalogue.food("chicken-breast-cooked")
    assert chicken.kcal == float(REAL_ROWS["chicken-breast-cooked"]["kcal"])
    assert isinstance(chicken.allergens, frozenset) and isinstance(chicken.diets, frozenset)
    assert chicken.default_portion == chicken.portions[0]
    assert all(grams > 0 for _, grams in chicken.portions)


def test_load_is_cached_per_directory(tmp_path):
    assert load_catalogue() is load_catalogue()
    assert load_catalogue() is load_catalogue(DATA)
    a = load_catalogue(write_foods(tmp_path / "a", sample_rows()))
    assert a is load_catalogue(tmp_path / "a")
    assert a is not load_catalogue()
    assert len(a.foods) == len(SAMPLE) and a.recipes == {}


def test_unknown_lookups_raise_key_error(tmp_path):
    catalogue = load_catalogue(write_foods(tmp_path, sample_rows()))
    with pytest.raises(KeyError):
        catalogue.food("unobtainium")
    with pytest.raises(KeyError):
        catalogue.recipe("nothing")


def test_missing_file(tmp_path):
    assert "foods.csv" in load_error(tmp_path)


def test_unknown_column(tmp_path):
    rows = sample_rows()
    for row in rows:
        row["colour"] = "green"
    write_foods(tmp_path, rows, columns=(*FOOD_COLUMNS, "colour"))
    message = load_error(tmp_path)
    assert "foods.csv" in message and "unknown column" in message and "colour" in message


def test_missing_column(tmp_path):
    columns = tuple(c for c in FOOD_COLUMNS if c != "sodium_mg")
    write_foods(tmp_path, sample_rows(), columns=columns)
    message = load_error(tmp_path)
    assert "missing column" in message and "sodium_mg" in message


def test_duplicate_slug(tmp_path):
    rows = sample_rows()
    rows.append(dict(rows[0]))
    write_foods(tmp_path, rows)
    message = load_error(tmp_path)
    assert "duplicate slug" in message and "chicken-breast-cooked" in message
    assert f"row {len(rows) + 1}" in message


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("allergens", "milk;gravel", "unknown allergen: gravel"),
        ("diets", "vegan;carnivore", "unknown diet: carnivore"),
        ("store_section", "basement", "unknown store_section"),
        ("category", "rocks", "unknown category"),
        ("snack_slots", "brunch", "unknown snack slot: brunch"),
        ("kcal", "lots", "kcal must be a number"),
        ("protein_g", "-3", "protein_g must be ≥ 0"),
        ("fdc_id", "12a", "fdc_id must be a non-negative integer"),
        ("portions", "one bowl", "must look like 'label:grams'"),
        ("portions", "1 bowl:0", "must be > 0"),
        ("portions", "", "at least one"),
        ("purchase_g", "0", "purchase_g must be > 0"),
        ("pantry", "yes", "pantry must be 0 or 1"),
        ("slug", "Banana Split", "lowercase"),
    ],
)
def test_bad_food_values_name_row_and_problem(tmp_path, field, value, expected):
    write_foods(tmp_path, sample_rows(banana={field: value}))
    message = load_error(tmp_path)
    row_no = SAMPLE.index("banana") + 2
    assert message.startswith(f"foods.csv row {row_no} (")
    assert expected in message


def test_recipes_file_is_optional_but_validated(tmp_path):
    write_foods(tmp_path, sample_rows())
    write_recipes(tmp_path, [recipe()])
    assert set(load_catalogue(tmp_path).recipes) == {"chicken-rice-bowl"}


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"ingredients": [{"food": "dragon-fruit-jam", "grams": 10}]}, "unknown food"),
        ({"servings": 0}, "servings must be"),
        ({"servings": 1.5}, "servings must be an integer"),
        ({"ingredients": [{"food": "banana", "grams": -5}]}, "grams must be > 0"),
        ({"ingredients": [{"food": "banana", "grams": "lots"}]}, "must be a number"),
        ({"ingredients": [{"food": "banana"}]}, "exactly 'food' and 'grams'"),
        ({"ingredients": []}, "ingredients must be a non-empty list"),
        ({"meals": ["elevenses"]}, "unknown meal: elevenses"),
        ({"meals": []}, "meals must be a non-empty list"),
        ({"skill": 4}, "skill must be 1–3"),
        ({"prep_min": -1}, "prep_min must be"),
        ({"calories": 500}, "unknown key(s): calories"),
        ({"steps": []}, "steps must be a non-empty list"),
        ({"slug": "Bad Slug"}, "lowercase"),
    ],
)
def test_bad_recipes_name_recipe_and_problem(tmp_path, bad, expected):
    write_foods(tmp_path, sample_rows())
    write_recipes(tmp_path, [recipe(slug="fine-one"), recipe(**bad)])
    message = load_error(tmp_path)
    assert message.startswith("recipes.json recipe 1 (")
    assert expected in message


def test_recipe_missing_key_and_duplicate(tmp_path):
    write_foods(tmp_path / "a", sample_rows())
    broken = recipe()
    del broken["steps"]
    write_recipes(tmp_path / "a", [broken])
    assert "missing key(s): steps" in load_error(tmp_path / "a")
    write_foods(tmp_path / "b", sample_rows())
    write_recipes(tmp_path / "b", [recipe(), recipe()])
    assert "duplicate slug 'chicken-rice-bowl'" in load_error(tmp_path / "b")


def test_recipes_invalid_json(tmp_path):
    write_foods(tmp_path / "a", sample_rows())
    write_recipes(tmp_path / "a", "[{not json")
    assert load_error(tmp_path / "a").startswith("recipes.json: invalid JSON")
    write_foods(tmp_path / "b", sample_rows())
    write_recipes(tmp_path / "b", {"slug": "x"})
    assert "must be a JSON list" in load_error(tmp_path / "b")


# ----------------------------------------------------------------------- recipe arithmetic


def test_recipe_nutrition_is_the_sum_of_its_foods(tmp_path):
    write_foods(tmp_path, sample_rows())
    write_recipes(tmp_path, [recipe()])
    catalogue = load_catalogue(tmp_path)
    r = catalogue.recipe("chicken-rice-bowl")
    total = NutrientSet()
    cost = 0.0
    for slug, grams in r.ingredients:
        food = catalogue.food(slug)
        total = total + food.nutrients(grams)
        cost += float(REAL_ROWS[slug]["price_per_kg"]) * grams / 1000
    for field in ("kcal", "protein_g", "carbs_g", "fat_g", "fibre_g", "sodium_mg"):
        assert getattr(r.per_serving, field) == pytest.approx(getattr(total, field) / 2)
    # by hand for kcal from the CSV: 240 g chicken, 320 g rice, 200 g broccoli, 10 g oil
    by_hand = sum(
        float(REAL_ROWS[s]["kcal"]) * g / 100
        for s, g in [
            ("chicken-breast-cooked", 240),
            ("rice-white-cooked", 320),
            ("broccoli-raw", 200),
            ("olive-oil", 10),
        ]
    )
    assert r.per_serving.kcal == pytest.approx(by_hand / 2)
    assert r.grams_per_serving == pytest.approx(385)
    assert r.cost_per_serving == pytest.approx(cost / 2)
    assert r.foods == {"chicken-breast-cooked", "rice-white-cooked", "broccoli-raw", "olive-oil"}


def test_recipe_allergens_union_and_diets_intersection(tmp_path):
    write_foods(tmp_path, sample_rows())
    toast = recipe(
        slug="honey-almond-toast",
        name="Honey almond toast",
        meals=["breakfast"],
        servings=1,
        ingredients=[
            {"food": "bread-wholemeal", "grams": 64},
            {"food": "almonds", "grams": 15},
            {"food": "honey", "grams": 10},
        ],
    )
    write_recipes(tmp_path, [toast])
    r = load_catalogue(tmp_path).recipe("honey-almond-toast")
    assert r.allergens == {"gluten", "wheat", "tree-nuts"}
    assert "vegan" not in r.diets  # honey
    assert "gluten-free" not in r.diets  # bread
    assert "vegetarian" in r.diets and "dairy-free" in r.diets
    assert r.meals == {"breakfast"} and r.servings == 1


def test_meat_with_milk_is_not_kosher_style(tmp_path):
    """Each ingredient is kosher-style on its own, but meat/poultry with milk in one dish is
    not; fish or tofu with dairy, and chicken without dairy, keep the flag."""
    rows = sample_rows() + [dict(REAL_ROWS["cheddar"]), dict(REAL_ROWS["salmon-cooked"])]
    for slug in ("chicken-breast-cooked", "cheddar", "salmon-cooked", "greek-yogurt-nonfat"):
        assert "kosher-style" in REAL_ROWS[slug]["diets"].split(";"), slug
    write_foods(tmp_path, rows)

    def dish(slug: str, *foods: str) -> dict:
        name = slug.replace("-", " ").capitalize()
        return recipe(slug=slug, name=name, ingredients=[{"food": f, "grams": 100} for f in foods])

    write_recipes(
        tmp_path,
        [
            dish("chicken-cheese-melt", "chicken-breast-cooked", "cheddar", "bread-wholemeal"),
            dish("chicken-yogurt-bowl", "chicken-breast-cooked", "greek-yogurt-nonfat"),
            dish("salmon-cheese-bake", "salmon-cooked", "cheddar"),
            dish("tofu-yogurt-bowl", "tofu-firm", "greek-yogurt-nonfat"),
            dish("chicken-rice-bowl", "chicken-breast-cooked", "rice-white-cooked"),
        ],
    )
    catalogue = load_catalogue(tmp_path)
    melt = catalogue.recipe("chicken-cheese-melt")
    assert "kosher-style" not in melt.diets
    assert "halal" in melt.diets  # only kosher-style has the meat/milk rule
    assert "kosher-style" not in catalogue.recipe("chicken-yogurt-bowl").diets
    for slug in ("salmon-cheese-bake", "tofu-yogurt-bowl", "chicken-rice-bowl"):
        assert "kosher-style" in catalogue.recipe(slug).diets, slug
    assert [r.slug for r in catalogue.search_recipes("chicken cheese melt")] == [melt.slug]
    assert not catalogue.search_recipes("chicken cheese melt", diets=["kosher-style"])


# ----------------------------------------------------------------------------- nutrients


def test_food_nutrients_scale_per_100g():
    banana = load_catalogue().food("banana")
    n = banana.nutrients(118)
    assert n.kcal == pytest.approx(banana.kcal * 1.18)
    assert n.macros == mealplan.Nutrients(n.kcal, n.protein_g, n.carbs_g, n.fat_g)
    with pytest.raises(ValueError):
        banana.nutrients(-1)


def test_as_dict_rounds_sensibly():
    d = NutrientSet(104.96, 1.2862, 26.96, 0.389, 3.07, 14.43, 0.13, 1.18).as_dict()
    assert d == {
        "kcal": 105.0,
        "protein_g": 1.3,
        "carbs_g": 27.0,
        "fat_g": 0.4,
        "fibre_g": 3.1,
        "sugar_g": 14.4,
        "sat_fat_g": 0.1,
        "sodium_mg": 1.0,
    }


finite = st.floats(min_value=0, max_value=1e4, allow_nan=False)
nutrient_sets = st.builds(NutrientSet, *([finite] * 8))


@given(nutrient_sets, nutrient_sets, st.floats(min_value=0, max_value=10))
def test_nutrient_set_is_linear(a, b, factor):
    left = (a + b).scaled(factor)
    right = a.scaled(factor) + b.scaled(factor)
    for field in ("kcal", "protein_g", "sodium_mg"):
        assert math.isclose(getattr(left, field), getattr(right, field), rel_tol=1e-9, abs_tol=1e-6)


def test_negative_scale_rejected():
    with pytest.raises(ValueError):
        NutrientSet(1, 1, 1, 1).scaled(-0.5)


# -------------------------------------------------------------------------------- search


def test_search_orders_exact_then_prefix_then_contains():
    catalogue = load_catalogue()
    names = [f.slug for f in catalogue.search_foods("banana")]
    assert names[0] == "banana"
    hits = catalogue.search_foods("rice", limit=50)
    ranks = [
        0 if f.name.lower() == "rice" else 1 if f.name.lower().startswith("rice") else 2
        for f in hits
    ]
    assert ranks == sorted(ranks)
    assert any(f.slug == "rice-milk" for f in hits)  # prefix
    assert any(f.slug == "rice-basmati-cooked" for f in hits)
    prefixed = [f for f in hits if f.name.lower().startswith("rice")]
    assert [len(f.name) for f in prefixed] == sorted(len(f.name) for f in prefixed)


def test_search_is_case_insensitive_and_matches_words_and_slugs():
    catalogue = load_catalogue()
    assert "greek-yogurt-nonfat" in [f.slug for f in catalogue.search_foods("GREEK YOG")]
    assert "salmon-cooked" in [f.slug for f in catalogue.search_foods("salmon-cooked")]
    assert "smoked-salmon" in [f.slug for f in catalogue.search_foods("salmon")]
    assert catalogue.search_foods("zzzz-no-such-food") == []


def test_search_filters_diets_allergens_and_category():
    catalogue = load_catalogue()
    vegan_gf = catalogue.search_foods("", diets=["vegan", "gluten-free"], limit=1000)
    assert vegan_gf and all({"vegan", "gluten-free"} <= f.diets for f in vegan_gf)
    assert "seitan" not in [f.slug for f in vegan_gf]
    no_milk = catalogue.search_foods("yogurt", exclude_allergens=["milk"], limit=100)
    assert [f.slug for f in no_milk] == ["soy-yogurt"]
    fruit = catalogue.search_foods("", category="fruit", limit=1000)
    assert len(fruit) >= 35 and all(f.category == "fruit" for f in fruit)
    assert len(catalogue.search_foods("", limit=3)) == 3
    with pytest.raises(ValueError):
        catalogue.search_foods("x", diets=["carnivore"])
    with pytest.raises(ValueError):
        catalogue.search_foods("x", exclude_allergens=["gravel"])


def test_search_recipes(tmp_path):
    write_foods(tmp_path, sample_rows())
    write_recipes(
        tmp_path,
        [
            recipe(),
            recipe(
                slug="banana-yogurt-pot",
                name="Banana yogurt pot",
                meals=["breakfast", "snack"],
                prep_min=5,
                tags=["quick"],
                ingredients=[
                    {"food": "greek-yogurt-nonfat", "grams": 170},
                    {"food": "banana", "grams": 118},
                ],
            ),
        ],
    )
    catalogue = load_catalogue(tmp_path)
    assert [r.slug for r in catalogue.search_recipes(meal="breakfast")] == ["banana-yogurt-pot"]
    assert [r.slug for r in catalogue.search_recipes(exclude_allergens=["milk"])] == [
        "chicken-rice-bowl"
    ]
    assert [r.slug for r in catalogue.search_recipes(diets=["vegetarian"])] == ["banana-yogurt-pot"]
    assert [r.slug for r in catalogue.search_recipes(max_prep_min=10)] == ["banana-yogurt-pot"]
    assert [r.slug for r in catalogue.search_recipes("chicken")] == ["chicken-rice-bowl"]
    assert [r.slug for r in catalogue.search_recipes("quick")] == ["banana-yogurt-pot"]
    with pytest.raises(ValueError):
        catalogue.search_recipes(meal="elevenses")


# ---------------------------------------------------------------------------- candidates


def test_candidates_shape(tmp_path):
    write_foods(tmp_path, sample_rows())
    write_recipes(tmp_path, [recipe()])
    catalogue = load_catalogue(tmp_path)
    candidates = catalogue.candidates()
    assert candidates is catalogue.candidates()  # cached
    keys = [c.key for c in candidates]
    assert len(keys) == len(set(keys))
    snackable = {s for s, f in catalogue.foods.items() if f.snack_slots}
    assert {k for k in keys if k.startswith("food:")} == {f"food:{s}" for s in snackable}
    assert "food:olive-oil" not in keys  # ingredient only

    r = next(c for c in candidates if c.key == "recipe:chicken-rice-bowl")
    rec = catalogue.recipe("chicken-rice-bowl")
    assert r.is_recipe and r.portion_label == "1 serving" and r.max_portions == 2
    assert r.portion == rec.per_serving.macros and r.kinds == {"lunch", "dinner"}
    assert r.cost == pytest.approx(rec.cost_per_serving) and r.prep_min == 25
    assert r.foods == rec.foods and r.diets == rec.diets and r.allergens == rec.allergens

    b = next(c for c in candidates if c.key == "food:banana")
    banana = catalogue.food("banana")
    label, grams = banana.default_portion
    assert not b.is_recipe and b.max_portions == 3 and b.prep_min == 0 and b.skill == 1
    assert b.portion_label == label and b.portion_grams == grams
    assert b.portion == banana.nutrients(grams).macros
    assert b.cost == pytest.approx(banana.price_per_kg * grams / 1000)
    assert b.kinds == banana.snack_slots and b.foods == {"banana"}


def test_default_candidates_are_well_formed():
    for c in load_catalogue().candidates():
        assert isinstance(c, mealplan.Candidate)
        assert c.kinds and c.kinds <= set(MEAL_KINDS)
        assert c.portion.kcal >= 0 and c.portion_grams > 0 and c.cost >= 0
        assert c.diets <= set(DIETS) and c.allergens <= set(ALLERGENS)


def test_catalogue_mappings_are_read_only():
    catalogue = load_catalogue()
    assert isinstance(catalogue, Catalogue)
    with pytest.raises(TypeError):
        catalogue.foods["x"] = None  # type: ignore[index]
