"""Readings from wearables and companion apps, and how they become the day's check-in.

A companion app sends what the device measured (HRV, resting heart rate, sleep stages,
steps, weight) in batches of up to `MAX_SAMPLES`. A batch is all or nothing: one bad
item and nothing is stored, and the error names each bad item (`samples[3].value`), so
the app can fix and re-send the whole batch. Re-sending is safe: a reading is known by
(athlete, source, metric, timestamp), so a repeat changes nothing and a corrected value
replaces the old one.

The readiness engine reads `CheckIn`, so the readings of each touched day are rolled up
into it, with an explicit precedence: what the client typed wins over any device
(`CheckIn.device_fields` lists the fields a device filled; a manual entry takes its
fields off), and among devices the newest reading wins.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from athletes import consent
from athletes.models import AthleteProfile, CheckIn, DeviceSample
from coaching.errors import DomainError
from coaching.tenancy import get_current_tenant

MAX_SAMPLES = 10_000
SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
# Readings older than this are not a sync but an archive: file imports take those.
MAX_AGE_DAYS = 3650
# A device clock a little ahead of ours is normal; a day ahead is a wrong date.
MAX_AHEAD = datetime.timedelta(hours=26)
MAX_SLEEP_INTERVAL = datetime.timedelta(hours=24)

Metric = DeviceSample.Metric
Stage = DeviceSample.SleepStage
# Plausible ranges, the same as a typed check-in's (athletes.models.CheckIn).
RANGES: dict[str, tuple[Decimal, Decimal]] = {
    Metric.HRV_RMSSD: (Decimal(1), Decimal(400)),
    Metric.RESTING_HR: (Decimal(25), Decimal(140)),
    Metric.BODY_WEIGHT: (Decimal(25), Decimal(350)),
    Metric.STEPS: (Decimal(0), Decimal(200_000)),
}
ASLEEP_STAGES = frozenset({Stage.ASLEEP, Stage.LIGHT, Stage.DEEP, Stage.REM})
# Check-in field <- the metric whose newest reading fills it.
LATEST_WINS = {
    "hrv_rmssd_ms": Metric.HRV_RMSSD,
    "resting_hr_bpm": Metric.RESTING_HR,
    "body_weight_kg": Metric.BODY_WEIGHT,
}
DEVICE_FIELDS = (*LATEST_WINS, "sleep_hours")
_QUANT = {"hrv_rmssd_ms": Decimal("0.1"), "body_weight_kg": Decimal("0.01")}


class InvalidSamples(DomainError):
    code = "invalid_samples"


@dataclass(frozen=True, kw_only=True)
class Sample:
    """A validated reading, before it is stored."""

    source: str
    metric: str
    timestamp: datetime.datetime
    end: datetime.datetime | None
    value: Decimal
    stage: str
    day: datetime.date


@dataclass(frozen=True, kw_only=True)
class IngestResult:
    created: int
    updated: int
    unchanged: int
    days: tuple[datetime.date, ...]  # the days whose check-in was recomputed


def _aware(raw: Any, field: str, errors: dict[str, list[str]]) -> datetime.datetime | None:
    if raw in (None, ""):
        errors.setdefault(field, []).append("This field is required.")
        return None
    parsed = parse_datetime(raw) if isinstance(raw, str) else None
    if parsed is None:
        errors.setdefault(field, []).append(
            "Expected an ISO 8601 date-time, e.g. 2026-11-20T06:30:00+01:00."
        )
        return None
    if timezone.is_naive(parsed):
        errors.setdefault(field, []).append(
            "Give the time zone offset (e.g. +01:00 or Z): a time without one is ambiguous."
        )
        return None
    return parsed


def _decimal(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def sample_parse(
    raw: Any, *, zone: zoneinfo.ZoneInfo, now: datetime.datetime, archive: bool = False
) -> tuple[Sample | None, dict[str, list[str]]]:
    """One item of a batch -> a `Sample`, or the errors per field. Pure: no queries.
    `archive`: a file import, where readings of any age are expected."""
    errors: dict[str, list[str]] = {}
    if not isinstance(raw, Mapping):
        return None, {"": ["Expected an object with source, metric, timestamp and value."]}
    unknown = set(raw) - {"source", "metric", "timestamp", "end", "value", "stage"}
    for name in sorted(unknown):
        errors[name] = ["Unknown field."]
    source = raw.get("source")
    if not isinstance(source, str) or not SOURCE_RE.match(source):
        errors["source"] = [
            "Expected the device or app name in lower case (letters, digits, _ . -; "
            "at most 40), e.g. garmin or apple_health."
        ]
    metric = raw.get("metric")
    if metric not in Metric.values:
        errors["metric"] = [f"Expected one of: {', '.join(Metric.values)}."]
    start = _aware(raw.get("timestamp"), "timestamp", errors)
    end = None
    if raw.get("end") not in (None, ""):
        end = _aware(raw.get("end"), "end", errors)
    if start is not None:
        if start > now + MAX_AHEAD:
            errors.setdefault("timestamp", []).append("This reading is in the future.")
        elif not archive and start < now - datetime.timedelta(days=MAX_AGE_DAYS):
            errors.setdefault("timestamp", []).append(
                "This reading is more than ten years old; import the archive as a file."
            )
    if start is not None and end is not None and end <= start:
        errors.setdefault("end", []).append("The end must come after the timestamp.")

    stage = raw.get("stage") or ""
    value: Decimal | None = None
    if metric == Metric.SLEEP:
        if stage not in Stage.values:
            errors["stage"] = [f"Sleep needs a stage: one of {', '.join(Stage.values)}."]
        if raw.get("end") in (None, ""):
            errors.setdefault("end", []).append("Sleep is an interval: give its end.")
        elif start is not None and end is not None and end - start > MAX_SLEEP_INTERVAL:
            errors.setdefault("end", []).append("One sleep interval cannot last over 24 hours.")
        if start is not None and end is not None and end > start:
            value = Decimal((end - start).total_seconds() / 60).quantize(Decimal("0.01"))
        if raw.get("value") is not None and _decimal(raw.get("value")) is None:
            errors["value"] = ["Expected a number (minutes), or leave it out."]
    else:
        if stage:
            errors["stage"] = ["Only sleep readings have a stage."]
        value = _decimal(raw.get("value"))
        if value is None:
            errors["value"] = ["Expected a number."]
        elif metric in RANGES:
            low, high = RANGES[metric]
            if not low <= value <= high:
                errors["value"] = [f"Expected {low} to {high} for {metric}."]
            elif metric == Metric.STEPS and value != value.to_integral_value():
                errors["value"] = ["Steps are a whole number."]
    if errors or start is None or value is None:
        return None, errors
    # Sleep counts for the morning one wakes up; anything else for its own local day.
    moment = end if metric == Metric.SLEEP and end is not None else start
    return (
        Sample(
            source=source,
            metric=metric,
            timestamp=start,
            end=end,
            value=value,
            stage=stage,
            day=moment.astimezone(zone).date(),
        ),
        {},
    )


def samples_parse(
    items: Any, *, zone: zoneinfo.ZoneInfo, now: datetime.datetime | None = None
) -> list[Sample]:
    """A whole batch, or `InvalidSamples` naming every bad item (nothing half-taken)."""
    if not isinstance(items, list):
        raise InvalidSamples(
            "Send the readings as a list under 'samples'.",
            fields={"samples": ["Expected a list."]},
        )
    if not items:
        raise InvalidSamples("The batch is empty.", fields={"samples": ["Send at least one."]})
    if len(items) > MAX_SAMPLES:
        raise InvalidSamples(
            f"At most {MAX_SAMPLES} readings per request; this one has {len(items)}.",
            fields={"samples": [f"At most {MAX_SAMPLES}; split the batch."]},
        )
    now = now or timezone.now()
    parsed: list[Sample] = []
    errors: dict[str, list[str]] = {}
    seen: dict[tuple[str, str, datetime.datetime], int] = {}
    for index, raw in enumerate(items):
        sample, item_errors = sample_parse(raw, zone=zone, now=now)
        for name, messages in item_errors.items():
            errors[f"samples[{index}]{'.' + name if name else ''}"] = messages
        if sample is None:
            continue
        key = (sample.source, sample.metric, sample.timestamp)
        if key in seen:
            errors[f"samples[{index}].timestamp"] = [
                f"The same reading (source, metric, timestamp) as samples[{seen[key]}]."
            ]
            continue
        seen[key] = index
        parsed.append(sample)
    if errors:
        bad = len({key.split("]")[0] for key in errors})
        raise InvalidSamples(
            f"{bad} of {len(items)} readings are invalid; nothing was stored.", fields=errors
        )
    return parsed


def _zone() -> zoneinfo.ZoneInfo:
    tenant = get_current_tenant()
    return zoneinfo.ZoneInfo(tenant.timezone if tenant is not None else "UTC")


@transaction.atomic
def device_samples_ingest(*, athlete: AthleteProfile, items: Any) -> IngestResult:
    """Store a batch of readings for one athlete and recompute the touched days'
    check-ins, all in one transaction. Needs the client's health-data consent."""
    consent.consent_require(athlete, consent.HEALTH_DATA)
    samples = samples_parse(items, zone=_zone())
    created, updated, days = samples_store(athlete=athlete, samples=samples)
    checkins_roll_up(athlete=athlete, days=days)
    return IngestResult(
        created=created,
        updated=updated,
        unchanged=len(samples) - created - updated,
        days=tuple(sorted(days)),
    )


