"""The privacy e-mails (issue 8): export ready (with the signed link and its expiry),
erasure scheduled, reminded two days before (once), cancelled. No health data in them,
no address in the logs."""

from __future__ import annotations

import datetime
import logging
import zoneinfo

import pytest
from django.urls import set_script_prefix
from django.utils import timezone

from athletes.models import AthleteProfile
from coaching.tenancy import tenant_context
from privacy import notify, services, tasks
from privacy.models import DataRequest
from tests import factories
from tests.test_privacy_export import private_root  # noqa: F401 - fixture

HEALTH_WORDS = ("hrv", "sleep", "weight", "55.0", "injur", "allerg")


def _athlete(tenant, account) -> AthleteProfile:
    with tenant_context(tenant):
        return AthleteProfile.objects.get(user=account)


def _no_health_data(body: str) -> None:
    lowered = body.lower()
    assert not [w for w in HEALTH_WORDS if w in lowered]


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO, logger="privacy")
    return caplog


def _no_address_logged(logs) -> None:
    assert not [r for r in logs.records if "@" in r.getMessage()]


def test_links_are_absolute_and_inside_the_tenant(tenant_a, settings):
    assert notify.tenant_url(tenant_a, "privacy") == "http://127.0.0.1:8000/t/alpha/privacy/"
    # built during a request of the tenant (script prefix set): no doubled prefix
    set_script_prefix("/t/alpha/")
    try:
        assert notify.tenant_url(tenant_a, "privacy") == "http://127.0.0.1:8000/t/alpha/privacy/"
    finally:
        set_script_prefix("/")
    settings.TENANT_PATH_PREFIX_ENABLED = False
    settings.TENANT_BASE_DOMAIN = "coach.example"
    assert notify.tenant_url(tenant_a, "privacy") == "https://alpha.coach.example/privacy/"


def test_export_ready_mail_has_the_signed_link_and_its_expiry(
    client,
    private_root,  # noqa: F811
    tenant_a,
    client_a,
    mailoutbox,
    logs,
    django_capture_on_commit_callbacks,
):
    factories.checkin(tenant_a, client_a, datetime.date(2026, 11, 2), hrv_rmssd_ms=55)
    with tenant_context(tenant_a):
        row = DataRequest.objects.create(
            athlete=_athlete(tenant_a, client_a), kind="export", status="pending"
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.export_build(tenant_a.pk, row.pk) == "ready"
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["client@alpha.test"]
    assert "Alpha Strength" in mail.subject and "ready" in mail.subject
    with tenant_context(tenant_a):
        row.refresh_from_db()
        token = services.download_token(row)
    link = f"http://127.0.0.1:8000/t/alpha/privacy/download/{token}/"
    assert link in mail.body
    expires = timezone.localtime(row.finished_at + services.LINK_MAX_AGE).astimezone(
        zoneinfo.ZoneInfo("Europe/Amsterdam")
    )
    assert f"{expires:%d %b %Y, %H:%M}" in mail.body
    _no_health_data(mail.body)
    _no_address_logged(logs)
    # and the link works for the person
    client.force_login(client_a)
    response = client.get(link.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200


def test_requesting_an_erasure_mails_the_date_and_how_to_cancel(
    client, tenant_a, client_a, mailoutbox, logs, django_capture_on_commit_callbacks
):
    client.force_login(client_a)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/t/alpha/privacy/erasure/").status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    with tenant_context(tenant_a):
        row = DataRequest.objects.get(kind="erasure")
    due = row.due_at.astimezone(zoneinfo.ZoneInfo("Europe/Amsterdam"))
    assert mail.to == ["client@alpha.test"]
    assert f"{due:%d %b %Y, %H:%M}" in mail.body
    assert "http://127.0.0.1:8000/t/alpha/privacy/" in mail.body and "Cancel" in mail.body
    _no_health_data(mail.body)
    # asking again returns the scheduled request and sends nothing new
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/t/alpha/privacy/erasure/")
    assert len(mailoutbox) == 1
    # cancelling mails a confirmation
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/t/alpha/privacy/erasure/{row.pk}/cancel/")
    assert len(mailoutbox) == 2
    assert "cancelled" in mailoutbox[1].subject and "stays" in mailoutbox[1].body
    _no_address_logged(logs)


def test_a_rolled_back_request_sends_nothing(
    tenant_a, client_a, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        with tenant_context(tenant_a), pytest.raises(RuntimeError):
            with transaction.atomic():
                services.erasure_request(athlete=_athlete(tenant_a, client_a), requested_by=None)
                raise RuntimeError("rolled back")
    assert mailoutbox == []


def test_reminder_goes_two_days_before_once(
    tenant_a, tenant_b, client_a, client_b, mailoutbox, logs
):
    with tenant_context(tenant_a):
        row = services.erasure_request(athlete=_athlete(tenant_a, client_a), requested_by=None)
    with tenant_context(tenant_b):
        other = services.erasure_request(athlete=_athlete(tenant_b, client_b), requested_by=None)
        services.erasure_cancel(request=other, by=None)
    mailoutbox.clear()  # (on_commit mails don't run inside the test transaction anyway)
    # three days before: nothing yet
    assert services.erasure_reminders_send(now=row.due_at - datetime.timedelta(days=3)) == 0
    # two days before: one reminder, for the scheduled request only
    assert tasks.erasure_reminders() == 0  # now: 14 days before
    at = row.due_at - datetime.timedelta(days=2)
    assert services.erasure_reminders_send(now=at) == 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["client@alpha.test"] and "two days" in mail.subject
    assert "http://127.0.0.1:8000/t/alpha/privacy/" in mail.body
    _no_health_data(mail.body)
    with tenant_context(tenant_a):
        row.refresh_from_db()
    assert row.reminded_at == at
    # sent once: later runs send nothing more
    assert services.erasure_reminders_send(now=at + datetime.timedelta(hours=1)) == 0
    assert len(mailoutbox) == 1
    _no_address_logged(logs)


def test_a_failed_reminder_is_retried_next_run(tenant_a, client_a, mailoutbox, monkeypatch):
    with tenant_context(tenant_a):
        row = services.erasure_request(athlete=_athlete(tenant_a, client_a), requested_by=None)
    at = row.due_at - datetime.timedelta(days=1)

    def down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("privacy.notify.send_mail", down)
    assert services.erasure_reminders_send(now=at) == 0
    with tenant_context(tenant_a):
        row.refresh_from_db()
    assert row.reminded_at is None
    monkeypatch.undo()
    assert services.erasure_reminders_send(now=at) == 1
    assert len(mailoutbox) == 1


def test_immediate_erasures_send_no_grace_period_mail(
    tenant_a, client_a, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.STRIPE_SECRET_KEY = ""  # billing off: the Stripe step only notes it
    with django_capture_on_commit_callbacks(execute=True):
        with tenant_context(tenant_a):
            row = services.erase_now(athlete=_athlete(tenant_a, client_a), requested_by=None)
    assert row.status == "done"
    assert mailoutbox == []
