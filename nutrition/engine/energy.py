"""Energy and macronutrient targets (SCIENCE.md §4).

Units: kg, cm, years, kcal, grams, minutes; dates as `datetime.date`. Every formula
refuses arguments outside the range it was fitted or meant for (`ValueError`) instead of
extrapolating silently, and every target carries the sentences that explain it, so a
client can trace each number to a row of SCIENCE.md or to a coach's setting.

Names listed in SCIENCE.md §4 are a contract; the extras below (goal energy, day-load
classification, weekly periodisation, the display trend) are what the nutrition services
build on.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

KCAL_PER_KG = 7700  # energy per kg of body-mass change (Hall 2008 notes its limits)

ACTIVITY_FACTORS: dict[str, float] = {
    "sedentary": 1.2,
    "light": 1.375,
    "moderate": 1.55,
    "very": 1.725,
    "extra": 1.9,
}

DAY_LOADS = ("rest", "light", "moderate", "high", "very_high")
# g carbohydrate per kg body weight (ACSM/AND/DC 2016; Burke et al. 2011).
CARB_BANDS: dict[str, tuple[float, float]] = {
    "rest": (3.0, 5.0),
    "light": (3.0, 5.0),
    "moderate": (5.0, 7.0),
    "high": (6.0, 10.0),
    "very_high": (8.0, 12.0),
}
# How the carbohydrate-day sentence names each load ("Low carbohydrate day: …").
DAY_LOAD_LABELS: dict[str, str] = {
    "rest": "Low",
    "light": "Lower",
    "moderate": "Moderate",
    "high": "High",
    "very_high": "Very high",
}

GOALS = ("lose", "maintain", "gain")
# % of body weight per week: loss 0.5–1.0 (Helms et al. 2014), gain 0.25–0.5.
RATE_RANGES: dict[str, tuple[float, float]] = {
    "lose": (0.5, 1.0),
    "maintain": (0.0, 0.0),
    "gain": (0.25, 0.5),
}
DEFAULT_RATES: dict[str, float] = {"lose": 0.5, "maintain": 0.0, "gain": 0.25}

SEXES = ("male", "female")
WEIGHT_RANGE = (25.0, 350.0)  # kg
HEIGHT_RANGE = (100.0, 250.0)  # cm
AGE_RANGE = (13.0, 100.0)  # years: the BMR equations were not fitted on children
LEAN_MASS_RANGE = (15.0, 200.0)  # kg
BMR_RANGE = (100.0, 6000.0)  # kcal/day: covers every BMR the three equations give in range
ENERGY_RANGE = (800.0, 8000.0)  # kcal/day for a macro target
EXPENDITURE_RANGE = (800.0, 12000.0)  # kcal/day: an "extra" TDEE can pass 8,000
INTAKE_RANGE = (0.0, 15000.0)  # kcal logged in a day; 0 is a real (fasting) day
PROTEIN_G_PER_KG_RANGE = (1.2, 3.1)
FAT_FRACTION_RANGE = (0.20, 0.40)  # fat ≥ 20 % of energy (ACSM 2016)

ADAPTIVE_MIN_WINDOW_DAYS = 14
ADAPTIVE_MIN_WEIGH_INS = 10
ADAPTIVE_MIN_INTAKE_DAYS = 10


# --- validation -------------------------------------------------------------------------


def _check_range(name: str, value: float, bounds: tuple[float, float], unit: str) -> float:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low:g}–{high:g}{unit}, got {value:g}")
    return float(value)


def _check_sex(sex: str) -> str:
    if sex not in SEXES:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    return sex


def _check_body(sex: str, weight_kg: float, height_cm: float, age: float) -> None:
    _check_sex(sex)
    _check_range("weight_kg", weight_kg, WEIGHT_RANGE, " kg")
    _check_range("height_cm", height_cm, HEIGHT_RANGE, " cm")
    _check_range("age", age, AGE_RANGE, " years")


def _kcal(x: float) -> str:
    return f"{x:,.0f}"


# --- expenditure ------------------------------------------------------------------------


def bmr_mifflin(sex: str, weight_kg: float, height_cm: float, age: float) -> float:
    """Basal metabolic rate, kcal/day (Mifflin–St Jeor 1990): the default equation, the
    most accurate of the three for non-obese and obese adults when body fat is unknown."""
    _check_body(sex, weight_kg, height_cm, age)
    base = 10 * weight_kg + 6.25 * height_cm - 5 * age
    return base + 5 if sex == "male" else base - 161


def bmr_harris_benedict(sex: str, weight_kg: float, height_cm: float, age: float) -> float:
    """Basal metabolic rate, kcal/day (Harris–Benedict as revised by Roza & Shizgal 1984);
    offered for coaches who calibrated their practice on it."""
    _check_body(sex, weight_kg, height_cm, age)
    if sex == "male":
        return 88.362 + 13.397 * weight_kg + 4.799 * height_cm - 5.677 * age
    return 447.593 + 9.247 * weight_kg + 3.098 * height_cm - 4.330 * age


def bmr_katch_mcardle(lean_mass_kg: float) -> float:
    """Basal metabolic rate, kcal/day, from lean body mass (Katch–McArdle): preferred
    when body fat is known, because lean mass, not total weight, drives resting energy."""
    _check_range("lean_mass_kg", lean_mass_kg, LEAN_MASS_RANGE, " kg")
    return 370 + 21.6 * lean_mass_kg


def tdee(bmr: float, activity: str) -> float:
    """Total daily energy expenditure: BMR × the activity factor (sedentary 1.2 …
    extra 1.9). A starting estimate only; `adaptive_tdee` replaces it once logs exist."""
    _check_range("bmr", bmr, BMR_RANGE, " kcal")
    if activity not in ACTIVITY_FACTORS:
        raise ValueError(f"activity must be one of {', '.join(ACTIVITY_FACTORS)}, got {activity!r}")
    return bmr * ACTIVITY_FACTORS[activity]


def adaptive_tdee(
    weights_by_day: Mapping[date, float], intake_by_day: Mapping[date, float]
) -> float | None:
    """Expenditure measured from the client's own logs: mean logged daily intake minus
    the weight slope (kg/day) × 7,700 kcal/kg.

    The slope is an ordinary least-squares fit of the RAW weigh-ins against their dates,
    not of a smoothed trend: an EWMA seeded with the first weight lags a steady change
    by ~9 days and would bias the estimate by 100–300 kcal (see `trend_weights`).

    The window is the span the data cover, from the earliest to the latest date in
    either mapping, counted inclusively (1 → 14 March is 14 days). Returns `None` when
    the window is shorter than 14 days, or there are fewer than 10 weigh-ins or fewer
    than 10 logged intake days: too little data to separate water noise from tissue.
    """
    for day, kg in weights_by_day.items():
        _check_range(f"weight on {day}", kg, WEIGHT_RANGE, " kg")
    for day, kcal in intake_by_day.items():
        _check_range(f"intake on {day}", kcal, INTAKE_RANGE, " kcal")
    if len(weights_by_day) < ADAPTIVE_MIN_WEIGH_INS:
        return None
    if len(intake_by_day) < ADAPTIVE_MIN_INTAKE_DAYS:
        return None
    dates = [*weights_by_day, *intake_by_day]
    window_days = (max(dates) - min(dates)).days + 1
    if window_days < ADAPTIVE_MIN_WINDOW_DAYS:
        return None
    origin = min(dates)
    xs = [(day - origin).days for day in weights_by_day]
    ys = list(weights_by_day.values())
    x_mean = sum(xs) / len(xs)
    y_mean = sum(ys) / len(ys)
    sxx = sum((x - x_mean) ** 2 for x in xs)
    sxy = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True))
    slope_kg_per_day = sxy / sxx  # sxx > 0: ≥ 10 distinct dates
    mean_intake = sum(intake_by_day.values()) / len(intake_by_day)
    return mean_intake - slope_kg_per_day * KCAL_PER_KG


def trend_weights(weights_by_day: Mapping[date, float], alpha: float = 0.1) -> dict[date, float]:
    """Smoothed weight line for the client's chart: an EWMA seeded with the first
    weigh-in, one value per calendar day from the first to the last weigh-in (days
    without a weigh-in carry the trend forward).

    For DISPLAY ONLY: with α = 0.1 the trend lags a steady change by (1 − α)/α = 9 days,
    so never feed it to `adaptive_tdee` (SCIENCE.md §4).
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    if not weights_by_day:
        return {}
    for day, kg in weights_by_day.items():
        _check_range(f"weight on {day}", kg, WEIGHT_RANGE, " kg")
    first, last = min(weights_by_day), max(weights_by_day)
    trend = float(weights_by_day[first])
    out: dict[date, float] = {}
    day = first
    while day <= last:
        if day in weights_by_day:
            trend += alpha * (weights_by_day[day] - trend)
        out[day] = trend
        day += timedelta(days=1)
    return out


