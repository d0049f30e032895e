"""Tenants (coaching businesses) and who belongs to them.

`Tenant` is platform data (no tenant of its own). `Membership` is tenant data: a
coach listing clients sees only their tenant. The one cross-tenant read, "which
tenants am I in", goes through `selectors.memberships_of_user_across_tenants`, which
PostgreSQL allows only for the user's own rows (see `coaching.rls`).

Alerts ("coach by exception", DESIGN.md) are raised by other apps' detectors through
`services.alert_raise` and read through `selectors.alert_inbox`.

Methodologies are tenant data too: each holds numbered rules documents
(`MethodologyVersion`, validated by `coaching.methodology`), and `Tier`s sell one of
them at a price with an autonomy level.
"""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from coaching.tenancy import TenantScoped


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone.")


class Tenant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        OFFBOARDED = "offboarded", "Offboarded"

    slug = models.SlugField(
        max_length=63,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
                "Use lowercase letters, digits and inner hyphens (it becomes a subdomain).",
            )
        ],
    )
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    currency = models.CharField(
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use an ISO 4217 code such as EUR.")],
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)
    # Branding: the tenant's pages carry its colour and logo. The logo is stored in the
    # row (small, validated PNG/JPEG/WebP; never SVG, which can carry script) so every
    # deployment serves it without a media store.
    brand_colour = models.CharField(
        max_length=7,
        default="#1f5fbf",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #1f5fbf.")],
    )
    logo = models.BinaryField(blank=True, default=b"", editable=False)
    logo_type = models.CharField(max_length=32, blank=True, editable=False)
    # Lifecycle (coaching.lifecycle): why and when the status last changed, and for an
    # offboarded tenant the day its data is deleted and when that happened.
    status_reason = models.CharField(max_length=200, blank=True)
    status_changed = models.DateTimeField(null=True, blank=True)
    delete_after = models.DateField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_writable(self) -> bool:
        return self.status == self.Status.ACTIVE


class Membership(TenantScoped):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        COACH = "coach", "Coach"
        CLIENT = "client", "Client"
        ADMIN = "admin", "Admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created = models.DateTimeField(auto_now_add=True)
    # Clients only: the coach (or owner) whose alert inbox their alerts go to. Unassigned
    # clients' alerts reach every coach and owner. Set through
    # `services.membership_assign_coach`, which checks role and tenant.
    coach = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_clients",
    )
    # Coaches/owners only: how many alerts their inbox shows a day; the rest go to the
    # daily digest. On the membership, not the tenant, because it measures one person's
    # attention (a coach with 60 clients and one with 6 need different numbers), and
    # `Tenant` is platform data that tenant staff do not edit.
    alert_daily_budget = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(200)]
    )

    # A user may list their own memberships in every tenant (login routing), nothing more.
    rls_extra_select_policies = {
        "membership_own_rows": "user_id = NULLIF(current_setting('app.user_id', true), '')::bigint"
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_tenant_user")
        ]
        indexes = [models.Index(fields=["tenant", "role"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} @ {self.tenant_id}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in settings.MFA_REQUIRED_ROLES


class Invitation(TenantScoped):
    """An e-mailed invitation to join a tenant in a role. Only a hash of the token is
    stored, so a database read cannot be turned into someone's seat. Accepting creates
    (or re-roles) the membership through `coaching.lifecycle.invitation_accept`."""

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, editable=False)
    invited_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
            models.UniqueConstraint(
                fields=["tenant", "token_hash"], name="invitation_unique_tenant_token"
            ),
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk} ({self.role})"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


# --- Methodologies (versioned rules) and the tiers that sell them ---------------------


class Methodology(TenantScoped):
    """A coach's way of programming, codified once; its rules live in versions."""

    class Discipline(models.TextChoices):
        STRENGTH = "strength", "Strength"
        ENDURANCE = "endurance", "Endurance"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=63)
    description = models.TextField(blank=True)
    discipline = models.CharField(max_length=16, choices=Discipline.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "methodologies"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "slug"], name="methodology_unique_tenant_slug"
            )
        ]

    def __str__(self) -> str:
        return self.name


