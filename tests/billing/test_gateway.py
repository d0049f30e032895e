"""The Stripe gateway against localstripe (what it implements) and, for Checkout, Portal,
Prices and Connect, contract tests on the exact parameters sent to a recording fake."""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from billing.gateway import Gateway, GatewayError, SignatureError
from tests.billing.stripe_server import (
    WEBHOOK_SECRET,
    LocalStripe,
    RecordingStripe,
    event_payload,
    sign,
    subscription_object,
)

SignedEvent = Callable[..., tuple[bytes, str]]


def key() -> str:
    return f"test-{uuid.uuid4()}"


def _customer(gateway: Gateway, payment_method: str = "pm_card_visa") -> str:
    return gateway.customer_create(
        email=f"{uuid.uuid4().hex[:8]}@client.test",
        name="Client",
        metadata={"client_id": "7"},
        account=None,
        idempotency_key=key(),
        payment_method=payment_method,
    )


def _monthly_plan(gateway: Gateway, server: LocalStripe, amount: int = 2900) -> str:
    product = gateway.product_create(
        name="Hybrid", metadata={"tier_id": "3"}, account=None, idempotency_key=key()
    )
    return server.plan_create(product=product.id, amount=amount, interval="month")


# localstripe ---------------------------------------------------------------------------
def test_customer_create_returns_the_stripe_customer_id(gateway: Gateway):
    customer = _customer(gateway)

    assert customer.startswith("cus_")


def test_from_settings_uses_the_same_server_as_the_fixture(gateway: Gateway):
    from_settings = Gateway.from_settings()

    assert from_settings.configured
    assert _customer(from_settings).startswith("cus_")


def test_paid_subscription_maps_status_plan_and_aware_utc_periods(
    gateway: Gateway, localstripe_server: LocalStripe
):
    # given a customer with a working card and a monthly plan
    plan = _monthly_plan(gateway, localstripe_server)
    customer = _customer(gateway)
    # when the subscription is created (what Checkout does) and read back
    created = localstripe_server.subscription_create(
        customer=customer, plan=plan, metadata={"tenant_id": "1", "tier_id": "3"}
    )
    sub = gateway.subscription_retrieve(created["id"], account=None)
    # then
    assert sub.id == created["id"]
    assert sub.customer == customer
    assert sub.status == "active"
    assert sub.price == plan
    assert sub.metadata == {"tenant_id": "1", "tier_id": "3"}
    assert sub.cancel_at_period_end is False
    assert sub.current_period_start is not None and sub.current_period_end is not None
    assert sub.current_period_start.utcoffset() == datetime.timedelta(0)
    assert 28 <= (sub.current_period_end - sub.current_period_start).days <= 31
    assert sub.latest_invoice is not None

    invoice = gateway.invoice_retrieve(sub.latest_invoice, account=None)
    assert invoice.status == "paid"
    assert invoice.subscription == sub.id
    assert invoice.customer == customer
    assert (invoice.amount_due, invoice.amount_paid, invoice.currency) == (2900, 2900, "eur")
    assert invoice.charge is not None and invoice.charge.startswith("ch_")
    assert invoice.payment_intent is not None and invoice.payment_intent.startswith("pi_")
    assert invoice.created.tzinfo is not None


def test_cancel_at_period_end_keeps_access_until_the_end_and_can_be_undone(
    gateway: Gateway, localstripe_server: LocalStripe
):
    plan = _monthly_plan(gateway, localstripe_server)
    sub_id = localstripe_server.subscription_create(customer=_customer(gateway), plan=plan)["id"]

    cancelled = gateway.subscription_cancel_at_period_end(
        sub_id, cancel=True, account=None, idempotency_key=key()
    )
    assert (cancelled.status, cancelled.cancel_at_period_end) == ("active", True)

    resumed = gateway.subscription_cancel_at_period_end(
        sub_id, cancel=False, account=None, idempotency_key=key()
    )
    assert resumed.cancel_at_period_end is False


def test_card_declined_on_attach_raises_card_declined(gateway: Gateway):
    with pytest.raises(GatewayError) as caught:
        _customer(gateway, payment_method="pm_card_visa_chargeDeclined")

    assert caught.value.code == "card_declined"
    assert caught.value.http_status == 402
    assert caught.value.message


