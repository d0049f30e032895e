"""Exercises and what an athlete actually did (logs). Plans and blocks come with the
methodologies issue; a logged session will then point at its planned session."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from athletes.models import AthleteProfile
from coaching.tenancy import TenantScoped

RPE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(10)]


class Exercise(TenantScoped):
    """A tenant's exercise library; the substitution group lets autoregulation swap lifts."""

    class Category(models.TextChoices):
        SQUAT = "squat", "Squat"
        HINGE = "hinge", "Hinge"
        PRESS = "press", "Press"
        PULL = "pull", "Pull"
        SINGLE_LEG = "single_leg", "Single leg"
        ACCESSORY = "accessory", "Accessory"

    name = models.CharField(max_length=120)
    category = models.CharField(max_length=16, choices=Category.choices)
    substitution_group = models.CharField(max_length=40, blank=True)
    is_bilateral = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="exercise_unique_tenant_name")
        ]

    def __str__(self) -> str:
        return self.name


class SessionLog(TenantScoped):
    """A completed training session, strength or endurance."""

    class Kind(models.TextChoices):
        STRENGTH = "strength", "Strength"
        RUN = "run", "Run"
        RIDE = "ride", "Ride"

    athlete = models.ForeignKey(
        AthleteProfile, on_delete=models.CASCADE, related_name="session_logs"
    )
    date = models.DateField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    duration_s = models.PositiveIntegerField(validators=[MaxValueValidator(24 * 3600)])
    session_rpe = models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, validators=RPE_VALIDATORS
    )
    distance_m = models.PositiveIntegerField(null=True, blank=True)
    avg_hr_bpm = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(30), MaxValueValidator(230)]
    )
    avg_power_w = models.PositiveSmallIntegerField(null=True, blank=True)
    normalized_power_w = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["tenant", "athlete", "date"])]


class SetLog(TenantScoped):
    session = models.ForeignKey(SessionLog, on_delete=models.CASCADE, related_name="sets")
    # RESTRICT, not PROTECT: an exercise with logs can't be deleted on its own, but
    # deleting the tenant (offboarding, demo reset) cascades through both.
    exercise = models.ForeignKey(Exercise, on_delete=models.RESTRICT, related_name="+")
    set_index = models.PositiveSmallIntegerField()
    weight_kg = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    reps = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    rpe = models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, validators=RPE_VALIDATORS
    )
    mean_velocity_m_s = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["session", "set_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "session", "set_index"], name="setlog_unique_tenant_session_index"
            )
        ]
