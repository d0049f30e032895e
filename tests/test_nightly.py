"""The nightly pipeline frame (coaching.nightly) on PostgreSQL: when a night is due, one
run per tenant-local date, exactly-once steps per subscriber, failures and skips recorded
with their reasons, the manual command, the run page and the API."""

from __future__ import annotations

import datetime
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from rest_framework.test import APIClient

from athletes.models import AthleteProfile, CheckIn
from coaching import nightly
from coaching.models import Alert, NightlyRun, NightlyStep, Tenant
from coaching.tasks import nightly_chunk
from coaching.tenancy import tenant_context
from tests import factories, nightly_steps
from tests.nightly_steps import make_subscribers

UTC = datetime.UTC
NIGHT = datetime.date(2026, 11, 20)


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture
def light_steps():
    saved = nightly_steps.use_light_steps()
    nightly_steps.FAIL_FOR.clear()
    yield
    nightly_steps.FAIL_FOR.clear()
    nightly_steps.restore_steps(saved)


def _run(tenant: Tenant, date: datetime.date = NIGHT) -> NightlyRun:
    with tenant_context(tenant):
        run, _ = nightly.run_get_or_create(date=date)
        return run


def _run_all(tenant: Tenant, run: NightlyRun) -> list[list[int]]:
    """Start the run and run its chunks here (what the workers do, minus the broker)."""
    with tenant_context(tenant):
        batches = nightly.run_start(run=run, send=False)
        for batch in batches:
            nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=batch)
        run.refresh_from_db()
    return batches


# --- when a night is due -------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # Amsterdam in winter is UTC+1: 01:59 local is not yet due, 02:00 is.
        ("Europe/Amsterdam", at(2026, 11, 21, 0, 59), None),
        ("Europe/Amsterdam", at(2026, 11, 21, 1, 0), datetime.date(2026, 11, 20)),
        # Los Angeles (UTC-8): 10:00 UTC on the 21st is 02:00 local on the 21st.
        ("America/Los_Angeles", at(2026, 11, 21, 9, 0), None),
        ("America/Los_Angeles", at(2026, 11, 21, 10, 0), datetime.date(2026, 11, 20)),
        # Auckland (UTC+13 in November): its 21st starts on the 20th in UTC.
        ("Pacific/Auckland", at(2026, 11, 20, 13, 0), datetime.date(2026, 11, 20)),
        ("Pacific/Auckland", at(2026, 11, 20, 12, 0), None),
    ],
)
def test_a_night_is_due_after_two_in_the_morning_tenant_local(zone, now, expected):
    assert nightly.due_date(Tenant(slug="z", timezone=zone), now) == expected


@pytest.mark.parametrize(
    ("zone", "start", "change_day"),
    [
        ("Europe/Amsterdam", at(2026, 3, 27, 0, 0), datetime.date(2026, 3, 29)),  # 02:00 skipped
        ("Europe/Amsterdam", at(2026, 10, 23, 0, 0), datetime.date(2026, 10, 25)),  # 02:00 twice
        ("America/New_York", at(2026, 3, 6, 0, 0), datetime.date(2026, 3, 8)),
        ("America/New_York", at(2026, 10, 30, 0, 0), datetime.date(2026, 11, 1)),
    ],
)
def test_hourly_ticks_across_a_dst_change_make_exactly_one_run_per_local_date(
    db, zone, start, change_day, django_capture_on_commit_callbacks
):
    # given: an active tenant in a zone that changes its clocks during the window
    tenant = factories.TenantFactory(slug="dst", timezone=zone)

    # when: the beat ticks every hour for four days
    with django_capture_on_commit_callbacks(execute=False) as started:
        for hour in range(4 * 24):
            nightly.nightly_dispatch(now=start + datetime.timedelta(hours=hour))

    # then: one run per finished local day, consecutive (none lost or doubled on the day
    # the clocks change, nor on the day after it), each started once
    with tenant_context(tenant):
        dates = list(NightlyRun.objects.order_by("date").values_list("date", flat=True))
    ticks = [start + datetime.timedelta(hours=hour) for hour in range(4 * 24)]
    due = sorted({nightly.due_date(tenant, t) for t in ticks} - {None})
    assert dates == due == [due[0] + datetime.timedelta(days=k) for k in range(len(due))]
    assert change_day in dates and change_day - datetime.timedelta(days=1) in dates
    assert len(started) == len(dates)


def test_suspended_and_offboarded_tenants_get_no_night(db, django_capture_on_commit_callbacks):
    active = factories.TenantFactory(slug="active", timezone="UTC")
    suspended = factories.TenantFactory(slug="paused", timezone="UTC", status="suspended")
    gone = factories.TenantFactory(slug="gone", timezone="UTC", status="offboarded")

    with django_capture_on_commit_callbacks(execute=False):
        created = nightly.nightly_dispatch(now=at(2026, 11, 21, 3, 0))

    assert [run.tenant_id for run in created] == [active.pk]
    for tenant in (suspended, gone):
        with tenant_context(tenant):
            assert not NightlyRun.objects.exists()


