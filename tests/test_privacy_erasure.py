"""Erasure (right to be forgotten): grace period and cancel, the scan of every registered
model after erasure, pseudonymised invoices, the Stripe customer, one tenant vs the whole
account, and all-or-nothing."""

from __future__ import annotations

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from athletes import privacy as registry
from athletes.models import AthleteProfile
from billing.models import Invoice
from coaching.models import AuditEvent
from coaching.tenancy import tenant_context
from privacy import services, tasks
from privacy.models import DataRequest
from tests import factories

# localstripe fixtures for the one gateway test below (they live with the billing tests)
from tests.billing.conftest import gateway, localstripe, localstripe_server  # noqa: F401
from tests.billing.stripe_server import API_KEY, RecordingServer
from tests.test_privacy_export import join, personal_rows, registered_models, rows_of


def _athlete(tenant, account) -> AthleteProfile:
    with tenant_context(tenant):
        return AthleteProfile.objects.get(user=account)


def _tenant_rows(tenant, user_id: int) -> dict[str, int]:
    """Rows of every registered tenant model reaching the user, by model label."""
    with tenant_context(tenant):
        return {
            m._meta.label: len(rows_of(m, user_id))
            for m in registered_models()
            if not registry.ERASERS[m._meta.label].account_level
        }


def _due_now(tenant, row: DataRequest) -> None:
    with tenant_context(tenant):
        DataRequest.objects.filter(pk=row.pk).update(
            due_at=timezone.now() - datetime.timedelta(minutes=1)
        )


@pytest.fixture
def stripe(settings):
    """Billing configured against a recording Stripe (a real HTTP server): erasure's
    calls go through our gateway as in production; `.deleted` lists the customers."""
    with RecordingServer() as fake:
        settings.STRIPE_SECRET_KEY = API_KEY
        settings.STRIPE_API_BASE = fake.url
        yield fake


@pytest.fixture
def people(tenant_a, tenant_b, client_a):
    """A1 (client_a) is a client of tenant A and of tenant B; A2 is another client of A."""
    a2 = factories.member(tenant_a, "client", email="second@alpha.test")
    join(tenant_b, client_a)
    personal_rows(tenant_a, client_a, "a1")
    personal_rows(tenant_a, a2, "a2")
    personal_rows(tenant_b, client_a, "a1-in-b")
    return client_a, a2


# --- grace period ----------------------------------------------------------------------


def test_erasure_waits_14_days_and_can_be_cancelled(tenant_a, client_a):
    athlete = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        row = services.erasure_request(athlete=athlete, requested_by=client_a.pk)
        assert row.due_at - row.requested_at == datetime.timedelta(days=14)
        # asking twice returns the same request
        assert services.erasure_request(athlete=athlete, requested_by=client_a.pk) == row
        assert services.erasures_due() == []
        assert services.erasures_due(now=row.due_at) == [row]
        services.erasure_cancel(request=row, by=client_a.pk)
        assert services.erasures_due(now=row.due_at) == []
        with pytest.raises(services.PrivacyError):
            services.erasure_cancel(request=row, by=client_a.pk)
    assert _tenant_rows(tenant_a, client_a.pk)["athletes.AthleteProfile"] == 1


def test_page_schedules_and_cancels_erasure(client, tenant_a, client_a):
    client.force_login(client_a)
    assert client.post("/t/alpha/privacy/erasure/").status_code == 302
    with tenant_context(tenant_a):
        row = DataRequest.objects.get(kind="erasure")
    assert row.status == "scheduled"
    page = client.get("/t/alpha/privacy/")
    assert b"Cancel the erasure" in page.content
    assert client.post(f"/t/alpha/privacy/erasure/{row.pk}/cancel/").status_code == 302
    with tenant_context(tenant_a):
        row.refresh_from_db()
    assert row.status == "cancelled"


# --- the scan --------------------------------------------------------------------------


