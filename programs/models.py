"""Exercises, plans (blocks of planned sessions) and what an athlete actually did (logs).

Plans are computed by `programs.engine.blocks` and persisted by `services.block_generate`;
every planned value keeps its derivation (rule, inputs, sentence) so the client can see
why. Logs point at the planned session they fulfil, or at none (unplanned).
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from athletes.models import Assessment, AthleteProfile
from coaching.tenancy import TenantScoped

RPE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(10)]


class SessionKind(models.TextChoices):
    """What a session is, planned or logged: the same words on both sides of the plan."""

    STRENGTH = "strength", "Strength"
    RUN = "run", "Run"
    RIDE = "ride", "Ride"


class Exercise(TenantScoped):
    """A tenant's copy of the exercise library (programs/data/exercises.json), which the
    coach may extend. The substitution group lets plans and autoregulation swap lifts."""

    class Pattern(models.TextChoices):
        SQUAT = "squat", "Squat"
        HINGE = "hinge", "Hinge"
        PRESS = "press", "Press"
        PULL = "pull", "Pull"
        SINGLE_LEG = "single_leg", "Single leg"
        CARRY = "carry", "Carry"
        CORE = "core", "Core"
        ACCESSORY = "accessory", "Accessory"

    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=120)
    pattern = models.CharField(max_length=16, choices=Pattern.choices)
    equipment = models.JSONField(default=list, blank=True)
    primary_muscles = models.JSONField(default=list, blank=True)
    substitution_group = models.CharField(max_length=40, blank=True)
    unilateral = models.BooleanField(default=False)
    fatigue = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    e1rm_ratio = models.FloatField(null=True, blank=True)
    is_reference = models.BooleanField(default=False)
    loadable = models.BooleanField(default=True, help_text="Takes external load (kg).")
    per_hand = models.BooleanField(default=False, help_text="Load is per dumbbell/kettlebell.")
    dose_unit = models.CharField(max_length=12, default="reps")
    default_dose = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="exercise_unique_tenant_slug")
        ]

    def __str__(self) -> str:
        return self.name


class AssessmentLift(TenantScoped):
    """A tested or estimated max, or a rep-max set, with its e1RM (SCIENCE.md §1)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="lifts")
    exercise = models.ForeignKey(Exercise, on_delete=models.RESTRICT, related_name="+")
    weight_kg = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(600)]
    )
    reps = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    rpe = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        default=10,
        validators=[MinValueValidator(Decimal("6.5")), MaxValueValidator(10)],
    )
    tested = models.BooleanField(default=True, help_text="Lifted on the day, not estimated.")
    e1rm_kg = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "assessment", "exercise"],
                name="assessmentlift_unique_tenant_assessment_exercise",
            )
        ]


class ProgramBlock(TenantScoped):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"
        COMPLETED = "completed", "Completed"

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="blocks")
    methodology_version = models.ForeignKey(
        "coaching.MethodologyVersion", on_delete=models.RESTRICT, related_name="+"
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    start_date = models.DateField()
    weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # The e1RMs and other numbers the block was computed from, and why.
    inputs = models.JSONField(default=dict)
    derivation = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["tenant", "athlete", "start_date"])]

    @property
    def end_date(self):
        import datetime

        return self.start_date + datetime.timedelta(days=7 * self.weeks - 1)


class PlannedSession(TenantScoped):
    Kind = SessionKind

    block = models.ForeignKey(ProgramBlock, on_delete=models.CASCADE, related_name="sessions")
    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    week = models.PositiveSmallIntegerField()
    is_deload = models.BooleanField(default=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=120)
    duration_min = models.PositiveSmallIntegerField()
    endurance_type = models.CharField(max_length=60, blank=True)
    zone = models.PositiveSmallIntegerField(null=True, blank=True)
    target_low = models.FloatField(null=True, blank=True)
    target_high = models.FloatField(null=True, blank=True)
    target_unit = models.CharField(max_length=8, blank=True)
    planned_tss = models.FloatField(null=True, blank=True)
    # Set by an adjustment ("rest day instead"); the session stays, with its history.
    rest_day = models.BooleanField(default=False)
    notes = models.JSONField(default=list, blank=True)
    derivation = models.JSONField(default=dict)

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["tenant", "athlete", "date"])]


