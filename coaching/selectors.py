"""Reads of tenants, memberships, methodologies, tiers and alerts, within the tenant in
context. Cross-tenant functions say so in their names."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from coaching.models import (
    Alert,
    Invitation,
    Membership,
    Methodology,
    MethodologyVersion,
    Tenant,
    Tier,
)
from coaching.tenancy import current_tenant, tenant_context


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


# --- alerts: coach by exception --------------------------------------------------------

ASSIGNABLE_COACH_ROLES = (Membership.Role.OWNER, Membership.Role.COACH)
#: Roles that oversee the whole business: they may open any alert of the tenant, though
#: their inbox holds only their own clients' and unassigned clients' alerts.
OVERSEER_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)

#: Tie-break between kinds of equal severity: the client's health first (decline,
#: readiness, anomaly), then what stops the nightly pipeline for them (no consent), then
#: training quality, and money last (billing has its own dunning).
KIND_WEIGHT: dict[str, int] = {
    Alert.Kind.DECLINE: 90,
    Alert.Kind.READINESS_LOW: 80,
    Alert.Kind.ANOMALY: 70,
    Alert.Kind.NO_CONSENT: 60,
    Alert.Kind.RPE_DRIFT: 50,
    Alert.Kind.ADHERENCE_DROP: 40,
    Alert.Kind.MISSED_SESSIONS: 30,
    Alert.Kind.PLATEAU: 20,
    Alert.Kind.PAYMENT_FAILED: 10,
}


def tenant_today(tenant: Tenant | None = None) -> datetime.date:
    """Today on the business's calendar: alert days and snoozes are its dates."""
    tenant = tenant or current_tenant()
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.timezone))


def memberships_visible_to(membership: Membership) -> QuerySet[Membership]:
    """Staff see the tenant's members (to assign coaches); clients see nobody."""
    if membership.role not in STAFF_ROLES:
        return Membership.objects.none()
    return Membership.objects.select_related("user", "coach__user").order_by("role", "pk")


def _alerts() -> QuerySet[Alert]:
    return Alert.objects.select_related("client__user", "client__coach", "decided_by__user")


def _routed_to(membership: Membership) -> Q:
    """Alerts about the member's assigned clients, and about unassigned clients."""
    return Q(client__coach=membership) | Q(client__coach__isnull=True)


def alerts_visible_to(membership: Membership) -> QuerySet[Alert]:
    """Every alert (any status) this member may open. Owners and admins oversee the
    business and see all; a coach sees their clients' and unassigned clients'; a client
    sees none (alerts are about them, written for their coach)."""
    if membership.role in OVERSEER_ROLES:
        return _alerts()
    if membership.role == Membership.Role.COACH:
        return _alerts().filter(_routed_to(membership))
    return Alert.objects.none()


def alert_for_update(alert_id: int) -> Alert:
    return Alert.objects.select_for_update(of=("self",)).get(pk=alert_id)


def alert_by_dedupe_key(client: Membership, dedupe_key: str) -> Alert | None:
    return Alert.objects.filter(client=client, dedupe_key=dedupe_key).first()


def _rank_key(alert: Alert) -> tuple:
    # Acknowledged alerts stay visible (the coach is on it) but below everything not yet
    # looked at. Within a severity and kind the older alert first: it has waited
    # longest, and newest-first would let a busy week bury it for good.
    return (
        alert.status == Alert.Status.ACKNOWLEDGED,
        -alert.severity,
        -KIND_WEIGHT.get(alert.kind, 0),
        alert.day,
        alert.created,
        alert.pk,
    )


@dataclass(frozen=True, kw_only=True)
class Inbox:
    """One coach's alerts for one day.

    `shown`: at most `budget` alerts, ranked (open before acknowledged, then severity,
    kind weight, oldest first). `digest`: the open alerts that did not fit, for the daily
    digest e-mail; acknowledged alerts that do not fit are left out of both (the coach has
    seen them). Handling an alert frees its place for the next one.
    """

    day: datetime.date
    budget: int
    shown: list[Alert]
    digest: list[Alert]


def alert_inbox(coach_membership: Membership, day: datetime.date) -> Inbox:
    """The inbox of a coach or owner on `day`: alerts routed to them (assigned clients
    and unassigned ones), not resolved, raised on or before `day`, and not snoozed past
    it (a snooze ends on its `snoozed_until` day)."""
    budget = coach_membership.alert_daily_budget
    if coach_membership.role not in STAFF_ROLES:
        return Inbox(day=day, budget=budget, shown=[], digest=[])
    outstanding = (
        _alerts()
        .filter(_routed_to(coach_membership), day__lte=day)
        .exclude(status=Alert.Status.RESOLVED)
        .exclude(status=Alert.Status.SNOOZED, snoozed_until__gt=day)
    )
    ranked = sorted(outstanding, key=_rank_key)
    return Inbox(
        day=day,
        budget=budget,
        shown=ranked[:budget],
        digest=[a for a in ranked[budget:] if a.status != Alert.Status.ACKNOWLEDGED],
    )


def client_label(client: Membership) -> str:
    """How a client is named to their coach in the inbox and the digest."""
    return client.user.get_full_name() or client.user.email


