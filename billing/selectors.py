"""Reads of billing data. Within the tenant in context, except the few lookups a webhook
needs before it knows its tenant (`unscoped()`, platform code, named as such)."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from athletes.access import Access
from athletes.models import AthleteProfile
from athletes.selectors import own_or_all
from billing import entitlements
from billing.gateway import Event
from billing.models import (
    BillingAccount,
    Customer,
    Entitlement,
    Invoice,
    Subscription,
    TenantPlan,
    TierPrice,
    WebhookEvent,
)
from coaching.models import Membership, Tenant, Tier
from coaching.tenancy import current_tenant, tenant_context

LIVE = ("trialing", "active", "past_due")


def billing_account() -> BillingAccount | None:
    """The current tenant's (BillingAccount is platform data: filter by tenant here)."""
    return BillingAccount.objects.filter(tenant=current_tenant()).first()


def active_price_of(tier: Tier) -> TierPrice | None:
    return TierPrice.objects.filter(tier=tier, active=True).order_by("-created", "-id").first()


def tier_price_by_id(price_id: str) -> TierPrice | None:
    return TierPrice.objects.select_related("tier").filter(price_id=price_id).first()


def tier_by_id(tier_id: int) -> Tier | None:
    return Tier.objects.filter(pk=tier_id).first()


def athlete_by_id(athlete_id: int) -> AthleteProfile | None:
    return AthleteProfile.objects.filter(pk=athlete_id).first()


def customer_of(athlete: AthleteProfile) -> Customer | None:
    return Customer.objects.filter(athlete=athlete).first()


def customer_by_stripe_id(customer_id: str) -> Customer | None:
    return Customer.objects.select_related("athlete").filter(stripe_customer_id=customer_id).first()


def subscriptions_of(athlete: AthleteProfile) -> QuerySet[Subscription]:
    return Subscription.objects.filter(athlete=athlete).order_by("-created", "-id")


def live_subscription_of(athlete: AthleteProfile) -> Subscription | None:
    """The subscription still running (trial, active or being retried), if any."""
    return subscriptions_of(athlete).filter(status__in=LIVE).first()


def subscription_by_stripe_id(subscription_id: str) -> Subscription | None:
    return (
        Subscription.objects.select_related("athlete")
        .filter(stripe_subscription_id=subscription_id)
        .first()
    )


def subscription_for_update(subscription_id: str) -> Subscription | None:
    return (
        Subscription.objects.select_for_update()
        .select_related("athlete")
        .filter(stripe_subscription_id=subscription_id)
        .first()
    )


def invoice_for_update(pk: int) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=pk)


def invoice_by_stripe_id(invoice_id: str) -> Invoice | None:
    return Invoice.objects.filter(stripe_invoice_id=invoice_id).first()


def invoice_by_charge(charge_id: str) -> Invoice | None:
    if not charge_id:
        return None
    return Invoice.objects.filter(charge_id=charge_id).first()


def entitlement_for_update(athlete: AthleteProfile) -> Entitlement | None:
    return Entitlement.objects.select_for_update().filter(athlete=athlete).first()


def entitlement_of(athlete: AthleteProfile) -> Entitlement | None:
    return Entitlement.objects.filter(athlete=athlete).first()


def has_access(athlete: AthleteProfile, at: datetime.datetime | None = None) -> bool:
    """The one gate every part of the product reads (never Stripe): an open entitlement,
    whose grace period or paid-up period hasn't run out by the clock."""
    row = entitlement_of(athlete)
    return row is not None and entitlements.is_open(row.status, row.until, at or timezone.now())


def entitled_athlete_ids(at: datetime.datetime | None = None) -> set[int]:
    """Every athlete of the tenant with access now, in one query (for nightly fan-out)."""
    moment = at or timezone.now()
    rows = Entitlement.objects.filter(status__in=["active", "grace"]).values_list(
        "athlete_id", "status", "until"
    )
    return {a for a, status, until in rows if entitlements.is_open(status, until, moment)}