def test_a_run_of_a_tenant_suspended_after_dispatch_is_skipped_with_the_reason(db, light_steps):
    tenant = factories.TenantFactory(slug="later", timezone="UTC")
    make_subscribers(tenant, 3)
    run = _run(tenant)
    Tenant.objects.filter(pk=tenant.pk).update(status="suspended")
    tenant.refresh_from_db()

    _run_all(tenant, run)

    assert run.status == "skipped" and run.reason == "Tenant is suspended."
    with tenant_context(tenant):
        assert not NightlyStep.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_make_one_run(settings):
    # given: an active tenant whose night is due, and two beat processes ticking together
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the (empty) start runs inline
    tenant = factories.TenantFactory(slug="race", timezone="UTC")
    now = at(2026, 11, 21, 2, 5)
    barrier = threading.Barrier(2)
    created: list[list[NightlyRun]] = []
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            barrier.wait(timeout=10)
            created.append(nightly.nightly_dispatch(now=now))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # when: both dispatch at the same moment, on their own connections
    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then: one run, created by exactly one of them
    assert errors == []
    assert sorted(len(c) for c in created) == [0, 1]
    with tenant_context(tenant):
        assert list(NightlyRun.objects.values_list("date", flat=True)) == [NIGHT]


def test_a_run_left_unfinished_is_resumed_by_a_later_tick(db, django_capture_on_commit_callbacks):
    tenant = factories.TenantFactory(slug="stuck", timezone="UTC")
    run = _run(tenant)
    with tenant_context(tenant):
        NightlyRun.objects.filter(pk=run.pk).update(
            created=at(2026, 11, 21, 2, 0), status="running"
        )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        nightly.nightly_dispatch(now=at(2026, 11, 21, 4, 0))

    assert len(callbacks) == 1  # the start is re-sent; claims make the rest safe


# --- one chunk: exactly once ---------------------------------------------------------


def test_a_run_processes_every_subscriber_once_and_finishes(db, light_steps, settings):
    settings.NIGHTLY_CHUNK_SIZE = 4
    tenant = factories.TenantFactory(slug="once", timezone="UTC")
    ids = make_subscribers(tenant, 10)
    run = _run(tenant)

    batches = _run_all(tenant, run)

    assert [len(b) for b in batches] == [4, 4, 2]
    assert (run.status, run.total, run.done, run.failed, run.skipped) == ("done", 10, 10, 0, 0)
    assert run.started is not None and run.finished is not None
    with tenant_context(tenant):
        assert CheckIn.objects.filter(date=NIGHT).count() == 10
        assert NightlyStep.objects.filter(status="done").count() == 20
        assert set(NightlyStep.objects.values_list("athlete_id", flat=True)) == set(ids)


def test_a_chunk_delivered_twice_changes_nothing_the_second_time(db, light_steps):
    # given: a running night of six subscribers
    tenant = factories.TenantFactory(slug="twice", timezone="UTC")
    ids = make_subscribers(tenant, 6)
    run = _run(tenant)
    with tenant_context(tenant):
        nightly.run_start(run=run, send=False)
    # when: one chunk of five arrives twice (a duplicated message, a redelivery), by the task
    first = nightly_chunk.apply(args=[tenant.pk, run.pk, ids[:5]]).get()
    with tenant_context(tenant):
        steps_before = list(NightlyStep.objects.order_by("pk").values_list("pk", "status"))
    second = nightly_chunk.apply(args=[tenant.pk, run.pk, ids[:5]]).get()

    # then: the second delivery found every step recorded and ran none
    assert (first["processed"], first["already"], first["steps_run"]) == (5, 0, 10)
    assert (second["processed"], second["already"], second["steps_run"]) == (0, 5, 0)
    # the frame's own reads are per chunk: the second delivery did a constant handful
    assert second["queries"] <= 6
    with tenant_context(tenant):
        run.refresh_from_db()
        assert (run.status, run.done) == ("running", 5)
        assert list(NightlyStep.objects.order_by("pk").values_list("pk", "status")) == steps_before
        assert CheckIn.objects.filter(date=NIGHT).count() == 5
        # and the last chunk finishes the run
        nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=ids[5:])
        run.refresh_from_db()
    assert (run.status, run.done) == ("done", 6)


