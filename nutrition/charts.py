"""The weight chart as inline SVG coordinates: no JavaScript, no CDN. Raw weigh-ins are
dots; the smoothed trend is the line the client is meant to read (daily weight swings
with water and food; the trend is what moves with fat)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

WIDTH, HEIGHT, PAD = 640, 200, 28


def weight_chart(weights: Mapping[str, float], trend: Mapping[str, float]) -> dict[str, Any] | None:
    """Coordinates for `nutrition/nutrition.html`, or None with fewer than two weigh-ins."""
    if len(weights) < 2:
        return None
    days = sorted({*weights, *trend})
    first = datetime.date.fromisoformat(days[0])
    span = max((datetime.date.fromisoformat(days[-1]) - first).days, 1)
    values = [*weights.values(), *trend.values()]
    low, high = min(values) - 0.5, max(values) + 0.5

    def xy(day: str, kg: float) -> tuple[float, float]:
        x = PAD + (datetime.date.fromisoformat(day) - first).days / span * (WIDTH - 2 * PAD)
        y = HEIGHT - PAD - (kg - low) / (high - low) * (HEIGHT - 2 * PAD)
        return round(x, 1), round(y, 1)

    return {
        "width": WIDTH,
        "height": HEIGHT,
        "dots": [xy(d, kg) for d, kg in sorted(weights.items())],
        "line": " ".join(f"{x},{y}" for x, y in (xy(d, kg) for d, kg in sorted(trend.items()))),
        "low": round(low + 0.5, 1),
        "high": round(high - 0.5, 1),
        "first": days[0],
        "last": days[-1],
        "latest_trend": round(trend[max(trend)], 1) if trend else None,
    }
