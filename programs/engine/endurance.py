"""Endurance extras: the load chart (PMC, ACWR, monotony), race-time prediction and a
taper before a race. Pure functions over dates and numbers; the formulas are those of
`programs.engine.load` (SCIENCE.md §2), reused here, never re-derived.

Conventions:
- Load series: a day without a log has load 0. Computation starts on the earlier of
  `start` and the first day that has data, so CTL/ATL/ACWR arrive at `start` warmed up
  by the whole history passed in (a 42-day CTL started at 0 on `start` would show a
  fit athlete as unfit for weeks). `ctl0`/`atl0` are the values on the day before that
  first computed day. Only `start … end` is returned; loads after `end` are ignored.
  TSB_t = CTL_{t−1} − ATL_{t−1} (`load.pmc`); ACWR is `load.acwr` over the whole computed
  history (None for its first 27 days); monotony and strain are `load.monotony` /
  `load.strain` over the 7 days ending on the day (days before the first computed day
  count as 0), None when those 7 loads are all equal (SD = 0).
- Race prediction (Riegel 1981, `load.riegel`): every effort inside the window
  (`today − window_days … today`) whose distance is 0.25×–4× the target is a candidate
  (Riegel's power law was fitted between neighbouring distances; beyond a factor of 4 it
  extrapolates too far, e.g. a 1 km rep says little about a marathon). If any candidate
  is a race or a time trial, the fastest prediction among races and time trials is the
  answer; training efforts only count when there is no race or time trial, because a
  logged training run is rarely all-out and a fast one is as likely a GPS or
  downhill artefact as fitness. No usable effort → `time_s=None` and the reason.
- Taper (Bosquet et al. 2007, meta-analysis: volume −41–60 % over 8–14 days, intensity
  and frequency kept): the taper covers the `7·weeks` days before the race day; taper
  week 1 is the earliest. The cut deepens by 10 percentage points per week, centred on
  the requested cut, so the mean of the weekly cuts equals it exactly:
  cut_w = cut − 10·(w − (weeks + 1)/2) (2 weeks at −50 %: −45 %, −55 %; 3 weeks at −50 %:
  −40 %, −50 %, −60 %). Every session keeps its zone and stays in the plan (frequency
  kept); its duration × (1 + cut_w/100) is rounded to the nearest 5 min, at least
  15 min and never more than it was. The race day and anything after it, and anything
  before the taper, are not part of the result (untouched).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from programs.engine.load import acwr, monotony, pmc, riegel, strain

# Load series ------------------------------------------------------------------------------
WEEK_DAYS = 7


@dataclass(frozen=True, kw_only=True)
class LoadPoint:
    date: date
    load: float  # 0 for a day without a log
    ctl: float  # fitness, 42-day
    atl: float  # fatigue, 7-day
    tsb: float  # form: yesterday's CTL − yesterday's ATL
    acwr: float | None  # EWMA acute:chronic; None in the first 27 days of history
    monotony: float | None  # mean/SD of the 7 days ending here; None when SD = 0
    strain: float | None  # weekly sum × monotony


def load_series(
    daily_loads: Mapping[date, float],
    start: date,
    end: date,
    *,
    ctl0: float = 0.0,
    atl0: float = 0.0,
) -> tuple[LoadPoint, ...]:
    """One point per day from `start` to `end`, computed from the first day with data
    (when that is earlier than `start`) so fitness is warmed up by the history."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    for name, value in (("ctl0", ctl0), ("atl0", atl0)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number ≥ 0, got {value}")
    history = [day for day in daily_loads if day <= end]
    first = min([start, *history])
    days = (end - first).days + 1
    loads = []
    for offset in range(days):
        value = float(daily_loads.get(first + timedelta(days=offset), 0.0))
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"daily loads must be finite and ≥ 0, got {value}")
        loads.append(value)
    fitness = pmc(loads, ctl0, atl0)
    ratios = acwr(loads)
    points = []
    for index in range((start - first).days, days):
        week = loads[max(0, index - WEEK_DAYS + 1) : index + 1]
        week = [0.0] * (WEEK_DAYS - len(week)) + week
        ctl, atl, tsb = fitness[index]
        points.append(
            LoadPoint(
                date=first + timedelta(days=index),
                load=loads[index],
                ctl=ctl,
                atl=atl,
                tsb=tsb,
                acwr=ratios[index],
                monotony=monotony(week),
                strain=strain(week),
            )
        )
    return tuple(points)