def test_declined_first_payment_leaves_subscription_incomplete_and_invoice_open(
    gateway: Gateway, localstripe_server: LocalStripe
):
    plan = _monthly_plan(gateway, localstripe_server)
    customer = _customer(gateway, payment_method="pm_card_chargeCustomerFail")

    created = localstripe_server.subscription_create(customer=customer, plan=plan)
    sub = gateway.subscription_retrieve(created["id"], account=None)
    invoice = gateway.invoice_retrieve(sub.latest_invoice or "", account=None)

    assert sub.status == "incomplete"
    assert (invoice.status, invoice.amount_paid) == ("open", 0)


def test_failed_renewal_is_past_due_and_a_later_payment_makes_it_active(
    gateway: Gateway, localstripe_server: LocalStripe
):
    product = gateway.product_create(name="DIY", metadata={}, account=None, idempotency_key=key())
    monthly = localstripe_server.plan_create(product=product.id, amount=1900, interval="month")
    yearly = localstripe_server.plan_create(product=product.id, amount=19000, interval="year")
    customer = _customer(gateway)
    sub_id = localstripe_server.subscription_create(customer=customer, plan=monthly)["id"]

    localstripe_server.customer_default_card(customer, "pm_card_chargeCustomerFail")
    localstripe_server.subscription_switch_plan(sub_id, yearly)
    failed = gateway.subscription_retrieve(sub_id, account=None)
    assert failed.status == "past_due"
    assert gateway.invoice_retrieve(failed.latest_invoice or "", account=None).status == "open"

    localstripe_server.customer_default_card(customer, "pm_card_visa")
    localstripe_server.subscription_switch_plan(sub_id, monthly)
    recovered = gateway.subscription_retrieve(sub_id, account=None)
    assert recovered.status == "active"
    assert recovered.price == monthly


def test_partial_then_full_refund_of_an_invoice_charge(
    gateway: Gateway, localstripe_server: LocalStripe
):
    plan = _monthly_plan(gateway, localstripe_server, amount=5000)
    created = localstripe_server.subscription_create(customer=_customer(gateway), plan=plan)
    invoice = gateway.invoice_retrieve(created["latest_invoice"], account=None)
    assert invoice.charge is not None

    partial = gateway.refund_create(
        charge=invoice.charge, amount=1200, account=None, idempotency_key=key()
    )
    full = gateway.refund_create(
        charge=invoice.charge, amount=None, account=None, idempotency_key=key()
    )

    assert (partial.amount, partial.currency, partial.status) == (1200, "eur", "succeeded")
    assert partial.charge == invoice.charge
    assert full.amount == 5000  # localstripe refunds the whole charge again (Stripe: the rest)


def test_missing_subscription_is_a_gateway_error_with_404(gateway: Gateway):
    with pytest.raises(GatewayError) as caught:
        gateway.subscription_retrieve("sub_doesnotexist", account=None)

    assert caught.value.http_status == 404


def test_wrong_api_key_is_an_authentication_error(localstripe: str):
    wrong = Gateway(api_key="pk_test_not_a_secret_key", api_base=localstripe)

    with pytest.raises(GatewayError) as caught:
        wrong.customer_create(
            email="a@b.test", name="A", metadata={}, account=None, idempotency_key=key()
        )

    assert (caught.value.code, caught.value.http_status) == ("authentication_error", 401)


def test_unreachable_stripe_is_a_connection_error():
    closed = Gateway(api_key="sk_test_x", api_base="http://127.0.0.1:9", max_network_retries=0)

    with pytest.raises(GatewayError) as caught:
        closed.account_retrieve("acct_1")

    assert caught.value.code == "api_connection_error"


def test_localstripe_ignores_idempotency_keys_so_only_the_header_is_checked(
    gateway: Gateway, recording_stripe: RecordingStripe
):
    # localstripe does not replay on a repeated Idempotency-Key (two customers come back);
    # real Stripe does. What we can guarantee is that the key reaches Stripe unchanged.
    same = key()
    first = _customer_with_key(gateway, same)
    second = _customer_with_key(gateway, same)
    assert first != second  # localstripe's limitation, documented here

    recording_stripe.gateway.product_create(
        name="DIY", metadata={}, account="acct_tenant", idempotency_key=same
    )
    assert recording_stripe.last("POST", "/v1/products").headers["Idempotency-Key"] == same


def _customer_with_key(gateway: Gateway, idempotency_key: str) -> str:
    return gateway.customer_create(
        email="same@client.test",
        name="Same",
        metadata={},
        account=None,
        idempotency_key=idempotency_key,
    )


