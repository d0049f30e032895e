"""The week of meals as the printable plan shows it (`nutrition.views_print`): one row
per meal with what to eat and its energy, per day. A read, shaped for paper."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from athletes.models import AthleteProfile
from nutrition import selectors

DAYS = 7


@dataclass(frozen=True, kw_only=True)
class PrintMeal:
    slot: str
    food: str  # "Oats ×2 + Greek yoghurt"
    kcal: int


@dataclass(frozen=True, kw_only=True)
class PrintDay:
    date: datetime.date
    meals: tuple[PrintMeal, ...]
    energy_kcal: int | None  # the day's target
    note: str  # "" or why there is no plan ("Not planned yet.", the engine's message)


def _item(item: dict) -> str:
    portions = item.get("portions", 1)
    return f"{item['name']} ×{portions}" if portions > 1 else str(item["name"])


def week_meals(athlete: AthleteProfile, start: datetime.date, days: int = DAYS) -> list[PrintDay]:
    """`days` days from `start`, planned or not (an unplanned day says so on paper)."""
    end = start + datetime.timedelta(days=days - 1)
    plans = selectors.plan_days_between(athlete, start, end)
    out = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        row = plans.get(day)
        if row is None:
            out.append(PrintDay(date=day, meals=(), energy_kcal=None, note="Not planned yet."))
            continue
        meals = tuple(
            PrintMeal(
                slot=str(meal["slot"]).capitalize(),
                food=" + ".join(_item(item) for item in meal.get("items", [])),
                kcal=round(sum(float(item.get("kcal", 0)) for item in meal.get("items", []))),
            )
            for meal in (row.meals if row.feasible else [])
        )
        out.append(
            PrintDay(
                date=day,
                meals=meals,
                energy_kcal=(row.target or {}).get("energy_kcal"),
                note="" if row.feasible else row.message,
            )
        )
    return out
