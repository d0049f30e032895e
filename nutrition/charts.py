"""The weight chart as inline SVG coordinates: no JavaScript, no CDN. Raw weigh-ins are
dots; the smoothed trend is the line the client is meant to read (daily weight swings
with water and food; the trend is what moves with fat)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from programs import charts

WIDTH, HEIGHT, PAD = charts.WIDTH, charts.HEIGHT, charts.PAD


def weight_chart(weights: Mapping[str, float], trend: Mapping[str, float]) -> dict[str, Any] | None:
    """Coordinates for `nutrition/nutrition.html`, or None with fewer than two weigh-ins.
    The geometry is `programs.charts.time_chart`'s, shared with the progress page."""
    if len(weights) < 2:
        return None
    chart = charts.time_chart(
        [
            charts.Series(name="weigh-ins", points=_by_day(weights), style="dots"),
            charts.Series(name="trend", points=_by_day(trend), style="line"),
        ]
    )
    if chart is None:
        return None
    dots, line = chart.series
    return {
        "width": chart.width,
        "height": chart.height,
        "dots": list(dots.dots),
        "line": line.line,
        "low": chart.low,
        "high": chart.high,
        "first": chart.first.isoformat(),
        "last": chart.last.isoformat(),
        "latest_trend": round(trend[max(trend)], 1) if trend else None,
    }


def _by_day(values: Mapping[str, float]) -> dict[datetime.date, float]:
    return {datetime.date.fromisoformat(day): kg for day, kg in values.items()}
