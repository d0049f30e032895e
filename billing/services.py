"""Writes of billing state, one transaction each (DESIGN.md, Billing).

Money moves only in Stripe; these services ask Stripe (through `billing.gateway`) and
mirror what it answers. Webhooks are stored once (UNIQUE event id) and processed by a
Celery task; handlers re-fetch the object the event names instead of trusting the
payload, so events delivered twice or out of order converge on Stripe's current state.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from athletes import selectors as athlete_selectors
from athletes import services as athlete_services
from athletes.models import AthleteProfile
from billing import entitlements, selectors
from billing.gateway import Gateway, GatewayError, SignatureError
from billing.models import (
    BillingAccount,
    Customer,
    Entitlement,
    Invoice,
    Subscription,
    TierPrice,
    WebhookEvent,
)
from coaching import audit, lifecycle
from coaching import selectors as coaching_selectors
from coaching import services as coaching_services
from coaching.errors import DomainError
from coaching.models import Membership, Tenant, Tier
from coaching.tenancy import current_tenant, tenant_context

logger = logging.getLogger(__name__)

HANDLED = (
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.finalized",
    "charge.refunded",
    "account.updated",
)


class BillingError(DomainError):
    code = "billing_invalid"


class BillingNotConfigured(BillingError):
    code = "billing_not_configured"
    status = 409


class CannotSell(BillingError):
    code = "cannot_sell"
    status = 409


class StripeRefused(BillingError):
    code = "payment_provider_error"
    status = 502


def gateway() -> Gateway:
    found = Gateway.from_settings()
    if not found.configured:
        raise BillingNotConfigured(
            "Online payment isn't configured on this installation (no Stripe key), so "
            "tiers can't be bought here."
        )
    return found


def _refused(exc: GatewayError) -> StripeRefused:
    return StripeRefused(f"Stripe refused: {exc.message}", code=exc.code or None)


def _minor(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1")))


# --- the tenant's Stripe account (Connect) -----------------------------------------------


def billing_account_of(tenant: Tenant | None = None) -> BillingAccount:
    """The tenant's billing row, created with the platform defaults on first use."""
    account = selectors.billing_account()
    if account is None:
        account, _ = BillingAccount.objects.get_or_create(tenant=tenant or current_tenant())
    return account


@transaction.atomic
def account_connect(*, email: str, country: str, refresh_url: str, return_url: str) -> str:
    """Create the tenant's connected account once, then return an onboarding link."""
    tenant = current_tenant()
    account = billing_account_of()
    stripe = gateway()
    try:
        if not account.stripe_account_id:
            created = stripe.account_create(
                email=email, country=country, idempotency_key=f"account-{tenant.pk}"
            )
            account.stripe_account_id = created.id
            _copy_account(account, created)
            account.save()
        return stripe.account_link(
            account=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
        )
    except GatewayError as exc:
        raise _refused(exc) from exc


def _copy_account(row: BillingAccount, remote: Any) -> None:
    row.charges_enabled = remote.charges_enabled
    row.payouts_enabled = remote.payouts_enabled
    row.details_submitted = remote.details_submitted


def account_sync(account_id: str) -> BillingAccount:
    row = selectors.billing_account()
    if row is None or row.stripe_account_id != account_id:
        raise BillingError(f"Account {account_id} isn't this tenant's.")
    _copy_account(row, gateway().account_retrieve(account_id))
    row.save()
    return row


def _account(row: BillingAccount | None = None) -> str | None:
    row = row or selectors.billing_account()
    return (row.stripe_account_id or None) if row is not None else None


# --- prices -----------------------------------------------------------------------------