# --- goals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnergyGoal:
    kcal: float  # the daily energy target
    delta_kcal: float  # kcal − expenditure, after any floor (negative: a deficit)
    rate_percent_per_week: float  # the chosen rate of change, % body weight per week
    reason: str


def goal_energy(
    expenditure_kcal: float,
    weight_kg: float,
    goal: str,
    rate_percent_per_week: float | None = None,
    floor_kcal: float | None = None,
) -> EnergyGoal:
    """Daily energy for a goal: expenditure ∓ rate % × weight × 7,700 / 7.

    The rate defaults to the gentle end of the evidence (`DEFAULT_RATES`: lose 0.5 %,
    gain 0.25 % a week) and must lie in `RATE_RANGES[goal]`. `floor_kcal` is the coach's
    minimum intake: a target under it is held at the floor and the reason says how much
    smaller the deficit became (the engine knows no sex or BMR, so it sets no floor).
    """
    _check_range("expenditure_kcal", expenditure_kcal, EXPENDITURE_RANGE, " kcal")
    _check_range("weight_kg", weight_kg, WEIGHT_RANGE, " kg")
    if goal not in GOALS:
        raise ValueError(f"goal must be one of {', '.join(GOALS)}, got {goal!r}")
    low, high = RATE_RANGES[goal]
    rate = DEFAULT_RATES[goal] if rate_percent_per_week is None else rate_percent_per_week
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not low <= rate <= high:
        allowed = "0 (maintain)" if high == 0 else f"{low:g}–{high:g} % of body weight a week"
        raise ValueError(f"rate for goal {goal!r} must be {allowed}, got {rate!r}")
    if floor_kcal is not None:
        _check_range("floor_kcal", floor_kcal, ENERGY_RANGE, " kcal")

    kg_per_week = rate / 100 * weight_kg
    magnitude = kg_per_week * KCAL_PER_KG / 7
    planned = {"lose": -magnitude, "maintain": 0.0, "gain": magnitude}[goal]
    if goal == "maintain":
        reason = f"Energy at expenditure ({_kcal(expenditure_kcal)} kcal) to maintain weight."
    else:
        word, verb = ("Deficit", "lose") if goal == "lose" else ("Surplus", "gain")
        reason = (
            f"{word} of {_kcal(magnitude)} kcal a day to {verb} {rate:g} % of body weight "
            f"({kg_per_week:.2f} kg) a week."
        )
    kcal = expenditure_kcal + planned
    if floor_kcal is not None and kcal < floor_kcal:
        kcal = float(floor_kcal)
        actual = kcal - expenditure_kcal
        if actual < 0:
            change = f"deficit {_kcal(-actual)} kcal a day instead of {_kcal(-planned)}"
        else:
            change = f"{_kcal(actual)} kcal a day above expenditure"
        reason += f" Held at the {_kcal(floor_kcal)} kcal floor: {change}."
    return EnergyGoal(
        kcal=kcal,
        delta_kcal=kcal - expenditure_kcal,
        rate_percent_per_week=float(rate),
        reason=reason,
    )


