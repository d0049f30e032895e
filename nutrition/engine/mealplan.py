"""Meal plans as a mixed-integer program (SCIENCE.md §5).

Formulation (it decides the speed, see issue 6 "Quality and speed"): one day at a time,
hard tolerance bands, a short list of candidates per slot, recipes as units.

* Per free slot, one binary per (main candidate, portion count 1..max_portions) on a
  SHORTLIST of mains for the slot's kind; exactly one of them is 1.
* Per day, one binary per (side food, portion count) on a shortlist of snack-able foods;
  at most one portion count per food and at most one side per slot. Sides give the fine
  granularity that whole recipe servings lack for a ±5 % energy band.
* Rows: energy and each macro inside its band, a recipe at most once a day, a food at
  most its max portions a day, the budget cap. Locked meals are constants on the right-hand side.
* Objective: cost, prep time, a favourites bonus and a seeded jitter per candidate, all
  positive so a relative MIP gap means something. Optimality hardly matters: feasibility
  does, so the gap is loose and HiGHS has a time limit as a safety net.

Infeasible shortlist → larger shortlist → relaxations in a fixed order (budget, the
macros an elastic model shows cannot be met, then energy), each with a sentence. Hard
rules (allergens, diets, dislikes, prep, skill) are never relaxed. Several days are
planned one after the other, never as a joint model.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

MEAL_KINDS = ("breakfast", "lunch", "dinner", "snack")


@dataclass(frozen=True)
class Nutrients:
    kcal: float = 0.0
    protein_g: float = 0.0
    carbs_g: float = 0.0
    fat_g: float = 0.0

    def __add__(self, other: Nutrients) -> Nutrients:
        return Nutrients(
            self.kcal + other.kcal,
            self.protein_g + other.protein_g,
            self.carbs_g + other.carbs_g,
            self.fat_g + other.fat_g,
        )

    def scaled(self, factor: float) -> Nutrients:
        return Nutrients(
            self.kcal * factor,
            self.protein_g * factor,
            self.carbs_g * factor,
            self.fat_g * factor,
        )


@dataclass(frozen=True)
class Candidate:
    """Something a meal slot can hold: a recipe (by the serving) or a food eaten on its own
    (by its default portion)."""

    key: str  # "recipe:<slug>" or "food:<slug>"
    name: str
    kinds: frozenset[str]  # meal kinds it may fill, subset of MEAL_KINDS
    portion: Nutrients  # one portion: a recipe serving, or the food's default portion
    portion_grams: float
    portion_label: str  # "1 serving", "1 medium (118 g)"
    max_portions: int  # upper bound on integer portions in one slot
    cost: float  # per portion
    prep_min: int  # 0 for foods eaten as they are
    skill: int  # 1 easy … 3 confident cook
    allergens: frozenset[str]
    diets: frozenset[str]  # diets it is compatible with
    foods: frozenset[str]  # food slugs inside it (dislikes match these)
    is_recipe: bool


@dataclass(frozen=True)
class Preferences:
    """Hard rules (diets, allergies, dislikes, max prep, skill) and soft wishes
    (favourites, budget)."""

    diets: frozenset[str] = frozenset()  # every diet the plan must respect; omnivore = empty
    allergies: frozenset[str] = frozenset()
    dislikes: frozenset[str] = frozenset()  # food slugs, hard
    favourites: frozenset[str] = frozenset()  # candidate keys or food slugs, soft
    meals_per_day: int = 3  # 3–6
    budget_per_day: float | None = None
    max_prep_min: int | None = None  # per recipe
    skill: int = 3  # the hardest recipe the client will cook


@dataclass(frozen=True)
class Target:
    kcal: float
    protein_g: float
    carbs_g: float
    fat_g: float


@dataclass(frozen=True)
class Tolerance:
    energy: float = 0.05
    protein: float = 0.10
    carbs: float = 0.10
    fat: float = 0.10


@dataclass(frozen=True)
class Slot:
    name: str  # unique within the day: breakfast, lunch, dinner, snack-1, snack-2, snack-3
    kind: str  # one of MEAL_KINDS


@dataclass(frozen=True)
class Item:
    key: str  # a Candidate key
    name: str
    portions: int
    grams: float
    nutrients: Nutrients
    cost: float
    prep_min: int


@dataclass(frozen=True)
class PlannedMeal:
    slot: str
    kind: str
    items: tuple[Item, ...]
    locked: bool = False

    @property
    def nutrients(self) -> Nutrients:
        total = Nutrients()
        for item in self.items:
            total = total + item.nutrients
        return total


@dataclass(frozen=True)
class DayPlan:
    target: Target
    meals: tuple[PlannedMeal, ...]
    totals: Nutrients
    feasible: bool
    tolerance: Tolerance  # the tolerance finally used (wider than asked when relaxed)
    relaxations: tuple[str, ...] = ()  # one sentence per relaxation step, in order
    message: str = ""  # empty when feasible; what went wrong and what to change otherwise
    cost: float = 0.0
    prep_min: int = 0


#: Share of the day's energy a slot of each kind aims at when shortlisting mains.
_ENERGY_SHARE = {"breakfast": 0.25, "lunch": 0.30, "dinner": 0.35, "snack": 0.10}
#: (mains per slot, side foods per day): the first that solves wins; the last is also the
#: size the relaxation steps use, so they see most of the catalogue. Measured on the bench:
#: 6 mains and 10 sides solve ~98 % of days at the first try in under 10 ms; 8 and 12
#: solve no more days and take a third longer.
_SHORTLISTS = ((6, 10), (16, 24), (60, 80))
_MACRO_STEPS = (0.15, 0.20, 0.30)
_ENERGY_STEPS = (0.075, 0.10)
_MACROS = ("protein", "carbs", "fat")
_NAMES = {"kcal": "energy", "protein": "protein", "carbs": "carbohydrate", "fat": "fat"}
#: Safety net only: a typical day solves in a few milliseconds.
_TIME_LIMIT_S = 2.0
#: Loose on purpose: the shortlist already carries the preferences (favourites, jitter,
#: cost), and proving a tight gap is what made a 2 % gap three times slower.
_MIP_GAP = 0.25
#: Bands are shrunk by this relative amount inside the model so that rounding never puts
#: a solved day a hair outside `within`.
_BAND_EPS = 1e-6
#: Objective weights (per euro, per prep minute, per main not a favourite, per side item,
#: jitter scale). All positive: a positive objective keeps the relative gap meaningful.
_W_COST = 0.1
_W_PREP = 0.01
_W_NOT_FAV = 0.3
_W_SIDE = 0.08
_W_JITTER = 0.3
#: Allergies that imply others: a gluten allergy also excludes anything flagged wheat.
_ALLERGY_IMPLIES = {"gluten": frozenset({"gluten", "wheat"})}


def meal_slots(meals_per_day: int) -> tuple[Slot, ...]:
    """3: breakfast, lunch, dinner; 4: + snack-1 before dinner; 5: breakfast, snack-1, lunch,
    snack-2, dinner; 6: + snack-3 after dinner. ValueError outside 3–6."""
    if isinstance(meals_per_day, bool) or meals_per_day not in (3, 4, 5, 6):
        raise ValueError(f"meals per day must be 3 to 6, got {meals_per_day!r}")
    b, lu, d = Slot("breakfast", "breakfast"), Slot("lunch", "lunch"), Slot("dinner", "dinner")
    s1, s2, s3 = (Slot(f"snack-{i}", "snack") for i in (1, 2, 3))
    return {
        3: (b, lu, d),
        4: (b, lu, s1, d),
        5: (b, s1, lu, s2, d),
        6: (b, s1, lu, s2, d, s3),
    }[meals_per_day]


def _allergies(prefs: Preferences) -> frozenset[str]:
    out: set[str] = set()
    for allergy in prefs.allergies:
        out |= _ALLERGY_IMPLIES.get(allergy, frozenset({allergy}))
    return frozenset(out)


def _slug(key: str) -> str:
    return key.split(":", 1)[-1]


def _exclusion(candidate: Candidate, prefs: Preferences, allergies: frozenset[str]) -> str:
    """Which hard rule excludes the candidate ('' when none): the same checks `eligible`
    applies, kept apart so a 'no dinner fits' message can say why."""
    if candidate.allergens & allergies:
        return "allergen"
    if not prefs.diets <= candidate.diets:
        return "diet"
    if candidate.foods & prefs.dislikes or _slug(candidate.key) in prefs.dislikes:
        return "dislike"
    if prefs.max_prep_min is not None and candidate.prep_min > prefs.max_prep_min:
        return "prep"
    if candidate.skill > prefs.skill:
        return "skill"
    return ""


def eligible(candidates: Sequence[Candidate], prefs: Preferences) -> tuple[Candidate, ...]:
    """The candidates no hard rule excludes (diets, allergies, dislikes, prep, skill)."""
    allergies = _allergies(prefs)
    return tuple(c for c in candidates if not _exclusion(c, prefs, allergies))


def _values(n: Nutrients | Target) -> tuple[float, float, float, float]:
    return (n.kcal, n.protein_g, n.carbs_g, n.fat_g)


def _tols(t: Tolerance) -> tuple[float, float, float, float]:
    return (t.energy, t.protein, t.carbs, t.fat)


def within(totals: Nutrients, target: Target, tolerance: Tolerance) -> bool:
    """Energy and every macro inside its band (relative to the target; a hair of slack for
    float sums)."""
    for actual, aim, tol in zip(_values(totals), _values(target), _tols(tolerance), strict=True):
        if abs(actual - aim) > tol * aim + 1e-6 * max(aim, 1.0):
            return False
    return True


def _check(target: Target, tolerance: Tolerance) -> None:
    if not all(math.isfinite(v) for v in _values(target)):
        raise ValueError("target values must be finite")
    if target.kcal <= 0:
        raise ValueError(f"energy target must be positive, got {target.kcal}")
    if min(target.protein_g, target.carbs_g, target.fat_g) < 0:
        raise ValueError("macro targets cannot be negative")
    if not all(0 <= t < 1 for t in _tols(tolerance)):
        raise ValueError("tolerances are fractions in [0, 1)")


def _jitter(seed: int, key: str) -> float:
    """A stable pseudo-random number in [0, 1) per (seed, candidate): stable across
    processes (unlike hash()) so the same inputs give the same plan anywhere."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _favourite(candidate: Candidate, favourites: frozenset[str]) -> bool:
    return (
        candidate.key in favourites
        or _slug(candidate.key) in favourites
        or bool(candidate.foods & favourites)
    )


