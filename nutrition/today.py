"""Nutrition's part of the client's Today page (athletes/today.py has the registry):
today's meals with a link to swap each (the nutrition page's swap flow), and tomorrow's
meal count and energy in the preview. Imported from `NutritionConfig.ready()`, which is
what registers these. Both read the same two days in two queries.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from athletes import consent, today
from nutrition import selectors
from nutrition.models import DayTarget, PlanDay

PANEL = "meals"
TEMPLATE = "athletes/_today_meals.html"


@dataclass(frozen=True)
class _Loaded:
    plans: Mapping[datetime.date, PlanDay]
    targets: Mapping[datetime.date, DayTarget]


def _loaded(day: today.Day) -> _Loaded:
    return day.memo(
        "nutrition.today",
        lambda: _Loaded(
            plans=selectors.plan_days_between(day.athlete, day.date, day.tomorrow),
            targets=selectors.targets_between(day.athlete, day.date, day.tomorrow),
        ),
    )


def _kcal(meal: Mapping) -> float:
    return sum(float(item.get("kcal", 0)) for item in meal.get("items", ()))


def build(day: today.Day) -> today.Panel:
    """Today's meals; without consent to nutrition planning, why there are none."""
    context: dict[str, object] = {"date": day.date}
    if not day.consents.get(consent.NUTRITION_PLANNING, False):
        context["needs_consent"] = True
    else:
        loaded = _loaded(day)
        plan = loaded.plans.get(day.date)
        context.update(
            plan=plan,
            target=loaded.targets.get(day.date),
            meals=[{**meal, "kcal": _kcal(meal)} for meal in plan.meals] if plan else [],
        )
    return today.Panel(name=PANEL, title="Meals", template=TEMPLATE, context=context)


def preview(day: today.Day) -> list[today.PreviewLine]:
    if not day.consents.get(consent.NUTRITION_PLANNING, False):
        return []
    plan = _loaded(day).plans.get(day.tomorrow)
    if plan is None:
        return [today.PreviewLine(title="Meals", detail="Not planned yet.")]
    if not plan.feasible:
        return [today.PreviewLine(title="Meals", detail=plan.message)]
    kcal = plan.totals.get("energy_kcal") or round(sum(_kcal(m) for m in plan.meals))
    count = len(plan.meals)
    return [
        today.PreviewLine(
            title=f"{count} meal{'s' if count != 1 else ''}",
            detail=f"{kcal:,.0f} kcal planned",
        )
    ]


today.register_panel(PANEL, 30, build)
today.register_preview(PANEL, 20, preview)
