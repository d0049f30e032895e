"""Training blocks: a coach's methodology, an athlete and an assessment in, dated sessions
with sets, loads and targets out, each carrying the rule, inputs and sentence behind it.

The methodology is the validated rules document of docs/methodology-rules.md (read here
with `.get` and the contract's defaults, so a partial document still plans). Loads follow
SCIENCE.md §1 (`load_for`, the RTS chart), endurance load §2 (`tss`, `run_tss`,
`session_rpe_load`); zones follow the contract's zone table.

Conventions:
- Block week k covers `start_date + 7(k−1)` up to the day before `start_date + 7k`; every
  block week holds each weekday once, so each week has the same training days.
- Strength templates cycle over the training days in date order across the whole block
  (A B C A B C …). The first time a template is planned its slots are resolved to
  exercises once, so a template keeps its exercises for the whole block.
- `set_index` runs 1…n through a session in the order the sets are done.
- Loads of `per_hand` exercises (dumbbells, kettlebells) are per hand.
- Deloads (rule "fixed"): the last week of every `every_n_weeks`. A deload session is the
  same template as planned in the preceding build week, with sets cut by
  `volume_percent` (and by the week's multiplier if that cuts deeper) and the same
  intensity, less `intensity_percent` applied to the e1RM the loads come from.
- The methodology's discipline decides what is planned. A "hybrid" athlete gets the
  methodology's discipline (strength or endurance) and the block's sentence says so;
  combining both in one block needs a methodology format that holds both.
- Next block: call `generate_block` again with `assessment_from_logs(...)`, which swaps in
  working e1RMs (`working_e1rm`) from the logged sets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from programs.engine.library import EnduranceSessionType, ExerciseInfo, Library
from programs.engine.load import run_tss, session_rpe_load, tss
from programs.engine.strength import (
    CHART_MAX_REPS,
    CHART_MAX_RPE,
    CHART_MIN_RPE,
    load_for,
    round_to_increment,
    rpe_percent,
    working_e1rm,
)

DISCIPLINES = ("strength", "endurance", "hybrid")
METHOD_DISCIPLINES = ("strength", "endurance")
STRENGTH_MODELS = ("linear", "double_progression", "rpe_top_set_backoff", "percentage_waves")
ENDURANCE_MODELS = ("polarised", "pyramidal", "threshold")
MIN_SESSION_MINUTES = 20

# Session-length estimate (minutes, rest included). Warm-up covers a general warm-up and
# the ramp-up sets of the first main lift.
WARMUP_MIN = 10
MAIN_SET_MIN = 3
ACCESSORY_SET_MIN = 2
ACCESSORY_DEFAULT = {"sets": 3, "reps": 10, "rpe": 7.5}
MAX_BUILD_RPE = 9.5  # RPE-progressing models stop adding effort here (one rep in reserve)

DEFAULT_PARAMS: dict[str, dict[str, object]] = {
    "linear": {"sets": 3, "reps": 5, "start_rpe": 7.5, "load_step_kg": 2.5},
    "double_progression": {"sets": 3, "rep_range": [8, 12], "rpe": 8, "load_step_kg": 2.5},
    "rpe_top_set_backoff": {
        "top_set_reps": 3,
        "top_set_rpe": 8,
        "backoff_sets": 3,
        "backoff_reps": 5,
        "backoff_percent_of_top": 0.90,
    },
    "percentage_waves": {
        "weeks": [
            {"sets": 4, "reps": 6, "percent_1rm": 0.75},
            {"sets": 4, "reps": 5, "percent_1rm": 0.80},
            {"sets": 4, "reps": 3, "percent_1rm": 0.85},
        ]
    },
}
ZONE_DISTRIBUTIONS = {
    "polarised": {"z1": 0.80, "z2": 0.05, "z3": 0.15},
    "pyramidal": {"z1": 0.75, "z2": 0.20, "z3": 0.05},
    "threshold": {"z1": 0.60, "z2": 0.35, "z3": 0.05},
}
ENDURANCE_DEFAULTS = {
    "weekly_minutes": 300,
    "weekly_ramp_percent": 5,
    "sport": "run",
    "long_session_fraction": 0.30,
}
# Zones of the 3-zone model's z3 sessions, in turn: polarised work sits at the top.
HARD_ZONES = {"polarised": (5, 4, 5), "pyramidal": (4, 5, 4), "threshold": (4, 4, 4)}
MAX_HARD_SESSIONS = 3
MIN_ZONE_BLOCK_MIN = 20  # less weekly time than this in a zone isn't worth its own session
MIN_EASY_MIN = 20
RECOVERY_BELOW_MIN = 30  # easy sessions shorter than this are zone 1 recovery

# The contract's zone table: fractions of HR reserve, FTP, threshold speed.
HR_ZONES = {1: (0.50, 0.60), 2: (0.60, 0.70), 3: (0.70, 0.80), 4: (0.80, 0.90), 5: (0.90, 1.00)}
POWER_ZONES = {
    1: (None, 0.55),
    2: (0.56, 0.75),
    3: (0.76, 0.90),
    4: (0.91, 1.05),
    5: (1.06, 1.20),
}
PACE_ZONES = {
    1: (None, 0.78),
    2: (0.78, 0.88),
    3: (0.88, 0.95),
    4: (0.95, 1.02),
    5: (1.02, 1.10),
}
# Zone 1 has no lower bound in the table; for planned TSS we assume this typical intensity.
ZONE1_ASSUMED = {"w": 0.50, "m_s": 0.72}
# Expected session RPE (CR-10) by zone, for the sRPE estimate when no threshold is known.
ZONE_SESSION_RPE = {1: 2, 2: 3, 3: 5, 4: 7, 5: 8}
EQUIPMENT_NAMES = {"trap_bar": "trap bar", "pullup_bar": "pull-up bar", "bands": "bands"}


# Public dataclasses ------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Derivation:
    rule: str
    inputs: Mapping[str, object]  # JSON-serialisable
    sentence: str


@dataclass(frozen=True, kw_only=True)
class AthleteInput:
    sex: str
    birth_date: date
    discipline: str  # strength | endurance | hybrid
    available_weekdays: tuple[int, ...]  # 0 = Monday
    session_minutes: int
    equipment: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class AssessmentInput:
    e1rm_kg: Mapping[str, float] = field(default_factory=dict)  # exercise slug → kg
    body_weight_kg: float | None = None
    ftp_w: float | None = None
    threshold_speed_m_s: float | None = None
    hr_max_bpm: int | None = None
    hr_rest_bpm: int | None = None


@dataclass(frozen=True, kw_only=True)
class PlannedSetPlan:
    exercise_slug: str
    set_index: int
    reps: int  # seconds or metres for exercises whose dose_unit is "s" or "m"
    target_rpe: float | None
    percent_1rm: float | None
    load_kg: float | None  # per hand for per_hand exercises
    derivation: Derivation


@dataclass(frozen=True, kw_only=True)
class PlannedSessionPlan:
    date: date
    week: int
    is_deload: bool
    kind: str  # strength | run | ride
    name: str
    duration_min: int
    sets: tuple[PlannedSetPlan, ...]
    endurance_type: str | None
    zone: int | None
    target_low: float | None
    target_high: float | None
    target_unit: str | None  # bpm | w | m_s
    planned_tss: float | None
    notes: tuple[str, ...]
    derivation: Derivation


@dataclass(frozen=True, kw_only=True)
class BlockPlan:
    start_date: date
    weeks: int
    sessions: tuple[PlannedSessionPlan, ...]
    derivation: Derivation


# Rules -------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class _Rules:
    discipline: str
    model: str
    params: Mapping[str, object]
    increment: float
    templates: tuple[Mapping[str, object], ...]
    weeks: int
    deload_rule: str
    deload_every: int
    deload_volume_percent: float
    deload_intensity_percent: float
    multipliers: tuple[float, ...] | None
    floor: float
    ceiling: float
    zone_floor: int
    zone_ceiling: int
    frozen_mondays: frozenset[date]
    protected: frozenset[str]

    def multiplier(self, week: int) -> float:
        if not self.multipliers or week > len(self.multipliers):
            return 1.0
        return float(self.multipliers[week - 1])

    def is_deload(self, week: int) -> bool:
        return (
            self.deload_rule == "fixed" and self.deload_every >= 2 and week % self.deload_every == 0
        )

    def deload_factor(self, week: int) -> float:
        """Volume of a deload week relative to the build week before it."""
        factor = 1 + self.deload_volume_percent / 100
        if self.multipliers:
            previous = self.multiplier(week - 1)
            if previous > 0:
                factor = min(factor, self.multiplier(week) / previous)
        return max(0.0, factor)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _read_rules(doc: Mapping[str, object]) -> _Rules:
    if not isinstance(doc, Mapping):
        raise ValueError("the methodology rules must be a mapping")
    progression = doc.get("progression") or {}
    model = progression.get("model", "linear")
    discipline = doc.get("discipline") or ("endurance" if model in ENDURANCE_MODELS else "strength")
    if discipline not in METHOD_DISCIPLINES:
        raise ValueError(
            f"unknown methodology discipline {discipline!r}; use strength or endurance"
        )
    if discipline == "strength" and model not in STRENGTH_MODELS:
        raise ValueError(
            f"progression.model {model!r} is not a strength model ({', '.join(STRENGTH_MODELS)})"
        )
    if discipline == "endurance" and model not in ENDURANCE_MODELS:
        raise ValueError(
            f"endurance needs an endurance progression model ({', '.join(ENDURANCE_MODELS)}), "
            f"got {model!r}"
        )
    params = {**DEFAULT_PARAMS.get(model, {}), **(progression.get("params") or {})}
    if discipline == "endurance":
        params = {**ENDURANCE_DEFAULTS, **params}
        params.setdefault("zone_distribution", ZONE_DISTRIBUTIONS[model])
        if params["sport"] not in ("run", "ride"):
            raise ValueError(f"endurance sport must be run or ride, got {params['sport']!r}")
    templates = tuple(doc.get("sessions") or ())
    if discipline == "strength" and not templates:
        raise ValueError("a strength methodology needs at least one session template")
    block = doc.get("block") or {}
    weeks = int(block.get("weeks", 4))
    if weeks < 1:
        raise ValueError(f"block.weeks must be ≥ 1, got {weeks}")
    deload = block.get("deload") or {}
    guard = doc.get("guardrails") or {}
    multipliers = block.get("week_volume_multipliers")
    frozen = set()
    for value in guard.get("frozen_weeks") or ():
        try:
            frozen.add(_monday(date.fromisoformat(str(value))))
        except ValueError as exc:
            raise ValueError(f"guardrails.frozen_weeks: {value!r} is not an ISO date") from exc
    return _Rules(
        discipline=discipline,
        model=model,
        params=params,
        increment=float(progression.get("plate_increment_kg", 2.5)),
        templates=templates,
        weeks=weeks,
        deload_rule=deload.get("rule", "fixed"),
        deload_every=int(deload.get("every_n_weeks", 4)),
        deload_volume_percent=float(deload.get("volume_percent", -40)),
        deload_intensity_percent=float(deload.get("intensity_percent", 0)),
        multipliers=tuple(float(m) for m in multipliers) if multipliers else None,
        floor=float(guard.get("intensity_floor_1rm", 0.5)),
        ceiling=float(guard.get("intensity_ceiling_1rm", 0.95)),
        zone_floor=int(guard.get("zone_floor", 1)),
        zone_ceiling=int(guard.get("zone_ceiling", 5)),
        frozen_mondays=frozenset(frozen),
        protected=frozenset(guard.get("protected_exercises") or ()),
    )


def _check_athlete(profile: AthleteInput) -> tuple[int, ...]:
    if profile.discipline not in DISCIPLINES:
        raise ValueError(
            f"unknown discipline {profile.discipline!r}; use one of {', '.join(DISCIPLINES)}"
        )
    days = tuple(sorted(set(profile.available_weekdays)))
    if not days:
        raise ValueError("the athlete has no available training days")
    bad = [d for d in days if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6]
    if bad:
        raise ValueError(f"available weekdays are 0 (Monday) to 6 (Sunday), got {bad}")
    if profile.session_minutes < MIN_SESSION_MINUTES:
        raise ValueError(
            f"sessions need at least {MIN_SESSION_MINUTES} minutes, got {profile.session_minutes}"
        )
    return days


# Formatting --------------------------------------------------------------------------------
def _num(x: float) -> str:
    return f"{round(x, 1):g}"


def _pct(x: float) -> str:
    return f"{math.floor(x * 100 + 0.5)} %"


def _pct_range(low: float, high: float) -> str:
    return f"{math.floor(low * 100 + 0.5)}–{_pct(high)}"


def _reserve(rpe: float) -> str:
    left = 10 - rpe
    if left <= 0:
        return "no more times (a true max effort)"
    if left == int(left):
        return f"{int(left)} more time{'s' if left != 1 else ''}"
    return f"{int(left)}–{int(left) + 1} more times"


def _equipment_phrase(items: Sequence[str]) -> str:
    names = [EQUIPMENT_NAMES.get(i, i) for i in items]
    if len(names) == 1:
        return f"no {names[0]}"
    return "no " + ", ".join(names[:-1]) + " or " + names[-1]


PROPER_WORDS = ("Arnold", "Bulgarian", "Copenhagen", "Nordic", "Pallof", "Pendlay", "Romanian")


def _lower_first(name: str) -> str:
    """ "Back squat" → "back squat" inside a sentence; a name that opens with a proper noun
    ("Bulgarian split squat") keeps its capital."""
    if name.split(" ", 1)[0] in PROPER_WORDS or name[1:2].isupper():
        return name
    return name[:1].lower() + name[1:]


def _half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _chart_rpe(value: float) -> float:
    return min(CHART_MAX_RPE, max(CHART_MIN_RPE, round(float(value) * 2) / 2))


# e1RM resolution ---------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class E1rmEstimate:
    """The e1RM a load comes from, how it was found (inputs) and how to say so."""

    value_kg: float | None  # per hand for per_hand exercises
    phrase: str  # "your 140 kg e1RM", "an estimated 56 kg e1RM (0.4 × your 140 kg …)"
    inputs: Mapping[str, object]


def _assessed(assessment: AssessmentInput, slug: str) -> float | None:
    value = (assessment.e1rm_kg or {}).get(slug)
    if value is None:
        return None
    value = float(value)
    return value if value > 0 and math.isfinite(value) else None


def resolve_e1rm(
    exercise: ExerciseInfo, assessment: AssessmentInput, library: Library
) -> E1rmEstimate:
    """The e1RM a load is computed from: the athlete's own for this exercise, else the group
    reference's (assessed, or inferred from another assessed lift of the group) × ratio."""
    if not exercise.loadable or exercise.dose_unit != "reps":
        return E1rmEstimate(value_kg=None, phrase="", inputs={"e1rm_source": "not loadable"})
    own = _assessed(assessment, exercise.slug)
    if own is not None:
        return E1rmEstimate(
            value_kg=own,
            phrase=f"your {_num(own)} kg e1RM",
            inputs={"e1rm_source": "assessed", "assessed_e1rm_kg": own},
        )
    reference = library.reference_for(exercise.substitution_group)
    if exercise.e1rm_ratio is None or reference is None:
        return E1rmEstimate(value_kg=None, phrase="", inputs={"e1rm_source": "none"})
    ref_value = _assessed(assessment, reference.slug)
    via = ""
    source: dict[str, object] = {"reference": reference.slug}
    if ref_value is None:
        known = [
            e
            for e in library.group(exercise.substitution_group)
            if e.e1rm_ratio and _assessed(assessment, e.slug) is not None
        ]
        if not known:
            return E1rmEstimate(value_kg=None, phrase="", inputs={"e1rm_source": "none"})
        anchor = min(known, key=lambda e: (abs(1 - e.e1rm_ratio), e.slug))
        anchor_value = _assessed(assessment, anchor.slug)
        ref_value = anchor_value / anchor.e1rm_ratio
        via = (
            f", from your {_num(anchor_value)} kg {_lower_first(anchor.name)} e1RM "
            f"÷ {anchor.e1rm_ratio:g}"
        )
        source.update(
            anchor=anchor.slug, anchor_e1rm_kg=anchor_value, anchor_ratio=anchor.e1rm_ratio
        )
    value = ref_value * exercise.e1rm_ratio
    hand = " per hand" if exercise.per_hand else ""
    phrase = (
        f"an estimated {_num(value)} kg{hand} e1RM ({exercise.e1rm_ratio:g} × "
        f"{'your' if not via else 'an estimated'} {_num(ref_value)} kg "
        f"{_lower_first(reference.name)} e1RM{via})"
    )
    return E1rmEstimate(
        value_kg=value,
        phrase=phrase,
        inputs={
            "e1rm_source": "ratio",
            "reference_e1rm_kg": round(ref_value, 3),
            "e1rm_ratio": exercise.e1rm_ratio,
            **source,
        },
    )