class _Pool:
    """The eligible candidates as arrays, so shortlisting is vectorised."""

    def __init__(self, cands: tuple[Candidate, ...], prefs: Preferences, seed: int) -> None:
        self.cands = cands
        n = len(cands)
        self.nut = np.array([_values(c.portion) for c in cands], dtype=float).reshape(n, 4)
        self.cost = np.array([max(c.cost, 0.0) for c in cands], dtype=float)
        self.prep = np.array([max(c.prep_min, 0) for c in cands], dtype=float)
        self.maxp = np.array([max(1, int(c.max_portions)) for c in cands], dtype=int)
        self.recipe = np.array([c.is_recipe for c in cands], dtype=bool)
        self.fav = np.array([_favourite(c, prefs.favourites) for c in cands], dtype=bool)
        self.jitter = np.array([_jitter(seed, c.key) for c in cands], dtype=float)
        self.kind = {k: np.array([k in c.kinds for c in cands], dtype=bool) for k in MEAL_KINDS}
        self.side = np.array([(not c.is_recipe) and bool(c.kinds) for c in cands], dtype=bool)
        kcal = np.maximum(self.nut[:, 0], 1.0)
        self.ratio = self.nut[:, 1:] * np.array([4.0, 4.0, 9.0]) / kcal[:, None]


