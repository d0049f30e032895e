"""Billing pages and API: who sees what, what a client without Stripe sees, and the
errors. Money flows are in test_flow.py."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from athletes.models import AthleteProfile
from billing import services
from coaching.tenancy import tenant_context
from tests import factories


@pytest.fixture
def on_sale(tenant_a):
    return factories.methodology_on_sale(tenant_a, "strength")[1]


def test_join_page_without_stripe_explains_and_offers_no_button(
    client, client_a, on_sale, settings
):
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(client_a)
    page = client.get("/t/alpha/join/").content.decode()
    assert "Online payment isn't configured" in page and on_sale.name in page
    assert "Subscribe to" not in page


def test_join_page_with_stripe_but_no_connect_says_the_business_cant_sell(
    client, client_a, on_sale, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    client.force_login(client_a)
    page = client.get("/t/alpha/join/").content.decode()
    assert "can't take payments yet" in page
    response = client.post("/t/alpha/join/", {"tier": on_sale.pk}, follow=True)
    assert "can't take payments yet" in response.content.decode()


def test_a_comped_client_sees_access_marked_as_complimentary(client, tenant_a, client_a):
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        services.entitlement_comp(athlete=athlete, reason="Demo client: no payment.")
    client.force_login(client_a)
    page = client.get("/t/alpha/billing/").content.decode()
    assert "You have access" in page and "complimentary" in page


def test_billing_admin_is_for_owners_and_shows_the_report(client, tenant_a, owner_a, coach_a):
    client.force_login(coach_a)
    assert client.get("/t/alpha/billing/admin/").status_code == 404
    client.force_login(owner_a)
    page = client.get("/t/alpha/billing/admin/").content.decode()
    assert "Monthly recurring revenue" in page and "Not connected" in page


def test_api_entitlement_report_and_permissions(tenant_a, client_a, owner_a, coach_a, on_sale):
    api = APIClient()
    api.force_login(client_a)
    mine = api.get("/t/alpha/api/v1/billing/entitlement/").json()
    assert mine["status"] == "none" and mine["has_access"] is False
    assert api.get("/t/alpha/api/v1/billing/report/").status_code == 403
    checkout = api.post("/t/alpha/api/v1/billing/checkout/", {"tier": on_sale.pk}, format="json")
    assert checkout.status_code == 409
    assert checkout.json()["error"]["code"] in ("billing_not_configured", "cannot_sell")
    unknown = api.post("/t/alpha/api/v1/billing/checkout/", {"tier": 999999}, format="json")
    assert unknown.status_code == 400 and "tier" in unknown.json()["error"]["fields"]
    api.force_login(owner_a)
    report = api.get("/t/alpha/api/v1/billing/report/").json()
    assert report["mrr"] == 0 and report["currency"] == "EUR"
    assert api.get("/t/alpha/api/v1/billing/report/platform/").status_code == 403


def test_another_tenants_invoice_is_a_404(tenant_a, tenant_b, client_b):
    api = APIClient()
    api.force_login(client_b)
    assert api.get("/t/bravo/api/v1/invoices/").json()["results"] == []
    assert api.get("/t/bravo/api/v1/invoices/1/").status_code == 404


def test_where_the_business_sells_online_access_needs_an_open_entitlement(
    client, tenant_a, client_a, coach_a
):
    from billing.models import BillingAccount

    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
    client.force_login(client_a)
    # a business that doesn't sell online: the enrolment is access
    assert "Your plan is paused" not in client.get("/t/alpha/plan/").content.decode()
    BillingAccount.objects.create(tenant=tenant_a, stripe_account_id="acct_x", charges_enabled=True)
    page = client.get("/t/alpha/plan/").content.decode()
    assert "No active subscription. Your plan is paused" in page
    assert client.get("/t/alpha/nutrition/").status_code == 403
    api = APIClient()
    api.force_login(client_a)
    denied = api.get(f"/t/alpha/api/v1/nutrition/{athlete.pk}/targets/")
    assert denied.status_code == 403 and "paused" in denied.json()["error"]["message"]
    for path in ("planned-sessions", "blocks", "session-logs", "adjustments"):
        paused = api.get(f"/t/alpha/api/v1/{path}/")
        assert paused.status_code == 403, path
        assert "paused" in paused.json()["error"]["message"]
    coach_api = APIClient()
    coach_api.force_login(coach_a)
    assert coach_api.get("/t/alpha/api/v1/planned-sessions/").status_code == 200
    # the coach still sees the client, with the reason
    client.force_login(coach_a)
    staff_view = client.get(f"/t/alpha/plan/{athlete.pk}/").content.decode()
    assert "This client has no access" in staff_view
    # a comp (or a paid subscription) opens it again
    with tenant_context(tenant_a):
        services.entitlement_comp(athlete=athlete, reason="Coach's guest.")
    client.force_login(client_a)
    assert client.get("/t/alpha/nutrition/").status_code == 200