@transaction.atomic
def tier_price_sync(tier: Tier) -> TierPrice:
    """The active Stripe Price selling `tier` at its current price, created (with its
    Product) when the tier is new or its price, currency or interval changed."""
    current = selectors.active_price_of(tier)
    amount, currency = _minor(tier.price), tier.currency.lower()
    if current is not None and (current.unit_amount, current.currency, current.interval) == (
        amount,
        currency,
        tier.interval,
    ):
        return current
    stripe, account = gateway(), _account()
    try:
        if current is not None:
            product = current.product_id
            stripe.product_update(product, name=tier.name, account=account)
        else:
            product = stripe.product_create(
                name=tier.name,
                metadata={"tenant_id": str(tier.tenant_id), "tier_id": str(tier.pk)},
                account=account,
                idempotency_key=f"product-{tier.tenant_id}-{tier.pk}",
            ).id
        price = stripe.price_create(
            product=product,
            unit_amount=amount,
            currency=currency,
            interval=tier.interval,
            account=account,
            idempotency_key=f"price-{tier.tenant_id}-{tier.pk}-{amount}-{currency}-{tier.interval}",
        )
        if current is not None:
            stripe.price_deactivate(current.price_id, account=account)
    except GatewayError as exc:
        raise _refused(exc) from exc
    if current is not None:
        current.active = False
        current.save(update_fields=["active"])
    row = TierPrice(
        tier=tier,
        product_id=product,
        price_id=price.id,
        unit_amount=amount,
        currency=currency,
        interval=tier.interval,
    )
    row.save()
    return row


# --- buying -----------------------------------------------------------------------------


def _customer(athlete: AthleteProfile, stripe: Gateway, account: str | None) -> str:
    found = selectors.customer_of(athlete)
    if found is not None:
        return found.stripe_customer_id
    try:
        customer_id = stripe.customer_create(
            email=athlete.user.email,
            name=athlete.display_name,
            metadata={"tenant_id": str(athlete.tenant_id), "athlete_id": str(athlete.pk)},
            account=account,
            idempotency_key=f"customer-{athlete.tenant_id}-{athlete.pk}",
        )
    except GatewayError as exc:
        raise _refused(exc) from exc
    row = Customer(athlete=athlete, stripe_customer_id=customer_id)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # a concurrent checkout saved it first
        return selectors.customer_of(athlete).stripe_customer_id
    return customer_id


def checkout_start(
    *, athlete: AthleteProfile, tier: Tier, success_url: str, cancel_url: str
) -> str:
    """A Stripe Checkout page for `tier`; returns its URL. Access comes later, from the
    webhook, never from the return page."""
    if not tier.is_active:
        raise BillingError(f"{tier.name} isn't on sale.", fields={"tier": ["Not on sale."]})
    account_row = billing_account_of()
    if not account_row.can_sell:
        raise CannotSell(
            "This coaching business can't take payments yet: its Stripe account isn't "
            "connected or can't accept charges. The coach needs to finish Stripe onboarding."
        )
    existing = selectors.live_subscription_of(athlete)
    if existing is not None:
        raise BillingError(
            "You already have a subscription: change tier or cancel it from your billing page.",
            code="already_subscribed",
        )
    stripe = gateway()
    price = tier_price_sync(tier)
    account = _account(account_row)
    customer = _customer(athlete, stripe, account)
    minute = timezone.now().strftime("%Y%m%d%H%M")
    try:
        session = stripe.checkout_session_create(
            price=price.price_id,
            customer=customer,
            success_url=success_url,
            cancel_url=cancel_url,
            trial_days=account_row.trial_days or None,
            application_fee_percent=float(account_row.application_fee_percent),
            metadata={
                "tenant_id": str(athlete.tenant_id),
                "athlete_id": str(athlete.pk),
                "tier_id": str(tier.pk),
            },
            account=account,
            # A double click within the minute opens the same session, not two.
            idempotency_key=f"checkout-{athlete.pk}-{price.price_id}-{minute}",
        )
    except GatewayError as exc:
        raise _refused(exc) from exc
    return session.url


def portal_url(*, athlete: AthleteProfile, return_url: str) -> str:
    """Stripe's Billing Portal for card changes and invoices."""
    customer = selectors.customer_of(athlete)
    if customer is None:
        raise BillingError("You have no billing history here yet.", code="no_customer")
    try:
        return gateway().portal_session_create(
            customer=customer.stripe_customer_id, return_url=return_url, account=_account()
        )
    except GatewayError as exc:
        raise _refused(exc) from exc