# --- macros -----------------------------------------------------------------------------


def carb_band(day_load: str) -> tuple[float, float]:
    """(low, high) g carbohydrate per kg for a day's load (ACSM/AND/DC 2016): rest/light
    3–5, moderate (~1 h/day) 5–7, high (1–3 h/day) 6–10, very high (> 4–5 h/day) 8–12."""
    if day_load not in CARB_BANDS:
        raise ValueError(f"day_load must be one of {', '.join(DAY_LOADS)}, got {day_load!r}")
    return CARB_BANDS[day_load]


def classify_day_load(minutes: float, *, sessions: int = 1) -> str:
    """The carbohydrate band for a day's planned training, by total minutes: 0 → rest,
    < 40 → light, ≤ 75 → moderate (~1 h), ≤ 240 → high (1–3 h, up to 4), > 240 → very high.

    `sessions` is checked (a whole number ≥ 0; 0 sessions means 0 minutes) but does not
    move the band: the ACSM bands are per day of work, however it is split.
    """
    _check_range("minutes", minutes, (0.0, 24 * 60.0), " min")
    if isinstance(sessions, bool) or not isinstance(sessions, int) or sessions < 0:
        raise ValueError(f"sessions must be a whole number ≥ 0, got {sessions!r}")
    if sessions == 0 and minutes > 0:
        raise ValueError(f"{minutes:g} min of training needs at least one session")
    if minutes == 0:
        return "rest"
    if minutes < 40:
        return "light"
    if minutes <= 75:
        return "moderate"
    if minutes <= 240:
        return "high"
    return "very_high"