def _mains(pool: _Pool, kind: str, excluded: np.ndarray) -> np.ndarray:
    """Who may be a meal's main: for breakfast, lunch and dinner a recipe (a glass of soy
    milk or a baked potato on its own is not a meal; such foods come as sides), unless the
    client's rules (or recipes already on the day) leave no recipe of that kind; for a
    snack any food eaten on its own."""
    base = pool.kind[kind] & ~excluded
    if kind != "snack" and (base & pool.recipe).any():
        return base & pool.recipe
    return base


def _target_ratio(target: Target) -> np.ndarray:
    return np.array([4 * target.protein_g, 4 * target.carbs_g, 9 * target.fat_g]) / target.kcal


def _shortlist_mains(
    pool: _Pool, allowed: np.ndarray, slot_kcal: float, target: Target, size: int
) -> list[int]:
    """Mains whose macro ratio is near the target's and whose whole portions come near the
    slot's share of energy, plus jitter so seeds vary the menu."""
    idx = np.flatnonzero(allowed)
    if len(idx) <= size:
        return idx.tolist()
    dist = np.abs(pool.ratio[idx] - _target_ratio(target)) @ np.array([1.5, 1.0, 1.0])
    ks = np.arange(1, int(pool.maxp[idx].max()) + 1, dtype=float)
    fit = np.abs(pool.nut[idx, 0][:, None] * ks[None, :] - slot_kcal) / max(slot_kcal, 1.0)
    fit[ks[None, :] > pool.maxp[idx][:, None]] = np.inf
    score = (
        dist
        + 0.5 * np.minimum(fit.min(axis=1), 1.0)
        + 0.25 * pool.jitter[idx]
        + 0.1 * ~pool.fav[idx]
        + 0.01 * pool.cost[idx]
    )
    order = np.lexsort((idx, score))
    return idx[order[:size]].tolist()


def _shortlist_sides(pool: _Pool, allowed: np.ndarray, target: Target, size: int) -> list[int]:
    """Side foods drawn round-robin from several rankings (closest macro ratio, most
    protein, most carbohydrate, smallest portion, most fat) so the day can be steered in
    every direction and in small energy steps."""
    idx = np.flatnonzero(allowed)
    if len(idx) <= size:
        return idx.tolist()
    jit = 0.05 * pool.jitter[idx]
    ratio = pool.ratio[idx]
    keys = [
        np.abs(ratio - _target_ratio(target)).sum(axis=1) + jit,
        -ratio[:, 0] + jit,
        -ratio[:, 1] + jit,
        pool.nut[idx, 0] / 400.0 + jit,
        -ratio[:, 2] + jit,
    ]
    ranked = [idx[np.lexsort((idx, k))].tolist() for k in keys]
    chosen: list[int] = []
    seen: set[int] = set()
    pos = 0
    while len(chosen) < size:
        for ranking in ranked:
            i = ranking[pos]
            if i not in seen:
                seen.add(i)
                chosen.append(i)
                if len(chosen) == size:
                    break
        pos += 1
    return chosen


@dataclass(frozen=True)
class _Solution:
    mains: tuple[tuple[str, int, int], ...]  # (slot name, pool index, portions)
    sides: tuple[tuple[int, int], ...]  # (pool index, portions)
    totals: tuple[float, float, float, float]  # including locked meals


