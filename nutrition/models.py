"""A client's eating: preferences, daily targets, meal plans, food log, shopping lists and
weekly expenditure estimates.

Foods and recipes are not rows: they are the reference table shipped in `nutrition/data/`
(`nutrition.catalogue`), the same for every tenant. Rows here name them by key
(`food:<slug>` / `recipe:<slug>`) and keep a snapshot of the numbers they used, so a
corrected table never rewrites a client's history. Everything here is health data
(special category): never logged.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from athletes.models import AthleteProfile
from coaching.tenancy import TenantScoped


class NutritionProfile(TenantScoped):
    """What the client eats and aims for. Hard rules (diet, restrictions, allergies,
    dislikes, prep time, skill) are never relaxed by the planner; favourites and budget
    are wishes."""

    class Diet(models.TextChoices):
        OMNIVORE = "omnivore", "Omnivore"
        VEGETARIAN = "vegetarian", "Vegetarian"
        VEGAN = "vegan", "Vegan"
        PESCATARIAN = "pescatarian", "Pescatarian"
        PALEO = "paleo", "Paleo"

    class Goal(models.TextChoices):
        LOSE = "lose", "Lose fat"
        MAINTAIN = "maintain", "Maintain"
        GAIN = "gain", "Gain weight"

    class Activity(models.TextChoices):
        SEDENTARY = "sedentary", "Sedentary"
        LIGHT = "light", "Lightly active"
        MODERATE = "moderate", "Moderately active"
        VERY = "very", "Very active"
        EXTRA = "extra", "Extra active"

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    diet = models.CharField(max_length=12, choices=Diet.choices, default=Diet.OMNIVORE)
    restrictions = models.JSONField(default=list, blank=True)  # gluten-free, halal, …
    allergies = models.JSONField(default=list, blank=True)
    dislikes = models.JSONField(default=list, blank=True)  # food slugs
    favourites = models.JSONField(default=list, blank=True)  # food:/recipe: keys
    meals_per_day = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(3), MaxValueValidator(6)]
    )
    budget_per_day = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    max_prep_min = models.PositiveSmallIntegerField(null=True, blank=True)
    cooking_skill = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    goal = models.CharField(max_length=10, choices=Goal.choices, default=Goal.MAINTAIN)
    rate_percent_per_week = models.DecimalField(
        max_digits=4, decimal_places=2, null=True, blank=True
    )
    activity = models.CharField(max_length=10, choices=Activity.choices, default=Activity.MODERATE)
    # Measured expenditure (kcal/day) once the weight trend and the food log allow it; set
    # only through an applied energy Adjustment. Null: the formula (BMR × activity) holds.
    expenditure_kcal = models.PositiveIntegerField(null=True, blank=True)
    # A coach's fixed targets, when they override the methodology's.
    energy_kcal_override = models.PositiveIntegerField(null=True, blank=True)
    protein_g_override = models.PositiveIntegerField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete"], name="nutritionprofile_unique_tenant_athlete"
            )
        ]

    def __str__(self) -> str:
        return f"nutrition profile of athlete {self.athlete_id}"


class DayTarget(TenantScoped):
    """One day's energy and macros with the reasons the client reads."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    day_load = models.CharField(max_length=10)
    energy_kcal = models.PositiveIntegerField()
    protein_g = models.PositiveIntegerField()
    carbs_g = models.PositiveIntegerField()
    fat_g = models.PositiveIntegerField()
    reasons = models.JSONField(default=list)
    inputs = models.JSONField(default=dict)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "date"], name="daytarget_unique_tenant_athlete_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.energy_kcal} kcal"

    @property
    def macros(self) -> tuple[int, int, int, int]:
        return (self.energy_kcal, self.protein_g, self.carbs_g, self.fat_g)


class PlanDay(TenantScoped):
    """One day of the meal plan. `meals` holds the engine's meals as JSON
    ({slot, kind, locked, items: [{key, name, portions, grams, kcal, protein_g, carbs_g,
    fat_g, cost, prep_min}]}); `target` is the figure it was planned for, so the night
    re-plans only days whose target changed."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    target = models.JSONField()  # {energy_kcal, protein_g, carbs_g, fat_g}
    meals = models.JSONField(default=list)
    totals = models.JSONField(default=dict)
    feasible = models.BooleanField(default=True)
    tolerance = models.JSONField(default=dict)
    relaxations = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    cost = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    prep_min = models.PositiveIntegerField(default=0)
    # Bumped by "re-plan this day": it seeds the optimiser, so asking again gives new meals.
    revision = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "date"], name="planday_unique_tenant_athlete_date"
            )
        ]

    def __str__(self) -> str:
        return f"meal plan {self.date}"


class FoodLogEntry(TenantScoped):
    """What the client ate: a food or recipe by grams (portions are converted), with the
    numbers it counted for at the time."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    slot = models.CharField(max_length=12, blank=True)
    key = models.CharField(max_length=80)  # food:<slug> or recipe:<slug>
    name = models.CharField(max_length=160)
    grams = models.DecimalField(max_digits=7, decimal_places=1)
    portions = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    energy_kcal = models.FloatField()
    protein_g = models.FloatField()
    carbs_g = models.FloatField()
    fat_g = models.FloatField()
    fibre_g = models.FloatField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["tenant", "athlete", "date"])]

    def __str__(self) -> str:
        return f"{self.date}: {self.name} {self.grams} g"


class ShoppingList(TenantScoped):
    """A shopping list's range and what the client already ticked off; its items are
    always computed from the plan days in the range, so they can't drift from the plan."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    start = models.DateField()
    end = models.DateField()
    ticked = models.JSONField(default=list, blank=True)  # food slugs
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "start", "end"],
                name="shoppinglist_unique_tenant_athlete_range",
            )
        ]

    def __str__(self) -> str:
        return f"shopping {self.start}–{self.end}"


class ExpenditureEstimate(TenantScoped):
    """A weekly reading of expenditure from the weight trend and the food log
    (`adaptive_tdee`), kept whether or not it changed anything, so the coach can see why
    the energy target moved or didn't."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()  # the last day of the window
    window_days = models.PositiveSmallIntegerField()
    weigh_ins = models.PositiveSmallIntegerField()
    intake_days = models.PositiveSmallIntegerField()
    mean_intake_kcal = models.FloatField(null=True, blank=True)
    slope_kg_per_week = models.FloatField(null=True, blank=True)
    adaptive_kcal = models.FloatField(null=True, blank=True)  # None: not enough data
    formula_kcal = models.FloatField()
    previous_kcal = models.FloatField()
    adjustment = models.ForeignKey(
        "programs.Adjustment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "date"],
                name="expenditureestimate_unique_tenant_athlete_date",
            )
        ]

    def __str__(self) -> str:
        return f"expenditure {self.date}"


class NutritionRun(TenantScoped):
    """One night's nutrition for one athlete (`plan_nutrition`): claimed first, so a
    retried or duplicated task finds it and changes nothing."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    targets_changed = models.JSONField(default=list)  # ISO dates
    days_planned = models.JSONField(default=list)  # ISO dates re-planned
    infeasible = models.JSONField(default=list)  # ISO dates without a plan
    expenditure = models.ForeignKey(
        ExpenditureEstimate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "date"], name="nutritionrun_unique_tenant_athlete_date"
            )
        ]

    def __str__(self) -> str:
        return f"nutrition night {self.date}"