class PlannedSet(TenantScoped):
    session = models.ForeignKey(PlannedSession, on_delete=models.CASCADE, related_name="sets")
    exercise = models.ForeignKey(Exercise, on_delete=models.RESTRICT, related_name="+")
    set_index = models.PositiveSmallIntegerField()
    reps = models.PositiveSmallIntegerField()
    target_rpe = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    percent_1rm = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    load_kg = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    derivation = models.JSONField(default=dict)

    class Meta:
        ordering = ["session", "set_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "session", "set_index"],
                name="plannedset_unique_tenant_session_index",
            )
        ]


class SessionLog(TenantScoped):
    """A completed training session, strength or endurance, planned or not."""

    Kind = SessionKind

    athlete = models.ForeignKey(
        AthleteProfile, on_delete=models.CASCADE, related_name="session_logs"
    )
    planned_session = models.ForeignKey(
        PlannedSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="logs"
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
    max_hr_bpm = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(30), MaxValueValidator(240)]
    )
    avg_power_w = models.PositiveSmallIntegerField(null=True, blank=True)
    normalized_power_w = models.PositiveSmallIntegerField(null=True, blank=True)
    # Computed by the engine when the log is written (programs.engine.load).
    srpe_load = models.FloatField(null=True, blank=True)
    tss = models.FloatField(null=True, blank=True)
    trimp = models.FloatField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # What an imported file says this session is (programs/imports.py): a FIT file's
    # file_id, or a key derived from a CSV's rows. Importing the same file again finds
    # this and creates nothing. Blank for sessions logged in the app.
    external_id = models.CharField(max_length=120, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["tenant", "athlete", "date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "external_id"],
                condition=~models.Q(external_id=""),
                name="sessionlog_unique_tenant_athlete_external_id",
            )
        ]


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
    mean_velocity_m_s = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.05")), MaxValueValidator(3)],
    )

    class Meta:
        ordering = ["session", "set_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "session", "set_index"], name="setlog_unique_tenant_session_index"
            )
        ]


class AutoregulationRun(TenantScoped):
    """One night's autoregulation of one athlete. Unique per (athlete, date): running the
    night again finds this row and changes nothing. It keeps what the engine saw
    (readiness with each input's part, HRV status, load metrics) for the client's daily
    view, later nights' rules (readiness history) and the coach's evidence."""

    athlete = models.ForeignKey(
        AthleteProfile, on_delete=models.CASCADE, related_name="autoregulation_runs"
    )
    date = models.DateField()
    methodology_version = models.ForeignKey(
        "coaching.MethodologyVersion", on_delete=models.RESTRICT, related_name="+"
    )
    autonomy = models.CharField(max_length=8)
    readiness_score = models.FloatField(null=True, blank=True)
    readiness = models.JSONField(default=dict)
    hrv = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    notes = models.JSONField(default=list, blank=True)
    proposed = models.PositiveSmallIntegerField(default=0)
    applied = models.PositiveSmallIntegerField(default=0)
    queued = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "date"], name="autoregulationrun_unique_athlete_date"
            )
        ]