# Contract tests: the calls localstripe lacks ----------------------------------------------
def test_checkout_session_sends_subscription_mode_trial_fee_metadata_and_headers(
    recording_stripe: RecordingStripe,
):
    session = recording_stripe.gateway.checkout_session_create(
        price="price_hybrid",
        customer="cus_client",
        success_url="https://alpha.example.test/billing/return",
        cancel_url="https://alpha.example.test/billing/tiers",
        trial_days=14,
        application_fee_percent=7.5,
        metadata={"tenant_id": "1", "tier_id": "3", "athlete_id": "9"},
        account="acct_tenant",
        idempotency_key="checkout-9-3",
    )

    sent = recording_stripe.last("POST", "/v1/checkout/sessions")
    assert sent.param("mode") == "subscription"
    assert sent.param("line_items[0][price]") == "price_hybrid"
    assert sent.param("line_items[0][quantity]") == "1"
    assert sent.param("customer") == "cus_client"
    assert sent.param("success_url") == (
        "https://alpha.example.test/billing/return?session_id={CHECKOUT_SESSION_ID}"
    )
    assert sent.param("cancel_url") == "https://alpha.example.test/billing/tiers"
    assert sent.param("subscription_data[metadata][tenant_id]") == "1"
    assert sent.param("subscription_data[metadata][tier_id]") == "3"
    assert sent.param("subscription_data[metadata][athlete_id]") == "9"
    assert sent.param("metadata[tier_id]") == "3"
    assert sent.param("subscription_data[trial_period_days]") == "14"
    assert sent.param("subscription_data[application_fee_percent]") == "7.5"
    assert sent.headers["Idempotency-Key"] == "checkout-9-3"
    assert sent.headers["Stripe-Account"] == "acct_tenant"
    assert session.id.startswith("cs_test")
    assert session.url.startswith("https://")
    assert session.customer == "cus_client"
    assert session.metadata == {"tenant_id": "1", "tier_id": "3", "athlete_id": "9"}


def test_checkout_session_keeps_a_placeholder_and_omits_trial_and_fee_when_absent(
    recording_stripe: RecordingStripe,
):
    recording_stripe.gateway.checkout_session_create(
        price="price_diy",
        customer="cus_platform_tenant",
        success_url="https://example.test/done?x=1&sid={CHECKOUT_SESSION_ID}",
        cancel_url="https://example.test/plans",
        trial_days=None,
        application_fee_percent=None,
        metadata={},
        account=None,
        idempotency_key=key(),
    )

    sent = recording_stripe.last("POST", "/v1/checkout/sessions")
    assert sent.param("success_url") == "https://example.test/done?x=1&sid={CHECKOUT_SESSION_ID}"
    assert "subscription_data[trial_period_days]" not in sent.params
    assert "subscription_data[application_fee_percent]" not in sent.params
    assert sent.headers["Stripe-Account"] is None  # the platform's own account


def test_success_url_with_a_query_gets_the_placeholder_appended(
    recording_stripe: RecordingStripe,
):
    recording_stripe.gateway.checkout_session_create(
        price="price_diy",
        customer="cus_1",
        success_url="https://example.test/return?tier=3",
        cancel_url="https://example.test/plans",
        trial_days=0,
        application_fee_percent=None,
        metadata={},
        account=None,
        idempotency_key=key(),
    )

    sent = recording_stripe.last("POST", "/v1/checkout/sessions")
    assert sent.param("success_url") == (
        "https://example.test/return?tier=3&session_id={CHECKOUT_SESSION_ID}"
    )


def test_portal_session_returns_the_url_on_the_tenant_account(recording_stripe: RecordingStripe):
    url = recording_stripe.gateway.portal_session_create(
        customer="cus_client", return_url="https://alpha.example.test/billing", account="acct_t"
    )

    sent = recording_stripe.last("POST", "/v1/billing_portal/sessions")
    assert url.startswith("https://billing.stripe.test/")
    assert sent.param("customer") == "cus_client"
    assert sent.param("return_url") == "https://alpha.example.test/billing"
    assert sent.headers["Stripe-Account"] == "acct_t"


