"""The athlete's own importers: Apple Health `export.xml` and CSV check-ins / weights.
Registered from `AthletesConfig.ready()`; the framework is athletes.imports.

Apple Health: the file is streamed through expat and each record is dropped once
read, so memory stays flat however large the export (docs/benchmarks.md, "Imports").
Only what the readiness rules use is kept (resting heart rate, body mass, sleep stages,
steps); everything else is counted as skipped. Apple records HRV as SDNN, not the
rMSSD our rules are calibrated on, so it is not imported (the job says so).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import BinaryIO
from xml.parsers import expat

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from athletes import devices, services
from athletes.imports import ImportCounts, ImportFailed, Progress, register_importer
from athletes.models import AthleteProfile, CheckIn, DeviceSample
from coaching.tenancy import get_current_tenant

BATCH = 5_000
Metric = DeviceSample.Metric
Stage = DeviceSample.SleepStage
LB_KG = Decimal("0.45359237")

APPLE_QUANTITIES = {
    "HKQuantityTypeIdentifierRestingHeartRate": Metric.RESTING_HR,
    "HKQuantityTypeIdentifierBodyMass": Metric.BODY_WEIGHT,
    "HKQuantityTypeIdentifierStepCount": Metric.STEPS,
}
APPLE_HRV = "HKQuantityTypeIdentifierHeartRateVariabilitySDNN"
APPLE_SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
APPLE_STAGES = {
    "HKCategoryValueSleepAnalysisInBed": Stage.IN_BED,
    "HKCategoryValueSleepAnalysisAsleep": Stage.ASLEEP,
    "HKCategoryValueSleepAnalysisAsleepUnspecified": Stage.ASLEEP,
    "HKCategoryValueSleepAnalysisAsleepCore": Stage.LIGHT,
    "HKCategoryValueSleepAnalysisAsleepDeep": Stage.DEEP,
    "HKCategoryValueSleepAnalysisAsleepREM": Stage.REM,
    "HKCategoryValueSleepAnalysisAwake": Stage.AWAKE,
}
WEIGHT_UNITS = {"kg": Decimal(1), "lb": LB_KG, "g": Decimal("0.001")}


def _zone() -> zoneinfo.ZoneInfo:
    tenant = get_current_tenant()
    return zoneinfo.ZoneInfo(tenant.timezone if tenant is not None else "UTC")


def _apple_source(source_name: str) -> str:
    """One source per device, so the roll-up never adds a phone's and a watch's sleep
    together; hashed, because device names often carry the owner's name."""
    digest = hashlib.sha256(source_name.encode()).hexdigest()[:10]
    return f"apple_health.{digest}"


def _apple_time(raw: str | None) -> str | None:
    """'2026-11-19 07:50:00 +0100' -> ISO 8601 (what the sample parser reads)."""
    moment = parse_datetime(raw) if raw else None
    return moment.isoformat() if moment is not None else raw


def _apple_item(record: dict[str, str], number: int) -> dict | None:
    kind = record.get("type", "")
    start, end = _apple_time(record.get("startDate")), _apple_time(record.get("endDate"))
    source = _apple_source(record.get("sourceName", ""))
    if kind == APPLE_SLEEP:
        stage = APPLE_STAGES.get(record.get("value", ""))
        if stage is None:
            raise ImportFailed(
                f"Record {number} ({kind} at {record.get('startDate')}): unknown sleep value "
                f"{record.get('value')!r}."
            )
        return {"source": source, "metric": Metric.SLEEP, "timestamp": start, "end": end,
                "stage": stage}  # fmt: skip
    metric = APPLE_QUANTITIES.get(kind)
    if metric is None:
        return None
    try:
        value = Decimal(record.get("value", ""))
    except InvalidOperation:
        raise ImportFailed(
            f"Record {number} ({kind} at {record.get('startDate')}): value "
            f"{record.get('value')!r} is not a number."
        ) from None
    if metric == Metric.BODY_WEIGHT:
        unit = record.get("unit", "kg")
        if unit not in WEIGHT_UNITS:
            raise ImportFailed(f"Record {number} ({kind}): unknown unit {unit!r}.")
        value = (value * WEIGHT_UNITS[unit]).quantize(Decimal("0.01"))
    item = {"source": source, "metric": metric, "timestamp": start, "value": str(value)}
    if metric == Metric.STEPS and end and end != start:
        item["end"] = end
    return item


def _refuse_entities(*args: object) -> None:
    """Entity declarations are how XML bombs and external fetches start; Apple Health
    exports never declare any, so any such file is refused whole."""
    raise ImportFailed(
        "The file declares XML entities, which Apple Health exports never do; it was not read."
    )