@dataclass(frozen=True)
class MacroTargets:
    """Unrounded grams (round for display); energy_kcal = 4P + 9F + 4C."""

    energy_kcal: float
    protein_g: float
    fat_g: float
    carbs_g: float
    reasons: tuple[str, ...]


def _load_words(day_load: str) -> str:
    return day_load.replace("_", " ")


def _protein_fat(
    energy_kcal: float, weight_kg: float, protein_g_per_kg: float, fat_fraction: float
) -> tuple[float, float]:
    _check_range("energy_kcal", energy_kcal, ENERGY_RANGE, " kcal")
    _check_range("weight_kg", weight_kg, WEIGHT_RANGE, " kg")
    _check_range("protein_g_per_kg", protein_g_per_kg, PROTEIN_G_PER_KG_RANGE, " g/kg")
    _check_range("fat_fraction", fat_fraction, FAT_FRACTION_RANGE, " of energy")
    return protein_g_per_kg * weight_kg, fat_fraction * energy_kcal / 9


def macro_targets(
    energy_kcal: float,
    weight_kg: float,
    day_load: str = "moderate",
    protein_g_per_kg: float = 1.8,
    fat_fraction: float = 0.25,
) -> MacroTargets:
    """Protein by body weight, fat as a share of energy, carbohydrate the rest.

    Carbohydrate never goes under the lower end of the day's band: training on less is
    under-fuelling, so when protein and fat leave too little room the energy target rises
    to 4P + 9F + 4C and a reason gives both numbers. Protein 1.2–3.1 g/kg (default 1.8:
    Morton 2018; the top allows 2.3–3.1 g/kg lean mass in a deficit), fat 20–40 %.
    """
    protein_g, fat_g = _protein_fat(energy_kcal, weight_kg, protein_g_per_kg, fat_fraction)
    low, _high = carb_band(day_load)
    rest_g = (energy_kcal - 4 * protein_g - 9 * fat_g) / 4
    floor_g = low * weight_kg
    reasons = [
        f"Protein {protein_g_per_kg:g} g/kg: {protein_g:.0f} g.",
        f"Fat {fat_fraction * 100:g} % of energy: {fat_g:.0f} g.",
    ]
    if rest_g >= floor_g:
        carbs_g, energy = rest_g, float(energy_kcal)
        reasons.append(
            f"Carbohydrate fills the rest of {_kcal(energy_kcal)} kcal: "
            f"{carbs_g:.0f} g ({carbs_g / weight_kg:.1f} g/kg)."
        )
    else:
        carbs_g = floor_g
        energy = 4 * protein_g + 9 * fat_g + 4 * carbs_g
        reasons.append(
            f"Carbohydrate held at the {low:g} g/kg floor for a {_load_words(day_load)} day: "
            f"energy {_kcal(energy)} kcal instead of {_kcal(energy_kcal)}."
        )
    return MacroTargets(
        energy_kcal=energy,
        protein_g=protein_g,
        fat_g=fat_g,
        carbs_g=carbs_g,
        reasons=tuple(reasons),
    )


# --- weekly periodisation ---------------------------------------------------------------


@dataclass(frozen=True)
class DayLoad:
    """A day and the load of the training planned for the day AFTER it: carbohydrate
    eaten today fuels tomorrow's session. `description` is the caller's short phrase
    about that session ("90-min threshold run tomorrow", "rest day tomorrow")."""

    date: date
    load: str  # one of DAY_LOADS
    description: str

    def __post_init__(self) -> None:
        carb_band(self.load)


@dataclass(frozen=True)
class DayTarget:
    """A day's rounded targets: 4·protein_g + 4·carbs_g + 9·fat_g == energy_kcal."""

    date: date
    day_load: str
    energy_kcal: int
    protein_g: int
    carbs_g: int
    fat_g: int
    reasons: tuple[str, ...]


def _fill_with_floors(
    budget: float, weights: Sequence[float], floors: Sequence[float]
) -> list[float]:
    """Split `budget` in proportion to `weights`, with each share at least its floor: a
    share under its floor is raised to it and the others give up the difference in
    proportion (repeat until stable). If the floors alone exceed the budget, every share
    is its floor and the total exceeds the budget."""
    n = len(weights)
    fixed = [False] * n
    shares = list(floors)
    while True:
        free = [i for i in range(n) if not fixed[i]]
        if not free:
            return shares
        remaining = budget - sum(floors[i] for i in range(n) if fixed[i])
        total_weight = sum(weights[i] for i in free)
        newly_fixed = False
        for i in free:
            shares[i] = remaining * weights[i] / total_weight
            if shares[i] < floors[i]:
                newly_fixed = True
        if not newly_fixed:
            return shares
        for i in free:
            if shares[i] < floors[i]:
                fixed[i] = True
                shares[i] = floors[i]