# --- the public page (issue 10) ------------------------------------------------------------


@dataclass(frozen=True)
class PublicOffer:
    """What a stranger may see of a business: its published methods and tiers on sale,
    and its coaches by name (never by e-mail)."""

    methodologies: list[Methodology]
    tiers: list[Tier]
    coach_names: list[str]


def public_offer_of_tenant() -> PublicOffer | None:
    """The tenant in context's public offer, or None when it sells nothing (then it has
    no public page, and a stranger can't tell it from an unknown address)."""
    tiers = list(
        Tier.objects.filter(
            is_active=True,
            methodology__versions__status=MethodologyVersion.Status.PUBLISHED,
        )
        .select_related("methodology")
        .distinct()
        .order_by("sort_order", "price", "name")
    )
    if not tiers:
        return None
    seen: dict[int, Methodology] = {}
    for tier in tiers:
        seen.setdefault(tier.methodology_id, tier.methodology)
    coaches = Membership.objects.filter(role__in=ASSIGNABLE_COACH_ROLES).select_related("user")
    names = sorted({m.user.get_full_name() for m in coaches if m.user.get_full_name()})
    return PublicOffer(methodologies=list(seen.values()), tiers=tiers, coach_names=names)


def open_invitations() -> QuerySet[Invitation]:
    """The current tenant's invitations still waiting for an answer, newest first."""
    return Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by__user")


# --- the audit log page and platform staff's tenant list (issue 10) ------------------------


def audit_events_of_tenant(
    tenant: Tenant,
    *,
    action: str = "",
    actor_user_id: int | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet:
    """One tenant's audit events, newest first, filtered by action (an exact action, or
    a prefix ending in "."), actor and the half-open range [since, until).

    The audit log is platform data: neither `TenantScoped` nor under row-level security,
    so this `tenant_id` filter is the only thing that keeps another business's events
    off the page. The tenant is therefore a required argument, never "the context"."""
    from coaching.audit import audit_events

    if tenant is None or tenant.pk is None:
        raise ValueError("audit_events_of_tenant needs a saved tenant")
    events = audit_events(tenant=tenant.pk, action=action or None, since=since)
    if actor_user_id is not None:
        events = events.filter(actor_user_id=actor_user_id)
    if until is not None:
        events = events.filter(at__lt=until)
    return events


def audit_events_page(
    events: QuerySet, *, before: tuple[datetime.datetime, int] | None, size: int
) -> tuple[list, tuple[datetime.datetime, int] | None]:
    """Keyset pagination over `events` (ordered newest first by (at, id)): the `size`
    events older than `before`, and the cursor of the next page (None on the last). A
    page costs the same at row 10 as at row 10 million, unlike OFFSET."""
    if before is not None:
        at, pk = before
        events = events.filter(Q(at__lt=at) | Q(at=at, pk__lt=pk))
    rows = list(events.order_by("-at", "-id")[: size + 1])
    if len(rows) > size:
        last = rows[size - 1]
        return rows[:size], (last.at, last.pk)
    return rows, None


def audit_actions_of_tenant(tenant: Tenant) -> list[str]:
    """The distinct actions in one tenant's log, for the page's filter."""
    return sorted(
        set(audit_events_of_tenant(tenant).order_by().values_list("action", flat=True).distinct())
    )


def member_roles_by_user_id(user_ids: list[int]) -> dict[int, str]:
    """user id → role label of the current tenant's members among `user_ids` (the audit
    page names actors by id and role only, never by name or address)."""
    return {
        user_id: Membership.Role(role).label
        for user_id, role in Membership.objects.filter(user_id__in=set(user_ids)).values_list(
            "user_id", "role"
        )
    }


#: Apps above coaching add columns to platform staff's tenant list (billing: the platform
#: plan and the clients it bills): `fn(tenant) -> {column: value}`, called inside the
#: tenant's context. Registered from `AppConfig.ready()`.
StaffTenantFacts = Callable[[Tenant], dict[str, str]]
_staff_tenant_facts: list[StaffTenantFacts] = []


def register_staff_tenant_facts(fn: StaffTenantFacts) -> None:
    if fn not in _staff_tenant_facts:
        _staff_tenant_facts.append(fn)


@dataclass(frozen=True)
class StaffTenantRow:
    tenant: Tenant
    clients: int  # client memberships, whatever their billing
    facts: dict[str, str]


def tenants_all_for_staff() -> list[StaffTenantRow]:
    """EVERY tenant, with its client count and the registered facts: platform staff's
    page only (`coaching.views_admin.staff_tenants`, which checks `is_staff`).

    Crosses the tenant boundary on purpose: each tenant is read inside its own
    `tenant_context`, so row-level security still holds per read. A few queries per
    tenant: fine for a staff page over hundreds of businesses, not for thousands."""
    rows = []
    for tenant in Tenant.objects.order_by("name", "pk"):
        with tenant_context(tenant):
            clients = Membership.objects.filter(role=Membership.Role.CLIENT).count()
            facts: dict[str, str] = {}
            for fn in _staff_tenant_facts:
                facts.update(fn(tenant))
        rows.append(StaffTenantRow(tenant=tenant, clients=clients, facts=facts))
    return rows