def test_a_half_finished_subscriber_resumes_at_the_step_that_was_not_recorded(db, light_steps):
    # given: a worker died after the first step of a subscriber committed
    tenant = factories.TenantFactory(slug="half", timezone="UTC")
    [athlete_id] = make_subscribers(tenant, 1)
    run = _run(tenant)
    with tenant_context(tenant):
        nightly.run_start(run=run, send=False)
        athlete = AthleteProfile.objects.get(pk=athlete_id)
        nightly.register_step("light_plan", lambda a, d: (_ for _ in ()).throw(SystemExit), 20)
        with pytest.raises(SystemExit):
            nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=[athlete_id])
        nightly.register_step("light_plan", nightly_steps.light_plan, 20)

        # when: the chunk is redelivered
        nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=[athlete_id])

        # then: the first step ran once, the second once, the subscriber counted once
        assert CheckIn.objects.filter(athlete=athlete, date=NIGHT).count() == 1
        assert sorted(NightlyStep.objects.values_list("step", "status")) == [
            ("light_plan", "done"),
            ("light_record", "done"),
        ]
        run.refresh_from_db()
    assert (run.status, run.done) == ("done", 1)


def test_one_subscriber_failing_does_not_stop_the_others_and_is_listed(db, light_steps):
    tenant = factories.TenantFactory(slug="fails", timezone="UTC")
    ids = make_subscribers(tenant, 4)
    nightly_steps.FAIL_FOR.add(ids[1])
    run = _run(tenant)

    _run_all(tenant, run)

    assert (run.status, run.done, run.failed, run.skipped) == ("done", 3, 1, 0)
    with tenant_context(tenant):
        [failure] = nightly.failures_of(run)
        assert (failure.athlete_id, failure.step) == (ids[1], "light_plan")
        assert failure.reason == f"StepExploded: planner blew up for athlete {ids[1]}"
        # the failed step's writes rolled back with it; the earlier step's stayed
        assert CheckIn.objects.get(athlete_id=ids[1], date=NIGHT).soreness is None
        assert CheckIn.objects.filter(date=NIGHT, soreness=2).count() == 3


def test_failed_subscribers_are_retried_once_the_cause_is_fixed(db, light_steps, capsys):
    # given: a finished run with one failed subscriber
    tenant = factories.TenantFactory(slug="retry", timezone="UTC")
    ids = make_subscribers(tenant, 3)
    nightly_steps.FAIL_FOR.add(ids[2])
    run = _run(tenant)
    _run_all(tenant, run)
    assert (run.status, run.done, run.failed) == ("done", 2, 1)
    # when: the cause is fixed and the operator retries the failed ones
    nightly_steps.FAIL_FOR.clear()
    call_command(
        "run_nightly", "--tenant", "retry", "--date", NIGHT.isoformat(), "--eager",
        "--retry-failed",
    )  # fmt: skip
    # then: the failed subscriber finished, its done step did not run twice, counts add up
    assert "Retrying 1 failed subscriber(s)." in capsys.readouterr().out
    with tenant_context(tenant):
        run.refresh_from_db()
        assert (run.status, run.done, run.failed) == ("done", 3, 0)
        assert CheckIn.objects.filter(athlete_id=ids[2], date=NIGHT).count() == 1
        assert CheckIn.objects.get(athlete_id=ids[2], date=NIGHT).soreness == 2
        assert not nightly.failures_of(run).exists()
    # and: nothing left to retry is one line of why
    with pytest.raises(CommandError, match="no failed subscriber"):
        call_command(
            "run_nightly", "--tenant", "retry", "--date", NIGHT.isoformat(), "--eager",
            "--retry-failed",
        )  # fmt: skip


def test_a_later_step_is_skipped_when_an_earlier_one_failed(db, light_steps):
    tenant = factories.TenantFactory(slug="order", timezone="UTC")
    [athlete_id] = make_subscribers(tenant, 1)
    nightly.register_step("light_after", nightly_steps.light_plan, 30)
    nightly_steps.FAIL_FOR.add(athlete_id)
    run = _run(tenant)

    _run_all(tenant, run)

    with tenant_context(tenant):
        rows = dict(NightlyStep.objects.values_list("step", "reason"))
    assert rows["light_after"] == "Not run: an earlier step failed."
    nightly.unregister_step("light_after")


def test_subscribers_without_access_are_skipped_with_the_reason(db, light_steps):
    # given: a business that sells online; one of three subscribers has paid
    from billing.models import BillingAccount, Entitlement

    tenant = factories.TenantFactory(slug="paying", timezone="UTC")
    ids = make_subscribers(tenant, 3)
    BillingAccount.objects.create(tenant=tenant, stripe_account_id="acct_n", charges_enabled=True)
    with tenant_context(tenant):
        Entitlement.objects.create(athlete_id=ids[0], status="active")
    run = _run(tenant)

    _run_all(tenant, run)

    assert (run.status, run.done, run.skipped) == ("done", 1, 2)
    with tenant_context(tenant):
        skipped = NightlyStep.objects.filter(status="skipped")
        assert set(skipped.values_list("athlete_id", flat=True)) == {ids[1], ids[2]}
        assert set(skipped.values_list("reason", flat=True)) == {
            "No open entitlement: the plan is paused until the subscription is active."
        }
        assert CheckIn.objects.filter(date=NIGHT).count() == 1


