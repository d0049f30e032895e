"""FIT activity import (programs/imports.py): files written here with the `fit-tool`
encoder, uploaded through `athletes.imports.import_create` and run by `import_run`, the
path the Celery task takes. A ride with power and heart rate, a run without power, a
truncated file, a file that is not FIT, a damaged one, and the same file twice."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import FileType, Manufacturer, Sport

from athletes import services as athlete_services
from athletes.imports import import_create, import_run
from athletes.models import AthleteProfile
from coaching.models import Tenant
from coaching.tenancy import tenant_context
from programs.engine import load as load_engine
from programs.imports import normalized_power
from programs.models import SessionLog
from tests import factories

# 23:30 UTC is already the next day in Berlin: the log's date is the business's day.
RIDE_START = datetime.datetime(2026, 11, 2, 23, 30, tzinfo=datetime.UTC)
RUN_START = datetime.datetime(2026, 11, 4, 7, 0, tzinfo=datetime.UTC)


def fit_bytes(
    *,
    start: datetime.datetime,
    seconds: int,
    sport: Sport | None,
    power: bool,
    speed_m_s: float,
    serial: int = 0x12345678,
    file_id: bool = True,
) -> bytes:
    """An activity file as a device writes it: file_id, 1 Hz records, one session."""
    ms = int(start.timestamp() * 1000)
    builder = FitFileBuilder(auto_define=True, min_string_size=50)
    if file_id:
        message = FileIdMessage()
        message.type = FileType.ACTIVITY
        message.manufacturer = Manufacturer.GARMIN.value
        message.product = 1
        message.serial_number = serial
        message.time_created = ms
        builder.add(message)
    records = []
    for i in range(seconds):
        record = RecordMessage()
        record.timestamp = ms + i * 1000
        record.heart_rate = 140 + (i % 20)  # 140..159, mean 149.5
        record.distance = i * speed_m_s
        record.speed = speed_m_s
        if power:
            # 10 min blocks alternating 150 W and 300 W: NP well above the mean.
            record.power = 300 if (i // 600) % 2 else 150
        records.append(record)
    builder.add_all(records)
    if sport is not None:
        session = SessionMessage()
        session.timestamp = ms + seconds * 1000
        session.start_time = ms
        session.sport = sport
        session.total_elapsed_time = seconds
        session.total_timer_time = seconds
        session.total_distance = (seconds - 1) * speed_m_s
        builder.add(session)
    return builder.build().to_bytes()


@pytest.fixture
def athlete(tenant_a, client_a, settings, tmp_path) -> AthleteProfile:
    """A client of a Berlin business, assessed: FTP 250 W, threshold 4:00 /km, HR 50–190."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    Tenant.objects.filter(pk=tenant_a.pk).update(timezone="Europe/Berlin")
    tenant_a.refresh_from_db()
    with tenant_context(tenant_a):
        profile = AthleteProfile.objects.get(user=client_a)
        athlete_services.assessment_create(
            athlete=profile,
            date=datetime.date(2026, 10, 1),
            ftp_w=250,
            threshold_pace_s_per_km=240,
            hr_max_bpm=190,
            hr_rest_bpm=50,
        )
    return profile


def upload(tenant, athlete, data: bytes, name: str = "activity.fit"):
    with tenant_context(tenant):
        job = import_create(
            athlete=athlete,
            kind="fit",
            upload=SimpleUploadedFile(name, data, "application/octet-stream"),
        )
        return import_run(job=job)