def test_product_and_price_create_update_and_deactivate(recording_stripe: RecordingStripe):
    gw = recording_stripe.gateway

    product = gw.product_create(
        name="Premium", metadata={"tier_id": "5"}, account="acct_t", idempotency_key="prod-5"
    )
    renamed = gw.product_update(product.id, name="Premium+", account="acct_t")
    price = gw.price_create(
        product=product.id,
        unit_amount=14900,
        currency="EUR",
        interval="month",
        account="acct_t",
        idempotency_key="price-5-v1",
    )
    gw.price_deactivate(price.id, account="acct_t")

    sent_product = recording_stripe.last("POST", "/v1/products")
    assert sent_product.param("metadata[tier_id]") == "5"
    assert sent_product.headers["Idempotency-Key"] == "prod-5"
    assert renamed.name == "Premium+"
    sent_price = recording_stripe.last("POST", "/v1/prices")
    assert sent_price.param("product") == product.id
    assert sent_price.param("unit_amount") == "14900"
    assert sent_price.param("currency") == "eur"
    assert sent_price.param("recurring[interval]") == "month"
    assert sent_price.headers["Idempotency-Key"] == "price-5-v1"
    assert sent_price.headers["Stripe-Account"] == "acct_t"
    assert (price.unit_amount, price.currency, price.interval, price.active) == (
        14900,
        "eur",
        "month",
        True,
    )
    deactivate = recording_stripe.last("POST", f"/v1/prices/{price.id}")
    assert deactivate.param("active") == "false"
    assert deactivate.headers["Stripe-Account"] == "acct_t"
    assert recording_stripe.objects[price.id]["active"] is False


def test_price_interval_outside_month_or_year_is_refused_before_calling_stripe(
    recording_stripe: RecordingStripe,
):
    with pytest.raises(ValueError, match="interval"):
        recording_stripe.gateway.price_create(
            product="prod_1",
            unit_amount=100,
            currency="eur",
            interval="week",
            account=None,
            idempotency_key=key(),
        )
    assert recording_stripe.requests == []


def test_connect_account_create_link_and_retrieve(recording_stripe: RecordingStripe):
    gw = recording_stripe.gateway

    account = gw.account_create(email="owner@alpha.test", country="de", idempotency_key="acct-1")
    link = gw.account_link(
        account=account.id,
        refresh_url="https://alpha.example.test/connect/refresh",
        return_url="https://alpha.example.test/connect/done",
    )
    recording_stripe.objects[account.id].update(charges_enabled=True, details_submitted=True)
    fetched = gw.account_retrieve(account.id)

    created = recording_stripe.last("POST", "/v1/accounts")
    assert created.param("type") == "express"
    assert created.param("email") == "owner@alpha.test"
    assert created.param("country") == "DE"
    assert created.param("capabilities[card_payments][requested]") == "true"
    assert created.param("capabilities[transfers][requested]") == "true"
    assert created.headers["Idempotency-Key"] == "acct-1"
    assert created.headers["Stripe-Account"] is None
    assert (account.charges_enabled, account.payouts_enabled) == (False, False)
    sent_link = recording_stripe.last("POST", "/v1/account_links")
    assert sent_link.param("type") == "account_onboarding"
    assert sent_link.param("account") == account.id
    assert sent_link.param("return_url") == "https://alpha.example.test/connect/done"
    assert link.startswith("https://connect.stripe.test/")
    assert (fetched.charges_enabled, fetched.payouts_enabled, fetched.details_submitted) == (
        True,
        False,
        True,
    )


def test_subscription_change_price_swaps_the_single_item_with_prorations(
    recording_stripe: RecordingStripe,
):
    recording_stripe.seed(subscription_object(sub_id="sub_9", price="price_diy"))

    changed = recording_stripe.gateway.subscription_change_price(
        "sub_9", price="price_premium", account="acct_t", idempotency_key="change-9"
    )

    update = recording_stripe.last("POST", "/v1/subscriptions/sub_9")
    assert update.param("items[0][id]") == "si_fake1"
    assert update.param("items[0][price]") == "price_premium"
    assert update.param("proration_behavior") == "create_prorations"
    assert update.headers["Idempotency-Key"] == "change-9"
    assert update.headers["Stripe-Account"] == "acct_t"
    assert recording_stripe.last("GET", "/v1/subscriptions/sub_9").headers["Stripe-Account"] == (
        "acct_t"
    )
    assert changed.price == "price_premium"


def test_basil_subscription_reads_price_and_period_from_its_item(
    recording_stripe: RecordingStripe,
):
    recording_stripe.seed(
        subscription_object(sub_id="sub_b", price="price_x", period_start=1_767_225_600)
    )

    sub = recording_stripe.gateway.subscription_retrieve("sub_b", account=None)

    assert sub.price == "price_x"
    assert sub.current_period_start == datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    assert sub.current_period_end == datetime.datetime(2026, 1, 31, tzinfo=datetime.UTC)