def _live(athlete: AthleteProfile) -> Subscription:
    found = selectors.live_subscription_of(athlete)
    if found is None:
        raise BillingError("You have no active subscription.", code="no_subscription")
    return found


@transaction.atomic
def cancel_at_period_end(*, athlete: AthleteProfile, cancel: bool = True) -> Subscription:
    """Stop renewing (access lasts to the period end), or undo that before it ends."""
    sub = _live(athlete)
    try:
        remote = gateway().subscription_cancel_at_period_end(
            sub.stripe_subscription_id,
            cancel=cancel,
            account=_account(),
            idempotency_key=f"cancel-{sub.stripe_subscription_id}-{int(cancel)}-"
            f"{timezone.now():%Y%m%d%H%M}",
        )
    except GatewayError as exc:
        raise _refused(exc) from exc
    return _mirror(remote, account=_account())


@transaction.atomic
def change_tier(*, athlete: AthleteProfile, tier: Tier) -> Subscription:
    """Move to another tier now, prorated; the enrolment follows on the webhook."""
    sub = _live(athlete)
    if sub.tier_id == tier.pk:
        raise BillingError(f"You are already on {tier.name}.", code="same_tier")
    price = tier_price_sync(tier)
    try:
        remote = gateway().subscription_change_price(
            sub.stripe_subscription_id,
            price=price.price_id,
            account=_account(),
            idempotency_key=f"change-{sub.stripe_subscription_id}-{price.price_id}",
        )
    except GatewayError as exc:
        raise _refused(exc) from exc
    return _mirror(remote, account=_account())


@transaction.atomic
def refund(*, invoice: Invoice, amount: int | None, by: Membership) -> Invoice:
    """Refund a paid invoice in full (None) or in part (minor units); tenant admins only."""
    if by.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise BillingError("Only the business's owner or an admin refunds.", code="forbidden")
    invoice = selectors.invoice_for_update(invoice.pk)
    left = invoice.amount_paid - invoice.amount_refunded
    if not invoice.charge_id or invoice.amount_paid == 0:
        raise BillingError("This invoice has no payment to refund.", code="nothing_to_refund")
    if amount is not None and not 0 < amount <= left:
        raise BillingError(
            f"Refund between 0.01 and {left / 100:.2f} {invoice.currency.upper()}.",
            fields={"amount": [f"At most {left} (minor units) is left to refund."]},
        )
    try:
        done = gateway().refund_create(
            charge=invoice.charge_id,
            amount=amount,
            account=_account(),
            idempotency_key=f"refund-{invoice.stripe_invoice_id}-{invoice.amount_refunded}-"
            f"{amount}",
        )
    except GatewayError as exc:
        raise _refused(exc) from exc
    invoice.amount_refunded = min(invoice.amount_paid, invoice.amount_refunded + done.amount)
    invoice.save(update_fields=["amount_refunded", "updated"])
    audit.record(
        action="billing.refund",
        actor_user_id=by.user_id,
        subject_user_id=invoice.athlete.user_id if invoice.athlete_id else None,
        detail={"invoice_id": invoice.pk, "amount_cents": amount},
    )
    return invoice


# --- mirroring Stripe --------------------------------------------------------------------


def _tier_of_price(price_id: str) -> Tier | None:
    row = selectors.tier_price_by_id(price_id)
    return row.tier if row is not None else None


def _athlete_of(remote: Any) -> AthleteProfile | None:
    athlete_id = (remote.metadata or {}).get("athlete_id")
    if athlete_id and athlete_id.isdigit():
        found = selectors.athlete_by_id(int(athlete_id))
        if found is not None:
            return found
    customer = selectors.customer_by_stripe_id(remote.customer)
    return customer.athlete if customer is not None else None


