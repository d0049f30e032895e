"""Coach-by-exception detectors through the service, on real blocks and logs in
PostgreSQL: each rule raises its alert with evidence, a normal week raises nothing,
reruns add nothing, and one tenant's alerts stay out of another's inbox."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from athletes.models import AthleteProfile
from coaching.models import Alert, MethodologyVersion
from coaching.tenancy import tenant_context
from programs import services
from programs.models import AutoregulationRun, Exercise, PlannedSession
from programs.services.alerts import athlete_alerts_raise
from tests import factories

TODAY = timezone.localdate()
NIGHT = TODAY - datetime.timedelta(days=1)
START = TODAY - datetime.timedelta(days=7)
WEEKDAYS = sorted({(TODAY + datetime.timedelta(days=d)).weekday() for d in (0, 2, 4)})


def _athlete(tenant, user, *, start=START) -> AthleteProfile:
    """An enrolled strength athlete whose block began on `start` (sessions on the weekdays
    of today, today + 2 and today + 4)."""
    profile, _ = factories.enrolled_strength_athlete(tenant, user, start=start, weekdays=WEEKDAYS)
    return profile


def _log(profile, session: PlannedSession, *, rpe_offset=Decimal("0")) -> None:
    """Log the planned session as prescribed, each set `rpe_offset` above its target."""
    services.session_log_create(
        athlete=profile,
        date=session.date,
        kind=session.kind,
        duration_s=3600,
        session_rpe=Decimal("7"),
        planned_session=session,
        sets=[
            {
                "exercise": s.exercise,
                "weight_kg": s.load_kg or Decimal("60"),
                "reps": s.reps,
                "rpe": s.target_rpe + rpe_offset,
            }
            for s in session.sets.select_related("exercise").order_by("set_index")
        ],
    )


def _planned(profile, since, until) -> list[PlannedSession]:
    return list(
        PlannedSession.objects.filter(
            athlete=profile, rest_day=False, date__range=(since, until)
        ).order_by("date")
    )


def _log_squats(profile, weights: list[str]) -> None:
    """Unplanned squat sessions, one a week-ish, ending yesterday: 5 reps at RPE 8."""
    squat = Exercise.objects.get(slug="back-squat")
    for k, weight in enumerate(weights):
        day = NIGHT - datetime.timedelta(days=6 * (len(weights) - 1 - k))
        services.session_log_create(
            athlete=profile,
            date=day,
            kind="strength",
            duration_s=3600,
            sets=[
                {"exercise": squat, "weight_kg": Decimal(weight), "reps": 5, "rpe": Decimal("8")},
                {"exercise": squat, "weight_kg": Decimal("60"), "reps": 15, "rpe": Decimal("5")},
            ],
        )


def _kinds(alerts) -> list[str]:
    return sorted(a.kind for a in alerts)


def test_missed_sessions_raise_an_alert_with_the_sessions_as_evidence(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        week = _planned(profile, NIGHT - datetime.timedelta(days=6), NIGHT)
        _log(profile, week[0])  # one done, the rest missed
        alerts = athlete_alerts_raise(athlete=profile, date=NIGHT)
    [alert] = [a for a in alerts if a.kind == "missed_sessions"]
    missed = len(week) - 1
    assert missed >= 2
    assert alert.severity == (3 if missed >= 3 else 2)
    assert alert.title == f"Missed {missed} planned sessions this week"
    assert (
        alert.dedupe_key
        == f"missed_sessions:{NIGHT.isocalendar()[0]}-W{NIGHT.isocalendar()[1]:02d}"
    )
    assert alert.evidence["rule"].startswith("≥ 2 planned sessions")
    points = alert.evidence["points"]
    assert [p["date"] for p in points] == [s.date.isoformat() for s in week]
    assert [p["completed"] for p in points] == [True] + [False] * missed
    assert alert.client.user_id == client_a.pk


def test_a_normal_athlete_raises_nothing(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        for session in _planned(profile, START, NIGHT):
            _log(profile, session)
        assert athlete_alerts_raise(athlete=profile, date=NIGHT) == []
        assert Alert.objects.count() == 0


def test_rerunning_the_night_or_the_next_night_creates_nothing_new(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        first = athlete_alerts_raise(athlete=profile, date=NIGHT)
        assert first
        assert athlete_alerts_raise(athlete=profile, date=NIGHT) == []
        if NIGHT.isocalendar()[:2] == TODAY.isocalendar()[:2]:
            assert athlete_alerts_raise(athlete=profile, date=TODAY) == []
        assert Alert.objects.count() == len(first)


def test_adherence_drop_compares_the_last_two_weeks_with_the_four_before(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a, start=TODAY - datetime.timedelta(days=28))
    with tenant_context(tenant_a):
        earlier = _planned(
            profile, TODAY - datetime.timedelta(days=41), TODAY - datetime.timedelta(days=14)
        )
        for session in earlier:
            _log(profile, session)
        alerts = athlete_alerts_raise(athlete=profile, date=TODAY)
    [alert] = [a for a in alerts if a.kind == "adherence_drop"]
    assert alert.severity == 2
    assert alert.title == "Adherence has dropped over the last two weeks"
    before, recent = alert.evidence["points"]
    assert (before["completed"], before["planned"]) == (len(earlier), len(earlier))
    assert before["planned"] >= 4 and before["adherence_pct"] == 100
    assert recent["completed"] == 0 and recent["planned"] > 0


def test_three_low_readiness_days_in_a_row_raise_an_alert(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        version = MethodologyVersion.objects.get()
        for days_ago, score in ((3, 70.0), (2, 35.0), (1, 30.0), (0, 38.0)):
            AutoregulationRun.objects.create(
                athlete=profile,
                date=NIGHT - datetime.timedelta(days=days_ago),
                methodology_version=version,
                autonomy="auto",
                readiness_score=score,
            )
        alerts = athlete_alerts_raise(athlete=profile, date=NIGHT)
        # two low days are not a streak
        earlier = athlete_alerts_raise(athlete=profile, date=NIGHT - datetime.timedelta(days=1))
    [alert] = [a for a in alerts if a.kind == "readiness_low"]
    assert alert.severity == 2
    assert "readiness_low" not in _kinds(earlier)
    assert [p["readiness_score"] for p in alert.evidence["points"]] == [35.0, 30.0, 38.0]


def test_lifts_feeling_harder_than_planned_raise_rpe_drift_per_lift(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        sessions = _planned(profile, START, TODAY)
        assert len(sessions) >= 4
        for session in sessions:
            _log(profile, session, rpe_offset=Decimal("1.5"))
        alerts = athlete_alerts_raise(athlete=profile, date=TODAY)
    drift = sorted((a for a in alerts if a.kind == "rpe_drift"), key=lambda a: a.dedupe_key)
    assert [a.evidence["params"]["exercise"] for a in drift] == [
        "back-squat",
        "bench-press",
        "chest-supported-dumbbell-row",
    ]
    squat = drift[0]
    assert squat.severity == 1 and squat.title == "Back squat is feeling harder than planned"
    assert len(squat.evidence["points"]) == 4
    assert all(p["drift"] == 1.5 for p in squat.evidence["points"])
    assert squat.evidence["params"]["mean_drift"] == 1.5


def test_a_falling_squat_raises_decline(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        _log_squats(profile, ["120", "117.5", "115", "112.5", "110", "107.5"])
        alerts = athlete_alerts_raise(athlete=profile, date=NIGHT)
    [alert] = [a for a in alerts if a.kind in ("decline", "plateau")]
    assert (alert.kind, alert.severity) == ("decline", 3)
    assert alert.title == "Back squat is declining"
    assert alert.dedupe_key.startswith("decline:back-squat:")
    # the 15-rep RPE 5 back-off sets are no e1RM estimates: only the top sets count
    assert [p["e1rm_kg"] for p in alert.evidence["points"]] == [
        round(w / 0.811, 2) for w in (120, 117.5, 115, 112.5, 110, 107.5)
    ]


def test_a_flat_squat_raises_plateau(tenant_a, client_a):
    profile = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        _log_squats(profile, ["120", "122.5", "117.5", "120", "122.5", "117.5"])
        alerts = athlete_alerts_raise(athlete=profile, date=NIGHT)
    [alert] = [a for a in alerts if a.kind in ("decline", "plateau")]
    assert (alert.kind, alert.severity) == ("plateau", 1)
    assert alert.title == "Back squat has stopped progressing"
    assert alert.evidence["params"]["slope_kg_per_week"] <= 0


def test_tenant_b_alerts_stay_out_of_tenant_a(tenant_a, tenant_b, client_a, client_b, coach_a):
    mine = _athlete(tenant_a, client_a)
    theirs = _athlete(tenant_b, client_b)
    with tenant_context(tenant_b):
        foreign = athlete_alerts_raise(athlete=theirs, date=NIGHT)
    with tenant_context(tenant_a):
        own = athlete_alerts_raise(athlete=mine, date=NIGHT)
    assert foreign and own
    api = APIClient()
    api.force_authenticate(coach_a)
    response = api.get(f"/t/{tenant_a.slug}/api/v1/alerts/")
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    ids = {row["id"] for row in rows}
    assert ids == {a.pk for a in own}
    assert not ids & {a.pk for a in foreign}
    assert api.get(f"/t/{tenant_a.slug}/api/v1/alerts/{foreign[0].pk}/").status_code == 404


@pytest.mark.parametrize("offset", [Decimal("0.5")])
def test_small_rpe_overshoot_is_not_drift(tenant_a, client_a, offset):
    profile = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        for session in _planned(profile, START, TODAY):
            _log(profile, session, rpe_offset=offset)
        alerts = athlete_alerts_raise(athlete=profile, date=TODAY)
    assert "rpe_drift" not in _kinds(alerts)
