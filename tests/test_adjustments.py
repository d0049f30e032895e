"""Nightly autoregulation through the service, on a real block in PostgreSQL: the tier
decides who applies a change, the coach's queue decides the rest, every applied change
can be reverted exactly, and running a night twice changes nothing."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from coaching.methodology import default_rules
from coaching.models import Membership
from coaching.tenancy import tenant_context
from programs import services
from programs.models import Adjustment, AutoregulationRun, PlannedSession
from programs.services.adjustments import session_rx
from tests import factories

TODAY = timezone.localdate()
NIGHT = TODAY - datetime.timedelta(days=1)  # last night's run, as the pipeline does it
# The block began a week ago; its sessions fall today, in two days and in four, so the
# next session is today's (still ahead for the coach's queue).
START = TODAY - datetime.timedelta(days=7)
WEEKDAYS = sorted({(TODAY + datetime.timedelta(days=d)).weekday() for d in (0, 2, 4)})


@pytest.fixture
def api():
    return APIClient()


def _athlete(tenant, user, *, autonomy="auto", rules=None):
    profile, _ = factories.enrolled_strength_athlete(
        tenant, user, start=START, weekdays=WEEKDAYS, rules=rules, autonomy=autonomy
    )
    return profile


def _low_hrv_nights(tenant, user, *, low_days=7, last_sleep=Decimal("7.5")):
    for k in range(70):
        day = NIGHT - datetime.timedelta(days=69 - k)
        low = k >= 70 - low_days
        rmssd = Decimal("40") if low else Decimal("58" if k % 2 else "62")
        sleep = last_sleep if day == NIGHT else Decimal("7.5")
        factories.checkin(tenant, user, day, hrv_rmssd_ms=rmssd, sleep_hours=sleep)


def _next_session(profile) -> PlannedSession:
    return (
        PlannedSession.objects.filter(athlete=profile, date__gt=NIGHT)
        .prefetch_related("sets__exercise")
        .order_by("date")
        .first()
    )


def test_diy_applies_three_low_hrv_nights_at_once_with_the_sentence(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        planned = session_rx(_next_session(profile))
        run = services.autoregulate(athlete=profile, date=NIGHT)
        session = _next_session(profile)
        now = session_rx(session)
        [adjustment] = Adjustment.objects.filter(planned_session=session)
    assert (run.proposed, run.applied, run.queued) == (1, 1, 0)
    assert run.hrv["status"] == "low" and run.readiness_score is not None
    assert adjustment.status == "applied" and adjustment.rule == "hrv_low_streak"
    assert adjustment.before == planned.as_dict() and adjustment.after == now.as_dict()
    assert "because your HRV has been below your baseline for 3 nights" in adjustment.sentence
    # −20 % volume and −5 % intensity on the loaded sets
    assert len(now.sets) < len(planned.sets)
    before = {s.set_index: s for s in planned.sets}
    for s in now.sets:
        if s.load_kg:
            assert s.load_kg < before[s.set_index].load_kg
    changed = [s for s in session.sets.all() if s.derivation.get("rule") == "hrv_low_streak"]
    assert changed and changed[0].derivation["inputs"] == {"adjustment": adjustment.pk}


def test_running_the_same_night_twice_changes_nothing(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        first = services.autoregulate(athlete=profile, date=NIGHT)
        after_first = session_rx(_next_session(profile))
        second = services.autoregulate(athlete=profile, date=NIGHT)
        assert second.pk == first.pk
        assert AutoregulationRun.objects.count() == 1
        assert Adjustment.objects.count() == 1
        assert session_rx(_next_session(profile)) == after_first
        # The next night sees the same streak, but the rule already cut that session.
        services.autoregulate(athlete=profile, date=NIGHT + datetime.timedelta(days=1))
        assert Adjustment.objects.filter(planned_session=_next_session(profile)).count() == 1


def test_premium_waits_for_the_coach_and_the_session_is_untouched(tenant_a, client_a, coach_a):
    profile = _athlete(tenant_a, client_a, autonomy="approve")
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        planned = session_rx(_next_session(profile))
        run = services.autoregulate(athlete=profile, date=NIGHT)
        [adjustment] = Adjustment.objects.all()
        assert (run.applied, run.queued) == (0, 1)
        assert adjustment.status == "pending"
        assert session_rx(_next_session(profile)) == planned
        coach = Membership.objects.get(user=coach_a)
        services.adjustment_approve(adjustment=adjustment, by=coach)
        adjustment.refresh_from_db()
        assert adjustment.status == "applied" and adjustment.decided_by == coach
        assert session_rx(_next_session(profile)).as_dict() == adjustment.after


def _hybrid_rules(threshold):
    rules = default_rules("strength")
    rules["autoregulation"]["queue_threshold_percent"] = threshold
    return rules


@pytest.mark.parametrize(("threshold", "status"), [(50, "applied"), (5, "pending")])
def test_hybrid_applies_changes_within_the_threshold_and_queues_larger_ones(
    tenant_a, client_a, threshold, status
):
    profile = _athlete(tenant_a, client_a, autonomy="queue", rules=_hybrid_rules(threshold))
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
        [adjustment] = Adjustment.objects.all()
    # −5 % intensity and −20 % of the sets (rounded per lift): between the two thresholds
    assert 5 < adjustment.magnitude_percent <= 50
    assert adjustment.status == status


def test_hybrid_queues_an_alert_level_rule_whatever_its_size(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a, autonomy="queue", rules=_hybrid_rules(50))
    _low_hrv_nights(tenant_a, client_a, last_sleep=Decimal("5"))
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
        combined, streak = Adjustment.objects.order_by("id")
    assert combined.rule == "short_sleep_and_low_hrv" and combined.alert_level
    assert combined.magnitude_percent <= 50 and combined.status == "pending"
    # The streak's cut builds on the waiting one, so it waits too.
    assert streak.status == "pending"


def test_revert_restores_the_exact_previous_prescription(tenant_a, client_a, coach_a):
    profile = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        session = _next_session(profile)
        planned = session_rx(session)
        services.autoregulate(athlete=profile, date=NIGHT)
        [adjustment] = Adjustment.objects.all()
        coach = Membership.objects.get(user=coach_a)
        revert = services.adjustment_revert(adjustment=adjustment, by=coach)
        adjustment.refresh_from_db()
        assert session_rx(_next_session(profile)) == planned
        assert adjustment.status == "reverted"
        assert (revert.rule, revert.status, revert.reverts_id) == (
            "revert",
            "applied",
            adjustment.pk,
        )
        assert revert.before == adjustment.after and revert.after == adjustment.before
        timeline = list(
            Adjustment.objects.filter(planned_session=session)
            .order_by("id")
            .values_list("rule", "status")
        )
        assert timeline == [("hrv_low_streak", "reverted"), ("revert", "applied")]
        with pytest.raises(services.AdjustmentConflict):
            services.adjustment_revert(adjustment=adjustment, by=coach)


def test_a_later_change_must_be_reverted_first(tenant_a, client_a, coach_a):
    profile = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a, last_sleep=Decimal("5"))
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
        first, second = Adjustment.objects.order_by("id")
        coach = Membership.objects.get(user=coach_a)
        with pytest.raises(services.AdjustmentConflict, match="revert that one first"):
            services.adjustment_revert(adjustment=first, by=coach)
        services.adjustment_revert(adjustment=second, by=coach)
        services.adjustment_revert(adjustment=first, by=coach)
        assert session_rx(_next_session(profile)).as_dict() == first.before


def test_reject_and_edit_then_approve(tenant_a, client_a, coach_a):
    profile = _athlete(tenant_a, client_a, autonomy="approve")
    _low_hrv_nights(tenant_a, client_a, last_sleep=Decimal("5"))
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
        first, second = Adjustment.objects.order_by("id")
        coach = Membership.objects.get(user=coach_a)
        # The second builds on the first: approving it alone would not fit the session.
        with pytest.raises(services.AdjustmentConflict):
            services.adjustment_approve(adjustment=second, by=coach)
        services.adjustment_reject(adjustment=second, by=coach)
        edited = dict(first.after)
        edited["sets"] = [dict(s) for s in first.after["sets"]][:-1]
        services.adjustment_edit_approve(adjustment=first, by=coach, after=edited)
        first.refresh_from_db()
        assert first.status == "applied" and first.source == "coach"
        assert first.proposed_after is not None and first.after == edited
        assert "set by your coach" in first.sentence
        assert session_rx(_next_session(profile)).as_dict() == edited
        with pytest.raises(services.AdjustmentConflict, match="is rejected"):
            services.adjustment_approve(adjustment=second, by=coach)


def test_a_bad_edit_is_refused_and_loses_nothing(tenant_a, client_a, coach_a):
    profile = _athlete(tenant_a, client_a, autonomy="approve")
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
        [adjustment] = Adjustment.objects.all()
        coach = Membership.objects.get(user=coach_a)
        bad = {**adjustment.after, "sets": [{**adjustment.after["sets"][0], "reps": 0}]}
        with pytest.raises(services.ProgramsError) as caught:
            services.adjustment_edit_approve(adjustment=adjustment, by=coach, after=bad)
        assert "reps must be 1–100" in str(caught.value)
        adjustment.refresh_from_db()
        assert adjustment.status == "pending" and adjustment.proposed_after is None


# --- API ---------------------------------------------------------------------------------


def _login(api, user, tenant):
    api.force_authenticate(user)
    api.credentials(HTTP_X_TENANT=tenant.slug)


def test_coach_queue_approve_and_bulk_approve_over_the_api(api, tenant_a, client_a, coach_a):
    profile = _athlete(tenant_a, client_a, autonomy="approve")
    _low_hrv_nights(tenant_a, client_a, last_sleep=Decimal("5"))
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
    _login(api, coach_a, tenant_a)
    queue = api.get("/api/v1/adjustments/", {"status": "pending"})
    assert queue.status_code == 200, queue.content
    rows = queue.json()["results"]
    assert len(rows) == 2 and all(r["sentence"] for r in rows)
    response = api.post(
        "/api/v1/adjustments/bulk-approve/", {"ids": [r["id"] for r in rows]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert set(response.json()["results"].values()) == {"applied"}


def test_the_client_sees_only_applied_changes_and_cannot_decide(api, tenant_a, client_a, owner_a):
    profile = _athlete(tenant_a, client_a, autonomy="approve")
    _low_hrv_nights(tenant_a, client_a, last_sleep=Decimal("5"))
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
        first = Adjustment.objects.order_by("id").first()
        services.adjustment_approve(adjustment=first, by=Membership.objects.get(role="owner"))
        statuses = set(Adjustment.objects.values_list("status", flat=True))
        pending = Adjustment.objects.filter(status="pending").first()
    assert "pending" in statuses
    _login(api, client_a, tenant_a)
    rows = api.get("/api/v1/adjustments/").json()["results"]
    assert [r["status"] for r in rows] == ["applied"]
    assert rows[0]["sentence"].startswith("Intensity −")
    assert api.post(f"/api/v1/adjustments/{pending.pk}/approve/").status_code == 404


def test_another_tenants_adjustment_is_404(api, tenant_a, tenant_b, client_a, client_b, coach_a):
    profile = _athlete(tenant_b, client_b)
    _low_hrv_nights(tenant_b, client_b)
    with tenant_context(tenant_b):
        services.autoregulate(athlete=profile, date=NIGHT)
        [adjustment] = Adjustment.objects.all()
    _login(api, coach_a, tenant_a)
    assert api.get(f"/api/v1/adjustments/{adjustment.pk}/").status_code == 404
    assert api.post(f"/api/v1/adjustments/{adjustment.pk}/revert/").status_code == 404


def test_revert_and_history_over_the_api(api, tenant_a, client_a, coach_a):
    profile = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
        [adjustment] = Adjustment.objects.all()
    _login(api, coach_a, tenant_a)
    response = api.post(f"/api/v1/adjustments/{adjustment.pk}/revert/")
    assert response.status_code == 201, response.content
    again = api.post(f"/api/v1/adjustments/{adjustment.pk}/revert/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "adjustment_conflict"
    history = api.get(f"/api/v1/planned-sessions/{adjustment.planned_session_id}/history/")
    assert history.status_code == 200
    assert [row["rule"] for row in history.json()] == ["hrv_low_streak", "revert"]


def test_run_endpoint_is_idempotent_and_staff_only(api, tenant_a, client_a, coach_a):
    profile = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    _login(api, client_a, tenant_a)
    body = {"athlete": profile.pk, "date": NIGHT.isoformat()}
    assert api.post("/api/v1/adjustments/run/", body, format="json").status_code == 403
    _login(api, coach_a, tenant_a)
    first = api.post("/api/v1/adjustments/run/", body, format="json")
    second = api.post("/api/v1/adjustments/run/", body, format="json")
    assert first.status_code == 200, first.content
    assert first.json() == second.json()
    assert first.json()["applied"] == 1
    assert math.isfinite(first.json()["readiness_score"])
    bad = api.post(
        "/api/v1/adjustments/run/", {"athlete": profile.pk, "date": "soon"}, format="json"
    )
    assert bad.status_code == 400


# --- pages -------------------------------------------------------------------------------


def test_the_review_queue_page_approves_and_the_plan_shows_the_sentence(
    client, tenant_a, client_a, coach_a
):
    profile = _athlete(tenant_a, client_a, autonomy="approve")
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
        [adjustment] = Adjustment.objects.all()
    client.force_login(coach_a)
    page = client.get("/t/alpha/review/")
    assert page.status_code == 200
    assert adjustment.sentence in page.content.decode()
    response = client.post(f"/t/alpha/review/{adjustment.pk}/", {"decision": "approve"})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        adjustment.refresh_from_db()
    assert adjustment.status == "applied"
    client.force_login(client_a)
    plan = client.get("/t/alpha/plan/").content.decode()
    assert adjustment.sentence in plan
    assert client.get("/t/alpha/review/").status_code == 404


def test_the_review_queue_bulk_approves_the_ticked_changes(client, tenant_a, client_a, coach_a):
    profile = _athlete(tenant_a, client_a, autonomy="approve")
    _low_hrv_nights(tenant_a, client_a, last_sleep=Decimal("5"))
    with tenant_context(tenant_a):
        services.autoregulate(athlete=profile, date=NIGHT)
        ids = list(Adjustment.objects.order_by("id").values_list("pk", flat=True))
    client.force_login(coach_a)
    response = client.post("/t/alpha/review/approve/", {"ids": ids}, follow=True)
    assert f"{len(ids)} of {len(ids)} applied." in response.content.decode()
    with tenant_context(tenant_a):
        assert set(Adjustment.objects.values_list("status", flat=True)) == {"applied"}


def test_an_athletes_night_runs_every_programs_step_once(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)
    with tenant_context(tenant_a):
        first = services.athlete_night(athlete=profile, date=NIGHT)
        again = services.athlete_night(athlete=profile, date=NIGHT)
    assert first.run.pk == again.run.pk and first.run.applied == 1
    assert again.alerts_raised == 0
    assert first.anomaly in {"usual", "unusual"}


def _queued(tenant, user):
    profile = _athlete(tenant, user, autonomy="approve")
    _low_hrv_nights(tenant, user)
    with tenant_context(tenant):
        services.autoregulate(athlete=profile, date=NIGHT)
        [adjustment] = Adjustment.objects.all()
    return profile, adjustment


def _form(adjustment, **changes) -> dict[str, str]:
    """The edit form as the page fills it: the engine's proposal, then `changes`."""
    data = {}
    for index, row in enumerate(adjustment.after["sets"]):
        data[f"reps_{index}"] = str(row["reps"])
        data[f"load_kg_{index}"] = "" if row["load_kg"] is None else str(row["load_kg"])
    data.update(changes)
    return data


