"""Endurance metrics through the API with real logs and plans: the load series in one
declared unit (warmed up by earlier logs), race prediction from the athlete's own runs,
and the taper preview on the active plan; nobody else's athlete is visible."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from athletes import services as athlete_services
from athletes.models import AthleteProfile
from coaching.tenancy import tenant_context
from programs import metrics, services
from programs.engine import endurance
from programs.engine.load import riegel
from programs.models import PlannedSession, SessionLog
from tests import factories

URL = "/t/alpha/api/v1/athlete-metrics/{}/{}/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def today():
    return timezone.localdate()


def _endurance_athlete(tenant, user, today):
    """An enrolled endurance client with threshold pace, FTP and heart rates assessed."""
    _version, tier = factories.methodology_on_sale(tenant, "endurance")
    with tenant_context(tenant):
        profile = AthleteProfile.objects.get(user=user)
        athlete_services.profile_update(
            profile=profile, discipline="endurance", available_weekdays=[0, 1, 3, 5, 6]
        )
        athlete_services.enrolment_create(
            athlete=profile, tier=tier, started=today - datetime.timedelta(days=300)
        )
        athlete_services.assessment_create(
            athlete=profile,
            date=today - datetime.timedelta(days=300),
            ftp_w=250,
            threshold_pace_s_per_km=270,
            hr_max_bpm=190,
            hr_rest_bpm=50,
            body_weight_kg=Decimal("70"),
        )
    return profile


def _run(tenant, profile, day, *, distance_m=10_000, duration_s=3000, **extra):
    with tenant_context(tenant):
        return services.session_log_create(
            athlete=profile,
            date=day,
            kind="run",
            duration_s=duration_s,
            distance_m=distance_m,
            session_rpe=Decimal("6"),
            **extra,
        )


def test_client_reads_their_series_in_tss_warmed_up_by_earlier_logs(api, tenant_a, client_a, today):
    profile = _endurance_athlete(tenant_a, client_a, today)
    logs = [_run(tenant_a, profile, today - datetime.timedelta(days=d)) for d in (200, 120, 3, 1)]
    logs.append(_run(tenant_a, profile, today - datetime.timedelta(days=1), distance_m=5000))
    api.force_authenticate(client_a)
    response = api.get(URL.format(profile.pk, "load-series"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["unit"] == "tss" and body["logs"] == body["logs_with_unit"] == 5
    points = body["points"]
    assert len(points) == 90 and points[-1]["date"] == today.isoformat()
    by_date = {p["date"]: p for p in points}
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    assert by_date[yesterday]["load"] == pytest.approx(logs[3].tss + logs[4].tss)
    # the runs 120 and 200 days ago (before the window) warm up fitness
    assert points[0]["ctl"] > 0 and points[0]["acwr"] is not None
    daily = {day: sum(x.tss for x in logs if x.date == day) for day in {x.date for x in logs}}
    expected = endurance.load_series(daily, today - datetime.timedelta(days=89), today)
    assert [p["ctl"] for p in points] == pytest.approx([p.ctl for p in expected])
    assert [p["tsb"] for p in points] == pytest.approx([p.tsb for p in expected])


def test_series_range_and_unit_fallbacks(api, tenant_a, client_a, today):
    profile = _endurance_athlete(tenant_a, client_a, today)
    with tenant_context(tenant_a):
        # indoor sessions without distance or power: no TSS, but heart rate gives TRIMP
        for d in (2, 4, 6):
            services.session_log_create(
                athlete=profile,
                date=today - datetime.timedelta(days=d),
                kind="ride",
                duration_s=3600,
                avg_hr_bpm=140,
                session_rpe=Decimal("5"),
            )
    api.force_authenticate(client_a)
    start = today - datetime.timedelta(days=9)
    body = api.get(
        URL.format(profile.pk, "load-series"),
        {"from": start.isoformat(), "to": today.isoformat()},
    ).json()
    assert body["unit"] == "trimp" and body["logs_with_unit"] == 3
    assert [p["date"] for p in body["points"]][0] == start.isoformat()
    assert len(body["points"]) == 10
    with tenant_context(tenant_a):
        assert metrics.load_unit(profile, until=today).unit == "trimp"
        profile.discipline = "strength"
        assert metrics.load_unit(profile, until=today).unit == "srpe"
        srpe = metrics.daily_loads(profile, None, today, unit="srpe")
    assert srpe[today - datetime.timedelta(days=2)] == pytest.approx(5 * 60)


def test_staff_read_any_athlete_of_the_tenant(api, tenant_a, coach_a, client_a, today):
    profile = _endurance_athlete(tenant_a, client_a, today)
    api.force_authenticate(coach_a)
    response = api.get(URL.format(profile.pk, "load-series"))
    assert response.status_code == 200 and response.json()["athlete"] == profile.pk


def test_another_clients_or_tenants_athlete_is_not_found(
    api, tenant_a, tenant_b, client_a, client_b, today
):
    profile = _endurance_athlete(tenant_a, client_a, today)
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    with tenant_context(tenant_b):
        b_profile = AthleteProfile.objects.get(user=client_b)
    cases = [
        (other, URL.format(profile.pk, "load-series")),
        (other, URL.format(profile.pk, "race-prediction") + "?distance_m=5000"),
        (client_b, URL.format(profile.pk, "load-series")),
        (client_b, f"/t/bravo/api/v1/athlete-metrics/{profile.pk}/load-series/"),
        (client_a, URL.format(b_profile.pk, "load-series")),
        (client_a, URL.format(987654, "load-series")),
    ]
    for user, url in cases:
        api.force_authenticate(user)
        response = api.get(url)
        assert response.status_code == 404, (user, url)
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("load-series", {"from": "2026-02-30"}, "from"),
        ("load-series", {"to": "yesterday"}, "to"),
        ("load-series", {"from": "2026-05-02", "to": "2026-05-01"}, "from"),
        ("load-series", {"from": "2024-01-01", "to": "2026-01-01"}, "from"),
        ("race-prediction", {}, "distance_m"),
        ("race-prediction", {"distance_m": "half"}, "distance_m"),
        ("race-prediction", {"distance_m": "-5000"}, "distance_m"),
        ("race-prediction", {"distance_m": "nan"}, "distance_m"),
        ("race-prediction", {"distance_m": "5000", "sport": "swim"}, "sport"),
        ("race-prediction", {"distance_m": "5000", "window_days": "0"}, "window_days"),
        ("taper", {}, "race_date"),
        ("taper", {"race_date": "2020-01-01"}, "race_date"),
        ("taper", {"race_date": "2099-01-01", "weeks": "4"}, "weeks"),
        ("taper", {"race_date": "2099-01-01", "weeks": "two"}, "weeks"),
        ("taper", {"race_date": "2099-01-01", "volume_cut_percent": "-30"}, "volume_cut_percent"),
        ("taper", {"race_date": "2099-01-01", "volume_cut_percent": "50"}, "volume_cut_percent"),
    ],
)
def test_bad_parameters_are_400_with_a_message(
    api, tenant_a, client_a, today, action, params, field
):
    profile = _endurance_athlete(tenant_a, client_a, today)
    api.force_authenticate(client_a)
    response = api.get(URL.format(profile.pk, action), params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "metrics_invalid" and field in error["fields"]
    assert f"`{field}`" in error["message"] or "730" in error["message"]


def test_a_730_day_span_is_allowed(api, tenant_a, client_a, today):
    profile = _endurance_athlete(tenant_a, client_a, today)
    api.force_authenticate(client_a)
    start = today - datetime.timedelta(days=730)
    response = api.get(URL.format(profile.pk, "load-series"), {"from": start.isoformat()})
    assert response.status_code == 200 and len(response.json()["points"]) == 731


def test_race_prediction_from_the_athletes_best_recent_run(api, tenant_a, client_a, today):
    profile = _endurance_athlete(tenant_a, client_a, today)
    _run(tenant_a, profile, today - datetime.timedelta(days=120), duration_s=2100)  # too old
    best = _run(tenant_a, profile, today - datetime.timedelta(days=20), duration_s=2580)
    _run(tenant_a, profile, today - datetime.timedelta(days=5), duration_s=3000)
    _run(tenant_a, profile, today - datetime.timedelta(days=4), distance_m=1000, duration_s=200)
    with tenant_context(tenant_a):
        services.session_log_create(  # a ride is not a running effort
            athlete=profile,
            date=today - datetime.timedelta(days=2),
            kind="ride",
            duration_s=3600,
            distance_m=40_000,
        )
    api.force_authenticate(client_a)
    response = api.get(URL.format(profile.pk, "race-prediction"), {"distance_m": "21097.5"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["time_s"] == pytest.approx(riegel(2580, 10_000, 21097.5))
    assert body["effort"]["session_log"] == best.pk and body["effort"]["kind"] == "training"
    assert len(body["candidates"]) == 2  # the 1 km rep is under 0.25× the distance
    assert "training" in body["reason"]
    empty = api.get(URL.format(profile.pk, "race-prediction"), {"distance_m": "42195"}).json()
    assert empty["time_s"] is None and empty["reason"].startswith("No effort")


def test_taper_preview_shortens_the_active_plan_and_stores_nothing(api, tenant_a, client_a, today):
    profile = _endurance_athlete(tenant_a, client_a, today)
    start = today + datetime.timedelta(days=7 - today.weekday())  # next Monday
    race_date = start + datetime.timedelta(weeks=4)
    with tenant_context(tenant_a):
        services.block_generate(athlete=profile, start_date=start)
        planned = {
            s.pk: (s.duration_min, s.zone)
            for s in PlannedSession.objects.filter(
                athlete=profile, date__gte=race_date - datetime.timedelta(weeks=2)
            )
        }
    assert planned
    api.force_authenticate(client_a)
    response = api.get(
        URL.format(profile.pk, "taper"),
        {"race_date": race_date.isoformat(), "weeks": "2", "volume_cut_percent": "-50"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["week_cuts_percent"] == [-45.0, -55.0]
    changes = body["changes"]
    assert {c["planned_session"] for c in changes} == set(planned)
    for change in changes:
        before, zone = planned[change["planned_session"]]
        assert change["duration_before_min"] == before and change["zone"] == zone
        assert change["duration_after_min"] < before
        assert f"taper week {change['week']} of 2" in change["sentence"]
        assert race_date.isoformat() in change["sentence"]
    assert body["minutes_after"] < 0.6 * body["minutes_before"]
    with tenant_context(tenant_a):
        after = {
            s.pk: (s.duration_min, s.zone) for s in PlannedSession.objects.filter(pk__in=planned)
        }
        assert after == planned and not SessionLog.objects.exists()