def test_due_erasure_leaves_no_row_of_the_athlete_in_the_tenant_but_pseudonymised_invoices(
    tenant_a, tenant_b, people, stripe
):
    a1, a2 = people
    before_a2 = _tenant_rows(tenant_a, a2.pk)
    before_b = _tenant_rows(tenant_b, a1.pk)
    # every registered tenant model holds A1 rows, so the scan below is not vacuous
    assert [label for label, n in _tenant_rows(tenant_a, a1.pk).items() if not n] == []
    with tenant_context(tenant_a):
        row = services.erasure_request(athlete=_athlete(tenant_a, a1), requested_by=a1.pk)
    _due_now(tenant_a, row)
    # when the scheduled task runs
    assert tasks.erasures_run() == 1
    # then no registered model of tenant A has a row reaching A1
    left = {label: n for label, n in _tenant_rows(tenant_a, a1.pk).items() if n}
    assert left == {}
    with tenant_context(tenant_a):
        invoice = Invoice.objects.get(stripe_invoice_id="in_a1")
        assert invoice.athlete_id is None and invoice.pseudonymised
        assert (invoice.amount_paid, invoice.currency) == (1900, "eur")
        assert invoice.hosted_invoice_url == ""
        row.refresh_from_db()
        assert (row.status, row.athlete_id, row.requested_by) == ("done", None, None)
        event = AuditEvent.objects.get(action="erasure.done")
        assert event.subject_user_id is None and event.detail["request_id"] == row.pk
    # A2 in the same tenant and A1's data in tenant B are untouched
    assert _tenant_rows(tenant_a, a2.pk) == before_a2
    assert _tenant_rows(tenant_b, a1.pk) == before_b
    # the person's login stays: they are still a client of B
    assert get_user_model().objects.filter(pk=a1.pk).exists()
    # the Stripe customer went through the gateway
    assert stripe.deleted == [("cus_a1", None)]


def test_without_billing_configured_the_stripe_step_is_skipped_with_a_note(
    tenant_a, client_a, settings
):
    settings.STRIPE_SECRET_KEY = ""
    personal_rows(tenant_a, client_a, "a1")
    with tenant_context(tenant_a):
        row = services.erasure_request(athlete=_athlete(tenant_a, client_a), requested_by=None)
        row = services.erasure_run(request=row)
    assert row.status == "done"
    assert any("not configured" in text for text in row.notes)


def test_a_failing_eraser_rolls_everything_back_and_keeps_the_request(
    tenant_a, client_a, stripe, monkeypatch
):
    personal_rows(tenant_a, client_a, "a1")
    before = _tenant_rows(tenant_a, client_a.pk)

    def boom(athlete):
        raise RuntimeError("disk on fire")

    label = "nutrition.NutritionProfile"
    broken = registry.Eraser(model=registry.ERASERS[label].model, erase=boom, order=150)
    monkeypatch.setitem(registry.ERASERS, label, broken)
    with tenant_context(tenant_a):
        row = services.erasure_request(
            athlete=_athlete(tenant_a, client_a), requested_by=client_a.pk
        )
        with pytest.raises(RuntimeError):
            services.erasure_run(request=row)
        row.refresh_from_db()
    assert (row.status, row.error) == ("scheduled", "RuntimeError")
    after = _tenant_rows(tenant_a, client_a.pk)
    # the request itself and its audit entry aside, nothing changed
    assert after == before | {"privacy.DataRequest": before["privacy.DataRequest"] + 1}


def test_account_erase_removes_the_person_everywhere(tenant_a, tenant_b, people, stripe):
    a1, a2 = people
    before_a2 = _tenant_rows(tenant_a, a2.pk)
    erased = services.account_erase(a1)
    assert set(erased) == {tenant_a.pk, tenant_b.pk}
    for tenant in (tenant_a, tenant_b):
        assert {k: n for k, n in _tenant_rows(tenant, a1.pk).items() if n} == {}
    assert not get_user_model().objects.filter(pk=a1.pk).exists()
    assert not EmailAddress.objects.filter(user_id=a1.pk).exists()
    account_level = [
        m for m in registered_models() if registry.ERASERS[m._meta.label].account_level
    ]
    assert [m._meta.label for m in account_level if rows_of(m, a1.pk)] == []
    assert _tenant_rows(tenant_a, a2.pk) == before_a2
    assert sorted(stripe.deleted) == [("cus_a1", None), ("cus_a1-in-b", None)]


# --- the gateway call, against localstripe ---------------------------------------------


def test_erasure_deletes_the_stripe_customer_through_the_gateway(
    tenant_a,
    client_a,
    gateway,  # noqa: F811 - the fixture imported above
):
    # given a client whose Stripe customer exists (on the platform account: no Connect)
    from billing.models import Customer

    customer_id = gateway.customer_create(
        email="client@alpha.test", name="Client", metadata={}, account=None,
        idempotency_key=f"privacy-test-{client_a.pk}-{timezone.now().timestamp()}",
    )  # fmt: skip
    athlete = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        Customer.objects.create(athlete=athlete, stripe_customer_id=customer_id)
        row = services.erasure_request(athlete=athlete, requested_by=None)
        # when the erasure runs with billing configured (the fixture set the settings)
        services.erasure_run(request=row)
        assert not Customer.objects.exists()
    # then Stripe no longer knows the customer: a second delete is a no-op
    assert gateway.customer_delete(customer_id, account=None) is False
