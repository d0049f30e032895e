"""`manage.py bench_imports --megabytes 200`: the Apple Health import's numbers (issue 11).
Prints numbers; asserts nothing.

Writes a synthetic export.xml of about the given size (streamed to a temporary file:
per-minute heart rate, which is read and skipped like most of a real export; steps every
ten minutes; nightly sleep stages; daily resting heart rate and weight) into a throw-away
tenant, then runs the real importer once, and again (the duplicate import), printing
records/s and the process's peak memory growth. The tenant is deleted afterwards.
"""

from __future__ import annotations

import datetime
import resource
import tempfile
import time
import uuid
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from athletes import consent, imports
from athletes.importers import APPLE_SLEEP
from athletes.models import AthleteProfile, DeviceSample
from coaching.models import Membership, Tenant
from coaching.tenancy import tenant_context

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-11-20 10:00:00 +0000"/>
 <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexNotSet"/>
"""
SRC = 'sourceName="Bench Watch" sourceVersion="10.1" device="&lt;&lt;HKDevice&gt;&gt;"'
FMT = "%Y-%m-%d %H:%M:%S +0000"


def _record(kind: str, start: datetime.datetime, minutes: int, value: str, unit: str) -> str:
    end = start + datetime.timedelta(minutes=minutes)
    return (
        f' <Record type="{kind}" {SRC} unit="{unit}" creationDate="{end.strftime(FMT)}" '
        f'startDate="{start.strftime(FMT)}" endDate="{end.strftime(FMT)}" value="{value}"/>\n'
    )


def write_export(path: Path, megabytes: int) -> tuple[int, int]:
    """(records, days): one day of records at a time, until the size is reached."""
    target = megabytes * 1024 * 1024
    day = datetime.datetime(2026, 11, 19, tzinfo=datetime.UTC)
    records = days = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        while out.tell() < target:
            lines = [
                _record("HKQuantityTypeIdentifierRestingHeartRate", day + datetime.timedelta(
                    hours=7), 1, str(50 + days % 7), "count/min"),
                _record("HKQuantityTypeIdentifierBodyMass", day + datetime.timedelta(hours=7,
                        minutes=5), 0, f"{80 + (days % 10) / 10:.1f}", "kg"),
            ]  # fmt: skip
            night = day - datetime.timedelta(hours=1)
            for offset, (stage, length) in enumerate(
                [("AsleepCore", 180), ("AsleepDeep", 90), ("AsleepREM", 90), ("Awake", 15)]
            ):
                start = night + datetime.timedelta(minutes=sum([0, 180, 270, 360][: offset + 1]))
                end = start + datetime.timedelta(minutes=length)
                lines.append(
                    f' <Record type="{APPLE_SLEEP}" {SRC} startDate="{start.strftime(FMT)}" '
                    f'endDate="{end.strftime(FMT)}" '
                    f'value="HKCategoryValueSleepAnalysis{stage}"/>\n'
                )
            for minute in range(0, 24 * 60, 10):
                at = day + datetime.timedelta(minutes=minute)
                lines.append(_record("HKQuantityTypeIdentifierStepCount", at, 10, "120", "count"))
            for minute in range(0, 24 * 60, 2):
                at = day + datetime.timedelta(minutes=minute)
                lines.append(_record("HKQuantityTypeIdentifierHeartRate", at, 0, "64", "count/min"))
            out.write("".join(lines))
            records += len(lines)
            days += 1
            day -= datetime.timedelta(days=1)
        out.write("</HealthData>\n")
    return records, days


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Measure the Apple Health import: records/s and peak memory for a large export."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--megabytes", type=int, default=200)

    def handle(self, *args, megabytes: int, **options) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="bench-imports-"))
        export = tmp / "export.xml"
        started = time.perf_counter()
        records, days = write_export(export, megabytes)
        size_mb = export.stat().st_size / 1024 / 1024
        self.stdout.write(
            f"export.xml: {size_mb:.0f} MB, {records:,} records, {days:,} days "
            f"(written in {time.perf_counter() - started:.1f} s)"
        )
        slug = f"bench-imports-{uuid.uuid4().hex[:6]}"
        tenant = Tenant.objects.create(slug=slug, name="Import bench", timezone="UTC")
        try:
            with tenant_context(tenant):
                user = get_user_model().objects.create_user(
                    username=slug, email=f"{slug}@bench.invalid"
                )
                Membership.objects.create(user=user, role="client")
                athlete = AthleteProfile.objects.create(
                    user=user,
                    display_name="Bench",
                    discipline="endurance",
                    sex="female",
                    birth_date=datetime.date(1990, 1, 1),
                    height_cm=170,
                    training_age_years=3,
                )
                consent.consents_seed_granted([athlete])
            from django.conf import settings

            settings.PRIVATE_MEDIA_ROOT = tmp / "private"
            for attempt in ("first import", "same file again"):
                before = _peak_mb()
                with tenant_context(tenant), export.open("rb") as handle:
                    upload = UploadedFile(handle, name="export.xml", size=export.stat().st_size)
                    job = imports.import_create(athlete=athlete, kind="apple_health", upload=upload)
                    t0 = time.perf_counter()
                    job = imports.import_run(job=job)
                    seconds = time.perf_counter() - t0
                    stored = DeviceSample.objects.count()
                self.stdout.write(
                    f"{attempt}: {job.status} in {seconds:.1f} s, {job.records / seconds:,.0f} "
                    f"records/s; created {job.counts.get('created', 0):,}, unchanged "
                    f"{job.counts.get('unchanged', 0):,}, skipped {job.counts.get('skipped', 0):,};"
                    f" {stored:,} readings stored; peak RSS {_peak_mb():.0f} MB "
                    f"(was {before:.0f} MB before the import)"
                )
        finally:
            with tenant_context(tenant), transaction.atomic():
                consent.ledger_erasure_allow()  # the ledger refuses deletes otherwise
                Tenant.objects.filter(pk=tenant.pk).delete()
            export.unlink(missing_ok=True)
