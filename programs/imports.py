"""Training files a client uploads: FIT activities (a watch or bike computer) and a CSV of
lifts (a spreadsheet or another app). Registered in `athletes.imports` from
`ProgramsConfig.ready()`; docs/imports.md documents both formats.

`athletes.imports.import_run` calls each `run` inside ONE transaction, so an `ImportFailed`
anywhere stores nothing. Both write by idempotent keys (`SessionLog.external_id`), so
importing the same file again creates nothing: the FIT file's own identity (its file_id
message, else the bytes' sha256), and for lifts (date, exercise, set). Logs go through
`programs.services.plans.session_log_create`, so the engine's loads (sRPE, TSS, TRIMP)
are computed exactly as for a session logged in the app.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import hashlib
import io
import struct
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

import fitdecode
from django.core.exceptions import ValidationError

from athletes.imports import PROGRESS_EVERY, ImportCounts, ImportFailed, Progress
from athletes.models import AthleteProfile
from coaching.context import current_tenant
from coaching.selectors import tenant_today
from programs.models import (
    Exercise,
    PlannedSession,
    ProgramBlock,
    SessionKind,
    SessionLog,
    SetLog,
)
from programs.services.plans import ProgramsError, _computed_loads, session_log_create

# A FIT activity is kilobytes to a few MB; anything far bigger is not one activity.
MAX_FIT_BYTES = 64 * 1024 * 1024
# Power is held for at most this long across a gap in the records (a pause is not 0 W
# for ever, nor the last reading for ever).
MAX_POWER_GAP_S = 5
NP_WINDOW_S = 30
# Sets per exercise per day in a lifts CSV, and how set_index encodes (exercise, set).
MAX_SET = 99
SLOT = 100
# A strength session imported without a planned session: its length is an estimate.
SECONDS_PER_SET = 180

FIT_SPORTS = {"cycling": SessionKind.RIDE, "running": SessionKind.RUN}


def _business_zone() -> zoneinfo.ZoneInfo:
    """Days are the business's days (Tenant.timezone), as the plan's are."""
    return zoneinfo.ZoneInfo(current_tenant().timezone or "UTC")


def _planned_match(athlete: AthleteProfile, day: datetime.date, kind: str) -> PlannedSession | None:
    """The planned session this log fulfils: that day's session of the same kind that is
    not a rest day, has no log yet and is not in a superseded block."""
    return (
        PlannedSession.objects.filter(athlete=athlete, date=day, kind=kind, rest_day=False)
        .exclude(logs__isnull=False)
        .exclude(block__status=ProgramBlock.Status.SUPERSEDED)
        .order_by("id")
        .first()
    )


def _refusal(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return " ".join(exc.messages)
    if isinstance(exc, ProgramsError):
        return exc.message
    return str(exc)


# --- FIT activities ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    at: datetime.datetime
    heart_rate: int | None
    power: int | None
    distance_m: float | None


@dataclass(frozen=True)
class FitActivity:
    """What one FIT session message (or, without one, the whole file) says."""

    sport: str | None
    start: datetime.datetime | None
    timer_s: float | None
    distance_m: float | None
    avg_hr: int | None
    max_hr: int | None
    avg_power: int | None
    normalized_power: int | None


def normalized_power(samples: list[tuple[float, int]]) -> float | None:
    """Coggan's normalised power from (seconds since start, watts) samples: power held
    second by second (at most MAX_POWER_GAP_S across a gap), a 30 s rolling mean, then
    the fourth root of the mean fourth power. None with under 30 s of power."""
    if not samples:
        return None
    per_second: list[float] = []
    for (t, watts), nxt in zip(samples, [*samples[1:], None], strict=True):
        hold = 1 if nxt is None else int(round(min(max(nxt[0] - t, 1), MAX_POWER_GAP_S)))
        per_second.extend([float(watts)] * hold)
    if len(per_second) < NP_WINDOW_S:
        return None
    window = sum(per_second[:NP_WINDOW_S])
    fourth = [(window / NP_WINDOW_S) ** 4]
    for i in range(NP_WINDOW_S, len(per_second)):
        window += per_second[i] - per_second[i - NP_WINDOW_S]
        fourth.append((window / NP_WINDOW_S) ** 4)
    return (sum(fourth) / len(fourth)) ** 0.25


def _int(value: Any) -> int | None:
    return int(round(value)) if isinstance(value, (int, float)) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _fields(frame: fitdecode.FitDataMessage) -> dict[str, Any]:
    return {f.name: f.value for f in frame.fields}


def _read_fit(
    data: bytes, progress: Progress
) -> tuple[dict[str, Any], str | None, list[Sample], list[dict]]:
    """file_id, the sport message's sport, the records and the session messages. Any
    fault names the data record it happened at (counting from 1)."""
    file_id: dict[str, Any] = {}
    sport: str | None = None
    samples: list[Sample] = []
    sessions: list[dict[str, Any]] = []
    records = 0
    try:
        reader = fitdecode.FitReader(
            io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE, keep_raw_chunks=False
        )
        with reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                records += 1
                if records % PROGRESS_EVERY == 0:
                    progress(records)
                values = _fields(frame)
                if frame.name == "file_id" and not file_id:
                    file_id = values
                elif frame.name == "sport" and sport is None:
                    sport = values.get("sport") if isinstance(values.get("sport"), str) else None
                elif frame.name == "session":
                    sessions.append(values)
                elif frame.name == "record" and isinstance(
                    values.get("timestamp"), datetime.datetime
                ):
                    samples.append(
                        Sample(
                            at=values["timestamp"],
                            heart_rate=_int(values.get("heart_rate")),
                            power=_int(values.get("power")),
                            distance_m=_float(values.get("distance")),
                        )
                    )
    except fitdecode.FitHeaderError as exc:
        if records == 0 and "not a FIT file" in str(exc):
            raise ImportFailed("This is not a FIT file (its header says otherwise).") from exc
        raise ImportFailed(f"record {records + 1}: bad FIT header ({exc}).") from exc
    except fitdecode.FitCRCError as exc:
        where = f"record {records}" if records else "the file header"
        raise ImportFailed(f"{where}: bad CRC, the file is damaged.") from exc
    except fitdecode.FitEOFError as exc:
        raise ImportFailed(
            f"record {records + 1}: the file ends in the middle of a record (truncated)."
        ) from exc
    except (fitdecode.FitError, struct.error, KeyError, ValueError, IndexError) as exc:
        raise ImportFailed(f"record {records + 1}: cannot be decoded ({exc}).") from exc
    progress(records)
    if file_id.get("type") not in (None, "activity"):
        raise ImportFailed(
            f"This FIT file is a {file_id.get('type')}, not an activity: nothing to import."
        )
    return file_id, sport, samples, sessions


def _activity(
    session: dict[str, Any] | None, sport: str | None, samples: list[Sample]
) -> FitActivity:
    """The device's own totals where it wrote them, else computed from the records.
    Normalised power is always computed from the records when they carry power."""
    session = session or {}
    start = session.get("start_time")
    if not isinstance(start, datetime.datetime):
        start = None
    if start is None and samples:
        start = samples[0].at
    timer_s = _float(session.get("total_timer_time"))
    if timer_s is None and len(samples) > 1:
        timer_s = (samples[-1].at - samples[0].at).total_seconds()
    distance = _float(session.get("total_distance"))
    if distance is None:
        distances = [s.distance_m for s in samples if s.distance_m is not None]
        distance = max(distances) if distances else None
    hrs = [s.heart_rate for s in samples if s.heart_rate]
    powered = [(s.at, s.power) for s in samples if s.power is not None]
    avg_power = _int(session.get("avg_power"))
    if avg_power is None and powered:
        avg_power = round(sum(p for _, p in powered) / len(powered))
    np_w: float | None = None
    if powered:
        t0 = powered[0][0]
        np_w = normalized_power([((at - t0).total_seconds(), p) for at, p in powered])
    if np_w is None:
        np_w = _float(session.get("normalized_power"))
    return FitActivity(
        sport=session.get("sport") if isinstance(session.get("sport"), str) else sport,
        start=start,
        timer_s=timer_s,
        distance_m=distance,
        avg_hr=_int(session.get("avg_heart_rate")) or (round(sum(hrs) / len(hrs)) if hrs else None),
        max_hr=_int(session.get("max_heart_rate")) or (max(hrs) if hrs else None),
        avg_power=avg_power or None,
        normalized_power=round(np_w) if np_w else None,
    )


def _fit_key(file_id: dict[str, Any], data: bytes) -> str:
    """The file's identity: (manufacturer, serial number, time created) as the device
    wrote them, so a copy renamed or re-downloaded is the same file; else its bytes."""
    maker, serial, created = (
        file_id.get("manufacturer"),
        file_id.get("serial_number"),
        file_id.get("time_created"),
    )
    if maker is not None and serial and isinstance(created, datetime.datetime):
        return f"fit:{maker}:{serial}:{int(created.timestamp())}"
    return "fit-sha256:" + hashlib.sha256(data).hexdigest()


def _pace(duration_s: float, distance_m: float | None) -> str:
    if not distance_m:
        return ""
    per_km = duration_s / (distance_m / 1000)
    return f" ({int(per_km // 60)}:{int(per_km % 60):02d} /km)"


def fit_import(athlete: AthleteProfile, stream: BinaryIO, progress: Progress) -> ImportCounts:
    """One endurance log per session in the file (usually one). Runs and rides only; a
    session of another sport is skipped and said so."""
    data = stream.read(MAX_FIT_BYTES + 1)
    if len(data) > MAX_FIT_BYTES:
        raise ImportFailed("This file is larger than 64 MB: not a single FIT activity.")
    if len(data) < 12 or data[8:12] != b".FIT":
        raise ImportFailed("This is not a FIT file (it does not start with a FIT header).")
    file_id, sport, samples, sessions = _read_fit(data, progress)
    if not samples and not sessions:
        raise ImportFailed("This FIT file has no records and no session: nothing to import.")
    samples.sort(key=lambda s: s.at)
    base = _fit_key(file_id, data)
    zone = _business_zone()
    counts = ImportCounts()
    parts: list[dict[str, Any] | None] = sessions or [None]
    for number, session in enumerate(parts, start=1):
        key = base if number == 1 else f"{base}:{number}"
        if session is not None and len(parts) > 1:
            start = session.get("start_time")
            end = session.get("timestamp")
            own = [s for s in samples if start and end and start <= s.at <= end]
        else:
            own = samples
        activity = _activity(session, sport, own)
        kind = FIT_SPORTS.get(activity.sport or "")
        if kind is None and activity.sport is None:
            kind = SessionKind.RIDE if activity.avg_power else SessionKind.RUN
            counts.notes.append(
                f"Session {number}: no sport in the file; taken as a "
                f"{kind.label.lower()} ({'power' if activity.avg_power else 'no power'})."
            )
        if kind is None:
            counts.skipped += 1
            counts.notes.append(
                f"Session {number}: {activity.sport} is not imported (runs and rides only)."
            )
            continue
        if SessionLog.objects.filter(athlete=athlete, external_id=key).exists():
            counts.unchanged += 1
            continue
        if activity.start is None or not activity.timer_s:
            raise ImportFailed(f"session {number}: no start time or duration in the file.")
        day = activity.start.astimezone(zone).date()
        duration_s = int(round(activity.timer_s))
        distance = int(round(activity.distance_m)) if activity.distance_m else None
        try:
            log = session_log_create(
                athlete=athlete,
                date=day,
                kind=kind,
                duration_s=duration_s,
                planned_session=_planned_match(athlete, day, kind),
                distance_m=distance,
                avg_hr_bpm=activity.avg_hr,
                max_hr_bpm=activity.max_hr,
                avg_power_w=activity.avg_power,
                normalized_power_w=activity.normalized_power,
                notes=(
                    f"Imported from a FIT file: {duration_s // 60} min"
                    + (f", {distance / 1000:.2f} km" if distance else "")
                    + _pace(duration_s, distance)
                    + "."
                ),
            )
        except (ValidationError, ProgramsError) as exc:
            raise ImportFailed(f"session {number}: {_refusal(exc)}") from exc
        log.external_id = key
        log.save(update_fields=["external_id"])
        counts.created += 1
    return counts


# --- CSV lifts -----------------------------------------------------------------------------

LIFT_COLUMNS = ("date", "exercise", "set", "weight_kg", "reps", "rpe")
REQUIRED_LIFT_COLUMNS = LIFT_COLUMNS[:-1]


@dataclass(frozen=True)
class LiftRow:
    line: int
    date: datetime.date
    exercise: Exercise
    set_number: int
    weight_kg: Decimal
    reps: int
    rpe: Decimal | None


def lifts_key(day: datetime.date) -> str:
    """One imported strength log per day: its external_id."""
    return f"csv-lifts:{day.isoformat()}"


class _Exercises:
    """The tenant's exercises by slug and by lower-case name, read once per file."""

    def __init__(self) -> None:
        self.all = list(Exercise.objects.all())
        self.by_key: dict[str, Exercise] = {}
        for e in self.all:
            self.by_key[e.slug.lower()] = e
            self.by_key.setdefault(e.name.lower(), e)

    def find(self, text: str) -> Exercise | None:
        return self.by_key.get(text.strip().lower())

    def close_to(self, text: str) -> list[str]:
        names = {e.name.lower(): e.name for e in self.all}
        slugs = {e.slug: e.name for e in self.all}
        wanted = text.strip().lower()
        found = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6)
        found += difflib.get_close_matches(wanted, list(slugs), n=3, cutoff=0.6)
        out: list[str] = []
        for match in found:
            name = names.get(match) or slugs[match]
            if name not in out:
                out.append(name)
        return out[:3]