def _mirror(remote: Any, *, account: str | None) -> Subscription:
    """Make our row say what Stripe says about the subscription, then recompute access."""
    row = selectors.subscription_for_update(remote.id)
    if row is None:
        athlete = _athlete_of(remote)
        if athlete is None:
            raise BillingError(f"Subscription {remote.id} names no client of this tenant.")
        row = Subscription(athlete=athlete, stripe_subscription_id=remote.id)
    now = timezone.now()
    row.stripe_customer_id = remote.customer
    row.price_id = remote.price
    row.tier = _tier_of_price(remote.price) or row.tier or _tier_from_metadata(remote)
    if remote.status == "past_due" and row.past_due_since is None:
        row.past_due_since = now
    elif remote.status != "past_due":
        row.past_due_since = None
    row.status = remote.status
    row.current_period_start = remote.current_period_start
    row.current_period_end = remote.current_period_end
    row.cancel_at_period_end = remote.cancel_at_period_end
    row.canceled_at = remote.canceled_at
    row.trial_end = remote.trial_end
    row.latest_invoice = remote.latest_invoice or ""
    row.save()
    access = entitlement_refresh(row.athlete)
    if row.tier is not None and access.status != Entitlement.Status.NONE:
        _enrol(row.athlete, row.tier)
    return row


def _enrol(athlete: AthleteProfile, tier: Tier) -> None:
    """Paying for a tier enrols on it (a tier change moves the enrolment)."""
    current = athlete_selectors.current_enrolment(athlete)
    if current is None or current.tier_id != tier.pk:
        athlete_services.enrolment_create(athlete=athlete, tier=tier)


def _tier_from_metadata(remote: Any) -> Tier | None:
    tier_id = (remote.metadata or {}).get("tier_id", "")
    return selectors.tier_by_id(int(tier_id)) if tier_id.isdigit() else None


def subscription_sync(subscription_id: str, *, account: str | None) -> Subscription:
    try:
        remote = gateway().subscription_retrieve(subscription_id, account=account)
    except GatewayError as exc:
        raise _refused(exc) from exc
    return _mirror(remote, account=account)


def invoice_sync(invoice_id: str, *, account: str | None, failed: bool = False) -> Invoice | None:
    try:
        remote = gateway().invoice_retrieve(invoice_id, account=account)
    except GatewayError as exc:
        raise _refused(exc) from exc
    sub = None
    if remote.subscription:
        sub = selectors.subscription_by_stripe_id(remote.subscription) or subscription_sync(
            remote.subscription, account=account
        )
    customer = selectors.customer_by_stripe_id(remote.customer)
    athlete = sub.athlete if sub is not None else (customer.athlete if customer else None)
    if athlete is None:
        raise BillingError(f"Invoice {invoice_id} names no client of this tenant.")
    row = selectors.invoice_by_stripe_id(remote.id) or Invoice(
        athlete=athlete, stripe_invoice_id=remote.id, issued=remote.created
    )
    row.subscription = sub
    row.number = remote.number or ""
    row.status = remote.status
    row.amount_due = remote.amount_due
    row.amount_paid = remote.amount_paid
    row.currency = remote.currency
    row.application_fee_amount = remote.application_fee_amount or 0
    row.hosted_invoice_url = remote.hosted_invoice_url or ""
    row.charge_id = remote.charge or row.charge_id
    row.period_start = remote.period_start
    row.period_end = remote.period_end
    if remote.status == "paid" and row.paid_at is None:
        row.paid_at = timezone.now()
    first_failure = failed and row.payment_failed_at is None
    if failed:
        row.payment_failed_at = row.payment_failed_at or timezone.now()
    row.save()
    if sub is not None:
        subscription_sync(sub.stripe_subscription_id, account=account)
    if first_failure:
        _payment_failed_alert(athlete, row)
    return row


def _payment_failed_alert(athlete: AthleteProfile, invoice: Invoice) -> None:
    """The coach hears of a failed payment once per invoice (alerts dedupe on the key)."""
    membership = selectors.membership_of(athlete)
    if membership is None:
        return
    coaching_services.alert_raise(
        client=membership,
        kind="payment_failed",
        severity=2,
        title="A payment failed",
        evidence={
            "rule": "invoice.payment_failed",
            "params": {"grace_days": billing_account_of().grace_days},
            "points": [
                {
                    "invoice": invoice.stripe_invoice_id,
                    "amount_due": invoice.amount_due,
                    "currency": invoice.currency,
                }
            ],
        },
        dedupe_key=f"payment_failed:{invoice.stripe_invoice_id}",
        day=timezone.localdate(),
    )


