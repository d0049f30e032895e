"""Wearable readings: the batch endpoint (all or nothing, idempotent by key, per-item
errors) and the roll-up into the day's check-in (manual over device, newest wins)."""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from athletes import devices
from athletes.models import AthleteProfile, CheckIn, DeviceSample
from coaching.tenancy import tenant_context
from tests import factories

UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
URL = "/t/alpha/api/v1/device-samples/"


def _at(day: int, hour: int, minute: int = 0) -> str:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=UTC).isoformat()


def hrv(value, day=19, hour=6, source="garmin"):
    return {"source": source, "metric": "hrv_rmssd_ms", "timestamp": _at(day, hour), "value": value}


def sleep(start, end, stage="deep", source="garmin"):
    return {"source": source, "metric": "sleep", "timestamp": start, "end": end, "stage": stage}


@pytest.fixture
def api(client_a):
    api = APIClient()
    api.force_authenticate(client_a)
    return api


@pytest.fixture
def athlete(tenant_a, client_a):
    with tenant_context(tenant_a):
        return AthleteProfile.objects.get(user=client_a)


def _rows(tenant, **filters):
    with tenant_context(tenant):
        return list(DeviceSample.objects.filter(**filters).order_by("timestamp"))


def _checkin(tenant, day):
    with tenant_context(tenant):
        return CheckIn.objects.filter(date=day).first()


# --- parsing (pure) ------------------------------------------------------------------


def test_a_valid_batch_parses_with_local_days():
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    samples = devices.samples_parse(
        [hrv(62.5, day=19, hour=23), sleep(_at(19, 22), _at(20, 5), stage="light")],
        zone=zone,
        now=NOW,
    )
    # 23:00 UTC is already the 20th in Berlin; sleep counts for the wake-up day
    assert [s.day for s in samples] == [datetime.date(2026, 11, 20)] * 2
    assert samples[1].value == Decimal("420.00")  # minutes


def test_every_bad_item_is_named_and_nothing_is_taken():
    items = [
        hrv(60),
        hrv("lots", hour=7),
        {"source": "Garmin Watch", "metric": "vo2", "timestamp": "2026-11-19T06:00:00"},
        sleep(_at(19, 22), None),
        {"source": "garmin", "metric": "steps", "timestamp": _at(19, 8), "value": 10.5},
        hrv(61),  # same key as the first
        "not an object",
        {**hrv(55, hour=9), "colour": "red"},
    ]
    with pytest.raises(devices.InvalidSamples) as caught:
        devices.samples_parse(items, zone=zoneinfo.ZoneInfo("UTC"), now=NOW)
    fields = caught.value.fields
    assert fields["samples[1].value"] == ["Expected a number."]
    assert "samples[2].source" in fields and "samples[2].metric" in fields
    assert "time zone offset" in fields["samples[2].timestamp"][0]
    assert fields["samples[3].end"] == ["Sleep is an interval: give its end."]
    assert fields["samples[4].value"] == ["Steps are a whole number."]
    assert "samples[0]" in fields["samples[5].timestamp"][0]
    assert "samples[6]" in fields
    assert fields["samples[7].colour"] == ["Unknown field."]
    assert "samples[0]" not in " ".join(k for k in fields if k.startswith("samples[0]"))
    assert caught.value.message == "7 of 8 readings are invalid; nothing was stored."


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        (hrv(0), "value", "1 to 400"),
        (hrv(float("nan")), "value", "Expected a number"),
        (hrv(10**30), "value", "1 to 400"),
        (hrv(True), "value", "Expected a number"),
        ({**hrv(60), "timestamp": "2026-11-25T06:00:00Z"}, "timestamp", "future"),
        ({**hrv(60), "timestamp": "2001-11-25T06:00:00Z"}, "timestamp", "ten years"),
        (sleep(_at(19, 22), _at(19, 21)), "end", "after the timestamp"),
        (sleep(_at(18, 12), _at(19, 21)), "end", "24 hours"),
        (sleep(_at(19, 22), _at(20, 5), stage="dozing"), "stage", "one of"),
        ({**hrv(60), "stage": "deep"}, "stage", "Only sleep"),
    ],
)
def test_out_of_range_and_malformed_values_are_refused(item, field, words):
    _, errors = devices.sample_parse(item, zone=zoneinfo.ZoneInfo("UTC"), now=NOW)
    assert words in " ".join(errors[field])


