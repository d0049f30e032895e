"""Reads of tenants, memberships, methodologies and tiers, within the tenant in context.
Cross-tenant functions say so in their names."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import QuerySet

from coaching.models import Membership, Methodology, MethodologyVersion, Tenant, Tier


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


# --- methodologies, versions, tiers ------------------------------------------------

STAFF_ROLES = (Membership.Role.OWNER, Membership.Role.COACH, Membership.Role.ADMIN)


def methodologies() -> QuerySet[Methodology]:
    return Methodology.objects.order_by("name", "pk")


def methodology_for_update(methodology_id: int) -> Methodology:
    """Row-locked: serialises version numbering and the one-draft rule."""
    return Methodology.objects.select_for_update().get(pk=methodology_id)


def versions_visible_to(membership: Membership) -> QuerySet[MethodologyVersion]:
    """Staff see drafts too; a client sees published versions only."""
    qs = MethodologyVersion.objects.select_related("methodology").order_by(
        "methodology_id", "-number"
    )
    if membership.role in STAFF_ROLES:
        return qs
    return qs.filter(status=MethodologyVersion.Status.PUBLISHED)


def versions_of(
    methodology: Methodology, *, membership: Membership
) -> QuerySet[MethodologyVersion]:
    return versions_visible_to(membership).filter(methodology=methodology)


def version_for_update(version_id: int) -> MethodologyVersion:
    return (
        MethodologyVersion.objects.select_for_update(of=("self",))
        .select_related("methodology")
        .get(pk=version_id)
    )


def latest_version(methodology: Methodology) -> MethodologyVersion | None:
    return MethodologyVersion.objects.filter(methodology=methodology).order_by("-number").first()


def latest_published_version(methodology: Methodology) -> MethodologyVersion | None:
    return (
        MethodologyVersion.objects.filter(
            methodology=methodology, status=MethodologyVersion.Status.PUBLISHED
        )
        .order_by("-number")
        .first()
    )


def tiers_visible_to(membership: Membership) -> QuerySet[Tier]:
    """Staff see every tier; a client sees the ones on sale."""
    qs = Tier.objects.select_related("methodology").order_by("sort_order", "price", "name")
    if membership.role in STAFF_ROLES:
        return qs
    return qs.filter(is_active=True)


def tier_for_update(tier_id: int) -> Tier:
    return Tier.objects.select_for_update().get(pk=tier_id)
