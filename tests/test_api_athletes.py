"""Profiles and assessments over the API: own-or-staff visibility, clear field errors,
and the isolation contract."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from athletes.models import Assessment, AthleteProfile
from coaching.tenancy import tenant_context


@pytest.fixture
def api():
    return APIClient()


def _profile(tenant, user) -> AthleteProfile:
    with tenant_context(tenant):
        return AthleteProfile.objects.get(user=user)


def test_client_sees_only_their_own_profile(api, tenant_a, client_a):
    from tests import factories

    factories.member(tenant_a, "client", email="other@alpha.test")
    api.force_authenticate(client_a)
    rows = api.get("/t/alpha/api/v1/profiles/").json()["results"]
    assert [row["email"] for row in rows] == ["client@alpha.test"]


def test_client_sets_training_days_equipment_and_session_length(api, tenant_a, client_a):
    profile = _profile(tenant_a, client_a)
    api.force_authenticate(client_a)
    response = api.patch(
        f"/t/alpha/api/v1/profiles/{profile.pk}/",
        {
            "available_weekdays": [0, 2, 4],
            "equipment": ["dumbbell", "bench"],
            "session_minutes": 45,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    with tenant_context(tenant_a):
        profile.refresh_from_db()
    assert (profile.available_weekdays, profile.session_minutes) == ([0, 2, 4], 45)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"available_weekdays": [0, 7]}, "available_weekdays"),
        ({"available_weekdays": []}, "available_weekdays"),
        ({"equipment": ["hoverboard"]}, "equipment"),
        ({"session_minutes": 5}, "session_minutes"),
        ({"coach_notes": "I am my own coach"}, "coach_notes"),
    ],
)
def test_bad_profile_input_names_the_field_and_changes_nothing(
    api, tenant_a, client_a, payload, field
):
    profile = _profile(tenant_a, client_a)
    before = (profile.available_weekdays, profile.equipment, profile.session_minutes)
    api.force_authenticate(client_a)
    response = api.patch(f"/t/alpha/api/v1/profiles/{profile.pk}/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    with tenant_context(tenant_a):
        profile.refresh_from_db()
    assert (profile.available_weekdays, profile.equipment, profile.session_minutes) == before


def test_coach_writes_coach_notes(api, tenant_a, coach_a, client_a):
    profile = _profile(tenant_a, client_a)
    api.force_authenticate(coach_a)
    response = api.patch(
        f"/t/alpha/api/v1/profiles/{profile.pk}/",
        {"coach_notes": "Left knee: no jumps"},
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_client_records_an_assessment_for_themselves(api, tenant_a, client_a):
    api.force_authenticate(client_a)
    response = api.post(
        "/t/alpha/api/v1/assessments/",
        {"date": "2026-11-20", "ftp_w": 250, "hr_max_bpm": 188, "hr_rest_bpm": 48},
        format="json",
    )
    assert response.status_code == 201, response.json()
    with tenant_context(tenant_a):
        assert Assessment.objects.get().ftp_w == 250


def test_resting_hr_above_max_is_a_field_error(api, tenant_a, client_a):
    api.force_authenticate(client_a)
    response = api.post(
        "/t/alpha/api/v1/assessments/",
        {"date": "2026-11-20", "hr_max_bpm": 150, "hr_rest_bpm": 160},
        format="json",
    )
    assert response.status_code == 400
    assert "hr_rest_bpm" in response.json()["error"]["fields"]
    with tenant_context(tenant_a):
        assert not Assessment.objects.exists()


def test_staff_must_name_the_athlete(api, tenant_a, coach_a):
    api.force_authenticate(coach_a)
    response = api.post("/t/alpha/api/v1/assessments/", {"date": "2026-11-20"}, format="json")
    assert response.status_code == 400
    assert "athlete" in response.json()["error"]["fields"]


def test_other_tenants_profile_and_assessment_are_404_like_missing_ones(
    api, tenant_a, client_a, tenant_b, client_b
):
    b_profile = _profile(tenant_b, client_b)
    with tenant_context(tenant_b):
        b_assessment = Assessment.objects.create(athlete=b_profile, date="2026-11-01")
    api.force_authenticate(client_a)
    for resource, theirs in (("profiles", b_profile.pk), ("assessments", b_assessment.pk)):
        a = api.get(f"/t/alpha/api/v1/{resource}/{theirs}/")
        b = api.get(f"/t/alpha/api/v1/{resource}/987654321/")
        assert a.status_code == b.status_code == 404
        assert a.content == b.content