def membership_of(athlete: AthleteProfile) -> Membership | None:
    return Membership.objects.filter(user_id=athlete.user_id).first()


def invoices_visible_to(membership: Membership) -> QuerySet[Invoice]:
    return own_or_all(membership, Invoice.objects.select_related("athlete"), "athlete__user_id")


def subscriptions_visible_to(membership: Membership) -> QuerySet[Subscription]:
    return own_or_all(
        membership, Subscription.objects.select_related("athlete", "tier"), "athlete__user_id"
    )


# --- before the tenant is known (webhooks): platform lookups ---------------------------


def webhook_event_get_or_create(event: Event) -> tuple[WebhookEvent, bool]:
    """Store a verified event once: a redelivery (same id) returns the stored row."""
    found = WebhookEvent.objects.filter(event_id=event.id).first()
    if found is not None:
        return found, False
    row = WebhookEvent(
        event_id=event.id,
        type=event.type,
        account=event.account or "",
        object_id=event.object_id,
        stripe_created=event.created,
        payload={"data": {"object": event.data}},
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # delivered twice at the same moment
        return WebhookEvent.objects.get(event_id=event.id), False
    return row, True


def webhook_event_for_update(pk: int) -> WebhookEvent:
    return WebhookEvent.objects.select_for_update().get(pk=pk)


def tenant_by_id(tenant_id: int) -> Tenant | None:
    return Tenant.objects.filter(pk=tenant_id).first()


def billing_account_by_stripe_id(account_id: str) -> BillingAccount | None:
    return (
        BillingAccount.objects.select_related("tenant").filter(stripe_account_id=account_id).first()
    )


def tenant_of_stripe_object(stripe_id: str) -> Tenant | None:
    """Whose subscription, invoice or customer this is (webhooks without an account or
    metadata only). Row-level security hides other tenants' rows, so each tenant is asked
    in its own context: O(tenants) queries, for a rare fallback."""
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            for model, field in (
                (Subscription, "stripe_subscription_id"),
                (Invoice, "stripe_invoice_id"),
                (Customer, "stripe_customer_id"),
            ):
                if model.objects.filter(**{field: stripe_id}).exists():
                    return tenant
    return None


def product_access(athlete: AthleteProfile) -> Access:
    """The gate registered in `athletes.access`. A business that sells online (its Stripe
    account can take charges) needs an open entitlement; one that doesn't (coaches who
    enrol clients themselves) gives access with the enrolment. A comp always counts."""
    row = entitlement_of(athlete)
    if row is not None and entitlements.is_open(row.status, row.until, timezone.now()):
        return Access(True, row.reason)
    account = billing_account()
    if account is None or not account.can_sell:
        return Access(True, "")
    reason = row.reason if row is not None and row.reason else "No active subscription."
    return Access(False, f"{reason} Your plan is paused until your subscription is active.")


def tenant_plan_of(tenant: Tenant) -> TenantPlan | None:
    return TenantPlan.objects.filter(tenant=tenant).first()


def tenant_plan_create(tenant: Tenant, price_id: str) -> TenantPlan:
    plan, _ = TenantPlan.objects.get_or_create(tenant=tenant, defaults={"price_id": price_id})
    return plan


def tenant_plan_by_subscription(subscription_ids: list[str]) -> TenantPlan | None:
    if not subscription_ids:
        return None
    return (
        TenantPlan.objects.select_related("tenant")
        .filter(stripe_subscription_id__in=subscription_ids)
        .exclude(stripe_subscription_id="")
        .first()
    )


def webhook_events_to_process(*, include_failed: bool) -> list[int]:
    statuses = [WebhookEvent.Status.PENDING]
    if include_failed:
        statuses.append(WebhookEvent.Status.FAILED)
    return list(
        WebhookEvent.objects.filter(status__in=statuses)
        .order_by("stripe_created", "id")
        .values_list("pk", flat=True)
    )