def _solve(
    pool: _Pool,
    target: Target,
    slot_mains: Mapping[str, list[int]],
    sides: list[int],
    fixed: Nutrients,
    fixed_cost: float,
    tol: Tolerance,
    budget: float | None,
    elastic: tuple[bool, bool, bool, bool] = (False, False, False, False),
) -> _Solution | None:
    """One MILP over the shortlists. `elastic[j]` lets nutrient j leave its band at a price
    per % of target (energy ten times dearer), which is how relaxation finds the macros
    that cannot be met; the normal path has no such columns."""
    col_slot: list[str | None] = []
    col_i: list[int] = []
    col_k: list[int] = []
    for name, mains in slot_mains.items():
        for i in mains:
            for k in range(1, int(pool.maxp[i]) + 1):
                col_slot.append(name)
                col_i.append(i)
                col_k.append(k)
    n_main = len(col_i)
    for i in sides:
        for k in range(1, int(pool.maxp[i]) + 1):
            col_slot.append(None)
            col_i.append(i)
            col_k.append(k)
    n_bin = len(col_i)
    ci = np.array(col_i, dtype=int)
    ck = np.array(col_k, dtype=float)
    nut = pool.nut[ci] * ck[:, None]  # (n_bin, 4)
    cost = pool.cost[ci] * ck
    obj = _W_COST * cost + _W_JITTER * pool.jitter[ci]
    obj[:n_main] += _W_PREP * pool.prep[ci[:n_main]] + _W_NOT_FAV * ~pool.fav[ci[:n_main]]
    obj[n_main:] += _W_SIDE
    obj[n_main:] -= 0.7 * _W_JITTER * pool.jitter[ci[n_main:]]

    elastic_idx = [j for j in range(4) if elastic[j]]
    n_col = n_bin + 4 * len(elastic_idx)  # per elastic nutrient: under/over, two tiers
    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    slot_arr = np.array([s if s is not None else "" for s in col_slot], dtype=object)
    for name in slot_mains:
        row = np.zeros(n_col)
        row[:n_bin][slot_arr == name] = 1.0
        rows.append(row)
        lo.append(1.0)
        hi.append(1.0)
    if sides:
        row = np.zeros(n_col)
        row[n_main:n_bin] = 1.0
        rows.append(row)
        lo.append(0.0)
        hi.append(float(len(slot_mains)))
        for i in sides:
            if pool.maxp[i] > 1:
                row = np.zeros(n_col)
                row[n_main:n_bin][ci[n_main:] == i] = 1.0
                rows.append(row)
                lo.append(0.0)
                hi.append(1.0)
    # A recipe on several slots' shortlists is still eaten at most once a day, and a food
    # eaten on its own in several slots stays within its max portions for the whole day
    # (six scoops of protein powder is not a plan).
    seen: dict[int, int] = {}
    for mains in slot_mains.values():
        for i in mains:
            seen[i] = seen.get(i, 0) + 1
    for i in sides:
        seen[i] = seen.get(i, 0) + 1
    for i, count in seen.items():
        if count > 1:
            row = np.zeros(n_col)
            if pool.recipe[i]:
                row[:n_main][ci[:n_main] == i] = 1.0
                cap = 1.0
            else:
                row[:n_bin][ci == i] = ck[ci == i]
                cap = float(pool.maxp[i])
            rows.append(row)
            lo.append(0.0)
            hi.append(cap)
    aims = _values(target)
    tols = _tols(tol)
    have = _values(fixed)
    for j in range(4):
        row = np.zeros(n_col)
        row[:n_bin] = nut[:, j]
        if elastic[j]:
            e = n_bin + 4 * elastic_idx.index(j)
            row[e : e + 4] = (1.0, -1.0, 1.0, -1.0)  # under / over, within then past the cap
        band = max(tols[j] - _BAND_EPS, 0.0)
        rows.append(row)
        lo.append(aims[j] * (1 - band) - have[j])
        hi.append(aims[j] * (1 + band) - have[j])
    if budget is not None:
        row = np.zeros(n_col)
        row[:n_bin] = cost
        rows.append(row)
        lo.append(-np.inf)
        hi.append(budget - fixed_cost)

    # Elastic prices per % of target: energy ten times dearer than a macro, and a hundred
    # times dearer past the widest relaxation step, so the miss is spread over the macros
    # whenever spreading keeps every one of them inside the widest band.
    c = np.concatenate([obj, np.zeros(n_col - n_bin)])
    upper = np.concatenate([np.ones(n_bin), np.full(n_col - n_bin, np.inf)])
    if elastic_idx:
        c *= 0.01
        widest = (_ENERGY_STEPS[-1],) + (_MACRO_STEPS[-1],) * 3
        for pos, j in enumerate(elastic_idx):
            price = (1000.0 if j == 0 else 100.0) / max(aims[j], 1.0)
            e = n_bin + 4 * pos
            c[e : e + 4] = (price, price, 100 * price, 100 * price)
            upper[e : e + 2] = max(widest[j] - tols[j], 0.0) * aims[j]
    integrality = np.concatenate([np.ones(n_bin), np.zeros(n_col - n_bin)])
    res = milp(
        c,
        constraints=LinearConstraint(np.vstack(rows), np.array(lo), np.array(hi)),
        integrality=integrality,
        bounds=Bounds(np.zeros(n_col), upper),
        options={"time_limit": _TIME_LIMIT_S, "mip_rel_gap": _MIP_GAP},
    )
    if res.x is None:
        return None
    x = res.x[:n_bin] > 0.5
    mains_out = tuple(
        (col_slot[p], col_i[p], col_k[p])
        for p in range(n_main)
        if x[p]  # type: ignore[misc]
    )
    sides_out = tuple((col_i[p], col_k[p]) for p in range(n_main, n_bin) if x[p])
    totals = nut[x].sum(axis=0) + np.array(have)
    return _Solution(mains_out, sides_out, tuple(float(v) for v in totals))  # type: ignore[arg-type]


def _item(candidate: Candidate, portions: int) -> Item:
    return Item(
        key=candidate.key,
        name=candidate.name,
        portions=portions,
        grams=candidate.portion_grams * portions,
        nutrients=candidate.portion.scaled(portions),
        cost=candidate.cost * portions,
        prep_min=candidate.prep_min,
    )


