"""Writes of programs data: the tenant's exercise library, assessment lifts, blocks
(persisting what `engine.blocks` plans) and training logs (with the engine's loads).
One transaction each; every planned value keeps the engine's derivation."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from athletes import selectors as athlete_selectors
from athletes.models import Assessment, AthleteProfile
from coaching.errors import DomainError
from coaching.models import MethodologyVersion
from programs import selectors
from programs.engine import blocks as block_engine
from programs.engine import load as load_engine
from programs.engine import strength
from programs.engine.library import Library, load_library
from programs.models import (
    AssessmentLift,
    Exercise,
    PlannedSession,
    PlannedSet,
    ProgramBlock,
    SessionLog,
    SetLog,
)

MAX_DAYS_AHEAD = 1
# How far back logs count toward a first block's e1RMs when there is no assessment.
LOG_WINDOW = datetime.timedelta(weeks=6)
# Exercise model field -> library (engine) field: one list for both directions.
LIBRARY_FIELDS = {
    "slug": "slug", "name": "name", "pattern": "pattern", "equipment": "equipment",
    "primary_muscles": "primary_muscles", "substitution_group": "substitution_group",
    "unilateral": "unilateral", "fatigue": "fatigue", "e1rm_ratio": "e1rm_ratio",
    "is_reference": "reference", "loadable": "loadable", "per_hand": "per_hand",
    "dose_unit": "dose_unit", "default_dose": "default_dose",
}  # fmt: skip


def _json_ready(value: Any) -> Any:
    return (
        sorted(value)
        if isinstance(value, frozenset)
        else (list(value) if isinstance(value, tuple) else value)
    )


class ProgramsError(DomainError):
    code = "programs_invalid"


class NoEnrolment(DomainError):
    code = "not_enrolled"
    status = 409


def _derivation(d: block_engine.Derivation) -> dict[str, Any]:
    return {"rule": d.rule, "inputs": dict(d.inputs), "sentence": d.sentence}


def _not_in_future(field: str, day: datetime.date) -> None:
    if day > timezone.localdate() + datetime.timedelta(days=MAX_DAYS_AHEAD):
        raise ProgramsError(
            f"{day.isoformat()} is in the future.",
            code="date_in_future",
            fields={field: ["This date is in the future."]},
        )


@transaction.atomic
def exercise_library_install() -> int:
    """Give the tenant in context the shipped library; slugs it already has are kept as
    the coach left them. Returns how many exercises were added."""
    existing = set(Exercise.objects.values_list("slug", flat=True))
    new = [
        Exercise(
            **{field: _json_ready(getattr(info, key)) for field, key in LIBRARY_FIELDS.items()}
        )
        for info in load_library().exercises
        if info.slug not in existing
    ]
    Exercise.objects.bulk_create(new, batch_size=500)
    return len(new)


def tenant_library() -> Library:
    """The engine's view of the tenant's exercises (coach additions included), with the
    shipped endurance session types."""
    rows = [
        {key: getattr(e, field) for field, key in LIBRARY_FIELDS.items()}
        for e in Exercise.objects.all()
    ]
    shipped = load_library()
    library = Library.from_rows(exercises=rows)
    return Library(exercises=library.exercises, endurance_sessions=shipped.endurance_sessions)


@transaction.atomic
def assessment_lift_add(
    *,
    assessment: Assessment,
    exercise: Exercise,
    weight_kg: Decimal,
    reps: int,
    rpe: Decimal = Decimal("10"),
    tested: bool = True,
) -> AssessmentLift:
    """A tested max or rep-max set; its e1RM comes from the RTS chart (SCIENCE.md §1)."""
    try:
        e1rm = strength.e1rm(float(weight_kg), int(reps), float(rpe))
    except ValueError as exc:
        raise ProgramsError(str(exc), fields={"reps": [str(exc)]}) from exc
    lift = AssessmentLift(
        assessment=assessment,
        exercise=exercise,
        weight_kg=weight_kg,
        reps=reps,
        rpe=rpe,
        tested=tested,
        e1rm_kg=Decimal(f"{e1rm:.2f}"),
    )
    lift.assign_current_tenant()
    lift.full_clean(validate_constraints=False)
    lift.save()
    return lift


def _athlete_input(profile: AthleteProfile) -> block_engine.AthleteInput:
    return block_engine.AthleteInput(
        sex=profile.sex,
        birth_date=profile.birth_date,
        discipline=profile.discipline,
        available_weekdays=tuple(profile.available_weekdays),
        session_minutes=profile.session_minutes,
        equipment=frozenset(profile.equipment),
    )


def _assessment_input(assessment: Assessment | None) -> block_engine.AssessmentInput:
    if assessment is None:
        return block_engine.AssessmentInput()
    lifts = selectors.lifts_of(assessment)
    return block_engine.AssessmentInput(
        e1rm_kg={lift.exercise.slug: float(lift.e1rm_kg) for lift in lifts},
        body_weight_kg=float(assessment.body_weight_kg) if assessment.body_weight_kg else None,
        ftp_w=float(assessment.ftp_w) if assessment.ftp_w else None,
        threshold_speed_m_s=assessment.threshold_speed_m_s,
        hr_max_bpm=assessment.hr_max_bpm,
        hr_rest_bpm=assessment.hr_rest_bpm,
    )


@transaction.atomic
def block_generate(
    *,
    athlete: AthleteProfile,
    start_date: datetime.date,
    methodology_version: MethodologyVersion | None = None,
) -> ProgramBlock:
    """Plan the athlete's next block and store it, superseding an active block that
    overlaps it. The version defaults to the athlete's enrolment; the numbers come from
    the latest assessment, with working e1RMs from the previous block's logged sets
    (robust, never the last single set) where there are any."""
    if methodology_version is None:
        enrolment = athlete_selectors.current_enrolment(athlete)
        if enrolment is None:
            raise NoEnrolment(
                "The athlete is not enrolled on a tier, so there is no methodology to plan with."
            )
        methodology_version = enrolment.methodology_version
    assessment = athlete_selectors.latest_assessment(athlete)
    assessment_input = _assessment_input(assessment)
    previous = selectors.active_block_of(athlete)
    # Logged sets since the last block began (or the assessment, for a first block)
    # refine the assessed e1RMs: the engine's working e1RM, never the last single set.
    since = (
        previous.start_date
        if previous is not None
        else (assessment.date if assessment is not None else start_date - LOG_WINDOW)
    )
    sets = selectors.logged_sets_by_exercise(athlete, since=since)
    if sets:
        assessment_input = block_engine.assessment_from_logs(
            assessment_input, sets, today=start_date
        )
    if not Exercise.objects.exists():
        exercise_library_install()  # a new tenant plans with the shipped library
    library = tenant_library()
    try:
        plan = block_engine.generate_block(
            _athlete_input(athlete),
            assessment_input,
            methodology_version.rules,
            start_date,
            library=library,
        )
    except ValueError as exc:
        raise ProgramsError(str(exc), code="cannot_plan") from exc

    ProgramBlock.objects.filter(athlete=athlete, status=ProgramBlock.Status.ACTIVE).update(
        status=ProgramBlock.Status.SUPERSEDED
    )
    block = ProgramBlock(
        athlete=athlete,
        methodology_version=methodology_version,
        assessment=assessment,
        previous=previous,
        start_date=plan.start_date,
        weeks=plan.weeks,
        inputs={"e1rm_kg": dict(assessment_input.e1rm_kg)},
        derivation=_derivation(plan.derivation),
    )
    block.assign_current_tenant()
    block.full_clean()
    block.save()
    _persist_sessions(block, athlete, plan.sessions)
    return block


def _persist_sessions(
    block: ProgramBlock, athlete: AthleteProfile, plans: Sequence[block_engine.PlannedSessionPlan]
) -> None:
    exercises = {e.slug: e for e in Exercise.objects.all()}
    sessions = PlannedSession.objects.bulk_create(
        [
            PlannedSession(
                block=block,
                athlete=athlete,
                date=p.date,
                week=p.week,
                is_deload=p.is_deload,
                kind=p.kind,
                name=p.name,
                duration_min=p.duration_min,
                endurance_type=p.endurance_type or "",
                zone=p.zone,
                target_low=p.target_low,
                target_high=p.target_high,
                target_unit=p.target_unit or "",
                planned_tss=p.planned_tss,
                notes=list(p.notes),
                derivation=_derivation(p.derivation),
            )
            for p in plans
        ]
    )
    PlannedSet.objects.bulk_create(
        [
            PlannedSet(
                session=session,
                exercise=exercises[s.exercise_slug],
                set_index=s.set_index,
                reps=s.reps,
                target_rpe=Decimal(str(s.target_rpe)) if s.target_rpe is not None else None,
                percent_1rm=Decimal(f"{s.percent_1rm:.3f}") if s.percent_1rm is not None else None,
                load_kg=Decimal(f"{s.load_kg:.2f}") if s.load_kg is not None else None,
                derivation=_derivation(s.derivation),
            )
            for session, p in zip(sessions, plans, strict=True)
            for s in p.sets
        ],
        batch_size=1000,
    )


def _computed_loads(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    kind: str,
    duration_s: int,
    session_rpe: Decimal | None,
    distance_m: int | None,
    avg_hr_bpm: int | None,
    normalized_power_w: int | None,
) -> dict[str, float | None]:
    """sRPE load, TSS (power for rides, pace for runs) and TRIMP, where the inputs exist."""
    assessment = athlete_selectors.latest_assessment(athlete, on=date)
    minutes = duration_s / 60
    loads: dict[str, float | None] = {"srpe_load": None, "tss": None, "trimp": None}
    if session_rpe is not None:
        loads["srpe_load"] = load_engine.session_rpe_load(float(session_rpe), minutes)
    if assessment is not None:
        if kind == SessionLog.Kind.RIDE and normalized_power_w and assessment.ftp_w:
            loads["tss"] = load_engine.tss(duration_s, normalized_power_w, assessment.ftp_w)
        if kind == SessionLog.Kind.RUN and distance_m and assessment.threshold_speed_m_s:
            loads["tss"] = load_engine.run_tss(
                duration_s, distance_m / duration_s, assessment.threshold_speed_m_s
            )
        rest, peak = assessment.hr_rest_bpm, assessment.hr_max_bpm
        if avg_hr_bpm and rest and peak and rest <= avg_hr_bpm <= peak:
            loads["trimp"] = load_engine.trimp(minutes, avg_hr_bpm, rest, peak, athlete.sex)
    return loads


@transaction.atomic
def session_log_create(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    kind: str,
    duration_s: int,
    planned_session: PlannedSession | None = None,
    session_rpe: Decimal | None = None,
    distance_m: int | None = None,
    avg_hr_bpm: int | None = None,
    max_hr_bpm: int | None = None,
    avg_power_w: int | None = None,
    normalized_power_w: int | None = None,
    notes: str = "",
    sets: Sequence[dict[str, Any]] = (),
) -> SessionLog:
    """Log a session (with its sets) against a planned one or none; the engine computes
    its loads. Anything invalid stores nothing."""
    _not_in_future("date", date)
    if planned_session is not None and planned_session.athlete_id != athlete.pk:
        raise ProgramsError(
            "That planned session belongs to another athlete.",
            fields={"planned_session": ["Not one of this athlete's sessions."]},
        )
    log = SessionLog(
        athlete=athlete,
        planned_session=planned_session,
        date=date,
        kind=kind,
        duration_s=duration_s,
        session_rpe=session_rpe,
        distance_m=distance_m,
        avg_hr_bpm=avg_hr_bpm,
        max_hr_bpm=max_hr_bpm,
        avg_power_w=avg_power_w,
        normalized_power_w=normalized_power_w,
        notes=notes,
        **_computed_loads(
            athlete=athlete,
            date=date,
            kind=kind,
            duration_s=duration_s,
            session_rpe=session_rpe,
            distance_m=distance_m,
            avg_hr_bpm=avg_hr_bpm,
            normalized_power_w=normalized_power_w,
        ),
    )
    log.assign_current_tenant()
    log.full_clean()
    log.save()
    rows = []
    for index, values in enumerate(sets, start=1):
        row = SetLog(session=log, set_index=index, **values)
        row.assign_current_tenant()
        row.full_clean(exclude=["session"], validate_constraints=False)
        rows.append(row)
    SetLog.objects.bulk_create(rows)
    return log


def adherence_by_week(athlete: AthleteProfile, block: ProgramBlock) -> list[dict[str, Any]]:
    """Planned vs completed sessions per block week (a read, kept beside the writes that
    define "completed": a log linked to the planned session)."""
    planned = defaultdict(int)
    done = defaultdict(int)
    for session in selectors.sessions_of_block(block).prefetch_related("logs"):
        planned[session.week] += 1
        if session.logs.all():
            done[session.week] += 1
    return [
        {
            "week": week,
            "planned": planned[week],
            "completed": done[week],
            "adherence": done[week] / planned[week] if planned[week] else None,
        }
        for week in sorted(planned)
    ]
