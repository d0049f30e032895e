"""Nightly autoregulation (SCIENCE.md §1–3): the coach's rules adjust the next sessions,
inside the coach's guardrails, and every change says why in one sentence.

`autoregulate(inputs, rules, library=)` reads what happened up to and including
`inputs.day` (check-ins, logged sessions, daily loads, stored readiness) and returns
`Proposal`s for sessions after that day. It never writes anything: the `programs`
service stores proposals as adjustments and the tier decides who applies them.

How a night is decided (the product's rules; the numbers come from the methodology):
- Readiness rules (`short_sleep_and_low_hrv`, `hrv_low_streak`, `short_sleep`) touch only
  the next session, and only if it is within `READINESS_HORIZON_DAYS` (last night's sleep
  says little about a session four days away). When the combined rule fires it replaces
  `short_sleep`, and `hrv_low_streak` keeps only its volume cut: intensity cuts don't stack.
- `rpe_overshoot` and `velocity` act on the next exposure of the exercise concerned.
- `acwr_spike` caps the rest of the current block week at last week's minutes.
- `decline_deload` turns the next 7 days into a deload (at most once per
  `DELOAD_COOLDOWN_DAYS`).
- A rule acts on a session once: pairs in `inputs.already_applied` are skipped, so a
  session that stays "next" for two nights is not cut twice.
- Guardrails are applied last, to every proposal, against the session as the block
  planned it (so cuts from several rules and nights add up inside the same limits):
  frozen weeks, protected exercises, per-set load change, intensity floor/ceiling, the
  week's load change, the week's volume change, zone floor/ceiling. A proposal that would
  break one is clipped and its sentence says so.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from programs.engine import load as load_engine
from programs.engine import strength
from programs.engine.library import Library
from programs.engine.readiness import HrvStatus, Readiness, ReadinessInputs, hrv_status, readiness

READINESS_HORIZON_DAYS = 2
EXPOSURE_HORIZON_DAYS = 14
DELOAD_WINDOW_DAYS = 7
DELOAD_COOLDOWN_DAYS = 14
SLEEP_BASELINE_DAYS = 28
LV_WINDOW_DAYS = 42
MIN_LV_LOADS = 3
#: Changes that are not a percentage (a swap, a rest day, a zone) count as this large
#: when the tier compares a change with its review threshold.
WHOLESALE_CHANGE_PERCENT = 100.0
RULE_ORDER = (
    "decline_deload",
    "acwr_spike",
    "short_sleep_and_low_hrv",
    "hrv_low_streak",
    "short_sleep",
    "rpe_overshoot",
    "velocity",
)
GUARDRAIL_WORDS = {
    "frozen_weeks": "this is a frozen week in your coach's plan (a test or competition)",
    "protected_exercises": "your coach never substitutes this exercise",
    "max_load_change_session_percent": "your coach's limit on load change per session",
    "intensity_floor_1rm": "your coach's intensity floor",
    "intensity_ceiling_1rm": "your coach's intensity ceiling",
    "max_load_change_week_percent": "your coach's limit on load change per week",
    "max_weekly_volume_change_percent": "your coach's limit on volume change per week",
    "zone_floor": "your coach's easiest zone",
    "zone_ceiling": "your coach's hardest zone",
}


# --- prescriptions ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SetRx:
    exercise: str
    set_index: int
    reps: int
    target_rpe: float | None = None
    percent_1rm: float | None = None
    load_kg: float | None = None


@dataclass(frozen=True, kw_only=True)
class SessionRx:
    """A session's prescription: what an adjustment changes and a revert restores."""

    duration_min: int
    zone: int | None = None
    target_low: float | None = None
    target_high: float | None = None
    planned_tss: float | None = None
    sets: tuple[SetRx, ...] = ()
    rest_day: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "duration_min": self.duration_min,
            "zone": self.zone,
            "target_low": self.target_low,
            "target_high": self.target_high,
            "planned_tss": self.planned_tss,
            "rest_day": self.rest_day,
            "sets": [
                {
                    "exercise": s.exercise,
                    "set_index": s.set_index,
                    "reps": s.reps,
                    "target_rpe": s.target_rpe,
                    "percent_1rm": s.percent_1rm,
                    "load_kg": s.load_kg,
                }
                for s in self.sets
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SessionRx:
        sets = data.get("sets") or []
        if not isinstance(sets, list):
            raise ValueError("sets must be a list")
        return cls(
            duration_min=int(data["duration_min"]),  # type: ignore[arg-type]
            zone=_opt(int, data.get("zone")),
            target_low=_opt(float, data.get("target_low")),
            target_high=_opt(float, data.get("target_high")),
            planned_tss=_opt(float, data.get("planned_tss")),
            rest_day=bool(data.get("rest_day", False)),
            sets=tuple(
                SetRx(
                    exercise=str(s["exercise"]),
                    set_index=int(s["set_index"]),
                    reps=int(s["reps"]),
                    target_rpe=_opt(float, s.get("target_rpe")),
                    percent_1rm=_opt(float, s.get("percent_1rm")),
                    load_kg=_opt(float, s.get("load_kg")),
                )
                for s in sets
            ),
        )

    @property
    def volume(self) -> float:
        """Sets for strength, minutes otherwise: the unit volume caps compare."""
        if self.rest_day:
            return 0.0
        return float(len(self.sets)) if self.sets else float(self.duration_min)


def _opt(kind: type, value: object) -> object:
    return None if value is None else kind(value)


# --- inputs -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DayCheckIn:
    date: date
    sleep_hours: float | None = None
    soreness: int | None = None
    stress: int | None = None
    mood: int | None = None
    hrv_rmssd_ms: float | None = None


@dataclass(frozen=True, kw_only=True)
class LoggedSet:
    exercise: str
    set_index: int
    weight_kg: float
    reps: int
    rpe: float | None = None
    target_rpe: float | None = None  # from the planned set it fulfilled, if any
    velocity_m_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class LoggedSession:
    date: date
    kind: str
    duration_min: float
    sets: tuple[LoggedSet, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PlannedSessionState:
    """A planned session as the block made it (`planned`) and as it stands (`current`)."""

    key: int
    date: date
    week: tuple[int, int]  # (block, week number): the unit weekly caps apply to
    kind: str
    is_deload: bool
    planned: SessionRx
    current: SessionRx


@dataclass(frozen=True, kw_only=True)
class AutoregulationInput:
    day: date
    checkins: Mapping[date, DayCheckIn] = field(default_factory=dict)
    logs: Sequence[LoggedSession] = ()
    daily_loads: Mapping[date, float] = field(default_factory=dict)
    #: Every session of each block week that has a session after `day` (earlier ones
    #: in those weeks count toward weekly caps).
    sessions: Sequence[PlannedSessionState] = ()
    e1rm_kg: Mapping[str, float] = field(default_factory=dict)
    readiness_history: Mapping[date, float] = field(default_factory=dict)
    equipment: frozenset[str] = frozenset()
    #: (rule, session key) pairs that already have an adjustment: not proposed again.
    already_applied: frozenset[tuple[str, int]] = frozenset()
    #: the last date each rule changed this athlete's plan (for cooldowns)
    last_fired: Mapping[str, date] = field(default_factory=dict)


# --- outputs ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Proposal:
    session_key: int
    date: date
    rule: str
    changes: tuple[str, ...]  # load, sets, duration, zone, swap, rest_day
    before: SessionRx
    after: SessionRx
    inputs: Mapping[str, object]
    clipped_by: tuple[str, ...]
    magnitude_percent: float
    alert: bool
    sentence: str


@dataclass(frozen=True, kw_only=True)
class AutoregulationResult:
    day: date
    readiness: Readiness
    hrv: HrvStatus
    metrics: Mapping[str, float | None]
    proposals: tuple[Proposal, ...]
    #: rules that fired but changed nothing, and why (a frozen week, already applied…)
    notes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class LoadVelocityProfile:
    slope: float  # m/s per kg (negative)
    intercept: float  # m/s at 0 kg
    r2: float
    points: int

    def velocity_at(self, load_kg: float) -> float:
        return self.intercept + self.slope * load_kg

    def e1rm_at(self, mvt_m_s: float) -> float:
        """The load at the lift's minimum velocity threshold: the day's e1RM."""
        return (mvt_m_s - self.intercept) / self.slope


def load_velocity_profile(points: Iterable[tuple[float, float]]) -> LoadVelocityProfile | None:
    """Least-squares line of mean velocity on load (González-Badillo & Sánchez-Medina 2010).

    `points` are (load_kg, velocity_m_s). None unless there are ≥ 3 distinct loads and
    velocity falls as load rises (a profile that says otherwise can't give an e1RM).
    """
    pts = [(float(x), float(v)) for x, v in points]
    if any(x < 0 or v <= 0 for x, v in pts):
        raise ValueError("loads must be ≥ 0 kg and velocities > 0 m/s")
    if len({x for x, _ in pts}) < MIN_LV_LOADS:
        return None
    mx = statistics.fmean(x for x, _ in pts)
    mv = statistics.fmean(v for _, v in pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    sxv = sum((x - mx) * (v - mv) for x, v in pts)
    slope = sxv / sxx
    if slope >= 0:
        return None
    intercept = mv - slope * mx
    ss_tot = sum((v - mv) ** 2 for _, v in pts)
    ss_res = sum((v - (intercept + slope * x)) ** 2 for x, v in pts)
    r2 = 1 - ss_res / ss_tot if ss_tot else 1.0
    return LoadVelocityProfile(slope=slope, intercept=intercept, r2=r2, points=len(pts))


# --- what a rule wants ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Intent:
    """A rule's wish for one session, before guardrails: factors relative to `current`."""

    load_factor: float = 1.0
    volume_factor: float = 1.0
    exercise: str | None = None  # load/volume change limited to this exercise
    max_sets: int | None = None  # with `exercise`: keep at most this many of its sets
    swap: tuple[str, str] | None = None  # (from, to)
    #: round loads down to the plate, never past the factor (a micro-progression of 1 %
    #: must not become 1.7 % because of a 2.5 kg plate)
    round_down: bool = False
    why: str = ""
    inputs: Mapping[str, object] = field(default_factory=dict)


def _pct(x: float) -> str:
    value = round(x * 100, 1)
    text = f"{value:+g}".replace("-", "−")
    return f"{text} %"


def _round_load(load: float, increment: float) -> float:
    return strength.round_to_increment(load, increment)


def _apply(
    rx: SessionRx, intent: _Intent, *, kind: str, increment: float, library: Library
) -> SessionRx:
    """The session with the intent applied (no guardrails yet)."""
    if rx.rest_day:
        return rx
    if kind != "strength":
        minutes = max(0, round(rx.duration_min * intent.volume_factor / 5) * 5)
        if minutes == 0:
            return replace(rx, rest_day=True, duration_min=0, planned_tss=0.0)
        scale = intent.load_factor
        tss = None
        if rx.planned_tss is not None:
            # TSS ∝ duration × IF² (Coggan): intensity enters squared.
            tss = round(rx.planned_tss * minutes / max(rx.duration_min, 1) * scale**2, 1)
        return replace(
            rx,
            duration_min=minutes,
            target_low=None if rx.target_low is None else round(rx.target_low * scale, 2),
            target_high=None if rx.target_high is None else round(rx.target_high * scale, 2),
            planned_tss=tss,
        )
    sets = list(rx.sets)
    if intent.swap:
        old, new = intent.swap
        sets = [
            replace(s, exercise=new, load_kg=_swapped_load(s, old, new, library, increment))
            if s.exercise == old
            else s
            for s in sets
        ]
    out: list[SetRx] = []
    for s in sets:
        if intent.exercise is None or s.exercise == intent.exercise:
            if s.load_kg is not None and intent.load_factor != 1.0:
                wanted = s.load_kg * intent.load_factor
                new = (
                    math.floor(wanted / increment + 1e-9) * increment
                    if intent.round_down
                    else _round_load(wanted, increment)
                )
                s = replace(s, load_kg=round(new, 6))
                if s.percent_1rm is not None:
                    s = replace(s, percent_1rm=round(s.percent_1rm * intent.load_factor, 3))
        out.append(s)
    out = _cut_sets(out, intent)
    if not out:
        return replace(rx, rest_day=True, duration_min=0, sets=())
    minutes = rx.duration_min
    if len(out) != len(rx.sets) and rx.sets:
        minutes = max(10, round(rx.duration_min * len(out) / len(rx.sets)))
    return replace(rx, sets=tuple(out), duration_min=minutes)


def _cut_sets(sets: list[SetRx], intent: _Intent) -> list[SetRx]:
    """Fewer sets: each exercise keeps at least one; the last sets of each go first."""
    by_exercise: dict[str, list[SetRx]] = {}
    for s in sets:
        by_exercise.setdefault(s.exercise, []).append(s)
    keep: set[tuple[str, int]] = set()
    for slug, group in by_exercise.items():
        n = len(group)
        if intent.exercise is not None and slug != intent.exercise:
            target = n
        elif intent.max_sets is not None:
            target = min(n, intent.max_sets)
        else:
            target = n if intent.volume_factor >= 1 else math.floor(n * intent.volume_factor + 0.5)
        if intent.volume_factor > 0:
            target = max(1, target)
        keep.update((slug, s.set_index) for s in group[:target])
    return [s for s in sets if (s.exercise, s.set_index) in keep]


def _swapped_load(s: SetRx, old: str, new: str, library: Library, increment: float) -> float | None:
    """The substitute's load from the group's e1RM ratios; RPE-only when unknown."""
    a, b = library.get(old), library.get(new)
    if s.load_kg is None or a is None or b is None or not b.loadable:
        return None
    if not a.e1rm_ratio or not b.e1rm_ratio:
        return None
    # Ratios are to the group's reference lift (per hand for dumbbells), so the same
    # fraction of the substitute's e1RM is this load scaled by the ratios.
    return _round_load(s.load_kg * b.e1rm_ratio / a.e1rm_ratio, increment)


# --- guardrails -----------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _guard(
    state: PlannedSessionState,
    before: SessionRx,
    after: SessionRx,
    *,
    week_others: Sequence[SessionRx],
    week_planned: Sequence[SessionRx],
    rails: Mapping[str, object],
    e1rm_kg: Mapping[str, float],
    increment: float,
) -> tuple[SessionRx, list[str]]:
    """Clip `after` to the coach's guardrails; returns it and the guardrails that bit."""
    clipped: list[str] = []
    frozen = {date.fromisoformat(str(d)) for d in rails.get("frozen_weeks", ())}  # type: ignore[union-attr]
    if _monday(state.date) in frozen:
        return before, ["frozen_weeks"]
    protected = set(rails.get("protected_exercises", ()))  # type: ignore[arg-type]
    planned_sets = {s.set_index: s for s in state.planned.sets}
    before_sets = {s.set_index: s for s in before.sets}
    session_cap = float(rails["max_load_change_session_percent"]) / 100  # type: ignore[arg-type]
    sets: list[SetRx] = []
    for s in after.sets:
        original = planned_sets.get(s.set_index)
        previous = before_sets.get(s.set_index)
        if original is not None and original.exercise != s.exercise:
            if original.exercise in protected and previous is not None:
                s = previous
                _note(clipped, "protected_exercises")
        # Limits bind changes, not the plan: a set this proposal leaves alone stays as it
        # is, and a clipped set never ends up further from its limit than it started.
        if (
            s.load_kg is None
            or previous is None
            or previous.exercise != s.exercise
            or previous.load_kg is None
            or s.load_kg == previous.load_kg
        ):
            sets.append(s)
            continue
        was = previous.load_kg
        bounds = []
        if original is not None and original.exercise == s.exercise and original.load_kg:
            bounds.append(
                (
                    "max_load_change_session_percent",
                    original.load_kg * (1 - session_cap),
                    original.load_kg * (1 + session_cap),
                )
            )
        ref = e1rm_kg.get(s.exercise)
        if ref:
            floor = float(rails["intensity_floor_1rm"]) * ref  # type: ignore[arg-type]
            ceiling = float(rails["intensity_ceiling_1rm"]) * ref  # type: ignore[arg-type]
            bounds.append(("intensity_floor_1rm", floor, math.inf))
            bounds.append(("intensity_ceiling_1rm", 0.0, ceiling))
        for rail, low, high in bounds:
            low, high = min(low, was), max(high, was)
            if s.load_kg < low - 1e-9 or s.load_kg > high + 1e-9:
                s = replace(s, load_kg=_inside(s.load_kg, low, high, increment))
                _note(clipped, rail)
        sets.append(s)
    after = replace(after, sets=tuple(sets))
    after = _guard_week_load(before, after, week_others, week_planned, rails, increment, clipped)
    after = _guard_week_volume(before, after, week_others, week_planned, rails, clipped)
    if after.zone is not None:
        floor, ceiling = int(rails["zone_floor"]), int(rails["zone_ceiling"])  # type: ignore[call-overload]
        if after.zone < floor:
            after, _ = replace(after, zone=floor), _note(clipped, "zone_floor")
        elif after.zone > ceiling:
            after, _ = replace(after, zone=ceiling), _note(clipped, "zone_ceiling")
    return after, clipped


def _note(clipped: list[str], rail: str) -> None:
    if rail not in clipped:
        clipped.append(rail)


def _inside(load: float, low: float, high: float, increment: float) -> float:
    """The nearest plate-rounded load within [low, high] (rounding toward the inside)."""
    target = min(max(load, low), high)
    rounded = _round_load(target, increment)
    if rounded < low - 1e-9:
        rounded = math.ceil(low / increment - 1e-9) * increment
    if rounded > high + 1e-9:
        rounded = math.floor(high / increment + 1e-9) * increment
    return round(rounded, 6)


def _guard_week_load(
    before: SessionRx,
    after: SessionRx,
    others: Sequence[SessionRx],
    planned: Sequence[SessionRx],
    rails: Mapping[str, object],
    increment: float,
    clipped: list[str],
) -> SessionRx:
    """The week's load change: tonnage at the new loads vs at the planned loads, over
    the same sets, within the weekly cap; this session's load deltas shrink to fit."""
    cap = float(rails["max_load_change_week_percent"]) / 100  # type: ignore[arg-type]
    planned_by_index = [
        {s.set_index: s for s in rx.sets} for rx in planned
    ]  # aligned with [*others, this]
    sessions = [*others, after]

    def week_ratio(candidate: SessionRx) -> float | None:
        actual = ref = 0.0
        for rx, plan in zip([*others, candidate], planned_by_index, strict=True):
            for s in rx.sets:
                p = plan.get(s.set_index)
                if s.load_kg is None or p is None or not p.load_kg or p.exercise != s.exercise:
                    continue
                actual += s.load_kg * s.reps
                ref += p.load_kg * s.reps
        return actual / ref - 1 if ref else None

    ratio = week_ratio(sessions[-1])
    if ratio is None or abs(ratio) <= cap + 1e-9:
        return after
    before_loads = {s.set_index: s.load_kg for s in before.sets}
    # Shrink this session's changes step by step (plate-rounded) until the week fits.
    for step in range(10, -1, -1):
        alpha = step / 10
        sets = []
        for s in after.sets:
            b = before_loads.get(s.set_index)
            if s.load_kg is None or b is None:
                sets.append(s)
                continue
            sets.append(replace(s, load_kg=_round_load(b + alpha * (s.load_kg - b), increment)))
        candidate = replace(after, sets=tuple(sets))
        r = week_ratio(candidate)
        if r is None or abs(r) <= cap + 1e-9:
            _note(clipped, "max_load_change_week_percent")
            return candidate
    _note(clipped, "max_load_change_week_percent")
    return candidate


def _guard_week_volume(
    before: SessionRx,
    after: SessionRx,
    others: Sequence[SessionRx],
    planned: Sequence[SessionRx],
    rails: Mapping[str, object],
    clipped: list[str],
) -> SessionRx:
    """The week's volume (sets, or minutes) within the weekly cap of the planned week;
    cut sets come back (or minutes are restored) until it fits."""
    cap = float(rails["max_weekly_volume_change_percent"]) / 100  # type: ignore[arg-type]
    planned_volume = sum(rx.volume for rx in planned)
    if not planned_volume:
        return after
    others_volume = sum(rx.volume for rx in others)
    low = planned_volume * (1 - cap) - others_volume
    if after.volume >= low - 1e-9 or after.volume >= before.volume:
        return after
    _note(clipped, "max_weekly_volume_change_percent")
    if not before.sets:
        minutes = min(before.duration_min, math.ceil(max(low, 0) / 5) * 5)
        tss = before.planned_tss
        if after.planned_tss is not None and after.duration_min:
            tss = round(after.planned_tss * minutes / after.duration_min, 1)
        elif before.planned_tss is not None and before.duration_min:
            tss = round(before.planned_tss * minutes / before.duration_min, 1)
        return replace(after, duration_min=minutes, rest_day=False, planned_tss=tss)
    # Put back the sets this proposal removed, in prescription order, until it fits.
    kept = {s.set_index for s in after.sets}
    by_index = {s.set_index: s for s in after.sets}
    restored = list(after.sets)
    for s in before.sets:
        if len(restored) >= low - 1e-9:
            break
        if s.set_index not in kept:
            restored.append(by_index.get(s.set_index, s))
    restored.sort(key=lambda s: s.set_index)
    minutes = max(10, round(before.duration_min * len(restored) / max(len(before.sets), 1)))
    return replace(after, sets=tuple(restored), duration_min=minutes, rest_day=False)


# --- the rules --------------------------------------------------------------------------


def _rules(document: Mapping[str, object]) -> dict[str, Mapping[str, object]]:
    section = document.get("autoregulation") or {}
    return {
        r["name"]: r
        for r in section.get("rules", ())  # type: ignore[union-attr]
        if r.get("enabled", True)
    }


def _ln_rmssd(checkins: Mapping[date, DayCheckIn]) -> dict[date, float]:
    return {
        d: math.log(c.hrv_rmssd_ms)
        for d, c in checkins.items()
        if c.hrv_rmssd_ms is not None and c.hrv_rmssd_ms > 0
    }


def _hrv_low_nights(ln: Mapping[date, float], day: date, days: int) -> list[HrvStatus] | None:
    """The statuses of the last `days` days if every one was "low", else None."""
    statuses = [hrv_status(ln, day - timedelta(days=k)) for k in range(days)]
    return statuses if all(s.status == "low" for s in statuses) else None


def _top_set(session: LoggedSession, exercise: str) -> LoggedSet | None:
    rated = [
        s
        for s in session.sets
        if s.exercise == exercise and s.rpe is not None and s.target_rpe is not None
    ]
    # The heaviest set; of equals, the one rated hardest (the day's real top set).
    return max(rated, key=lambda s: (s.weight_kg, s.reps, s.rpe), default=None)


def _last_exposures(logs: Sequence[LoggedSession]) -> dict[str, LoggedSession]:
    last: dict[str, LoggedSession] = {}
    for log in sorted(logs, key=lambda s: s.date):
        for s in log.sets:
            last[s.exercise] = log
    return last


def _sleep_baseline(checkins: Mapping[date, DayCheckIn], day: date) -> float | None:
    start = day - timedelta(days=SLEEP_BASELINE_DAYS)
    hours = [
        float(c.sleep_hours)
        for d, c in checkins.items()
        if start <= d < day and c.sleep_hours is not None
    ]
    return statistics.median(hours) if len(hours) >= 7 else None


def _rpe_deviation(logs: Sequence[LoggedSession]) -> float | None:
    for log in sorted(logs, key=lambda s: s.date, reverse=True):
        tops = [t for t in (_top_set(log, ex) for ex in {s.exercise for s in log.sets}) if t]
        if tops:
            top = max(tops, key=lambda s: s.weight_kg)
            return float(top.rpe) - float(top.target_rpe)  # type: ignore[arg-type]
    return None


def _session_performance(log: LoggedSession, e1rm_kg: Mapping[str, float]) -> float | None:
    """Mean of (best set's e1RM / working e1RM − 1) over the session's assessed lifts."""
    ratios = []
    for slug in {s.exercise for s in log.sets}:
        ref = e1rm_kg.get(slug)
        if not ref:
            continue
        values = [
            strength.logged_set_e1rm(s.weight_kg, s.reps, s.rpe)
            for s in log.sets
            if s.exercise == slug
        ]
        best = max((v for v in values if v is not None), default=None)
        if best:
            ratios.append(best / ref - 1)
    return statistics.fmean(ratios) if ratios else None


@dataclass
class _Night:
    """Working state for one run: what each rule saw, and the sessions as they stand."""

    inputs: AutoregulationInput
    document: Mapping[str, object]
    library: Library
    increment: float
    rails: Mapping[str, object]
    current: dict[int, SessionRx]
    proposals: list[Proposal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def upcoming(self, days: int) -> list[PlannedSessionState]:
        day = self.inputs.day
        return sorted(
            (
                s
                for s in self.inputs.sessions
                if day < s.date <= day + timedelta(days=days) and not self.current[s.key].rest_day
            ),
            key=lambda s: (s.date, s.key),
        )

    def propose(self, state: PlannedSessionState, rule: Mapping[str, object], intent: _Intent):
        name = str(rule["name"])
        if (name, state.key) in self.inputs.already_applied:
            self.notes.append(f"{name}: session {state.key} already adjusted by this rule")
            return
        before = self.current[state.key]
        wanted = _apply(
            before, intent, kind=state.kind, increment=self.increment, library=self.library
        )
        week = [s for s in self.inputs.sessions if s.week == state.week and s.key != state.key]
        after, clipped = _guard(
            state,
            before,
            wanted,
            week_others=[self.current[s.key] for s in week],
            week_planned=[s.planned for s in week] + [state.planned],
            rails=self.rails,
            e1rm_kg=self.inputs.e1rm_kg,
            increment=self.increment,
        )
        if after == before:
            why = f"; held by {', '.join(clipped)}" if clipped else ""
            self.notes.append(f"{name}: no change to session {state.key}{why}")
            return
        changes = changes_between(before, after)
        sentence = _sentence(before, after, intent, clipped, wanted)
        self.proposals.append(
            Proposal(
                session_key=state.key,
                date=state.date,
                rule=name,
                changes=changes,
                before=before,
                after=after,
                inputs={**intent.inputs, "params": dict(rule.get("params", {}))},  # type: ignore[arg-type]
                clipped_by=tuple(clipped),
                magnitude_percent=magnitude_percent(before, after),
                alert=bool(rule.get("alert", False)),
                sentence=sentence,
            )
        )
        self.current[state.key] = after


def changes_between(before: SessionRx, after: SessionRx) -> tuple[str, ...]:
    out = []
    if after.rest_day and not before.rest_day:
        return ("rest_day",)
    b_loads = {s.set_index: (s.exercise, s.load_kg) for s in before.sets}
    a_loads = {s.set_index: (s.exercise, s.load_kg) for s in after.sets}
    if any(b_loads[i][0] != a[0] for i, a in a_loads.items() if i in b_loads):
        out.append("swap")
    if any(
        b_loads[i][1] != a[1] for i, a in a_loads.items() if i in b_loads and b_loads[i][0] == a[0]
    ):
        out.append("load")
    if len(before.sets) != len(after.sets):
        out.append("sets")
    if (before.target_low, before.target_high) != (after.target_low, after.target_high):
        out.append("intensity")
    if before.duration_min != after.duration_min and not before.sets:
        out.append("duration")
    if before.zone != after.zone:
        out.append("zone")
    return tuple(out)


def magnitude_percent(before: SessionRx, after: SessionRx) -> float:
    """The size of the change in %, as a tier compares it with its review threshold."""
    if after.rest_day != before.rest_day:
        return WHOLESALE_CHANGE_PERCENT
    sizes = [0.0]
    b = {s.set_index: s for s in before.sets}
    for s in after.sets:
        old = b.get(s.set_index)
        if old is None or old.exercise != s.exercise or before.zone != after.zone:
            return WHOLESALE_CHANGE_PERCENT
        if old.load_kg and s.load_kg is not None:
            sizes.append(abs(s.load_kg / old.load_kg - 1) * 100)
    if before.volume:
        sizes.append(abs(after.volume / before.volume - 1) * 100)
    if before.target_high and after.target_high is not None:
        sizes.append(abs(after.target_high / before.target_high - 1) * 100)
    return round(max(sizes), 2)


def describe_change(before: SessionRx, after: SessionRx) -> str:
    parts = []
    swapped = [
        (b.exercise, a.exercise)
        for b, a in zip(before.sets, after.sets, strict=False)
        if b.set_index == a.set_index and b.exercise != a.exercise
    ]
    if after.rest_day:
        return "Rest day instead of this session"
    if swapped:
        old, new = swapped[0]
        parts.append(f"{_name(new)} instead of {_name(old)}")
    b_by = {s.set_index: s for s in before.sets}
    ratios = [
        s.load_kg / b_by[s.set_index].load_kg
        for s in after.sets
        if s.set_index in b_by
        and b_by[s.set_index].load_kg
        and s.load_kg is not None
        and b_by[s.set_index].exercise == s.exercise
        and s.load_kg != b_by[s.set_index].load_kg
    ]
    if ratios:
        parts.append(f"Intensity {_pct(statistics.fmean(ratios) - 1)}")
    if before.target_high and after.target_high and after.target_high != before.target_high:
        parts.append(f"Intensity {_pct(after.target_high / before.target_high - 1)}")
    if before.sets and len(after.sets) != len(before.sets):
        parts.append(
            f"volume {_pct(len(after.sets) / len(before.sets) - 1)} "
            f"({len(after.sets)} sets instead of {len(before.sets)})"
        )
    elif not before.sets and after.duration_min != before.duration_min:
        parts.append(
            f"volume {_pct(after.duration_min / before.duration_min - 1)} "
            f"({after.duration_min} min instead of {before.duration_min})"
        )
    text = " and ".join(parts) or "Prescription changed"
    return text[0].upper() + text[1:]


def _name(slug: str) -> str:
    return slug.replace("-", " ")


def _sentence(
    before: SessionRx, after: SessionRx, intent: _Intent, clipped: list[str], wanted: SessionRx
) -> str:
    sentence = f"{describe_change(before, after)} because {intent.why}."
    if clipped:
        words = " and ".join(GUARDRAIL_WORDS[c] for c in clipped)
        if wanted != after:
            sentence += (
                f" The engine wanted {describe_change(before, wanted).lower()}; limited by {words}."
            )
        else:
            sentence += f" Kept within {words}."
    return sentence


def _readiness_rules(night: _Night, rules: Mapping[str, Mapping[str, object]]) -> None:
    inputs = night.inputs
    upcoming = night.upcoming(READINESS_HORIZON_DAYS)
    if not upcoming:
        return
    session = upcoming[0]
    ln = _ln_rmssd(inputs.checkins)
    checkin = inputs.checkins.get(inputs.day)
    sleep = None if checkin is None or checkin.sleep_hours is None else float(checkin.sleep_hours)
    hrv_today = hrv_status(ln, inputs.day)
    combined = rules.get("short_sleep_and_low_hrv")
    combined_fired = False
    if combined:
        p = combined["params"]
        if sleep is not None and sleep < float(p["hours_below"]) and hrv_today.status == "low":  # type: ignore[index]
            combined_fired = True
            feeling = {
                "sleep_hours": sleep,
                "hrv_status": "low",
                "hrv_rolling_ln_rmssd": hrv_today.rolling_mean,
                "hrv_baseline_ln_rmssd": hrv_today.baseline_mean,
            }
            why = f"you slept {sleep:g} h last night and your HRV is below your baseline"
            intent = None
            if p["action"] == "substitute" and session.kind == "strength":  # type: ignore[index]
                intent = _substitution(night, session, why, feeling)
            if intent is None:
                intent = _Intent(
                    load_factor=1 + float(p["intensity_percent"]) / 100,  # type: ignore[index]
                    why=why,
                    inputs=feeling,
                )
            night.propose(session, combined, intent)
    streak_rule = rules.get("hrv_low_streak")
    if streak_rule:
        p = streak_rule["params"]
        days = int(p["days"])  # type: ignore[index]
        nights = _hrv_low_nights(ln, inputs.day, days)
        if nights:
            intent = _Intent(
                load_factor=1.0 if combined_fired else 1 + float(p["intensity_percent"]) / 100,  # type: ignore[index]
                volume_factor=1 + float(p["volume_percent"]) / 100,  # type: ignore[index]
                why=f"your HRV has been below your baseline for {days} nights",
                inputs={
                    "nights": [
                        {
                            "date": (inputs.day - timedelta(days=k)).isoformat(),
                            "rolling_ln_rmssd": round(s.rolling_mean or 0, 4),
                            "baseline_ln_rmssd": round(s.baseline_mean or 0, 4),
                            "baseline_sd": round(s.baseline_sd or 0, 4),
                        }
                        for k, s in enumerate(nights)
                    ],
                    "intensity_held_by": "short_sleep_and_low_hrv" if combined_fired else None,
                },
            )
            night.propose(session, streak_rule, intent)
    short = rules.get("short_sleep")
    if short and not combined_fired and sleep is not None:
        p = short["params"]
        if sleep < float(p["hours_below"]):  # type: ignore[index]
            night.propose(
                session,
                short,
                _Intent(
                    load_factor=1 + float(p["intensity_percent"]) / 100,  # type: ignore[index]
                    why=f"you slept {sleep:g} h last night (under {float(p['hours_below']):g} h)",  # type: ignore[index]
                    inputs={"sleep_hours": sleep, "hours_below": p["hours_below"]},  # type: ignore[index]
                ),
            )


def _substitution(
    night: _Night, session: PlannedSessionState, why: str, feeling: Mapping[str, object]
) -> _Intent | None:
    """Swap the heaviest bilateral lift (most fatiguing, then heaviest load) for a
    lower-fatigue variant of its group, unilateral first. None (so the rule reduces
    instead) when that lift is protected or has no such variant the athlete can do."""
    protected = set(night.rails.get("protected_exercises", ()))  # type: ignore[arg-type]
    rx = night.current[session.key]
    heaviest: dict[str, float] = {}
    for s in rx.sets:
        heaviest[s.exercise] = max(heaviest.get(s.exercise, 0.0), s.load_kg or 0.0)
    bilateral = [
        info
        for slug in heaviest
        if (info := night.library.get(slug)) is not None
        and not info.unilateral
        and info.substitution_group
    ]
    if not bilateral:
        return None
    info = min(bilateral, key=lambda e: (-e.fatigue, -heaviest[e.slug], e.slug))
    if info.slug in protected:
        night.notes.append(f"short_sleep_and_low_hrv: {info.slug} is protected, not swapped")
        return None
    options = [
        e
        for e in night.library.group(info.substitution_group)
        if e.slug != info.slug
        and e.fatigue < info.fatigue
        and e.possible_with(night.inputs.equipment)
        and e.slug not in heaviest
    ]
    if not options:
        night.notes.append(f"short_sleep_and_low_hrv: no lower-fatigue variant of {info.slug}")
        return None
    pick = min(options, key=lambda e: (not e.unilateral, e.fatigue, e.slug))
    return _Intent(
        swap=(info.slug, pick.slug),
        why=why,
        inputs={**feeling, "swapped": info.slug, "for": pick.slug},
    )


def _rpe_overshoot(night: _Night, rule: Mapping[str, object]) -> None:
    above = float(rule["params"]["rpe_above_target"])  # type: ignore[index]
    for slug, log in sorted(_last_exposures(night.inputs.logs).items()):
        top = _top_set(log, slug)
        if top is None or top.rpe is None or top.target_rpe is None:
            continue
        if top.rpe < top.target_rpe + above or top.reps > 12 or top.weight_kg <= 0:
            continue
        target = min(10.0, max(6.5, top.target_rpe))
        actual = min(10.0, max(6.5, round(top.rpe * 2) / 2))
        adjusted = strength.rpe_adjusted_load(top.weight_kg, top.reps, target, actual)
        factor = adjusted / top.weight_kg
        nxt = next(
            (
                s
                for s in night.upcoming(EXPOSURE_HORIZON_DAYS)
                if any(x.exercise == slug and x.load_kg for x in night.current[s.key].sets)
            ),
            None,
        )
        if nxt is None:
            continue
        night.propose(
            nxt,
            rule,
            _Intent(
                load_factor=factor,
                exercise=slug,
                why=(
                    f"your top set of {_name(slug)} on {log.date.isoformat()} felt like "
                    f"RPE {top.rpe:g} against a target of {top.target_rpe:g}"
                ),
                inputs={
                    "logged": {
                        "date": log.date.isoformat(),
                        "exercise": slug,
                        "weight_kg": top.weight_kg,
                        "reps": top.reps,
                        "rpe": top.rpe,
                        "target_rpe": top.target_rpe,
                    },
                    "rpe_adjusted_load_kg": round(adjusted, 2),
                },
            ),
        )


def _acwr_spike(night: _Night, rule: Mapping[str, object], metrics: Mapping[str, object]) -> None:
    ratio = metrics.get("acwr")
    above = float(rule["params"]["above"])  # type: ignore[index]
    if ratio is None or ratio <= above:  # type: ignore[operator]
        return
    day = night.inputs.day
    upcoming = night.upcoming(7)
    if not upcoming:
        return
    week = upcoming[0].week
    remaining = [s for s in upcoming if s.week == week]
    week_start = min(s.date for s in night.inputs.sessions if s.week == week)
    last_week = [
        log for log in night.inputs.logs if week_start - timedelta(days=7) <= log.date < week_start
    ]
    done = [log for log in night.inputs.logs if week_start <= log.date <= day]
    last_minutes = sum(log.duration_min for log in last_week)
    done_minutes = sum(log.duration_min for log in done)
    planned_minutes = sum(night.current[s.key].duration_min for s in remaining)
    if planned_minutes <= 0 or done_minutes + planned_minutes <= last_minutes:
        return
    factor = max(0.0, (last_minutes - done_minutes) / planned_minutes)
    for session in remaining:
        night.propose(
            session,
            rule,
            _Intent(
                volume_factor=factor,
                why=(
                    f"your acute:chronic load ratio is {ratio:.2f} (above {above:g}): this "
                    f"week is capped at last week's {last_minutes:.0f} minutes"
                ),
                inputs={
                    "acwr": round(float(ratio), 3),  # type: ignore[arg-type]
                    "last_week_minutes": round(last_minutes, 1),
                    "done_this_week_minutes": round(done_minutes, 1),
                    "planned_remaining_minutes": planned_minutes,
                },
            ),
        )


def _decline_deload(night: _Night, rule: Mapping[str, object]) -> None:
    p = rule["params"]
    inputs = night.inputs
    last = inputs.last_fired.get("decline_deload")
    if last is not None and (inputs.day - last).days < DELOAD_COOLDOWN_DAYS:
        return
    n = int(p["sessions"])  # type: ignore[index]
    strength_logs = sorted(
        (log for log in inputs.logs if log.sets and log.date <= inputs.day), key=lambda s: s.date
    )[-n:]
    if len(strength_logs) < n:
        return
    performance = [_session_performance(log, inputs.e1rm_kg) for log in strength_logs]
    cut = -float(p["decline_percent"]) / 100  # type: ignore[index]
    if any(x is None or x > cut for x in performance):
        return
    scores = [inputs.readiness_history.get(log.date) for log in strength_logs]
    known = [s for s in scores if s is not None]
    if not known or statistics.fmean(known) >= float(p["readiness_below"]):  # type: ignore[index]
        return
    evidence = {
        "sessions": [
            {"date": log.date.isoformat(), "vs_working_e1rm": round(x or 0, 4), "readiness": r}
            for log, x, r in zip(strength_logs, performance, scores, strict=True)
        ],
        "mean_readiness": round(statistics.fmean(known), 1),
    }
    why = (
        f"your lifts have been below your working maxes for {n} sessions in a row "
        f"while your readiness averaged {statistics.fmean(known):.0f}/100"
    )
    for session in night.upcoming(DELOAD_WINDOW_DAYS):
        if session.is_deload or session.kind != "strength":
            continue
        night.propose(
            session,
            rule,
            _Intent(volume_factor=1 + float(p["volume_percent"]) / 100, why=why, inputs=evidence),  # type: ignore[index]
        )


def _velocity(night: _Night, rule: Mapping[str, object], metrics: Mapping[str, object]) -> None:
    p = rule["params"]
    inputs = night.inputs
    since = inputs.day - timedelta(days=LV_WINDOW_DAYS)
    acwr_rule = night.document.get("autoregulation", {})
    spike = next(
        (
            float(r["params"]["above"])
            for r in acwr_rule.get("rules", ())  # type: ignore[union-attr]
            if r["name"] == "acwr_spike"
        ),
        1.5,
    )
    for slug, log in sorted(_last_exposures(inputs.logs).items()):
        sets = [s for s in log.sets if s.exercise == slug and s.velocity_m_s]
        if not sets:
            continue
        nxt = next(
            (
                s
                for s in night.upcoming(EXPOSURE_HORIZON_DAYS)
                if any(x.exercise == slug for x in night.current[s.key].sets)
            ),
            None,
        )
        if nxt is None:
            continue
        first, fastest = sets[0], max(s.velocity_m_s for s in sets)  # type: ignore[type-var]
        slowest = min(sets[1:], key=lambda s: s.velocity_m_s, default=None)  # type: ignore[arg-type,return-value]
        cutoff = float(p["velocity_loss_cutoff_percent"]) / 100  # type: ignore[index]
        if slowest is not None and slowest.velocity_m_s < fastest * (1 - cutoff):  # type: ignore[operator]
            over = next(i for i, s in enumerate(sets) if s.velocity_m_s < fastest * (1 - cutoff))  # type: ignore[operator]
            keep = max(1, over)
            loss = 1 - float(slowest.velocity_m_s) / float(fastest)  # type: ignore[arg-type]
            night.propose(
                nxt,
                rule,
                _Intent(
                    exercise=slug,
                    max_sets=keep,
                    why=(
                        f"bar speed on {_name(slug)} dropped {loss * 100:.0f} % across your sets "
                        f"on {log.date.isoformat()} (your coach stops at {cutoff * 100:g} %)"
                    ),
                    inputs={
                        "velocities_m_s": [s.velocity_m_s for s in sets],
                        "loss": round(loss, 3),
                        "cutoff": cutoff,
                    },
                ),
            )
            continue
        points = [
            (s.weight_kg, float(s.velocity_m_s))  # type: ignore[arg-type]
            for x in inputs.logs
            if x.date >= since
            for s in x.sets
            if s.exercise == slug and s.velocity_m_s and s.weight_kg > 0
        ]
        profile = load_velocity_profile(points)
        if profile is None or first.weight_kg <= 0:
            continue
        expected = profile.velocity_at(first.weight_kg)
        first_v = float(first.velocity_m_s)  # type: ignore[arg-type]
        faster_by = float(p["faster_by_m_s"])  # type: ignore[index]
        ratio = metrics.get("acwr")
        if float(first.velocity_m_s) <= expected + faster_by:  # type: ignore[arg-type]
            continue
        if ratio is not None and ratio > spike:  # type: ignore[operator]
            night.notes.append(f"velocity: micro-progression held, ACWR {ratio:.2f} > {spike:g}")
            continue
        step = float(p["micro_progression_percent"]) / 100  # type: ignore[index]
        night.propose(
            nxt,
            rule,
            _Intent(
                load_factor=1 + step,
                exercise=slug,
                round_down=True,
                why=(
                    f"your first set of {_name(slug)} moved at {first_v:.2f} m/s, "
                    f"faster than the {expected:.2f} m/s your profile expects at "
                    f"{first.weight_kg:g} kg"
                ),
                inputs={
                    "first_set_velocity_m_s": first.velocity_m_s,
                    "expected_velocity_m_s": round(expected, 3),
                    "profile": {
                        "slope": round(profile.slope, 5),
                        "intercept": round(profile.intercept, 4),
                        "r2": round(profile.r2, 3),
                        "points": profile.points,
                    },
                    "daily_e1rm_kg": round(profile.e1rm_at(float(p["mvt_m_s"])), 1),  # type: ignore[index]
                },
            ),
        )


def _metrics(inputs: AutoregulationInput) -> dict[str, float | None]:
    """ACWR, monotony and the PMC on `day` from the daily loads (0 on days without)."""
    if not inputs.daily_loads:
        return {"acwr": None, "monotony": None, "ctl": None, "atl": None, "tsb": None}
    first = min(inputs.daily_loads)
    days = (inputs.day - first).days + 1
    series = [inputs.daily_loads.get(first + timedelta(days=k), 0.0) for k in range(max(days, 1))]
    ratio = load_engine.acwr(series)[-1]
    pmc = load_engine.pmc(series)[-1]
    week = series[-7:]
    mono = load_engine.monotony(week) if len(week) == 7 else None
    return {
        "acwr": None if ratio is None else round(ratio, 3),
        "monotony": None if mono is None else round(mono, 3),
        "ctl": round(pmc[0], 2),
        "atl": round(pmc[1], 2),
        "tsb": round(pmc[2], 2),
    }


def day_readiness(
    inputs: AutoregulationInput, weights: Mapping[str, float]
) -> tuple[Readiness, HrvStatus]:
    """Readiness on `inputs.day` from that day's check-in, HRV and the last session."""
    ln = _ln_rmssd(inputs.checkins)
    hrv = hrv_status(ln, inputs.day)
    checkin = inputs.checkins.get(inputs.day)
    values = ReadinessInputs(
        hrv_z=hrv.z,
        sleep_hours=None
        if checkin is None or checkin.sleep_hours is None
        else float(checkin.sleep_hours),
        sleep_baseline_hours=_sleep_baseline(inputs.checkins, inputs.day),
        soreness=None if checkin is None else checkin.soreness,
        stress=None if checkin is None else checkin.stress,
        mood=None if checkin is None else checkin.mood,
        rpe_deviation=_rpe_deviation([log for log in inputs.logs if log.date <= inputs.day]),
    )
    return readiness(values, weights), hrv


def autoregulate(
    inputs: AutoregulationInput, rules: Mapping[str, object], *, library: Library
) -> AutoregulationResult:
    """The night's proposals for the sessions after `inputs.day`, from a validated
    methodology document; see the module docstring for how rules combine."""
    enabled = _rules(rules)
    weights = rules["readiness"]["weights"]  # type: ignore[index]
    score, hrv = day_readiness(inputs, weights)  # type: ignore[arg-type]
    metrics = _metrics(inputs)
    night = _Night(
        inputs=inputs,
        document=rules,
        library=library,
        increment=float(rules["progression"]["plate_increment_kg"]),  # type: ignore[index]
        rails=rules["guardrails"],  # type: ignore[arg-type]
        current={s.key: s.current for s in inputs.sessions},
    )
    history = dict(inputs.readiness_history)
    if score.score is not None:
        history[inputs.day] = score.score
    night.inputs = replace(inputs, readiness_history=history)
    # In RULE_ORDER; the three readiness rules run as one step (they decide together
    # which of them applies).
    if "decline_deload" in enabled:
        _decline_deload(night, enabled["decline_deload"])
    if "acwr_spike" in enabled:
        _acwr_spike(night, enabled["acwr_spike"], metrics)
    _readiness_rules(night, enabled)
    if "rpe_overshoot" in enabled:
        _rpe_overshoot(night, enabled["rpe_overshoot"])
    if "velocity" in enabled:
        _velocity(night, enabled["velocity"], metrics)
    # Stable sort: a session's proposals stay in the order they were applied.
    proposals = sorted(night.proposals, key=lambda p: (p.date, p.session_key))
    return AutoregulationResult(
        day=inputs.day,
        readiness=score,
        hrv=hrv,
        metrics=metrics,
        proposals=tuple(proposals),
        notes=tuple(night.notes),
    )
