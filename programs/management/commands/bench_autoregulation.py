"""`manage.py bench_autoregulation`: what one athlete's nightly autoregulation costs.

The nightly task runs the engine once per enrolled athlete, so its per-athlete time
decides how long the night takes. This times only the pure engine
(`programs.engine.autoregulation.autoregulate`) on synthetic athletes built in memory,
so the figure does not depend on a database: reading the inputs and storing the
proposals are not included.

The athletes are drawn from `random.Random(seed)`, so a seed gives the same athletes,
proposals and rule counts on every machine; only the times differ.
"""

from __future__ import annotations

import copy
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coaching.methodology import default_rules, validate_rules
from programs.engine.autoregulation import (
    RULE_ORDER,
    AutoregulationInput,
    DayCheckIn,
    LoggedSession,
    LoggedSet,
    PlannedSessionState,
    SessionRx,
    SetRx,
    autoregulate,
)
from programs.engine.library import Library, load_library

#: The night being decided: a Wednesday, so the block week has sessions before and after.
DAY = date(2026, 11, 18)
MONDAY = DAY - timedelta(days=DAY.weekday())
CHECKIN_DAYS = 70
LOG_WEEKS = 6
LOAD_DAYS = 90
WARMUP_RUNS = 20
GYM = frozenset({"barbell", "rack", "bench", "dumbbell", "machine", "kettlebell", "cable"})
#: (exercise, sets, reps, fraction of e1RM, target RPE) for the two strength days.
DAY_A = (("back-squat", 5, 5, 0.75, 8.0), ("bench-press", 3, 8, 0.70, 8.0))
DAY_B = (
    ("deadlift", 3, 5, 0.75, 8.0),
    ("overhead-press", 3, 8, 0.65, 8.0),
    ("barbell-row", 3, 10, 0.60, 7.5),
)
E1RM_RANGE = {
    "back-squat": (80, 220),
    "bench-press": (50, 160),
    "deadlift": (100, 260),
    "overhead-press": (35, 100),
    "barbell-row": (50, 140),
}
#: Mean concentric velocity at 0 kg and the fraction of it lost at 1RM (≈ 0.3 m/s MVT).
V0 = {"back-squat": 1.75, "bench-press": 1.7, "deadlift": 1.5, "overhead-press": 1.6}


@dataclass(frozen=True)
class Athlete:
    inputs: AutoregulationInput
    rules: Mapping[str, Any]
    discipline: str


def _round(load: float, increment: float = 2.5) -> float:
    return round(load / increment) * increment


