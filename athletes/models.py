"""The client (athlete) and what they report each day.

Health values (HRV, sleep, body weight) are special-category personal data: they never
go to logs, and later issues add consent gating, export and erasure for every model here.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from coaching.errors import DomainError
from coaching.fields import EncryptedTextField
from coaching.tenancy import TenantScoped, TenantScopedManager, TenantScopedQuerySet

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The equipment vocabulary shared with the exercise library (programs/data/exercises.json).
EQUIPMENT = (
    "barbell", "dumbbell", "kettlebell", "machine", "cable", "bodyweight", "bands",
    "pullup_bar", "bench", "rack", "trap_bar", "sled",
)  # fmt: skip
ONE_TO_FIVE = [MinValueValidator(1), MaxValueValidator(5)]


def validate_weekdays(value: object) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError("Give one or more distinct weekdays, 0 (Monday) to 6 (Sunday).")


def default_weekdays() -> list[int]:
    """Monday, Wednesday, Friday until the athlete says otherwise."""
    return [0, 2, 4]


def validate_equipment(value: object) -> None:
    if not isinstance(value, list) or any(item not in EQUIPMENT for item in value):
        raise ValidationError(f"Equipment must be a list drawn from: {', '.join(EQUIPMENT)}.")


class AthleteProfile(TenantScoped):
    class Discipline(models.TextChoices):
        STRENGTH = "strength", "Strength"
        ENDURANCE = "endurance", "Endurance"
        HYBRID = "hybrid", "Hybrid"

    class Goal(models.TextChoices):
        STRENGTH = "strength", "Get stronger"
        HYPERTROPHY = "hypertrophy", "Build muscle"
        ENDURANCE = "endurance", "Go longer"
        PERFORMANCE = "performance", "Race or compete"
        HEALTH = "health", "General health"
        BODY_COMPOSITION = "body_composition", "Body composition"

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
    training_age_years = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(60)],
    )
    goal = models.CharField(max_length=20, choices=Goal.choices, default=Goal.HEALTH)
    available_weekdays = models.JSONField(
        default=default_weekdays,
        validators=[validate_weekdays],
        help_text="0 = Monday … 6 = Sunday",
    )
    session_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(20), MaxValueValidator(240)]
    )
    equipment = models.JSONField(default=list, blank=True, validators=[validate_equipment])
    # Encrypted at rest (coaching.fields): not searchable or filterable.
    injuries = EncryptedTextField(blank=True, help_text="Injuries and limitations, free text.")
    coach_notes = EncryptedTextField(blank=True)
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
    sleep_quality = models.PositiveSmallIntegerField(null=True, blank=True, validators=ONE_TO_FIVE)
    soreness = models.PositiveSmallIntegerField(null=True, blank=True, validators=ONE_TO_FIVE)
    stress = models.PositiveSmallIntegerField(null=True, blank=True, validators=ONE_TO_FIVE)
    mood = models.PositiveSmallIntegerField(null=True, blank=True, validators=ONE_TO_FIVE)
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
    notes = EncryptedTextField(blank=True)  # encrypted at rest, not searchable
    # Fields whose value came from a device roll-up (athletes.devices). A manual entry
    # takes the field off this list, and a device never overwrites a manual value.
    device_fields = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "date"], name="checkin_unique_tenant_athlete_date"
            )
        ]


class Assessment(TenantScoped):
    """A dated baseline: the numbers plans are computed from. Lift results (tested or
    estimated 1RMs, rep-max sets) are `programs.AssessmentLift` rows, since they name
    exercises of the programs library."""

    athlete = models.ForeignKey(
        AthleteProfile, on_delete=models.CASCADE, related_name="assessments"
    )
    date = models.DateField()
    body_weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(25), MaxValueValidator(350)],
    )
    body_fat_percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(2), MaxValueValidator(60)],
    )
    ftp_w = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(50), MaxValueValidator(600)]
    )
    threshold_pace_s_per_km = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(150), MaxValueValidator(600)],
        help_text="Threshold (≈ 1 h race) pace in seconds per km.",
    )
    hr_max_bpm = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(120), MaxValueValidator(230)]
    )
    hr_rest_bpm = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(25), MaxValueValidator(110)]
    )
    notes = EncryptedTextField(blank=True)  # encrypted at rest, not searchable
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["tenant", "athlete", "date"])]

    def clean(self) -> None:
        if self.hr_max_bpm and self.hr_rest_bpm and self.hr_rest_bpm >= self.hr_max_bpm:
            raise ValidationError({"hr_rest_bpm": "Resting heart rate must be below the maximum."})

    @property
    def threshold_speed_m_s(self) -> float | None:
        return 1000 / self.threshold_pace_s_per_km if self.threshold_pace_s_per_km else None


class Enrolment(TenantScoped):
    """A client on a tier of a methodology, at one published version of it. The client
    stays on that version until a coach moves them (a new enrolment ends this one)."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="enrolments")
    tier = models.ForeignKey("coaching.Tier", on_delete=models.RESTRICT, related_name="+")
    methodology_version = models.ForeignKey(
        "coaching.MethodologyVersion", on_delete=models.RESTRICT, related_name="+"
    )
    started = models.DateField()
    ended = models.DateField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete"],
                condition=models.Q(ended__isnull=True),
                name="enrolment_one_open_per_tenant_athlete",
            )
        ]

    def __str__(self) -> str:
        return f"{self.athlete_id} on tier {self.tier_id} (v{self.methodology_version_id})"


