"""Endurance metrics of one athlete, read from their logs and plan and run through
`programs.engine.endurance`. Read-only; every query goes through the models' tenant
managers, so it sees only the tenant in context.

Load unit: one series is in one unit, never a mix. A strength athlete's series is sRPE
(Foster: valid across modalities). For endurance and hybrid athletes the first of TSS,
TRIMP, sRPE that most of their logs carry (≥ 75 %) is used — TSS is the PMC's native
unit, TRIMP the next best objective one, sRPE the fallback; when none reaches 75 % the
best-covered one wins. Logs without the chosen unit count as 0 on their day, and the
result says how many logs carry it so a chart can show the gap.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Sum

from athletes.models import AthleteProfile
from programs.engine import endurance
from programs.models import PlannedSession, ProgramBlock, SessionKind, SessionLog

UNITS = ("tss", "trimp", "srpe")
_UNIT_FIELDS = {"tss": "tss", "trimp": "trimp", "srpe": "srpe_load"}
_UNIT_NAMES = {"tss": "TSS", "trimp": "TRIMP", "srpe": "sRPE load"}
MIN_UNIT_COVERAGE = 0.75


@dataclass(frozen=True, kw_only=True)
class LoadUnit:
    unit: str  # "tss" | "trimp" | "srpe"
    logs: int  # logs up to the series' end
    logs_with_unit: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class AthleteLoadSeries:
    unit: LoadUnit
    start: datetime.date
    end: datetime.date
    points: tuple[endurance.LoadPoint, ...]


def load_unit(athlete: AthleteProfile, *, until: datetime.date) -> LoadUnit:
    """The one unit of the athlete's load series (see the module docstring)."""
    counts = SessionLog.objects.filter(athlete=athlete, date__lte=until).aggregate(
        logs=Count("id"), tss=Count("tss"), trimp=Count("trimp"), srpe=Count("srpe_load")
    )
    total = counts["logs"]
    if athlete.discipline == AthleteProfile.Discipline.STRENGTH:
        unit, why = "srpe", "a strength athlete's load is session RPE × minutes"
    elif total == 0:
        unit, why = "tss", "no logs yet; TSS is the unit once runs and rides are logged"
    else:
        covered = [u for u in UNITS if counts[u] >= MIN_UNIT_COVERAGE * total]
        if covered:
            unit = covered[0]
            why = f"{counts[unit]} of {total} logs carry {_UNIT_NAMES[unit]}"
        else:
            unit = max(UNITS, key=lambda u: (counts[u], -UNITS.index(u)))
            why = (
                f"no unit is on {MIN_UNIT_COVERAGE:.0%} of the logs; {_UNIT_NAMES[unit]} "
                f"covers most ({counts[unit]} of {total}), the rest count as 0"
            )
    return LoadUnit(unit=unit, logs=total, logs_with_unit=counts[unit], reason=why + ".")


def daily_loads(
    athlete: AthleteProfile,
    start: datetime.date | None,
    end: datetime.date,
    *,
    unit: str,
) -> dict[datetime.date, float]:
    """Summed load per day in `unit` (days where no log carries it are absent, i.e. 0);
    `start=None` reads from the first log, as the warm-up of a series needs."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    logs = SessionLog.objects.filter(athlete=athlete, date__lte=end)
    if start is not None:
        logs = logs.filter(date__gte=start)
    rows = (
        logs.order_by()
        .values("date")
        .annotate(total=Sum(_UNIT_FIELDS[unit]))
        .filter(total__isnull=False)
        .values_list("date", "total")
    )
    return {day: float(total) for day, total in rows}


def load_series_of(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> AthleteLoadSeries:
    """The chart series `start … end`, warmed up from the athlete's first log."""
    unit = load_unit(athlete, until=end)
    loads = daily_loads(athlete, None, end, unit=unit.unit)
    points = endurance.load_series(loads, start, end)
    return AthleteLoadSeries(unit=unit, start=start, end=end, points=points)


def best_efforts(
    athlete: AthleteProfile,
    since: datetime.date,
    *,
    until: datetime.date | None = None,
    sport: str = SessionKind.RUN,
) -> list[endurance.Effort]:
    """Every logged run (or ride) with a distance since `since`, as a candidate effort;
    the engine picks the best. A log has no race or time-trial flag, so every log is a
    "training" effort (the prediction's sentence says so)."""
    if sport not in (SessionKind.RUN, SessionKind.RIDE):
        raise ValueError(f"sport must be 'run' or 'ride', got {sport!r}")
    logs = SessionLog.objects.filter(
        athlete=athlete, kind=sport, date__gte=since, distance_m__gt=0, duration_s__gt=0
    )
    if until is not None:
        logs = logs.filter(date__lte=until)
    return [
        endurance.Effort(
            date=day, distance_m=float(distance), time_s=float(duration), kind="training", key=pk
        )
        for pk, day, distance, duration in logs.order_by("date", "id").values_list(
            "id", "date", "distance_m", "duration_s"
        )
    ]


def race_prediction(
    athlete: AthleteProfile,
    target_distance_m: float,
    *,
    today: datetime.date,
    sport: str = SessionKind.RUN,
    window_days: int = 90,
) -> endurance.RacePrediction:
    since = today - datetime.timedelta(days=window_days)
    efforts = best_efforts(athlete, since, until=today, sport=sport)
    return endurance.predict_race(efforts, target_distance_m, today=today, window_days=window_days)


def taper_preview(
    athlete: AthleteProfile,
    race_date: datetime.date,
    weeks: int,
    volume_cut_percent: float,
) -> tuple[endurance.TaperChange, ...]:
    """The taper applied to the athlete's active plan, not stored: the changes a coach
    would accept (persisting them as adjustments is a service's job)."""
    endurance.taper_week_cuts(weeks, volume_cut_percent)  # invalid → ValueError, no query
    first_day = race_date - datetime.timedelta(days=endurance.WEEK_DAYS * weeks)
    rows = PlannedSession.objects.filter(
        athlete=athlete,
        block__status=ProgramBlock.Status.ACTIVE,
        date__gte=first_day,
        date__lt=race_date,
        duration_min__gt=0,
    ).order_by("date", "id")
    sessions = [
        endurance.TaperSession(
            key=row.pk, date=row.date, duration_min=row.duration_min, zone=row.zone, kind=row.kind
        )
        for row in rows
    ]
    return endurance.taper_plan(
        sessions, race_date, weeks=weeks, volume_cut_percent=volume_cut_percent
    )