def _sum(meals: Sequence[PlannedMeal]) -> tuple[Nutrients, float, int]:
    total = Nutrients()
    cost = 0.0
    prep = 0
    for meal in meals:
        for item in meal.items:
            total = total + item.nutrients
            cost += item.cost
            prep += item.prep_min
    return total, cost, prep


def _meals(
    pool: _Pool, slots: Sequence[Slot], fixed: Mapping[str, PlannedMeal], sol: _Solution
) -> tuple[PlannedMeal, ...]:
    """Sides go to a slot whose kind the food suits (a snack slot first), one per slot,
    never beside the same food as main."""
    items: dict[str, list[Item]] = {}
    main_key: dict[str, str] = {}
    for name, i, k in sol.mains:
        items[name] = [_item(pool.cands[i], k)]
        main_key[name] = pool.cands[i].key
    free = [s for s in slots if s.name in items]
    for i, k in sol.sides:
        cand = pool.cands[i]
        open_slots = [s for s in free if len(items[s.name]) == 1]
        ranked = sorted(
            open_slots,
            key=lambda s, cand=cand: (
                main_key[s.name] == cand.key,
                s.kind not in cand.kinds,
                s.kind != "snack",
            ),
        )
        items[ranked[0].name].append(_item(cand, k))
    out = []
    for slot in slots:
        if slot.name in fixed:
            out.append(fixed[slot.name])
        else:
            out.append(PlannedMeal(slot.name, slot.kind, tuple(items[slot.name])))
    return tuple(out)


def _pct(x: float) -> str:
    return f"{x * 100:g}"


def _join(words: Sequence[str], last: str = "or") -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def _rules_phrase(prefs: Preferences) -> str:
    """'gluten-free vegan meals without peanuts, soy or tree-nuts': the hard rules in
    words, so a relaxation sentence says what made the target unreachable."""
    diet = " ".join(sorted(prefs.diets))
    phrase = f"{diet} meals" if diet else "meals"
    excluded = sorted(prefs.allergies)
    if prefs.dislikes:
        n = len(prefs.dislikes)
        excluded.append(f"the {n} disliked foods" if n > 1 else "the disliked food")
    if excluded:
        phrase += " without " + _join(excluded)
    return phrase