# Race prediction --------------------------------------------------------------------------
EFFORT_KINDS = ("race", "time_trial", "training")
PREFERRED_KINDS = ("race", "time_trial")
MIN_DISTANCE_RATIO = 0.25  # effort distance / target distance
MAX_DISTANCE_RATIO = 4.0


@dataclass(frozen=True, kw_only=True)
class Effort:
    """A timed distance: a race, a time trial or a logged training session."""

    date: date
    distance_m: float
    time_s: float
    kind: str = "training"
    key: int | str | None = None  # where it came from (e.g. a session log id)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.distance_m) and self.distance_m > 0):
            raise ValueError(f"effort distance must be > 0 m, got {self.distance_m}")
        if not (math.isfinite(self.time_s) and self.time_s > 0):
            raise ValueError(f"effort time must be > 0 s, got {self.time_s}")
        if self.kind not in EFFORT_KINDS:
            raise ValueError(f"effort kind must be one of {EFFORT_KINDS}, got {self.kind!r}")


@dataclass(frozen=True, kw_only=True)
class RaceCandidate:
    effort: Effort
    predicted_time_s: float
    preferred: bool  # a race or time trial


@dataclass(frozen=True, kw_only=True)
class RacePrediction:
    target_distance_m: float
    time_s: float | None
    pace_s_per_km: float | None
    effort: Effort | None  # the effort the prediction comes from
    candidates: tuple[RaceCandidate, ...]  # every usable effort, fastest prediction first
    exponent: float
    window_days: int
    reason: str


def _clock(seconds: float) -> str:
    total = math.floor(seconds + 0.5)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _km(distance_m: float) -> str:
    return f"{round(distance_m / 1000, 1):g} km"


def _num(x: float) -> str:
    return f"{round(x, 1):g}"


def _num_exp(x: float) -> str:
    return f"{round(x, 3):g}"


_KIND_WORDS = {"race": "race", "time_trial": "time trial", "training": "training effort"}


def predict_race(
    efforts: Sequence[Effort],
    target_distance_m: float,
    *,
    today: date,
    window_days: int = 90,
    exponent: float = 1.06,
) -> RacePrediction:
    """Predicted time over `target_distance_m` from the athlete's own recent best effort
    (Riegel); races and time trials outrank training efforts."""
    if not (math.isfinite(target_distance_m) and target_distance_m > 0):
        raise ValueError(f"target distance must be > 0 m, got {target_distance_m}")
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise ValueError(f"window_days must be a whole number ≥ 1, got {window_days!r}")
    if not (math.isfinite(exponent) and exponent > 0):
        raise ValueError(f"exponent must be > 0, got {exponent}")
    since = today - timedelta(days=window_days)
    candidates = []
    for effort in efforts:
        if not isinstance(effort, Effort):
            raise ValueError(f"expected an Effort, got {type(effort).__name__}")
        ratio = effort.distance_m / target_distance_m
        if since <= effort.date <= today and MIN_DISTANCE_RATIO <= ratio <= MAX_DISTANCE_RATIO:
            candidates.append(
                RaceCandidate(
                    effort=effort,
                    predicted_time_s=riegel(
                        effort.time_s, effort.distance_m, target_distance_m, exponent
                    ),
                    preferred=effort.kind in PREFERRED_KINDS,
                )
            )
    candidates.sort(key=lambda c: (c.predicted_time_s, c.effort.date))
    target = _km(target_distance_m)
    if not candidates:
        return RacePrediction(
            target_distance_m=target_distance_m,
            time_s=None,
            pace_s_per_km=None,
            effort=None,
            candidates=(),
            exponent=exponent,
            window_days=window_days,
            reason=(
                f"No effort in the last {window_days} days between "
                f"{_km(target_distance_m * MIN_DISTANCE_RATIO)} and "
                f"{_km(target_distance_m * MAX_DISTANCE_RATIO)} to predict {target} from."
            ),
        )
    preferred = [c for c in candidates if c.preferred]
    best = (preferred or candidates)[0]
    effort = best.effort
    sentence = (
        f"Predicted {_clock(best.predicted_time_s)} for {target} from your "
        f"{_km(effort.distance_m)} {_KIND_WORDS[effort.kind]} on {effort.date.isoformat()} "
        f"({_clock(effort.time_s)}), Riegel T2 = T1·(D2/D1)^{_num_exp(exponent)}"
    )
    if not preferred:
        sentence += (
            f"; no race or time trial in the last {window_days} days, so it comes from "
            "training, which is rarely all-out"
        )
    return RacePrediction(
        target_distance_m=target_distance_m,
        time_s=best.predicted_time_s,
        pace_s_per_km=best.predicted_time_s / (target_distance_m / 1000),
        effort=effort,
        candidates=tuple(candidates),
        exponent=exponent,
        window_days=window_days,
        reason=sentence + ".",
    )