def samples_store(
    *, athlete: AthleteProfile, samples: list[Sample]
) -> tuple[int, int, set[datetime.date]]:
    """Write one batch (keys unique within it) by key: new rows created, changed ones
    updated, repeats left alone. Three statements whatever the batch size. Returns
    (created, updated, days touched); the caller rolls the days up."""
    if not samples:
        return 0, 0, set()
    stored = {
        (row.source, row.metric, row.timestamp): row
        for row in DeviceSample.objects.select_for_update().filter(
            athlete=athlete,
            timestamp__gte=min(s.timestamp for s in samples),
            timestamp__lte=max(s.timestamp for s in samples),
            source__in={s.source for s in samples},
            metric__in={s.metric for s in samples},
        )
    }
    new: list[DeviceSample] = []
    changed: list[DeviceSample] = []
    days: set[datetime.date] = set()
    for sample in samples:
        row = stored.get((sample.source, sample.metric, sample.timestamp))
        if row is None:
            row = DeviceSample(
                athlete=athlete,
                source=sample.source,
                metric=sample.metric,
                timestamp=sample.timestamp,
                end=sample.end,
                value=sample.value,
                stage=sample.stage,
                day=sample.day,
            )
            row.assign_current_tenant()
            new.append(row)
            days.add(sample.day)
        elif (row.value, row.end, row.stage) != (sample.value, sample.end, sample.stage):
            days.update({row.day, sample.day})
            row.value, row.end, row.stage = sample.value, sample.end, sample.stage
            row.day = sample.day
            changed.append(row)
    DeviceSample.objects.bulk_create(new, batch_size=2000)
    DeviceSample.objects.bulk_update(changed, ["value", "end", "stage", "day"], batch_size=2000)
    return len(new), len(changed), days


