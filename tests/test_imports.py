"""File imports: Apple Health export.xml and CSV check-ins, through the framework
(upload -> job -> one transaction), the page, the API and a real worker."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from athletes import imports, tasks
from athletes.models import AthleteProfile, CheckIn, DeviceSample, ImportJob
from coaching.errors import DomainError
from coaching.tenancy import tenant_context
from tests import factories
from tests.test_worker import worker  # noqa: F401 - the real Celery worker fixture

DAY = datetime.date(2026, 11, 19)

APPLE_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT Record (MetadataEntry*)>
<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-11-20 10:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""
APPLE_TAIL = "</HealthData>\n"


def record(kind, start, end=None, value=None, unit=None, source="Jo's Apple Watch"):
    attrs = f'type="{kind}" sourceName="{source}" startDate="{start}" endDate="{end or start}"'
    if unit:
        attrs += f' unit="{unit}"'
    if value is not None:
        attrs += f' value="{value}"'
    return f" <Record {attrs}/>\n"


def sleep(start, end, stage, source="Jo's Apple Watch"):
    kind = "HKCategoryTypeIdentifierSleepAnalysis"
    return record(kind, start, end, f"HKCategoryValueSleepAnalysis{stage}", source=source)


def apple_export(*records: str) -> bytes:
    return (APPLE_HEAD + "".join(records) + APPLE_TAIL).encode()


GOOD_EXPORT = apple_export(
    record("HKQuantityTypeIdentifierRestingHeartRate", "2026-11-19 07:00:00 +0100",
           value="52", unit="count/min"),
    record("HKQuantityTypeIdentifierBodyMass", "2026-11-19 07:30:00 +0100",
           value="176.4", unit="lb", source="Scale"),
    record("HKQuantityTypeIdentifierStepCount", "2026-11-19 08:00:00 +0100",
           "2026-11-19 08:10:00 +0100", value="812", unit="count", source="iPhone"),
    # the watch's stages and the phone's "in bed" overlap: never summed together
    sleep("2026-11-18 23:00:00 +0100", "2026-11-19 03:00:00 +0100", "AsleepCore"),
    sleep("2026-11-19 03:00:00 +0100", "2026-11-19 04:30:00 +0100", "AsleepDeep"),
    sleep("2026-11-19 04:30:00 +0100", "2026-11-19 06:00:00 +0100", "AsleepREM"),
    sleep("2026-11-19 06:00:00 +0100", "2026-11-19 06:20:00 +0100", "Awake"),
    sleep("2026-11-18 22:30:00 +0100", "2026-11-19 06:30:00 +0100", "InBed", source="iPhone"),
    record("HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "2026-11-19 06:40:00 +0100",
           value="48.2", unit="ms"),
    record("HKQuantityTypeIdentifierFlightsClimbed", "2026-11-19 09:00:00 +0100",
           value="3", unit="count"),
    ' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30">'
    '<WorkoutEvent type="HKWorkoutEventTypeLap"/></Workout>\n',
)  # fmt: skip


@pytest.fixture
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def athlete(tenant_a, client_a):
    with tenant_context(tenant_a):
        return AthleteProfile.objects.get(user=client_a)


def run_import(tenant, athlete, kind: str, name: str, content: bytes) -> ImportJob:
    """Upload, then run the job the way the task does (on_commit never fires in a test
    transaction; the real worker test below covers the queue)."""
    with tenant_context(tenant):
        job = imports.import_create(
            athlete=athlete, kind=kind, upload=SimpleUploadedFile(name, content)
        )
        return imports.import_run(job=job)


def stored(tenant) -> tuple[int, int]:
    with tenant_context(tenant):
        return DeviceSample.objects.count(), CheckIn.objects.count()


# --- Apple Health ----------------------------------------------------------------------


def test_apple_health_export_rolls_up_into_the_days_check_in(private_root, tenant_a, athlete):
    job = run_import(tenant_a, athlete, "apple_health", "export.xml", GOOD_EXPORT)
    assert job.status == "done", job.error
    assert job.records == 10
    assert job.counts["created"] == 8
    assert job.counts["skipped"] == 2  # flights climbed, and the SDNN reading
    assert "SDNN" in job.counts["notes"][0]
    with tenant_context(tenant_a):
        checkin = CheckIn.objects.get(date=DAY)
        sources = set(DeviceSample.objects.values_list("source", flat=True))
    assert checkin.resting_hr_bpm == 52
    assert checkin.body_weight_kg == Decimal("80.01")  # 176.4 lb
    # the watch's night (newest data): 4 h core + 1.5 h deep + 1.5 h REM, awake not counted
    assert checkin.sleep_hours == Decimal("7.00")
    assert checkin.hrv_rmssd_ms is None
    # device names carry people's names: sources are opaque, one per device
    assert len(sources) == 3 and all(s.startswith("apple_health.") for s in sources)
    assert not any("Jo" in s for s in sources)
    # the upload is gone once imported
    assert not list((private_root / "imports").rglob("*"))[1:]
    assert not [p for p in (private_root / "imports").rglob("*") if p.is_file()]


def test_importing_the_same_export_twice_adds_nothing(private_root, tenant_a, athlete):
    run_import(tenant_a, athlete, "apple_health", "export.xml", GOOD_EXPORT)
    before = stored(tenant_a)
    again = run_import(tenant_a, athlete, "apple_health", "export.xml", GOOD_EXPORT)
    assert again.status == "done"
    assert again.counts["created"] == 0 and again.counts["unchanged"] == 8
    assert stored(tenant_a) == before


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (GOOD_EXPORT[: len(GOOD_EXPORT) // 2], "The XML is malformed at line 15"),
        (
            # a good record first: it is not kept either
            apple_export(
                record(
                    "HKQuantityTypeIdentifierRestingHeartRate",
                    "2026-11-10 07:00:00 +0100",
                    value="49",
                ),
                record(
                    "HKQuantityTypeIdentifierBodyMass",
                    "2026-11-19 07:30:00 +0100",
                    value="heavy",
                    unit="kg",
                ),
            ),  # fmt: skip
            "Record 2 (HKQuantityTypeIdentifierBodyMass at 2026-11-19 07:30:00 +0100): value "
            "'heavy' is not a number",
        ),
        (
            apple_export(
                record("HKQuantityTypeIdentifierRestingHeartRate", "yesterday", value="50")
            ),  # fmt: skip
            "Record 1 (HKQuantityTypeIdentifierRestingHeartRate at yesterday): timestamp",
        ),
        (
            apple_export(sleep("2026-11-18 23:00:00 +0100", "2026-11-19 03:00:00 +0100", "Dozing")),
            "unknown sleep value",
        ),  # fmt: skip
        (b'<?xml version="1.0"?><Workouts></Workouts>', "not an Apple Health export"),
        (
            b'<?xml version="1.0"?><!DOCTYPE HealthData [<!ENTITY lol "lol">]>'
            b"<HealthData>&lol;</HealthData>",
            "declares XML entities",
        ),
        (apple_export(), "no records"),
    ],
)
def test_a_bad_export_names_the_problem_and_stores_nothing(
    private_root, tenant_a, athlete, content, words
):
    # given an earlier, good import
    run_import(tenant_a, athlete, "apple_health", "export.xml", GOOD_EXPORT)
    before = stored(tenant_a)
    job = run_import(tenant_a, athlete, "apple_health", "export.xml", content)
    assert job.status == "failed"
    assert words in job.error
    assert stored(tenant_a) == before


def test_implausible_readings_are_skipped_with_a_note(private_root, tenant_a, athlete):
    export = apple_export(
        record("HKQuantityTypeIdentifierRestingHeartRate", "2026-11-19 07:00:00 +0100",
               value="52"),
        record("HKQuantityTypeIdentifierRestingHeartRate", "2026-11-18 07:00:00 +0100",
               value="3"),
    )  # fmt: skip
    job = run_import(tenant_a, athlete, "apple_health", "export.xml", export)
    assert job.status == "done"
    assert job.counts["created"] == 1
    assert "1 readings outside plausible ranges were skipped (the first: record 2)" in " ".join(
        job.counts["notes"]
    )


def test_uploads_are_checked_before_anything_is_queued(private_root, tenant_a, athlete):
    with tenant_context(tenant_a):
        with pytest.raises(DomainError, match="takes .xml files"):
            imports.import_create(
                athlete=athlete, kind="apple_health", upload=SimpleUploadedFile("a.csv", b"x")
            )
        with pytest.raises(DomainError, match="Unknown import kind"):
            imports.import_create(
                athlete=athlete, kind="garmin_cloud", upload=SimpleUploadedFile("a.xml", b"x")
            )
        with pytest.raises(DomainError, match="empty"):
            imports.import_create(
                athlete=athlete, kind="apple_health", upload=SimpleUploadedFile("a.xml", b"")
            )
        assert ImportJob.objects.count() == 0


def test_no_health_data_consent_no_import(private_root, tenant_a):
    account = factories.member(tenant_a, "client", email="shy@alpha.test", consents=False)
    with tenant_context(tenant_a):
        shy = AthleteProfile.objects.get(user=account)
        with pytest.raises(DomainError, match="consent"):
            imports.import_create(
                athlete=shy, kind="apple_health", upload=SimpleUploadedFile("e.xml", GOOD_EXPORT)
            )


# --- CSV check-ins ---------------------------------------------------------------------

CSV = (
    b"date,sleep_hours,soreness,hrv_rmssd_ms,body_weight_kg\n"
    b"2026-11-17,7.5,2,61.0,80.2\n"
    b"2026-11-18,,3,,80.0\n"
    b"2026-11-19,6.0,,58.5,\n"
)


def test_csv_check_ins_import_once_and_count_as_typed_by_hand(private_root, tenant_a, athlete):
    # a device reading for the 19th first: the CSV line is the client's own word
    with tenant_context(tenant_a):
        from athletes.devices import device_samples_ingest

        device_samples_ingest(
            athlete=athlete,
            items=[{"source": "garmin", "metric": "hrv_rmssd_ms",
                    "timestamp": "2026-11-19T06:00:00+01:00", "value": 70}],
        )  # fmt: skip
    job = run_import(tenant_a, athlete, "csv_checkins", "checkins.csv", CSV)
    assert job.status == "done", job.error
    assert (job.counts["created"], job.counts["updated"]) == (2, 1)
    with tenant_context(tenant_a):
        by_day = {c.date: c for c in CheckIn.objects.all()}
    assert by_day[datetime.date(2026, 11, 17)].sleep_hours == Decimal("7.50")
    assert by_day[datetime.date(2026, 11, 18)].hrv_rmssd_ms is None
    assert by_day[DAY].hrv_rmssd_ms == Decimal("58.5")
    assert by_day[DAY].device_fields == []
    again = run_import(tenant_a, athlete, "csv_checkins", "checkins.csv", CSV)
    assert (again.counts["created"], again.counts["updated"], again.counts["unchanged"]) == (
        0,
        0,
        3,
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"day,sleep_hours\n2026-11-17,7\n", "Line 1: the header needs a 'date' column"),
        (b"date,sleep\n2026-11-17,7\n", "Line 1: unknown column 'sleep'"),
        (b"date,soreness\n2026-11-17,2\n2026-11-18,9\n", "Line 3, soreness:"),
        (b"date,soreness\n2026-11-17,2\n17/11/2026,3\n", "Line 3, date: expected YYYY-MM-DD"),
        (b"date,soreness\n2026-11-17,2\n2026-11-17,3\n", "is already on line 2"),
        (b"date,soreness\n2099-01-01,2\n", "in the future"),
        (b"date,soreness\n", "no lines"),
        (b"date,soreness\n2026-11-17,\xff\n", "not UTF-8"),
        (b"date,hrv_rmssd_ms\n2026-11-17,lots\n", "Line 2, hrv_rmssd_ms:"),
    ],
)
def test_a_bad_csv_names_the_line_and_stores_nothing(
    private_root, tenant_a, athlete, content, words
):
    job = run_import(tenant_a, athlete, "csv_checkins", "checkins.csv", content)
    assert job.status == "failed"
    assert words in job.error
    assert stored(tenant_a) == (0, 0)


# --- page and API ----------------------------------------------------------------------


def test_page_uploads_and_shows_the_outcome(private_root, client, tenant_a, client_a, athlete):
    client.force_login(client_a)
    page = client.get("/t/alpha/imports/")
    assert page.status_code == 200
    assert b"Apple Health export" in page.content
    wrong = client.post(
        "/t/alpha/imports/",
        {"kind": "apple_health", "file": SimpleUploadedFile("notes.csv", b"date\n")},
    )
    assert wrong.status_code == 400
    assert b"Expected a .xml file." in wrong.content
    good = client.post(
        "/t/alpha/imports/",
        {"kind": "apple_health", "file": SimpleUploadedFile("export.xml", GOOD_EXPORT)},
    )
    assert good.status_code == 302
    with tenant_context(tenant_a):
        job = ImportJob.objects.get()
    row = client.get(f"/t/alpha/imports/{job.pk}/")
    assert b"hx-trigger" in row.content  # still waiting: the row keeps polling
    with tenant_context(tenant_a):
        imports.import_run(job=job)
    row = client.get(f"/t/alpha/imports/{job.pk}/")
    assert b"Imported" in row.content and b"hx-trigger" not in row.content


def test_api_accepts_a_file_and_hides_others_jobs(
    private_root, tenant_a, client_a, coach_a, athlete
):
    api = APIClient()
    api.force_authenticate(client_a)
    response = api.post(
        "/t/alpha/api/v1/imports/",
        {"kind": "csv_checkins", "file": SimpleUploadedFile("c.csv", CSV)},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response.json()["status"] == "pending"
    bad = api.post(
        "/t/alpha/api/v1/imports/",
        {"kind": "fitbit", "file": SimpleUploadedFile("c.csv", CSV)},
        format="multipart",
    )
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["fields"]
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    theirs = APIClient()
    theirs.force_authenticate(other)
    assert theirs.get(f"/t/alpha/api/v1/imports/{job_id}/").status_code == 404
    coach = APIClient()
    coach.force_authenticate(coach_a)
    assert coach.get(f"/t/alpha/api/v1/imports/{job_id}/").status_code == 200
    assert (
        coach.post(
            "/t/alpha/api/v1/imports/",
            {"kind": "csv_checkins", "file": SimpleUploadedFile("c.csv", CSV)},
            format="multipart",
        ).status_code
        == 403
    )


@pytest.mark.worker
def test_a_real_worker_imports_the_file_once(
    shared_private_root,
    worker,  # noqa: F811
    monkeypatch,
    tenant_a,
    client_a,
):
    root = shared_private_root
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        monkeypatch.setattr(tasks.import_run, "delay", lambda *args: None)
        job = imports.import_create(
            athlete=athlete, kind="apple_health", upload=SimpleUploadedFile("e.xml", GOOD_EXPORT)
        )
    assert Path(root / job.file).exists()
    run = tasks.import_run.apply_async(args=[tenant_a.pk, job.pk], queue=worker.queue)
    assert worker.result_of(run) == "done"
    # a redelivered task finds the job finished and does nothing
    again = tasks.import_run.apply_async(args=[tenant_a.pk, job.pk], queue=worker.queue)
    assert worker.result_of(again) == "done"
    with tenant_context(tenant_a):
        assert DeviceSample.objects.count() == 8
        assert CheckIn.objects.get(date=DAY).sleep_hours == Decimal("7.00")
    assert not Path(root / job.file).exists()