def test_stripe_error_code_and_status_are_kept(recording_stripe: RecordingStripe):
    recording_stripe.fail_next(
        402, type="card_error", code="card_declined", message="Your card was declined."
    )

    with pytest.raises(GatewayError) as caught:
        recording_stripe.gateway.portal_session_create(
            customer="cus_1", return_url="https://x.test", account=None
        )

    assert (caught.value.code, caught.value.http_status) == ("card_declined", 402)
    assert caught.value.message == "Your card was declined."


def test_resource_missing_code_is_kept(recording_stripe: RecordingStripe):
    with pytest.raises(GatewayError) as caught:
        recording_stripe.gateway.account_retrieve("acct_unknown")

    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)


def test_create_calls_refuse_an_empty_idempotency_key(recording_stripe: RecordingStripe):
    with pytest.raises(ValueError, match="idempotency_key"):
        recording_stripe.gateway.product_create(
            name="X", metadata={}, account=None, idempotency_key=""
        )
    assert recording_stripe.requests == []


# Configuration --------------------------------------------------------------------------
def test_without_an_api_key_billing_is_not_configured_and_calls_refuse(settings: Any):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""
    gateway = Gateway.from_settings()

    assert gateway.configured is False
    assert Gateway(api_key="").configured is False
    with pytest.raises(GatewayError) as caught:
        gateway.account_retrieve("acct_1")
    assert caught.value.code == "not_configured"


# Webhooks -------------------------------------------------------------------------------
def _subscription_event(**overrides: Any) -> dict[str, Any]:
    return event_payload(
        "customer.subscription.updated",
        {"id": "sub_42", "object": "subscription", "status": "past_due"},
        **overrides,
    )


def test_signed_event_parses_into_an_event(gateway: Gateway, signed_event: SignedEvent):
    payload, header = signed_event(
        _subscription_event(account="acct_t", event_id="evt_1", created=1_767_225_600)
    )

    event = gateway.construct_event(payload, header)

    assert event.id == "evt_1"
    assert event.type == "customer.subscription.updated"
    assert event.account == "acct_t"
    assert event.created == datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    assert (event.object_type, event.object_id) == ("subscription", "sub_42")
    assert event.data["status"] == "past_due"


def test_platform_event_has_no_account(gateway: Gateway, signed_event: SignedEvent):
    payload, header = signed_event(
        event_payload("checkout.session.completed", {"id": "cs_1", "object": "checkout.session"})
    )

    event = gateway.construct_event(payload, header)

    assert event.account is None
    assert (event.object_type, event.object_id) == ("checkout.session", "cs_1")


def test_sign_matches_stripes_scheme():
    header = sign(b'{"a":1}', "whsec_x", timestamp=1700000000)

    # hmac_sha256("whsec_x", '1700000000.{"a":1}'), computed independently
    assert header == ("t=1700000000,v1=" + _hmac_hex("whsec_x", b'1700000000.{"a":1}'))


def _hmac_hex(secret: str, message: bytes) -> str:
    import hashlib
    import hmac

    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "tampered_body", "stale_timestamp", "garbage_header", "empty_header"],
)
def test_bad_signature_or_stale_timestamp_raises_signature_error(gateway: Gateway, tamper: str):
    event = _subscription_event()
    payload = json.dumps(event).encode()
    header = sign(payload, WEBHOOK_SECRET)
    if tamper == "wrong_secret":
        header = sign(payload, "whsec_someone_else")
    elif tamper == "tampered_body":
        payload = payload.replace(b"past_due", b"active")
    elif tamper == "stale_timestamp":
        header = sign(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    elif tamper == "garbage_header":
        header = "not-a-stripe-signature"
    else:
        header = ""

    with pytest.raises(SignatureError):
        gateway.construct_event(payload, header)


def test_signed_garbage_is_refused_as_not_json(gateway: Gateway):
    payload = b"{not json"

    with pytest.raises(SignatureError) as caught:
        gateway.construct_event(payload, sign(payload, WEBHOOK_SECRET))

    assert caught.value.code == "invalid_payload"


def test_without_a_webhook_secret_every_event_is_refused(localstripe: str):
    payload = json.dumps(_subscription_event()).encode()
    unconfigured = Gateway(api_key="sk_test_x", api_base=localstripe, webhook_secret="")

    with pytest.raises(SignatureError):
        unconfigured.construct_event(payload, sign(payload, ""))