def _strength_rx(template: tuple, e1rm: Mapping[str, float]) -> SessionRx:
    sets: list[SetRx] = []
    index = 0
    for slug, n, reps, fraction, rpe in template:
        for _ in range(n):
            index += 1
            sets.append(
                SetRx(
                    exercise=slug,
                    set_index=index,
                    reps=reps,
                    target_rpe=rpe,
                    percent_1rm=fraction,
                    load_kg=_round(e1rm[slug] * fraction),
                )
            )
    return SessionRx(duration_min=60 + 5 * len(sets) // 3, sets=tuple(sets))


def _endurance_rx(rng: random.Random, kind: str) -> SessionRx:
    zone = rng.choice((1, 2, 2, 2, 3, 4))
    minutes = rng.choice((40, 45, 60, 75, 90))
    if kind == "ride":
        ftp = rng.uniform(180, 320)
        low, high = ftp * (0.45 + 0.12 * zone), ftp * (0.55 + 0.12 * zone)
    else:  # pace in min/km; a harder zone is a faster pace
        threshold = rng.uniform(3.6, 5.5)
        low, high = threshold * (1.35 - 0.08 * zone), threshold * (1.45 - 0.08 * zone)
    intensity = 0.55 + 0.09 * zone
    return SessionRx(
        duration_min=minutes,
        zone=zone,
        target_low=round(low, 2),
        target_high=round(high, 2),
        planned_tss=round(minutes / 60 * intensity**2 * 100, 1),
    )


def _rules(rng: random.Random, discipline: str) -> Mapping[str, Any]:
    """The defaults, with some coaches on velocity and some with tight guardrails."""
    document = default_rules(discipline)
    rules = {r["name"]: r for r in document["autoregulation"]["rules"]}
    if discipline == "strength" and rng.random() < 0.35:
        rules["velocity"]["enabled"] = True
    if rng.random() < 0.3:
        rules["hrv_low_streak"]["params"]["days"] = 2
    if rng.random() < 0.25:
        rules["short_sleep_and_low_hrv"]["params"]["action"] = "substitute"
    if rng.random() < 0.3:
        document["guardrails"].update(
            {
                "max_load_change_session_percent": rng.choice((2, 3, 5)),
                "max_load_change_week_percent": rng.choice((3, 5)),
                "max_weekly_volume_change_percent": rng.choice((5, 10)),
                "intensity_floor_1rm": 0.72,
            }
        )
    if rng.random() < 0.1:
        document["guardrails"]["protected_exercises"] = ["back-squat"]
    return validate_rules(copy.deepcopy(document))


def _checkins(rng: random.Random, *, low_hrv: bool, short_sleep: bool) -> dict[date, DayCheckIn]:
    base = rng.uniform(35, 95)
    sleep = rng.uniform(6.8, 8.3)
    out = {}
    for k in range(CHECKIN_DAYS):
        day = DAY - timedelta(days=CHECKIN_DAYS - 1 - k)
        rmssd = base * math.exp(rng.gauss(0, 0.12))
        if low_hrv and (DAY - day).days < 8:
            rmssd *= 0.62
        hours = sleep + rng.gauss(0, 0.5)
        if short_sleep and day == DAY:
            hours = rng.uniform(4.0, 5.8)
        if rng.random() < 0.05:  # a forgotten check-in
            continue
        out[day] = DayCheckIn(
            date=day,
            sleep_hours=round(hours, 1),
            soreness=rng.randint(1, 4),
            stress=rng.randint(1, 4),
            mood=rng.randint(2, 5),
            hrv_rmssd_ms=round(rmssd, 1) if rng.random() > 0.03 else None,
        )
    return out


def _strength_logs(
    rng: random.Random,
    e1rm: Mapping[str, float],
    *,
    overshoot: bool,
    declining: bool,
    velocities: bool,
    velocity_loss: bool,
) -> list[LoggedSession]:
    logs = []
    first = MONDAY - timedelta(weeks=LOG_WEEKS)
    offsets = (0, 3, 5)
    days = [first + timedelta(weeks=w, days=o) for w in range(LOG_WEEKS + 1) for o in offsets]
    days = [d for d in days if d <= DAY]
    for n, day in enumerate(days):
        template = DAY_A if n % 2 == 0 else DAY_B
        last = n >= len(days) - 2
        sets = []
        index = 0
        for slug, count, reps, fraction, target in template:
            weight = _round(e1rm[slug] * fraction)
            rpe = target + rng.choice((-1.0, -0.5, -0.5, 0.0))
            if overshoot and last:
                rpe = target + rng.choice((1.0, 1.5, 2.0))
            if declining and n >= len(days) - 4:
                weight, rpe = _round(weight * 0.9), min(10.0, target + 1.0)
            for i in range(count):
                index += 1
                velocity = None
                if velocities and slug in V0:
                    velocity = V0[slug] * (1 - 0.82 * weight / e1rm[slug]) - 0.01 * i
                    if velocity_loss and last:
                        velocity *= 1 - 0.09 * i
                    velocity = round(max(0.1, velocity + rng.gauss(0, 0.02)), 3)
                sets.append(
                    LoggedSet(
                        exercise=slug,
                        set_index=index,
                        weight_kg=weight,
                        reps=reps,
                        rpe=min(10.0, rpe + (0.5 if i == count - 1 else 0.0)),
                        target_rpe=target,
                        velocity_m_s=velocity,
                    )
                )
        if rng.random() < 0.07:  # a missed session
            continue
        logs.append(
            LoggedSession(
                date=day,
                kind="strength",
                duration_min=rng.uniform(50, 80),
                sets=tuple(sets),
            )
        )
    return logs


def _endurance_logs(rng: random.Random, kind: str) -> list[LoggedSession]:
    first = MONDAY - timedelta(weeks=LOG_WEEKS)
    return [
        LoggedSession(date=day, kind=kind, duration_min=round(rng.uniform(35, 100)))
        for w in range(LOG_WEEKS + 1)
        for o in (0, 2, 3, 5)
        if (day := first + timedelta(weeks=w, days=o)) <= DAY and rng.random() > 0.08
    ]


def _daily_loads(rng: random.Random, *, spike: bool) -> dict[date, float]:
    base = rng.uniform(40, 110)
    out = {}
    for k in range(LOAD_DAYS):
        day = DAY - timedelta(days=LOAD_DAYS - 1 - k)
        if rng.random() < 0.3:
            continue  # a rest day: no load recorded
        load = base * rng.uniform(0.6, 1.5)
        if spike and (DAY - day).days < 7:
            load *= rng.uniform(2.0, 2.8)
        out[day] = round(load, 1)
    return out


def _sessions(
    rng: random.Random, discipline: str, kind: str, e1rm: Mapping[str, float]
) -> list[PlannedSessionState]:
    """This block week and the next, Mon/Thu/Sat (strength) or Mon/Wed/Thu/Sat."""
    offsets = (0, 3, 5) if discipline == "strength" else (0, 2, 3, 5)
    out = []
    key = 1
    for w in range(2):
        for n, offset in enumerate(offsets):
            if discipline == "strength":
                rx = _strength_rx(DAY_A if n % 2 == 0 else DAY_B, e1rm)
            else:
                rx = _endurance_rx(rng, kind)
            out.append(
                PlannedSessionState(
                    key=key,
                    date=MONDAY + timedelta(weeks=w, days=offset),
                    week=(1, 2 + w),
                    kind="strength" if discipline == "strength" else kind,
                    is_deload=False,
                    planned=rx,
                    current=rx,
                )
            )
            key += 1
    return out


def synthetic_athlete(rng: random.Random) -> Athlete:
    """One athlete: about half strength, the rest runners and riders."""
    discipline = "strength" if rng.random() < 0.5 else "endurance"
    kind = "strength" if discipline == "strength" else rng.choice(("run", "ride"))
    rules = _rules(rng, discipline)
    velocity_on = any(
        r["name"] == "velocity" and r["enabled"] for r in rules["autoregulation"]["rules"]
    )
    e1rm = {slug: float(_round(rng.uniform(*bounds))) for slug, bounds in E1RM_RANGE.items()}
    low_hrv = rng.random() < 0.15
    declining = discipline == "strength" and rng.random() < 0.1
    if discipline == "strength":
        logs = _strength_logs(
            rng,
            e1rm,
            overshoot=rng.random() < 0.2,
            declining=declining,
            velocities=velocity_on,
            velocity_loss=rng.random() < 0.4,
        )
    else:
        logs = _endurance_logs(rng, kind)
    readiness_history = {
        DAY - timedelta(days=k): round(rng.uniform(25, 42) if declining else rng.uniform(40, 85), 1)
        for k in range(1, 29)
    }
    inputs = AutoregulationInput(
        day=DAY,
        checkins=_checkins(rng, low_hrv=low_hrv, short_sleep=rng.random() < 0.15),
        logs=tuple(logs),
        daily_loads=_daily_loads(rng, spike=rng.random() < 0.12),
        sessions=tuple(_sessions(rng, discipline, kind, e1rm)),
        e1rm_kg=e1rm if discipline == "strength" else {},
        readiness_history=readiness_history,
        equipment=GYM,
    )
    return Athlete(inputs=inputs, rules=rules, discipline=discipline)


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: the figure is a time one athlete took)."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