def _cell_error(line: int, column: str, message: str) -> ImportFailed:
    return ImportFailed(f"line {line}, {column}: {message}")


def _whole(line: int, column: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise _cell_error(line, column, f"expected a whole number {low}–{high}, found {text!r}")
    return value


def _decimal(
    line: int, column: str, text: str, low: Decimal, high: Decimal, places: int
) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = None
    if (
        value is None
        or not value.is_finite()
        or not low <= value <= high
        or value != value.quantize(Decimal(1).scaleb(-places))
    ):
        raise _cell_error(
            line,
            column,
            f"expected a number {low}–{high} with at most {places} decimal place"
            f"{'s' if places > 1 else ''}, found {text!r}",
        )
    return value


def _lift_rows(
    stream: BinaryIO, progress: Progress, exercises: _Exercises, today: datetime.date
) -> Iterator[LiftRow]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ImportFailed(f"line 1: not a CSV text file ({exc}).") from exc
    if header is None:
        raise ImportFailed("line 1: the file is empty.")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_LIFT_COLUMNS if c not in names]
    if missing:
        raise ImportFailed(
            f"line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(the header must be {','.join(LIFT_COLUMNS)}; rpe may be left out)."
        )
    where = {c: names.index(c) for c in LIFT_COLUMNS if c in names}
    read = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except UnicodeDecodeError as exc:
            raise ImportFailed(f"line {reader.line_num + 1}: not UTF-8 text.") from exc
        except csv.Error as exc:
            raise ImportFailed(f"line {reader.line_num}: {exc}.") from exc
        line = reader.line_num
        read += 1
        if read % PROGRESS_EVERY == 0:
            progress(read)
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(names):
            raise ImportFailed(f"line {line}: expected {len(names)} values, found {len(cells)}.")

        def cell(column: str, cells: list[str] = cells) -> str:
            return cells[where[column]] if column in where else ""

        try:
            day = datetime.date.fromisoformat(cell("date").strip())
        except ValueError:
            raise _cell_error(
                line, "date", f"expected a date like 2026-11-20, found {cell('date')!r}"
            ) from None
        if day > today:
            raise _cell_error(line, "date", f"{day.isoformat()} is in the future")
        exercise = exercises.find(cell("exercise"))
        if exercise is None:
            close = exercises.close_to(cell("exercise"))
            hint = f"; close matches: {', '.join(close)}" if close else ""
            raise _cell_error(
                line, "exercise", f"no exercise called {cell('exercise').strip()!r}{hint}"
            )
        rpe_text = cell("rpe").strip()
        yield LiftRow(
            line=line,
            date=day,
            exercise=exercise,
            set_number=_whole(line, "set", cell("set"), 1, MAX_SET),
            weight_kg=_decimal(line, "weight_kg", cell("weight_kg"), Decimal(0), Decimal(600), 2),
            reps=_whole(line, "reps", cell("reps"), 1, 100),
            rpe=_decimal(line, "rpe", rpe_text, Decimal(1), Decimal(10), 1) if rpe_text else None,
        )
    progress(read)