def test_a_tenant_without_subscribers_finishes_at_once(db, light_steps):
    tenant = factories.TenantFactory(slug="empty", timezone="UTC")
    run = _run(tenant)
    assert _run_all(tenant, run) == []
    assert (run.status, run.total) == ("done", 0)


# --- per-chunk preparation ----------------------------------------------------------


def test_a_prepared_step_loads_its_context_once_per_chunk_for_those_still_to_run(db, light_steps):
    # given: a step with a prepare hook, after the light ones
    tenant = factories.TenantFactory(slug="prep", timezone="UTC")
    ids = make_subscribers(tenant, 3)
    prepared: list[list[int]] = []
    seen: dict[int, object] = {}

    def prepare(athletes, date):
        prepared.append([a.pk for a in athletes])
        return {"date": date, "ids": frozenset(a.pk for a in athletes)}

    def fn(athlete, date, context):
        seen[athlete.pk] = context
        return nightly.StepOutcome.done()

    nightly.register_step("prepared", fn, 30, prepare=prepare)
    try:
        run = _run(tenant)
        with tenant_context(tenant):
            nightly.run_start(run=run, send=False)
            # one subscriber was finished by an earlier delivery
            nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=ids[:1])
            # when: the whole chunk comes, then comes again
            nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=ids)
            nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=ids)
            run.refresh_from_db()
    finally:
        nightly.unregister_step("prepared")

    # then: one prepare per delivery that had work, for exactly the subscribers to run,
    # and each step call got its chunk's context
    assert prepared == [ids[:1], ids[1:]]
    assert seen[ids[0]] == {"date": NIGHT, "ids": frozenset(ids[:1])}
    assert seen[ids[2]] == {"date": NIGHT, "ids": frozenset(ids[1:])}
    assert (run.status, run.done) == ("done", 3)


def test_a_failing_prepare_fails_that_step_for_each_subscriber_and_the_chunk_finishes(
    db, light_steps
):
    tenant = factories.TenantFactory(slug="prepfail", timezone="UTC")
    ids = make_subscribers(tenant, 2)

    def prepare(athletes, date):
        raise nightly_steps.StepExploded("no library for this tenant")

    nightly.register_step("prepared", lambda a, d, c: nightly.StepOutcome.done(), 30, prepare)
    try:
        run = _run(tenant)
        _run_all(tenant, run)
    finally:
        nightly.unregister_step("prepared")

    assert (run.status, run.done, run.failed) == ("done", 0, 2)
    with tenant_context(tenant):
        failures = list(nightly.failures_of(run).values_list("athlete_id", "step", "reason"))
        # the light steps before it ran and kept their writes
        assert CheckIn.objects.filter(date=NIGHT, soreness=2).count() == 2
    assert failures == [
        (i, "prepared", "RuntimeError: chunk preparation failed: StepExploded: no library "
         "for this tenant")
        for i in ids
    ]  # fmt: skip


# --- the real steps ------------------------------------------------------------------


def _real_athletes(tenant: Tenant, n: int) -> list[AthleteProfile]:
    """Demo-like clients: enrolled on a strength tier, assessed, a block generated, a
    week of low-HRV check-ins and weigh-ins, through the services."""
    from athletes import services as athlete_services
    from programs import services
    from programs.models import Exercise
    from tests.test_adjustments import NIGHT as LAST_NIGHT
    from tests.test_adjustments import START, WEEKDAYS, _low_hrv_nights

    accounts = [factories.member(tenant, "client", email=f"real{i}@r.test") for i in range(n)]
    profile, _version = factories.enrolled_strength_athlete(
        tenant, accounts[0], start=START, weekdays=WEEKDAYS
    )
    profiles = [profile]
    with tenant_context(tenant):
        enrolment = profile.enrolments.get()
        for account in accounts[1:]:
            other = AthleteProfile.objects.get(user=account)
            athlete_services.profile_update(
                profile=other, available_weekdays=WEEKDAYS, session_minutes=75,
                equipment=["barbell", "rack", "bench", "dumbbell"],
            )  # fmt: skip
            athlete_services.enrolment_create(athlete=other, tier=enrolment.tier, started=START)
            assessment = athlete_services.assessment_create(
                athlete=other, date=START - datetime.timedelta(days=3)
            )
            services.assessment_lift_add(
                assessment=assessment, exercise=Exercise.objects.get(slug="back-squat"),
                weight_kg=Decimal("100"), reps=5, rpe=Decimal("8"),
            )  # fmt: skip
            services.block_generate(athlete=other, start_date=START)
            profiles.append(other)
    for account in accounts:
        _low_hrv_nights(tenant, account)
        with tenant_context(tenant):
            CheckIn.objects.filter(
                athlete__user=account, date__gte=LAST_NIGHT - datetime.timedelta(days=6)
            ).update(body_weight_kg=Decimal("70.0"))
    return profiles


