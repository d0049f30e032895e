"""Billing pages and the Stripe webhook endpoint. Thin: services and selectors do the work.

- `POST /stripe/webhook/` (no tenant prefix): verify, store once, queue; 400 on a bad
  signature or stale timestamp with nothing stored.
- `/t/<slug>/join/`: the tiers on sale; Subscribe opens Stripe Checkout.
- `/t/<slug>/billing/`: a client's access, subscription, invoices, portal, cancel, change.
- `/t/<slug>/billing/admin/`: owners and admins: Stripe Connect, reports, refunds.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from athletes import onboarding
from athletes import selectors as athlete_selectors
from billing import reports, selectors, services
from billing.gateway import Gateway
from coaching import selectors as coaching_selectors
from coaching.errors import DomainError
from coaching.models import Membership, Tenant


def is_platform_plan_payment(request: HttpRequest) -> bool:
    """An owner starting the platform plan's checkout: the one write a suspended
    business may make (see `coaching.middleware.allow_while_suspended`)."""
    membership = getattr(request, "membership", None)
    if membership is None or membership.role != Membership.Role.OWNER:
        return False
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.url_name == "billing_admin" and request.POST.get("action") == "plan"


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        event, created = services.webhook_receive(
            request.body, request.headers.get("Stripe-Signature", "")
        )
    except services.BillingError as exc:
        body = {"error": {"code": exc.code, "message": exc.message, "fields": {}}}
        return JsonResponse(body, status=400)
    return JsonResponse({"received": event.event_id, "duplicate": not created})


def _membership(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    return membership


def _client(request: HttpRequest):
    athlete = athlete_selectors.athlete_profile_of(_membership(request))
    if athlete is None:
        raise Http404("Only clients have a billing page.")
    return athlete


@login_required
def join(request: HttpRequest) -> HttpResponse:
    """The tiers on sale; Subscribe starts Stripe Checkout."""
    membership = _membership(request)
    tiers = coaching_selectors.tiers_visible_to(membership).filter(is_active=True)
    athlete = athlete_selectors.athlete_profile_of(membership)
    if request.method == "POST":
        if athlete is None:
            raise Http404("Only clients subscribe.")
        tier = tiers.filter(pk=request.POST.get("tier", "0") or 0).first()
        if tier is None:
            raise Http404("No such tier.")
        if not Gateway.from_settings().configured:
            # No payment on this installation (the demo): enrol, marked complimentary.
            try:
                services.enrolment_comp(athlete=athlete, tier=tier)
            except DomainError as exc:
                messages.error(request, exc.message)
                return redirect("join")
            messages.success(request, f"You're on {tier.name}.")
            step = onboarding.next_step(membership)
            return redirect(onboarding.step_url(step) if step else reverse("today"))
        try:
            url = services.checkout_start(
                athlete=athlete,
                tier=tier,
                success_url=request.build_absolute_uri(reverse("billing_return")),
                cancel_url=request.build_absolute_uri(reverse("join")),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("join")
        return redirect(url)
    return render(
        request,
        "billing/join.html",
        {
            "tiers": tiers,
            "configured": Gateway.from_settings().configured,
            "can_sell": services.billing_account_of().can_sell,
            "entitlement": selectors.entitlement_of(athlete) if athlete else None,
            "is_client": athlete is not None,
        },
    )


@login_required
def billing_return(request: HttpRequest) -> HttpResponse:
    """Back from Checkout. Access is granted by the webhook, never by this page."""
    athlete = _client(request)
    return render(
        request, "billing/return.html", {"entitlement": selectors.entitlement_of(athlete)}
    )


_CLIENT_ACTIONS = ("portal", "cancel", "resume", "change")


@login_required
def billing(request: HttpRequest) -> HttpResponse:
    athlete = _client(request)
    membership = _membership(request)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in _CLIENT_ACTIONS:
            raise Http404("No such action.")
        try:
            if action == "portal":
                return redirect(
                    services.portal_url(
                        athlete=athlete, return_url=request.build_absolute_uri(request.path)
                    )
                )
            if action in ("cancel", "resume"):
                services.cancel_at_period_end(athlete=athlete, cancel=action == "cancel")
                messages.success(
                    request,
                    "Your subscription ends at the end of this period."
                    if action == "cancel"
                    else "Your subscription will renew as before.",
                )
            else:
                tier = (
                    coaching_selectors.tiers_visible_to(membership)
                    .filter(pk=request.POST.get("tier", "0") or 0, is_active=True)
                    .first()
                )
                if tier is None:
                    raise Http404("No such tier.")
                services.change_tier(athlete=athlete, tier=tier)
                messages.success(request, f"Moved to {tier.name}; the difference is prorated.")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("billing")
    return render(
        request,
        "billing/billing.html",
        {
            "entitlement": selectors.entitlement_of(athlete),
            "has_access": selectors.has_access(athlete),
            "subscription": selectors.live_subscription_of(athlete),
            "invoices": selectors.invoices_visible_to(membership)[:24],
            "tiers": coaching_selectors.tiers_visible_to(membership).filter(is_active=True),
        },
    )


def _admin(request: HttpRequest) -> Membership:
    membership = _membership(request)
    if membership.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise Http404("No such page.")
    return membership


@login_required
def billing_admin(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "connect":
                url = services.account_connect(
                    email=request.user.email,
                    country=request.POST.get("country", "IE")[:2].upper(),
                    refresh_url=request.build_absolute_uri(request.path),
                    return_url=request.build_absolute_uri(request.path),
                )
                return redirect(url)
            if request.POST.get("action") == "prices":
                synced = [
                    services.tier_price_sync(tier)
                    for tier in coaching_selectors.tiers_visible_to(membership).filter(
                        is_active=True
                    )
                ]
                messages.success(request, f"{len(synced)} tier price(s) are on Stripe.")
            if request.POST.get("action") == "plan":
                url = services.tenant_plan_checkout(
                    tenant=request.tenant,
                    email=request.user.email,
                    success_url=request.build_absolute_uri(request.path),
                    cancel_url=request.build_absolute_uri(request.path),
                )
                return redirect(url)
            if request.POST.get("action") == "refund":
                invoice = (
                    selectors.invoices_visible_to(membership)
                    .filter(pk=request.POST.get("invoice", "0") or 0)
                    .first()
                )
                if invoice is None:
                    raise Http404("No such invoice.")
                raw = request.POST.get("amount", "").strip()
                amount = round(float(raw) * 100) if raw else None
                services.refund(invoice=invoice, amount=amount, by=membership)
                messages.success(request, "Refunded.")
        except ValueError:
            messages.error(request, "The amount must be a number, e.g. 12.50.")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("billing_admin")
    if request.GET.get("download") == "csv":
        response = HttpResponse(
            reports.invoices_csv(selectors.invoices_visible_to(membership)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="invoices.csv"'
        return response
    account = services.billing_account_of()
    return render(
        request,
        "billing/admin.html",
        {
            "plan": selectors.tenant_plan_of(request.tenant),
            "account": account,
            "configured": Gateway.from_settings().configured,
            "report": reports.tenant_report(request.tenant),
            "invoices": selectors.invoices_visible_to(membership)[:50],
            "overdue": _overdue_rows(membership, account.grace_days),
        },
    )


#: Subscriptions whose payment failed: Stripe retries the card; the client keeps access
#: for the business's grace period, counted from when we first saw it past due.
OVERDUE = ("past_due", "unpaid")


def _overdue_rows(membership: Membership, grace_days: int) -> list[dict]:
    """The owner's "failed payments" list: who, which tier, since when, access until."""
    rows = []
    overdue = (
        selectors.subscriptions_visible_to(membership)
        .filter(status__in=OVERDUE)
        .order_by("past_due_since", "pk")
    )
    for sub in overdue:
        since = sub.past_due_since
        rows.append(
            {
                "subscription": sub,
                "since": since,
                "access_until": (
                    since + datetime.timedelta(days=grace_days)
                    if since and sub.status == "past_due"
                    else None
                ),
            }
        )
    return rows


def staff_tenant_facts(tenant: Tenant) -> dict[str, str]:
    """Billing's columns on platform staff's business list (`coaching.selectors.
    tenants_all_for_staff`, registered in `BillingConfig.ready`): the platform plan's
    state and the clients it bills for today."""
    plan = selectors.tenant_plan_of(tenant)
    state = plan.status if plan is not None and plan.status else "not started"
    if plan is not None and plan.cancel_at_period_end:
        state += " (ends at period end)"
    return {"Platform plan": state, "Active clients": str(services.active_client_count(tenant))}
