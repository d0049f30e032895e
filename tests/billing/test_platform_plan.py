"""The platform bills each coaching business for its active clients, on the platform's own
Stripe account, with the same machinery: checkout (contract), webhooks (signed, no
`account`), a mirror, and a daily seat count that changes the quantity in localstripe."""

from __future__ import annotations

import uuid

import pytest

from athletes import services as athlete_services
from athletes.models import AthleteProfile
from billing import selectors, services
from billing.models import TenantPlan, WebhookEvent
from coaching.tenancy import tenant_context
from tests import factories
from tests.billing.stripe_server import event_payload, signed


@pytest.fixture
def platform_price(gateway, localstripe_server, settings):
    product = gateway.product_create(
        name="Platform seat", metadata={}, account=None, idempotency_key=uuid.uuid4().hex
    )
    price = localstripe_server.plan_create(product=product.id, amount=500)
    settings.STRIPE_PLATFORM_PRICE_ID = price
    return price


def _deliver(client, event) -> WebhookEvent:
    payload, header = signed(event)
    response = client.post(
        "/stripe/webhook/", data=payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )  # fmt: skip
    assert response.status_code == 200
    return services.event_process(WebhookEvent.objects.get(event_id=event["id"]).pk)


def test_a_tenants_plan_is_mirrored_and_billed_per_active_client(
    client, tenant_a, client_a, gateway, localstripe_server, platform_price
):
    # given: a tenant whose plan Checkout created with 1 seat on the platform account
    customer = gateway.customer_create(
        email="owner@alpha.test", name="Alpha", metadata={"tenant_id": str(tenant_a.pk)},
        account=None, idempotency_key=uuid.uuid4().hex, payment_method="pm_card_visa",
    )  # fmt: skip
    sub = localstripe_server.subscription_create(
        customer=customer, plan=platform_price,
        metadata={"tenant_id": str(tenant_a.pk), "platform": "1"},
    )  # fmt: skip
    session = {"id": "cs_platform", "object": "checkout.session", "subscription": sub["id"],
               "metadata": {"tenant_id": str(tenant_a.pk), "platform": "1"}}  # fmt: skip
    event = _deliver(client, event_payload("checkout.session.completed", session))
    assert event.status == "processed" and event.tenant == tenant_a
    plan = TenantPlan.objects.get(tenant=tenant_a)
    assert (plan.status, plan.quantity, plan.price_id) == ("active", 1, platform_price)

    # when: three clients are enrolled and the daily seat count runs
    version, tier = factories.methodology_on_sale(tenant_a, "strength")
    for n in range(3):
        account = factories.member(tenant_a, "client", email=f"seat{n}@alpha.test")
        with tenant_context(tenant_a):
            athlete = AthleteProfile.objects.get(user=account)
            athlete_services.enrolment_create(athlete=athlete, tier=tier)
    assert services.active_client_count(tenant_a) == 3
    services.tenant_plan_seats_sync(tenant_a)

    # then: Stripe bills 3 seats; an invoice event about the plan refreshes the mirror
    assert gateway.subscription_retrieve(sub["id"], account=None).quantity == 3
    invoice = {"id": "in_platform", "object": "invoice", "subscription": sub["id"]}
    _deliver(client, event_payload("invoice.paid", invoice))
    assert TenantPlan.objects.get(tenant=tenant_a).quantity == 3
    # and running the count again changes nothing
    assert services.tenant_plan_seats_sync(tenant_a).quantity == 3


def test_tenant_plan_checkout_asks_for_one_seat_per_active_client(
    tenant_a, recording_stripe, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = recording_stripe.url
    settings.STRIPE_PLATFORM_PRICE_ID = "price_platform_seat"
    recording_stripe.seed({"id": "cus_platform_alpha", "object": "customer"})
    TenantPlan.objects.create(
        tenant=tenant_a, price_id="price_platform_seat", stripe_customer_id="cus_platform_alpha"
    )
    url = services.tenant_plan_checkout(
        tenant=tenant_a, email="owner@alpha.test",
        success_url="https://alpha.test/billing/admin/", cancel_url="https://alpha.test/billing/admin/",
    )  # fmt: skip
    assert url.startswith("http")
    sent = recording_stripe.last("POST", "/v1/checkout/sessions")
    assert sent.param("line_items[0][price]") == "price_platform_seat"
    assert sent.param("line_items[0][quantity]") == "1"
    assert sent.param("subscription_data[metadata][platform]") == "1"
    assert sent.headers.get("Stripe-Account") is None  # the platform's own account
    assert sent.param("subscription_data[application_fee_percent]") is None
    assert selectors.tenant_plan_of(tenant_a).price_id == "price_platform_seat"
