"""Next-session predictions from the athlete's own history, and their scoring.

SCIENCE.md §6. The prediction is the athlete's recent Theil–Sen trend, read at the last
session and carried forward to `on`:

    value = trend(last) + clip(slope, ±max_weekly_change · level) · min(weeks ahead, horizon)

- Window: the `WINDOW_WEEKS` (6) weeks ending at the athlete's latest point before `on`
  (so a long break still predicts from the last block, with the horizon capped); only
  points strictly before `on` count, since what happens on `on` is the outcome.
- Level, not the last set: the trend's value at the last session, so one great or bad
  day moves the prediction little (SCIENCE.md §1).
- Damping: the weekly change is clipped to a sane rate (strength 2.5 %/week, endurance
  threshold 1 %/week of the current level) and the horizon to `MAX_HORIZON_WEEKS` (4),
  because a straight line extrapolated far always ends up absurd.
- Too little for a trend (< `MIN_TREND_POINTS` points or < `MIN_TREND_DAYS` days of span):
  the median of the last three values, no slope.
- Anchors (a tested AMRAP/1RM, a time trial) are measurements, the rest are estimates.
  The latest anchor before `on` re-bases the series: earlier points are shifted by
  (anchor − their own trend's value on the anchor date), so they keep contributing the
  rate of progress but at the tested level; the anchor joins the series as a point.
  Older anchors in the window are points of the shifted history; an estimate on the
  anchor's own date gives way to the test. Anchors before the window play no part.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import SupportsFloat

from programs.ml.common import clean_series, finite, fmt
from programs.ml.plateau import Trend, theil_sen

WINDOW_WEEKS = 6
MIN_TREND_POINTS = 3
MIN_TREND_DAYS = 14
MAX_HORIZON_WEEKS = 4.0
STRENGTH_MAX_WEEKLY_CHANGE = 0.025  # fraction of the level per week
ENDURANCE_MAX_WEEKLY_CHANGE = 0.01


@dataclass(frozen=True, kw_only=True)
class Prediction:
    kind: str  # "e1rm" | "threshold"
    on: date
    value: float
    method: str  # "trend" | "level"
    level: float  # the series' level at `base_date` (trend value, or median of last 3)
    base_date: date  # the last point used
    weeks_ahead: float  # from base_date to on, after the horizon cap
    slope_per_week: float  # applied slope, after clipping (0 for "level")
    raw_slope_per_week: float | None  # Theil–Sen slope before clipping
    clipped: bool
    trend: Trend | None
    n_points: int
    window_start: date
    anchor: tuple[date, float] | None  # the anchor that re-based the series
    anchor_shift: float  # added to the points before the anchor
    reason: str


def _rebase(
    series: list[tuple[date, float]], anchor: tuple[date, float]
) -> tuple[list[tuple[date, float]], float]:
    anchor_day, anchor_value = anchor
    before = [p for p in series if p[0] < anchor_day]
    after = [p for p in series if p[0] > anchor_day]
    if not before:
        shift = 0.0
    elif len({d for d, _ in before}) >= 2:
        shift = anchor_value - theil_sen(before).value_at(anchor_day)
    else:
        shift = anchor_value - statistics.median(v for _, v in before)
    return [(d, v + shift) for d, v in before] + [anchor] + after, shift


def _predict(
    kind: str,
    label: str,
    unit: str,
    history: Sequence[tuple[date, SupportsFloat]],
    on: date,
    anchors: Sequence[tuple[date, SupportsFloat]],
    max_weekly_change: float,
    max_horizon_weeks: float,
) -> Prediction:
    if max_weekly_change < 0 or max_horizon_weeks < 0:
        raise ValueError("max_weekly_change and max_horizon_weeks must be ≥ 0")
    history_points = [p for p in clean_series(history, label) if p[0] < on]
    test_points = [p for p in clean_series(anchors, f"tested {label}") if p[0] < on]
    if not history_points and not test_points:
        raise ValueError(f"no {label} before {on.isoformat()} to predict from")
    latest = max(p[0] for p in history_points + test_points)
    window_start = latest - timedelta(weeks=WINDOW_WEEKS) + timedelta(days=1)
    series = [p for p in history_points if window_start <= p[0]]
    tests = [p for p in test_points if window_start <= p[0]]
    anchor = tests[-1] if tests else None
    shift = 0.0
    if anchor is not None:
        series, shift = _rebase(sorted(series + tests[:-1]), anchor)
    base_date = series[-1][0]
    span = (base_date - series[0][0]).days
    anchor_text = (
        f"; re-based on the test of {fmt(anchor[1])} {unit} on {anchor[0].isoformat()}"
        if anchor is not None
        else ""
    )
    if len(series) < MIN_TREND_POINTS or span < MIN_TREND_DAYS:
        level = statistics.median(v for _, v in series[-3:])
        return Prediction(
            kind=kind,
            on=on,
            value=level,
            method="level",
            level=level,
            base_date=base_date,
            weeks_ahead=0.0,
            slope_per_week=0.0,
            raw_slope_per_week=None,
            clipped=False,
            trend=None,
            n_points=len(series),
            window_start=window_start,
            anchor=anchor,
            anchor_shift=shift,
            reason=(
                f"Predicted {label} {fmt(level)} {unit}: the median of the last "
                f"{min(3, len(series))} values, too few ({len(series)} over {span} days) "
                f"for a trend{anchor_text}."
            ),
        )
    trend = theil_sen(series)
    level = trend.value_at(base_date)
    limit = max_weekly_change * abs(level)
    slope = min(max(trend.slope_per_week, -limit), limit)
    clipped = slope != trend.slope_per_week
    weeks = min((on - base_date).days / 7, max_horizon_weeks)
    value = level + slope * weeks
    clip_text = (
        f" (clipped from {fmt(trend.slope_per_week, 2)} to ±{fmt(100 * max_weekly_change)} %)"
        if clipped
        else ""
    )
    return Prediction(
        kind=kind,
        on=on,
        value=value,
        method="trend",
        level=level,
        base_date=base_date,
        weeks_ahead=weeks,
        slope_per_week=slope,
        raw_slope_per_week=trend.slope_per_week,
        clipped=clipped,
        trend=trend,
        n_points=len(series),
        window_start=window_start,
        anchor=anchor,
        anchor_shift=shift,
        reason=(
            f"Predicted {label} {fmt(value)} {unit} on {on.isoformat()}: trend over "
            f"{len(series)} values since {series[0][0].isoformat()} puts you at {fmt(level)} "
            f"{unit} on {base_date.isoformat()}, {fmt(slope, 2)} {unit} a week{clip_text} for "
            f"{fmt(weeks)} weeks{anchor_text}."
        ),
    )


def predict_next_e1rm(
    history: Sequence[tuple[date, SupportsFloat]],
    *,
    on: date,
    anchors: Sequence[tuple[date, SupportsFloat]] = (),
    max_weekly_change: float = STRENGTH_MAX_WEEKLY_CHANGE,
    max_horizon_weeks: float = MAX_HORIZON_WEEKS,
) -> Prediction:
    """e1RM (kg) for the session on `on` from session e1RMs; `anchors` are tested maxes."""
    return _predict(
        "e1rm", "e1RM", "kg", history, on, anchors, max_weekly_change, max_horizon_weeks
    )


def predict_threshold(
    history: Sequence[tuple[date, SupportsFloat]],
    *,
    on: date,
    anchors: Sequence[tuple[date, SupportsFloat]] = (),
    unit: str = "W",
    max_weekly_change: float = ENDURANCE_MAX_WEEKLY_CHANGE,
    max_horizon_weeks: float = MAX_HORIZON_WEEKS,
) -> Prediction:
    """Threshold power (W) or speed (m/s; higher is better) on `on`; anchors: time trials.

    Pace (s/km) must be passed as speed (1000 / pace) so that "up" means "better" here
    as in `plateau`.
    """
    return _predict(
        "threshold", "threshold", unit, history, on, anchors, max_weekly_change, max_horizon_weeks
    )


def score(prediction: Prediction, actual: SupportsFloat) -> float:
    """Absolute error of a stored prediction once the outcome arrives."""
    return abs(prediction.value - finite(actual, "actual"))


def mae(pairs: Sequence[tuple[SupportsFloat, SupportsFloat]]) -> float | None:
    """Mean absolute error over (predicted, actual) pairs; None when there are none yet."""
    if not pairs:
        return None
    return statistics.fmean(
        abs(finite(predicted, "predicted") - finite(actual, "actual"))
        for predicted, actual in pairs
    )
