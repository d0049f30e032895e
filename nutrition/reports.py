"""Reads that compute: the shopping list of a date range, adherence to targets and the
weight trend a client sees on the chart. Nothing here writes."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from athletes import selectors as athlete_selectors
from athletes.models import AthleteProfile
from nutrition import selectors, shopping
from nutrition.catalogue import load_catalogue
from nutrition.engine import energy

MACROS = ("energy_kcal", "protein_g", "carbs_g", "fat_g")


@dataclass(frozen=True)
class ShoppingReport:
    start: datetime.date
    end: datetime.date
    days_planned: int
    shopping: shopping.ShoppingList

    @property
    def items(self) -> tuple[shopping.ShoppingItem, ...]:
        return self.shopping.items

    @property
    def cost(self) -> float:
        return self.shopping.cost


def shopping_for(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> ShoppingReport:
    """Everything the plan days in [start, end] use, in purchasable units, with the
    client's ticks."""
    catalogue = load_catalogue()
    plans = selectors.plan_days_between(athlete, start, end)
    meals = [meal for row in plans.values() for meal in row.meals]
    row = selectors.shopping_list_row(athlete, start, end)
    listed = shopping.shopping_list(
        shopping.grams_by_food(meals, catalogue),
        catalogue,
        ticked=row.ticked if row is not None else (),
    )
    return ShoppingReport(start, end, len(plans), listed)


def shopping_text(report: ShoppingReport) -> str:
    return shopping.as_text(
        report.shopping, f"Shopping list {report.start:%a %-d %b} – {report.end:%a %-d %b %Y}"
    )


def shopping_csv(report: ShoppingReport) -> str:
    return shopping.as_csv(report.shopping)


def adherence(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> list[dict[str, Any]]:
    """Per day: the target, what was logged and the percentage of each; a day without a
    log has no percentage (not 0 %: unlogged isn't uneaten)."""
    targets = selectors.targets_between(athlete, start, end)
    eaten = selectors.intake_by_day(athlete, start, end)
    out = []
    day = start
    while day <= end:
        target = targets.get(day)
        ate = eaten.get(day)
        target_json = (
            {name: getattr(target, name) for name in MACROS} if target is not None else None
        )
        percent = (
            {
                name: round(100 * ate[name] / target_json[name]) if target_json[name] else None
                for name in MACROS
            }
            if target_json is not None and ate is not None
            else None
        )
        out.append(
            {
                "date": day,
                "target": target_json,
                "eaten": {k: round(v, 1) for k, v in ate.items()} if ate else None,
                "percent": percent,
            }
        )
        day += datetime.timedelta(days=1)
    return out


def weight_trend(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    """Raw weigh-ins, the smoothed trend line the chart shows (display only: it lags,
    SCIENCE.md §4) and the expenditure readings."""
    weights = athlete_selectors.weigh_ins(athlete, start, end)
    trend = energy.trend_weights(weights) if weights else {}
    return {
        "weights": {d.isoformat(): w for d, w in sorted(weights.items())},
        "trend": {d.isoformat(): round(w, 2) for d, w in sorted(trend.items())},
        "estimates": [
            {
                "date": e.date.isoformat(),
                "adaptive_kcal": e.adaptive_kcal,
                "formula_kcal": e.formula_kcal,
                "weigh_ins": e.weigh_ins,
                "intake_days": e.intake_days,
                "note": e.note,
                "adjustment": e.adjustment_id,
            }
            for e in selectors.estimates_of(athlete)
            if start <= e.date <= end
        ],
    }