def _day(
    target: Target,
    pool: _Pool,
    prefs: Preferences,
    avoid: frozenset[str],
    locked: Mapping[str, PlannedMeal] | None,
    tolerance: Tolerance,
    all_candidates: Sequence[Candidate],
) -> DayPlan:
    slots = meal_slots(prefs.meals_per_day)
    names = {s.name: s for s in slots}
    locked = dict(locked or {})
    unknown = sorted(set(locked) - set(names))
    if unknown:
        raise ValueError(f"locked slots not in a {prefs.meals_per_day}-meal day: {unknown}")
    fixed = {
        name: replace(meal, slot=name, kind=names[name].kind, locked=True)
        for name, meal in locked.items()
    }
    fixed_n, fixed_cost, _ = _sum(list(fixed.values()))
    used = {it.key for m in fixed.values() for it in m.items if it.key.startswith("recipe:")}
    free = [s for s in slots if s.name not in fixed]
    relaxations: list[str] = []

    def done(
        meals: tuple[PlannedMeal, ...],
        tol: Tolerance,
        asked: Tolerance | None = None,
        closest: Mapping[str, float] | None = None,
        phrase: str = "",
    ) -> DayPlan:
        if asked is not None:
            relaxations.extend(_widened(target, asked, tol, closest or {}, phrase))
        totals, cost, prep = _sum(meals)
        return DayPlan(
            target=target,
            meals=meals,
            totals=totals,
            feasible=True,
            tolerance=tol,
            relaxations=tuple(relaxations),
            cost=cost,
            prep_min=prep,
        )

    def fail(tol: Tolerance, message: str) -> DayPlan:
        return DayPlan(
            target=target,
            meals=(),
            totals=Nutrients(),
            feasible=False,
            tolerance=tol,
            relaxations=tuple(relaxations),
            message=message,
        )

    if not free:
        meals = tuple(fixed[s.name] for s in slots)
        totals, _, _ = _sum(meals)
        if within(totals, target, tolerance):
            return done(meals, tolerance)
        return fail(
            tolerance,
            "Every meal is locked and together they miss the day's targets: "
            "unlock a meal so the plan can balance the day.",
        )

    blocked = np.array([c.is_recipe and (c.key in used) for c in pool.cands], dtype=bool).reshape(
        len(pool.cands)
    )
    avoided = np.array([c.is_recipe and c.key in avoid for c in pool.cands], dtype=bool).reshape(
        len(pool.cands)
    )
    allowed: dict[str, np.ndarray] = {}
    for kind in sorted({s.kind for s in free}):
        base = _mains(pool, kind, blocked)
        if not base.any():
            return fail(tolerance, _no_main_message(kind, all_candidates, prefs, used))
        ok = base & ~avoided
        if not ok.any():
            relaxations.append(
                f"Variety relaxed for {kind}: every {kind} that fits was planned on a "
                "neighbouring day, so one is repeated."
            )
            ok = base
        allowed[kind] = ok

    remaining = max(target.kcal - fixed_n.kcal, 0.05 * target.kcal)
    share = sum(_ENERGY_SHARE[s.kind] for s in free)
    side_ok = pool.side.copy()

    def lists(size: tuple[int, int]) -> tuple[dict[str, list[int]], list[int]]:
        by_kind: dict[tuple[str, float], list[int]] = {}
        out: dict[str, list[int]] = {}
        for s in free:
            slot_kcal = remaining * _ENERGY_SHARE[s.kind] / share
            key = (s.kind, slot_kcal)
            if key not in by_kind:
                by_kind[key] = _shortlist_mains(pool, allowed[s.kind], slot_kcal, target, size[0])
            out[s.name] = by_kind[key]
        return out, _shortlist_sides(pool, side_ok, target, size[1])

    budget = prefs.budget_per_day
    tol = tolerance
    sol = None
    tried: list[tuple] = []
    for size in _SHORTLISTS:
        mains, sides = lists(size)
        if (mains, sides) in tried:
            continue  # the catalogue is smaller than this shortlist: same model again
        tried.append((mains, sides))
        sol = _solve(pool, target, mains, sides, fixed_n, fixed_cost, tol, budget)
        if sol is not None:
            return done(_meals(pool, slots, fixed, sol), tol)

    # Relaxation, in the documented order, on the largest shortlist.
    if budget is not None:
        relaxations.append(
            f"Budget of {budget:.2f} per day set aside: no plan inside the nutrition "
            "targets costs that little."
        )
        budget = None
        sol = _solve(pool, target, mains, sides, fixed_n, fixed_cost, tol, budget)
        if sol is not None:
            return done(_meals(pool, slots, fixed, sol), tol)

    # Macros first: an elastic model (energy hard, macro bands priced per % outside)
    # shows which macros cannot be met; only those widen, to the first step that holds
    # them (±15, 20, 30 %). Then energy, ±7.5 then ±10 %. A sentence per nutrient widened.
    phrase = _rules_phrase(prefs)
    energies = [tol.energy] + [e for e in _ENERGY_STEPS if e > tol.energy]
    asked = tol
    closest: dict[str, float] = {}
    for energy in energies:
        tol = replace(tol, energy=energy)
        el = _solve(
            pool, target, mains, sides, fixed_n, fixed_cost, tol, None, (False, True, True, True)
        )
        if el is None:
            continue  # the energy band itself is out of reach with these portions
        current = dict(zip(_MACROS, _tols(tol)[1:], strict=True))
        needed = {}
        for j, macro in enumerate(_MACROS, start=1):
            aim = _values(target)[j]
            dev = abs(el.totals[j] - aim) / max(aim, 1e-9)
            if dev > current[macro] + 1e-9:
                needed[macro] = dev
                closest.setdefault(macro, el.totals[j])
        if any(dev > _MACRO_STEPS[-1] + 1e-9 for dev in needed.values()):
            continue  # even ±30 % is not enough at this energy band
        for macro, dev in needed.items():
            current[macro] = next(x for x in _MACRO_STEPS if x >= dev + 1e-9)
        # The elastic day is inside the widened bands by construction; solve once more
        # for the plan the objective prefers, keeping the elastic day as the fallback.
        tol = replace(tol, **current)
        sol = _solve(pool, target, mains, sides, fixed_n, fixed_cost, tol, None) if needed else None
        return done(_meals(pool, slots, fixed, sol or el), tol, asked, closest, phrase)
    relaxations[:] = [r for r in relaxations if r.startswith(("Budget", "Variety"))]
    tol = Tolerance(
        energy=max(asked.energy, _ENERGY_STEPS[-1]),
        protein=max(asked.protein, _MACRO_STEPS[-1]),
        carbs=max(asked.carbs, _MACRO_STEPS[-1]),
        fat=max(asked.fat, _MACRO_STEPS[-1]),
    )  # the widest bands tried
    return fail(tol, _infeasible_message(target, pool, mains, sides, fixed_n, fixed_cost, prefs))


def _widened(
    target: Target, asked: Tolerance, final: Tolerance, closest: Mapping[str, float], phrase: str
) -> list[str]:
    """The relaxation sentences, macros first then energy."""
    out = []
    for j, macro in enumerate(_MACROS, start=1):
        was, now = _tols(asked)[j], _tols(final)[j]
        if now > was:
            near = f" (closest: {closest[macro]:,.0f} g)" if macro in closest else ""
            out.append(
                f"{_NAMES[macro].capitalize()} tolerance widened to ±{_pct(now)} %: no {phrase} "
                f"reach {_values(target)[j]:,.0f} g of {_NAMES[macro]} inside ±{_pct(was)} % at "
                f"{target.kcal:,.0f} kcal{near}."
            )
    if final.energy > asked.energy:
        out.append(
            f"Energy tolerance widened to ±{_pct(final.energy)} %: even with wider macro bands, "
            f"no {phrase} land within ±{_pct(asked.energy)} % of {target.kcal:,.0f} kcal."
        )
    return out


