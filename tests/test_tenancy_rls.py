"""Row-level security and the scoped manager against real PostgreSQL, as the app role."""

from __future__ import annotations

import datetime
from decimal import Decimal

import psycopg
import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.utils import timezone

from athletes.models import Assessment, AthleteProfile, CheckIn, Enrolment
from coaching.methodology import default_rules
from coaching.models import Alert, Membership, Methodology, MethodologyVersion, Tier
from coaching.rls import tenant_tables
from coaching.tenancy import TenantMismatch, TenantNotSet, tenant_context
from programs.models import (
    Adjustment,
    AssessmentLift,
    AutoregulationRun,
    Exercise,
    PlannedSession,
    PlannedSet,
    ProgramBlock,
    SessionLog,
    SetLog,
)
from tests import factories

DAY = datetime.date(2026, 11, 2)


def _populate(tenant, email: str) -> None:
    """One row in every tenant table for `tenant`."""
    account = factories.member(tenant, "client", email=email)
    with tenant_context(tenant):
        athlete = AthleteProfile.objects.get(user=account)
        CheckIn.objects.create(athlete=athlete, date=DAY, hrv_rmssd_ms=Decimal("55.0"))
        from athletes.models import CoachNote

        CoachNote.objects.create(athlete=athlete, body="Knee flares on deep squats.", pinned=True)
        from athletes.models import Message

        Message.objects.create(athlete=athlete, from_client=True, body="Knee feels better.")
        from athletes.models import DeviceSample, ImportJob

        ImportJob.objects.create(athlete=athlete, kind="apple_health", filename="e.xml",
                                 size_bytes=10)  # fmt: skip
        DeviceSample.objects.create(
            athlete=athlete,
            source="garmin",
            metric="hrv_rmssd_ms",
            timestamp=timezone.now(),
            value=Decimal("55.0"),
            day=DAY,
        )
        from athletes.models import ConsentEvent, ConsentPolicy

        marketing = ConsentPolicy.objects.create(purpose="marketing_email", version=2, text="v2")
        ConsentEvent.objects.create(
            athlete=athlete, purpose="marketing_email", action="withdraw", policy=marketing
        )
        Assessment.objects.create(athlete=athlete, date=DAY, hr_max_bpm=190, hr_rest_bpm=50)
        squat = Exercise.objects.create(slug="back-squat", name="Back squat", pattern="squat")
        session = SessionLog.objects.create(
            athlete=athlete, date=DAY, kind="strength", duration_s=3600
        )
        SetLog.objects.create(
            session=session, exercise=squat, set_index=1, weight_kg=Decimal("100"), reps=5
        )
        methodology = Methodology.objects.create(
            name="Strength basics", slug="strength-basics", discipline="strength"
        )
        version = MethodologyVersion.objects.create(
            methodology=methodology, number=1, rules=default_rules("strength")
        )
        tier = Tier.objects.create(
            methodology=methodology,
            name="DIY",
            slug="diy",
            price=Decimal("19.00"),
            currency="EUR",
            autonomy="auto",
        )
        Enrolment.objects.create(
            athlete=athlete, tier=tier, methodology_version=version, started=DAY
        )
        assessment = Assessment.objects.get(athlete=athlete)
        AssessmentLift.objects.create(
            assessment=assessment,
            exercise=squat,
            weight_kg=Decimal("100"),
            reps=5,
            e1rm_kg=Decimal("123.30"),
        )
        block = ProgramBlock.objects.create(
            athlete=athlete, methodology_version=version, start_date=DAY, weeks=4
        )
        planned = PlannedSession.objects.create(
            block=block,
            athlete=athlete,
            date=DAY,
            week=1,
            kind="strength",
            name="Squat day",
            duration_min=60,
        )
        PlannedSet.objects.create(session=planned, exercise=squat, set_index=1, reps=5)
        run = AutoregulationRun.objects.create(
            athlete=athlete, date=DAY, methodology_version=version, autonomy="auto"
        )
        Adjustment.objects.create(
            athlete=athlete,
            planned_session=planned,
            effective_date=DAY,
            run=run,
            rule="short_sleep",
            before={"duration_min": 60},
            after={"duration_min": 50},
            sentence="Shorter because you slept 5 h.",
            status="applied",
        )
        Alert.objects.create(
            client=Membership.objects.get(user=account),
            kind="plateau",
            severity=2,
            title="Back squat has stalled",
            evidence={"rule": "theil_sen_slope_le_0", "points": []},
            dedupe_key="plateau:back-squat:2026-W45",
            day=DAY,
        )
        from programs.models import AthleteModel, Prediction

        AthleteModel.objects.create(
            athlete=athlete, kind="anomaly", version="anomaly-1", fitted_on=DAY, n_days=28,
            blob=b"programs.ml.anomaly", meta={},
        )  # fmt: skip
        Prediction.objects.create(
            athlete=athlete, kind="e1rm", subject="back-squat", made_on=DAY, for_date=DAY,
            predicted=120.0, method="trend", reason="Predicted e1RM 120 kg.",
        )  # fmt: skip
        from programs.models import CalendarFeed

        CalendarFeed.objects.create(athlete=athlete, token_hash="c" * 64)
        from nutrition.models import (
            DayTarget,
            ExpenditureEstimate,
            FoodLogEntry,
            NutritionProfile,
            NutritionRun,
            PlanDay,
            ShoppingList,
        )  # fmt: skip

        NutritionProfile.objects.create(athlete=athlete, allergies=["peanuts"])
        DayTarget.objects.create(
            athlete=athlete, date=DAY, day_load="rest", energy_kcal=2000, protein_g=130,
            carbs_g=220, fat_g=67, reasons=["Low carbohydrate day: rest day tomorrow."],
        )  # fmt: skip
        PlanDay.objects.create(
            athlete=athlete, date=DAY, target={"energy_kcal": 2000}, meals=[], totals={}
        )
        FoodLogEntry.objects.create(
            athlete=athlete, date=DAY, key="food:banana", name="Banana", grams=Decimal("118"),
            energy_kcal=105, protein_g=1.3, carbs_g=27, fat_g=0.4,
        )  # fmt: skip
        ShoppingList.objects.create(athlete=athlete, start=DAY, end=DAY)
        estimate = ExpenditureEstimate.objects.create(
            athlete=athlete, date=DAY, window_days=28, weigh_ins=3, intake_days=2,
            formula_kcal=2400, previous_kcal=2400,
        )  # fmt: skip
        NutritionRun.objects.create(athlete=athlete, date=DAY, expenditure=estimate)
        from billing.models import Customer, Entitlement, Invoice, Subscription, TierPrice

        TierPrice.objects.create(
            tier=tier, product_id=f"prod_{email}", price_id=f"price_{email}", unit_amount=1900,
            currency="eur", interval="month",
        )  # fmt: skip
        Customer.objects.create(athlete=athlete, stripe_customer_id=f"cus_{email}")
        subscription = Subscription.objects.create(
            athlete=athlete, tier=tier, stripe_subscription_id=f"sub_{email}",
            stripe_customer_id=f"cus_{email}", price_id=f"price_{email}", status="active",
        )  # fmt: skip
        Entitlement.objects.create(athlete=athlete, status="active", subscription=subscription)
        Invoice.objects.create(
            athlete=athlete, subscription=subscription, stripe_invoice_id=f"in_{email}",
            status="paid", amount_due=1900, amount_paid=1900, currency="eur",
            issued=timezone.now(),
        )  # fmt: skip
        from privacy.models import DataRequest

        DataRequest.objects.create(athlete=athlete, kind="export", status="pending")
        from privacy.models import RetentionPolicy

        RetentionPolicy.objects.create(inactive_months=36)
        from coaching.models import Invitation

        Invitation.objects.create(
            email=f"invited-{email}",
            role="coach",
            token_hash=f"{tenant.pk:064d}",
            expires_at=timezone.now() + datetime.timedelta(days=14),
        )
        from coaching.models import NightlyRun, NightlyStep

        night = NightlyRun.objects.create(date=DAY, total=1, done=1, status="done")
        NightlyStep.objects.create(
            run=night, athlete=athlete, date=DAY, step="programs", status="done", ms=12
        )