# --- consent (issue 8) -------------------------------------------------------------------


class ConsentPurpose(models.TextChoices):
    """What a client agrees to, one purpose at a time (DESIGN.md, Privacy)."""

    HEALTH_DATA = "health_data", "Health data"
    NUTRITION_PLANNING = "nutrition_planning", "Nutrition planning"
    ML_PERSONALISATION = "ml_personalisation", "Personal models"
    COACH_ACCESS = "coach_access", "Coach access"
    MARKETING_EMAIL = "marketing_email", "Marketing e-mail"


class ConsentPolicy(TenantScoped):
    """The plain-language text a client agrees to, per tenant, purpose and version. A
    changed text is a new version (never an edit), so every ledger row points at the
    words the person actually read."""

    purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices)
    version = models.PositiveIntegerField()
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purpose", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "purpose", "version"],
                name="consentpolicy_unique_tenant_purpose_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.version}"


class LedgerAppendOnly(DomainError):
    """A ledger row was about to be changed or removed: consent history is evidence, so
    rows are only ever appended (erasure of the person is the one delete, done in SQL
    with `app.erasure` set, see athletes.consent)."""

    code = "append_only"
    status = 409


class ConsentEventQuerySet(TenantScopedQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise LedgerAppendOnly("The consent ledger is append-only: events are never updated.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise LedgerAppendOnly("The consent ledger is append-only: events are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerAppendOnly("The consent ledger is append-only: events are never deleted.")


class ConsentEventManager(TenantScopedManager):
    _queryset_class = ConsentEventQuerySet


class ConsentEvent(TenantScoped):
    """One grant or withdrawal: the append-only ledger the current consent is derived
    from (latest event per purpose wins). Besides `save`/`delete` here, a PostgreSQL
    trigger (migration `consent`) refuses UPDATE always and DELETE unless the
    transaction set `app.erasure = 'on'`."""

    class Action(models.TextChoices):
        GRANT = "grant", "Granted"
        WITHDRAW = "withdraw", "Withdrawn"

    athlete = models.ForeignKey(
        AthleteProfile, on_delete=models.CASCADE, related_name="consent_events"
    )
    purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices)
    action = models.CharField(max_length=8, choices=Action.choices)
    policy = models.ForeignKey(ConsentPolicy, on_delete=models.RESTRICT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    objects = ConsentEventManager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["tenant", "athlete", "purpose", "at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.purpose} by athlete {self.athlete_id} at {self.at}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise LedgerAppendOnly("The consent ledger is append-only: events are never updated.")
        self.user_agent = (self.user_agent or "")[:300]
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerAppendOnly("The consent ledger is append-only: events are never deleted.")


class DeviceSample(TenantScoped):
    """One reading from a wearable or companion app, kept as sent: its key
    (athlete, source, metric, timestamp) recognises a re-sent reading, and the day's
    check-in is recomputed from the stored readings (athletes.devices)."""

    class Metric(models.TextChoices):
        HRV_RMSSD = "hrv_rmssd_ms", "HRV (rMSSD, ms)"
        RESTING_HR = "resting_hr_bpm", "Resting heart rate (bpm)"
        SLEEP = "sleep", "Sleep (an interval in one stage)"
        STEPS = "steps", "Steps"
        BODY_WEIGHT = "body_weight_kg", "Body weight (kg)"

    class SleepStage(models.TextChoices):
        ASLEEP = "asleep", "Asleep (no stage)"
        LIGHT = "light", "Light / core"
        DEEP = "deep", "Deep"
        REM = "rem", "REM"
        AWAKE = "awake", "Awake"
        IN_BED = "in_bed", "In bed"

    athlete = models.ForeignKey(
        AthleteProfile, on_delete=models.CASCADE, related_name="device_samples"
    )
    source = models.CharField(max_length=40)
    metric = models.CharField(max_length=16, choices=Metric.choices)
    timestamp = models.DateTimeField()  # the instant, or the start of an interval
    end = models.DateTimeField(null=True, blank=True)
    # ms, bpm, kg, steps; sleep: minutes in the stage (end - timestamp).
    value = models.DecimalField(max_digits=9, decimal_places=2)
    stage = models.CharField(max_length=8, choices=SleepStage.choices, blank=True)
    # The business's local day the reading counts for (sleep: the day one wakes up).
    day = models.DateField()
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "source", "metric", "timestamp"],
                name="devicesample_unique_key",
            )
        ]
        indexes = [models.Index(fields=["tenant", "athlete", "day"])]

    def __str__(self) -> str:
        return f"{self.metric} {self.value} from {self.source} at {self.timestamp}"


