"""Stored Stripe events quote customers' names and e-mails: their payloads are blanked
after STRIPE_EVENT_PAYLOAD_DAYS, and at once when the customer is erased."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from athletes.models import AthleteProfile
from billing import services, tasks
from billing.models import Customer, WebhookEvent
from coaching.tenancy import tenant_context
from privacy import services as privacy_services


def _event(event_id: str, *, customer: str, status: str, age_days: int) -> WebhookEvent:
    event = WebhookEvent.objects.create(
        event_id=event_id,
        type="invoice.paid",
        object_id=f"in_{event_id}",
        stripe_created=timezone.now(),
        payload={
            "id": event_id,
            "data": {"object": {"customer": customer, "customer_email": f"{customer}@x.test"}},
        },
        status=status,
    )
    WebhookEvent.objects.filter(pk=event.pk).update(
        received=timezone.now() - datetime.timedelta(days=age_days)
    )
    return event


@pytest.mark.django_db
def test_settled_events_lose_their_payload_after_the_retention_days(settings):
    settings.STRIPE_EVENT_PAYLOAD_DAYS = 30
    old = _event("evt_old", customer="cus_1", status="processed", age_days=31)
    ignored = _event("evt_ign", customer="cus_1", status="ignored", age_days=45)
    pending = _event("evt_pending", customer="cus_1", status="pending", age_days=60)
    recent = _event("evt_new", customer="cus_1", status="processed", age_days=2)
    assert tasks.prune_webhook_payloads() == 2
    payloads = {e.event_id: e.payload for e in WebhookEvent.objects.all()}
    assert payloads[old.event_id] == {} and payloads[ignored.event_id] == {}
    assert payloads[pending.event_id]["id"] == "evt_pending"  # still to be processed
    assert payloads[recent.event_id]["id"] == "evt_new"
    # the rows stay: a redelivery of the same event id is still recognised
    assert WebhookEvent.objects.filter(event_id="evt_old", status="processed").exists()
    assert services.webhook_payloads_prune() == 0  # idempotent


def test_erasing_a_client_blanks_the_events_that_name_their_customer(tenant_a, client_a):
    mine = _event("evt_mine", customer="cus_mine", status="processed", age_days=1)
    theirs = _event("evt_theirs", customer="cus_other", status="processed", age_days=1)
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        Customer.objects.create(athlete=athlete, stripe_customer_id="cus_mine")
        row = privacy_services.erasure_request(athlete=athlete, requested_by=None)
        privacy_services.erasure_run(request=row)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.payload == {}
    assert theirs.payload["data"]["object"]["customer"] == "cus_other"
