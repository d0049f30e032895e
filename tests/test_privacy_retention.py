"""Retention (DESIGN.md, Privacy): inactive clients past the tenant's policy are listed by
a dry run and erased, through the registered erasers, by an applied run; active, paying
and recently-ended clients stay; a disabled policy erases nobody."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command, execute_from_command_line
from django.utils import timezone

from athletes.models import AthleteProfile, Enrolment
from billing.models import Subscription
from coaching import selectors as coaching_selectors
from coaching.models import AuditEvent
from coaching.tenancy import tenant_context
from privacy import services, tasks
from privacy.models import DataRequest, RetentionPolicy
from tests import factories
from tests.billing.stripe_server import API_KEY, RecordingServer


@pytest.fixture(autouse=True)
def stripe(settings):
    """Billing configured against a recording Stripe (a real HTTP server)."""
    with RecordingServer() as fake:
        settings.STRIPE_SECRET_KEY = API_KEY
        settings.STRIPE_API_BASE = fake.url
        yield fake


def _days(n: int, today: datetime.date) -> datetime.date:
    return today - datetime.timedelta(days=n)


@pytest.fixture
def clinic(tenant_a, tenant_b, client_b):
    """Tenant A's clients, by how long ago they were last active (policy: 24 months)."""
    today = coaching_selectors.tenant_today(tenant_a)
    version, tier = factories.methodology_on_sale(tenant_a)
    names = ["old", "ghost", "recent", "active", "paying", "late-cancel", "new"]
    people = {n: factories.member(tenant_a, "client", email=f"{n}@alpha.test") for n in names}
    with tenant_context(tenant_a):
        p = {n: AthleteProfile.objects.get(user=u) for n, u in people.items()}
        long_ago = timezone.now() - datetime.timedelta(days=1200)
        AthleteProfile.objects.exclude(pk=p["new"].pk).update(created=long_ago)

        def enrol(name: str, ended: int | None) -> None:
            Enrolment.objects.create(
                athlete=p[name],
                tier=tier,
                methodology_version=version,
                started=_days(1000, today),
                ended=None if ended is None else _days(ended, today),
            )

        enrol("old", 800)  # > 24 months ago: erased
        enrol("recent", 200)  # ended, but within the policy: kept
        enrol("active", None)  # still enrolled: kept
        enrol("paying", 800)
        enrol("late-cancel", 800)

        def subscribe(name: str, status: str, canceled_days: int | None = None) -> None:
            canceled = None
            if canceled_days is not None:
                canceled = timezone.now() - datetime.timedelta(days=canceled_days)
            Subscription.objects.create(
                athlete=p[name],
                stripe_subscription_id=f"sub_{name}",
                stripe_customer_id=f"cus_{name}",
                price_id="price_x",
                status=status,
                canceled_at=canceled,
            )

        subscribe("paying", "active")  # programme over long ago, still paying: kept
        subscribe("late-cancel", "canceled", canceled_days=100)  # stopped recently: kept
        subscribe("old", "canceled", canceled_days=750)  # after the enrolment ended
    # Tenant B's long-inactive client is tenant B's business.
    with tenant_context(tenant_b):
        AthleteProfile.objects.update(created=timezone.now() - datetime.timedelta(days=1200))
    return today, {n: x.pk for n, x in p.items()}


def _profiles(tenant) -> set[int]:
    with tenant_context(tenant):
        return set(AthleteProfile.objects.values_list("pk", flat=True))


def test_dry_run_lists_the_inactive_clients_and_erases_nothing(tenant_a, clinic):
    today, ids = clinic
    before = _profiles(tenant_a)
    with tenant_context(tenant_a):
        report = services.retention_apply(today)
        assert report.dry_run and report.enabled and report.inactive_months == 24
        assert DataRequest.objects.count() == 0
    by_id = {c.athlete_id: c for c in report.candidates}
    assert set(by_id) == {ids["old"], ids["ghost"]}
    assert by_id[ids["old"]].reason == "subscription_ended"  # the later of the two ends
    assert abs((by_id[ids["old"]].since - _days(750, today)).days) <= 1
    assert by_id[ids["ghost"]].reason == "never_enrolled"
    assert report.erased == {}
    assert _profiles(tenant_a) == before


