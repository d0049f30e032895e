"""The body-weight panel of the progress page (`programs.progress`): raw weigh-ins as
dots and the smoothed trend as the line, the same chart as the nutrition page. Lives
here because the trend (`engine.energy.trend_weights`) is nutrition's; registered from
`NutritionConfig.ready()`."""

from __future__ import annotations

import datetime

from athletes.models import AthleteProfile
from nutrition import reports
from programs import charts
from programs.progress import PanelProvider

WEEKS = 12


def body_weight_panel(athlete: AthleteProfile, today: datetime.date) -> charts.Panel | None:
    """None until there are two weigh-ins in the last `WEEKS` weeks."""
    data = reports.weight_trend(athlete, today - datetime.timedelta(weeks=WEEKS), today)
    weights = {datetime.date.fromisoformat(d): kg for d, kg in data["weights"].items()}
    trend = {datetime.date.fromisoformat(d): kg for d, kg in data["trend"].items()}
    if len(weights) < 2:
        return None
    chart = charts.time_chart(
        [
            charts.Series(name="weigh-ins", points=weights, style="dots", colour="#6b7689"),
            charts.Series(name="trend", points=trend, style="line"),
        ]
    )
    days = sorted(trend)
    change = trend[days[-1]] - trend[days[0]]
    direction = "no change" if abs(change) < 0.05 else ("up" if change > 0 else "down")
    summary = f"Trend {trend[days[-1]]:.1f} kg on {_d(days[-1])}, {direction}"
    if direction != "no change":
        summary += f" {abs(change):.1f} kg"
    summary += f" since {_d(days[0])} ({len(weights)} weigh-ins)."
    return charts.Panel(
        key="body-weight",
        title="Body weight (kg)",
        summary=summary,
        chart=chart,
        headers=("Day", "Weigh-in (kg)", "Trend (kg)"),
        rows=tuple(
            (_d(day), f"{weights[day]:.1f}", f"{trend[day]:.1f}")
            for day in sorted(weights, reverse=True)
        ),
        note="Dots are your weigh-ins; the line is the smoothed trend, which is what"
        " changes with body fat (daily weight swings with water and food).",
    )


def _d(day: datetime.date) -> str:
    return f"{day:%d %b}".lstrip("0")


PROVIDER = PanelProvider(key="body-weight", order=50, build=body_weight_panel, raw_checkins=True)