# Exercise selection -------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class _Slot:
    index: int
    role: str  # main | accessory
    requested: str  # the slug or "pattern:<name>"
    exercise: ExerciseInfo | None
    sets: int
    reps: int
    rpe: float
    note: str | None  # substitution or skip sentence
    substituted_for: str | None
    e1rm: E1rmEstimate | None


def _pick_pattern(
    pattern: str,
    role: str,
    pool: Sequence[ExerciseInfo],
    order: Mapping[str, int],
    used_session: set[str],
    used_block: set[str],
    assessment: AssessmentInput,
    library: Library,
) -> ExerciseInfo | None:
    candidates = [e for e in pool if e.pattern == pattern]
    if not candidates:
        return None

    groups_used = {library.exercise(slug).substitution_group for slug in used_block}

    def key(e: ExerciseInfo) -> tuple:
        unknown_e1rm = resolve_e1rm(e, assessment, library).value_kg is None
        fresh = (e.slug in used_session, e.slug in used_block, not e.loadable)
        if role == "main":  # a compound the athlete has a number for, new to the block
            return (
                *fresh,
                e.substitution_group in groups_used,
                unknown_e1rm,
                not e.reference,
                -e.fatigue,
                e.unilateral,
                order[e.slug],
            )
        return (*fresh, e.fatigue, unknown_e1rm, order[e.slug])

    return min(candidates, key=key)