@pytest.fixture
def populated(tenant_a, tenant_b):
    _populate(tenant_a, "a@alpha.test")
    _populate(tenant_b, "b@bravo.test")
    # Every tenant table holds rows of both tenants, so "0 rows without a tenant" below
    # can't pass vacuously; a new tenant model must be added to `_populate`.
    for model, table in tenant_tables():
        for tenant in (tenant_a, tenant_b):
            with tenant_context(tenant):
                assert model.objects.exists(), f"add a row for {table} to _populate()"
    return tenant_a, tenant_b


def _raw_count(table: str, where: str = "TRUE", params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}" WHERE {where}', params or [])
        return cursor.fetchone()[0]


def test_raw_sql_without_tenant_returns_no_rows_from_any_tenant_table(populated):
    for _model, table in tenant_tables():
        assert _raw_count(table) == 0, table


def test_raw_sql_with_tenant_a_returns_only_a_rows(populated):
    tenant_a, _tenant_b = populated
    with tenant_context(tenant_a), transaction.atomic():
        for _model, table in tenant_tables():
            assert _raw_count(table) >= 1, table
            assert _raw_count(table, "tenant_id <> %s", [tenant_a.pk]) == 0, table


def test_app_role_cannot_insert_a_row_for_another_tenant(populated):
    tenant_a, tenant_b = populated
    with tenant_context(tenant_a), pytest.raises(ProgrammingError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO coaching_membership (tenant_id, user_id, role, created)"
                " VALUES (%s, (SELECT min(id) FROM auth_user), 'owner', now())",
                [tenant_b.pk],
            )