class Adjustment(TenantScoped):
    """An automatic change (DESIGN.md, Adjustments): before/after, the rule and inputs
    behind it, the guardrails that clipped it, who applied it and the sentence the client
    reads. A revert is itself an adjustment (`reverts`), so a history reads as a timeline.

    `subject` says what it changes: a planned session (this app), or something another app
    registered in `programs.services.subjects` (nutrition's energy expenditure), so every
    change goes through one review queue, one approve and one revert."""

    class Subject(models.TextChoices):
        SESSION = "session", "Planned session"
        ENERGY = "energy", "Energy expenditure"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the coach"
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"
        REVERTED = "reverted", "Reverted"

    class Source(models.TextChoices):
        ENGINE = "engine", "Engine"
        COACH = "coach", "Coach"

    REVERT_RULE = "revert"

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=10, choices=Subject.choices, default=Subject.SESSION)
    planned_session = models.ForeignKey(
        PlannedSession,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="adjustments",
    )
    # The first day the change acts on: the session's date, or the day a new energy
    # figure takes effect. The review queue shows what is still ahead.
    effective_date = models.DateField()
    run = models.ForeignKey(
        AutoregulationRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="adjustments",
    )
    rule = models.CharField(max_length=40)
    changes = models.JSONField(default=list)
    before = models.JSONField()
    after = models.JSONField()
    # The engine's proposal when a coach edited it before approving.
    proposed_after = models.JSONField(null=True, blank=True)
    inputs = models.JSONField(default=dict)
    clipped_by = models.JSONField(default=list, blank=True)
    magnitude_percent = models.FloatField(default=0)
    alert_level = models.BooleanField(default=False)
    sentence = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.ENGINE)
    reverts = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reverted_by"
    )
    decided_by = models.ForeignKey(
        "coaching.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [
            models.Index(fields=["tenant", "status", "athlete"]),
            models.Index(fields=["tenant", "planned_session"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="adjustment_session_iff_subject_session",
                condition=(
                    models.Q(subject="session", planned_session__isnull=False)
                    | (~models.Q(subject="session") & models.Q(planned_session__isnull=True))
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.subject} {self.planned_session_id or ''} ({self.status})"


class AthleteModel(TenantScoped):
    """One athlete's fitted model (SCIENCE.md §6), one per (athlete, kind): fitted on this
    athlete's data only, never across athletes or tenants. `blob` holds the bytes of
    `programs.ml.anomaly.dumps`, whose header carries the versions, so a stale model is
    refitted rather than trusted."""

    class Kind(models.TextChoices):
        ANOMALY = "anomaly", "Unusual days"

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.CharField(max_length=40)
    fitted_on = models.DateField()
    n_days = models.PositiveIntegerField()
    blob = models.BinaryField()
    meta = models.JSONField(default=dict, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "kind"], name="athletemodel_unique_tenant_athlete_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.version} of athlete {self.athlete_id} ({self.fitted_on})"


class Prediction(TenantScoped):
    """A prediction made before the outcome was known, scored when it arrives: the
    per-athlete MAE the coach sees and the bias audit read these rows."""

    class Kind(models.TextChoices):
        E1RM = "e1rm", "Next-session e1RM"
        THRESHOLD = "threshold", "Threshold"

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    subject = models.CharField(max_length=80, help_text="Exercise slug, or 'ftp'.")
    made_on = models.DateField()
    for_date = models.DateField()
    predicted = models.FloatField()
    actual = models.FloatField(null=True, blank=True)
    abs_error = models.FloatField(null=True, blank=True)
    scored_on = models.DateField(null=True, blank=True)
    method = models.CharField(max_length=16)
    reason = models.TextField()

    class Meta:
        ordering = ["-for_date", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "kind", "subject", "for_date"],
                name="prediction_unique_tenant_athlete_kind_subject_date",
            )
        ]
        indexes = [models.Index(fields=["tenant", "athlete", "scored_on"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} for {self.for_date}: {self.predicted:.1f}"


class CalendarFeed(TenantScoped):
    """A client's private calendar link (programs/calendar.py). Only a hash of the token
    is stored (like coaching.Invitation): the link itself is shown once, when made. At
    most one live feed per athlete; a new one revokes the old, so a leaked link dies the
    moment the client makes another."""

    athlete = models.ForeignKey(AthleteProfile, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "token_hash"], name="calendarfeed_unique_tenant_token"
            ),
            models.UniqueConstraint(
                fields=["tenant", "athlete"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendarfeed_one_live_per_athlete",
            ),
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "live"
        return f"calendar feed of athlete {self.athlete_id} ({state})"