def _substitute(
    original: ExerciseInfo,
    pool: Sequence[ExerciseInfo],
    order: Mapping[str, int],
    used_session: set[str],
    assessment: AssessmentInput,
    library: Library,
) -> ExerciseInfo | None:
    """Best available replacement: same group first, then same pattern anywhere."""
    group = [
        e
        for e in pool
        if original.substitution_group
        and e.substitution_group == original.substitution_group
        and e != original
    ]
    candidates = group or [e for e in pool if e.pattern == original.pattern and e != original]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda e: (
            e.slug in used_session,
            e.pattern != original.pattern,
            e.unilateral != original.unilateral,
            e.loadable != original.loadable,
            abs(e.fatigue - original.fatigue),
            resolve_e1rm(e, assessment, library).value_kg is None,
            order[e.slug],
        ),
    )


def _resolve_templates(
    rules: _Rules, profile: AthleteInput, assessment: AssessmentInput, library: Library
) -> list[tuple[str, list[_Slot]]]:
    pool = library.available(profile.equipment)
    order = {e.slug: i for i, e in enumerate(library.exercises)}
    used_block: set[str] = set()
    out = []
    for t_index, template in enumerate(rules.templates):
        name = str(template.get("name") or f"Session {t_index + 1}")
        used_session: set[str] = set()
        slots = []
        for s_index, raw in enumerate(template.get("slots") or ()):
            where = f"sessions[{t_index}].slots[{s_index}]"
            role = raw.get("role", "main")
            if role not in ("main", "accessory"):
                raise ValueError(f"{where}: role must be main or accessory, got {role!r}")
            spec = {k: raw.get(k, v) for k, v in ACCESSORY_DEFAULT.items()}
            note = substituted_for = None
            if raw.get("exercise"):
                slug = raw["exercise"]
                original = library.get(slug)
                if original is None:
                    raise ValueError(f"{where}: unknown exercise {slug!r} (not in the library)")
                requested = slug
                if original.possible_with(profile.equipment):
                    chosen = original
                elif slug in rules.protected:
                    chosen = None
                    missing = _equipment_phrase(original.missing_equipment(profile.equipment))
                    note = (
                        f"{original.name} skipped: {missing}, and your coach never substitutes it"
                    )
                else:
                    chosen = _substitute(original, pool, order, used_session, assessment, library)
                    missing = _equipment_phrase(original.missing_equipment(profile.equipment))
                    if chosen is None:
                        note = f"{original.name} skipped: {missing}, and nothing similar fits"
                    else:
                        substituted_for = slug
                        note = f"{chosen.name} instead of {_lower_first(original.name)}: {missing}"
            else:
                pattern = raw.get("pattern")
                if not pattern:
                    raise ValueError(f"{where}: a slot names an exercise or a pattern")
                requested = f"pattern:{pattern}"
                chosen = _pick_pattern(
                    pattern, role, pool, order, used_session, used_block, assessment, library
                )
                if chosen is None:
                    note = f"No {pattern} exercise fits your equipment: slot skipped"
            if chosen is not None:
                used_session.add(chosen.slug)
            slots.append(
                _Slot(
                    index=s_index,
                    role=role,
                    requested=requested,
                    exercise=chosen,
                    sets=max(1, int(spec["sets"])),
                    reps=max(1, int(spec["reps"])),
                    rpe=_chart_rpe(spec["rpe"]),
                    note=note,
                    substituted_for=substituted_for,
                    e1rm=resolve_e1rm(chosen, assessment, library) if chosen else None,
                )
            )
        used_block |= used_session
        out.append((name, slots))
    return out


# Strength prescriptions ---------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class _Group:
    """Identical sets of one slot: `mode` says how their load is found."""

    count: int
    reps: int
    mode: str  # rpe | percent | fixed | backoff
    rpe: float | None = None
    percent: float | None = None
    base_reps: int | None = None  # fixed: the load is the one for base_reps @ base_rpe
    base_rpe: float | None = None
    of_top: float | None = None  # backoff: fraction of the top set's load
    label: str = ""