def test_a_ride_with_power_and_heart_rate_becomes_an_endurance_log_with_tss_and_trimp(
    tenant_a, athlete
):
    data = fit_bytes(start=RIDE_START, seconds=3600, sport=Sport.CYCLING, power=True, speed_m_s=9.0)
    job = upload(tenant_a, athlete, data)
    assert job.status == "done", job.error
    assert job.counts["created"] == 1 and job.records > 3600
    with tenant_context(tenant_a):
        [log] = SessionLog.objects.filter(athlete=athlete)
    assert log.kind == "ride"
    assert log.date == datetime.date(2026, 11, 3)  # Berlin, not UTC
    assert log.duration_s == 3600
    assert log.distance_m == round(3599 * 9.0)
    assert log.avg_hr_bpm == 150 and log.max_hr_bpm == 159  # 149.5 rounds to even
    assert log.avg_power_w == 225
    # Alternating 150/300 W blocks: NP from the 30 s rolling fourth-power mean.
    expected_np = normalized_power(
        [(float(i), 300 if (i // 600) % 2 else 150) for i in range(3600)]
    )
    assert log.normalized_power_w == round(expected_np)
    assert 240 < log.normalized_power_w < 260
    assert log.tss == pytest.approx(load_engine.tss(3600, log.normalized_power_w, 250))
    assert log.trimp == pytest.approx(load_engine.trimp(60, 150, 50, 190, "female"))
    assert log.external_id.startswith("fit:garmin:305419896:")


def test_a_run_without_power_gets_pace_based_tss_and_no_power(tenant_a, athlete):
    data = fit_bytes(start=RUN_START, seconds=1800, sport=Sport.RUNNING, power=False, speed_m_s=3.5)
    job = upload(tenant_a, athlete, data, "morning-run.FIT")
    assert job.status == "done", job.error
    with tenant_context(tenant_a):
        [log] = SessionLog.objects.filter(athlete=athlete)
    assert (log.kind, log.date) == ("run", datetime.date(2026, 11, 4))
    assert log.avg_power_w is None and log.normalized_power_w is None
    assert log.distance_m == round(1799 * 3.5)
    threshold_speed = 1000 / 240
    assert log.tss == pytest.approx(
        load_engine.run_tss(1800, log.distance_m / 1800, threshold_speed)
    )
    assert log.trimp is not None
    assert "/km" in log.notes


def test_importing_the_same_file_twice_creates_nothing_new(tenant_a, athlete):
    data = fit_bytes(start=RUN_START, seconds=900, sport=Sport.RUNNING, power=False, speed_m_s=3.0)
    first = upload(tenant_a, athlete, data)
    second = upload(tenant_a, athlete, data, "renamed-copy.fit")
    assert first.counts["created"] == 1
    assert second.status == "done" and second.counts["created"] == 0
    assert second.counts["unchanged"] == 1
    with tenant_context(tenant_a):
        assert SessionLog.objects.filter(athlete=athlete).count() == 1


def test_without_a_file_id_the_bytes_are_the_key(tenant_a, athlete):
    data = fit_bytes(
        start=RUN_START, seconds=600, sport=Sport.RUNNING, power=False, speed_m_s=3.0, file_id=False
    )
    assert upload(tenant_a, athlete, data).counts["created"] == 1
    assert upload(tenant_a, athlete, data).counts["unchanged"] == 1
    with tenant_context(tenant_a):
        [log] = SessionLog.objects.filter(athlete=athlete)
    assert log.external_id.startswith("fit-sha256:")


def test_a_truncated_file_fails_naming_the_record_and_stores_nothing(tenant_a, athlete):
    data = fit_bytes(start=RIDE_START, seconds=1200, sport=Sport.CYCLING, power=True, speed_m_s=9.0)
    job = upload(tenant_a, athlete, data[: len(data) // 2])
    assert job.status == "failed"
    assert job.error.startswith("record ") and "truncated" in job.error
    with tenant_context(tenant_a):
        assert not SessionLog.objects.filter(athlete=athlete).exists()


def test_a_damaged_file_fails_on_its_crc(tenant_a, athlete):
    data = bytearray(
        fit_bytes(start=RIDE_START, seconds=600, sport=Sport.CYCLING, power=True, speed_m_s=9.0)
    )
    data[len(data) // 2] ^= 0x01  # one bit of one heart rate
    job = upload(tenant_a, athlete, bytes(data))
    assert job.status == "failed"
    assert "bad CRC" in job.error and job.error.startswith("record ")
    with tenant_context(tenant_a):
        assert not SessionLog.objects.filter(athlete=athlete).exists()


def test_a_file_that_is_not_fit_fails_and_says_so(tenant_a, athlete):
    job = upload(tenant_a, athlete, b"date,exercise,set\n2026-11-01,squat,1\n" * 20)
    assert job.status == "failed" and "not a FIT file" in job.error
    with tenant_context(tenant_a):
        assert not SessionLog.objects.filter(athlete=athlete).exists()


def test_the_log_fulfils_that_days_planned_session(tenant_a, client_a, settings, tmp_path):
    """An endurance client with a block: the imported run is linked to the planned run of
    its day, as logging it in the app would be."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    from django.utils import timezone

    from programs.models import PlannedSession

    start = timezone.localdate() - datetime.timedelta(days=6)
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=start, weekdays=list(range(7))
    )
    with tenant_context(tenant_a):
        planned = PlannedSession.objects.filter(athlete=profile, date__lte=timezone.localdate())
        day = planned.order_by("date").first().date
        PlannedSession.objects.filter(athlete=profile, date=day).update(kind="run")
        target = PlannedSession.objects.filter(athlete=profile, date=day).order_by("id").first()
    moment = datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=datetime.UTC)
    data = fit_bytes(start=moment, seconds=1200, sport=Sport.RUNNING, power=False, speed_m_s=3.2)
    job = upload(tenant_a, profile, data)
    assert job.status == "done", job.error
    with tenant_context(tenant_a):
        log = SessionLog.objects.get(athlete=profile, external_id__startswith="fit:")
    assert log.planned_session_id == target.pk
    assert Decimal(log.distance_m) == Decimal(round(1199 * 3.2))