def charge_refunded(data: dict[str, Any]) -> Invoice | None:
    """A refund made anywhere (here or in Stripe's dashboard): refunds only grow, so the
    larger of ours and the charge's `amount_refunded` is right whatever the order."""
    invoice = selectors.invoice_by_charge(data.get("id", ""))
    if invoice is None:
        return None
    refunded = int(data.get("amount_refunded") or 0)
    if refunded > invoice.amount_refunded:
        invoice.amount_refunded = min(refunded, invoice.amount_paid)
        invoice.save(update_fields=["amount_refunded", "updated"])
    return invoice


# --- entitlements ------------------------------------------------------------------------


@transaction.atomic
def entitlement_refresh(athlete: AthleteProfile) -> Entitlement:
    """Recompute the client's access from their best subscription, or keep a comp."""
    row = selectors.entitlement_for_update(athlete) or Entitlement(athlete=athlete)
    now = timezone.now()
    grace = billing_account_of().grace_days
    best, best_access = None, entitlements.Access(entitlements.NONE, None, "No subscription.")
    rank = {entitlements.ACTIVE: 2, entitlements.GRACE: 1, entitlements.NONE: 0}
    for sub in selectors.subscriptions_of(athlete):
        access = entitlements.access_from(
            sub.status,
            cancel_at_period_end=sub.cancel_at_period_end,
            current_period_end=sub.current_period_end,
            trial_end=sub.trial_end,
            past_due_since=sub.past_due_since,
            grace_days=grace,
            now=now,
        )
        if best is None or rank[access.status] > rank[best_access.status]:
            best, best_access = sub, access
    if row.source == Entitlement.Source.COMPED and best_access.status == entitlements.NONE:
        return row  # a comp stands until someone withdraws it
    row.status = best_access.status
    row.until = best_access.until
    row.reason = best_access.reason
    row.subscription = best
    row.source = Entitlement.Source.SUBSCRIPTION if best is not None else Entitlement.Source.NONE
    row.save()
    return row


@transaction.atomic
def entitlement_comp(*, athlete: AthleteProfile, reason: str) -> Entitlement:
    """Access without payment (demo, staff, a coach's friend), clearly marked as such."""
    row = selectors.entitlement_for_update(athlete) or Entitlement(athlete=athlete)
    row.status = Entitlement.Status.ACTIVE
    row.source = Entitlement.Source.COMPED
    row.until = None
    row.reason = reason
    row.save()
    return row


COMP_REASON_NO_PAYMENTS = (
    "Complimentary: this installation takes no online payment (demo), so access comes"
    " with the enrolment."
)


@transaction.atomic
def enrolment_comp(*, athlete: AthleteProfile, tier: Tier) -> Entitlement:
    """Sign-up where the installation has no payment configured (the demo): the client
    is enrolled on the tier they chose and their access is marked complimentary. Where
    Stripe is configured, a tier is only ever had through Checkout (and the webhook)."""
    if Gateway.from_settings().configured:
        raise BillingError(
            "Tiers are paid for through Stripe Checkout here.", code="payment_required"
        )
    if not tier.is_active:
        raise BillingError(f"{tier.name} isn't on sale.", fields={"tier": ["Not on sale."]})
    current = athlete_selectors.current_enrolment(athlete)
    if current is None or current.tier_id != tier.pk:
        athlete_services.enrolment_create(athlete=athlete, tier=tier)
    return entitlement_comp(athlete=athlete, reason=COMP_REASON_NO_PAYMENTS)


# --- the platform's plan for each tenant ------------------------------------------------------


def active_client_count(tenant: Tenant) -> int:
    """Clients the platform bills the tenant for: those with access today (an open
    entitlement where the business sells online, else an open enrolment)."""
    with tenant_context(tenant):
        account = selectors.billing_account()
        if account is not None and account.can_sell:
            return len(selectors.entitled_athlete_ids())
        return athlete_selectors.enrolled_athlete_count()