def _main_groups(rules: _Rules, build_week: int) -> tuple[list[_Group], dict[str, object]]:
    p, b = rules.params, build_week
    if rules.model == "linear":
        start = float(p.get("start_rpe", 7.5))
        rpe = _chart_rpe(min(start + 0.5 * (b - 1), max(start, MAX_BUILD_RPE)))
        group = _Group(count=int(p.get("sets", 3)), reps=int(p.get("reps", 5)), mode="rpe", rpe=rpe)
        return [group], {"start_rpe": start}
    if rules.model == "double_progression":
        low, high = (int(x) for x in p.get("rep_range", (8, 12)))
        rpe = _chart_rpe(p.get("rpe", 8))
        sets = int(p.get("sets", 3))
        extra = min(b - 1, high - low)
        inputs = {"rep_range": [low, high]}
        if extra == 0:
            return [_Group(count=sets, reps=low, mode="rpe", rpe=rpe)], inputs
        # Week 1's load is held while the reps climb; the RPE target stays a ceiling.
        group = _Group(
            count=sets, reps=low + extra, mode="fixed", rpe=rpe, base_reps=low, base_rpe=rpe
        )
        return [group], inputs
    if rules.model == "rpe_top_set_backoff":
        top_rpe = _chart_rpe(min(float(p.get("top_set_rpe", 8)) + 0.5 * (b - 1), MAX_BUILD_RPE))
        top = _Group(
            count=1, reps=int(p.get("top_set_reps", 3)), mode="rpe", rpe=top_rpe, label="top set"
        )
        backoff = _Group(
            count=int(p.get("backoff_sets", 3)),
            reps=int(p.get("backoff_reps", 5)),
            mode="backoff",
            of_top=float(p.get("backoff_percent_of_top", 0.90)),
            label="back-off",
        )
        return [top, backoff] if backoff.count > 0 else [top], {}
    waves = list(p.get("weeks") or DEFAULT_PARAMS["percentage_waves"]["weeks"])
    wave = waves[(b - 1) % len(waves)]
    group = _Group(
        count=int(wave.get("sets", 4)),
        reps=int(wave.get("reps", 5)),
        mode="percent",
        percent=float(wave.get("percent_1rm", 0.75)),
    )
    return [group], {"wave_entry": (b - 1) % len(waves) + 1}


def _with_count(groups: list[_Group], index: int, count: int) -> list[_Group]:
    out = list(groups)
    out[index] = replace(out[index], count=count)
    return [g for g in out if g.count > 0]


def _total(groups: Sequence[_Group]) -> int:
    return sum(g.count for g in groups)


def _drop_one(groups: list[_Group]) -> list[_Group]:
    """One set fewer, taken from the last group (back-offs before a top set)."""
    last = len(groups) - 1
    return _with_count(groups, last, groups[last].count - 1)


def _set_minutes(role: str) -> int:
    return MAIN_SET_MIN if role == "main" else ACCESSORY_SET_MIN


def _fit(
    slots: Sequence[_Slot], groups: list[list[_Group]], budget: int
) -> tuple[list[list[_Group]], str | None]:
    """Trim to the session length: accessory sets (to 2), accessory slots, main sets (to 1),
    main slots (never the first)."""

    def minutes() -> int:
        return sum(_total(g) * _set_minutes(s.role) for s, g in zip(slots, groups, strict=True))

    before = [_total(g) for g in groups]
    steps = (("accessory", 2, False), ("accessory", 0, True), ("main", 1, False), ("main", 0, True))
    for role, keep, drop_slot in steps:
        indexes = [i for i, s in enumerate(slots) if s.role == role and groups[i]]
        if role == "main" and drop_slot:
            indexes = indexes[1:]
        changed = True
        while minutes() > budget and changed:
            changed = False
            for i in reversed(indexes):
                if minutes() <= budget:
                    break
                if drop_slot and groups[i]:
                    groups[i] = []
                    changed = True
                    break
                if not drop_slot and _total(groups[i]) > max(keep, 1):
                    groups[i] = _drop_one(groups[i])
                    changed = True
        if minutes() <= budget:
            break
    after = [_total(g) for g in groups]
    if after == before:
        return groups, None
    cut_sets = sum(b - a for b, a in zip(before, after, strict=True))
    dropped = [
        s.exercise.name
        for s, b, a in zip(slots, before, after, strict=True)
        if b and not a and s.exercise
    ]
    plural = "s" if cut_sets != 1 else ""
    note = f"Trimmed to fit {budget + WARMUP_MIN} min: {cut_sets} set{plural} fewer"
    if dropped:
        note += f" ({', '.join(dropped)} left out)"
    return groups, note


def _deload(
    slots: Sequence[_Slot], groups: list[list[_Group]], factor: float
) -> tuple[list[list[_Group]], str | None]:
    out = [list(g) for g in groups]
    reduced = False
    for i, g in enumerate(out):
        total = _total(g)
        if total > 1:
            target = max(1, min(_half_up(total * factor), total - 1))
            while _total(out[i]) > target:
                out[i] = _drop_one(out[i])
            reduced = True
    if reduced:
        return out, None
    live = [i for i, g in enumerate(out) if g]
    if len(live) > 1:
        accessories = [i for i in live if slots[i].role == "accessory"]
        victim = (accessories or live)[-1]
        out[victim] = []
        name = slots[victim].exercise.name if slots[victim].exercise else "one slot"
        return out, f"Deload: {name} left out to cut volume (every slot was at one set)"
    return out, "Deload: already one set; volume can't go lower"


def _rpe_only_sentence(count: int, dose: str, rpe: float, exercise: ExerciseInfo, why: str) -> str:
    if not exercise.loadable:
        return (
            f"{count}×{dose} @ RPE {_num(rpe)}: {exercise.name.lower()}, stop when you could do "
            f"{_reserve(rpe)}{why}"
        )
    return f"{count}×{dose} @ RPE {_num(rpe)}: choose a load you could lift {_reserve(rpe)}{why}"


def _rpe_for_percent(reps: int, percent: float) -> float:
    """The chart RPE whose percentage is nearest `percent` for `reps` (no e1RM known)."""
    rpes = [CHART_MIN_RPE + 0.5 * i for i in range(int((CHART_MAX_RPE - CHART_MIN_RPE) * 2) + 1)]
    return min(rpes, key=lambda r: (abs(rpe_percent(reps, r) - percent), -r))


