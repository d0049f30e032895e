"""What nutrition exports and erases for an athlete (athletes/privacy.py registries).

Imported from `NutritionConfig.ready()`. Adding a model that hangs off an athlete: register
it here; tests/test_privacy_export.py fails until you do. NutritionRun points at
ExpenditureEstimate, which points at programs' Adjustment (SET_NULL both), so the runs go
first.
"""

from __future__ import annotations

from athletes.privacy import register_athlete_model
from nutrition.models import (
    DayTarget,
    ExpenditureEstimate,
    FoodLogEntry,
    NutritionProfile,
    NutritionRun,
    PlanDay,
    ShoppingList,
)

register_athlete_model(NutritionRun, name="nutrition_runs", order=10)
register_athlete_model(ExpenditureEstimate, name="expenditure_estimates", tabular=True, order=15)
register_athlete_model(FoodLogEntry, name="food_log", tabular=True, order=20)
register_athlete_model(PlanDay, name="meal_plans", tabular=True, order=20)
register_athlete_model(DayTarget, name="day_targets", tabular=True, order=20)
register_athlete_model(ShoppingList, name="shopping_lists", order=20)
register_athlete_model(NutritionProfile, name="nutrition_profile", order=30)