def tenant_plan_checkout(*, tenant: Tenant, email: str, success_url: str, cancel_url: str) -> str:
    """Checkout on the platform's own account for the tenant's plan, one seat per active
    client (at least one)."""
    from django.conf import settings

    stripe = gateway()
    plan = selectors.tenant_plan_of(tenant)
    if plan is None:
        if not settings.STRIPE_PLATFORM_PRICE_ID:
            raise BillingNotConfigured("The platform's price per client isn't configured.")
        plan = selectors.tenant_plan_create(tenant, settings.STRIPE_PLATFORM_PRICE_ID)
    if plan.status in ("trialing", "active", "past_due"):
        raise BillingError("Your plan is already running.", code="already_subscribed")
    metadata = {"tenant_id": str(tenant.pk), "platform": "1"}
    try:
        if not plan.stripe_customer_id:
            plan.stripe_customer_id = stripe.customer_create(
                email=email,
                name=tenant.name,
                metadata=metadata,
                account=None,
                idempotency_key=f"platform-customer-{tenant.pk}",
            )
            plan.save(update_fields=["stripe_customer_id", "updated"])
        seats = max(1, active_client_count(tenant))
        session = stripe.checkout_session_create(
            price=plan.price_id,
            customer=plan.stripe_customer_id,
            success_url=success_url,
            cancel_url=cancel_url,
            trial_days=None,
            application_fee_percent=None,
            metadata=metadata,
            account=None,
            idempotency_key=f"platform-checkout-{tenant.pk}-{seats}-{timezone.now():%Y%m%d%H%M}",
            quantity=seats,
        )
    except GatewayError as exc:
        raise _refused(exc) from exc
    return session.url


def tenant_plan_sync(subscription_id: str, *, tenant: Tenant) -> Any:
    """Mirror the tenant's plan subscription from the platform account."""
    try:
        remote = gateway().subscription_retrieve(subscription_id, account=None)
    except GatewayError as exc:
        raise _refused(exc) from exc
    plan = selectors.tenant_plan_of(tenant)
    if plan is None:
        plan = selectors.tenant_plan_create(tenant, remote.price)
    plan.stripe_subscription_id = remote.id
    plan.stripe_customer_id = remote.customer
    plan.price_id = remote.price or plan.price_id
    plan.status = remote.status
    plan.quantity = remote.quantity
    plan.current_period_end = remote.current_period_end
    plan.cancel_at_period_end = remote.cancel_at_period_end
    plan.save()
    lifecycle.tenant_plan_status_changed(tenant=tenant, plan_status=plan.status)
    return plan


def tenant_plan_seats_sync(tenant: Tenant) -> Any:
    """Bill the tenant for the clients active today: change the plan's quantity when it
    differs (Stripe prorates). Daily; a no-op when nothing changed."""
    plan = selectors.tenant_plan_of(tenant)
    if plan is None or plan.status not in ("trialing", "active", "past_due"):
        return plan
    seats = max(1, active_client_count(tenant))
    if seats == plan.quantity:
        return plan
    try:
        remote = gateway().subscription_set_quantity(
            plan.stripe_subscription_id,
            quantity=seats,
            account=None,
            idempotency_key=f"seats-{plan.stripe_subscription_id}-{seats}-"
            f"{timezone.localdate():%Y%m%d}",
        )
    except GatewayError as exc:
        raise _refused(exc) from exc
    plan.quantity = remote.quantity
    plan.status = remote.status
    plan.save(update_fields=["quantity", "status", "updated"])
    return plan


def tenant_plans_seats_sync_all() -> dict[str, int]:
    """Every business's seat count; one business's Stripe error doesn't stop the others."""
    changed = failed = 0
    for tenant in coaching_selectors.all_tenants():
        try:
            before = selectors.tenant_plan_of(tenant)
            quantity = before.quantity if before is not None else None
            after = tenant_plan_seats_sync(tenant)
            changed += int(after is not None and after.quantity != quantity)
        except BillingError:
            failed += 1
    return {"changed": changed, "failed": failed}


