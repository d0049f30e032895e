"""CSV lifts import (programs/imports.py, format in docs/imports.md): one strength log per
date with its sets, idempotent by (date, exercise, set); a changed value is a correction
(updated), a missing line deletes nothing; every error names the line and the column, and
a bad line anywhere stores nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from athletes.imports import import_create, import_run
from athletes.models import AthleteProfile
from coaching.tenancy import tenant_context
from programs import services
from programs.models import PlannedSession, SessionLog, SetLog
from tests import factories

D1 = datetime.date(2026, 11, 2)
D2 = datetime.date(2026, 11, 5)
GOOD = f"""date,exercise,set,weight_kg,reps,rpe
{D1},back-squat,1,100,5,7
{D1},Back Squat,2,100,5,7.5
{D1},bench press,1,70,8,
{D2},BACK-SQUAT,1,105,5,8
{D2},Romanian deadlift,1,90,10,
"""


@pytest.fixture
def athlete(tenant_a, client_a, settings, tmp_path) -> AthleteProfile:
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    with tenant_context(tenant_a):
        services.exercise_library_install()
        return AthleteProfile.objects.get(user=client_a)


def upload(tenant, athlete, text: str | bytes, name: str = "lifts.csv"):
    data = text.encode() if isinstance(text, str) else text
    with tenant_context(tenant):
        job = import_create(
            athlete=athlete, kind="csv_lifts", upload=SimpleUploadedFile(name, data, "text/csv")
        )
        return import_run(job=job)


def sets_of(tenant, athlete, day) -> list[tuple[str, Decimal, int, Decimal | None]]:
    with tenant_context(tenant):
        return [
            (s.exercise.slug, s.weight_kg, s.reps, s.rpe)
            for s in SetLog.objects.filter(session__athlete=athlete, session__date=day)
            .select_related("exercise")
            .order_by("set_index")
        ]


def test_each_date_becomes_a_strength_log_with_its_sets(tenant_a, athlete):
    job = upload(tenant_a, athlete, GOOD)
    assert job.status == "done", job.error
    assert job.counts["created"] == 5 and job.records == 5
    with tenant_context(tenant_a):
        logs = list(SessionLog.objects.filter(athlete=athlete).order_by("date"))
    assert [(log.date, log.kind) for log in logs] == [(D1, "strength"), (D2, "strength")]
    assert logs[0].duration_s == 3 * 180  # no planned session: 3 min a set
    assert sets_of(tenant_a, athlete, D1) == [
        ("back-squat", Decimal("100.00"), 5, Decimal("7.0")),
        ("back-squat", Decimal("100.00"), 5, Decimal("7.5")),
        ("bench-press", Decimal("70.00"), 8, None),
    ]


def test_importing_the_same_file_again_changes_nothing(tenant_a, athlete):
    upload(tenant_a, athlete, GOOD)
    job = upload(tenant_a, athlete, GOOD)
    assert job.status == "done"
    assert (job.counts["created"], job.counts["updated"], job.counts["unchanged"]) == (0, 0, 5)
    with tenant_context(tenant_a):
        assert SessionLog.objects.filter(athlete=athlete).count() == 2
        assert SetLog.objects.filter(session__athlete=athlete).count() == 5


def test_a_changed_value_corrects_the_set_and_missing_lines_are_kept(tenant_a, athlete):
    upload(tenant_a, athlete, GOOD)
    corrected = f"""date,exercise,set,weight_kg,reps
{D1},bench-press,1,72.5,8
{D1},bench-press,2,72.5,7
"""
    job = upload(tenant_a, athlete, corrected)
    assert (job.counts["created"], job.counts["updated"], job.counts["unchanged"]) == (1, 1, 0)
    assert sets_of(tenant_a, athlete, D1) == [
        ("back-squat", Decimal("100.00"), 5, Decimal("7.0")),
        ("back-squat", Decimal("100.00"), 5, Decimal("7.5")),
        ("bench-press", Decimal("72.50"), 8, None),
        ("bench-press", Decimal("72.50"), 7, None),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"{D1},back-squat,1,100,five,7", "line 3, reps: expected a whole number 1–100"),
        (f"{D1},back-squat,1,100,0,7", "line 3, reps: expected a whole number 1–100"),
        (f"{D1},back-squat,1,heavy,5,7", "line 3, weight_kg: expected a number"),
        (f"{D1},back-squat,1,100,5,11", "line 3, rpe: expected a number 1–10"),
        (f"{D1},back-squat,0,100,5,7", "line 3, set: expected a whole number 1–99"),
        ("02/11/2026,back-squat,1,100,5,7", "line 3, date: expected a date like"),
        ("2099-01-01,back-squat,1,100,5,7", "line 3, date: 2099-01-01 is in the future"),
        (f"{D1},back-squat,1,100,5", "line 3: expected 6 values, found 5"),
        (f"{D1},back-squat,1,100,5,7", "line 3: the same date, exercise and set as line 2"),
    ],
)
def test_a_bad_line_names_line_and_column_and_stores_nothing(tenant_a, athlete, line, expected):
    text = f"date,exercise,set,weight_kg,reps,rpe\n{D1},back-squat,1,100,5,7\n{line}\n"
    job = upload(tenant_a, athlete, text)
    assert job.status == "failed"
    assert job.error.startswith(expected), job.error
    with tenant_context(tenant_a):
        assert not SessionLog.objects.filter(athlete=athlete).exists()


def test_an_unknown_exercise_lists_close_matches(tenant_a, athlete):
    text = f"date,exercise,set,weight_kg,reps\n{D1},back-squat,1,100,5\n{D1},bench pres,1,70,8\n"
    job = upload(tenant_a, athlete, text)
    assert job.status == "failed"
    assert job.error.startswith("line 3, exercise: no exercise called 'bench pres'")
    assert "close matches: " in job.error and "Bench press" in job.error


def test_a_header_without_required_columns_is_refused(tenant_a, athlete):
    job = upload(tenant_a, athlete, "day,lift,weight\n2026-11-02,squat,100\n")
    assert job.status == "failed"
    assert job.error.startswith("line 1: missing columns date, exercise, set, weight_kg, reps")


def test_a_file_that_is_not_text_is_refused(tenant_a, athlete):
    job = upload(tenant_a, athlete, b"\xff\xfe\x00\x01binary" * 50)
    assert job.status == "failed" and job.error.startswith("line 1")


def test_a_day_with_a_planned_strength_session_fulfils_it(tenant_a, client_a, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=today - datetime.timedelta(days=6), weekdays=list(range(7))
    )
    with tenant_context(tenant_a):
        planned = (
            PlannedSession.objects.filter(athlete=profile, date__lte=today, kind="strength")
            .order_by("date", "id")
            .first()
        )
    job = upload(
        tenant_a, profile, f"date,exercise,set,weight_kg,reps\n{planned.date},back-squat,1,100,5\n"
    )
    assert job.status == "done", job.error
    with tenant_context(tenant_a):
        log = SessionLog.objects.get(athlete=profile, external_id=f"csv-lifts:{planned.date}")
    assert log.planned_session_id == planned.pk
    assert log.duration_s == planned.duration_min * 60