class MethodologyVersion(TenantScoped):
    """One numbered rules document (docs/methodology-rules.md) of a methodology.

    Drafts are edited; a published version never changes (services refuse, and on
    PostgreSQL a trigger refuses an UPDATE of its rules, number, status or methodology),
    so a plan generated from version N can always be explained by version N.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    # RESTRICT (here and on tiers, enrolments): in use, a methodology cannot be deleted
    # alone, but deleting the whole tenant (offboarding) cascades through everything.
    methodology = models.ForeignKey(Methodology, on_delete=models.RESTRICT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    rules = models.JSONField()
    notes = models.TextField(blank=True, help_text="What changed in this version, and why.")
    created = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["methodology_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "methodology", "number"], name="methodologyversion_unique_number"
            ),
            # One draft at a time: the next draft starts from the latest version.
            models.UniqueConstraint(
                fields=["tenant", "methodology"],
                condition=models.Q(status="draft"),
                name="methodologyversion_one_draft",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="methodologyversion_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", published_at__isnull=True)
                | models.Q(status="published", published_at__isnull=False),
                name="methodologyversion_published_at_iff_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.methodology} v{self.number} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


def validate_features(value: object) -> None:
    if (
        not isinstance(value, list)
        or len(value) > 20
        or any(not isinstance(item, str) or not item.strip() or len(item) > 120 for item in value)
    ):
        raise ValidationError("Give up to 20 feature lines, each 1 to 120 characters.")


class Tier(TenantScoped):
    """What a client buys: a methodology at a price, with an autonomy level.

    `autonomy` is the one switch the pipeline reads (DESIGN.md, Product tiers):
    `auto` applies the engine's adjustments at once, `queue` applies them but puts
    exceptions in the coach's review queue, `approve` drafts every change for the coach.
    """

    class Interval(models.TextChoices):
        MONTH = "month", "Monthly"
        YEAR = "year", "Yearly"

    class Autonomy(models.TextChoices):
        AUTO = "auto", "Engine applies changes at once"
        QUEUE = "queue", "Engine proposes; coach reviews exceptions"
        APPROVE = "approve", "Coach approves every change"

    methodology = models.ForeignKey(Methodology, on_delete=models.RESTRICT, related_name="tiers")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=63)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(
        max_length=3,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use an ISO 4217 code such as EUR.")],
        help_text="ISO 4217; the tier service defaults it to the tenant's currency.",
    )
    interval = models.CharField(max_length=8, choices=Interval.choices, default=Interval.MONTH)
    autonomy = models.CharField(max_length=8, choices=Autonomy.choices)
    checkin_cadence_days = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(365)],
        help_text="Days between coach check-ins; 0 for none.",
    )
    features = models.JSONField(
        default=list, blank=True, validators=[validate_features], help_text="Sign-up page lines."
    )
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "price", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="tier_unique_tenant_slug"),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="tier_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


#: The three products of DESIGN.md ("Product tiers") as tier settings: who decides a
#: change, and how often the coach checks in. A tenant may create any tier it likes;
#: these are the presets the product names stand for.
PRODUCT_AUTONOMY: dict[str, str] = {
    "diy": Tier.Autonomy.AUTO,  # the engine decides inside the guardrails
    "hybrid": Tier.Autonomy.QUEUE,  # the engine proposes; the coach reviews exceptions
    "premium": Tier.Autonomy.APPROVE,  # the engine drafts; the coach approves every change
}
PRODUCT_CHECKIN_CADENCE_DAYS: dict[str, int] = {"diy": 0, "hybrid": 30, "premium": 7}


# --- Alerts: coach by exception ------------------------------------------------------


class Alert(TenantScoped):
    """Something about one client that a coach should look at, with its evidence.

    Detectors live elsewhere (programs, billing) and call `services.alert_raise`; the
    `dedupe_key` they choose ("plateau:back-squat:2026-W47", unique per client) makes
    nightly re-runs no-ops. `title` is the sentence the inbox shows; the data behind it stays in
    `evidence` (rule, params, data points), shown only on the alert itself.
    """

    class Kind(models.TextChoices):
        PLATEAU = "plateau", "Plateau"
        DECLINE = "decline", "Decline"
        RPE_DRIFT = "rpe_drift", "RPE drift"
        ANOMALY = "anomaly", "Anomaly"
        MISSED_SESSIONS = "missed_sessions", "Missed sessions"
        ADHERENCE_DROP = "adherence_drop", "Adherence drop"
        READINESS_LOW = "readiness_low", "Readiness low streak"
        NO_CONSENT = "no_consent", "No consent"
        PAYMENT_FAILED = "payment_failed", "Payment failed"

    class Severity(models.IntegerChoices):
        LOW = 1, "Low"
        MEDIUM = 2, "Medium"
        HIGH = 3, "High"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    # CASCADE: an alert is about the client and means nothing without them (erasure
    # deletes a client's alerts with the membership).
    client = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    title = models.CharField(max_length=200)
    evidence = models.JSONField(
        encoder=DjangoJSONEncoder,
        help_text='{"rule": name, "params": {...}, "points": [{...}, ...]} from the detector.',
    )
    dedupe_key = models.CharField(max_length=200)
    day = models.DateField(help_text="The day the alert was raised for (tenant's calendar).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "-severity", "pk"]
        constraints = [
            # Per client: detectors' keys name the finding ("plateau:back-squat:2026-W47"),
            # and two clients may well stall on the squat the same week.
            models.UniqueConstraint(
                fields=["tenant", "client", "dedupe_key"], name="alert_unique_client_dedupe"
            ),
            models.CheckConstraint(
                condition=models.Q(severity__gte=1, severity__lte=3), name="alert_severity_1_3"
            ),
            models.CheckConstraint(
                condition=models.Q(status="snoozed", snoozed_until__isnull=False)
                | (~models.Q(status="snoozed") & models.Q(snoozed_until__isnull=True)),
                name="alert_snoozed_until_iff_snoozed",
            ),
        ]
        indexes = [
            # The inbox reads outstanding alerts of a set of clients; resolved ones pile
            # up forever and stay out of the index.
            models.Index(
                fields=["tenant", "client", "day"],
                condition=~models.Q(status="resolved"),
                name="alert_outstanding_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()}): {self.title}"


class AuditLogIsAppendOnly(RuntimeError):
    """Someone tried to change or delete an audit event: a bug, never a user error."""


class AuditEventQuerySet(models.QuerySet):
    """Bulk update/delete refuse too: the only way rows leave is `prune_older_than`."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit events are never updated")

    def delete(self):
        raise AuditLogIsAppendOnly(
            "audit events are deleted only by retention (manage.py audit_prune)"
        )

    def prune_older_than(self, cutoff) -> int:
        """THE ONLY deletion path (used by `manage.py audit_prune`): delete events before
        `cutoff`. On PostgreSQL the append-only trigger lets a DELETE through only in a
        transaction that set `app.audit_prune`; everything else is refused by the DB."""
        from django.db import connections, transaction

        queryset = self.filter(at__lt=cutoff)
        with transaction.atomic(using=self.db):
            connection = connections[self.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('app.audit_prune', 'on', true)")
            deleted = queryset._raw_delete(self.db)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('app.audit_prune', '', true)")
        return deleted


class AuditEvent(models.Model):
    """One append-only audit line (DESIGN.md, Privacy): who did what to whose data, when.

    Platform data, not `TenantScoped`: platform events have no tenant, and the log must
    outlive a deleted tenant until its retention ends, so `tenant` is a nullable FK
    without a database constraint (a deleted tenant leaves its id). People are ids, not
    FKs, for the same reason; `detail` holds ids and names of things, never personal data
    (`coaching.audit.record` checks). Write through `coaching.audit.record` only.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        editable=False,
    )
    actor_user_id = models.BigIntegerField(null=True, blank=True, editable=False)
    subject_user_id = models.BigIntegerField(null=True, blank=True, editable=False)
    action = models.CharField(max_length=64, editable=False)
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder, editable=False)
    ip = models.GenericIPAddressField(null=True, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "at"], name="auditevent_tenant_at_idx"),
            models.Index(fields=["action", "at"], name="auditevent_action_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly(
            "audit events are deleted only by retention (manage.py audit_prune)"
        )


# --- The nightly pipeline frame (DESIGN.md, Nightly pipeline; coaching.nightly) --------


class NightlyRun(TenantScoped):
    """One tenant's night: the pipeline for the tenant-local `date` that just finished.

    UNIQUE (tenant, date) is what makes two beat ticks, two beat processes or a manual
    run racing the dispatcher create one run. Counts move by F() expressions in the same
    transaction as a subscriber's last step, so a redelivered chunk never counts twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    class Trigger(models.TextChoices):
        BEAT = "beat", "Beat"
        MANUAL = "manual", "Manual"

    date = models.DateField(help_text="The tenant-local day the night follows.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.BEAT)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "date"], name="nightlyrun_unique_tenant_date")
        ]

    def __str__(self) -> str:
        return f"night of {self.date} ({self.status})"

    @property
    def accounted(self) -> int:
        return self.done + self.failed + self.skipped

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.accounted / self.total))


class NightlyStep(TenantScoped):
    """One registered step of one subscriber's night. The row is the claim: it is
    inserted in the same transaction as the step's writes, so it exists iff the step's
    work committed, and UNIQUE (tenant, athlete, date, step) makes a duplicated chunk wait
    and then skip. `reason` holds a consent/access reason or an exception class and
    message, never names or health values."""

    class Status(models.TextChoices):
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    run = models.ForeignKey(NightlyRun, on_delete=models.CASCADE, related_name="steps")
    athlete = models.ForeignKey(
        "athletes.AthleteProfile", on_delete=models.CASCADE, related_name="+"
    )
    date = models.DateField()
    step = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices)
    reason = models.CharField(max_length=500, blank=True)
    ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run_id", "athlete_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "athlete", "date", "step"], name="nightlystep_unique_step"
            )
        ]
        indexes = [models.Index(fields=["tenant", "run", "status"], name="nightlystep_run_status")]

    def __str__(self) -> str:
        return f"{self.step} for {self.athlete_id} on {self.date}: {self.status}"
