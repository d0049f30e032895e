"""Tenant offboarding (issue 8, Tenant lifecycle): the full export holds every client's
data of the tenant and nothing of another; deletion waits out the retention period, then
leaves no row of the tenant in any model with a tenant FK but pseudonymised invoices and
the audit log; a person who is a client elsewhere keeps their login and that data."""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from athletes import privacy as registry
from athletes.models import AthleteProfile
from billing.models import BillingAccount, Invoice, TenantPlan, WebhookEvent
from coaching.models import AuditEvent, Membership, Tenant
from coaching.selectors import tenant_today
from coaching.tenancy import is_tenant_scoped, tenant_context
from privacy import offboarding, tasks
from privacy.models import DataRequest
from tests import factories
from tests.test_privacy_erasure import stripe  # noqa: F401 - the recording Stripe fixture
from tests.test_privacy_export import (
    _comparable,
    join,
    personal_rows,
    private_root,  # noqa: F401 - fixture
    registered_models,
    rows_of,
)
from tests.test_worker import worker  # noqa: F401 - the real Celery worker fixture


def _platform_rows(tenant: Tenant, tag: str) -> None:
    """The tenant's platform-side rows (not TenantScoped, but with a tenant FK)."""
    BillingAccount.objects.create(tenant=tenant, stripe_account_id=f"acct_{tag}")
    TenantPlan.objects.create(tenant=tenant, price_id=f"price_plan_{tag}")
    WebhookEvent.objects.create(
        tenant=tenant, event_id=f"evt_{tag}", type="invoice.paid",
        stripe_created=timezone.now(), payload={"id": f"evt_{tag}"},
    )  # fmt: skip


@pytest.fixture
def world(tenant_a, tenant_b, client_a, client_b, owner_a):
    """Tenant A: A1 (client_a, also a client of B), A2, and its owner. Tenant B: B1 and
    A1's second profile. A row in every personal model for each client."""
    a2 = factories.member(tenant_a, "client", email="second@alpha.test")
    join(tenant_b, client_a)
    personal_rows(tenant_a, client_a, "a1")
    personal_rows(tenant_a, a2, "a2")
    personal_rows(tenant_b, client_a, "a1-in-b")
    personal_rows(tenant_b, client_b, "b1")
    _platform_rows(tenant_a, "a")
    _platform_rows(tenant_b, "b")
    return {"a1": client_a, "a2": a2, "owner": owner_a, "b1": client_b}


def _offboard(tenant, monkeypatch) -> DataRequest:
    """Offboard; the tests build the export themselves (the task runs on commit)."""
    monkeypatch.setattr(tasks.tenant_export_build, "delay", lambda *args: None)
    return offboarding.tenant_offboard(tenant=tenant, by_user_id=None, reason="Contract ended")


def _counts(tenant: Tenant) -> dict[str, int]:
    """Rows of `tenant` in every model with a tenant FK (a scan, not a list)."""
    counts = {}
    for model in offboarding.models_with_tenant_rows():
        if is_tenant_scoped(model):
            with tenant_context(tenant):
                n = model._base_manager.filter(tenant_id=tenant.pk).count()
        else:
            n = offboarding._rows_of_tenant(model, tenant).count()
        counts[model._meta.label] = n
    return counts


def _tenant_scoped_ids(tenant: Tenant) -> dict[str, set]:
    ids = {}
    with tenant_context(tenant):
        for model in registered_models():
            if is_tenant_scoped(model):
                ids[model._meta.label] = set(
                    model._base_manager.filter(tenant_id=tenant.pk).values_list("pk", flat=True)
                )
    return ids


# --- offboarding and the export -----------------------------------------------------


