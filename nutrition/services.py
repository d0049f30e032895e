"""Writes of nutrition data, one transaction each (DESIGN.md, Layout).

The night (`plan_nutrition`) runs, per athlete and date: a weekly expenditure reading
from the weight trend and the food log (an `Adjustment` like a training change: explained,
revertible, the tier decides) → targets for the next 7 days, carbohydrate fuelled by each
next day's planned training → meal plans for the days whose target changed → the shopping
list. Numbers come from the pure engines (`nutrition.engine`); this module reads the
inputs, calls them and stores what they return.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from athletes import consent
from athletes import selectors as athlete_selectors
from athletes.models import AthleteProfile, Enrolment
from coaching.errors import DomainError
from coaching.methodology import default_rules, validate_rules
from nutrition import selectors
from nutrition.catalogue import ALLERGENS, Catalogue, load_catalogue
from nutrition.engine import energy
from nutrition.engine import mealplan as planner
from nutrition.models import (
    DayTarget,
    ExpenditureEstimate,
    FoodLogEntry,
    NutritionProfile,
    NutritionRun,
    PlanDay,
    ShoppingList,
)
from programs import selectors as program_selectors
from programs import services as program_services
from programs.models import Adjustment
from programs.services import subjects

PLAN_DAYS = 7
#: "Not given": the caller did not preload it, so the service reads it (None is a value).
UNSET: Any = object()
ADAPTIVE_WINDOW_DAYS = 28
ESTIMATE_EVERY_DAYS = 7
MIN_CHANGE_KCAL = 50  # smaller moves are noise in a 28-day reading
MAX_CHANGE_FRACTION = 0.10  # a week's reading moves the figure at most 10 %
ENERGY_RULE = "adaptive_expenditure"
RESTRICTIONS = ("gluten-free", "dairy-free", "halal", "kosher-style")
DIETS = tuple(NutritionProfile.Diet.values)


class NutritionError(DomainError):
    code = "nutrition_invalid"


class NoBodyWeight(NutritionError):
    code = "no_body_weight"
    status = 409


class PlanMissing(NutritionError):
    code = "not_found"
    status = 404


class NotEnrolled(NutritionError):
    code = "not_enrolled"
    status = 409


# --- inputs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    sex: str
    weight_kg: float
    weighed_on: datetime.date
    height_cm: float
    age: float
    body_fat_percent: float | None

    @property
    def bmr(self) -> float:
        """Katch–McArdle when body fat is known (it sees muscle), Mifflin otherwise."""
        if self.body_fat_percent is not None:
            return energy.bmr_katch_mcardle(self.weight_kg * (1 - self.body_fat_percent / 100))
        return energy.bmr_mifflin(self.sex, self.weight_kg, self.height_cm, self.age)

    @property
    def bmr_formula(self) -> str:
        return "Katch–McArdle" if self.body_fat_percent is not None else "Mifflin–St Jeor"


def body_of(athlete: AthleteProfile, on: datetime.date) -> Body:
    weighed = athlete_selectors.latest_body_weight(athlete, on)
    if weighed is None:
        raise NoBodyWeight(
            "No body weight yet: log a weigh-in or an assessment before targets can be set."
        )
    assessment = athlete_selectors.latest_assessment(athlete, on=on)
    body_fat = (
        float(assessment.body_fat_percent)
        if assessment is not None and assessment.body_fat_percent is not None
        else None
    )
    return Body(
        sex=athlete.sex,
        weight_kg=weighed[0],
        weighed_on=weighed[1],
        height_cm=float(athlete.height_cm),
        age=(on - athlete.birth_date).days / 365.25,
        body_fat_percent=body_fat,
    )


@dataclass(frozen=True)
class Rules:
    nutrition: Mapping[str, Any]
    autonomy: str | None  # None: not enrolled
    threshold: float


def rules_of(athlete: AthleteProfile, *, enrolment: Any = UNSET) -> Rules:
    """The methodology's nutrition philosophy from the athlete's enrolment (defaults when
    not enrolled, so a coach can still plan for a prospect). `enrolment`: the current one
    (with tier and version, or None) when a nightly batch loaded it for its chunk."""
    if enrolment is UNSET:
        enrolment = athlete_selectors.current_enrolment(athlete)
    if enrolment is None:
        rules = default_rules("endurance")
        return Rules(
            rules["nutrition"], None, float(rules["autoregulation"]["queue_threshold_percent"])
        )
    rules = validate_rules(enrolment.methodology_version.rules)
    return Rules(
        rules["nutrition"],
        enrolment.tier.autonomy,
        float(rules["autoregulation"]["queue_threshold_percent"]),
    )


def _tomorrow_words(sessions: Sequence[Any]) -> tuple[float, int, str]:
    """Minutes of training, number of sessions and a phrase for the day's plan."""
    work = [s for s in sessions if not s.rest_day and s.duration_min > 0]
    if not work:
        return 0.0, 0, "rest day tomorrow"
    minutes = float(sum(s.duration_min for s in work))
    names = " and ".join(f"{s.duration_min}-min {s.name.lower()}" for s in work)
    return minutes, len(work), f"{names} tomorrow"


def day_loads(athlete: AthleteProfile, start: datetime.date, days: int) -> list[energy.DayLoad]:
    """Each day's load is tomorrow's training: you eat today for tomorrow's work."""
    sessions = program_selectors.planned_sessions_between(
        athlete, start + datetime.timedelta(days=1), start + datetime.timedelta(days=days)
    )
    out = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        minutes, count, words = _tomorrow_words(sessions.get(day + datetime.timedelta(days=1), []))
        load = energy.classify_day_load(minutes, sessions=max(count, 1))
        out.append(energy.DayLoad(date=day, load=load, description=words))
    return out