def tenant_billing_stop(tenant: Tenant) -> dict[str, int]:
    """The business is leaving (offboarding): no client is charged again and the platform
    stops billing it. Every live subscription, the clients' on the tenant's account and
    the tenant's own plan, is set to end at its period end (no refunds are made here;
    those stay the business's call). Idempotent: a re-run sends the same keys.

    Without Stripe configured there is nothing to stop (counts are zero)."""
    found = Gateway.from_settings()
    stopped = {"subscriptions": 0, "platform_plan": 0}
    if not found.configured:
        return stopped
    with tenant_context(tenant):
        account = _account()
        live = list(Subscription.objects.filter(status__in=selectors.LIVE))
        for sub in live:
            try:
                found.subscription_cancel_at_period_end(
                    sub.stripe_subscription_id,
                    cancel=True,
                    account=account,
                    idempotency_key=f"offboard-{sub.stripe_subscription_id}",
                )
            except GatewayError as exc:
                if exc.code == "resource_missing":  # Stripe no longer has it: nothing to stop
                    continue
                raise _refused(exc) from exc
            stopped["subscriptions"] += 1
    plan = selectors.tenant_plan_of(tenant)
    if plan is not None and plan.stripe_subscription_id and plan.status in selectors.LIVE:
        try:
            found.subscription_cancel_at_period_end(
                plan.stripe_subscription_id,
                cancel=True,
                account=None,
                idempotency_key=f"offboard-{plan.stripe_subscription_id}",
            )
        except GatewayError as exc:
            raise _refused(exc) from exc
        plan.cancel_at_period_end = True
        plan.save(update_fields=["cancel_at_period_end", "updated"])
        stopped["platform_plan"] = 1
    return stopped


def _handle_platform(event: WebhookEvent, obj: dict[str, Any]) -> bool:
    tenant = event.tenant
    kind = event.type
    if kind == "checkout.session.completed" and obj.get("subscription"):
        tenant_plan_sync(obj["subscription"], tenant=tenant)
        return True
    if kind.startswith("customer.subscription."):
        tenant_plan_sync(event.object_id, tenant=tenant)
        return True
    if kind.startswith("invoice.") and obj.get("subscription"):
        tenant_plan_sync(obj["subscription"], tenant=tenant)
        return True
    return False


# --- webhooks ----------------------------------------------------------------------------


def webhook_receive(payload: bytes, signature_header: str) -> tuple[WebhookEvent, bool]:
    """Verify and store an event; returns (row, created). Nothing is stored for a bad
    signature or a stale timestamp. Processing is queued once the row is committed."""
    try:
        event = Gateway.from_settings().construct_event(payload, signature_header)
    except SignatureError as exc:
        raise BillingError(exc.message, code="bad_signature") from exc
    row, created = selectors.webhook_event_get_or_create(event)
    if created:
        from billing.tasks import process_event

        transaction.on_commit(lambda: process_event.delay(row.pk))
    return row, created