def _sleep_hours(rows: Iterable[DeviceSample]) -> Decimal | None:
    """The night's sleep from the source whose data is newest: sources disagree on
    stages, so they are never summed together."""
    by_source: dict[str, list[DeviceSample]] = defaultdict(list)
    for row in rows:
        if row.stage in ASLEEP_STAGES:  # "in bed" and "awake" are not sleep
            by_source[row.source].append(row)
    if not by_source:
        return None
    newest = max(by_source.values(), key=lambda group: max((r.end or r.timestamp) for r in group))
    minutes = sum((r.value for r in newest), Decimal(0))
    if minutes <= 0:
        return None
    return min(Decimal(24), minutes / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def day_values(rows: Iterable[DeviceSample]) -> dict[str, Decimal | int]:
    """What one day's readings say for each check-in field (pure)."""
    rows = list(rows)
    values: dict[str, Decimal | int] = {}
    for field, metric in LATEST_WINS.items():
        readings = [r for r in rows if r.metric == metric]
        if readings:
            latest = max(readings, key=lambda r: (r.timestamp, r.received or r.timestamp))
            value = latest.value
            if field == "resting_hr_bpm":
                values[field] = int(value.to_integral_value(rounding=ROUND_HALF_UP))
            else:
                values[field] = value.quantize(_QUANT[field], rounding=ROUND_HALF_UP)
    sleep = _sleep_hours(r for r in rows if r.metric == Metric.SLEEP)
    if sleep is not None:
        values["sleep_hours"] = sleep
    return values


def checkins_roll_up(*, athlete: AthleteProfile, days: Iterable[datetime.date]) -> int:
    """Recompute the device fields of these days' check-ins. A field typed by the client
    is never touched; a field a device filled follows the newest reading. Returns the
    number of check-ins written."""
    days = sorted(set(days))
    # A decade-long import touches thousands of days: a month at a time keeps memory flat.
    return sum(
        _roll_up(athlete, days[i : i + ROLL_UP_DAYS]) for i in range(0, len(days), ROLL_UP_DAYS)
    )


ROLL_UP_DAYS = 31


def _roll_up(athlete: AthleteProfile, days: list[datetime.date]) -> int:
    rows_by_day: dict[datetime.date, list[DeviceSample]] = defaultdict(list)
    for row in DeviceSample.objects.filter(athlete=athlete, day__in=days).exclude(
        metric=Metric.STEPS
    ):
        rows_by_day[row.day].append(row)
    checkins = {
        c.date: c
        for c in CheckIn.objects.select_for_update().filter(athlete=athlete, date__in=days)
    }
    written = 0
    for day in days:
        values = day_values(rows_by_day.get(day, ()))
        checkin = checkins.get(day)
        if checkin is None:
            if not values:
                continue
            checkin = CheckIn(athlete=athlete, date=day, device_fields=[])
        owned = set(checkin.device_fields or [])
        changed: list[str] = []
        for field in DEVICE_FIELDS:
            current = getattr(checkin, field)
            manual = current is not None and field not in owned
            if manual:
                continue
            new = values.get(field)
            if new != current:
                setattr(checkin, field, new)
                changed.append(field)
            if new is None:
                owned.discard(field)
            else:
                owned.add(field)
        device_fields = sorted(owned)
        if checkin.pk is None:
            checkin.device_fields = device_fields
            checkin.assign_current_tenant()
            checkin.full_clean(validate_unique=False, validate_constraints=False)
            checkin.save()
            written += 1
        elif changed or device_fields != sorted(checkin.device_fields or []):
            checkin.device_fields = device_fields
            checkin.full_clean(validate_unique=False, validate_constraints=False)
            checkin.save(update_fields=[*changed, "device_fields", "updated"])
            written += 1
    return written


def samples_of(
    athlete: AthleteProfile,
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    metric: str | None = None,
):
    """The athlete's stored readings, by local day range and metric (a selector kept
    beside the service because the API and the export both read it this way)."""
    rows = DeviceSample.objects.filter(athlete=athlete)
    if since is not None:
        rows = rows.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    if metric:
        rows = rows.filter(metric=metric)
    return rows.order_by("timestamp", "id")