def _round_preserving_sum(values: Sequence[float], total: int) -> list[int]:
    """Largest-remainder rounding: whole numbers, each floor(v) or floor(v)+1, summing to
    `total` (which must lie between Σ floor(v) and Σ floor(v) + len)."""
    base = [math.floor(v + 1e-9) for v in values]
    extra = total - sum(base)
    order = sorted(range(len(values)), key=lambda i: values[i] - base[i], reverse=True)
    for i in order[: max(0, extra)]:
        base[i] += 1
    return base


def periodise_week(
    days: Sequence[DayLoad],
    *,
    energy_kcal: float,
    weight_kg: float,
    protein_g_per_kg: float = 1.8,
    fat_fraction: float = 0.25,
    periodise: bool = True,
) -> tuple[DayTarget, ...]:
    """Daily targets for a span of days that "fuel for the work required" (SCIENCE.md §4).

    `energy_kcal` is the AVERAGE daily target. Protein and fat are the same every day (as
    `macro_targets` gives them at that average); the span's carbohydrate budget,
    Σ(energy − 4P − 9F)/4, is shared out in proportion to each day's band midpoint, so a
    day before a long session gets more than a day before rest. No day goes under its
    band's floor; the others give up the difference, so the span's energy equals
    len(days) × energy_kcal (± 2 kcal of rounding) unless every day sits on its floor,
    in which case energy rises and the reasons say so. With `periodise=False` every day
    gets the same carbohydrate (still at least its floor).

    Grams and kcal are whole numbers; protein and fat are rounded first and the budget is
    taken from the rounded values so rounding does not leak into the span's energy.
    """
    if not days:
        raise ValueError("periodise_week needs at least one day")
    protein, fat = _protein_fat(energy_kcal, weight_kg, protein_g_per_kg, fat_fraction)
    protein_g, fat_g = round(protein), round(fat)
    n = len(days)
    bands = [carb_band(day.load) for day in days]
    # Whole-gram floors, rounded up, so rounding can never take a day under its band.
    floors = [math.ceil(low * weight_kg - 1e-9) for low, _high in bands]
    weights = [(low + high) / 2 if periodise else 1.0 for low, high in bands]
    budget = n * (energy_kcal - 4 * protein_g - 9 * fat_g) / 4
    shares = _fill_with_floors(budget, weights, floors)
    all_floored = budget < sum(floors)
    if all_floored:
        carbs = list(floors)
    else:
        carbs = _round_preserving_sum(shares, round(budget))

    average = 4 * protein_g + 9 * fat_g + 4 * sum(carbs) / n
    protein_reason = f"Protein {protein_g_per_kg:g} g/kg: {protein_g} g."
    fat_reason = f"Fat {fat_fraction * 100:g} % of energy: {fat_g} g."
    out = []
    for day, (low, high), carbs_g, share, floor_g in zip(
        days, bands, carbs, shares, floors, strict=True
    ):
        energy = 4 * protein_g + 9 * fat_g + 4 * carbs_g
        description = day.description.strip().rstrip(".")
        label = f"{DAY_LOAD_LABELS[day.load]} carbohydrate day"
        reasons = [
            f"{label}: {description}." if description else f"{label}.",
            protein_reason,
            fat_reason,
            f"Carbohydrate {carbs_g} g ({carbs_g / weight_kg:.1f} g/kg; "
            f"band {low:g}–{high:g} g/kg).",
        ]
        if all_floored:
            reasons.append(
                f"Carbohydrate held at the {low:g} g/kg floor for a {_load_words(day.load)} "
                f"day: every day is at its floor, so energy averages {_kcal(average)} kcal "
                f"a day instead of {_kcal(energy_kcal)}."
            )
        elif share <= floor_g:
            reasons.append(
                f"Carbohydrate held at the {low:g} g/kg floor for a "
                f"{_load_words(day.load)} day; the other days give up the difference."
            )
        out.append(
            DayTarget(
                date=day.date,
                day_load=day.load,
                energy_kcal=energy,
                protein_g=protein_g,
                carbs_g=carbs_g,
                fat_g=fat_g,
                reasons=tuple(reasons),
            )
        )
    return tuple(out)