def test_a_batch_over_the_limit_or_empty_or_not_a_list_is_refused():
    zone = zoneinfo.ZoneInfo("UTC")
    with pytest.raises(devices.InvalidSamples, match="At most 10000"):
        devices.samples_parse([hrv(60)] * (devices.MAX_SAMPLES + 1), zone=zone, now=NOW)
    with pytest.raises(devices.InvalidSamples, match="empty"):
        devices.samples_parse([], zone=zone, now=NOW)
    with pytest.raises(devices.InvalidSamples, match="list"):
        devices.samples_parse({"a": 1}, zone=zone, now=NOW)


# --- the endpoint ----------------------------------------------------------------------


def test_a_batch_is_stored_and_re_sending_it_changes_nothing(api, tenant_a):
    batch = {"samples": [hrv(58), hrv(64, hour=7, source="oura"), sleep(_at(18, 22), _at(19, 6))]}
    first = api.post(URL, batch, format="json")
    assert first.status_code == 201, first.content
    assert first.json() == {"created": 3, "updated": 0, "unchanged": 0, "days": ["2026-11-19"]}
    again = api.post(URL, batch, format="json")
    assert again.status_code == 200
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3, "days": []}
    assert len(_rows(tenant_a)) == 3
    # a corrected reading replaces the old one under the same key
    fixed = api.post(URL, {"samples": [hrv(59)]}, format="json")
    assert fixed.json()["updated"] == 1
    assert [r.value for r in _rows(tenant_a, source="garmin", metric="hrv_rmssd_ms")] == [
        Decimal("59.00")
    ]


def test_the_day_rolls_up_into_the_check_in_newest_reading_wins(api, tenant_a):
    api.post(
        URL,
        {
            "samples": [
                hrv(58, hour=5),
                hrv(64, hour=7, source="oura"),  # newest HRV of the day
                {
                    "source": "oura",
                    "metric": "resting_hr_bpm",
                    "timestamp": _at(19, 7),
                    "value": 51.4,
                },  # fmt: skip
                {
                    "source": "scale",
                    "metric": "body_weight_kg",
                    "timestamp": _at(19, 8),
                    "value": 80.456,
                },  # fmt: skip
                # two sources measured the night: the newer one (oura) is used, not the sum
                sleep(_at(18, 22), _at(19, 2), stage="light"),
                sleep(_at(19, 2), _at(19, 5), stage="deep"),
                sleep(_at(18, 23), _at(19, 2), stage="rem", source="oura"),
                sleep(_at(19, 2), _at(19, 6), stage="light", source="oura"),
                sleep(_at(19, 6), _at(19, 6, 30), stage="awake", source="oura"),
                {"source": "garmin", "metric": "steps", "timestamp": _at(19, 20), "value": 9000},
            ]
        },
        format="json",
    )
    checkin = _checkin(tenant_a, datetime.date(2026, 11, 19))
    assert checkin.hrv_rmssd_ms == Decimal("64.0")
    assert checkin.resting_hr_bpm == 51
    assert checkin.body_weight_kg == Decimal("80.46")
    assert checkin.sleep_hours == Decimal("7.00")  # 3 h REM + 4 h light, awake not counted
    assert checkin.device_fields == ["body_weight_kg", "hrv_rmssd_ms", "resting_hr_bpm",
                                     "sleep_hours"]  # fmt: skip
    assert checkin.soreness is None  # only the client reports how they feel


def test_what_the_client_typed_wins_over_any_device(api, tenant_a):
    day = "2026-11-19"
    api.post("/t/alpha/api/v1/checkins/", {"date": day, "hrv_rmssd_ms": "70.0"}, format="json")
    api.post(URL, {"samples": [hrv(50), sleep(_at(18, 23), _at(19, 6))]}, format="json")
    checkin = _checkin(tenant_a, datetime.date(2026, 11, 19))
    assert checkin.hrv_rmssd_ms == Decimal("70.0")  # manual kept
    assert checkin.sleep_hours == Decimal("7.00")  # device filled the empty field
    assert checkin.device_fields == ["sleep_hours"]
    # the client then corrects the sleep by hand: it becomes theirs, devices stop
    api.post("/t/alpha/api/v1/checkins/", {"date": day, "sleep_hours": "6.5"}, format="json")
    api.post(URL, {"samples": [sleep(_at(19, 6), _at(19, 7), stage="light")]}, format="json")
    checkin = _checkin(tenant_a, datetime.date(2026, 11, 19))
    assert checkin.sleep_hours == Decimal("6.50")
    assert checkin.device_fields == []


