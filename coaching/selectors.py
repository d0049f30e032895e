"""Reads of tenants and memberships. Cross-tenant functions say so in their names."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction

from coaching.models import Membership, Tenant


def tenant_by_slug(slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).first()


def tenant_by_id(tenant_id: int) -> Tenant | None:
    return Tenant.objects.filter(pk=tenant_id).first()


def all_tenants() -> list[Tenant]:
    return list(Tenant.objects.order_by("name"))


def membership_for(user: AbstractBaseUser, tenant: Tenant) -> Membership | None:
    """The user's membership in the tenant in context (which must be `tenant`)."""
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user_id=user.pk, tenant_id=tenant.pk).first()


def memberships_of_user_across_tenants(user: AbstractBaseUser) -> list[Membership]:
    """Every tenant the user belongs to, for login routing and the tenant picker.

    RLS allows it only for the user's own rows (`app.user_id`, set for this one query).
    """
    if not user.is_authenticated:
        return []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.user_id', %s, true)", [str(user.pk)])
        rows = list(
            Membership.objects.unscoped()
            .filter(
                user_id=user.pk, tenant__status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]
            )
            .select_related("tenant")
            .order_by("tenant__name")
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.user_id', '', true)")
    return rows


def members_of_tenant(*, role: str | None = None) -> list[Membership]:
    qs = Membership.objects.select_related("user").order_by("role", "user__email")
    if role:
        qs = qs.filter(role=role)
    return list(qs)
