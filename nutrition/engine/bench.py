"""The meal-plan benchmark, pure: varied client profiles, a synthetic catalogue for when
the real one is absent, and a runner that times `plan_day`/`plan_days` and re-checks
every plan independently (`manage.py bench_mealplan` only prints what this returns).

Profiles come from `random.Random(seed)`, so a seed gives the same profiles, plans and
counts on every machine; only the times differ.
"""

from __future__ import annotations

import datetime
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from nutrition.engine.mealplan import (
    Candidate,
    DayPlan,
    Nutrients,
    Preferences,
    Target,
    Tolerance,
    meal_slots,
    plan_day,
    plan_days,
    within,
)

#: Diet combinations and how often a coach sees them (omnivore most).
DIET_COMBOS: tuple[tuple[frozenset[str], int], ...] = (
    (frozenset(), 30),
    (frozenset({"vegetarian"}), 10),
    (frozenset({"vegan"}), 8),
    (frozenset({"pescatarian"}), 6),
    (frozenset({"gluten-free"}), 6),
    (frozenset({"dairy-free"}), 6),
    (frozenset({"halal"}), 6),
    (frozenset({"kosher-style"}), 4),
    (frozenset({"paleo"}), 4),
    (frozenset({"vegan", "gluten-free"}), 3),
    (frozenset({"vegetarian", "gluten-free"}), 3),
    (frozenset({"pescatarian", "dairy-free"}), 3),
    (frozenset({"halal", "gluten-free"}), 2),
    (frozenset({"vegetarian", "dairy-free"}), 2),
)
COMMON_ALLERGIES = (
    "milk",
    "eggs",
    "peanuts",
    "tree-nuts",
    "soy",
    "gluten",
    "fish",
    "crustaceans",
    "sesame",
)
#: 0, 1, 2 or 3 allergies.
ALLERGY_COUNT_WEIGHTS = (60, 25, 10, 5)
BENCH_START = datetime.date(2026, 1, 5)


@dataclass(frozen=True)
class Profile:
    prefs: Preferences
    target: Target
    body_kg: float


@dataclass(frozen=True)
class BenchResult:
    profiles: int
    days: int
    solve_ms_p50: float
    solve_ms_p95: float
    solve_ms_max: float
    feasible_strict: int  # days feasible with nothing relaxed
    feasible_relaxed: int  # days feasible after relaxing (includes strict)
    relaxed_days: int
    infeasible_days: int
    mean_abs_pct: Nutrients  # over feasible days, per nutrient
    max_abs_pct: Nutrients
    out_of_tolerance: int  # feasible days whose totals miss the returned tolerance
    allergen_violations: int
    diet_violations: int
    dislike_violations: int
    unknown_items: int  # items whose key is not a candidate
    relaxation_counts: tuple[tuple[str, int], ...]  # first words of each sentence → count
    infeasible_examples: tuple[str, ...]

    @property
    def total_days(self) -> int:
        return self.profiles * self.days