@dataclass(frozen=True)
class Targets:
    days: tuple[energy.DayTarget, ...]
    inputs: dict[str, Any]


def compute_targets(
    athlete: AthleteProfile,
    start: datetime.date,
    days: int = PLAN_DAYS,
    *,
    profile: NutritionProfile | None = None,
    enrolment: Any = UNSET,
) -> Targets:
    """The energy and macros of [start, start + days), with their reasons."""
    profile = profile or selectors.profile_of(athlete)
    rules = rules_of(athlete, enrolment=enrolment)
    body = body_of(athlete, start)
    bmr = body.bmr
    formula = energy.tdee(bmr, profile.activity)
    expenditure = float(profile.expenditure_kcal or formula)
    rate = (
        float(profile.rate_percent_per_week) if profile.rate_percent_per_week is not None else None
    )
    goal = energy.goal_energy(
        expenditure, body.weight_kg, profile.goal, rate, floor_kcal=round(bmr * 1.1)
    )
    average = float(profile.energy_kcal_override or goal.kcal)
    protein_per_kg = (
        profile.protein_g_override / body.weight_kg
        if profile.protein_g_override
        else float(rules.nutrition["protein_g_per_kg"])
    )
    loads = day_loads(athlete, start, days)
    out = energy.periodise_week(
        loads,
        energy_kcal=average,
        weight_kg=body.weight_kg,
        protein_g_per_kg=protein_per_kg,
        fat_fraction=float(rules.nutrition["fat_fraction"]),
        periodise=bool(rules.nutrition["carb_periodisation"]),
    )
    source = "measured" if profile.expenditure_kcal else "formula"
    expenditure_reason = (
        f"Expenditure {round(expenditure):,} kcal a day, measured from your weight trend and "
        "food log."
        if source == "measured"
        else f"Expenditure {round(expenditure):,} kcal a day: {body.bmr_formula} BMR "
        f"{round(bmr):,} × {profile.get_activity_display().lower()} activity."
    )
    goal_reason = (
        f"Your coach set {round(average):,} kcal a day on average."
        if profile.energy_kcal_override
        else goal.reason
    )
    days_out = tuple(
        energy.DayTarget(
            date=d.date,
            day_load=d.day_load,
            energy_kcal=d.energy_kcal,
            protein_g=d.protein_g,
            carbs_g=d.carbs_g,
            fat_g=d.fat_g,
            reasons=(*d.reasons, expenditure_reason, goal_reason),
        )
        for d in out
    )
    inputs = {
        "weight_kg": body.weight_kg,
        "weighed_on": body.weighed_on.isoformat(),
        "bmr_kcal": round(bmr),
        "bmr_formula": body.bmr_formula,
        "expenditure_kcal": round(expenditure),
        "expenditure_source": source,
        "goal": profile.goal,
        "average_energy_kcal": round(average),
        "protein_g_per_kg": round(protein_per_kg, 2),
        "fat_fraction": float(rules.nutrition["fat_fraction"]),
        "carb_periodisation": bool(rules.nutrition["carb_periodisation"]),
    }
    return Targets(days=days_out, inputs=inputs)


def _target_json(row: DayTarget) -> dict[str, int]:
    return {
        "energy_kcal": row.energy_kcal,
        "protein_g": row.protein_g,
        "carbs_g": row.carbs_g,
        "fat_g": row.fat_g,
    }


def _save_targets(athlete: AthleteProfile, targets: Targets) -> tuple[dict, set]:
    existing = selectors.targets_between(athlete, targets.days[0].date, targets.days[-1].date)
    rows, changed = {}, set()
    new_rows: list[DayTarget] = []
    updated: list[DayTarget] = []
    for day in targets.days:
        row = existing.get(day.date) or DayTarget(athlete=athlete, date=day.date)
        new = (day.energy_kcal, day.protein_g, day.carbs_g, day.fat_g)
        if row.pk is None or row.macros != new or row.reasons != list(day.reasons):
            if row.pk is None or row.macros != new:
                changed.add(day.date)
            row.day_load = day.day_load
            row.energy_kcal, row.protein_g, row.carbs_g, row.fat_g = new
            row.reasons = list(day.reasons)
            row.inputs = targets.inputs
            if row.pk is None:
                new_rows.append(row)  # one INSERT for all the new days, below
            else:
                updated.append(row)  # one UPDATE for all the changed days, below
        rows[day.date] = row
    if new_rows:
        DayTarget.objects.bulk_create(new_rows)
    if updated:
        now = timezone.now()
        for row in updated:
            row.updated = now  # auto_now isn't applied by bulk_update
        DayTarget.objects.bulk_update(
            updated,
            [
                "day_load",
                "energy_kcal",
                "protein_g",
                "carbs_g",
                "fat_g",
                "reasons",
                "inputs",
                "updated",
            ],
        )
    return rows, changed


# --- meal plans -----------------------------------------------------------------------


def preferences_of(profile: NutritionProfile) -> planner.Preferences:
    diets = set(profile.restrictions)
    if profile.diet != NutritionProfile.Diet.OMNIVORE:
        diets.add(profile.diet)
    return planner.Preferences(
        diets=frozenset(diets),
        allergies=frozenset(profile.allergies),
        dislikes=frozenset(profile.dislikes),
        favourites=frozenset(profile.favourites),
        meals_per_day=profile.meals_per_day,
        budget_per_day=float(profile.budget_per_day) if profile.budget_per_day else None,
        max_prep_min=profile.max_prep_min,
        skill=profile.cooking_skill,
    )