def test_the_real_steps_run_once_per_subscriber_however_often_a_chunk_comes(db):
    # given: four demo-like subscribers whose HRV has been low for a week
    from nutrition.models import NutritionRun, PlanDay
    from programs.models import Adjustment, AutoregulationRun
    from tests.test_adjustments import NIGHT as LAST_NIGHT

    tenant = factories.TenantFactory(slug="real", timezone="UTC")
    profiles = _real_athletes(tenant, 4)
    run = _run(tenant, LAST_NIGHT)

    # when: the night runs, then every chunk is delivered again
    batches = _run_all(tenant, run)
    with tenant_context(tenant):
        counts = (
            Adjustment.objects.count(), AutoregulationRun.objects.count(),
            NutritionRun.objects.count(), PlanDay.objects.count(),
            Alert.objects.count(),
        )  # fmt: skip
        # a duplicate arriving while the run is still running
        NightlyRun.objects.filter(pk=run.pk).update(status="running")
        redelivered = [
            nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=batch) for batch in batches
        ]
        again = (
            Adjustment.objects.count(), AutoregulationRun.objects.count(),
            NutritionRun.objects.count(), PlanDay.objects.count(),
            Alert.objects.count(),
        )  # fmt: skip
        steps = list(NightlyStep.objects.values_list("step", "status", "reason"))

        run.refresh_from_db()

    # then: both apps' steps ran for everyone, once; nothing was duplicated
    assert [r.already for r in redelivered] == [4] and redelivered[0].steps_run == 0
    assert (run.status, run.done, run.failed) == ("done", 4, 0), steps
    assert sorted({s for s, _, _ in steps}) == ["nutrition", "programs"]
    assert len(steps) == 8
    assert counts == again
    assert counts[0] >= 4  # every subscriber's low HRV changed their next session
    assert counts[1] == counts[2] == len(profiles)
    assert counts[3] == 7 * len(profiles)


def test_real_steps_skip_without_consent_with_the_consent_reason(db):
    from athletes import consent
    from tests.test_adjustments import NIGHT as LAST_NIGHT

    tenant = factories.TenantFactory(slug="noconsent", timezone="UTC")
    [profile] = _real_athletes(tenant, 1)
    with tenant_context(tenant):
        consent.consent_withdraw(profile, consent.HEALTH_DATA)
        consent.consent_withdraw(profile, consent.NUTRITION_PLANNING)
    run = _run(tenant, LAST_NIGHT)

    _run_all(tenant, run)

    assert (run.status, run.skipped) == ("done", 1)
    with tenant_context(tenant):
        reasons = dict(NightlyStep.objects.values_list("step", "reason"))
    assert reasons["programs"] == consent.skipped_reason(consent.HEALTH_DATA)
    assert reasons["nutrition"] == consent.skipped_reason(consent.NUTRITION_PLANNING)


def test_the_chunk_contexts_hold_what_the_per_athlete_reads_return(db):
    # given: two subscribers, one of whom withdrew health data and nutrition planning
    from athletes import consent
    from athletes.selectors import current_enrolment
    from coaching.selectors import membership_for
    from nutrition.services import nutrition_night_context
    from programs.selectors import active_block_of
    from programs.services.alerts import reference_lifts
    from programs.services.night import night_context
    from tests.test_adjustments import NIGHT as LAST_NIGHT

    tenant = factories.TenantFactory(slug="context", timezone="UTC")
    profiles = _real_athletes(tenant, 2)
    with tenant_context(tenant):
        consent.consent_withdraw(profiles[1], consent.HEALTH_DATA)
        consent.consent_withdraw(profiles[1], consent.NUTRITION_PLANNING)
        consent.consent_grant(profiles[1], consent.NUTRITION_PLANNING)

        # when: a chunk's contexts are loaded
        programs = night_context(profiles, LAST_NIGHT)
        nutrition = nutrition_night_context(profiles)

        # then: they say what asking per athlete says
        for p in profiles:
            assert programs.consents[p.pk] == consent.consent_state(p)
            assert programs.enrolments[p.pk] == current_enrolment(p)
            assert programs.blocks[p.pk] == active_block_of(p)
            assert programs.clients[p.pk] == membership_for(p.user, p.tenant)
            assert nutrition.enrolments[p.pk] == current_enrolment(p)
            assert nutrition.consents[p.pk] == consent.has_consent(p, consent.NUTRITION_PLANNING)
        assert programs.main_lifts == reference_lifts()
    assert programs.consents[profiles[1].pk][consent.HEALTH_DATA] is False
    assert nutrition.consents[profiles[1].pk] is True