def _no_main_message(
    kind: str, candidates: Sequence[Candidate], prefs: Preferences, used: set[str]
) -> str:
    """'No dinner fits: every dinner recipe contains an allergen or a disliked food.'"""
    allergies = _allergies(prefs)
    of_kind = [c for c in candidates if kind in c.kinds]
    if not of_kind:
        return f"No {kind} fits: the catalogue has no {kind} options. Add {kind} recipes."
    reasons = {
        "allergen": "contains an allergen",
        "diet": "is outside the diet",
        "dislike": "contains a disliked food",
        "prep": "takes longer than the maximum prep time",
        "skill": "needs more cooking skill",
        "used": "is already locked on another slot today",
    }
    whys = {_exclusion(c, prefs, allergies) or ("used" if c.key in used else "") for c in of_kind}
    found = [text for why, text in reasons.items() if why in whys]
    if any(r in found for r in (reasons["dislike"], reasons["prep"], reasons["skill"])):
        fix = (
            f"Remove a dislike, allow more prep time or a higher cooking skill, or add {kind} "
            "recipes that suit these rules."
        )
    else:
        fix = f"Add {kind} recipes that suit these rules."
    return f"No {kind} fits: every {kind} option {_join(found)}. {fix}"


def _infeasible_message(
    target: Target,
    pool: _Pool,
    mains: Mapping[str, list[int]],
    sides: list[int],
    fixed: Nutrients,
    fixed_cost: float,
    prefs: Preferences,
) -> str:
    """Names the nutrients the closest possible day misses at the widest bands, and what
    the client or coach can change (never the allergies or the diet)."""
    widest = Tolerance(
        energy=_ENERGY_STEPS[-1],
        protein=_MACRO_STEPS[-1],
        carbs=_MACRO_STEPS[-1],
        fat=_MACRO_STEPS[-1],
    )
    el = _solve(pool, target, mains, sides, fixed, fixed_cost, widest, None, (True,) * 4)
    misses = []
    changes = []
    if el is not None:
        for j, name in enumerate(("energy", "protein", "carbohydrate", "fat")):
            aim = _values(target)[j]
            if abs(el.totals[j] - aim) > _tols(widest)[j] * aim + 1e-6:
                unit = "kcal" if j == 0 else "g"
                misses.append(f"{name} ({el.totals[j]:,.0f} {unit} against {aim:,.0f} {unit})")
                if j:
                    changes.append(f"{'a lower' if el.totals[j] < aim else 'a higher'} {name}")
    what = _join(misses, "and") if misses else "the day's targets"
    change = f" (here {_join(changes, 'and')} target)" if changes else ""
    return (
        f"No plan fits: with {_rules_phrase(prefs)}, the closest day misses {what} even with "
        f"±{_pct(_MACRO_STEPS[-1])} % on the macros and ±{_pct(_ENERGY_STEPS[-1])} % on "
        f"energy. Change the targets{change}, allow more foods (fewer dislikes, more prep "
        "time) or plan more meals per day."
    )


def plan_day(
    target: Target,
    candidates: Sequence[Candidate],
    prefs: Preferences,
    *,
    avoid: frozenset[str] = frozenset(),
    locked: Mapping[str, PlannedMeal] | None = None,
    tolerance: Tolerance = Tolerance(),  # noqa: B008 (frozen, so a shared default is safe)
    seed: int = 0,
) -> DayPlan:
    """One day. `avoid`: recipe keys used on neighbouring days (variety). `locked`: slot
    name → meal kept as it is. `seed` varies the shortlist so clients don't all get the
    same plan; the same inputs always give the same plan."""
    _check(target, tolerance)
    meal_slots(prefs.meals_per_day)
    pool = _Pool(eligible(candidates, prefs), prefs, seed)
    return _day(target, pool, prefs, frozenset(avoid), locked, tolerance, candidates)


def _day_seed(seed: int, day: datetime.date) -> int:
    return seed * 1_000_003 + day.toordinal()


def plan_days(
    targets: Sequence[tuple[datetime.date, Target]],
    candidates: Sequence[Candidate],
    prefs: Preferences,
    *,
    history: Mapping[datetime.date, frozenset[str]] | None = None,
    locked: Mapping[datetime.date, Mapping[str, PlannedMeal]] | None = None,
    variety_days: int = 3,
    tolerance: Tolerance = Tolerance(),  # noqa: B008 (frozen, so a shared default is safe)
    seed: int = 0,
) -> dict[datetime.date, DayPlan]:
    """Several days, no recipe twice within `variety_days` (history: recipe keys already
    planned on dates not being planned now, e.g. the neighbours of a re-planned day).

    Days are planned one after the other in date order, each avoiding the recipes of its
    neighbours within the window: a joint model over the week does not solve in time."""
    if variety_days < 1:
        raise ValueError(f"variety_days must be at least 1, got {variety_days}")
    dates = [d for d, _ in targets]
    if len(set(dates)) != len(dates):
        raise ValueError("each date may be planned once")
    for _, target in targets:
        _check(target, tolerance)
    meal_slots(prefs.meals_per_day)
    ok = eligible(candidates, prefs)
    locked = locked or {}
    used: dict[datetime.date, frozenset[str]] = {
        d: frozenset(k for k in keys if k.startswith("recipe:"))
        for d, keys in (history or {}).items()
    }
    for d, meals in locked.items():
        keys = {it.key for m in meals.values() for it in m.items if it.key.startswith("recipe:")}
        used[d] = used.get(d, frozenset()) | keys
    window = datetime.timedelta(days=variety_days - 1)
    out: dict[datetime.date, DayPlan] = {}
    for day, target in sorted(targets, key=lambda dt: dt[0]):
        avoid = frozenset().union(
            *(keys for d, keys in used.items() if d != day and abs(d - day) <= window)
        )
        pool = _Pool(ok, prefs, _day_seed(seed, day))
        plan = _day(target, pool, prefs, avoid, locked.get(day), tolerance, candidates)
        out[day] = plan
        used[day] = used.get(day, frozenset()) | frozenset(
            it.key for m in plan.meals for it in m.items if it.key.startswith("recipe:")
        )
    return {d: out[d] for d in dates}