def test_enrolment_end_is_the_reason_without_a_subscription(tenant_a, clinic):
    today, ids = clinic
    with tenant_context(tenant_a):
        Subscription.objects.filter(athlete_id=ids["old"]).delete()
        found = {c.athlete_id: c for c in services.retention_candidates(today)}
    assert found[ids["old"]].reason == "enrolment_ended"
    assert found[ids["old"]].since == _days(800, today)


def test_apply_erases_exactly_the_candidates(tenant_a, tenant_b, clinic, stripe):
    today, ids = clinic
    b_before = _profiles(tenant_b)
    with tenant_context(tenant_a):
        report = services.retention_apply(today, dry_run=False)
    assert set(report.erased) == {ids["old"], ids["ghost"]} and report.failed == []
    kept = {ids[n] for n in ("recent", "active", "paying", "late-cancel", "new")}
    assert _profiles(tenant_a) == kept
    assert _profiles(tenant_b) == b_before
    with tenant_context(tenant_a):
        rows = list(DataRequest.objects.filter(pk__in=report.erased.values()))
        assert len(rows) == 2
        for row in rows:
            assert row.kind == "erasure" and row.status == "done" and row.athlete is None
            assert row.notes[0].startswith("reason: retention")
        assert AuditEvent.objects.filter(action="erasure.retention").count() == 2
        assert not Subscription.objects.filter(athlete_id=ids["old"]).exists()
        # A second run finds nobody: safe to run twice.
        assert services.retention_candidates(today) == []


def test_disabled_policy_has_no_candidates(tenant_a, clinic):
    today, _ = clinic
    with tenant_context(tenant_a):
        RetentionPolicy.objects.create(enabled=False)
        assert services.retention_candidates(today) == []
        assert services.retention_apply(today, dry_run=False).erased == {}


def test_longer_policy_keeps_more(tenant_a, clinic):
    today, ids = clinic
    with tenant_context(tenant_a):
        RetentionPolicy.objects.create(inactive_months=36)
        found = {c.athlete_id for c in services.retention_candidates(today)}
    assert found == {ids["ghost"]}  # created 1200 days ago; "old" stopped 750 days ago


def test_months_before_clamps_to_the_month_end():
    assert services.months_before(datetime.date(2025, 3, 31), 1) == datetime.date(2025, 2, 28)
    assert services.months_before(datetime.date(2025, 1, 15), 24) == datetime.date(2023, 1, 15)


def test_task_applies_in_every_tenant(tenant_a, clinic):
    _, ids = clinic
    result = tasks.retention_run()
    assert result["alpha"] == 2 and result["bravo"] == 1
    assert ids["old"] not in _profiles(tenant_a)


def test_command_dry_run_prints_the_report(tenant_a, clinic):
    _, ids = clinic
    out = io.StringIO()
    call_command("apply_retention", "--tenant", "alpha", stdout=out)
    text = out.getvalue()
    assert "Tenant alpha: erase after 24 months inactive (enabled)" in text
    assert f"athlete {ids['ghost']}: never enrolled, profile created" in text
    assert f"athlete {ids['old']}: subscription ended" in text
    assert "would erase" in text and "Would erase 2 client(s)." in text
    assert "bravo" not in text
    assert ids["old"] in _profiles(tenant_a)


def test_command_apply_erases(tenant_a, clinic):
    _, ids = clinic
    out = io.StringIO()
    call_command("apply_retention", "--tenant", "alpha", "--apply", stdout=out)
    assert "Erased 2 client(s)." in out.getvalue()
    assert "erased (request " in out.getvalue()
    assert ids["old"] not in _profiles(tenant_a)


def test_command_unknown_tenant_exits_non_zero(tenant_a, capsys):
    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["manage.py", "apply_retention", "--tenant", "nope"])
    assert exit_.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["CommandError: Unknown tenant: nope"]