def _seed(athlete: AthleteProfile, day: datetime.date, revision: int) -> int:
    digest = hashlib.blake2b(
        f"{athlete.tenant_id}:{athlete.pk}:{day.isoformat()}:{revision}".encode(), digest_size=4
    )
    return int.from_bytes(digest.digest(), "big")


def _item_json(item: planner.Item) -> dict[str, Any]:
    return {
        "key": item.key,
        "name": item.name,
        "portions": item.portions,
        "grams": round(item.grams, 1),
        "kcal": round(item.nutrients.kcal, 1),
        "protein_g": round(item.nutrients.protein_g, 1),
        "carbs_g": round(item.nutrients.carbs_g, 1),
        "fat_g": round(item.nutrients.fat_g, 1),
        "cost": round(item.cost, 2),
        "prep_min": item.prep_min,
    }


def meal_json(meal: planner.PlannedMeal) -> dict[str, Any]:
    return {
        "slot": meal.slot,
        "kind": meal.kind,
        "locked": meal.locked,
        "items": [_item_json(item) for item in meal.items],
    }


def meal_from_json(data: Mapping[str, Any]) -> planner.PlannedMeal:
    return planner.PlannedMeal(
        slot=data["slot"],
        kind=data["kind"],
        locked=bool(data.get("locked")),
        items=tuple(
            planner.Item(
                key=i["key"],
                name=i["name"],
                portions=i["portions"],
                grams=i["grams"],
                nutrients=planner.Nutrients(i["kcal"], i["protein_g"], i["carbs_g"], i["fat_g"]),
                cost=i["cost"],
                prep_min=i["prep_min"],
            )
            for i in data["items"]
        ),
    )


def _totals_json(n: planner.Nutrients) -> dict[str, float]:
    return {
        "energy_kcal": round(n.kcal),
        "protein_g": round(n.protein_g, 1),
        "carbs_g": round(n.carbs_g, 1),
        "fat_g": round(n.fat_g, 1),
    }


def _engine_target(row: DayTarget | Mapping[str, Any]) -> planner.Target:
    t = _target_json(row) if isinstance(row, DayTarget) else row
    return planner.Target(t["energy_kcal"], t["protein_g"], t["carbs_g"], t["fat_g"])


def day_plan_of(row: PlanDay) -> planner.DayPlan:
    """The stored day as the engine's value (for swaps)."""
    meals = tuple(meal_from_json(m) for m in row.meals)
    total = planner.Nutrients()
    for meal in meals:
        total = total + meal.nutrients
    return planner.DayPlan(
        target=_engine_target(row.target),
        meals=meals,
        totals=total,
        feasible=row.feasible,
        tolerance=planner.Tolerance(**row.tolerance) if row.tolerance else planner.Tolerance(),
        relaxations=tuple(row.relaxations),
        message=row.message,
        cost=float(row.cost),
        prep_min=row.prep_min,
    )


def _store_plan(
    row: PlanDay, target: DayTarget, plan: planner.DayPlan, *, save: bool = True
) -> PlanDay:
    row.target = _target_json(target)
    row.meals = [meal_json(m) for m in plan.meals]
    row.totals = _totals_json(plan.totals)
    row.feasible = plan.feasible
    row.tolerance = {
        "energy": plan.tolerance.energy,
        "protein": plan.tolerance.protein,
        "carbs": plan.tolerance.carbs,
        "fat": plan.tolerance.fat,
    }
    row.relaxations = list(plan.relaxations)
    row.message = plan.message
    row.cost = Decimal(str(round(plan.cost, 2)))
    row.prep_min = plan.prep_min
    if save:
        row.save()
    return row


def _recipes_in(row: PlanDay) -> frozenset[str]:
    return frozenset(
        item["key"]
        for meal in row.meals
        for item in meal["items"]
        if item["key"].startswith("recipe:")
    )


def _locked_meals(row: PlanDay | None, slots: Iterable[str]) -> dict[str, planner.PlannedMeal]:
    if row is None:
        return {}
    names = set(slots)
    return {
        m["slot"]: meal_from_json(m) for m in row.meals if m.get("locked") and m["slot"] in names
    }


def _neighbour_recipes(
    plans: Mapping[datetime.date, PlanDay], day: datetime.date, variety_days: int
) -> frozenset[str]:
    out: set[str] = set()
    for offset in range(1, variety_days):
        for near in (day - datetime.timedelta(days=offset), day + datetime.timedelta(days=offset)):
            if near in plans:
                out |= _recipes_in(plans[near])
    return frozenset(out)


@dataclass
class Refresh:
    targets_changed: list[datetime.date] = field(default_factory=list)
    planned: list[datetime.date] = field(default_factory=list)
    infeasible: list[datetime.date] = field(default_factory=list)