def test_the_coach_edits_a_queued_change_on_its_page_and_the_client_sees_it(
    client, tenant_a, client_a, coach_a
):
    profile, adjustment = _queued(tenant_a, client_a)
    client.force_login(coach_a)
    queue = client.get("/t/alpha/review/").content.decode()
    assert f'href="/t/alpha/review/{adjustment.pk}/edit/"' in queue
    page = client.get(f"/t/alpha/review/{adjustment.pk}/edit/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Engine's proposal" in body and adjustment.sentence in body
    assert 'for="reps_0"' in body and 'for="load_kg_0"' in body  # every input labelled
    first = adjustment.after["sets"][0]
    response = client.post(
        f"/t/alpha/review/{adjustment.pk}/edit/", _form(adjustment, load_kg_0="77.5", reps_0="4")
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        adjustment.refresh_from_db()
        applied = session_rx(_next_session(profile)).as_dict()
    assert adjustment.status == "applied" and adjustment.source == "coach"
    assert adjustment.proposed_after["sets"][0]["load_kg"] == first["load_kg"]
    assert (applied["sets"][0]["load_kg"], applied["sets"][0]["reps"]) == (77.5, 4)
    assert "set by your coach" in adjustment.sentence
    client.force_login(client_a)
    assert "set by your coach" in client.get("/t/alpha/plan/").content.decode()


def test_a_bad_edit_on_the_page_keeps_the_input_and_changes_nothing(
    client, tenant_a, client_a, coach_a
):
    profile, adjustment = _queued(tenant_a, client_a)
    with tenant_context(tenant_a):
        before = session_rx(_next_session(profile))
    client.force_login(coach_a)
    response = client.post(
        f"/t/alpha/review/{adjustment.pk}/edit/",
        _form(adjustment, load_kg_0="heavy", reps_1="0", duration_min="75"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was changed" in body and "load in kg, 0–1000" in body and "reps from 1" in body
    assert 'value="heavy"' in body and 'value="75"' in body
    with tenant_context(tenant_a):
        adjustment.refresh_from_db()
        assert adjustment.status == "pending"
        assert session_rx(_next_session(profile)) == before


def test_the_edit_page_is_404_for_clients_decided_changes_and_other_tenants(
    client, tenant_a, tenant_b, client_a, coach_a, client_b
):
    _, adjustment = _queued(tenant_a, client_a)
    url = f"/t/alpha/review/{adjustment.pk}/edit/"
    client.force_login(client_a)
    assert client.get(url).status_code == 404
    other_coach = factories.member(tenant_b, "coach", email="coach@bravo.test", mfa=True)
    client.force_login(other_coach)
    assert client.get(f"/t/bravo/review/{adjustment.pk}/edit/").status_code == 404
    client.force_login(coach_a)
    client.post(f"/t/alpha/review/{adjustment.pk}/", {"decision": "reject"})
    assert client.get(url).status_code == 404  # decided: nothing left to edit