def _group_sets(
    *,
    slot: _Slot,
    group: _Group,
    rules: _Rules,
    intensity_percent: float,
    top_load: float | None,
    base_inputs: Mapping[str, object],
    prefix: str,
) -> PlannedSetPlan:
    """One set of a group, as planned (the caller numbers the copies)."""
    ex = slot.exercise
    if ex is None:
        raise ValueError("a set needs a resolved exercise")
    e1 = slot.e1rm.value_kg if slot.e1rm else None
    eff = None if e1 is None else e1 * (1 + intensity_percent / 100)
    inc = rules.increment
    hand = " per hand" if ex.per_hand else ""
    inputs: dict[str, object] = {
        **base_inputs,
        "exercise": ex.slug,
        "sets": group.count,
        "reps": group.reps,
        "mode": group.mode,
        "increment_kg": inc,
        **(slot.e1rm.inputs if slot.e1rm else {}),
    }
    if slot.substituted_for:
        inputs["substituted_for"] = slot.substituted_for
    if intensity_percent:
        inputs["intensity_percent"] = intensity_percent
    of_e1rm = ""
    if eff is not None:
        inputs["e1rm_kg"] = round(eff, 6)
        of_e1rm = slot.e1rm.phrase
        if intensity_percent:
            of_e1rm += f" less {_num(-intensity_percent)} % for the deload"
    head = f"{prefix}{group.label + ' ' if group.label else ''}{group.count}×"
    reps = group.reps

    def done(
        rule: str,
        sentence: str,
        *,
        reps: int = reps,
        rpe: float | None = None,
        pct: float | None = None,
        load: float | None = None,
        **extra: object,
    ) -> PlannedSetPlan:
        return PlannedSetPlan(
            exercise_slug=ex.slug,
            set_index=0,
            reps=reps,
            target_rpe=rpe,
            percent_1rm=pct,
            load_kg=load,
            derivation=Derivation(
                rule=rule, inputs={**inputs, "reps": reps, **extra}, sentence=sentence
            ),
        )

    # Holds and carries (seconds, metres): no chart, effort only.
    if ex.dose_unit != "reps":
        rpe = group.rpe or slot.rpe
        dose = f"{ex.default_dose} {ex.dose_unit}"
        sentence = f"{head[:-1]} × {dose} @ RPE {_num(rpe)}" + (
            f": choose a load that feels like RPE {_num(rpe)}" if ex.loadable else ""
        )
        return done("rpe_only", sentence, reps=ex.default_dose, rpe=rpe)

    def rpe_only(why: str) -> PlannedSetPlan:
        if group.mode == "backoff":
            sentence = f"{head}{reps}: about {_pct(group.of_top)} of your top set's load{why}"
            return done("backoff_rpe_only", sentence)
        if group.mode == "percent":  # the chart's RPE nearest the percentage
            rpe = _rpe_for_percent(reps, group.percent) if reps <= CHART_MAX_REPS else 8.0
        else:
            rpe = group.rpe
        sentence = prefix + (f"{group.label} " if group.label else "")
        sentence += _rpe_only_sentence(group.count, str(reps), rpe, ex, why)
        if group.mode == "fixed":
            sentence += "; keep last week's load and add a rep"
        return done("rpe_only", sentence, rpe=rpe)

    if not ex.loadable:
        return rpe_only("")
    if eff is None:
        return rpe_only(f" (no e1RM on record for {_lower_first(ex.name)} yet)")
    if reps > CHART_MAX_REPS and group.mode in ("rpe", "fixed"):
        return rpe_only(" (the RPE chart stops at 12 reps)")

    def percent_set(pct: float, why: str, rpe: float | None) -> PlannedSetPlan:
        clipped = min(rules.ceiling, max(rules.floor, pct))
        load = round_to_increment(eff * clipped, inc)
        note = ""
        if clipped != pct:
            which = "ceiling" if clipped < pct else "floor"
            note = f"; {_pct(pct)} clipped to your coach's {_pct(clipped)} {which}"
        sentence = f"{head}{reps} @ {_num(load)} kg{hand}: {_pct(clipped)} of {of_e1rm}{why}{note}"
        return done(
            "percent_load",
            sentence,
            rpe=rpe,
            pct=clipped,
            load=load,
            percent_1rm=clipped,
            requested_percent_1rm=round(pct, 6),
        )

    if group.mode == "percent":
        return percent_set(group.percent, "", None)
    if group.mode == "backoff":
        if top_load is None:
            return rpe_only("")
        load = round_to_increment(top_load * group.of_top, inc)
        if not rules.floor <= load / eff <= rules.ceiling:
            return percent_set(
                load / eff, f" (back-off from the {_num(top_load)} kg top set)", None
            )
        sentence = (
            f"{head}{reps} @ {_num(load)} kg{hand}: {_pct(group.of_top)} of today's "
            f"{_num(top_load)} kg top set"
        )
        return done(
            "backoff_load",
            sentence,
            load=load,
            top_load_kg=top_load,
            percent_of_top=group.of_top,
        )
    if group.mode == "fixed":
        base_pct = rpe_percent(group.base_reps, group.base_rpe)
        if not rules.floor <= base_pct <= rules.ceiling:
            return percent_set(base_pct, "", group.rpe)
        load = load_for(eff, group.base_reps, group.base_rpe, increment=inc)
        more = reps - group.base_reps
        sentence = (
            f"{head}{reps} @ {_num(load)} kg{hand}: week 1's load ({group.base_reps} reps @ "
            f"RPE {_num(group.base_rpe)} from {of_e1rm}) with {more} more "
            f"rep{'s' if more != 1 else ''}; if a set goes past RPE {_num(group.rpe)}, keep "
            "last week's reps"
        )
        return done(
            "fixed_load",
            sentence,
            rpe=group.rpe,
            load=load,
            base_reps=group.base_reps,
            base_rpe=group.base_rpe,
            rpe_ceiling=group.rpe,
        )
    pct = rpe_percent(reps, group.rpe)
    if not rules.floor <= pct <= rules.ceiling:
        return percent_set(pct, f", for an RPE {_num(group.rpe)} target", group.rpe)
    load = load_for(eff, reps, group.rpe, increment=inc)
    sentence = (
        f"{head}{reps} @ {_num(load)} kg{hand}: {_pct(pct)} of {of_e1rm}, "
        f"for an RPE {_num(group.rpe)} target"
    )
    return done(
        "rpe_load", sentence, rpe=group.rpe, load=load, rpe_target=group.rpe, chart_percent=pct
    )