def random_profiles(
    n: int, seed: int = 1, *, dislike_pool: Sequence[str] = ()
) -> tuple[Profile, ...]:
    """Varied clients: diets, 0–3 allergies, 0–5 dislikes (drawn from `dislike_pool`, food
    slugs, when given), 1,400–4,500 kcal with protein at 1.6–2.4 g/kg of a body weight
    consistent with that energy, fat 25–35 %, carbohydrate the rest, 3–6 meals."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = random.Random(seed)  # noqa: S311 (a benchmark, not security)
    combos = [c for c, _ in DIET_COMBOS]
    weights = [w for _, w in DIET_COMBOS]
    pool = sorted(set(dislike_pool))
    out = []
    for _ in range(n):
        diets = rng.choices(combos, weights)[0]
        n_allergies = rng.choices(range(4), ALLERGY_COUNT_WEIGHTS)[0]
        allergies = frozenset(rng.sample(COMMON_ALLERGIES, n_allergies))
        dislikes = frozenset(rng.sample(pool, min(len(pool), rng.randint(0, 5))))
        kcal = rng.uniform(1400, 4500)
        body_kg = min(max(kcal / rng.uniform(30.0, 42.0), 45.0), 130.0)
        protein = body_kg * rng.uniform(1.6, 2.4)
        fat = kcal * rng.uniform(0.25, 0.35) / 9
        carbs = max(kcal - 4 * protein - 9 * fat, 0.0) / 4
        target = Target(
            kcal=round(kcal), protein_g=round(protein), carbs_g=round(carbs), fat_g=round(fat)
        )
        prefs = Preferences(
            diets=diets,
            allergies=allergies,
            dislikes=dislikes,
            meals_per_day=rng.randint(3, 6),
        )
        out.append(Profile(prefs=prefs, target=target, body_kg=round(body_kg, 1)))
    return tuple(out)


def _pct_errors(plan: DayPlan) -> tuple[float, ...]:
    t = plan.target
    aims = (t.kcal, t.protein_g, t.carbs_g, t.fat_g)
    got = (plan.totals.kcal, plan.totals.protein_g, plan.totals.carbs_g, plan.totals.fat_g)
    return tuple(abs(g - a) / a * 100 if a else 0.0 for g, a in zip(got, aims, strict=True))


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[pos]


def run(
    profiles: Sequence[Profile],
    candidates: Sequence[Candidate],
    days: int = 1,
    *,
    seed: int = 1,
    tolerance: Tolerance = Tolerance(),  # noqa: B008 (frozen)
) -> BenchResult:
    """Plans every profile (`days` consecutive days each, sequentially as the nightly job
    does) and re-checks each plan against the candidates' own allergens, diets and foods,
    not against anything the engine reports."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    by_key = {c.key: c for c in candidates}
    times_ms: list[float] = []
    strict = relaxed_ok = relaxed_days = infeasible = out_tol = 0
    allergen = diet = dislike = unknown = 0
    errors: list[tuple[float, ...]] = []
    counts: dict[str, int] = {}
    examples: list[str] = []
    for n, profile in enumerate(profiles):
        prefs = profile.prefs
        meal_slots(prefs.meals_per_day)
        if days == 1:
            start = time.perf_counter()
            plans = [
                plan_day(profile.target, candidates, prefs, seed=seed + n, tolerance=tolerance)
            ]
            times_ms.append((time.perf_counter() - start) * 1000)
        else:
            dates = [BENCH_START + datetime.timedelta(days=d) for d in range(days)]
            start = time.perf_counter()
            result = plan_days(
                [(d, profile.target) for d in dates],
                candidates,
                prefs,
                seed=seed + n,
                tolerance=tolerance,
            )
            elapsed = (time.perf_counter() - start) * 1000
            times_ms.extend([elapsed / days] * days)
            plans = [result[d] for d in dates]
        for plan in plans:
            if plan.relaxations:
                relaxed_days += 1
                for sentence in plan.relaxations:
                    head = sentence.split(":", 1)[0]
                    counts[head] = counts.get(head, 0) + 1
            if not plan.feasible:
                infeasible += 1
                if len(examples) < 5:
                    examples.append(plan.message)
                continue
            relaxed_ok += 1
            if not plan.relaxations:
                strict += 1
            if not within(plan.totals, plan.target, plan.tolerance):
                out_tol += 1
            errors.append(_pct_errors(plan))
            for meal in plan.meals:
                for item in meal.items:
                    cand = by_key.get(item.key)
                    if cand is None:
                        unknown += 1
                        continue
                    allergen += bool(_allergy_hits(cand, prefs.allergies))
                    diet += not prefs.diets <= cand.diets
                    dislike += bool(cand.foods & prefs.dislikes)
    mean = [statistics.fmean(e[j] for e in errors) if errors else 0.0 for j in range(4)]
    worst = [max((e[j] for e in errors), default=0.0) for j in range(4)]
    return BenchResult(
        profiles=len(profiles),
        days=days,
        solve_ms_p50=_percentile(times_ms, 0.5),
        solve_ms_p95=_percentile(times_ms, 0.95),
        solve_ms_max=max(times_ms, default=0.0),
        feasible_strict=strict,
        feasible_relaxed=relaxed_ok,
        relaxed_days=relaxed_days,
        infeasible_days=infeasible,
        mean_abs_pct=Nutrients(*mean),
        max_abs_pct=Nutrients(*worst),
        out_of_tolerance=out_tol,
        allergen_violations=allergen,
        diet_violations=diet,
        dislike_violations=dislike,
        unknown_items=unknown,
        relaxation_counts=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        infeasible_examples=tuple(examples),
    )