# Taper ------------------------------------------------------------------------------------
TAPER_WEEKS = (1, 3)  # inclusive range
TAPER_CUT_PERCENT = (-60.0, -40.0)  # inclusive range, Bosquet et al. 2007
TAPER_STEP_PERCENT = 10.0  # the cut deepens this much per taper week
TAPER_ROUND_MIN = 5
TAPER_FLOOR_MIN = 15


@dataclass(frozen=True, kw_only=True)
class TaperSession:
    key: int | str
    date: date
    duration_min: int
    zone: int | None = None
    kind: str = "run"

    def __post_init__(self) -> None:
        if isinstance(self.duration_min, bool) or not isinstance(self.duration_min, int):
            raise ValueError(f"duration_min must be whole minutes, got {self.duration_min!r}")
        if self.duration_min <= 0:
            raise ValueError(f"duration_min must be > 0, got {self.duration_min}")


@dataclass(frozen=True, kw_only=True)
class TaperChange:
    key: int | str
    date: date
    kind: str
    week: int  # taper week, 1 = the earliest
    weeks: int
    cut_percent: float  # the week's planned cut (negative)
    duration_before_min: int
    duration_after_min: int
    zone: int | None  # unchanged: intensity is kept
    sentence: str


def taper_week_cuts(weeks: int, volume_cut_percent: float) -> tuple[float, ...]:
    """The cut of each taper week, earliest first; their mean is `volume_cut_percent`."""
    if isinstance(weeks, bool) or not isinstance(weeks, int):
        raise ValueError(f"taper weeks must be a whole number, got {weeks!r}")
    if not TAPER_WEEKS[0] <= weeks <= TAPER_WEEKS[1]:
        raise ValueError(f"a taper lasts {TAPER_WEEKS[0]}–{TAPER_WEEKS[1]} weeks, got {weeks}")
    low, high = TAPER_CUT_PERCENT
    if not (math.isfinite(volume_cut_percent) and low <= volume_cut_percent <= high):
        raise ValueError(
            f"the taper's volume cut must be {_num(low)} to {_num(high)} %, "
            f"got {volume_cut_percent}"
        )
    middle = (weeks + 1) / 2
    return tuple(
        volume_cut_percent - TAPER_STEP_PERCENT * (week - middle) for week in range(1, weeks + 1)
    )


def _round_to(minutes: float, step: int) -> int:
    return math.floor(minutes / step + 0.5) * step


def taper_plan(
    sessions: Sequence[TaperSession],
    race_date: date,
    *,
    weeks: int = 2,
    volume_cut_percent: float = -50,
) -> tuple[TaperChange, ...]:
    """The sessions of the taper before `race_date`, shortened progressively with their
    zones kept; sessions outside the taper are left out (untouched)."""
    cuts = taper_week_cuts(weeks, volume_cut_percent)
    first_day = race_date - timedelta(days=WEEK_DAYS * weeks)
    changes = []
    for session in sessions:
        if not isinstance(session, TaperSession):
            raise ValueError(f"expected a TaperSession, got {type(session).__name__}")
        if not first_day <= session.date < race_date:
            continue
        weeks_out = math.ceil((race_date - session.date).days / WEEK_DAYS)
        week = weeks - weeks_out + 1
        cut = cuts[week - 1]
        before = session.duration_min
        target = _round_to(before * (1 + cut / 100), TAPER_ROUND_MIN)
        after = min(before, max(TAPER_FLOOR_MIN, target))
        when = f"taper week {week} of {weeks} before your race on {race_date.isoformat()}"
        if after < before:
            floor = f", not below {TAPER_FLOOR_MIN} min" if target < TAPER_FLOOR_MIN else ""
            sentence = f"Volume −{_num(-cut)} % ({when}){floor}; intensity kept."
        else:
            sentence = (
                f"Kept at {before} min: a session this short is not cut below "
                f"{TAPER_FLOOR_MIN} min ({when}); intensity kept."
            )
        changes.append(
            TaperChange(
                key=session.key,
                date=session.date,
                kind=session.kind,
                week=week,
                weeks=weeks,
                cut_percent=cut,
                duration_before_min=before,
                duration_after_min=after,
                zone=session.zone,
                sentence=sentence,
            )
        )
    changes.sort(key=lambda c: c.date)
    return tuple(changes)
