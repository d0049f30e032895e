"""A person's data requests (DESIGN.md, Privacy): an export to download, or an erasure
waiting out its grace period. Tenant data: each tenant answers for its own copy."""

from django.db import models
from django.utils import timezone

from athletes.models import AthleteProfile
from coaching.tenancy import TenantScoped


class DataRequest(TenantScoped):
    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        ERASURE = "erasure", "Erasure"
        # Offboarding: every client's data and the tenant's own, for platform staff to
        # hand over before the tenant is deleted (privacy.offboarding). No athlete.
        TENANT = "tenant", "Tenant export"

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready to download"
        EXPIRED = "expired", "Link expired"
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    # SET_NULL: a done erasure keeps its request (when, by whom, counts) but no longer
    # names the person it erased.
    athlete = models.ForeignKey(
        AthleteProfile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    # An id, not a FK: the request outlives the account that made it (erased with it).
    requested_by = models.BigIntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True, help_text="Erasure: end of grace.")
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.CharField(max_length=255, blank=True, help_text="Under PRIVATE_MEDIA_ROOT.")
    error = models.TextField(blank=True)
    notes = models.JSONField(default=list, blank=True)
    # Erasure: when the person was reminded that it runs soon (sent once).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["tenant", "kind", "status", "due_at"])]
        constraints = [
            # One pending erasure per athlete: asking twice returns the first request.
            models.UniqueConstraint(
                fields=["tenant", "athlete"],
                condition=models.Q(kind="erasure", status="scheduled"),
                name="datarequest_one_scheduled_erasure",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} ({self.pk})"


class RetentionPolicy(TenantScoped):
    """How long the business keeps an inactive client's data (DESIGN.md, Privacy): past
    `inactive_months` without an enrolment, subscription or access, the scheduled
    retention run erases them like a grace-period erasure. One row per tenant; a tenant
    without one gets the defaults (see `privacy.services.retention_policy`)."""

    inactive_months = models.PositiveSmallIntegerField(
        default=24, help_text="Erase a client this many months after they were last active."
    )
    enabled = models.BooleanField(default=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "retention policies"
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="retentionpolicy_one_per_tenant"),
            models.CheckConstraint(
                condition=models.Q(inactive_months__gte=1),
                name="retentionpolicy_inactive_months_positive",
            ),
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"erase after {self.inactive_months} months inactive ({state})"
