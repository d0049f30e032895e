"""Blocks, planned sessions and logs through services and the API: a client enrolled on
a published methodology gets a plan on their days with loads from the chart, logs
sessions with engine-computed loads, and never sees another tenant's or client's plan."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from athletes import services as athlete_services
from athletes.models import AthleteProfile
from coaching.methodology import default_rules
from coaching.tenancy import tenant_context
from programs import services
from programs.engine.strength import load_for
from programs.models import Exercise, PlannedSession, ProgramBlock, SessionLog, SetLog
from tests import factories

START = datetime.date(2026, 11, 30)  # a Monday


@pytest.fixture
def api():
    return APIClient()


def _strength_rules() -> dict:
    rules = default_rules("strength")
    rules["guardrails"]["protected_exercises"] = ["back-squat"]
    return rules


def _enrolled_athlete(tenant, user, *, discipline="strength", weekdays=(0, 2, 4)):
    version, tier = factories.methodology_on_sale(
        tenant, discipline, _strength_rules() if discipline == "strength" else None
    )
    with tenant_context(tenant):
        services.exercise_library_install()
        profile = AthleteProfile.objects.get(user=user)
        athlete_services.profile_update(
            profile=profile,
            discipline=discipline,
            available_weekdays=list(weekdays),
            equipment=["barbell", "rack", "bench", "dumbbell", "cable", "pullup_bar"],
            session_minutes=75,
        )
        athlete_services.enrolment_create(athlete=profile, tier=tier, started=START)
        assessment = athlete_services.assessment_create(
            athlete=profile,
            date=datetime.date(2026, 11, 20),
            ftp_w=250,
            threshold_pace_s_per_km=270,
            hr_max_bpm=190,
            hr_rest_bpm=50,
            body_weight_kg=Decimal("80"),
        )
        squat = Exercise.objects.get(slug="back-squat")
        # 5 @ RPE 8 with 113.5 kg → e1RM 140 kg on the RTS chart
        services.assessment_lift_add(
            assessment=assessment,
            exercise=squat,
            weight_kg=Decimal("113.54"),
            reps=5,
            rpe=Decimal("8"),
        )
    return profile


def test_block_generate_plans_on_the_athletes_days_with_chart_loads(tenant_a, client_a):
    profile = _enrolled_athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        block = services.block_generate(athlete=profile, start_date=START)
        sessions = list(
            PlannedSession.objects.filter(block=block).prefetch_related("sets__exercise")
        )
    assert block.weeks == 4 and block.status == "active"
    assert sessions and {s.date.weekday() for s in sessions} <= {0, 2, 4}
    assert all(START <= s.date < START + datetime.timedelta(weeks=4) for s in sessions)
    squat_sets = [
        st
        for s in sessions
        for st in s.sets.all()
        if st.exercise.slug == "back-squat" and st.target_rpe is not None and st.load_kg
    ]
    assert squat_sets, "the protected back squat is planned with loads"
    e1rm = block.inputs["e1rm_kg"]["back-squat"]
    for st in squat_sets:
        assert float(st.load_kg) == load_for(e1rm, st.reps, float(st.target_rpe))
        assert st.derivation["sentence"]
    deload = [s for s in sessions if s.is_deload]
    build = [s for s in sessions if s.week == 3]
    assert deload and sum(len(s.sets.all()) for s in deload) < sum(len(s.sets.all()) for s in build)


def test_regenerating_supersedes_the_active_block(tenant_a, client_a):
    profile = _enrolled_athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        first = services.block_generate(athlete=profile, start_date=START)
        second = services.block_generate(
            athlete=profile, start_date=START + datetime.timedelta(weeks=4)
        )
        first.refresh_from_db()
    assert (first.status, second.status, second.previous_id) == ("superseded", "active", first.pk)


def test_next_block_uses_the_working_e1rm_of_logged_sets(tenant_a, client_a):
    profile = _enrolled_athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        services.block_generate(athlete=profile, start_date=START - datetime.timedelta(weeks=4))
        squat = Exercise.objects.get(slug="back-squat")
        for week in range(3):
            day = START - datetime.timedelta(weeks=3 - week)
            services.session_log_create(
                athlete=profile,
                date=day,
                kind="strength",
                duration_s=3600,
                session_rpe=Decimal("8"),
                sets=[
                    {"exercise": squat, "weight_kg": Decimal("130"), "reps": 5, "rpe": Decimal("8")}
                ],
            )
        block = services.block_generate(athlete=profile, start_date=START)
    assert block.inputs["e1rm_kg"]["back-squat"] == pytest.approx(130 / 0.811, rel=1e-3)


def test_unenrolled_athlete_cannot_be_planned(tenant_a, client_a):
    with tenant_context(tenant_a):
        profile = AthleteProfile.objects.get(user=client_a)
        with pytest.raises(services.NoEnrolment):
            services.block_generate(athlete=profile, start_date=START)


def test_endurance_block_targets_are_in_the_athletes_own_numbers(tenant_a, client_a):
    profile = _enrolled_athlete(
        tenant_a, client_a, discipline="endurance", weekdays=(0, 1, 3, 5, 6)
    )
    with tenant_context(tenant_a):
        block = services.block_generate(athlete=profile, start_date=START)
        sessions = list(PlannedSession.objects.filter(block=block))
    assert sessions and all(s.kind in ("run", "ride") for s in sessions)
    assert {s.date.weekday() for s in sessions} <= {0, 1, 3, 5, 6}
    assert all(s.zone and s.target_low and s.target_unit for s in sessions)
    weekly = {w: sum(s.duration_min for s in sessions if s.week == w) for w in range(1, 5)}
    assert weekly[4] < weekly[3]


def test_coach_generates_a_block_and_the_client_reads_why(api, tenant_a, coach_a, client_a):
    profile = _enrolled_athlete(tenant_a, client_a)
    api.force_authenticate(coach_a)
    response = api.post(
        "/t/alpha/api/v1/blocks/generate/",
        {"athlete": profile.pk, "start_date": START.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    api.force_authenticate(client_a)
    planned = api.get("/t/alpha/api/v1/planned-sessions/", {"from": START.isoformat()}).json()
    first = planned["results"][0]
    assert first["derivation"]["sentence"]
    loaded = [s for s in first["sets"] if s["load_kg"]]
    assert loaded and all(s["derivation"]["sentence"] for s in loaded)


def test_client_cannot_generate_blocks(api, tenant_a, client_a):
    profile = _enrolled_athlete(tenant_a, client_a)
    api.force_authenticate(client_a)
    response = api.post(
        "/t/alpha/api/v1/blocks/generate/",
        {"athlete": profile.pk, "start_date": START.isoformat()},
        format="json",
    )
    assert response.status_code == 403


def test_logging_a_ride_computes_srpe_tss_and_trimp(api, tenant_a, client_a):
    _enrolled_athlete(tenant_a, client_a)
    api.force_authenticate(client_a)
    response = api.post(
        "/t/alpha/api/v1/session-logs/",
        {
            "date": "2026-11-20",
            "kind": "ride",
            "duration_s": 5400,
            "session_rpe": "6",
            "avg_hr_bpm": 145,
            "normalized_power_w": 200,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["srpe_load"] == pytest.approx(6 * 90)
    assert body["tss"] == pytest.approx(96)  # 1.5 h at IF 0.8
    assert body["trimp"] > 0


def test_logging_sets_against_a_planned_session_counts_for_adherence(api, tenant_a, client_a):
    profile = _enrolled_athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        block = services.block_generate(athlete=profile, start_date=datetime.date(2026, 11, 16))
        planned = PlannedSession.objects.filter(block=block).order_by("date").first()
        squat = Exercise.objects.get(slug="back-squat")
    api.force_authenticate(client_a)
    response = api.post(
        "/t/alpha/api/v1/session-logs/",
        {
            "date": planned.date.isoformat(),
            "kind": "strength",
            "duration_s": 3600,
            "planned_session": planned.pk,
            "session_rpe": "8",
            "sets": [{"exercise": squat.pk, "weight_kg": "110", "reps": 5, "rpe": "8"}] * 3,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    adherence = api.get(f"/t/alpha/api/v1/blocks/{block.pk}/adherence/").json()
    assert adherence[0]["completed"] == 1
    assert adherence[0]["planned"] >= 3


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"session_rpe": "11"}, "session_rpe"),
        ({"sets": [{"exercise": "EX", "weight_kg": "-5", "reps": 5}]}, "sets"),
        ({"sets": [{"exercise": "EX", "weight_kg": "100", "reps": 0}]}, "sets"),
        ({"sets": [{"exercise": "EX", "weight_kg": "100", "reps": 5, "rpe": "11"}]}, "sets"),
        ({"sets": [{"exercise": 987654321, "weight_kg": "100", "reps": 5}]}, "sets"),
        ({"date": "2031-01-01"}, "date"),
    ],
)
def test_bad_log_input_names_the_field_and_stores_nothing(api, tenant_a, client_a, payload, field):
    _enrolled_athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        squat_pk = Exercise.objects.get(slug="back-squat").pk
    body = {"date": "2026-11-20", "kind": "strength", "duration_s": 3600, **payload}
    for row in body.get("sets", []):
        if row["exercise"] == "EX":
            row["exercise"] = squat_pk
    api.force_authenticate(client_a)
    response = api.post("/t/alpha/api/v1/session-logs/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    with tenant_context(tenant_a):
        assert not SessionLog.objects.exists() and not SetLog.objects.exists()


def test_other_tenants_and_other_clients_plans_are_404(api, tenant_a, client_a, tenant_b, client_b):
    b_profile = _enrolled_athlete(tenant_b, client_b)
    with tenant_context(tenant_b):
        b_block = services.block_generate(athlete=b_profile, start_date=START)
        b_session = PlannedSession.objects.filter(block=b_block).first()
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    a_profile = _enrolled_athlete(tenant_a, other)
    with tenant_context(tenant_a):
        a_block = services.block_generate(athlete=a_profile, start_date=START)
    api.force_authenticate(client_a)
    for url in (
        f"/t/alpha/api/v1/blocks/{b_block.pk}/",
        f"/t/alpha/api/v1/planned-sessions/{b_session.pk}/",
        f"/t/alpha/api/v1/blocks/{a_block.pk}/",
    ):
        theirs = api.get(url)
        missing = api.get(url.rsplit("/", 2)[0] + "/987654321/")
        assert theirs.status_code == missing.status_code == 404
        assert theirs.content == missing.content


def test_library_install_ships_the_exercises_once(tenant_a):
    with tenant_context(tenant_a):
        added = services.exercise_library_install()
        again = services.exercise_library_install()
        assert added >= 120 and again == 0
        assert ProgramBlock.objects.count() == 0


def test_client_reads_their_plan_page_with_the_reasons(client, tenant_a, client_a):
    profile = _enrolled_athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        services.block_generate(athlete=profile, start_date=START)
    client.force_login(client_a)
    page = client.get("/t/alpha/plan/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Week 1" in body and "Week 4 · deload" in body
    assert "Back squat" in body and "% of your 140 kg e1RM" in body
    with tenant_context(tenant_a):
        sentence = ProgramBlock.objects.get().derivation["sentence"]
    assert sentence and sentence in body  # the block's own reason, not Django's `block`


def test_a_client_without_a_block_is_told_so(client, tenant_a, client_a):
    _enrolled_athlete(tenant_a, client_a)
    client.force_login(client_a)
    assert "No plan yet." in client.get("/t/alpha/plan/").content.decode()


def test_coach_reads_a_clients_plan_but_a_client_cannot_read_anothers(
    client, tenant_a, coach_a, client_a
):
    profile = _enrolled_athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        services.block_generate(athlete=profile, start_date=START)
    client.force_login(coach_a)
    assert client.get(f"/t/alpha/plan/{profile.pk}/").status_code == 200
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    client.force_login(other)
    assert client.get(f"/t/alpha/plan/{profile.pk}/").status_code == 404


def test_coach_enrols_a_client_and_a_second_enrolment_ends_the_first(
    api, tenant_a, coach_a, client_a
):
    version, tier = factories.methodology_on_sale(tenant_a)
    with tenant_context(tenant_a):
        profile = AthleteProfile.objects.get(user=client_a)
    api.force_authenticate(coach_a)
    first = api.post(
        "/t/alpha/api/v1/enrolments/",
        {"athlete": profile.pk, "tier": tier.pk, "started": "2026-11-01"},
        format="json",
    )
    assert first.status_code == 201, first.json()
    assert first.json()["methodology_version"] == version.pk
    second = api.post(
        "/t/alpha/api/v1/enrolments/",
        {"athlete": profile.pk, "tier": tier.pk, "started": "2026-11-20"},
        format="json",
    )
    assert second.status_code == 201
    rows = {row["id"]: row for row in api.get("/t/alpha/api/v1/enrolments/").json()["results"]}
    assert rows[first.json()["id"]]["ended"] == "2026-11-19"
    api.force_authenticate(client_a)
    refused = api.post(
        "/t/alpha/api/v1/enrolments/", {"athlete": profile.pk, "tier": tier.pk}, format="json"
    )
    assert refused.status_code == 403


def test_a_back_filled_log_uses_the_assessment_in_force_on_its_date(tenant_a, client_a):
    profile = _enrolled_athlete(tenant_a, client_a)  # assessed on 2026-11-20 (FTP 250)
    with tenant_context(tenant_a):
        before = services.session_log_create(
            athlete=profile,
            date=datetime.date(2026, 11, 1),
            kind="ride",
            duration_s=3600,
            normalized_power_w=250,
        )
        after = services.session_log_create(
            athlete=profile,
            date=datetime.date(2026, 11, 21),
            kind="ride",
            duration_s=3600,
            normalized_power_w=250,
        )
    assert before.tss is None  # no FTP on record yet on 1 November
    assert after.tss == pytest.approx(100)
