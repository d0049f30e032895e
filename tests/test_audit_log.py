"""The audit log (coaching/audit.py): one append-only row per staff access to a client's
data, with the tenant, no personal data, and retention as the only way rows leave."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from athletes.models import AthleteProfile
from coaching import audit
from coaching.models import AuditEvent, AuditLogIsAppendOnly, Membership
from coaching.tenancy import tenant_context
from tests import factories


def _events(action: str | None = None) -> list[AuditEvent]:
    return list(audit.audit_events(action=action))


def _profile(tenant, account) -> AthleteProfile:
    with tenant_context(tenant):
        return AthleteProfile.objects.get(user=account)


# --- record() and the selector ----------------------------------------------------------


def test_record_writes_a_row_with_the_current_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        audit.record(action="export.build", actor_user_id=7, subject_user_id=8, detail={"n": 1})
    with tenant_context(tenant_b):
        audit.record(action="client.view", actor_user_id=9, detail={"page": "plan"})
    audit.record(action="tenant.suspend", actor_user_id=1, detail={"tenant_id": tenant_a.pk})
    (row,) = audit.audit_events(tenant=tenant_a)
    assert (row.tenant_id, row.action, row.actor_user_id, row.subject_user_id, row.detail) == (
        tenant_a.pk,
        "export.build",
        7,
        8,
        {"n": 1},
    )
    assert [e.action for e in audit.audit_events(tenant=tenant_b.pk)] == ["client.view"]
    assert AuditEvent.objects.get(action="tenant.suspend").tenant_id is None  # platform
    assert len(audit.audit_events(action="client.")) == 1
    future = timezone.now() + datetime.timedelta(minutes=1)
    assert not audit.audit_events(since=future).exists()


@pytest.mark.parametrize(
    "detail",
    [
        {"email": "client@alpha.test"},
        {"note": "Knee hurts after long runs; she takes ibuprofen daily since early March."},
        {"nested": {"hrv": 55}},
        {"note": "two\nlines"},
    ],
)
def test_record_refuses_what_could_be_personal_data(tenant_a, detail):
    with tenant_context(tenant_a), pytest.raises(audit.AuditDetailRejected):
        audit.record(action="client.view", actor_user_id=1, detail=detail)
    assert not AuditEvent.objects.exists()


# --- append-only ------------------------------------------------------------------------


def test_events_cannot_be_updated_or_deleted(tenant_a):
    with tenant_context(tenant_a):
        audit.record(action="client.view", actor_user_id=1, detail={"page": "plan"})
    event = AuditEvent.objects.get()
    event.action = "client.edit"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.update(action="client.edit")
    assert AuditEvent.objects.get().action == "client.view"


def test_the_database_refuses_raw_updates_and_deletes(tenant_a):
    audit.record(action="client.view", actor_user_id=1, detail={})
    for sql in (
        "UPDATE coaching_auditevent SET action = 'x.y'",
        "DELETE FROM coaching_auditevent",
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert AuditEvent.objects.count() == 1


# --- retention --------------------------------------------------------------------------


def test_prune_deletes_only_events_past_retention(tenant_a):
    now = timezone.now()
    for days in (800, 731, 729, 1):
        AuditEvent.objects.create(
            at=now - datetime.timedelta(days=days), action="client.view", tenant=tenant_a
        )
    out = io.StringIO()
    call_command("audit_prune", "--dry-run", stdout=out)
    assert "Would delete 2" in out.getvalue()
    assert AuditEvent.objects.count() == 4
    call_command("audit_prune", stdout=(out := io.StringIO()))
    assert "Deleted 2" in out.getvalue()
    left = sorted((now - e.at).days for e in AuditEvent.objects.all())
    assert left == [1, 729]
    with override_settings(AUDIT_RETENTION_DAYS=30):
        call_command("audit_prune", stdout=io.StringIO())
    assert [(now - e.at).days for e in AuditEvent.objects.all()] == [1]


# --- staff views write one event; a client's own page none --------------------------------


def test_staff_opening_a_clients_plan_is_logged_once(client, tenant_a, coach_a, client_a):
    athlete = _profile(tenant_a, client_a)
    client.force_login(coach_a)
    assert client.get(f"/t/alpha/plan/{athlete.pk}/").status_code == 200
    (event,) = _events("client.view")
    assert (event.tenant_id, event.actor_user_id, event.subject_user_id) == (
        tenant_a.pk,
        coach_a.pk,
        client_a.pk,
    )
    assert event.detail == {"page": "plan", "athlete_id": athlete.pk}


def test_staff_opening_a_clients_nutrition_is_logged_once(client, tenant_a, owner_a, client_a):
    athlete = _profile(tenant_a, client_a)
    client.force_login(owner_a)
    assert client.get(f"/t/alpha/nutrition/athlete/{athlete.pk}/").status_code == 200
    (event,) = _events("client.view")
    assert (event.tenant_id, event.actor_user_id, event.subject_user_id) == (
        tenant_a.pk,
        owner_a.pk,
        client_a.pk,
    )
    assert event.detail == {"page": "nutrition", "athlete_id": athlete.pk}


def test_a_client_reading_their_own_pages_is_not_logged(client, tenant_a, client_a):
    client.force_login(client_a)
    assert client.get("/t/alpha/plan/").status_code == 200
    client.get("/t/alpha/nutrition/")
    assert _events() == []


def test_assigning_a_coach_is_logged(tenant_a, owner_a, coach_a, client_a):
    with tenant_context(tenant_a):
        client_m = Membership.objects.get(user=client_a)
        coach_m = Membership.objects.get(user=coach_a)
    api = APIClient()
    api.force_authenticate(owner_a)
    url = f"/t/alpha/api/v1/memberships/{client_m.pk}/coach/"
    assert api.post(url, {"coach": coach_m.pk}, format="json").status_code == 200
    (event,) = _events("membership.assign_coach")
    assert (event.tenant_id, event.actor_user_id, event.subject_user_id) == (
        tenant_a.pk,
        owner_a.pk,
        client_a.pk,
    )
    assert event.detail == {"membership_id": client_m.pk, "coach_id": coach_m.pk}


def test_the_admin_lists_events_read_only(client, tenant_a, client_a):
    staff = factories.user("root@platform.test", mfa=True)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    audit.record(action="client.view", actor_user_id=staff.pk, detail={"page": "plan"})
    client.force_login(staff)
    page = client.get("/admin/coaching/auditevent/", {"action": "client.view"})
    assert page.status_code == 200
    assert b"client.view" in page.content
    assert client.get("/admin/coaching/auditevent/add/").status_code == 403


def test_staff_opening_client_data_in_the_admin_is_logged_with_the_ip(client, tenant_a, client_a):
    from coaching.models import AuditEvent
    from coaching.tenancy import tenant_context

    staff = factories.user("root2@platform.test", mfa=True)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    assert client.post("/admin/tenant/", {"slug": "alpha"}).status_code == 302
    for path in ("/admin/athletes/checkin/", "/admin/athletes/consentevent/",
                 "/admin/privacy/datarequest/"):  # fmt: skip
        assert client.get(path, REMOTE_ADDR="203.0.113.7").status_code == 200
    with tenant_context(tenant_a):
        events = list(AuditEvent.objects.filter(action="admin.view").order_by("id"))
    assert [e.detail["model"] for e in events] == [
        "athletes.CheckIn", "athletes.ConsentEvent", "privacy.DataRequest",
    ]  # fmt: skip
    assert all(e.actor_user_id == staff.pk and e.ip == "203.0.113.7" for e in events)
    assert all(e.tenant_id == tenant_a.pk for e in events)
    assert client.get("/admin/athletes/consentevent/add/").status_code == 403
