"""Billing end to end against a real Stripe-compatible server (localstripe) and webhooks
signed exactly like Stripe's. localstripe has no Checkout, so each scenario creates the
subscription there as Checkout would have (with our metadata), then delivers the signed
events Stripe would send; our handlers re-fetch everything from localstripe.

Nothing of our billing code is mocked; Checkout and Prices, which localstripe lacks, are
covered by the gateway's contract tests (test_gateway.py) and by `checkout_start` against
the recording fake below.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from athletes import selectors as athlete_selectors
from athletes.models import AthleteProfile
from billing import reports, selectors, services
from billing.models import BillingAccount, Invoice, Subscription, TierPrice, WebhookEvent
from coaching import services as coaching_services
from coaching.models import Alert, AuditEvent, Membership
from coaching.tenancy import tenant_context
from tests import factories
from tests.billing.stripe_server import event_payload, signed

ACCOUNT = "acct_test_alpha"
WEBHOOK = "/stripe/webhook/"


@pytest.fixture
def shop(tenant_a, client_a, gateway, localstripe_server):
    """Tenant A sells two tiers on its connected account; each tier has a Stripe price
    (a legacy plan on localstripe); the client is a Stripe customer with a working card."""
    version, diy = factories.methodology_on_sale(tenant_a, "strength")
    with tenant_context(tenant_a):
        premium = coaching_services.tier_create(
            methodology=diy.methodology,
            name="Premium",
            slug="premium",
            price=Decimal("99.00"),
            autonomy="approve",
        )
        BillingAccount.objects.create(
            tenant=tenant_a, stripe_account_id=ACCOUNT, charges_enabled=True, grace_days=7
        )
        prices = {}
        for name, tier in (("diy", diy), ("premium", premium)):
            product = gateway.product_create(
                name=tier.name, metadata={}, account=ACCOUNT, idempotency_key=uuid.uuid4().hex
            )
            amount = int(tier.price * 100)
            plan = localstripe_server.plan_create(product=product.id, amount=amount)
            TierPrice.objects.create(
                tier=tier, product_id=product.id, price_id=plan, unit_amount=amount,
                currency="eur", interval="month",
            )  # fmt: skip
            prices[name] = plan
        # a yearly price of the same product: localstripe's way to bill again at once
        yearly = localstripe_server.plan_create(product=product.id, amount=99000, interval="year")
        athlete = AthleteProfile.objects.get(user=client_a)
        customer = gateway.customer_create(
            email="client@alpha.test",
            name="Client",
            metadata={"tenant_id": str(tenant_a.pk), "athlete_id": str(athlete.pk)},
            account=ACCOUNT,
            idempotency_key=uuid.uuid4().hex,
            payment_method="pm_card_visa",
        )
        from billing.models import Customer

        Customer.objects.create(athlete=athlete, stripe_customer_id=customer)
    return {
        "tenant": tenant_a,
        "athlete": athlete,
        "customer": customer,
        "diy": diy,
        "premium": premium,
        "prices": prices,
        "yearly": yearly,
        "server": localstripe_server,
    }


def _subscribe(shop, tier="diy", **extra):
    return shop["server"].subscription_create(
        customer=shop["customer"],
        plan=shop["prices"][tier],
        metadata={
            "tenant_id": str(shop["tenant"].pk),
            "athlete_id": str(shop["athlete"].pk),
            "tier_id": str(shop[tier].pk),
        },
        **extra,
    )


def _deliver(client, event) -> WebhookEvent:
    """POST the signed event like Stripe, then run the task the endpoint queued."""
    payload, header = signed(event)
    response = client.post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 200, response.content
    row = WebhookEvent.objects.get(event_id=event["id"])
    return services.event_process(row.pk)


def _access(shop) -> bool:
    with tenant_context(shop["tenant"]):
        return selectors.has_access(shop["athlete"])


def _sub_event(kind, sub, **kw):
    return event_payload(kind, {"id": sub["id"], "object": "subscription", **kw}, account=ACCOUNT)


def _invoice_event(kind, invoice_id, **kw):
    return event_payload(kind, {"id": invoice_id, "object": "invoice", **kw}, account=ACCOUNT)


def test_happy_path_checkout_to_access_enrolment_and_invoice(client, shop):
    assert not _access(shop)
    sub = _subscribe(shop)
    session = {"id": "cs_test_1", "object": "checkout.session", "subscription": sub["id"],
               "customer": shop["customer"], "metadata": {}}  # fmt: skip
    _deliver(client, event_payload("checkout.session.completed", session, account=ACCOUNT))
    _deliver(client, _invoice_event("invoice.paid", sub["latest_invoice"]))

    assert _access(shop)
    with tenant_context(shop["tenant"]):
        row = Subscription.objects.get()
        assert (row.status, row.tier, row.stripe_customer_id) == (
            "active", shop["diy"], shop["customer"],
        )  # fmt: skip
        enrolment = athlete_selectors.current_enrolment(shop["athlete"])
        assert enrolment is not None and enrolment.tier == shop["diy"]
        price = int(shop["diy"].price * 100)
        invoice = Invoice.objects.get()
        assert (invoice.status, invoice.amount_paid, invoice.currency) == ("paid", price, "eur")
        report = reports.tenant_report(shop["tenant"])
        assert report.mrr == price and report.active_subscribers == 1
        assert report.subscribers_by_tier == {shop["diy"].name: 1}


def test_a_declined_card_gives_no_access(client, shop):
    shop["server"].customer_default_card(shop["customer"], "pm_card_chargeCustomerFail")
    sub = _subscribe(shop)
    assert sub["status"] == "incomplete"
    _deliver(client, _sub_event("customer.subscription.created", sub))
    _deliver(client, _invoice_event("invoice.payment_failed", sub["latest_invoice"]))
    assert not _access(shop)
    with tenant_context(shop["tenant"]):
        assert "first payment" in selectors.entitlement_of(shop["athlete"]).reason
        assert athlete_selectors.current_enrolment(shop["athlete"]) is None


def test_a_duplicate_delivery_changes_nothing_the_second_time(client, shop):
    sub = _subscribe(shop)
    event = _sub_event("customer.subscription.created", sub)
    first = _deliver(client, event)
    with tenant_context(shop["tenant"]):
        stamp = Subscription.objects.get().updated
    payload, header = signed(event)
    again = client.post(WEBHOOK, data=payload, content_type="application/json",
                        HTTP_STRIPE_SIGNATURE=header)  # fmt: skip
    assert again.json() == {"received": event["id"], "duplicate": True}
    assert services.event_process(first.pk).status == "processed"
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
    assert WebhookEvent.objects.get(event_id=event["id"]).attempts == 1
    with tenant_context(shop["tenant"]):
        assert Subscription.objects.get().updated == stamp


def test_events_in_reverse_order_converge_on_stripes_state(client, shop):
    sub = _subscribe(shop)
    created = _sub_event("customer.subscription.created", sub, status="active")
    shop["server"].subscription_delete(sub["id"])
    deleted = _sub_event("customer.subscription.deleted", sub, status="canceled")
    _deliver(client, deleted)  # the later event first
    _deliver(client, created)  # its stale snapshot says active; Stripe says canceled
    assert not _access(shop)
    with tenant_context(shop["tenant"]):
        assert Subscription.objects.get().status == "canceled"


def test_past_due_grace_then_loss_then_payment_restores_access(client, shop, tenant_a, coach_a):
    sub = _subscribe(shop)
    _deliver(client, _sub_event("customer.subscription.created", sub))
    assert _access(shop)

    server = shop["server"]
    server.customer_default_card(shop["customer"], "pm_card_chargeCustomerFail")
    failed = server.subscription_switch_plan(sub["id"], shop["yearly"])
    _deliver(client, _invoice_event("invoice.payment_failed", failed["latest_invoice"]))
    with tenant_context(tenant_a):
        entitlement = selectors.entitlement_of(shop["athlete"])
        assert entitlement.status == "grace" and "access continues until" in entitlement.reason
        assert Alert.objects.filter(kind="payment_failed").count() == 1
    assert _access(shop)

    # Eight days later the grace period is over, without any further event.
    later = timezone.now() + datetime.timedelta(days=8)
    with tenant_context(tenant_a):
        assert not selectors.has_access(shop["athlete"], later)
        Subscription.objects.update(past_due_since=timezone.now() - datetime.timedelta(days=8))
        services.entitlement_refresh(shop["athlete"])
    assert not _access(shop)

    server.customer_default_card(shop["customer"], "pm_card_visa")
    paid = server.subscription_switch_plan(sub["id"], shop["prices"]["diy"])
    _deliver(client, _invoice_event("invoice.paid", paid["latest_invoice"]))
    assert _access(shop)
    with tenant_context(tenant_a):
        assert Subscription.objects.get().past_due_since is None
        # the same failure delivered again raises no second alert
        assert Alert.objects.filter(kind="payment_failed").count() == 1


def test_cancel_at_period_end_keeps_access_until_then(client, shop):
    sub = _subscribe(shop)
    _deliver(client, _sub_event("customer.subscription.created", sub))
    with tenant_context(shop["tenant"]):
        row = services.cancel_at_period_end(athlete=shop["athlete"])
        assert row.cancel_at_period_end is True
        entitlement = selectors.entitlement_of(shop["athlete"])
        assert entitlement.until == row.current_period_end
        assert "access until" in entitlement.reason
        assert selectors.has_access(shop["athlete"])
        assert not selectors.has_access(shop["athlete"], row.current_period_end)
        resumed = services.cancel_at_period_end(athlete=shop["athlete"], cancel=False)
        assert resumed.cancel_at_period_end is False
        assert selectors.entitlement_of(shop["athlete"]).until is None


def test_a_tier_changed_in_stripe_moves_subscription_and_enrolment(client, shop):
    """E.g. in the Billing Portal: Stripe changes the plan and tells us."""
    sub = _subscribe(shop)
    _deliver(client, _sub_event("customer.subscription.created", sub))
    with tenant_context(shop["tenant"]):
        assert athlete_selectors.current_enrolment(shop["athlete"]).tier == shop["diy"]
    shop["server"].subscription_switch_plan(sub["id"], shop["prices"]["premium"])
    _deliver(client, _sub_event("customer.subscription.updated", sub))
    with tenant_context(shop["tenant"]):
        row = Subscription.objects.get()
        assert row.tier == shop["premium"] and row.price_id == shop["prices"]["premium"]
        assert athlete_selectors.current_enrolment(shop["athlete"]).tier == shop["premium"]
        assert reports.tenant_report(shop["tenant"]).mrr == 9900


def test_change_tier_asks_stripe_for_a_prorated_price_swap(
    shop, tenant_a, recording_stripe, settings
):
    """localstripe can't prorate (it answers 500), so the call runs against the recording
    fake, seeded with the subscription as Stripe would hold it."""
    from tests.billing.stripe_server import subscription_object

    settings.STRIPE_API_BASE = recording_stripe.url
    meta = {"tenant_id": str(tenant_a.pk), "athlete_id": str(shop["athlete"].pk)}
    recording_stripe.seed(
        subscription_object(
            sub_id="sub_change", customer=shop["customer"], price=shop["prices"]["diy"],
            metadata=meta,
        )
    )  # fmt: skip
    with tenant_context(tenant_a):
        services.subscription_sync("sub_change", account=ACCOUNT)
        row = services.change_tier(athlete=shop["athlete"], tier=shop["premium"])
        assert row.tier == shop["premium"] and row.price_id == shop["prices"]["premium"]
        assert athlete_selectors.current_enrolment(shop["athlete"]).tier == shop["premium"]
        with pytest.raises(services.BillingError, match="already on Premium"):
            services.change_tier(athlete=shop["athlete"], tier=shop["premium"])
    sent = recording_stripe.last("POST", "/v1/subscriptions/sub_change")
    assert sent.param("items[0][price]") == shop["prices"]["premium"]
    assert sent.param("proration_behavior") == "create_prorations"


def test_refunds_by_tenant_admins_only(client, shop, tenant_a, owner_a, coach_a):
    sub = _subscribe(shop)
    _deliver(client, _sub_event("customer.subscription.created", sub))
    _deliver(client, _invoice_event("invoice.paid", sub["latest_invoice"]))
    with tenant_context(tenant_a):
        invoice = Invoice.objects.get()
        coach = Membership.objects.get(user=coach_a)
        with pytest.raises(services.BillingError, match="owner or an admin"):
            services.refund(invoice=invoice, amount=500, by=coach)
        owner = Membership.objects.get(user=owner_a)
        with pytest.raises(services.BillingError, match="Refund between"):
            services.refund(invoice=invoice, amount=5000, by=owner)
        invoice = services.refund(invoice=invoice, amount=500, by=owner)
        assert invoice.amount_refunded == 500
    # Stripe then tells us about the refund; the larger figure stands whatever the order.
    charge = {"id": invoice.charge_id, "object": "charge", "amount_refunded": 500}
    _deliver(client, event_payload("charge.refunded", charge, account=ACCOUNT))
    with tenant_context(tenant_a):
        assert Invoice.objects.get().amount_refunded == 500
        assert reports.tenant_report(tenant_a).revenue == invoice.amount_paid - 500


def test_a_tenant_without_connect_cannot_sell(shop, tenant_a):
    with tenant_context(tenant_a):
        BillingAccount.objects.filter(tenant=tenant_a).update(charges_enabled=False)
        with pytest.raises(services.CannotSell, match="can't take payments yet"):
            services.checkout_start(
                athlete=shop["athlete"], tier=shop["diy"],
                success_url="http://x.test/ok", cancel_url="http://x.test/no",
            )  # fmt: skip


def test_bad_signatures_and_stale_timestamps_are_400_and_store_nothing(client, shop):
    sub = _subscribe(shop)
    event = _sub_event("customer.subscription.created", sub)
    payload, header = signed(event, secret="whsec_wrong")
    bad = client.post(WEBHOOK, data=payload, content_type="application/json",
                      HTTP_STRIPE_SIGNATURE=header)  # fmt: skip
    stale_payload, stale = signed(event, timestamp=int(timezone.now().timestamp()) - 3600)
    old = client.post(WEBHOOK, data=stale_payload, content_type="application/json",
                      HTTP_STRIPE_SIGNATURE=stale)  # fmt: skip
    unsigned = client.post(WEBHOOK, data=payload, content_type="application/json")
    for response in (bad, old, unsigned):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists()


def test_unknown_event_types_are_stored_and_acknowledged(client, shop):
    event = event_payload("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})
    row = _deliver(client, event)
    assert row.status == "ignored"


def test_checkout_start_creates_the_price_and_a_session_with_our_metadata(
    shop, tenant_a, recording_stripe, settings
):
    settings.STRIPE_API_BASE = recording_stripe.url
    with tenant_context(tenant_a):
        TierPrice.objects.all().delete()
        url = services.checkout_start(
            athlete=shop["athlete"], tier=shop["premium"],
            success_url="https://alpha.test/billing/return/", cancel_url="https://alpha.test/join/",
        )  # fmt: skip
        price = TierPrice.objects.get(tier=shop["premium"])
        assert price.unit_amount == 9900 and price.active
    assert url.startswith("http")
    session = recording_stripe.last("POST", "/v1/checkout/sessions")
    assert session.param("mode") == "subscription"
    assert session.param("line_items[0][price]") == price.price_id
    assert session.param("customer") == shop["customer"]
    assert session.param("subscription_data[metadata][athlete_id]") == str(shop["athlete"].pk)
    assert session.param("subscription_data[metadata][tier_id]") == str(shop["premium"].pk)
    assert session.param("subscription_data[application_fee_percent]") == "10.0"
    assert session.headers.get("Stripe-Account") == ACCOUNT
    assert session.headers.get("Idempotency-Key")


def test_without_stripe_keys_billing_says_it_is_not_configured(shop, tenant_a, settings):
    settings.STRIPE_SECRET_KEY = ""
    with tenant_context(tenant_a):
        with pytest.raises(services.BillingNotConfigured, match="isn't configured"):
            services.checkout_start(
                athlete=shop["athlete"], tier=shop["diy"],
                success_url="http://x.test/ok", cancel_url="http://x.test/no",
            )  # fmt: skip


def test_account_updated_tracks_charges_and_payouts(
    client, shop, tenant_a, recording_stripe, settings
):
    settings.STRIPE_API_BASE = recording_stripe.url
    recording_stripe.seed(
        {"id": ACCOUNT, "object": "account", "charges_enabled": False, "payouts_enabled": True,
         "details_submitted": True}
    )  # fmt: skip
    _deliver(client, event_payload("account.updated", {"id": ACCOUNT, "object": "account"},
                                   account=ACCOUNT))  # fmt: skip
    account = BillingAccount.objects.get(tenant=tenant_a)
    assert (account.charges_enabled, account.payouts_enabled) == (False, True)
    assert not account.can_sell


def test_failed_events_are_retried_by_the_command(client, shop, settings):
    import io

    from django.core.management import call_command

    sub = _subscribe(shop)
    event = _sub_event("customer.subscription.created", sub)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable
    row = _deliver(client, event)
    assert row.status == "failed" and "Stripe refused" in row.error
    with tenant_context(shop["tenant"]):
        assert not Subscription.objects.exists()
    settings.STRIPE_API_BASE = shop["server"].url
    out = io.StringIO()
    call_command("process_stripe_events", "--failed", stdout=out)
    assert "1 event(s): 1 processed" in out.getvalue()
    assert WebhookEvent.objects.get(pk=row.pk).attempts == 2
    assert _access(shop)


def test_the_owner_exports_invoices_as_csv(client, shop, owner_a):
    sub = _subscribe(shop)
    _deliver(client, _sub_event("customer.subscription.created", sub))
    _deliver(client, _invoice_event("invoice.paid", sub["latest_invoice"]))
    client.force_login(owner_a)
    response = client.get("/t/alpha/billing/admin/", {"download": "csv"})
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("issued,number,stripe_invoice_id,client")
    assert sub["latest_invoice"] in lines[1] and ",paid,eur," in lines[1]


def test_connect_onboarding_creates_the_account_once_and_returns_a_link(
    tenant_a, recording_stripe, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = recording_stripe.url
    with tenant_context(tenant_a):
        first = services.account_connect(
            email="owner@alpha.test", country="IE",
            refresh_url="https://alpha.test/billing/admin/", return_url="https://alpha.test/billing/admin/",
        )  # fmt: skip
        account = BillingAccount.objects.get(tenant=tenant_a)
        assert account.stripe_account_id and first.startswith("http")
        again = services.account_connect(
            email="owner@alpha.test", country="IE",
            refresh_url="https://alpha.test/billing/admin/", return_url="https://alpha.test/billing/admin/",
        )  # fmt: skip
    assert again.startswith("http")
    created = [
        r for r in recording_stripe.requests if (r.method, r.path) == ("POST", "/v1/accounts")
    ]
    assert (
        len(created) == 1 and created[0].headers.get("Idempotency-Key") == f"account-{tenant_a.pk}"
    )
    assert (
        BillingAccount.objects.get(tenant=tenant_a).stripe_account_id == account.stripe_account_id
    )


def test_a_refund_from_the_billing_admin_page_is_audited(client, shop, tenant_a, owner_a, client_a):
    from coaching import audit

    sub = _subscribe(shop)
    _deliver(client, _sub_event("customer.subscription.created", sub))
    _deliver(client, _invoice_event("invoice.paid", sub["latest_invoice"]))
    with tenant_context(tenant_a):
        invoice = Invoice.objects.get()
    client.force_login(owner_a)
    response = client.post(
        "/t/alpha/billing/admin/", {"action": "refund", "invoice": invoice.pk, "amount": "5.00"}
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert Invoice.objects.get().amount_refunded == 500
    (event,) = audit.audit_events(action="billing.refund")
    assert (event.tenant_id, event.actor_user_id, event.subject_user_id) == (
        tenant_a.pk,
        owner_a.pk,
        client_a.pk,
    )
    assert event.detail == {"invoice_id": invoice.pk, "amount_cents": 500}


def test_offboarding_the_business_stops_every_clients_renewal(client, shop, gateway):
    from privacy.offboarding import tenant_offboard

    sub = _subscribe(shop)
    _deliver(client, _sub_event("customer.subscription.created", sub))
    with tenant_context(shop["tenant"]):
        assert Subscription.objects.get().status == "active"
    tenant_offboard(tenant=shop["tenant"], by_user_id=None, reason="The coach retired.")
    remote = gateway.subscription_retrieve(sub["id"], account=ACCOUNT)
    assert remote.cancel_at_period_end is True  # no client is charged again
    shop["tenant"].refresh_from_db()
    assert shop["tenant"].status == "offboarded"
    event = AuditEvent.objects.get(action="tenant.offboard")
    assert event.detail["subscriptions_stopped"] == 1
