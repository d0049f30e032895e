"""Check-in API: the isolation contract (another tenant's object is the same 404 as a
missing one), the one error body, pagination, token auth with X-Tenant."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from athletes.models import AthleteProfile
from coaching.tenancy import tenant_context
from tests import factories

DAY = datetime.date(2026, 11, 20)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def b_checkin(tenant_b, client_b):
    return factories.checkin(tenant_b, client_b, DAY)


@pytest.fixture
def a_checkin(tenant_a, client_a):
    return factories.checkin(tenant_a, client_a, DAY)


def test_client_lists_own_checkins_paginated(api, client_a, a_checkin, b_checkin):
    # given a client of A with one check-in, and one in B
    api.force_authenticate(client_a)
    # when they list
    response = api.get("/t/alpha/api/v1/checkins/")
    # then they see exactly their own, in the paginated envelope
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [a_checkin.pk]
    assert body["results"][0]["hrv_rmssd_ms"] == "62.0"


def test_other_tenants_object_is_byte_identical_to_a_missing_one(api, client_a, b_checkin):
    api.force_authenticate(client_a)
    theirs = api.get(f"/t/alpha/api/v1/checkins/{b_checkin.pk}/")
    missing = api.get("/t/alpha/api/v1/checkins/987654321/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content
    assert theirs.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def test_another_clients_checkin_in_the_same_tenant_is_also_404(api, tenant_a, client_a):
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    theirs = factories.checkin(tenant_a, other, DAY)
    api.force_authenticate(client_a)
    assert api.get(f"/t/alpha/api/v1/checkins/{theirs.pk}/").status_code == 404


def test_coach_sees_every_client_of_their_tenant_only(api, coach_a, a_checkin, b_checkin):
    api.force_authenticate(coach_a)
    ids = [row["id"] for row in api.get("/t/alpha/api/v1/checkins/").json()["results"]]
    assert ids == [a_checkin.pk]


def test_non_member_gets_404_for_the_whole_tenant_api(api, client_b, a_checkin):
    api.force_authenticate(client_b)
    assert api.get("/t/alpha/api/v1/checkins/").status_code == 404


def test_token_auth_with_x_tenant_header(api, tenant_a, client_a, a_checkin):
    token = Token.objects.create(user=client_a)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_X_TENANT="alpha")
    response = api.get("/api/v1/checkins/")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_unknown_tenant_header_is_404(api, client_a):
    api.force_authenticate(client_a)
    assert api.get("/api/v1/checkins/", HTTP_X_TENANT="nope").status_code == 404


def test_no_tenant_at_all_is_404(api, client_a):
    api.force_authenticate(client_a)
    assert api.get("/api/v1/checkins/").status_code == 404


def test_anonymous_gets_401_or_403_in_the_error_body(api, tenant_a):
    response = api.get("/t/alpha/api/v1/checkins/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_client_creates_a_checkin_for_themselves(api, tenant_a, client_a):
    api.force_authenticate(client_a)
    response = api.post(
        "/t/alpha/api/v1/checkins/",
        {"date": "2026-11-21", "sleep_hours": "6.5", "soreness": 3, "hrv_rmssd_ms": "48.5"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        assert athlete.checkins.get().sleep_hours == pytest.approx(6.5)


def test_invalid_fields_get_the_error_body_and_nothing_is_stored(api, tenant_a, client_a):
    api.force_authenticate(client_a)
    response = api.post(
        "/t/alpha/api/v1/checkins/", {"date": "2026-11-21", "soreness": 9}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "soreness" in error["fields"]
    with tenant_context(tenant_a):
        assert not AthleteProfile.objects.get(user=client_a).checkins.exists()


def test_second_checkin_of_the_day_updates_only_the_fields_sent(api, tenant_a, client_a, a_checkin):
    api.force_authenticate(client_a)
    response = api.post(
        "/t/alpha/api/v1/checkins/",
        {"date": DAY.isoformat(), "soreness": 5, "mood": 2},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["id"] == a_checkin.pk
    with tenant_context(tenant_a):
        a_checkin.refresh_from_db()
        assert (a_checkin.soreness, a_checkin.mood) == (5, 2)
        assert a_checkin.hrv_rmssd_ms == pytest.approx(62.0)  # kept
        assert AthleteProfile.objects.get(user=client_a).checkins.count() == 1


def test_checkin_far_in_the_future_is_refused_with_the_field_named(api, tenant_a, client_a):
    api.force_authenticate(client_a)
    response = api.post("/t/alpha/api/v1/checkins/", {"date": "2031-01-01"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "date_in_future"
    assert "date" in error["fields"]


def test_body_fk_to_another_tenants_athlete_is_rejected_like_a_missing_one(
    api, coach_a, tenant_b, client_b
):
    with tenant_context(tenant_b):
        b_athlete = AthleteProfile.objects.get(user=client_b)
    api.force_authenticate(coach_a)
    theirs = api.post(
        "/t/alpha/api/v1/checkins/",
        {"date": "2026-11-21", "athlete": b_athlete.pk},
        format="json",
    )
    missing = api.post(
        "/t/alpha/api/v1/checkins/", {"date": "2026-11-21", "athlete": 987654321}, format="json"
    )
    assert theirs.status_code == missing.status_code == 400
    assert theirs.content == missing.content


def test_coach_without_mfa_is_refused_with_a_code(api, tenant_a):
    coach = factories.member(tenant_a, "coach", email="nomfa@alpha.test")
    api.force_authenticate(coach)
    response = api.get("/t/alpha/api/v1/checkins/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"


def test_suspended_tenant_is_read_only_over_the_api(api, tenant_a, client_a, a_checkin):
    tenant_a.status = "suspended"
    tenant_a.save(update_fields=["status"])
    api.force_authenticate(client_a)
    assert api.get("/t/alpha/api/v1/checkins/").status_code == 200
    response = api.post("/t/alpha/api/v1/checkins/", {"date": "2026-11-22"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_read_only"


def test_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/checkins/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content