def _lifts_write(
    athlete: AthleteProfile, day: datetime.date, rows: list[LiftRow], counts: ImportCounts
) -> None:
    """One day's sets into that day's imported log. `set_index` encodes (exercise, set)
    as slot·100 + set, the slot being the exercise's place in the log (kept from the
    first import), so the same (date, exercise, set) always meets the same row."""
    log = SessionLog.objects.filter(athlete=athlete, external_id=lifts_key(day)).first()
    if log is None:
        planned = _planned_match(athlete, day, SessionKind.STRENGTH)
        duration = planned.duration_min * 60 if planned else SECONDS_PER_SET * len(rows)
        try:
            log = session_log_create(
                athlete=athlete,
                date=day,
                kind=SessionKind.STRENGTH,
                duration_s=min(duration, 24 * 3600),
                planned_session=planned,
                notes="Imported from a CSV of lifts.",
            )
        except (ValidationError, ProgramsError) as exc:
            raise ImportFailed(f"line {rows[0].line}: {_refusal(exc)}") from exc
        log.external_id = lifts_key(day)
        log.save(update_fields=["external_id"])
    existing = {s.set_index: s for s in SetLog.objects.filter(session=log)}
    slots = {s.exercise_id: s.set_index // SLOT for s in existing.values()}
    next_slot = max(slots.values(), default=0) + 1
    for row in rows:
        if row.exercise.pk not in slots:
            slots[row.exercise.pk] = next_slot
            next_slot += 1
        index = slots[row.exercise.pk] * SLOT + row.set_number
        current = existing.get(index)
        if current is None:
            current = SetLog(session=log, exercise=row.exercise, set_index=index)
            created = True
        else:
            created = False
            same = (current.weight_kg, current.reps, current.rpe) == (
                row.weight_kg,
                row.reps,
                row.rpe,
            )
            if same:
                counts.unchanged += 1
                continue
        current.weight_kg, current.reps, current.rpe = row.weight_kg, row.reps, row.rpe
        current.assign_current_tenant()
        try:
            current.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            raise ImportFailed(f"line {row.line}: {_refusal(exc)}") from exc
        if created:
            current.save()
            existing[index] = current
            counts.created += 1
        else:
            current.save(update_fields=["weight_kg", "reps", "rpe"])
            counts.updated += 1
    if log.planned_session_id is None:
        # The estimate follows the sets (a re-import of the same file changes nothing).
        duration = min(SECONDS_PER_SET * len(existing), 24 * 3600)
        if duration != log.duration_s:
            log.duration_s = duration
            for name, value in _computed_loads(
                athlete=athlete,
                date=log.date,
                kind=log.kind,
                duration_s=duration,
                session_rpe=log.session_rpe,
                distance_m=log.distance_m,
                avg_hr_bpm=log.avg_hr_bpm,
                normalized_power_w=log.normalized_power_w,
            ).items():
                setattr(log, name, value)
            log.save(update_fields=["duration_s", "srpe_load", "tss", "trimp"])


def lifts_import(athlete: AthleteProfile, stream: BinaryIO, progress: Progress) -> ImportCounts:
    """Every line checked before anything is written; then one strength log per date.
    A value that differs from what an earlier import stored replaces it (a correction,
    counted as updated); sets missing from the new file are kept (imports never delete)."""
    exercises = _Exercises()
    seen: dict[tuple[datetime.date, int, int], int] = {}
    by_day: dict[datetime.date, list[LiftRow]] = {}
    for row in _lift_rows(stream, progress, exercises, tenant_today()):
        key = (row.date, row.exercise.pk, row.set_number)
        if key in seen:
            raise ImportFailed(
                f"line {row.line}: the same date, exercise and set as line {seen[key]}."
            )
        seen[key] = row.line
        by_day.setdefault(row.date, []).append(row)
    if not by_day:
        raise ImportFailed("line 2: the file has a header but no lifts.")
    counts = ImportCounts()
    for day in sorted(by_day):
        _lifts_write(athlete, day, by_day[day], counts)
    counts.notes.append(f"{len(by_day)} day{'s' if len(by_day) != 1 else ''} of lifts.")
    return counts


def register() -> None:
    """Called from ProgramsConfig.ready()."""
    from athletes.imports import register_importer

    register_importer(
        "fit",
        label="FIT activity (run or ride)",
        extensions=(".fit",),
        help="A .fit file from a watch or bike computer: one run or ride per file.",
        run=fit_import,
    )
    register_importer(
        "csv_lifts",
        label="CSV of lifts",
        extensions=(".csv",),
        help="Columns date,exercise,set,weight_kg,reps,rpe (rpe optional), one set a line.",
        run=lifts_import,
    )