def _tenant_of(event: WebhookEvent) -> Tenant | None:
    if event.account:
        account = selectors.billing_account_by_stripe_id(event.account)
        if account is not None:
            return account.tenant
    obj = event.payload.get("data", {}).get("object", {})
    tenant_id = str((obj.get("metadata") or {}).get("tenant_id", ""))
    if tenant_id.isdigit():
        return selectors.tenant_by_id(int(tenant_id))
    ids = [v for v in (obj.get("subscription"), obj.get("id")) if isinstance(v, str) and v]
    plan = selectors.tenant_plan_by_subscription(ids)
    if plan is not None:
        return plan.tenant
    for key in ("subscription", "id"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            found = selectors.tenant_of_stripe_object(value)
            if found is not None:
                return found
    return None


def _is_platform(event: WebhookEvent) -> bool:
    """An event about a tenant's own plan: on the platform account (no `account`), about
    a subscription marked `platform` or the one a TenantPlan holds."""
    if event.account:
        return False
    obj = event.payload.get("data", {}).get("object", {})
    if str((obj.get("metadata") or {}).get("platform", "")) == "1":
        return True
    ids = [v for v in (obj.get("subscription"), obj.get("id")) if isinstance(v, str) and v]
    return selectors.tenant_plan_by_subscription(ids) is not None


def _handle(event: WebhookEvent, account: str | None) -> bool:
    """Act on one event inside its tenant; False when there was nothing to do."""
    obj = event.payload.get("data", {}).get("object", {})
    kind = event.type
    if _is_platform(event):
        return _handle_platform(event, obj)
    if kind == "checkout.session.completed":
        if obj.get("subscription"):
            subscription_sync(obj["subscription"], account=account)
            return True
        return False
    if kind.startswith("customer.subscription."):
        subscription_sync(event.object_id, account=account)
        return True
    if kind in ("invoice.paid", "invoice.finalized", "invoice.payment_failed"):
        invoice_sync(event.object_id, account=account, failed=kind == "invoice.payment_failed")
        return True
    if kind == "charge.refunded":
        return charge_refunded(obj) is not None
    if kind == "account.updated":
        account_sync(event.object_id)
        return True
    return False


def event_process(event_pk: int) -> WebhookEvent:
    """Process a stored event once; a second call (a redelivered task) finds it done."""
    with transaction.atomic():
        event = selectors.webhook_event_for_update(event_pk)
        if event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
            return event
        event.attempts += 1
        if event.type not in HANDLED:
            event.status = WebhookEvent.Status.IGNORED
            event.processed_at = timezone.now()
            event.save(update_fields=["status", "processed_at", "attempts"])
            return event
        tenant = _tenant_of(event)
        if tenant is None:
            event.status = WebhookEvent.Status.IGNORED
            event.error = "No tenant of ours is named by this event."
            event.processed_at = timezone.now()
            event.save(update_fields=["status", "error", "processed_at", "attempts"])
            return event
        event.tenant = tenant
        try:
            with transaction.atomic(), tenant_context(tenant):
                did = _handle(event, event.account or None)
        except DomainError as exc:
            event.status = WebhookEvent.Status.FAILED
            event.error = exc.message
            event.save(update_fields=["status", "error", "tenant", "attempts"])
            logger.warning("stripe event %s failed: %s", event.event_id, exc.code)
            return event
        event.status = WebhookEvent.Status.PROCESSED if did else WebhookEvent.Status.IGNORED
        event.error = ""
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "error", "tenant", "processed_at", "attempts"])
        return event


def webhook_payloads_prune(now: datetime.datetime | None = None) -> int:
    """Blank the stored payload of events older than STRIPE_EVENT_PAYLOAD_DAYS: Stripe
    payloads quote customers' names and e-mails, and once an event is settled only its id
    (for idempotency), type and outcome are needed. Events still pending keep theirs."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.STRIPE_EVENT_PAYLOAD_DAYS)
    return (
        WebhookEvent.objects.filter(received__lt=cutoff)
        .exclude(status=WebhookEvent.Status.PENDING)
        .exclude(payload={})
        .update(payload={})
    )


def webhook_payloads_forget_customer(customer_ids: list[str]) -> int:
    """Erasure: blank every stored event that names one of these customers now, rather
    than when the retention prune gets to it."""
    if not customer_ids:
        return 0
    mentions = Q(object_id__in=customer_ids) | Q(payload__data__object__customer__in=customer_ids)
    return WebhookEvent.objects.filter(mentions).exclude(payload={}).update(payload={})


__all__ = [
    "BillingError",
    "BillingNotConfigured",
    "CannotSell",
    "StripeRefused",
    "account_connect",
    "account_sync",
    "billing_account_of",
    "cancel_at_period_end",
    "change_tier",
    "checkout_start",
    "entitlement_comp",
    "entitlement_refresh",
    "event_process",
    "invoice_sync",
    "portal_url",
    "refund",
    "subscription_sync",
    "tier_price_sync",
    "webhook_receive",
]