def _plan(
    athlete: AthleteProfile,
    targets: Mapping[datetime.date, DayTarget],
    dates: Sequence[datetime.date],
    profile: NutritionProfile,
    *,
    catalogue: Catalogue,
) -> Refresh:
    """Plan `dates` one after another (each avoiding the recipes of its neighbours),
    keeping every locked meal."""
    out = Refresh()
    if not dates:
        return out
    prefs = preferences_of(profile)
    slots = [s.name for s in planner.meal_slots(prefs.meals_per_day)]
    variety = 3
    span = (
        min(dates) - datetime.timedelta(days=variety),
        max(dates) + datetime.timedelta(days=variety),
    )
    plans = selectors.plan_days_between(athlete, *span)
    candidates = catalogue.candidates()
    new_rows: list[PlanDay] = []
    for day in sorted(dates):
        row = plans.get(day) or PlanDay(athlete=athlete, date=day)
        plan = planner.plan_day(
            _engine_target(targets[day]),
            candidates,
            prefs,
            avoid=_neighbour_recipes(plans, day, variety),
            locked=_locked_meals(row if row.pk else None, slots),
            seed=_seed(athlete, day, row.revision),
        )
        # New days are inserted together after the loop (their neighbours only read
        # the meals); a day that exists is updated in place.
        plans[day] = _store_plan(row, targets[day], plan, save=row.pk is not None)
        if row.pk is None:
            new_rows.append(row)
        out.planned.append(day)
        if not plan.feasible:
            out.infeasible.append(day)
    if new_rows:
        PlanDay.objects.bulk_create(new_rows)
    return out


@transaction.atomic
def plan_still_fits(plan: PlanDay, target: Mapping[str, Any]) -> bool:
    """Whether a stored plan, planned without relaxing anything, is still inside the
    planner's default tolerance (energy ±5 %, each macro ±10 %) of `target`."""
    if not plan.feasible or plan.relaxations or not plan.totals:
        return False
    tolerance = planner.Tolerance()
    bands = {
        "energy_kcal": tolerance.energy,
        "protein_g": tolerance.protein,
        "carbs_g": tolerance.carbs,
        "fat_g": tolerance.fat,
    }
    for key, band in bands.items():
        want, got = float(target[key]), float(plan.totals.get(key, 0))
        if want <= 0 or abs(got - want) > band * want:
            return False
    return True


def nutrition_refresh(
    *,
    athlete: AthleteProfile,
    start: datetime.date,
    days: int = PLAN_DAYS,
    replan: bool = False,
    catalogue: Catalogue | None = None,
    enrolment: Any = UNSET,
) -> Refresh:
    """Targets for [start, start + days), then a plan for every day that has none, whose
    plan no longer meets its (changed) target, or all of them with `replan` (preferences
    changed). A plan that still lands inside the planner's tolerance of the new target is
    kept (a 0.1 kg weigh-in moving the target by 8 kcal doesn't reshuffle a week of
    meals); it is re-pointed at the new target. Running it twice changes nothing."""
    profile = selectors.profile_of(athlete)
    targets = compute_targets(athlete, start, days, profile=profile, enrolment=enrolment)
    rows, changed = _save_targets(athlete, targets)
    existing = selectors.plan_days_between(athlete, start, start + datetime.timedelta(days - 1))
    due, kept = [], []
    for d in sorted(rows):
        plan, target = existing.get(d), _target_json(rows[d])
        if replan or plan is None:
            due.append(d)
        elif plan.target != target:
            if plan_still_fits(plan, target):
                plan.target = target
                kept.append(plan)
            else:
                due.append(d)
    if kept:
        PlanDay.objects.bulk_update(kept, ["target"])
    refresh = _plan(athlete, rows, due, profile, catalogue=catalogue or load_catalogue())
    refresh.targets_changed = sorted(changed)
    return refresh


# --- the night ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class NutritionNightContext:
    """What a nightly chunk loads once for all its athletes (the tenant in context)."""

    catalogue: Catalogue
    consents: Mapping[int, bool]  # athlete id -> consents to nutrition_planning
    enrolments: Mapping[int, Enrolment]  # athlete id -> current one (tier, version)

    def for_athlete(self, athlete: AthleteProfile) -> dict[str, Any]:
        """`plan_nutrition`'s keyword arguments for one athlete of the chunk."""
        return {
            "catalogue": self.catalogue,
            "consented": self.consents.get(athlete.pk, False),
            "enrolment": self.enrolments.get(athlete.pk),
        }


def nutrition_night_context(athletes: Sequence[AthleteProfile]) -> NutritionNightContext:
    """Two queries for a chunk, whatever its size: consents and current enrolments."""
    ids = [a.pk for a in athletes]
    enrolments: dict[int, Enrolment] = {}
    # Same pick as `current_enrolment` (`.first()` in Meta.ordering) when there are
    # several: read in the reverse order, so the first one is kept last.
    for enrolment in (
        Enrolment.objects.filter(athlete_id__in=ids, ended__isnull=True)
        .select_related("tier", "methodology_version")
        .order_by("started", "id")
    ):
        enrolments[enrolment.athlete_id] = enrolment
    states = consent.consent_states(ids)
    return NutritionNightContext(
        catalogue=load_catalogue(),
        consents={i: state[consent.NUTRITION_PLANNING] for i, state in states.items()},
        enrolments=enrolments,
    )


