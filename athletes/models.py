"""The client (athlete) and what they report each day.

Health values (HRV, sleep, body weight) are special-category personal data: they never
go to logs, and later issues add consent gating, export and erasure for every model here.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from coaching.tenancy import TenantScoped


class AthleteProfile(TenantScoped):
    class Discipline(models.TextChoices):
        STRENGTH = "strength", "Strength"
        ENDURANCE = "endurance", "Endurance"

    class Sex(models.TextChoices):
        MALE = "male", "Male"
        FEMALE = "female", "Female"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="athlete_profiles"
    )
    display_name = models.CharField(max_length=120)
    discipline = models.CharField(max_length=16, choices=Discipline.choices)
    sex = models.CharField(max_length=8, choices=Sex.choices)
    birth_date = models.DateField()
    height_cm = models.DecimalField(
        max_digits=5, decimal_places=1, validators=[MinValueValidator(100), MaxValueValidator(250)]
    )
    # The tier is a string until the methodologies issue turns it into a Tier FK.
    tier = models.CharField(max_length=16, default="diy")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"], name="athleteprofile_unique_tenant_user"
            )
        ]

    def __str__(self) -> str:
        return self.display_name


class CheckIn(TenantScoped):
    """One morning report. Everything but the date is optional: clients skip fields."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="checkins")
    date = models.DateField()
    sleep_hours = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(24)],
    )
    soreness = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    stress = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    hrv_rmssd_ms = models.DecimalField(
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(400)],
    )
    resting_hr_bpm = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(25), MaxValueValidator(140)]
    )
    body_weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(25), MaxValueValidator(350)],
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "date"], name="checkin_unique_tenant_athlete_date"
            )
        ]