def _week_dates(start: date, weeks: int, days: Sequence[int]) -> list[tuple[int, date]]:
    wanted = set(days)
    out = []
    for offset in range(7 * weeks):
        day = start + timedelta(days=offset)
        if day.weekday() in wanted:
            out.append((offset // 7 + 1, day))
    return out


def _build_indexes(rules: _Rules) -> dict[int, int]:
    """Block week → its build-week number (deload weeks → the build week before them)."""
    out, build = {}, 0
    for week in range(1, rules.weeks + 1):
        if not rules.is_deload(week):
            build += 1
        out[week] = max(build, 1)
    return out


def _frozen_note(rules: _Rules, day: date) -> list[str]:
    if _monday(day) in rules.frozen_mondays:
        return ["Frozen week (your coach's guardrails): planned as usual, no automatic changes"]
    return []


def _plan_strength(
    profile: AthleteInput,
    assessment: AssessmentInput,
    rules: _Rules,
    start: date,
    days: Sequence[int],
    library: Library,
) -> tuple[list[PlannedSessionPlan], list[str]]:
    templates = _resolve_templates(rules, profile, assessment, library)
    build_index = _build_indexes(rules)
    budget = profile.session_minutes - WARMUP_MIN
    cache: dict[tuple[int, int], tuple[list[list[_Group]], str | None, dict[str, object]]] = {}
    block_notes: list[str] = []

    def planned(t_index: int, week: int) -> tuple[list[list[_Group]], str | None, dict]:
        key = (t_index, week)
        if key not in cache:
            _, slots = templates[t_index]
            mult = rules.multiplier(week)
            groups, model_inputs = [], {}
            for slot in slots:
                if slot.exercise is None:
                    groups.append([])
                    continue
                if slot.role == "main":
                    g, model_inputs = _main_groups(rules, build_index[week])
                else:
                    g = [_Group(count=slot.sets, reps=slot.reps, mode="rpe", rpe=slot.rpe)]
                if mult != 1.0:
                    last = len(g) - 1
                    g = _with_count(g, last, max(1, _half_up(g[last].count * mult)))
                groups.append(g)
            fitted, note = _fit(slots, groups, budget)
            cache[key] = (fitted, note, {**model_inputs, "volume_multiplier": mult})
        groups, note, inputs = cache[key]
        return [list(g) for g in groups], note, inputs

    sessions = []
    for k, (week, day) in enumerate(_week_dates(start, rules.weeks, days)):
        t_index = k % len(templates)
        name, slots = templates[t_index]
        deload = rules.is_deload(week)
        notes = [s.note for s in slots if s.note]
        source_week = week - 1 if deload else week
        groups, fit_note, model_inputs = planned(t_index, source_week)
        if fit_note:
            notes.append(fit_note)
        intensity = 0.0
        if deload:
            factor = rules.deload_factor(week)
            groups, deload_note = _deload(slots, groups, factor)
            intensity = min(0.0, rules.deload_intensity_percent)
            held = (
                "same intensity"
                if not intensity
                else f"loads from your e1RM less {_num(-intensity)} %"
            )
            notes.append(
                f"Deload week: volume −{_num((1 - factor) * 100)} % from week {week - 1} "
                f"(whole sets), {held}"
            )
            if deload_note:
                notes.append(deload_note)
        notes += _frozen_note(rules, day)
        sets: list[PlannedSetPlan] = []
        base_inputs = {
            "model": rules.model,
            "week": week,
            "build_week": build_index[week],
            "deload": deload,
            **{k2: v for k2, v in model_inputs.items() if k2 != "volume_multiplier"},
        }
        minutes = WARMUP_MIN
        for slot, slot_groups in zip(slots, groups, strict=True):
            if not slot_groups or slot.exercise is None:
                continue
            prefix = f"{slot.note}. " if slot.substituted_for else ""
            top_load = None
            for group in slot_groups:
                planned_set = _group_sets(
                    slot=slot,
                    group=group,
                    rules=rules,
                    intensity_percent=intensity,
                    top_load=top_load,
                    base_inputs={**base_inputs, "role": slot.role, "slot": slot.requested},
                    prefix=prefix,
                )
                if group.label == "top set":
                    top_load = planned_set.load_kg
                for _ in range(group.count):
                    sets.append(replace(planned_set, set_index=len(sets) + 1))
            minutes += _total(slot_groups) * _set_minutes(slot.role)
        if not sets:
            block_notes.append(f"{day.isoformat()}: nothing in {name} fits your equipment")
            continue
        exercises = list(dict.fromkeys(s.exercise_slug for s in sets))
        names = [library.exercise(slug).name for slug in exercises]
        sessions.append(
            PlannedSessionPlan(
                date=day,
                week=week,
                is_deload=deload,
                kind="strength",
                name=name,
                duration_min=min(minutes, profile.session_minutes),
                sets=tuple(sets),
                endurance_type=None,
                zone=None,
                target_low=None,
                target_high=None,
                target_unit=None,
                planned_tss=None,
                notes=tuple(notes),
                derivation=Derivation(
                    rule="strength_template",
                    inputs={
                        "template": name,
                        "template_index": t_index,
                        "week": week,
                        "build_week": build_index[week],
                        "deload": deload,
                        "sets": len(sets),
                        "exercises": exercises,
                        "estimated_minutes": minutes,
                        "session_minutes": profile.session_minutes,
                        "volume_multiplier": model_inputs.get("volume_multiplier", 1.0),
                    },
                    sentence=(
                        f"Week {week}{' (deload)' if deload else ''}, {name}: "
                        f"{', '.join(_lower_first(n) for n in names)}; {len(sets)} sets, about "
                        f"{min(minutes, profile.session_minutes)} of your "
                        f"{profile.session_minutes} min"
                    ),
                ),
            )
        )
    return sessions, block_notes


# Endurance ---------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class _EnduranceSlot:
    weekday: int
    role: str  # long | easy | tempo | hard
    zone: int  # after the guardrails
    planned_zone: int  # before them
    minutes: float
    work_minutes: float  # the part in `zone`; the rest is warm-up, recoveries, cool-down
    kind: EnduranceSessionType | None


def _distribution(params: Mapping[str, object], model: str) -> tuple[float, float, float]:
    dist = params.get("zone_distribution") or ZONE_DISTRIBUTIONS[model]
    if isinstance(dist, Mapping):
        values = (dist.get("z1", 0), dist.get("z2", 0), dist.get("z3", 0))
    else:
        values = tuple(dist)[:3]
    z1, z2, z3 = (max(0.0, float(v)) for v in values)
    total = z1 + z2 + z3
    if total <= 0:
        raise ValueError("zone_distribution must put time in at least one zone")
    return z1 / total, z2 / total, z3 / total


def _circular_gap(a: int, b: int) -> int:
    d = abs(a - b) % 7
    return min(d, 7 - d)


def _spread(days: Sequence[int], taken: Sequence[int], count: int) -> list[int]:
    """Pick `count` of `days`, each as far as possible from the days already taken."""
    chosen: list[int] = []
    free = [d for d in days if d not in taken]
    for _ in range(min(count, len(free))):
        anchors = list(taken) + chosen
        best = max(
            free,
            key=lambda d: (min((_circular_gap(d, a) for a in anchors), default=7), -d),
        )
        chosen.append(best)
        free.remove(best)
    return chosen


def _pick_type(
    library: Library, sport: str, zone: int, role: str, minutes: float
) -> EnduranceSessionType | None:
    candidates = library.endurance_types(sport=sport)
    if not candidates:
        return None
    want = "long" if role == "long" else ("intervals" if role == "hard" else "continuous")

    def key(t: EnduranceSessionType) -> tuple:
        outside = max(t.min_minutes - minutes, minutes - t.max_minutes, 0)
        return (
            abs(t.zone - zone),
            (t.structure == "long") != (role == "long"),
            t.structure != want,
            outside,
        )

    return min(candidates, key=key)


@dataclass(frozen=True, kw_only=True)
class _WeekSpec:
    """What an endurance week needs to know besides its minutes."""

    days: tuple[int, ...]
    cap_min: int
    model: str
    sport: str
    distribution: tuple[float, float, float]
    long_fraction: float
    zone_floor: int
    zone_ceiling: int
    library: Library

    def slot(
        self, weekday: int, role: str, zone: int, minutes: float, work: float | None = None
    ) -> _EnduranceSlot:
        clipped = min(self.zone_ceiling, max(self.zone_floor, zone))
        kind = _pick_type(self.library, self.sport, clipped, role, minutes)
        return _EnduranceSlot(
            weekday=weekday,
            role=role,
            zone=clipped,
            planned_zone=zone,
            minutes=minutes,
            work_minutes=minutes if work is None else work,
            kind=kind,
        )


def _endurance_week(target: float, spec: _WeekSpec) -> tuple[list[_EnduranceSlot], list[str]]:
    """One week's sessions. Time in zone is counted by session goal (a session's minutes
    count toward its zone, as in Seiler & Kjerland 2006): one long zone 2 session, z3 time
    as interval sessions, z2 time as tempo sessions, the rest easy. Never more than
    `target` minutes, never a session over `cap_min`."""
    notes: list[str] = []
    days, cap = spec.days, spec.cap_min
    n = len(days)
    capacity = n * cap
    total = min(target, capacity)
    if target > capacity + 1e-9:
        notes.append(
            f"{_num(target)} min planned don't fit {n} day{'s' if n != 1 else ''} × {cap} min: "
            f"capped at {capacity} min"
        )
    long_day = next((d for d in (6, 5) if d in days), days[-1])
    if n == 1:
        notes.append("One training day: a single zone 2 session; the zone mix needs more days")
        return [spec.slot(long_day, "long", 2, total)], notes
    _, z2, z3 = spec.distribution
    free = n - 1
    hard: list[tuple[str, int, float]] = []  # (role, zone, minutes)
    moved = 0.0
    for role, share, zones, limit in (
        ("hard", z3, HARD_ZONES[spec.model], MAX_HARD_SESSIONS),
        ("tempo", z2, (3,), n),
    ):
        want = share * total
        count = min(math.ceil(want / cap), free, limit) if want >= MIN_ZONE_BLOCK_MIN else 0
        got = min(want, count * cap)
        moved += want - got
        free -= count
        hard += [(role, zones[i % len(zones)], got / count) for i in range(count)]
    if moved > 1:
        notes.append(
            f"{_num(moved)} min of zone 3–5 time planned as easy running: too little for a "
            "session of its own, or too few days"
            if spec.sport == "run"
            else f"{_num(moved)} min of zone 3–5 time planned as easy riding: too little for a "
            "session of its own, or too few days"
        )
    easy_total = total - sum(m for _, _, m in hard)
    # A hard session shorter than its type's minimum grows to it; the extra minutes are
    # warm-up and cool-down, paid from the easy time.
    grown: list[tuple[str, int, float, float]] = []  # (role, zone, minutes, work minutes)
    for role, zone, minutes in hard:
        kind = spec.slot(0, role, zone, minutes).kind
        extra = 0.0
        if kind is not None and minutes < kind.min_minutes <= cap:
            extra = min(kind.min_minutes - minutes, max(0.0, easy_total - MIN_EASY_MIN))
        easy_total -= extra
        grown.append((role, zone, minutes + extra, minutes))
    long_min = min(cap, spec.long_fraction * total, easy_total)
    easy = easy_total - long_min
    n1 = free
    if n1 and easy / n1 > long_min:  # the long session stays the week's longest easy one
        long_min = min(cap, easy_total / (n1 + 1))
        easy = easy_total - long_min
    if n1:
        overflow = easy - n1 * cap
        if overflow > 0:
            long_min = min(cap, long_min + overflow)
            easy = easy_total - long_min
        while n1 > 1 and easy / n1 < MIN_EASY_MIN:
            n1 -= 1
        if n1 == 1 and easy < MIN_ZONE_BLOCK_MIN:
            long_min, n1 = min(cap, long_min + easy), 0
    elif easy > 0:
        long_min = min(cap, long_min + easy)
    lost = easy_total - long_min - (min(easy, n1 * cap) if n1 else 0)
    if lost > 1:
        notes.append(f"{_num(lost)} easy min left out: no day left to hold them")
    slots = [spec.slot(long_day, "long", 2, long_min)]
    taken = [long_day]
    for role in ("hard", "tempo"):
        mine = [(zone, minutes, work) for r, zone, minutes, work in grown if r == role]
        for day, (zone, minutes, work) in zip(_spread(days, taken, len(mine)), mine, strict=True):
            slots.append(spec.slot(day, role, zone, minutes, work))
            taken.append(day)
    for day in _spread(days, taken, n1):
        each = min(cap, easy / n1)
        slots.append(spec.slot(day, "easy", 1 if each < RECOVERY_BELOW_MIN else 2, each))
    return sorted(slots, key=lambda s: s.weekday), notes


def _pace(speed: float) -> str:
    seconds = round(1000 / speed)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _targets(
    sport: str, zone: int, assessment: AssessmentInput, intensity_percent: float
) -> tuple[float | None, float | None, str | None, float | None, str]:
    """(low, high, unit, mid fraction for TSS or None, phrase)."""
    scale = 1 + intensity_percent / 100
    if sport == "ride" and assessment.ftp_w:
        lo, hi = POWER_ZONES[zone]
        mid = ZONE1_ASSUMED["w"] if lo is None else (lo + hi) / 2
        ftp = float(assessment.ftp_w)
        low = None if lo is None else round(lo * scale * ftp)
        high = round(hi * scale * ftp)
        span = f"below {high} W" if low is None else f"{low}–{high} W"
        share = f"below {_pct(hi)}" if lo is None else _pct_range(lo, hi)
        return low, high, "w", mid * scale, f"{span} ({share} of your {_num(ftp)} W FTP)"
    if sport == "run" and assessment.threshold_speed_m_s:
        lo, hi = PACE_ZONES[zone]
        mid = ZONE1_ASSUMED["m_s"] if lo is None else (lo + hi) / 2
        ts = float(assessment.threshold_speed_m_s)
        low = None if lo is None else round(lo * scale * ts, 2)
        high = round(hi * scale * ts, 2)
        if low is None:
            span = f"slower than {_pace(high)} /km (below {high:g} m/s)"
            share = f"below {_pct(hi)}"
        else:
            span = f"{_pace(low)}–{_pace(high)} /km ({low:g}–{high:g} m/s)"
            share = _pct_range(lo, hi)
        return (
            low,
            high,
            "m_s",
            mid * scale,
            f"{span}, {share} of your {_pace(ts)} /km ({ts:.2f} m/s) threshold pace",
        )
    hr_max, hr_rest = assessment.hr_max_bpm, assessment.hr_rest_bpm
    if hr_max and hr_rest and 0 < hr_rest < hr_max:
        lo, hi = HR_ZONES[zone]
        reserve = hr_max - hr_rest
        low = round(hr_rest + lo * scale * reserve)
        high = round(hr_rest + hi * scale * reserve)
        return (
            low,
            high,
            "bpm",
            None,
            (
                f"{low}–{high} bpm ({_pct_range(lo, hi)} of your heart-rate reserve, "
                f"{hr_rest}–{hr_max} bpm)"
            ),
        )
    return None, None, None, None, f"by feel: session RPE about {ZONE_SESSION_RPE[zone]} of 10"


def _plan_endurance(
    profile: AthleteInput,
    assessment: AssessmentInput,
    rules: _Rules,
    start: date,
    days: Sequence[int],
    library: Library,
) -> tuple[list[PlannedSessionPlan], list[str]]:
    p = rules.params
    sport = p["sport"]
    weekly = float(p.get("weekly_minutes", 300))
    ramp = float(p.get("weekly_ramp_percent", 5))
    build_index = _build_indexes(rules)
    spec = _WeekSpec(
        days=tuple(days),
        cap_min=profile.session_minutes,
        model=rules.model,
        sport=sport,
        distribution=_distribution(p, rules.model),
        long_fraction=float(p.get("long_session_fraction", 0.30)),
        zone_floor=rules.zone_floor,
        zone_ceiling=rules.zone_ceiling,
        library=library,
    )
    sessions: list[PlannedSessionPlan] = []
    block_notes: list[str] = []
    previous_total = 0
    for week in range(1, rules.weeks + 1):
        deload = rules.is_deload(week)
        week_start = start + timedelta(days=7 * (week - 1))
        if deload:
            factor = rules.deload_factor(week)
            target = previous_total * factor
            why = (
                f"deload: {_num(previous_total)} min of week {week - 1} × {factor:.2f}, same zones"
            )
        else:
            b = build_index[week]
            target = weekly * (1 + ramp / 100) ** (b - 1) * rules.multiplier(week)
            why = f"{_num(weekly)} min + {_num(ramp)} % per build week, build week {b}" + (
                f" × {rules.multiplier(week):g}" if rules.multiplier(week) != 1 else ""
            )
        layout, week_notes = _endurance_week(target, spec)
        intensity = min(0.0, rules.deload_intensity_percent) if deload else 0.0
        week_total = 0
        first = True
        rounded = _round_minutes([slot.minutes for slot in layout], profile.session_minutes)
        for slot, minutes in zip(layout, rounded, strict=True):
            if minutes < 10:
                continue
            day = week_start + timedelta(days=(slot.weekday - week_start.weekday()) % 7)
            zone, kind = slot.zone, slot.kind
            notes: list[str] = []
            if zone != slot.planned_zone:
                notes.append(
                    f"Zone {slot.planned_zone} clipped to zone {zone} by your coach's guardrails"
                )
            low, high, unit, mid, phrase = _targets(sport, zone, assessment, intensity)
            whole = slot.work_minutes >= slot.minutes - 1e-9
            work = minutes if whole else min(minutes, round(slot.work_minutes))
            if mid is not None:
                threshold = float(
                    assessment.ftp_w if sport == "ride" else assessment.threshold_speed_m_s
                )
                score = tss if sport == "ride" else run_tss
                # TSS adds up over a session's parts: the work at its zone's middle, the
                # warm-up, recoveries and cool-down at zone 2's middle.
                easy_mid = _targets(sport, 2, assessment, intensity)[3]
                planned = round(
                    score(work * 60, mid * threshold, threshold)
                    + score((minutes - work) * 60, easy_mid * threshold, threshold),
                    1,
                )
                load_phrase = f"about {_num(planned)} {'TSS' if sport == 'ride' else 'rTSS'}"
            else:
                planned = None
                srpe = session_rpe_load(ZONE_SESSION_RPE[zone], minutes)
                load_phrase = (
                    f"no {'FTP' if sport == 'ride' else 'threshold pace'} on record: about "
                    f"{_num(srpe)} sRPE units (RPE {ZONE_SESSION_RPE[zone]} × {minutes} min)"
                )
                notes.append(f"Load estimate by session RPE: {load_phrase.split(': ', 1)[1]}")
            if kind and kind.description:
                notes.insert(0, kind.description)
            if deload:
                notes.append(
                    "Deload week: less time, same zones"
                    + (f", targets {_num(intensity)} %" if intensity else "")
                )
            if first:
                notes += week_notes
                first = False
            notes += _frozen_note(rules, day)
            name = kind.name if kind else f"Zone {zone} {sport}"
            sessions.append(
                PlannedSessionPlan(
                    date=day,
                    week=week,
                    is_deload=deload,
                    kind=sport,
                    name=name,
                    duration_min=minutes,
                    sets=(),
                    endurance_type=kind.slug if kind else None,
                    zone=zone,
                    target_low=low,
                    target_high=high,
                    target_unit=unit,
                    planned_tss=planned,
                    notes=tuple(notes),
                    derivation=Derivation(
                        rule=f"endurance_{rules.model}",
                        inputs={
                            "model": rules.model,
                            "week": week,
                            "build_week": build_index[week],
                            "deload": deload,
                            "role": slot.role,
                            "zone": zone,
                            "minutes": minutes,
                            "work_minutes": work,
                            "week_target_minutes": round(target, 1),
                            "session_minutes": profile.session_minutes,
                            "intensity_percent": intensity,
                            "target_unit": unit,
                            "zone_mid_fraction": None if mid is None else round(mid, 4),
                        },
                        sentence=(
                            f"{name}, {minutes} min "
                            + (
                                f"in zone {zone}"
                                if work == minutes
                                else f"with {work} min in zone {zone}"
                            )
                            + f": {phrase}; {load_phrase}"
                        ),
                    ),
                )
            )
            week_total += minutes
        block_notes += [f"Week {week}: {n}" for n in week_notes]
        block_notes.append(f"Week {week}: {week_total} of {_num(target)} min planned ({why})")
        previous_total = week_total
    sessions.sort(key=lambda s: s.date)
    return sessions, block_notes


def _round_minutes(planned: Sequence[float], cap: int) -> list[int]:
    """Whole minutes, multiples of 5 from 30 min up, never more in total than planned:
    round down, then give 5 min back to the largest remainders while the total allows."""

    def down(m: float) -> int:
        whole = math.floor(m + 1e-9)
        return whole - whole % 5 if whole >= 30 else whole

    out = [down(m) for m in planned]
    budget = math.floor(sum(planned) + 1e-9) - sum(out)
    for i in sorted(range(len(out)), key=lambda i: (out[i] - planned[i], i)):
        step = 5 if out[i] >= 25 else 1
        if step <= budget and out[i] + step <= cap and out[i] + step - planned[i] < step:
            out[i] += step
            budget -= step
    return out


# Entry points ------------------------------------------------------------------------------
def generate_block(
    profile: AthleteInput,
    assessment: AssessmentInput,
    methodology_version: Mapping,
    start_date: date,
    *,
    library: Library,
) -> BlockPlan:
    """Plan `block.weeks` weeks from `start_date` for one athlete under one methodology."""
    days = _check_athlete(profile)
    rules = _read_rules(methodology_version)
    notes: list[str] = []
    if profile.discipline == "hybrid":
        notes.append(
            f"Hybrid athlete: this methodology plans {rules.discipline} only; endurance and "
            "strength together need a methodology for each"
        )
    elif profile.discipline != rules.discipline:
        notes.append(
            f"The athlete trains for {profile.discipline}, the methodology plans {rules.discipline}"
        )
    if rules.deload_rule == "fixed" and rules.deload_every < 2:
        notes.append("Deload every week isn't a deload: no deload planned")
    if rules.discipline == "strength":
        sessions, more = _plan_strength(profile, assessment, rules, start_date, days, library)
    else:
        sessions, more = _plan_endurance(profile, assessment, rules, start_date, days, library)
    notes += more
    deload_weeks = [w for w in range(1, rules.weeks + 1) if rules.is_deload(w)]
    summary = (
        f"{rules.weeks}-week {rules.discipline} block ({rules.model}) from "
        f"{start_date.isoformat()}: {len(sessions)} sessions on "
        f"{', '.join(_WEEKDAYS[d] for d in days)}, up to {profile.session_minutes} min each"
        + (f"; deload in week {', '.join(map(str, deload_weeks))}" if deload_weeks else "")
    )
    return BlockPlan(
        start_date=start_date,
        weeks=rules.weeks,
        sessions=tuple(sessions),
        derivation=Derivation(
            rule="generate_block",
            inputs={
                "discipline": rules.discipline,
                "athlete_discipline": profile.discipline,
                "model": rules.model,
                "weeks": rules.weeks,
                "start_date": start_date.isoformat(),
                "weekdays": list(days),
                "session_minutes": profile.session_minutes,
                "equipment": sorted(profile.equipment),
                "deload_weeks": deload_weeks,
                "assessed_e1rm_kg": {k: float(v) for k, v in (assessment.e1rm_kg or {}).items()},
                "notes": notes,
            },
            sentence=summary + ("." if not notes else ". " + ". ".join(notes) + "."),
        ),
    )


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def assessment_from_logs(
    assessment: AssessmentInput,
    sets_by_exercise: Mapping[str, Sequence[tuple[date, float, int, float | None]]],
    *,
    method: str = "best_of_last_n",
    n: int = 3,
    weeks: int = 6,
    today: date | None = None,
) -> AssessmentInput:
    """The assessment for the next block: each logged exercise's working e1RM replaces the
    assessed one; exercises without usable logs keep their assessed value."""
    e1rms = dict(assessment.e1rm_kg or {})
    for slug, sets in sets_by_exercise.items():
        value = working_e1rm(sets, method=method, n=n, weeks=weeks, today=today)
        if value is not None:
            e1rms[slug] = value
    return replace(assessment, e1rm_kg=e1rms)