def plan_nutrition(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    catalogue: Catalogue | None = None,
    enrolment: Any = UNSET,
    consented: bool | None = None,
) -> NutritionRun:
    """Tonight's nutrition for the athlete: the night of `date` plans the 7 days after it.
    Idempotent per (athlete, date): a second run returns the first one's row.
    `enrolment` (current, with tier and version, or None) and `consented` (to
    `nutrition_planning`) are what a nightly batch loaded once for its chunk."""
    if date > timezone.localdate():
        raise NutritionError(
            f"{date.isoformat()} hasn't happened yet: a night is run once its day is over.",
            code="date_in_future",
            fields={"date": ["This date is in the future."]},
        )
    existing = selectors.nutrition_run(athlete, date)
    if existing is not None:
        return existing
    if enrolment is UNSET:
        enrolment = athlete_selectors.current_enrolment(athlete)
    if enrolment is None:
        raise NotEnrolled("The athlete is not enrolled on a tier, so there is no plan to fuel.")
    run = NutritionRun(athlete=athlete, date=date)
    # Consent gate (issue 8): without `nutrition_planning` the night is claimed with the
    # reason in its notes and nothing else is written.
    if consented is None:
        consented = consent.has_consent(athlete, consent.NUTRITION_PLANNING)
    if not consented:
        run.notes = [consent.skipped_reason(consent.NUTRITION_PLANNING)]
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        return NutritionRun.objects.get(athlete=athlete, date=date)
    if not consented:
        return run
    with transaction.atomic():
        estimate = expenditure_update(athlete=athlete, date=date, enrolment=enrolment)
        start = date + datetime.timedelta(days=1)
        refresh = nutrition_refresh(
            athlete=athlete, start=start, catalogue=catalogue, enrolment=enrolment
        )
        end = start + datetime.timedelta(days=PLAN_DAYS - 1)
        if selectors.shopping_list_row(athlete, start, end) is None:
            ShoppingList(athlete=athlete, start=start, end=end).save()
        run.expenditure = estimate
        run.targets_changed = [d.isoformat() for d in refresh.targets_changed]
        run.days_planned = [d.isoformat() for d in refresh.planned]
        run.infeasible = [d.isoformat() for d in refresh.infeasible]
        if refresh.infeasible:
            run.notes = [
                f"No plan fits {d:%a %-d %b}: see the day's message." for d in refresh.infeasible
            ]
        run.save(
            update_fields=["expenditure", "targets_changed", "days_planned", "infeasible", "notes"]
        )
    return run


# --- adaptive expenditure --------------------------------------------------------------


def _slope_kg_per_week(mean_intake: float, adaptive: float) -> float:
    return (mean_intake - adaptive) / energy.KCAL_PER_KG * 7


def _energy_sentence(
    before: float, after: float, mean_intake: float, slope_week: float, measured: float
) -> str:
    moved = (
        f"stayed within {abs(slope_week):.2f} kg a week"
        if abs(slope_week) < 0.05
        else f"{'fell' if slope_week < 0 else 'rose'} {abs(slope_week):.2f} kg a week"
    )
    held = (
        f"; the change is held to {MAX_CHANGE_FRACTION:.0%} a week"
        if round(after) != round(measured)
        else ""
    )
    return (
        f"Energy expenditure {round(before):,} → {round(after):,} kcal a day: over the last "
        f"{ADAPTIVE_WINDOW_DAYS} days you logged {round(mean_intake):,} kcal a day on average "
        f"while your weight {moved}, so you burn about {round(measured):,} kcal a day{held}."
    )


def expenditure_update(
    *, athlete: AthleteProfile, date: datetime.date, enrolment: Any = UNSET
) -> ExpenditureEstimate | None:
    """Once a week, read expenditure from the last 28 days (SCIENCE.md §4 `adaptive_tdee`)
    and, when it differs from the figure in use by more than noise, propose the change as
    an energy `Adjustment`. Returns the new reading, or None when the last is < 7 days old."""
    last = selectors.latest_estimate(athlete)
    if last is not None and (date - last.date).days < ESTIMATE_EVERY_DAYS:
        return None
    start = date - datetime.timedelta(days=ADAPTIVE_WINDOW_DAYS - 1)
    weights = athlete_selectors.weigh_ins(athlete, start, date)
    intake = {d: t["energy_kcal"] for d, t in selectors.intake_by_day(athlete, start, date).items()}
    body = body_of(athlete, date)
    profile = selectors.profile_of(athlete)
    formula = energy.tdee(body.bmr, profile.activity)
    previous = float(profile.expenditure_kcal or formula)
    adaptive = energy.adaptive_tdee(weights, intake)
    estimate = ExpenditureEstimate(
        athlete=athlete,
        date=date,
        window_days=ADAPTIVE_WINDOW_DAYS,
        weigh_ins=len(weights),
        intake_days=len(intake),
        formula_kcal=round(formula, 1),
        previous_kcal=round(previous, 1),
    )
    if adaptive is None:
        estimate.note = (
            f"Not enough data yet: {len(weights)} weigh-ins and {len(intake)} logged days in "
            f"the last {ADAPTIVE_WINDOW_DAYS} (it needs 10 of each over at least 14 days)."
        )
        estimate.save()
        return estimate
    mean_intake = sum(intake.values()) / len(intake)
    slope_week = _slope_kg_per_week(mean_intake, adaptive)
    estimate.adaptive_kcal = round(adaptive, 1)
    estimate.mean_intake_kcal = round(mean_intake, 1)
    estimate.slope_kg_per_week = round(slope_week, 3)
    limit = previous * MAX_CHANGE_FRACTION
    proposed = min(max(adaptive, previous - limit), previous + limit)
    clipped = ["max_weekly_change"] if proposed != adaptive else []
    below_bmr = adaptive < body.bmr
    if abs(round(proposed) - previous) < MIN_CHANGE_KCAL:
        estimate.note = (
            f"Measured {round(adaptive):,} kcal a day, within {MIN_CHANGE_KCAL} kcal of the "
            f"{round(previous):,} in use: no change."
        )
        estimate.save()
        return estimate
    rules = rules_of(athlete, enrolment=enrolment)
    sentence = _energy_sentence(previous, proposed, mean_intake, slope_week, adaptive)
    if below_bmr:
        sentence += (
            f" That is below your resting expenditure ({round(body.bmr):,} kcal), which "
            "usually means meals went unlogged: your coach checks it first."
        )
    adjustment = program_services.adjustment_propose(
        athlete=athlete,
        subject=Adjustment.Subject.ENERGY,
        effective_date=date + datetime.timedelta(days=1),
        rule=ENERGY_RULE,
        before={"expenditure_kcal": profile.expenditure_kcal},
        after={"expenditure_kcal": round(proposed)},
        changes=["energy"],
        inputs={
            "window_days": ADAPTIVE_WINDOW_DAYS,
            "weigh_ins": len(weights),
            "intake_days": len(intake),
            "mean_intake_kcal": round(mean_intake),
            "slope_kg_per_week": round(slope_week, 3),
            "measured_kcal": round(adaptive),
            "formula_kcal": round(formula),
        },
        clipped_by=clipped,
        magnitude_percent=round(abs(proposed - previous) / previous * 100, 1),
        alert=below_bmr,
        sentence=sentence,
        autonomy=rules.autonomy or "approve",
        threshold=rules.threshold,
    )
    estimate.adjustment = adjustment
    estimate.note = sentence
    estimate.save()
    return estimate