def test_the_chunk_history_is_what_each_athlete_reads_alone(db):
    # given: three subscribers; one logged two planned sessions of the block, one an
    # unplanned squat session ten days ago, one nothing (check-ins only)
    from programs.models import Exercise, PlannedSession, SessionLog, SetLog
    from programs.services import alerts, learning
    from programs.services.adjustments import _checkins, _logs
    from programs.services.night import night_context
    from tests.test_adjustments import NIGHT as LAST_NIGHT

    tenant = factories.TenantFactory(slug="history", timezone="UTC")
    profiles = _real_athletes(tenant, 3)
    with tenant_context(tenant):
        planned = PlannedSession.objects.filter(
            athlete=profiles[0], rest_day=False, date__lte=LAST_NIGHT
        ).order_by("date", "id")[:2]
        for session in planned:
            log = SessionLog.objects.create(
                athlete=profiles[0], planned_session=session, date=session.date,
                kind=session.kind, duration_s=3600, session_rpe=Decimal("8"), srpe_load=480,
            )  # fmt: skip
            for p_set in session.sets.order_by("set_index"):
                SetLog.objects.create(
                    session=log, exercise=p_set.exercise, set_index=p_set.set_index,
                    reps=p_set.reps, weight_kg=p_set.load_kg or Decimal("20"), rpe=Decimal("8.5"),
                )  # fmt: skip
        extra = SessionLog.objects.create(
            athlete=profiles[1], date=LAST_NIGHT - datetime.timedelta(days=10), kind="strength",
            duration_s=4500, session_rpe=Decimal("7"), srpe_load=525,
        )  # fmt: skip
        SetLog.objects.create(
            session=extra, exercise=Exercise.objects.get(slug="back-squat"), set_index=1,
            reps=5, weight_kg=Decimal("90"), rpe=Decimal("8"),
        )  # fmt: skip

        # when: the chunk's context is loaded for all three
        context = night_context(profiles, LAST_NIGHT)

        # then: each athlete's slice is exactly what the services read for them alone
        since = alerts.adherence_since(LAST_NIGHT)
        for p in profiles:
            assert context.logs[p.pk] == _logs(p, LAST_NIGHT)
            assert context.checkins[p.pk] == _checkins(p, LAST_NIGHT)
            assert context.planned[p.pk] == alerts._planned(p, since, LAST_NIGHT)
            assert context.e1rm[p.pk] == alerts._e1rm_series(p, LAST_NIGHT, context.main_lifts)
            assert context.anomaly_rows[p.pk] == learning._checkin_rows(p, LAST_NIGHT)
    assert len(context.logs[profiles[0].pk]) == len(planned) and context.logs[profiles[1].pk]
    assert any(done for _, _, done in context.planned[profiles[0].pk])
    assert context.e1rm[profiles[1].pk] and context.logs[profiles[2].pk] == []
    assert context.checkins[profiles[2].pk]


# --- settings ------------------------------------------------------------------------


def test_chunk_time_limit_is_below_the_broker_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert nightly_chunk.time_limit == settings.NIGHTLY_CHUNK_TIME_LIMIT < visibility
    assert nightly_chunk.acks_late and nightly_chunk.reject_on_worker_lost


def test_beat_schedule_names_registered_tasks():
    from config.celery import app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "coaching.nightly_dispatch",
        "billing.sync_tenant_plans",
        "privacy.retention_run",
        "privacy.erasures_run",
    } <= names
    assert names <= set(app.tasks)


# --- the command ---------------------------------------------------------------------


def test_run_nightly_eager_runs_the_tenant_and_prints_a_progress_bar(db, light_steps, capsys):
    tenant = factories.TenantFactory(slug="cmd", timezone="UTC")
    make_subscribers(tenant, 3)

    call_command("run_nightly", "--tenant", "cmd", "--date", NIGHT.isoformat(), "--eager")

    out = capsys.readouterr().out
    assert "[##############################] 3/3 done 3 failed 0 skipped 0 (done)" in out
    with tenant_context(tenant):
        run = NightlyRun.objects.get(date=NIGHT)
    assert run.trigger == "manual"


def test_run_nightly_for_one_subscriber_runs_only_that_one(db, light_steps):
    tenant = factories.TenantFactory(slug="one", timezone="UTC")
    ids = make_subscribers(tenant, 3)

    call_command(
        "run_nightly", "--tenant", "one", "--date", NIGHT.isoformat(),
        "--subscriber", str(ids[2]), "--eager",
    )  # fmt: skip

    with tenant_context(tenant):
        assert set(NightlyStep.objects.values_list("athlete_id", flat=True)) == {ids[2]}
        run = NightlyRun.objects.get(date=NIGHT)
    # a backfill is not the tenant's night: the run is not left "running" 1 of 3 for good
    assert (run.status, run.total, run.done) == ("queued", 0, 1)
    assert run.reason == nightly.BACKFILL_ONLY