def swap_options(
    plan: DayPlan,
    slot: str,
    candidates: Sequence[Candidate],
    prefs: Preferences,
    *,
    avoid: frozenset[str] = frozenset(),
    limit: int = 5,
) -> tuple[PlannedMeal, ...]:
    """Alternatives for one slot that keep the day within `plan.tolerance`, best first;
    the other meals stay as they are.

    Enumerated, not optimised: every (main, portions) × (no side | side, portions) is
    checked at once with numpy, which is exact and fast for a catalogue of hundreds."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    current = next((m for m in plan.meals if m.slot == slot), None)
    if current is None:
        raise ValueError(f"slot {slot!r} is not in the plan")
    others = [m for m in plan.meals if m.slot != slot]
    rest, _, _ = _sum(others)
    used = {it.key for m in others for it in m.items if it.key.startswith("recipe:")}
    pool = _Pool(eligible(candidates, prefs), prefs, 0)
    if not pool.cands:
        return ()
    # A swap is another main: the same dish in other portions is not an alternative.
    current_main = current.items[0].key if current.items else None
    mains = np.flatnonzero(
        _mains(
            pool,
            current.kind,
            np.array(
                [
                    c.key == current_main or (c.is_recipe and (c.key in avoid or c.key in used))
                    for c in pool.cands
                ]
            ),
        )
    )
    side_idx = np.flatnonzero(pool.side)
    if not len(mains):
        return ()

    def expand(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reps = pool.maxp[idx]
        ii = np.repeat(idx, reps)
        kk = np.concatenate([np.arange(1, r + 1) for r in reps]) if len(idx) else np.zeros(0)
        return ii, kk.astype(int)

    mi, mk = expand(mains)
    si, sk = expand(side_idx)
    si = np.concatenate([[-1], si])
    sk = np.concatenate([[0], sk])
    main_n = pool.nut[mi] * mk[:, None]
    side_n = np.vstack([np.zeros((1, 4)), pool.nut[si[1:]] * sk[1:, None]])
    aims = np.array(_values(plan.target))
    band = np.array(_tols(plan.tolerance)) * aims + 1e-6 * np.maximum(aims, 1.0)
    total = np.array(_values(rest))[None, None, :] + main_n[:, None, :] + side_n[None, :, :]
    dev = np.abs(total - aims)
    ok = (dev <= band).all(axis=2)
    ok &= si[None, :] != mi[:, None]  # a side is never the main again
    # Closeness first, but a plain meal beats a pile of portions that lands a hair closer.
    score = (
        (dev / np.maximum(band, 1e-9)).sum(axis=2)
        + 0.5 * (sk[None, :] > 0)
        + 0.1 * sk[None, :]
        + 0.25 * (mk[:, None] - 1)
    )
    # Favourites first, then closeness; ranked with numpy because a wide tolerance can
    # leave a hundred thousand valid (main, side) pairs.
    rank = np.where(ok, score + np.where(pool.fav[mi], 0.0, 1e3)[:, None], np.inf)
    current_items = tuple(sorted((it.key, it.portions) for it in current.items))
    best_b = rank.argmin(axis=1)
    best = rank[np.arange(len(mi)), best_b]
    firsts = [(float(best[ai]), ai, int(best_b[ai])) for ai in np.flatnonzero(np.isfinite(best))]
    flat = rank.ravel()
    n_ok = int(np.isfinite(flat).sum())
    if not n_ok:
        return ()
    top = np.argpartition(flat, min(n_ok, 4 * limit + 8) - 1)[: min(n_ok, 4 * limit + 8)]
    rest_pairs = [(float(flat[p]), int(p // rank.shape[1]), int(p % rank.shape[1])) for p in top]

    def meal_of(ai: int, bi: int) -> tuple:
        items = [(pool.cands[mi[ai]].key, int(mk[ai]))]
        if si[bi] >= 0:
            items.append((pool.cands[si[bi]].key, int(sk[bi])))
        return tuple(sorted(items))

    chosen: list[tuple[int, int]] = []
    seen_meals: set[tuple] = {current_items}
    seen_mains: set[str] = set()
    # Pass 1: the best option of each distinct main; pass 2: other portions and sides.
    for pass_no, pool_pairs in enumerate((firsts, rest_pairs)):
        for _, ai, bi in sorted(pool_pairs, key=lambda t: (t[0], t[1], t[2])):
            if len(chosen) >= limit:
                break
            key = pool.cands[mi[ai]].key
            meal = meal_of(ai, bi)
            if meal in seen_meals or (pass_no == 0 and key in seen_mains):
                continue  # also drops the same two foods as main and side swapped
            seen_meals.add(meal)
            seen_mains.add(key)
            chosen.append((ai, bi))
    out = []
    for ai, bi in chosen:
        items = [_item(pool.cands[mi[ai]], int(mk[ai]))]
        if si[bi] >= 0:
            items.append(_item(pool.cands[si[bi]], int(sk[bi])))
        out.append(PlannedMeal(slot=slot, kind=current.kind, items=tuple(items)))
    return tuple(out)
