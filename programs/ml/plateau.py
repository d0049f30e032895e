"""Plateau and decline of a performance series (SCIENCE.md §6).

The series is the athlete's working e1RM per session (strength) or threshold power /
speed per test or estimate (endurance) — higher is better. Theil–Sen (the median of all
pairwise slopes) is used because one great or terrible day moves it very little: a single
AMRAP or bad session must not raise or silence an alert (SCIENCE.md §1).

Rules, over the last `max_weeks` weeks (default 6) with data spanning ≥ `min_weeks`
(default 3) and ≥ `min_points` sessions (default 4):
- plateau: slope ≤ 0 (no upward trend);
- decline: the whole 95 % confidence interval of the slope is below 0 (a decline is a
  plateau too, and the stronger alert).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import SupportsFloat

from programs.ml.common import Insufficient, clean_series, fmt

CONFIDENCE = 0.95
DAYS_PER_WEEK = 7


@dataclass(frozen=True, kw_only=True)
class Trend:
    slope_per_week: float  # series unit per week
    intercept: float  # the fitted line's value on `first`
    ci_low_per_week: float  # 95 % confidence interval of the slope
    ci_high_per_week: float
    n: int
    first: date
    last: date

    def value_at(self, day: date) -> float:
        """The fitted line's value on `day` (extrapolates outside first..last)."""
        return self.intercept + self.slope_per_week * (day - self.first).days / DAYS_PER_WEEK


@dataclass(frozen=True, kw_only=True)
class PlateauResult:
    status: str  # "decline" | "plateau" | "progressing"
    is_plateau: bool  # slope ≤ 0
    is_decline: bool  # CI high < 0
    trend: Trend
    relative_slope_pct_per_week: float  # slope as % of the window's median value
    points: tuple[tuple[date, float], ...]  # the points the trend used
    window_start: date  # first day of the window, inclusive
    window_end: date  # `today`, inclusive
    reason: str


def theil_sen(points: Sequence[tuple[date, SupportsFloat]]) -> Trend:
    """Theil–Sen line through (date, value) points, slope per week with its 95 % CI.

    x is days since the first point. Needs two distinct dates; ValueError otherwise.
    """
    series = clean_series(points, "series value")
    if len({day for day, _ in series}) < 2:
        raise ValueError("Theil–Sen needs points on at least two different dates")
    from scipy.stats import theilslopes

    first = series[0][0]
    x = [(day - first).days for day, _ in series]
    y = [value for _, value in series]
    fit = theilslopes(y, x, alpha=CONFIDENCE)
    return Trend(
        slope_per_week=float(fit.slope) * DAYS_PER_WEEK,
        intercept=float(fit.intercept),
        ci_low_per_week=float(fit.low_slope) * DAYS_PER_WEEK,
        ci_high_per_week=float(fit.high_slope) * DAYS_PER_WEEK,
        n=len(series),
        first=first,
        last=series[-1][0],
    )


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def plateau(
    points: Sequence[tuple[date, SupportsFloat]],
    today: date,
    *,
    min_weeks: int = 3,
    max_weeks: int = 6,
    min_points: int = 4,
    label: str = "working e1RM",
    unit: str = "kg",
) -> PlateauResult | Insufficient:
    """Plateau / decline / progressing over the last `max_weeks` weeks up to `today`.

    Points after `today` are ignored. Returns `Insufficient` (with its reason) when the
    window holds fewer than `min_points` points or they span less than `min_weeks` weeks.
    """
    if not 1 <= min_weeks <= max_weeks:
        raise ValueError(f"need 1 ≤ min_weeks ≤ max_weeks, got {min_weeks} and {max_weeks}")
    if min_points < 3:
        raise ValueError(f"min_points must be ≥ 3 for a trend, got {min_points}")
    window_start = today - timedelta(weeks=max_weeks) + timedelta(days=1)
    window = [p for p in clean_series(points, label) if window_start <= p[0] <= today]
    if len(window) < min_points:
        return Insufficient(
            reason=(
                f"Only {len(window)} of {min_points} {label} values in the last "
                f"{max_weeks} weeks: too few to call a trend"
            ),
            have=len(window),
            need=min_points,
        )
    span_days = (window[-1][0] - window[0][0]).days
    if span_days < min_weeks * DAYS_PER_WEEK:
        return Insufficient(
            reason=(
                f"{label} values span {span_days} of {min_weeks * DAYS_PER_WEEK} days "
                f"needed: too short to call a trend"
            ),
            have=span_days,
            need=min_weeks * DAYS_PER_WEEK,
        )
    trend = theil_sen(window)
    values = sorted(value for _, value in window)
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    relative = 100 * trend.slope_per_week / median if median else 0.0
    is_decline = trend.ci_high_per_week < 0
    is_plateau = trend.slope_per_week <= 0
    status = "decline" if is_decline else "plateau" if is_plateau else "progressing"
    unit_text = f" {unit}" if unit else ""
    slope_text = (
        f"{fmt(trend.slope_per_week, 2)}{unit_text} a week "
        f"(95 % CI {fmt(trend.ci_low_per_week, 2)} to {fmt(trend.ci_high_per_week, 2)}) "
        f"over {len(window)} values from {_day(window[0][0])} to {_day(window[-1][0])}"
    )
    reason = {
        "decline": f"Decline: {label} is falling, {slope_text}; the whole interval is below 0.",
        "plateau": f"Plateau: {label} is not rising, {slope_text}.",
        "progressing": f"Progressing: {label} is rising, {slope_text}.",
    }[status]
    return PlateauResult(
        status=status,
        is_plateau=is_plateau,
        is_decline=is_decline,
        trend=trend,
        relative_slope_pct_per_week=relative,
        points=tuple(window),
        window_start=window_start,
        window_end=today,
        reason=reason,
    )


def decline(
    points: Sequence[tuple[date, SupportsFloat]],
    today: date,
    *,
    min_weeks: int = 3,
    max_weeks: int = 6,
    min_points: int = 4,
    label: str = "working e1RM",
    unit: str = "kg",
) -> PlateauResult | Insufficient:
    """The same evaluation as `plateau`, for call sites that only alert on `is_decline`.

    One computation on purpose: a decline is a plateau whose slope is significantly
    negative, so the two alerts can never disagree about the numbers behind them.
    """
    return plateau(
        points,
        today,
        min_weeks=min_weeks,
        max_weeks=max_weeks,
        min_points=min_points,
        label=label,
        unit=unit,
    )