class CoachNote(TenantScoped):
    """What a coach knows about a client that the numbers don't say ("knee flares on
    deep squats", "exams until the 20th"): the context a coach decides with. Pinned notes
    also stand next to the client's pending changes in the review queue. The body is
    free text about a person's health, so it is encrypted at rest like check-in notes."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    # SET_NULL: a note outlives its author leaving the business.
    author = models.ForeignKey(
        "coaching.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = EncryptedTextField()  # encrypted at rest, not searchable
    pinned = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pinned", "-created", "-id"]
        indexes = [models.Index(fields=["tenant", "athlete", "pinned"])]

    def __str__(self) -> str:
        return f"note {self.pk} on athlete {self.athlete_id}"


class ImportJob(TenantScoped):
    """One uploaded file (Apple Health export, FIT activity, CSV) and what became of it.
    The file itself is deleted once processed; the row keeps the outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="imports")
    kind = models.CharField(max_length=24)  # an importer registered in athletes.imports
    filename = models.CharField(max_length=200)
    size_bytes = models.PositiveBigIntegerField()
    file = models.CharField(max_length=300, blank=True)  # under PRIVATE_MEDIA_ROOT
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    records = models.PositiveIntegerField(default=0)  # records read (progress, then total)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["tenant", "athlete", "created"])]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} ({self.status})"


class Message(TenantScoped):
    """One message in the thread between a client and their coaches: hybrid and premium
    clients pay for coach time, and this is where it happens besides the queue. The body
    is free text about a person's training and health, so it is encrypted at rest."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    # SET_NULL: a coach's message stays in the client's thread after the coach leaves.
    author = models.ForeignKey(
        "coaching.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_client = models.BooleanField()
    body = EncryptedTextField()
    created = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)  # by the other side

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["tenant", "athlete", "created"])]

    def __str__(self) -> str:
        return f"message {self.pk} in athlete {self.athlete_id}'s thread"