def test_offboarding_closes_the_tenant_and_queues_its_export(
    tenant_a, owner_a, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.tenant_export_build, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        row = offboarding.tenant_offboard(
            tenant=tenant_a, by_user_id=owner_a.pk, reason="Contract ended"
        )
    assert queued == [(tenant_a.pk, row.pk)]
    tenant_a.refresh_from_db()
    assert tenant_a.status == "offboarded" and tenant_a.status_reason == "Contract ended"
    today = tenant_today(tenant_a)
    assert tenant_a.delete_after == today + datetime.timedelta(days=30)
    assert (row.kind, row.status, row.athlete_id, row.requested_by) == (
        "tenant", "pending", None, owner_a.pk,
    )  # fmt: skip
    event = AuditEvent.objects.get(action="tenant.offboard")
    assert event.tenant_id == tenant_a.pk and event.detail["request_id"] == row.pk
    with pytest.raises(offboarding.OffboardingError) as refused:
        offboarding.tenant_offboard(tenant=tenant_a, by_user_id=None, reason="again")
    assert refused.value.code == "already_offboarded"
    with pytest.raises(offboarding.OffboardingError) as refused:
        offboarding.tenant_offboard(tenant=factories.TenantFactory(), by_user_id=None, reason=" ")
    assert refused.value.code == "reason_required"


def test_offboarded_tenant_is_404_for_its_members(client, tenant_a, client_a, monkeypatch):
    _offboard(tenant_a, monkeypatch)
    client.force_login(client_a)
    assert client.get("/t/alpha/privacy/").status_code == 404


def test_tenant_export_holds_every_clients_data_and_nothing_of_another_tenant(
    private_root,  # noqa: F811
    tenant_a,
    tenant_b,
    world,
    monkeypatch,
):
    row = _offboard(tenant_a, monkeypatch)
    assert tasks.tenant_export_build(tenant_a.pk, row.pk) == "ready"
    with tenant_context(tenant_a):
        row.refresh_from_db()
        athletes = dict(AthleteProfile.objects.values_list("pk", "user_id"))
    archive = zipfile.ZipFile(private_root.PRIVATE_MEDIA_ROOT / row.file)
    names = set(archive.namelist())
    assert "README.txt" in names
    b_ids = _tenant_scoped_ids(tenant_b)
    assert sorted({n.split("/")[1] for n in names if n.startswith("clients/")}) == sorted(
        str(pk) for pk in athletes
    )
    for athlete_id, user_id in athletes.items():
        prefix = f"clients/{athlete_id}/"
        assert f"{prefix}README.txt" in names
        for label, exporter in registry.EXPORTERS.items():
            rows = json.loads(archive.read(f"{prefix}{exporter.name}.json"))
            pk = exporter.model._meta.pk.attname
            ids = {r[pk] if pk in r else f"row{i}" for i, r in enumerate(rows)}
            with tenant_context(tenant_a):
                expected = _comparable(label, rows_of(exporter.model, user_id))
            # exactly the client's rows, as their own export has them
            assert ids == expected, (athlete_id, label)
            # and no row of tenant B (login rows are the person's, not a tenant's)
            assert not ids & b_ids.get(label, set()), (athlete_id, label)
    # the tenant's own records: its memberships, methodologies, tiers, policies, invoices
    members = json.loads(archive.read("tenant/memberships.json"))
    with tenant_context(tenant_a):
        assert {m["id"] for m in members} == set(Membership.objects.values_list("pk", flat=True))
        assert {m["role"] for m in members} == {"owner", "client"}
        invoices = {i["id"] for i in json.loads(archive.read("tenant/invoices.json"))}
        assert invoices == set(Invoice.objects.values_list("pk", flat=True)) and invoices
    for stem in ("methodologies", "methodology_versions", "tiers", "consent_policies"):
        rows = json.loads(archive.read(f"tenant/{stem}.json"))
        assert rows and all(r["tenant_id"] == tenant_a.pk for r in rows), stem
    assert not invoices & b_ids["billing.Invoice"]
    readme = archive.read("README.txt").decode()
    assert "Clients: 2" in readme and "tenant/memberships.json" in readme
    # a second run leaves the finished export alone
    with tenant_context(tenant_a):
        assert offboarding.tenant_export_build(request=row).file == row.file


def test_only_platform_staff_with_two_factor_download_the_tenant_export(
    client,
    private_root,  # noqa: F811
    tenant_a,
    tenant_b,
    client_a,
    client_b,
    monkeypatch,
):
    row = _offboard(tenant_a, monkeypatch)
    tasks.tenant_export_build(tenant_a.pk, row.pk)
    with tenant_context(tenant_a):
        row.refresh_from_db()
    url = offboarding.tenant_export_url(row)
    assert url.startswith("/privacy/tenant-export/")
    # a client of the tenant, or of another: 404
    client.force_login(client_a)
    assert client.get(url).status_code == 404
    # staff without two-factor: 404
    staff = factories.user("staff@platform.test")
    get_user_model().objects.filter(pk=staff.pk).update(is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 404
    # staff with two-factor: the ZIP, audited
    mfa_staff = factories.user("staff2@platform.test", mfa=True)
    get_user_model().objects.filter(pk=mfa_staff.pk).update(is_staff=True)
    client.force_login(mfa_staff)
    response = client.get(url)
    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).testzip() is None
    assert AuditEvent.objects.filter(action="tenant.export.download", actor_user_id=mfa_staff.pk)
    # inside another tenant's URL, or with a forged token: 404
    assert client.get(f"/t/bravo{url}").status_code == 404
    assert client.get(url[:-3] + "xx/").status_code == 404
    # the athlete-export link does not open the tenant export (other salt)
    assert client.get(url.replace("tenant-export", "download")).status_code == 404


# --- deletion ------------------------------------------------------------------------


def test_deletion_waits_for_the_retention_period(tenant_a, tenant_b, client_a, monkeypatch):
    with pytest.raises(offboarding.OffboardingError) as refused:
        offboarding.tenant_delete(tenant=tenant_b)
    assert refused.value.code == "not_offboarded"
    _offboard(tenant_a, monkeypatch)
    tenant_a.refresh_from_db()
    for day in (timezone.localdate(), tenant_a.delete_after):
        with pytest.raises(offboarding.OffboardingError) as refused:
            offboarding.tenant_delete(tenant=tenant_a, today=day)
        assert refused.value.code == "too_early"
    assert offboarding.tenants_delete_due(today=tenant_a.delete_after) == 0
    with tenant_context(tenant_a):
        assert AthleteProfile.objects.count() == 1  # nothing was touched
    tenant_a.refresh_from_db()
    assert tenant_a.deleted_at is None


def test_deletion_leaves_no_row_of_the_tenant_but_pseudonymised_invoices_and_audit(
    private_root,  # noqa: F811
    tenant_a,
    tenant_b,
    world,
    stripe,  # noqa: F811
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    row = _offboard(tenant_a, monkeypatch)
    tasks.tenant_export_build(tenant_a.pk, row.pk)
    with tenant_context(tenant_a):
        row.refresh_from_db()
    zip_path = private_root.PRIVATE_MEDIA_ROOT / row.file
    assert zip_path.is_file()
    before_a = _counts(tenant_a)
    before_b = _counts(tenant_b)
    # the scan below is not vacuous: the tenant has rows in the personal models, the
    # tenant's own tables and its platform rows
    empty = {label for label, n in before_a.items() if not n}
    assert not empty & {m._meta.label for m in registered_models()} - {
        "coaching.Invitation", "coaching.NightlyStep",  # not made by personal_rows
    }  # fmt: skip
    assert before_a["billing.BillingAccount"] and before_a["billing.WebhookEvent"]
    tenant_a.refresh_from_db()
    # when the daily task runs after the retention period
    after_day = tenant_a.delete_after + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert offboarding.tenants_delete_due(today=after_day) == 1
    # then a scan of every model with a tenant FK finds nothing of A ...
    left = {label: n for label, n in _counts(tenant_a).items() if n}
    assert set(left) <= {"billing.Invoice", "coaching.AuditEvent"}, left
    # ... but its invoices, pseudonymised, and the audit log
    with tenant_context(tenant_a):
        invoices = list(Invoice.objects.all())
    assert len(invoices) == 2
    assert all(i.athlete_id is None and i.pseudonymised and not i.hosted_invoice_url
               for i in invoices)  # fmt: skip
    deleted = AuditEvent.objects.get(action="tenant.delete", tenant_id=tenant_a.pk)
    assert deleted.detail["clients"] == 2 and deleted.subject_user_id is None
    assert "@" not in json.dumps(deleted.detail)
    tenant_a.refresh_from_db()
    assert tenant_a.deleted_at is not None and tenant_a.status == "offboarded"
    # Stripe customers went through the gateway, as for any erasure
    assert sorted(stripe.deleted) == [("cus_a1", "acct_a"), ("cus_a2", "acct_a")]
    # the export ZIP is gone with the data
    assert not zip_path.exists()
    # tenant B is untouched
    assert _counts(tenant_b) == before_b
    # logins: A2 and A's owner belonged only to A; A1 is still a client of B
    users = get_user_model().objects
    assert not users.filter(pk__in=[world["a2"].pk, world["owner"].pk]).exists()
    assert not EmailAddress.objects.filter(user_id=world["a2"].pk).exists()
    assert users.filter(pk=world["a1"].pk).exists()
    with tenant_context(tenant_b):
        assert AthleteProfile.objects.filter(user=world["a1"]).exists()
        assert Membership.objects.filter(user=world["a1"]).exists()


def test_rerunning_deletion_is_a_no_op(tenant_a, tenant_b, world, stripe, monkeypatch):  # noqa: F811
    _offboard(tenant_a, monkeypatch)
    tenant_a.refresh_from_db()
    after_day = tenant_a.delete_after + datetime.timedelta(days=1)
    assert offboarding.tenant_delete(tenant=tenant_a, today=after_day)
    events = AuditEvent.objects.count()
    counts = (_counts(tenant_a), _counts(tenant_b))
    assert offboarding.tenant_delete(tenant=tenant_a, today=after_day) == {}
    assert offboarding.tenants_delete_due(today=after_day) == 0
    assert AuditEvent.objects.count() == events
    assert (_counts(tenant_a), _counts(tenant_b)) == counts


def test_a_crash_midway_is_finished_by_the_next_run(tenant_a, world, stripe, monkeypatch):  # noqa: F811
    _offboard(tenant_a, monkeypatch)
    tenant_a.refresh_from_db()
    after_day = tenant_a.delete_after + datetime.timedelta(days=1)
    label = "nutrition.NutritionProfile"
    real = registry.ERASERS[label]
    second = world["a2"].pk

    def boom(athlete):
        if athlete.user_id == second:
            raise RuntimeError("disk on fire")
        return real.erase(athlete)

    monkeypatch.setitem(registry.ERASERS, label, registry.Eraser(real.model, boom, real.order))
    # the daily task logs the failure and keeps the tenant for the next run
    assert offboarding.tenants_delete_due(today=after_day) == 0
    tenant_a.refresh_from_db()
    assert tenant_a.deleted_at is None
    with tenant_context(tenant_a):
        assert list(AthleteProfile.objects.values_list("user_id", flat=True)) == [second]
    monkeypatch.setitem(registry.ERASERS, label, real)
    assert offboarding.tenants_delete_due(today=after_day) == 1
    left = {label: n for label, n in _counts(tenant_a).items() if n}
    assert set(left) <= {"billing.Invoice", "coaching.AuditEvent"}, left


# --- the command and the API ---------------------------------------------------------


def test_command_offboards_and_prints_the_staff_link(
    private_root,  # noqa: F811
    tenant_a,
    client_a,
    monkeypatch,
):
    from django.core.management import CommandError, call_command

    monkeypatch.setattr(tasks.tenant_export_build, "delay", lambda *args: None)
    with pytest.raises(CommandError, match="--reason"):
        call_command("offboard_tenant", "alpha")
    with pytest.raises(CommandError, match="Unknown tenant"):
        call_command("offboard_tenant", "nope", reason="x")
    out = io.StringIO()
    call_command("offboard_tenant", "alpha", reason="Contract ended", stdout=out)
    assert "offboarded" in out.getvalue()
    with pytest.raises(CommandError, match="not ready"):
        call_command("offboard_tenant", "alpha", link=True)
    with pytest.raises(CommandError, match="already offboarded"):
        call_command("offboard_tenant", "alpha", reason="again")
    row = offboarding.tenant_export_of(tenant_a)
    tasks.tenant_export_build(tenant_a.pk, row.pk)
    out = io.StringIO()
    call_command("offboard_tenant", "alpha", link=True, stdout=out)
    assert out.getvalue().startswith("/privacy/tenant-export/")


def test_a_person_cannot_ask_for_a_tenant_export_over_the_api(tenant_a, client_a):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(client_a)
    response = api.post("/t/alpha/api/v1/data-requests/", {"kind": "tenant"}, format="json")
    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert not DataRequest.objects.exists()


# --- a real worker -------------------------------------------------------------------


@pytest.mark.worker
def test_a_worker_builds_the_export_then_deletes_the_tenant_once_due(
    shared_private_root,
    worker,  # noqa: F811
    tenant_a,
    tenant_b,
    client_a,
    client_b,
    monkeypatch,
):
    monkeypatch.setattr(tasks.tenant_export_build, "delay", lambda *args: None)
    row = offboarding.tenant_offboard(tenant=tenant_a, by_user_id=None, reason="Closed")
    built = worker.result_of(
        tasks.tenant_export_build.apply_async(args=[tenant_a.pk, row.pk], queue=worker.queue)
    )
    assert built == "ready"
    with tenant_context(tenant_a):
        row.refresh_from_db()
    archive = zipfile.ZipFile(shared_private_root / row.file)
    with tenant_context(tenant_a):
        athlete_id = AthleteProfile.objects.get(user=client_a).pk
    assert f"clients/{athlete_id}/README.txt" in archive.namelist()
    # not due yet: the task deletes nothing
    assert worker.result_of(tasks.tenants_delete_due.apply_async(queue=worker.queue)) == 0
    # past the retention period: deleted, once
    Tenant.objects.filter(pk=tenant_a.pk).update(
        delete_after=tenant_today(tenant_a) - datetime.timedelta(days=2)
    )
    before_b = _counts(tenant_b)
    assert worker.result_of(tasks.tenants_delete_due.apply_async(queue=worker.queue)) == 1
    assert worker.result_of(tasks.tenants_delete_due.apply_async(queue=worker.queue)) == 0
    left = {label: n for label, n in _counts(tenant_a).items() if n}
    assert set(left) <= {"billing.Invoice", "coaching.AuditEvent"}, left
    assert _counts(tenant_b) == before_b
    assert not (shared_private_root / row.file).exists()
    assert not get_user_model().objects.filter(pk=client_a.pk).exists()