class Command(BaseCommand):
    help = "Per-athlete time of the autoregulation engine on synthetic athletes (no database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--athletes", type=int, default=1000, help="How many athletes.")
        parser.add_argument("--seed", type=int, default=42, help="Seed for the athletes.")

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["athletes"]
        if count < 1:
            raise CommandError("--athletes must be at least 1.")
        rng = random.Random(options["seed"])  # noqa: S311 - reproducible synthetic athletes
        library: Library = load_library()
        built = time.perf_counter()
        athletes = [synthetic_athlete(rng) for _ in range(count)]
        built = time.perf_counter() - built
        for athlete in athletes[:WARMUP_RUNS]:
            autoregulate(athlete.inputs, athlete.rules, library=library)

        timings: list[float] = []
        proposals_per_athlete: list[int] = []
        by_rule: Counter[str] = Counter()
        by_rail: Counter[str] = Counter()
        clipped = 0
        for athlete in athletes:
            start = time.perf_counter()
            result = autoregulate(athlete.inputs, athlete.rules, library=library)
            timings.append(time.perf_counter() - start)
            proposals_per_athlete.append(len(result.proposals))
            for proposal in result.proposals:
                by_rule[proposal.rule] += 1
                if proposal.clipped_by:
                    clipped += 1
                    by_rail.update(proposal.clipped_by)

        ms = sorted(t * 1000 for t in timings)
        total = sum(proposals_per_athlete)
        touched = sum(1 for n in proposals_per_athlete if n)
        disciplines = Counter(a.discipline for a in athletes)
        out = self.stdout
        out.write(
            f"Athletes: {count} (seed {options['seed']}; "
            f"{disciplines['strength']} strength, {disciplines['endurance']} endurance; "
            f"built in {built:.2f} s, {min(WARMUP_RUNS, count)} warm-up runs not timed)"
        )
        out.write(f"Engine total: {sum(timings):.3f} s")
        out.write(
            f"Per athlete: p50 {_percentile(ms, 0.5):.2f} ms, p95 {_percentile(ms, 0.95):.2f} ms, "
            f"max {ms[-1]:.2f} ms, mean {statistics.fmean(ms):.2f} ms"
        )
        out.write(f"Proposals: {total} ({total / count:.2f} per athlete)")
        out.write(f"Athletes with at least one proposal: {touched} ({100 * touched / count:.1f} %)")
        out.write(f"Clipped by a guardrail: {clipped} proposals")
        for rail, n in sorted(by_rail.items(), key=lambda kv: (-kv[1], kv[0])):
            out.write(f"  clipped by {rail}: {n}")
        out.write("Proposals per rule:")
        for rule in RULE_ORDER:
            out.write(f"  {rule}: {by_rule.get(rule, 0)}")
