"""Reads of nutrition data within the tenant in context. Staff see the whole tenant; a
client sees only their own rows."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import QuerySet

from athletes.models import AthleteProfile
from athletes.selectors import own_or_all
from coaching.models import Membership
from nutrition.models import (
    DayTarget,
    ExpenditureEstimate,
    FoodLogEntry,
    NutritionProfile,
    NutritionRun,
    PlanDay,
    ShoppingList,
)


def profile_of(athlete: AthleteProfile) -> NutritionProfile:
    """The athlete's preferences, or the defaults (unsaved) until they set any."""
    found = NutritionProfile.objects.filter(athlete=athlete).first()
    return found if found is not None else NutritionProfile(athlete=athlete)


def profile_for_update(athlete: AthleteProfile) -> NutritionProfile | None:
    return NutritionProfile.objects.select_for_update().filter(athlete=athlete).first()


def targets_between(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> dict[datetime.date, DayTarget]:
    rows = DayTarget.objects.filter(athlete=athlete, date__range=(start, end))
    return {row.date: row for row in rows}


def plan_days_between(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> dict[datetime.date, PlanDay]:
    rows = PlanDay.objects.filter(athlete=athlete, date__range=(start, end))
    return {row.date: row for row in rows}


def plan_day_for_update(athlete: AthleteProfile, day: datetime.date) -> PlanDay | None:
    return PlanDay.objects.select_for_update().filter(athlete=athlete, date=day).first()


def intake_by_day(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> dict[datetime.date, dict[str, float]]:
    """Logged totals per day (days without a log are absent, not zero)."""
    totals: dict[datetime.date, dict[str, float]] = defaultdict(
        lambda: {"energy_kcal": 0.0, "protein_g": 0.0, "carbs_g": 0.0, "fat_g": 0.0}
    )
    rows = FoodLogEntry.objects.filter(athlete=athlete, date__range=(start, end)).values_list(
        "date", "energy_kcal", "protein_g", "carbs_g", "fat_g"
    )
    for day, kcal, protein, carbs, fat in rows:
        day_total = totals[day]
        day_total["energy_kcal"] += kcal
        day_total["protein_g"] += protein
        day_total["carbs_g"] += carbs
        day_total["fat_g"] += fat
    return dict(totals)


def latest_estimate(athlete: AthleteProfile) -> ExpenditureEstimate | None:
    return ExpenditureEstimate.objects.filter(athlete=athlete).order_by("-date").first()


def estimates_of(athlete: AthleteProfile, limit: int = 12) -> list[ExpenditureEstimate]:
    return list(ExpenditureEstimate.objects.filter(athlete=athlete).order_by("-date")[:limit])


def nutrition_run(athlete: AthleteProfile, day: datetime.date) -> NutritionRun | None:
    return NutritionRun.objects.filter(athlete=athlete, date=day).first()


def shopping_list_row(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> ShoppingList | None:
    return ShoppingList.objects.filter(athlete=athlete, start=start, end=end).first()


def food_log_visible_to(membership: Membership) -> QuerySet[FoodLogEntry]:
    return own_or_all(membership, FoodLogEntry.objects.all(), "athlete__user_id")


def plan_days_visible_to(membership: Membership) -> QuerySet[PlanDay]:
    return own_or_all(membership, PlanDay.objects.all(), "athlete__user_id")


def targets_visible_to(membership: Membership) -> QuerySet[DayTarget]:
    return own_or_all(membership, DayTarget.objects.all(), "athlete__user_id")