def test_tenant_setting_is_transaction_local_and_never_leaks(populated):
    tenant_a, _ = populated
    with tenant_context(tenant_a):
        assert _raw_count("programs_exercise") == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in (None, "")
    assert _raw_count("programs_exercise") == 0


def test_setting_survives_a_rolled_back_savepoint(populated):
    tenant_a, _ = populated
    with tenant_context(tenant_a), transaction.atomic():
        try:
            with transaction.atomic():
                assert Exercise.objects.count() == 1
                raise RuntimeError("roll the savepoint back")
        except RuntimeError:
            pass
        assert Exercise.objects.count() == 1


def test_switching_tenant_inside_one_transaction_switches_rows(populated):
    tenant_a, tenant_b = populated
    with transaction.atomic():
        with tenant_context(tenant_a):
            assert list(Exercise.objects.values_list("tenant_id", flat=True)) == [tenant_a.pk]
        with tenant_context(tenant_b):
            assert list(Exercise.objects.values_list("tenant_id", flat=True)) == [tenant_b.pk]
        assert _raw_count("programs_exercise") == 0


def test_scoped_manager_raises_without_a_tenant(populated):
    with pytest.raises(TenantNotSet):
        Exercise.objects.count()
    with pytest.raises(TenantNotSet):
        Exercise(slug="front-squat", name="Front squat", pattern="squat").save()


def test_save_assigns_the_current_tenant_and_refuses_another(populated):
    tenant_a, tenant_b = populated
    with tenant_context(tenant_a):
        exercise = Exercise.objects.create(slug="front-squat", name="Front squat", pattern="squat")
        assert exercise.tenant_id == tenant_a.pk
    with tenant_context(tenant_b), pytest.raises(TenantMismatch):
        exercise.name = "Renamed in the wrong tenant"
        exercise.save()


def test_bulk_create_stamps_the_tenant(populated):
    tenant_a, _ = populated
    with tenant_context(tenant_a):
        Exercise.objects.bulk_create(
            [Exercise(slug=f"row-{i}", name=f"Row {i}", pattern="pull") for i in range(3)]
        )
        assert Exercise.objects.filter(name__startswith="Row").count() == 3


def test_unscoped_is_still_bounded_by_rls_for_the_app_role(populated):
    tenant_a, _ = populated
    with tenant_context(tenant_a):
        assert {e.tenant_id for e in Exercise.objects.unscoped()} == {tenant_a.pk}
    with tenant_context(None):
        assert Exercise.objects.unscoped().count() == 0


def test_user_sees_own_memberships_across_tenants_and_nobody_elses(tenant_a, tenant_b):
    from coaching.selectors import memberships_of_user_across_tenants

    dual = factories.member(tenant_a, "client", email="dual@both.test")
    with tenant_context(tenant_b):
        Membership.objects.create(user=dual, role="client")
    factories.member(tenant_b, "coach", email="stranger@bravo.test")
    rows = memberships_of_user_across_tenants(dual)
    assert sorted(m.tenant.slug for m in rows) == ["alpha", "bravo"]
    assert _raw_count("coaching_membership") == 0  # the user setting did not outlive the call


def test_app_role_cannot_truncate_in_production_terms(owner_connection):
    # The test harness grants TRUNCATE for flushes; the production grant does not.
    from coaching.rls import _grant_statements

    with psycopg.connect(owner_connection.info.dsn) as conn, conn.cursor() as cursor:
        statements = _grant_statements(cursor, "some_new_role_that_does_not_exist")
    assert not any("TRUNCATE" in s for s in statements)
    assert any("SELECT, INSERT, UPDATE, DELETE" in s for s in statements)


@pytest.mark.django_db(transaction=True)
def test_autocommit_statements_carry_the_tenant_and_leave_nothing_on_the_connection(
    tenant_a, tenant_b
):
    # given rows of two tenants, committed (no test transaction around us)
    _populate(tenant_a, "a@alpha.test")
    _populate(tenant_b, "b@bravo.test")
    assert connection.get_autocommit() and not connection.in_atomic_block
    # when a statement runs in autocommit mode inside a tenant context
    with tenant_context(tenant_a):
        names = list(Exercise.objects.values_list("tenant_id", flat=True))
    # then it saw only A's rows, and the same (reused) connection carries no tenant after
    assert names == [tenant_a.pk]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in (None, "")
    assert _raw_count("programs_exercise") == 0