def _apple_records(stream: BinaryIO) -> Iterator[tuple[int, dict[str, str]]]:
    """(number, attributes) of each top-level <Record>, in file order, in flat memory.

    expat straight, not ElementTree: no element tree is built (records are only read, a
    few hundred thousand of them), which makes it several times faster, and the handlers
    below refuse entity declarations the way defusedxml would."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_entities
    pending: list[dict[str, str]] = []
    depth = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        if depth == 0 and name != "HealthData":
            raise ImportFailed(
                "This is not an Apple Health export: export.xml starts with <HealthData>, "
                f"this file with <{name}>."
            )
        if depth == 1 and name == "Record":
            pending.append(attrs)
        depth += 1

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    number = 0
    try:
        while True:
            chunk = stream.read(1 << 16)
            parser.Parse(chunk, not chunk)
            for attrs in pending:
                number += 1
                yield number, attrs
            pending.clear()
            if not chunk:
                break
    except expat.ExpatError as exc:
        raise ImportFailed(
            f"The XML is malformed at line {exc.lineno}, column {exc.offset} (after record "
            f"{number}): {expat.ErrorString(exc.code)}."
        ) from None


def apple_health_import(athlete: AthleteProfile, stream: BinaryIO, progress: Progress):
    zone, now = _zone(), timezone.now()
    counts = ImportCounts()
    hrv_skipped = out_of_range = 0
    first_out_of_range = ""
    batch: dict[tuple, devices.Sample] = {}
    days: set[datetime.date] = set()

    def flush() -> None:
        samples = [*batch.values()]
        created, updated, touched = devices.samples_store(athlete=athlete, samples=samples)
        counts.created += created
        counts.updated += updated
        counts.unchanged += len(batch) - created - updated
        days.update(touched)
        batch.clear()

    number = 0
    for number, record in _apple_records(stream):
        if number % BATCH == 0:
            progress(number)
        if record.get("type") == APPLE_HRV:
            hrv_skipped += 1
            continue
        item = _apple_item(record, number)
        if item is None:
            counts.skipped += 1
            continue
        sample, errors = devices.sample_parse(item, zone=zone, now=now, archive=True)
        if sample is None:
            if set(errors) == {"value"}:  # a plausible record with an implausible reading
                out_of_range += 1
                first_out_of_range = first_out_of_range or f"record {number}"
                continue
            field, messages = next(iter(errors.items()))
            raise ImportFailed(
                f"Record {number} ({record.get('type')} at {record.get('startDate')}): "
                f"{field}: {messages[0]}"
            )
        # Devices repeat readings under one key; within a batch the last one stands.
        batch[(sample.source, sample.metric, sample.timestamp)] = sample
        if len(batch) >= BATCH:
            flush()
    if number == 0:
        raise ImportFailed("The export holds no records.")
    flush()
    devices.checkins_roll_up(athlete=athlete, days=days)
    progress(number)
    if hrv_skipped:
        counts.notes.append(
            f"{hrv_skipped} HRV readings were not imported: Apple Health records SDNN, and the "
            "readiness rules use rMSSD (enter it from an app that measures rMSSD)."
        )
    if out_of_range:
        counts.notes.append(
            f"{out_of_range} readings outside plausible ranges were skipped (the first: "
            f"{first_out_of_range})."
        )
    counts.skipped += hrv_skipped + out_of_range
    return counts


# --- CSV check-ins and weights ---------------------------------------------------------

CSV_COLUMNS = ("date", *services.CHECKIN_FIELDS)


def _csv_rows(stream: BinaryIO) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(text)
        header = [name.strip() for name in reader.fieldnames or []]
    except UnicodeDecodeError:
        raise ImportFailed("The file is not UTF-8 text.") from None
    if "date" not in header:
        raise ImportFailed(
            "Line 1: the header needs a 'date' column, then any of: "
            f"{', '.join(services.CHECKIN_FIELDS)}."
        )
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise ImportFailed(
            f"Line 1: unknown column {unknown[0]!r}; the columns are: {', '.join(CSV_COLUMNS)}."
        )
    reader.fieldnames = header
    try:
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ImportFailed(f"Line {reader.line_num}: {exc}.") from None


def checkins_csv_import(athlete: AthleteProfile, stream: BinaryIO, progress: Progress):
    """Each line is the client's own report for a day, so it counts as typed by hand:
    it wins over devices, like a check-in entered on the page. Empty cells leave the
    stored value alone; a re-import of the same file changes nothing."""
    counts = ImportCounts()
    parsed: dict[datetime.date, tuple[int, dict]] = {}
    latest = timezone.localdate() + datetime.timedelta(days=services.MAX_DAYS_AHEAD)
    for line, row in _csv_rows(stream):
        try:
            day = datetime.date.fromisoformat(row.get("date", ""))
        except ValueError:
            raise ImportFailed(f"Line {line}, date: expected YYYY-MM-DD.") from None
        if day > latest:
            raise ImportFailed(f"Line {line}, date: {day} is in the future.")
        if day in parsed:
            raise ImportFailed(f"Line {line}, date: {day} is already on line {parsed[day][0]}.")
        values = {name: row[name] for name in services.CHECKIN_FIELDS if row.get(name)}
        probe = CheckIn(athlete=athlete, date=day, **values)
        try:
            probe.clean_fields(exclude=["tenant", "athlete"])
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise ImportFailed(f"Line {line}, {field}: {messages[0]}") from None
        clean = {name: getattr(probe, name) for name in values}
        parsed[day] = (line, clean)
        if len(parsed) % BATCH == 0:
            progress(len(parsed))
    if not parsed:
        raise ImportFailed("The file has a header but no lines.")
    stored = {c.date: c for c in CheckIn.objects.filter(athlete=athlete, date__in=parsed)}
    for day, (_, values) in sorted(parsed.items()):
        current = stored.get(day)
        if current is not None and all(getattr(current, k) == v for k, v in values.items()):
            if not set(values) & set(current.device_fields or []):
                counts.unchanged += 1
                continue
        if not values:
            counts.unchanged += 1
            continue
        _, created = services.checkin_upsert(athlete=athlete, date=day, **values)
        if created:
            counts.created += 1
        else:
            counts.updated += 1
    progress(len(parsed))
    return counts


def register() -> None:
    register_importer(
        "apple_health",
        label="Apple Health export",
        extensions=(".xml",),
        help="export.xml from the Health app's 'Export All Health Data' (unzip it first).",
        run=apple_health_import,
    )
    register_importer(
        "csv_checkins",
        label="Check-ins and weights (CSV)",
        extensions=(".csv",),
        help="A header row with 'date' and any of the check-in columns (docs/imports.md).",
        run=checkins_csv_import,
    )