def _energy_current(adjustment: Adjustment) -> dict[str, Any]:
    profile = selectors.profile_for_update(adjustment.athlete)
    return {"expenditure_kcal": profile.expenditure_kcal if profile else None}


def _energy_write(adjustment: Adjustment, state: Mapping[str, Any]) -> None:
    """Set the figure, then re-target and re-plan the days it acts on."""
    profile = selectors.profile_for_update(adjustment.athlete)
    if profile is None:
        profile = NutritionProfile(athlete=adjustment.athlete)
    profile.expenditure_kcal = state["expenditure_kcal"]
    profile.save()
    start = max(adjustment.effective_date, timezone.localdate())
    try:
        nutrition_refresh(athlete=adjustment.athlete, start=start)
    except NoBodyWeight:
        pass  # nothing to re-target yet; the figure waits for the first weigh-in


def _energy_edit(adjustment: Adjustment, after: Any) -> subjects.Edit:
    value = after.get("expenditure_kcal") if isinstance(after, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 800 <= value <= 8000:
        raise NutritionError(
            '`after` must be {"expenditure_kcal": 800–8000}.',
            fields={"after": ["expenditure_kcal must be a number from 800 to 8000."]},
        )
    before = adjustment.before.get("expenditure_kcal") or adjustment.inputs.get("formula_kcal")
    before = float(before or value)
    return subjects.Edit(
        after={"expenditure_kcal": round(value)},
        changes=["energy"],
        magnitude_percent=round(abs(value - before) / before * 100, 1),
        description=f"Energy expenditure {round(before):,} → {round(value):,} kcal a day",
    )


ENERGY_SUBJECT = subjects.Subject(current=_energy_current, write=_energy_write, edit=_energy_edit)


# --- preferences ----------------------------------------------------------------------


def _unknown(values: Iterable[str], known: Iterable[str]) -> list[str]:
    known = set(known)
    return sorted({v for v in values if v not in known})


def _check_preferences(
    data: Mapping[str, Any], athlete: AthleteProfile, catalogue: Catalogue
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "allergies" in data and (bad := _unknown(data["allergies"], ALLERGENS)):
        errors["allergies"] = [f"Unknown allergen: {', '.join(bad)}. Use: {', '.join(ALLERGENS)}."]
    if "restrictions" in data and (bad := _unknown(data["restrictions"], RESTRICTIONS)):
        errors["restrictions"] = [
            f"Unknown restriction: {', '.join(bad)}. Use: {', '.join(RESTRICTIONS)}."
        ]
    if "dislikes" in data and (bad := _unknown(data["dislikes"], catalogue.foods)):
        errors["dislikes"] = [f"Unknown food: {', '.join(bad)}."]
    if "favourites" in data:
        keys = {f"food:{s}" for s in catalogue.foods} | {f"recipe:{s}" for s in catalogue.recipes}
        if bad := _unknown(data["favourites"], keys):
            errors["favourites"] = [
                f"Unknown food or recipe: {', '.join(bad)} (write food:<slug> or recipe:<slug>)."
            ]
    rules = rules_of(athlete)
    diet = data.get("diet")
    offered = rules.nutrition.get("diet_styles", [])
    if diet and diet != NutritionProfile.Diet.OMNIVORE and diet not in offered:
        errors["diet"] = [
            f"Your coach's method doesn't offer a {diet} plan; it offers: {', '.join(offered)}."
        ]
    return errors


def _check_overrides(profile: NutritionProfile, athlete: AthleteProfile) -> dict[str, list[str]]:
    """A coach's fixed protein must fit the athlete and the energy it comes with."""
    if not profile.protein_g_override and not profile.energy_kcal_override:
        return {}
    try:
        body = body_of(athlete, timezone.localdate())
    except NoBodyWeight as exc:
        return {"protein_g_override": [exc.message]}
    errors: dict[str, list[str]] = {}
    low, high = energy.PROTEIN_G_PER_KG_RANGE
    protein = profile.protein_g_override
    if protein:
        per_kg = protein / body.weight_kg
        if not low <= per_kg <= high:
            errors["protein_g_override"] = [
                f"{protein} g of protein is {per_kg:.1f} g/kg for a {body.weight_kg:g} kg "
                f"client; it must be {low}–{high} g/kg ({round(low * body.weight_kg)}–"
                f"{round(high * body.weight_kg)} g)."
            ]
    kcal = profile.energy_kcal_override
    if kcal:
        lo_e, hi_e = energy.ENERGY_RANGE
        if not lo_e <= kcal <= hi_e:
            errors["energy_kcal_override"] = [f"Energy must be {lo_e:,.0f}–{hi_e:,.0f} kcal."]
        else:
            grams = protein or round(1.8 * body.weight_kg)
            fat_min = energy.FAT_FRACTION_RANGE[0] * kcal
            carb_floor = energy.carb_band("rest")[0] * body.weight_kg * 4
            needed = grams * 4 + fat_min + carb_floor
            if needed > kcal:
                errors.setdefault("energy_kcal_override", []).append(
                    f"{kcal:,} kcal can't hold {grams} g of protein ({grams * 4:,} kcal), the "
                    f"minimum {energy.FAT_FRACTION_RANGE[0]:.0%} fat ({round(fat_min):,} kcal) "
                    f"and the rest-day carbohydrate floor of {energy.carb_band('rest')[0]:g} "
                    f"g/kg ({round(carb_floor):,} kcal): raise energy to at least "
                    f"{round(needed):,} kcal or lower protein."
                )
    return errors


PREFERENCE_FIELDS = (
    "diet",
    "restrictions",
    "allergies",
    "dislikes",
    "favourites",
    "meals_per_day",
    "budget_per_day",
    "max_prep_min",
    "cooking_skill",
    "goal",
    "rate_percent_per_week",
    "activity",
    "energy_kcal_override",
    "protein_g_override",
)


def preferences_update(
    *, athlete: AthleteProfile, data: Mapping[str, Any], replan_from: datetime.date | None = None
) -> NutritionProfile:
    """Save the client's preferences (all or nothing) and, when a plan exists, re-plan the
    days from `replan_from` (default tomorrow) so hard rules take effect at once."""
    catalogue = load_catalogue()
    unknown = sorted(set(data) - set(PREFERENCE_FIELDS))
    if unknown:
        raise NutritionError(
            f"Unknown field: {', '.join(unknown)}.",
            fields={name: ["Unknown field."] for name in unknown},
        )
    errors = _check_preferences(data, athlete, catalogue)
    with transaction.atomic():
        profile = selectors.profile_for_update(athlete) or NutritionProfile(athlete=athlete)
        for name, value in data.items():
            setattr(profile, name, sorted(set(value)) if isinstance(value, list) else value)
        goal, rate = profile.goal, profile.rate_percent_per_week
        if rate is not None:
            low, high = energy.RATE_RANGES[goal]
            if not low <= float(rate) <= high:
                errors["rate_percent_per_week"] = [
                    f"For {goal!r} the rate must be {low}–{high} % of body weight a week."
                    if goal != "maintain"
                    else "Leave the rate empty when maintaining."
                ]
        errors.update(_check_overrides(profile, athlete))
        if errors:
            first = next(iter(errors.values()))[0]
            raise NutritionError(first, fields=errors)
        profile.save()
        start = replan_from or timezone.localdate() + datetime.timedelta(days=1)
        if selectors.plan_days_between(athlete, start, start + datetime.timedelta(days=60)):
            nutrition_refresh(athlete=athlete, start=start, replan=True, catalogue=catalogue)
    return profile


# --- changing a day -------------------------------------------------------------------


def _day_for_update(athlete: AthleteProfile, date: datetime.date) -> PlanDay:
    row = selectors.plan_day_for_update(athlete, date)
    if row is None:
        raise PlanMissing(f"No plan for {date.isoformat()}.")
    return row


def _editable(row: PlanDay) -> None:
    if row.date < timezone.localdate():
        raise NutritionError(
            "That day is over: only today's and later plans can change.", code="day_past"
        )
    if not row.feasible:
        raise NutritionError(
            "This day has no plan to change: " + (row.message or "no plan fits."),
            code="no_plan",
        )


def _slot_of(row: PlanDay, slot: str) -> dict[str, Any]:
    for meal in row.meals:
        if meal["slot"] == slot:
            return meal
    names = ", ".join(m["slot"] for m in row.meals)
    raise NutritionError(
        f"No meal {slot!r} on this day; it has: {names}.",
        fields={"slot": [f"Use one of: {names}."]},
    )


def _neighbours_of(row: PlanDay) -> frozenset[str]:
    plans = selectors.plan_days_between(
        row.athlete, row.date - datetime.timedelta(days=2), row.date + datetime.timedelta(days=2)
    )
    plans.pop(row.date, None)
    return _neighbour_recipes(plans, row.date, 3)


def swap_options(row: PlanDay, slot: str, *, limit: int = 5) -> tuple[planner.PlannedMeal, ...]:
    """Meals that can replace `slot` while the day stays within its tolerance."""
    _slot_of(row, slot)
    profile = selectors.profile_of(row.athlete)
    return planner.swap_options(
        day_plan_of(row),
        slot,
        load_catalogue().candidates(),
        preferences_of(profile),
        avoid=_neighbours_of(row),
        limit=limit,
    )


@transaction.atomic
def meal_swap(*, athlete: AthleteProfile, date: datetime.date, slot: str, key: str) -> PlanDay:
    """Replace a meal with the swap option whose main item is `key`."""
    row = _day_for_update(athlete, date)
    _editable(row)
    options = swap_options(row, slot, limit=12)
    choice = next((m for m in options if m.items and m.items[0].key == key), None)
    if choice is None:
        offered = ", ".join(m.items[0].key for m in options) or "none"
        raise NutritionError(
            f"{key} isn't a swap that keeps the day on target; the options are: {offered}.",
            fields={"key": [f"Choose one of: {offered}."]},
        )
    locked = next(m for m in row.meals if m["slot"] == slot).get("locked", False)
    row.meals = [
        meal_json(planner.PlannedMeal(slot, choice.kind, choice.items, locked))
        if m["slot"] == slot
        else m
        for m in row.meals
    ]
    return _retotal(row)


def _retotal(row: PlanDay) -> PlanDay:
    plan = day_plan_of(row)
    row.totals = _totals_json(plan.totals)
    row.cost = Decimal(str(round(sum(i.cost for m in plan.meals for i in m.items), 2)))
    row.prep_min = sum(i.prep_min for m in plan.meals for i in m.items)
    row.save()
    return row


@transaction.atomic
def meal_lock(*, athlete: AthleteProfile, date: datetime.date, slot: str, locked: bool) -> PlanDay:
    """A locked meal stays when the day is re-planned (by the client or the night)."""
    row = _day_for_update(athlete, date)
    _editable(row)
    _slot_of(row, slot)
    row.meals = [{**m, "locked": locked} if m["slot"] == slot else m for m in row.meals]
    row.save(update_fields=["meals", "updated"])
    return row


@transaction.atomic
def day_replan(*, athlete: AthleteProfile, date: datetime.date) -> PlanDay:
    """New meals for the unlocked slots (a new seed each time it's asked)."""
    row = _day_for_update(athlete, date)
    if row.date < timezone.localdate():
        raise NutritionError("That day is over: only today's and later plans can change.")
    target = selectors.targets_between(athlete, date, date).get(date)
    if target is None:
        raise PlanMissing(f"No target for {date.isoformat()}.")
    row.revision += 1
    row.save(update_fields=["revision", "updated"])
    _plan(
        athlete, {date: target}, [date], selectors.profile_of(athlete), catalogue=load_catalogue()
    )
    row.refresh_from_db()
    return row


# --- food log -------------------------------------------------------------------------


def food_log_add(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    key: str,
    grams: float | None = None,
    portions: float | None = None,
    portion: str | None = None,
    slot: str = "",
) -> FoodLogEntry:
    """Log a food or recipe by grams, or by portions (of the food's named `portion`, e.g.
    "1 cup", else its default one; of a recipe's serving); the entry keeps the numbers it
    counted for. What someone ate is health data: it needs their consent, like a check-in."""
    consent.consent_require(athlete, consent.HEALTH_DATA)
    catalogue = load_catalogue()
    errors: dict[str, list[str]] = {}
    if date > timezone.localdate():
        errors["date"] = ["You can't log food for a day that hasn't come yet."]
    if (grams is None) == (portions is None):
        errors["grams"] = ["Give grams or portions (one of them)."]
    kind, _, slug = key.partition(":")
    unit_grams = None
    name = ""
    if kind == "food" and slug in catalogue.foods:
        food = catalogue.food(slug)
        unit_grams, name = food.default_portion[1], food.name
        if portion:
            sizes = dict(food.portions)
            if portion not in sizes:
                errors["portion"] = [f"{food.name} comes in: {', '.join(sizes)}."]
            else:
                unit_grams = sizes[portion]
    elif kind == "recipe" and slug in catalogue.recipes:
        recipe = catalogue.recipe(slug)
        unit_grams, name = recipe.grams_per_serving, recipe.name
        if portion:
            errors["portion"] = ["A recipe is logged by servings: leave `portion` empty."]
    else:
        errors["key"] = [f"Unknown food or recipe {key!r} (write food:<slug> or recipe:<slug>)."]
    if grams is not None and not 1 <= grams <= 5000:
        errors["grams"] = ["Grams must be 1–5000."]
    if portions is not None and not 0.25 <= portions <= 20:
        errors["portions"] = ["Portions must be 0.25–20."]
    if errors:
        raise NutritionError(next(iter(errors.values()))[0], fields=errors)
    assert unit_grams is not None
    amount = float(grams) if grams is not None else float(portions) * unit_grams
    if kind == "food":
        n = catalogue.food(slug).nutrients(amount)
    else:
        n = catalogue.recipe(slug).per_serving.scaled(amount / unit_grams)
    entry = FoodLogEntry(
        athlete=athlete,
        date=date,
        slot=slot,
        key=key,
        name=name,
        grams=Decimal(str(round(amount, 1))),
        portions=Decimal(str(portions)) if portions is not None else None,
        energy_kcal=round(n.kcal, 1),
        protein_g=round(n.protein_g, 1),
        carbs_g=round(n.carbs_g, 1),
        fat_g=round(n.fat_g, 1),
        fibre_g=round(n.fibre_g, 1),
    )
    entry.save()
    return entry


def food_log_delete(*, entry: FoodLogEntry) -> None:
    entry.delete()


# --- shopping -------------------------------------------------------------------------


@transaction.atomic
def shopping_tick(
    *, athlete: AthleteProfile, start: datetime.date, end: datetime.date, food: str, ticked: bool
) -> ShoppingList:
    """Tick an item off (already at home or bought); ticks survive re-planning."""
    if food not in load_catalogue().foods:
        raise NutritionError(f"Unknown food {food!r}.", fields={"food": ["Unknown food."]})
    row, _ = ShoppingList.objects.select_for_update().get_or_create(
        athlete=athlete, start=start, end=end, defaults={"tenant": athlete.tenant}
    )
    items = set(row.ticked)
    items = items | {food} if ticked else items - {food}
    row.ticked = sorted(items)
    row.save(update_fields=["ticked", "updated"])
    return row