def _allergy_hits(cand: Candidate, allergies: frozenset[str]) -> frozenset[str]:
    """Independent of the engine: gluten also catches wheat, as the data format says."""
    expanded = set(allergies)
    if "gluten" in allergies:
        expanded.add("wheat")
    return cand.allergens & expanded


# --- A synthetic catalogue ------------------------------------------------------------
# (slug, kcal, protein, carbs, fat per 100 g, portion g, group, allergens, snack kinds,
#  price per kg). Values are rounded USDA-like figures: enough realism to exercise the
# solver before (or without) the shipped catalogue.
_FOODS: tuple[tuple, ...] = (
    ("chicken-breast", 165, 31, 0, 3.6, 150, "poultry", "", "", 9),
    ("beef-mince-lean", 215, 26, 0, 12, 150, "meat", "", "", 10),
    ("pork-loin", 200, 27, 0, 9.5, 150, "pork", "", "", 8),
    ("salmon", 208, 20, 0, 13, 150, "fish", "fish", "", 20),
    ("tuna-canned", 116, 26, 0, 1, 100, "fish", "fish", "lunch;snack", 12),
    ("shrimp", 99, 24, 0.2, 0.3, 120, "shellfish", "crustaceans", "", 18),
    ("eggs", 143, 12.6, 0.7, 9.5, 100, "egg", "eggs", "breakfast", 4),
    ("tofu", 144, 17, 3, 9, 150, "plant-protein", "soy", "", 6),
    ("tempeh", 192, 20, 8, 11, 120, "plant-protein", "soy", "", 10),
    ("seitan", 370, 75, 14, 1.9, 80, "plant-protein", "gluten;wheat", "", 14),
    ("lentils-cooked", 116, 9, 20, 0.4, 200, "legume", "", "", 3),
    ("chickpeas-cooked", 164, 8.9, 27, 2.6, 200, "legume", "", "", 3),
    ("black-beans-cooked", 132, 8.9, 24, 0.5, 200, "legume", "", "", 3),
    ("greek-yogurt", 97, 9, 4, 5, 170, "dairy", "milk", "breakfast;snack", 5),
    ("skyr", 63, 11, 4, 0.2, 170, "dairy", "milk", "breakfast;snack", 5),
    ("cottage-cheese", 98, 11, 3.4, 4.3, 150, "dairy", "milk", "breakfast;snack", 5),
    ("cheddar", 403, 25, 1.3, 33, 30, "dairy", "milk", "snack", 12),
    ("milk", 61, 3.2, 4.8, 3.3, 250, "dairy", "milk", "breakfast;snack", 1),
    ("whey-protein", 400, 80, 8, 6, 30, "dairy", "milk", "breakfast;snack", 30),
    ("pea-protein", 380, 80, 4, 6, 30, "plant", "", "breakfast;snack", 32),
    ("soy-milk", 54, 3.3, 6, 1.8, 250, "plant", "soy", "breakfast;snack", 2),
    ("oats", 389, 17, 66, 7, 60, "grain", "gluten", "", 2),
    ("rice-cooked", 130, 2.7, 28, 0.3, 180, "grain", "", "", 2),
    ("pasta-cooked", 158, 5.8, 31, 0.9, 180, "grain", "gluten;wheat", "", 2),
    ("potato", 87, 1.9, 20, 0.1, 200, "veg", "", "", 1.5),
    ("quinoa-cooked", 120, 4.4, 21, 1.9, 180, "grain", "", "", 6),
    ("bread-wholemeal", 247, 13, 41, 3.4, 40, "grain", "gluten;wheat", "breakfast;snack", 3),
    ("rice-cakes", 387, 8, 81, 2.8, 20, "grain", "", "snack", 8),
    ("sweet-potato", 86, 1.6, 20, 0.1, 200, "veg", "", "", 2),
    ("broccoli", 34, 2.8, 7, 0.4, 100, "veg", "", "", 3),
    ("spinach", 23, 2.9, 3.6, 0.4, 80, "veg", "", "", 6),
    ("peppers", 31, 1, 6, 0.3, 100, "veg", "", "", 4),
    ("tomato", 18, 0.9, 3.9, 0.2, 120, "veg", "", "", 3),
    ("banana", 89, 1.1, 23, 0.3, 118, "fruit", "", "breakfast;snack", 2),
    ("apple", 52, 0.3, 14, 0.2, 180, "fruit", "", "breakfast;snack", 2.5),
    ("berries", 57, 0.7, 14, 0.3, 100, "fruit", "", "breakfast;snack", 10),
    ("orange", 47, 0.9, 12, 0.1, 150, "fruit", "", "snack", 2),
    ("dates", 282, 2.5, 75, 0.4, 40, "fruit", "", "snack", 8),
    ("almonds", 579, 21, 22, 50, 28, "nut", "tree-nuts", "snack", 15),
    ("peanut-butter", 588, 25, 20, 50, 32, "nut", "peanuts", "breakfast;snack", 6),
    ("pumpkin-seeds", 559, 30, 11, 49, 28, "seed", "", "snack", 14),
    ("sunflower-seeds", 584, 21, 20, 51, 28, "seed", "", "snack", 8),
    ("tahini", 595, 17, 21, 54, 15, "seed", "sesame", "", 10),
    ("olive-oil", 884, 0, 0, 100, 10, "fat", "", "", 8),
    ("avocado", 160, 2, 8.5, 14.7, 100, "fruit", "", "snack", 7),
    ("hummus", 166, 7.9, 14, 9.6, 60, "legume", "sesame", "snack", 8),
    ("edamame", 121, 12, 9, 5, 100, "legume", "soy", "snack", 7),
    ("protein-bar", 350, 30, 40, 9, 60, "sports", "milk;soy", "snack", 25),
    ("dark-chocolate", 546, 5, 61, 31, 20, "sweet", "milk", "snack", 15),
    ("granola", 471, 10, 64, 20, 50, "grain", "gluten;tree-nuts", "breakfast", 8),
    ("jerky", 410, 33, 11, 26, 30, "meat", "soy", "snack", 40),
    ("smoked-mackerel", 305, 19, 0, 25, 80, "fish", "fish", "lunch;snack", 15),
)
_GROUP_DIETS = {
    "poultry": {"dairy-free", "halal", "kosher-style", "paleo"},
    "meat": {"dairy-free", "halal", "kosher-style", "paleo"},
    "pork": {"dairy-free", "paleo"},
    "fish": {"pescatarian", "dairy-free", "halal", "kosher-style", "paleo"},
    "shellfish": {"pescatarian", "dairy-free", "paleo"},
    "egg": {"vegetarian", "pescatarian", "dairy-free", "halal", "kosher-style", "paleo"},
    "dairy": {"vegetarian", "pescatarian", "halal", "kosher-style"},
}
_PLANT = {"vegan", "vegetarian", "pescatarian", "dairy-free", "halal", "kosher-style"}
_PALEO_PLANT = {"veg", "fruit", "nut", "seed", "fat"}
_MEAT = {"poultry", "meat", "pork"}


