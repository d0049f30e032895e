"""Logging a planned session while it happens (the Today page): one set at a time, and
the session's own numbers (how long, how far, how hard).

`session_log_create` (plans.py) logs a finished session in one go. On a phone in the gym
a client taps "done" after each set instead, so the first set logged creates the
session's log (with the planned duration until they say how long it took) and every set
is stored against the planned set it fulfils: `SetLog.set_index` is the planned set's
index, which is how the night's `rpe_overshoot` finds each set's target RPE (the k-th
logged set of a lift ↔ the k-th planned set of that lift). Logging a set again corrects
it; nothing is ever logged twice.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from athletes.models import AthleteProfile
from programs.models import PlannedSession, PlannedSet, SessionLog, SetLog
from programs.services.plans import (
    ProgramsError,
    _computed_loads,
    _not_in_future,
    session_log_create,
)


def _refused(exc: ValidationError) -> ProgramsError:
    fields = (
        {name: list(errors) for name, errors in exc.message_dict.items()}
        if hasattr(exc, "error_dict")
        else {"__all__": list(exc.messages)}
    )
    first = next(iter(fields.values()))[0]
    return ProgramsError(first, fields=fields)


def _loggable(athlete: AthleteProfile, session: PlannedSession) -> PlannedSession:
    """The session locked for this write (two quick taps make one log, not two)."""
    if session.athlete_id != athlete.pk:
        raise ProgramsError(
            "That planned session belongs to another athlete.",
            fields={"planned_session": ["Not one of this athlete's sessions."]},
        )
    locked = PlannedSession.objects.select_for_update().get(pk=session.pk)
    if locked.rest_day:
        raise ProgramsError(
            "This session was turned into a rest day: there is nothing to log.",
            code="rest_day",
        )
    _not_in_future("date", locked.date)
    return locked


def _log_of(session: PlannedSession) -> SessionLog | None:
    return SessionLog.objects.filter(planned_session=session).order_by("-id").first()


@transaction.atomic
def set_log_record(
    *,
    athlete: AthleteProfile,
    planned_set: PlannedSet,
    as_prescribed: bool = False,
    weight_kg: Decimal | None = None,
    reps: int | None = None,
    rpe: Decimal | None = None,
) -> SetLog:
    """Log (or correct) one planned set: as prescribed (the planned load, reps and target
    RPE), or with what was actually lifted. The session's log is created with the first
    set. Anything invalid stores nothing and names the field."""
    session = _loggable(athlete, planned_set.session)
    if session.kind != PlannedSession.Kind.STRENGTH:
        raise ProgramsError("Only strength sessions have sets to log.", code="not_strength")
    if as_prescribed:
        if planned_set.load_kg is None and planned_set.exercise.loadable:
            raise ProgramsError(
                "No weight was planned for this set: give the weight you lifted.",
                fields={"weight_kg": ["Give the weight you lifted, in kg."]},
            )
        weight_kg = planned_set.load_kg if planned_set.load_kg is not None else Decimal("0")
        reps = planned_set.reps
        rpe = planned_set.target_rpe
    elif weight_kg is None or reps is None:
        raise ProgramsError(
            "Give the weight and the reps you did.",
            fields={
                **(
                    {"weight_kg": ["Give the weight in kg (0 for bodyweight)."]}
                    if weight_kg is None
                    else {}
                ),
                **({"reps": ["Give the reps you did."]} if reps is None else {}),
            },
        )
    log = _log_of(session)
    if log is None:
        log = session_log_create(
            athlete=athlete,
            date=session.date,
            kind=session.kind,
            duration_s=session.duration_min * 60,
            planned_session=session,
        )
    row = (
        SetLog.objects.select_for_update()
        .filter(session=log, set_index=planned_set.set_index)
        .first()
    )
    created = row is None
    if created:
        row = SetLog(session=log, set_index=planned_set.set_index)
    row.exercise_id = planned_set.exercise_id
    row.weight_kg = weight_kg
    row.reps = reps
    row.rpe = rpe
    row.assign_current_tenant()
    try:
        row.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise _refused(exc) from exc
    if created:
        row.save()
    else:
        row.save(update_fields=["exercise", "weight_kg", "reps", "rpe"])
    return row


@transaction.atomic
def session_log_record(
    *,
    athlete: AthleteProfile,
    planned_session: PlannedSession,
    duration_s: int,
    session_rpe: Decimal | None = None,
    distance_m: int | None = None,
) -> SessionLog:
    """Log (or correct) a planned session's duration, distance and session RPE: an
    endurance session in one go, or a strength session's finish after its sets. The
    engine's loads (sRPE, TSS, TRIMP) are computed again from the new numbers."""
    session = _loggable(athlete, planned_session)
    log = _log_of(session)
    if log is None:
        try:
            return session_log_create(
                athlete=athlete,
                date=session.date,
                kind=session.kind,
                duration_s=duration_s,
                planned_session=session,
                session_rpe=session_rpe,
                distance_m=distance_m,
            )
        except ValidationError as exc:
            raise _refused(exc) from exc
    log.duration_s = duration_s
    log.session_rpe = session_rpe
    if distance_m is not None or session.kind != PlannedSession.Kind.STRENGTH:
        log.distance_m = distance_m
    for name, value in _computed_loads(
        athlete=athlete,
        date=log.date,
        kind=log.kind,
        duration_s=duration_s,
        session_rpe=session_rpe,
        distance_m=log.distance_m,
        avg_hr_bpm=log.avg_hr_bpm,
        normalized_power_w=log.normalized_power_w,
    ).items():
        setattr(log, name, value)
    try:
        log.full_clean()
    except ValidationError as exc:
        raise _refused(exc) from exc
    log.save(update_fields=["duration_s", "session_rpe", "distance_m", "srpe_load", "tss", "trimp"])
    return log