def test_a_backfilled_run_is_started_by_the_dispatcher_and_completes_once(
    db, light_steps, django_capture_on_commit_callbacks
):
    # given: one subscriber backfilled by hand before the night was due
    tenant = factories.TenantFactory(slug="early", timezone="UTC")
    ids = make_subscribers(tenant, 3)
    call_command(
        "run_nightly", "--tenant", "early", "--date", NIGHT.isoformat(),
        "--subscriber", str(ids[0]), "--eager",
    )  # fmt: skip

    # when: the beat's tick at 02:00 finds the run it would have created, and starts it
    with django_capture_on_commit_callbacks(execute=False) as started:
        created = nightly.nightly_dispatch(now=at(2026, 11, 21, 2, 0))
    assert created == [] and len(started) == 1
    with tenant_context(tenant):
        run = NightlyRun.objects.get(date=NIGHT)
        batches = nightly.run_start(run=run, send=False)
        for batch in batches:
            nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=batch)
        run.refresh_from_db()

    # then: the other two ran, the backfilled one was not run again, the run is done
    assert batches == [ids[1:]]
    assert (run.status, run.total, run.done, run.reason) == ("done", 3, 3, "")
    with tenant_context(tenant):
        assert NightlyStep.objects.filter(athlete_id=ids[0]).count() == len(nightly.steps())


def test_retrying_a_failed_backfill_keeps_the_run_queued_for_the_tenants_night(db, light_steps):
    tenant = factories.TenantFactory(slug="refail", timezone="UTC")
    ids = make_subscribers(tenant, 2)
    nightly_steps.FAIL_FOR.add(ids[0])
    args = ["--tenant", "refail", "--date", NIGHT.isoformat(), "--subscriber", str(ids[0])]
    call_command("run_nightly", *args, "--eager")
    nightly_steps.FAIL_FOR.clear()

    call_command("run_nightly", *args, "--eager", "--retry-failed")

    with tenant_context(tenant):
        run = NightlyRun.objects.get(date=NIGHT)
    # not "done" with a total of 0: the other subscriber's night has still to run
    assert (run.status, run.done, run.failed) == ("queued", 1, 0)


def test_a_subscriber_backfill_of_a_started_run_leaves_its_state_alone(db, light_steps):
    tenant = factories.TenantFactory(slug="mid", timezone="UTC")
    ids = make_subscribers(tenant, 3)
    run = _run(tenant)
    with tenant_context(tenant):
        nightly.run_start(run=run, send=False)  # running, nobody processed yet

    call_command(
        "run_nightly", "--tenant", "mid", "--date", NIGHT.isoformat(),
        "--subscriber", str(ids[1]), "--eager",
    )  # fmt: skip

    with tenant_context(tenant):
        run.refresh_from_db()
    assert (run.status, run.total, run.done, run.reason) == ("running", 3, 1, "")


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--tenant", "nope", "--date", "2026-11-20"], "No tenant with slug 'nope'."),
        (["--tenant", "cmdbad", "--date", "20-11-2026"], "is not a date: use YYYY-MM-DD."),
        (["--tenant", "cmdbad", "--date", "2999-01-01"], "is not over yet in UTC"),
        (["--tenant", "frozen", "--date", "2026-11-20"], "Tenant 'frozen' is suspended"),
        (
            ["--tenant", "cmdbad", "--date", "2026-11-20", "--subscriber", "999999"],
            "No subscriber 999999 in tenant 'cmdbad'",
        ),
    ],
)
def test_run_nightly_refuses_bad_input_with_one_line_of_why(db, args, why):
    factories.TenantFactory(slug="cmdbad", timezone="UTC")
    factories.TenantFactory(slug="frozen", timezone="UTC", status="suspended")
    with pytest.raises(CommandError, match=why.replace("(", r"\(").replace(".", r"\.")) as error:
        call_command("run_nightly", *args)
    assert "\n" not in str(error.value)


def test_run_nightly_exits_non_zero_on_bad_input(db):
    from tests.test_worker import PROJECT_DIR, _worker_env

    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "run_nightly", "--tenant", "nope", "--date", "2026-11-20"],
        cwd=PROJECT_DIR, env=_worker_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["CommandError: No tenant with slug 'nope'."]


# --- the run page and the API --------------------------------------------------------


@pytest.fixture
def failed_run(tenant_a, light_steps):
    ids = make_subscribers(tenant_a, 3)
    nightly_steps.FAIL_FOR.add(ids[0])
    run = _run(tenant_a)
    _run_all(tenant_a, run)
    return run, ids