def _food_diets(group: str, allergens: frozenset[str]) -> frozenset[str]:
    diets = set(_GROUP_DIETS.get(group, _PLANT))
    if group not in _GROUP_DIETS and group in _PALEO_PLANT:
        diets.add("paleo")
    if "gluten" not in allergens:
        diets.add("gluten-free")
    if "milk" in allergens:
        diets -= {"vegan", "dairy-free"}
    return frozenset(diets)


def synthetic_candidates(seed: int = 0, recipes: int = 90) -> tuple[Candidate, ...]:
    """~50 foods eaten on their own and `recipes` recipes composed of them (protein +
    carbohydrate + vegetables + fat, or a breakfast bowl), with nutrients, allergens and
    diets computed from the foods as the real catalogue does."""
    rng = random.Random(seed)  # noqa: S311 (test data)
    info = {}
    out: list[Candidate] = []
    for slug, kcal, p, c, f, grams, group, allergens, kinds, price in _FOODS:
        alls = frozenset(a for a in allergens.split(";") if a)
        per_g = Nutrients(kcal / 100, p / 100, c / 100, f / 100)
        info[slug] = (per_g, group, alls, _food_diets(group, alls), price / 1000)
        if kinds:
            out.append(
                Candidate(
                    key=f"food:{slug}",
                    name=slug.replace("-", " ").capitalize(),
                    kinds=frozenset(kinds.split(";")),
                    portion=per_g.scaled(grams),
                    portion_grams=float(grams),
                    portion_label=f"1 portion ({grams} g)",
                    max_portions=3,
                    cost=round(price * grams / 1000, 2),
                    prep_min=0,
                    skill=1,
                    allergens=alls,
                    diets=_food_diets(group, alls),
                    foods=frozenset({slug}),
                    is_recipe=False,
                )
            )
    groups: dict[str, list[str]] = {}
    for slug, *_rest in _FOODS:
        groups.setdefault(info[slug][1], []).append(slug)
    proteins = [s for g in _GROUP_DIETS for s in groups.get(g, [])] + groups["plant-protein"]
    proteins += groups["legume"]
    carbs = groups["grain"] + ["potato", "sweet-potato"]
    veg = [s for s in groups["veg"] if s not in {"potato", "sweet-potato"}]
    fats = ["olive-oil", "avocado", "cheddar", "tahini", "almonds", "pumpkin-seeds"]
    bases = ["oats", "greek-yogurt", "skyr", "eggs", "tofu", "bread-wholemeal", "soy-milk"]
    fruit = groups["fruit"]
    for n in range(recipes):
        kind_roll = n % 9
        if kind_roll < 3:
            kinds = frozenset({"breakfast"})
            ingredients = {
                rng.choice(bases): rng.choice((150, 200, 250)),
                rng.choice(fruit): rng.choice((80, 120)),
                rng.choice(fats + proteins[:8]): rng.choice((20, 40, 80)),
            }
            ingredients.setdefault("oats", 0)
            ingredients["oats"] += rng.choice((0, 40, 60))
            target_kcal = rng.uniform(300, 650)
        elif kind_roll == 8:
            kinds = frozenset({"snack"})
            ingredients = {rng.choice(fruit + bases): 120, rng.choice(fats): 25}
            target_kcal = rng.uniform(150, 350)
        else:
            kinds = frozenset(rng.choice((("lunch", "dinner"), ("dinner",), ("lunch",))))
            ingredients = {
                rng.choice(proteins): rng.choice((120, 150, 200)),
                rng.choice(carbs): rng.choice((150, 200)),
                rng.choice(veg): rng.choice((80, 120, 150)),
                rng.choice(fats): rng.choice((10, 15, 30)),
            }
            target_kcal = rng.uniform(420, 850)
        ingredients = {k: v for k, v in ingredients.items() if v > 0}
        raw = Nutrients()
        cost = 0.0
        for slug, g in ingredients.items():
            raw = raw + info[slug][0].scaled(g)
            cost += info[slug][4] * g
        factor = target_kcal / max(raw.kcal, 1.0)
        allergens = frozenset().union(*(info[s][2] for s in ingredients))
        diets = frozenset.intersection(*(info[s][3] for s in ingredients))
        if {info[s][1] for s in ingredients} & _MEAT and "milk" in allergens:
            diets -= {"kosher-style"}
        grams = sum(ingredients.values()) * factor
        out.append(
            Candidate(
                key=f"recipe:synthetic-{n:03d}",
                name=" with ".join(s.replace("-", " ") for s in ingredients),
                kinds=kinds,
                portion=raw.scaled(factor),
                portion_grams=round(grams, 1),
                portion_label="1 serving",
                max_portions=2 if "snack" in kinds else 3,
                cost=round(cost * factor, 2),
                prep_min=rng.choice((5, 10, 15, 20, 30, 45)),
                skill=rng.choice((1, 1, 2, 2, 3)),
                allergens=allergens,
                diets=diets,
                foods=frozenset(ingredients),
                is_recipe=True,
            )
        )
    return tuple(out)
