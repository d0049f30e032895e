"""Chart geometry for server-rendered SVG: dates and values in, pixel coordinates out.

Pure (no Django, no queries) so the numbers a chart draws can be unit-tested and the
templates only place what they are given. Pages draw the SVG and, beside it, a table
of the same numbers for screen readers and printouts (the chart is never the only
way to read them).

One x axis (calendar days from the first to the last point of any series), one y axis
(the range of every series, padded by `margin` in the series' unit). `nutrition.charts`
draws the weight trend with the same function, so both pages scale the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from programs.engine import strength

WIDTH, HEIGHT, PAD = 640, 200, 28
STYLES = ("line", "dots", "both")


@dataclass(frozen=True, kw_only=True)
class Series:
    """One named series: `style` says whether its points are joined ("line"), drawn as
    dots ("dots") or both."""

    name: str
    points: Mapping[datetime.date, float]
    style: str = "line"
    colour: str = "#2457d6"

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {self.style!r}")


@dataclass(frozen=True, kw_only=True)
class PlottedSeries:
    name: str
    style: str
    colour: str
    dots: tuple[tuple[float, float], ...]
    line: str  # SVG polyline "x,y x,y …" ("" for dots only or one point)
    latest: float | None  # the last value, in the series' unit


@dataclass(frozen=True, kw_only=True)
class Chart:
    width: int
    height: int
    series: tuple[PlottedSeries, ...]
    low: float  # the lowest value drawn (axis label), before the margin
    high: float
    first: datetime.date
    last: datetime.date
    low_y: float  # where the axis labels go
    high_y: float
    zero_y: float | None  # a reference line at 0 when 0 is inside the range (TSB)


def time_chart(
    series: Sequence[Series],
    *,
    margin: float = 0.5,
    min_points: int = 2,
    value_range: tuple[float, float] | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    pad: int = PAD,
) -> Chart | None:
    """Coordinates of `series` on one date axis, or None when no series has
    `min_points` points (a single dot is not a trend). Values map linearly onto
    `[pad, height − pad]` (higher values higher up); days onto `[pad, width − pad]`.
    `value_range` fixes the axis (a 0–100 score) instead of fitting it to the data."""
    if margin < 0:
        raise ValueError(f"margin must be ≥ 0, got {margin}")
    if not any(len(s.points) >= min_points for s in series):
        return None
    days = sorted({day for s in series for day in s.points})
    values = [float(v) for s in series for v in s.points.values()]
    first, last = days[0], days[-1]
    span = max((last - first).days, 1)
    if value_range is not None:
        low, high = value_range[0] - margin, value_range[1] + margin
    else:
        low, high = min(values) - margin, max(values) + margin
    if high == low:  # every value equal and no margin: centre them
        low, high = low - 1, high + 1

    def y_of(value: float) -> float:
        return round(height - pad - (value - low) / (high - low) * (height - 2 * pad), 1)

    def xy(day: datetime.date, value: float) -> tuple[float, float]:
        x = pad + (day - first).days / span * (width - 2 * pad)
        return round(x, 1), y_of(float(value))

    plotted = []
    for s in series:
        ordered = sorted(s.points.items())
        coords = tuple(xy(day, value) for day, value in ordered)
        plotted.append(
            PlottedSeries(
                name=s.name,
                style=s.style,
                colour=s.colour,
                dots=coords if s.style in ("dots", "both") else (),
                line=" ".join(f"{x},{y}" for x, y in coords)
                if s.style in ("line", "both") and len(coords) > 1
                else "",
                latest=float(ordered[-1][1]) if ordered else None,
            )
        )
    return Chart(
        width=width,
        height=height,
        series=tuple(plotted),
        low=round(low + margin, 1),
        high=round(high - margin, 1),
        first=first,
        last=last,
        low_y=float(height - 6),
        high_y=14.0,
        zero_y=y_of(0.0) if low < 0 < high else None,
    )


def weekly_rows(
    series: Sequence[Series], *, every_days: int = 7
) -> list[tuple[datetime.date, tuple[float | None, ...]]]:
    """The table beside a chart: one row per `every_days` counted back from the last
    day (so the newest value is always in), each with every series' value on that day
    or the latest before it (None before a series starts). Keeps a daily series (PMC,
    trend) readable as text."""
    if every_days < 1:
        raise ValueError(f"every_days must be ≥ 1, got {every_days}")
    days = sorted({day for s in series for day in s.points})
    if not days:
        return []
    first, last = days[0], days[-1]
    picks = []
    day = last
    while day >= first:
        picks.append(day)
        day -= datetime.timedelta(days=every_days)
    ordered = [sorted(s.points.items()) for s in series]
    rows = []
    for pick in reversed(picks):
        values = []
        for items in ordered:
            before = [v for d, v in items if d <= pick]
            values.append(round(float(before[-1]), 1) if before else None)
        rows.append((pick, tuple(values)))
    return rows


@dataclass(frozen=True, kw_only=True)
class Panel:
    """One chart on a page with its text: a sentence that says what it shows now, and
    the same numbers as a table (`headers`, `rows`) for screen readers and print."""

    key: str
    title: str
    summary: str
    chart: Chart | None
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class LiftTrend:
    best: dict[datetime.date, float]  # each session's best set e1RM
    working: dict[datetime.date, float]  # the robust working e1RM on each session day


def e1rm_trend(
    sets: Sequence[tuple[datetime.date, float, int, float | None]],
    *,
    method: str = "best_of_last_n",
) -> LiftTrend:
    """Per session day of one lift: the best logged set's e1RM (the dots; RTS chart via
    `strength.logged_set_e1rm`) and the working e1RM the engine would use that day (the
    line; `strength.working_e1rm`, so one lucky AMRAP doesn't make the line jump).
    Sets the chart can't read (warm-ups, > 12 reps) are left out."""
    best: dict[datetime.date, float] = {}
    for day, weight, reps, rpe in sets:
        value = strength.logged_set_e1rm(weight, reps, rpe)
        if value is not None and value > best.get(day, 0.0):
            best[day] = value
    working: dict[datetime.date, float] = {}
    for day in sorted(best):
        value = strength.working_e1rm(sets, method=method, today=day)
        if value is not None:
            working[day] = value
    return LiftTrend(best=best, working=working)