def test_owner_sees_runs_with_progress_and_the_failed_client(client, owner_a, failed_run):
    run, ids = failed_run
    client.force_login(owner_a)

    page = client.get("/t/alpha/nightly/")
    detail = client.get(f"/t/alpha/nightly/{run.pk}/")

    assert page.status_code == 200 and detail.status_code == 200
    html = page.content.decode()
    assert 'max="3" value="3"' in html and "htmx" in html
    assert "hx-trigger" not in html  # a finished run stops polling
    body = detail.content.decode()
    assert "sub0@x.test" in body and "StepExploded" in body


def test_owner_retries_the_failed_subscribers_from_the_run_page(client, owner_a, failed_run):
    run, ids = failed_run
    client.force_login(owner_a)
    assert b"Retry the failed subscribers" in client.get(f"/t/alpha/nightly/{run.pk}/").content
    nightly_steps.FAIL_FOR.clear()

    response = client.post(f"/t/alpha/nightly/{run.pk}/retry/", follow=True)

    assert b"Retrying 1 failed subscriber(s)." in response.content
    with tenant_context(run.tenant):
        run.refresh_from_db()
        # the chunk is sent after commit (to the workers); until then the run is open again
        assert (run.status, run.failed, run.done) == ("running", 0, 2)
        assert not nightly.failures_of(run).exists()
    assert client.get(f"/t/alpha/nightly/{run.pk}/retry/").status_code == 405


def test_an_unfinished_run_polls_its_progress(client, owner_a, tenant_a):
    run = _run(tenant_a)
    client.force_login(owner_a)

    fragment = client.get(f"/t/alpha/nightly/{run.pk}/progress/")

    assert fragment.status_code == 200
    assert 'hx-trigger="every 3s"' in fragment.content.decode()


def test_coaches_and_clients_get_404_for_the_run_pages(client, coach_a, client_a, failed_run):
    run, _ = failed_run
    for user in (coach_a, client_a):
        client.force_login(user)
        assert client.get("/t/alpha/nightly/").status_code == 404
        assert client.get(f"/t/alpha/nightly/{run.pk}/").status_code == 404


def test_api_lists_runs_and_failures_and_hides_other_tenants(owner_a, tenant_b, failed_run):
    run, ids = failed_run
    other = _run(tenant_b)
    api = APIClient()
    api.force_authenticate(owner_a)

    listed = api.get("/api/v1/nightly-runs/", HTTP_X_TENANT="alpha")
    failures = api.get(f"/api/v1/nightly-runs/{run.pk}/failures/", HTTP_X_TENANT="alpha")
    foreign = api.get(f"/api/v1/nightly-runs/{other.pk}/", HTTP_X_TENANT="alpha")

    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert (row["id"], row["done"], row["failed"], row["percent"]) == (run.pk, 2, 1, 100)
    [failure] = failures.json()["results"]
    assert (failure["athlete"], failure["step"]) == (ids[0], "light_plan")
    assert foreign.status_code == 404
    assert api.post("/api/v1/nightly-runs/", {}, HTTP_X_TENANT="alpha").status_code == 405


def test_platform_staff_with_totp_read_any_tenants_runs_like_the_pages(
    client, tenant_b, failed_run
):
    # given: a staff user who is no member of alpha, with and without two-factor
    run, ids = failed_run
    staff = factories.user("ops@platform.test", mfa=True)
    plain_staff = factories.user("ops2@platform.test")
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk__in=[staff.pk, plain_staff.pk]).update(is_staff=True)
    staff.refresh_from_db()
    plain_staff.refresh_from_db()
    api = APIClient()

    # when / then: with TOTP they read the runs and failures, as the run page shows them
    api.force_authenticate(staff)
    listed = api.get("/api/v1/nightly-runs/", HTTP_X_TENANT="alpha")
    failures = api.get(f"/api/v1/nightly-runs/{run.pk}/failures/", HTTP_X_TENANT="alpha")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == [run.pk]
    assert [f["athlete"] for f in failures.json()["results"]] == [ids[0]]
    client.force_login(staff)
    assert client.get(f"/t/alpha/nightly/{run.pk}/").status_code == 200
    # still read-only, and still scoped to the tenant named
    assert api.post("/api/v1/nightly-runs/", {}, HTTP_X_TENANT="alpha").status_code == 405
    other = _run(tenant_b)
    assert api.get(f"/api/v1/nightly-runs/{other.pk}/", HTTP_X_TENANT="alpha").status_code == 404

    # staff without two-factor get the stranger's 404, on the API as on the page
    api.force_authenticate(plain_staff)
    assert api.get("/api/v1/nightly-runs/", HTTP_X_TENANT="alpha").status_code == 404
    client.force_login(plain_staff)
    assert client.get("/t/alpha/nightly/").status_code == 404
