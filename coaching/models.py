"""Tenants (coaching businesses) and who belongs to them.

`Tenant` is platform data (no tenant of its own). `Membership` is tenant data: a
coach listing clients sees only their tenant. The one cross-tenant read, "which
tenants am I in", goes through `selectors.memberships_of_user_across_tenants`, which
PostgreSQL allows only for the user's own rows (see `coaching.rls`).
"""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

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