def test_one_bad_item_stores_nothing_and_leaves_the_day_as_it_was(api, tenant_a):
    api.post(URL, {"samples": [hrv(60)]}, format="json")
    before = _checkin(tenant_a, datetime.date(2026, 11, 19))
    response = api.post(URL, {"samples": [hrv(80, hour=8), hrv(900, hour=9)]}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_samples"
    assert error["message"] == "1 of 2 readings are invalid; nothing was stored."
    assert error["fields"] == {"samples[1].value": ["Expected 1 to 400 for hrv_rmssd_ms."]}
    assert len(_rows(tenant_a)) == 1
    assert _checkin(tenant_a, datetime.date(2026, 11, 19)).hrv_rmssd_ms == before.hrv_rmssd_ms


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"samples": [', "application/json"),
        ("[1, 2]", "application/json"),
        ('{"samples": "many"}', "application/json"),
        ('{"readings": []}', "application/json"),
    ],
)
def test_malformed_bodies_get_a_400_with_the_error_body(api, tenant_a, body, content_type):
    response = api.generic("POST", URL, body, content_type=content_type)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert _rows(tenant_a) == []


def test_no_health_data_consent_no_readings(tenant_a):
    account = factories.member(tenant_a, "client", email="shy@alpha.test", consents=False)
    api = APIClient()
    api.force_authenticate(account)
    response = api.post(URL, {"samples": [hrv(60)]}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_required"
    assert _rows(tenant_a) == []


def test_coaches_read_a_clients_readings_but_never_send_them(coach_a, api, athlete, tenant_b):
    api.post(URL, {"samples": [hrv(60), hrv(62, day=18)]}, format="json")
    coach = APIClient()
    coach.force_authenticate(coach_a)
    assert coach.post(URL, {"samples": [hrv(60)]}, format="json").status_code == 403
    listed = coach.get(URL, {"athlete": athlete.pk, "from": "2026-11-19", "metric": "hrv_rmssd_ms"})
    assert listed.status_code == 200
    assert [row["value"] for row in listed.json()["results"]] == ["60.00"]
    assert coach.get(URL).status_code == 400  # staff name the athlete
    assert coach.get(URL, {"athlete": athlete.pk, "from": "yesterday"}).status_code == 400
    other = factories.member(tenant_b, "client", email="b2@bravo.test")
    with tenant_context(tenant_b):
        theirs = AthleteProfile.objects.get(user=other)
    assert coach.get(URL, {"athlete": theirs.pk}).status_code == 404


def test_ten_thousand_readings_in_one_request_in_a_constant_number_of_queries(api, tenant_a):
    start = datetime.datetime(2026, 10, 1, tzinfo=UTC)

    def batch(n):
        return {
            "samples": [
                {
                    "source": "garmin",
                    "metric": "steps",
                    "timestamp": (start + datetime.timedelta(minutes=4 * i)).isoformat(),
                    "value": 100 + i % 50,
                }
                for i in range(n)
            ]
        }

    with CaptureQueriesContext(connection) as small:
        assert api.post(URL, batch(50), format="json").status_code == 201
    with CaptureQueriesContext(connection) as large:
        response = api.post(URL, batch(devices.MAX_SAMPLES), format="json")
    assert response.status_code == 201
    assert response.json()["created"] == devices.MAX_SAMPLES - 50
    assert len(_rows(tenant_a)) == devices.MAX_SAMPLES
    # bulk writes: the batch size, not the number of readings, sets the statement count
    assert len(large) <= len(small) + 10


def test_a_reading_moved_to_another_day_recomputes_both_days(tenant_a, athlete):
    # the business is in Amsterdam (UTC+1): 18:00-21:00 UTC is the evening of the 19th
    nap = sleep(_at(19, 18), _at(19, 21), stage="asleep")
    with tenant_context(tenant_a):
        devices.device_samples_ingest(athlete=athlete, items=[nap])
        assert CheckIn.objects.get(date=datetime.date(2026, 11, 19)).sleep_hours == Decimal("3")
        # the device corrects the end of the same interval (same key) past midnight
        result = devices.device_samples_ingest(athlete=athlete, items=[{**nap, "end": _at(20, 0)}])
        assert result.days == (datetime.date(2026, 11, 19), datetime.date(2026, 11, 20))
        by_day = {c.date: c for c in CheckIn.objects.all()}
        assert by_day[datetime.date(2026, 11, 19)].sleep_hours is None
        assert by_day[datetime.date(2026, 11, 19)].device_fields == []
        assert by_day[datetime.date(2026, 11, 20)].sleep_hours == Decimal("6")
