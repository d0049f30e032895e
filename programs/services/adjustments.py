"""Nightly autoregulation and the life of an adjustment (DESIGN.md, Adjustments).

`autoregulate(athlete=, date=)` runs the engine once per (athlete, date) and stores what
it proposes as `Adjustment` rows; the tier's `autonomy` decides what happens to each:
- auto (DIY): applied at once;
- queue (hybrid): applied at once when no bigger than the methodology's
  `autoregulation.queue_threshold_percent` and not fired by an alert-level rule;
  otherwise it waits for the coach;
- approve (premium): every change waits for the coach.
A proposal that builds on one that waits, waits too (its `before` assumes the first).
The coach approves, rejects, edits then approves, or bulk-approves; any applied change
can be reverted by a new adjustment that restores the exact previous prescription.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from athletes import selectors as athlete_selectors
from athletes.models import AthleteProfile, CheckIn
from coaching.errors import DomainError
from coaching.methodology import validate_rules
from coaching.models import Membership, Tier
from programs import metrics, selectors
from programs.engine import autoregulation as engine
from programs.engine.library import Library
from programs.models import (
    Adjustment,
    AutoregulationRun,
    Exercise,
    PlannedSession,
    PlannedSet,
    SessionLog,
    SetLog,
)
from programs.services import subjects
from programs.services.plans import NoEnrolment, ProgramsError, tenant_library

#: "Not given": the caller did not preload it, so the service reads it (None is a value).
UNSET: Any = object()

CHECKIN_DAYS = 70  # HRV baseline (60) + rolling week (7) + slack
LOG_DAYS = 42
PLAN_AHEAD_DAYS = engine.EXPOSURE_HORIZON_DAYS
READINESS_DAYS = 42


class AdjustmentConflict(DomainError):
    code = "adjustment_conflict"
    status = 409


# --- reading and writing a prescription ---------------------------------------------


def _f(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def session_rx(
    session: PlannedSession, sets: Iterable[PlannedSet] | None = None
) -> engine.SessionRx:
    """The session's prescription as it stands (what an adjustment's `before` holds)."""
    rows = sorted(sets if sets is not None else session.sets.all(), key=lambda s: s.set_index)
    return engine.SessionRx(
        duration_min=session.duration_min,
        zone=session.zone,
        target_low=session.target_low,
        target_high=session.target_high,
        planned_tss=session.planned_tss,
        rest_day=session.rest_day,
        sets=tuple(
            engine.SetRx(
                exercise=s.exercise.slug,
                set_index=s.set_index,
                reps=s.reps,
                target_rpe=_f(s.target_rpe),
                percent_1rm=_f(s.percent_1rm),
                load_kg=_f(s.load_kg),
            )
            for s in rows
        ),
    )


def _stored(rx: engine.SessionRx) -> engine.SessionRx:
    """The prescription at the precision the columns keep, so before/after compare exactly
    with what a later read of the session returns."""

    def q(value: float | None, places: int) -> float | None:
        return None if value is None else float(round(Decimal(str(value)), places))

    return engine.SessionRx(
        duration_min=rx.duration_min,
        zone=rx.zone,
        target_low=rx.target_low,
        target_high=rx.target_high,
        planned_tss=rx.planned_tss,
        rest_day=rx.rest_day,
        sets=tuple(
            engine.SetRx(
                exercise=s.exercise,
                set_index=s.set_index,
                reps=s.reps,
                target_rpe=q(s.target_rpe, 1),
                percent_1rm=q(s.percent_1rm, 3),
                load_kg=q(s.load_kg, 2),
            )
            for s in rx.sets
        ),
    )


def _dec(value: float | None, places: int) -> Decimal | None:
    return None if value is None else round(Decimal(str(value)), places)


def _write(session: PlannedSession, rx: engine.SessionRx, adjustment: Adjustment) -> None:
    """Make the session say what `rx` says. Sets the adjustment leaves as they were keep
    their derivation; changed ones point at the adjustment and its sentence."""
    session.duration_min = rx.duration_min
    session.zone = rx.zone
    session.target_low = rx.target_low
    session.target_high = rx.target_high
    session.planned_tss = rx.planned_tss
    session.rest_day = rx.rest_day
    session.save(
        update_fields=[
            "duration_min",
            "zone",
            "target_low",
            "target_high",
            "planned_tss",
            "rest_day",
        ]
    )
    old = {s.set_index: s for s in session.sets.select_related("exercise")}
    old_rx = {s.set_index: s for s in session_rx(session, old.values()).sets}
    slugs = {s.exercise for s in rx.sets}
    exercises = {e.slug: e for e in Exercise.objects.filter(slug__in=slugs)}
    missing = slugs - set(exercises)
    if missing:
        raise ProgramsError(
            f"Unknown exercise: {', '.join(sorted(missing))}.",
            fields={"after": [f"Unknown exercise: {', '.join(sorted(missing))}."]},
        )
    changed = {
        "rule": adjustment.rule,
        "inputs": {"adjustment": adjustment.pk},
        "sentence": adjustment.sentence,
    }
    rows = [
        PlannedSet(
            session=session,
            exercise=exercises[s.exercise],
            set_index=s.set_index,
            reps=s.reps,
            target_rpe=_dec(s.target_rpe, 1),
            percent_1rm=_dec(s.percent_1rm, 3),
            load_kg=_dec(s.load_kg, 2),
            derivation=old[s.set_index].derivation if old_rx.get(s.set_index) == s else changed,
        )
        for s in rx.sets
    ]
    PlannedSet.objects.filter(session=session).delete()
    PlannedSet.objects.bulk_create(rows)


def _current(session: PlannedSession) -> dict[str, Any]:
    fresh = PlannedSession.objects.select_for_update().get(pk=session.pk)
    return session_rx(fresh, fresh.sets.select_related("exercise")).as_dict()


def _what(adjustment: Adjustment) -> str:
    return "session" if adjustment.subject == Adjustment.Subject.SESSION else "figure"


def _apply(adjustment: Adjustment, *, by: Membership | None) -> Adjustment:
    """Apply a stored adjustment whose `before` is what its subject says now."""
    subject = subjects.subject_of(adjustment)
    if subject.current(adjustment) != adjustment.before:
        raise AdjustmentConflict(
            f"The {_what(adjustment)} has changed since this adjustment was proposed; it "
            "can't be applied on top of the new value.",
        )
    subject.write(adjustment, adjustment.after)
    now = timezone.now()
    adjustment.status = Adjustment.Status.APPLIED
    adjustment.applied_at = now
    fields = ["status", "applied_at"]
    if by is not None:
        adjustment.decided_by = by
        adjustment.decided_at = now
        fields += ["decided_by", "decided_at"]
    adjustment.save(update_fields=fields)
    return adjustment


# --- the night ------------------------------------------------------------------------


def _checkins(
    athlete: AthleteProfile, day: datetime.date
) -> dict[datetime.date, engine.DayCheckIn]:
    return _checkins_of([athlete.pk], day)[athlete.pk]


def _checkins_of(
    athlete_ids: Sequence[int], day: datetime.date
) -> dict[int, dict[datetime.date, engine.DayCheckIn]]:
    """`_checkins` of several athletes in one query (a nightly chunk's)."""
    rows = CheckIn.objects.filter(
        athlete_id__in=list(athlete_ids),
        date__range=(day - datetime.timedelta(days=CHECKIN_DAYS), day),
    ).values_list("athlete_id", "date", "sleep_hours", "soreness", "stress", "mood", "hrv_rmssd_ms")
    out: dict[int, dict[datetime.date, engine.DayCheckIn]] = {i: {} for i in athlete_ids}
    for athlete_id, d, sleep, soreness, stress, mood, hrv in rows:
        out[athlete_id][d] = engine.DayCheckIn(
            date=d,
            sleep_hours=_f(sleep),
            soreness=soreness,
            stress=stress,
            mood=mood,
            hrv_rmssd_ms=_f(hrv),
        )
    return out


def _logs(athlete: AthleteProfile, day: datetime.date) -> list[engine.LoggedSession]:
    """Logged sessions of the last weeks, each set with the target RPE of the planned set
    it fulfilled (the k-th logged set of a lift ↔ the k-th planned set of that lift)."""
    return _logs_of([athlete.pk], day)[athlete.pk]


def _logs_of(
    athlete_ids: Sequence[int], day: datetime.date
) -> dict[int, list[engine.LoggedSession]]:
    """`_logs` of several athletes in three queries (a nightly chunk's), each athlete's
    sessions in the same order."""
    logs = list(
        SessionLog.objects.filter(
            athlete_id__in=list(athlete_ids),
            date__range=(day - datetime.timedelta(days=LOG_DAYS), day),
        )
        .prefetch_related(Prefetch("sets", queryset=SetLog.objects.select_related("exercise")))
        .order_by("date", "id")
    )
    targets: dict[tuple[int, str], list[float | None]] = defaultdict(list)
    for planned in (
        PlannedSet.objects.filter(session_id__in={log.planned_session_id for log in logs})
        .select_related("exercise")
        .order_by("session_id", "set_index")
    ):
        targets[(planned.session_id, planned.exercise.slug)].append(_f(planned.target_rpe))
    out: dict[int, list[engine.LoggedSession]] = {i: [] for i in athlete_ids}
    for log in logs:
        seen: dict[str, int] = defaultdict(int)
        sets = []
        for s in sorted(log.sets.all(), key=lambda s: s.set_index):
            slug = s.exercise.slug
            planned_targets = targets.get((log.planned_session_id, slug), [])
            k = seen[slug]
            seen[slug] += 1
            target = planned_targets[min(k, len(planned_targets) - 1)] if planned_targets else None
            sets.append(
                engine.LoggedSet(
                    exercise=slug,
                    set_index=s.set_index,
                    weight_kg=float(s.weight_kg),
                    reps=s.reps,
                    rpe=_f(s.rpe),
                    target_rpe=target,
                    velocity_m_s=_f(s.mean_velocity_m_s),
                )
            )
        out[log.athlete_id].append(
            engine.LoggedSession(
                date=log.date, kind=log.kind, duration_min=log.duration_s / 60, sets=tuple(sets)
            )
        )
    return out


def _sessions(
    athlete: AthleteProfile, day: datetime.date, block: Any = UNSET
) -> tuple[list[engine.PlannedSessionState], dict[int, PlannedSession], list[Adjustment]]:
    if block is UNSET:
        block = selectors.active_block_of(athlete)
    if block is None:
        return [], {}, []
    ahead = PlannedSession.objects.filter(
        block=block, date__gt=day, date__lte=day + datetime.timedelta(days=PLAN_AHEAD_DAYS)
    )
    weeks = set(ahead.values_list("week", flat=True))
    sessions = list(
        PlannedSession.objects.filter(block=block, week__in=weeks)
        .prefetch_related(Prefetch("sets", queryset=PlannedSet.objects.select_related("exercise")))
        .order_by("date", "id")
    )
    history = list(Adjustment.objects.filter(planned_session__in=sessions).order_by("id"))
    first_before: dict[int, dict[str, Any]] = {}
    for adjustment in history:
        if adjustment.status != Adjustment.Status.PENDING:
            first_before.setdefault(adjustment.planned_session_id, adjustment.before)
    states = []
    for session in sessions:
        current = session_rx(session)
        planned = first_before.get(session.pk)
        states.append(
            engine.PlannedSessionState(
                key=session.pk,
                date=session.date,
                week=(block.pk, session.week),
                kind=session.kind,
                is_deload=session.is_deload,
                planned=current if planned is None else engine.SessionRx.from_dict(planned),
                current=current,
            )
        )
    return states, {s.pk: s for s in sessions}, history


def _engine_input(
    athlete: AthleteProfile,
    day: datetime.date,
    states: Sequence[engine.PlannedSessionState],
    history: Sequence[Adjustment],
    e1rm_kg: Mapping[str, float],
    logs: Sequence[engine.LoggedSession] | None = None,
    checkins: Mapping[datetime.date, engine.DayCheckIn] | None = None,
) -> engine.AutoregulationInput:
    unit = metrics.load_unit(athlete, until=day)
    loads = metrics.daily_loads(athlete, day - datetime.timedelta(days=90), day, unit=unit.unit)
    readiness_history = dict(
        AutoregulationRun.objects.filter(
            athlete=athlete,
            date__gte=day - datetime.timedelta(days=READINESS_DAYS),
            date__lt=day,
            readiness_score__isnull=False,
        ).values_list("date", "readiness_score")
    )
    last_fired = dict(
        Adjustment.objects.filter(athlete=athlete, run__isnull=False)
        .exclude(status=Adjustment.Status.REJECTED)
        .values("rule")
        .annotate(last=Max("run__date"))
        .values_list("rule", "last")
    )
    return engine.AutoregulationInput(
        day=day,
        checkins=dict(checkins) if checkins is not None else _checkins(athlete, day),
        logs=list(logs) if logs is not None else _logs(athlete, day),
        daily_loads=loads,
        sessions=states,
        e1rm_kg={k: float(v) for k, v in e1rm_kg.items()},
        readiness_history=readiness_history,
        equipment=frozenset(athlete.equipment),
        already_applied=frozenset((a.rule, a.planned_session_id) for a in history),
        last_fired=last_fired,
    )


def _waits(proposal: engine.Proposal, autonomy: str, threshold: float) -> bool:
    return waits_for_coach(
        autonomy=autonomy,
        magnitude_percent=proposal.magnitude_percent,
        alert=proposal.alert,
        threshold=threshold,
    )


def waits_for_coach(
    *, autonomy: str, magnitude_percent: float, alert: bool, threshold: float
) -> bool:
    """The tier decides (DESIGN.md, tiers): DIY applies, premium waits, hybrid waits only
    for changes above the methodology's threshold or fired by an alert-level rule."""
    if autonomy == Tier.Autonomy.AUTO:
        return False
    if autonomy == Tier.Autonomy.APPROVE:
        return True
    return alert or magnitude_percent > threshold + 1e-9


@transaction.atomic
def adjustment_propose(
    *,
    athlete: AthleteProfile,
    subject: str,
    effective_date: datetime.date,
    rule: str,
    before: dict[str, Any],
    after: dict[str, Any],
    sentence: str,
    autonomy: str,
    threshold: float,
    changes: Sequence[str] = (),
    inputs: Mapping[str, Any] | None = None,
    clipped_by: Sequence[str] = (),
    magnitude_percent: float = 0.0,
    alert: bool = False,
) -> Adjustment:
    """Store an automatic change to a registered subject (not a planned session: those
    come from `autoregulate`) and apply it or queue it as the tier says."""
    if subject == Adjustment.Subject.SESSION:
        raise ValueError("Session adjustments come from autoregulate().")
    adjustment = Adjustment(
        athlete=athlete,
        subject=subject,
        effective_date=effective_date,
        rule=rule,
        changes=list(changes),
        before=before,
        after=after,
        inputs=dict(inputs or {}),
        clipped_by=list(clipped_by),
        magnitude_percent=magnitude_percent,
        alert_level=alert,
        sentence=sentence,
        status=Adjustment.Status.PENDING,
        source=Adjustment.Source.ENGINE,
    )
    adjustment.save()
    if not waits_for_coach(
        autonomy=autonomy, magnitude_percent=magnitude_percent, alert=alert, threshold=threshold
    ):
        _apply(adjustment, by=None)
    return adjustment


def _readiness_json(result: engine.AutoregulationResult) -> dict[str, Any]:
    return {
        "score": result.readiness.score,
        "reason": result.readiness.reason,
        "contributions": [
            {
                "input": c.input,
                "value": dict(c.value),
                "sub_score": c.sub_score,
                "weight": round(c.weight, 4),
                "points": c.points,
                "reason": c.reason,
            }
            for c in result.readiness.contributions
        ],
    }


def _hrv_json(hrv: engine.HrvStatus) -> dict[str, Any]:
    return {
        "status": hrv.status,
        "rolling_mean": hrv.rolling_mean,
        "baseline_mean": hrv.baseline_mean,
        "baseline_sd": hrv.baseline_sd,
        "z": hrv.z,
        "reason": hrv.reason,
    }


@transaction.atomic
def autoregulate(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    library: Library | None = None,
    skip_reason: str = "",
    enrolment: Any = UNSET,
    block: Any = UNSET,
    logs: Sequence[engine.LoggedSession] | None = None,
    checkins: Mapping[datetime.date, engine.DayCheckIn] | None = None,
) -> AutoregulationRun:
    """Tonight's autoregulation for the athlete, from everything up to and including
    `date`, for the sessions after it. Idempotent per (athlete, date): a second run
    returns the first one's row and creates nothing. `library` lets a nightly batch
    load the tenant's exercises once. With `skip_reason` (no consent to use health data)
    the night's row is claimed holding only that reason: nothing is read or proposed.
    `enrolment` and `block` (the current enrolment with its tier and version, the active
    block, either possibly None) let the batch pass what it loaded for the whole chunk;
    `logs` (`_logs(athlete, date)`) what the night already read for its alerts, and
    `checkins` (`_checkins(athlete, date)`) what its chunk read for all its athletes."""
    if date > timezone.localdate():
        raise ProgramsError(
            f"{date.isoformat()} hasn't happened yet: a night is run once its day is over.",
            code="date_in_future",
            fields={"date": ["This date is in the future."]},
        )
    existing = AutoregulationRun.objects.filter(athlete=athlete, date=date).first()
    if existing is not None:
        return existing
    if enrolment is UNSET:
        enrolment = athlete_selectors.current_enrolment(athlete)
    if enrolment is None:
        raise NoEnrolment(
            "The athlete is not enrolled on a tier, so there is no methodology to adjust with."
        )
    if block is UNSET:
        block = selectors.active_block_of(athlete)
    version = block.methodology_version if block is not None else enrolment.methodology_version
    run = AutoregulationRun(
        athlete=athlete,
        date=date,
        methodology_version=version,
        autonomy=enrolment.tier.autonomy,
    )
    run.assign_current_tenant()
    if skip_reason:
        run.notes = [skip_reason]
    try:
        # The unique (athlete, date) row is claimed first: a concurrent run of the same
        # night waits here, then finds this one.
        with transaction.atomic():
            run.save()
    except IntegrityError:
        return AutoregulationRun.objects.get(athlete=athlete, date=date)
    if skip_reason:
        return run

    rules = validate_rules(version.rules)  # fills defaults a stored older document lacks
    states, sessions, history = _sessions(athlete, date, block)
    inputs = _engine_input(
        athlete,
        date,
        states,
        history,
        (block.inputs.get("e1rm_kg", {}) if block else {}),
        logs,
        checkins,
    )
    result = engine.autoregulate(
        inputs, rules, library=library if library is not None else tenant_library()
    )
    threshold = float(rules["autoregulation"]["queue_threshold_percent"])
    waiting: set[int] = set()
    applied = queued = 0
    for proposal in result.proposals:
        session = sessions[proposal.session_key]
        wait = proposal.session_key in waiting or _waits(proposal, run.autonomy, threshold)
        adjustment = Adjustment(
            athlete=athlete,
            planned_session=session,
            effective_date=session.date,
            run=run,
            rule=proposal.rule,
            changes=list(proposal.changes),
            before=_stored(proposal.before).as_dict(),
            after=_stored(proposal.after).as_dict(),
            inputs=dict(proposal.inputs),
            clipped_by=list(proposal.clipped_by),
            magnitude_percent=proposal.magnitude_percent,
            alert_level=proposal.alert,
            sentence=proposal.sentence,
            status=Adjustment.Status.PENDING,
            source=Adjustment.Source.ENGINE,
        )
        adjustment.assign_current_tenant()
        adjustment.save()
        if wait:
            waiting.add(proposal.session_key)
            queued += 1
        else:
            _apply(adjustment, by=None)
            applied += 1
    run.readiness_score = result.readiness.score
    run.readiness = _readiness_json(result)
    run.hrv = _hrv_json(result.hrv)
    run.metrics = dict(result.metrics)
    run.notes = list(result.notes)
    run.proposed = len(result.proposals)
    run.applied = applied
    run.queued = queued
    run.save(
        update_fields=[
            "readiness_score",
            "readiness",
            "hrv",
            "metrics",
            "notes",
            "proposed",
            "applied",
            "queued",
        ]
    )
    return run


# --- the coach's decisions ----------------------------------------------------------------


def _locked(adjustment: Adjustment) -> Adjustment:
    return Adjustment.objects.select_for_update().get(pk=adjustment.pk)


def _pending(adjustment: Adjustment) -> Adjustment:
    adjustment = _locked(adjustment)
    if adjustment.status != Adjustment.Status.PENDING:
        raise AdjustmentConflict(
            f"This adjustment is {adjustment.get_status_display().lower()}, not waiting "
            "for a decision."
        )
    if adjustment.effective_date < timezone.localdate():
        raise AdjustmentConflict(
            f"This change was for {adjustment.effective_date:%-d %B %Y}, which is already past."
        )
    return adjustment


@transaction.atomic
def adjustment_approve(*, adjustment: Adjustment, by: Membership) -> Adjustment:
    """Apply a waiting adjustment as the engine proposed it."""
    return _apply(_pending(adjustment), by=by)


@transaction.atomic
def adjustment_reject(*, adjustment: Adjustment, by: Membership) -> Adjustment:
    """Keep the session as it is; the rule won't propose this session again."""
    adjustment = _pending(adjustment)
    adjustment.status = Adjustment.Status.REJECTED
    adjustment.decided_by = by
    adjustment.decided_at = timezone.now()
    adjustment.save(update_fields=["status", "decided_by", "decided_at"])
    return adjustment


def _parse_rx(after: Any) -> engine.SessionRx:
    if not isinstance(after, Mapping):
        raise ProgramsError(
            "`after` must be a prescription object.", fields={"after": ["Must be an object."]}
        )
    try:
        rx = engine.SessionRx.from_dict(after)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProgramsError(
            f"`after` is not a valid prescription: {exc}.",
            fields={"after": [f"Not a valid prescription: {exc}."]},
        ) from exc
    problems = []
    if not 0 <= rx.duration_min <= 600:
        problems.append("duration_min must be 0–600.")
    indexes = [s.set_index for s in rx.sets]
    if len(set(indexes)) != len(indexes) or any(i < 1 for i in indexes):
        problems.append("set_index values must be unique and ≥ 1.")
    for s in rx.sets:
        if not 1 <= s.reps <= 100:
            problems.append(f"set {s.set_index}: reps must be 1–100.")
        if s.load_kg is not None and not 0 <= s.load_kg <= 600:
            problems.append(f"set {s.set_index}: load_kg must be 0–600.")
        if s.target_rpe is not None and not 1 <= s.target_rpe <= 10:
            problems.append(f"set {s.set_index}: target_rpe must be 1–10.")
    if rx.zone is not None and not 1 <= rx.zone <= 5:
        problems.append("zone must be 1–5.")
    if problems:
        raise ProgramsError(" ".join(problems), fields={"after": problems})
    return _stored(rx)


@transaction.atomic
def adjustment_edit_approve(
    *, adjustment: Adjustment, by: Membership, after: Mapping[str, Any]
) -> Adjustment:
    """The coach changes the proposal, then applies it; the engine's version is kept."""
    adjustment = _pending(adjustment)
    edit = subjects.subject_of(adjustment).edit(adjustment, after)
    adjustment.proposed_after = adjustment.after
    adjustment.after = edit.after
    adjustment.changes = edit.changes
    adjustment.magnitude_percent = edit.magnitude_percent
    adjustment.source = Adjustment.Source.COACH
    adjustment.sentence = (
        f"{edit.description}: set by your coach, who reviewed the "
        f"engine's proposal ({adjustment.sentence})"
    )
    adjustment.save(
        update_fields=[
            "proposed_after",
            "after",
            "changes",
            "magnitude_percent",
            "source",
            "sentence",
        ]
    )
    return _apply(adjustment, by=by)


def adjustments_bulk_approve(
    *, adjustments: Sequence[Adjustment], by: Membership
) -> dict[int, str]:
    """Approve each in turn (its own transaction); returns id → "applied" or why not."""
    outcome: dict[int, str] = {}
    for adjustment in sorted(adjustments, key=lambda a: a.pk):
        try:
            adjustment_approve(adjustment=adjustment, by=by)
            outcome[adjustment.pk] = "applied"
        except DomainError as exc:
            outcome[adjustment.pk] = str(exc)
    return outcome


@transaction.atomic
def adjustment_revert(*, adjustment: Adjustment, by: Membership) -> Adjustment:
    """Restore the exact prescription from before `adjustment`, as a new adjustment."""
    adjustment = _locked(adjustment)
    if adjustment.status != Adjustment.Status.APPLIED:
        raise AdjustmentConflict(
            f"Only an applied adjustment can be reverted; this one is "
            f"{adjustment.get_status_display().lower()}."
        )
    if subjects.subject_of(adjustment).current(adjustment) != adjustment.after:
        raise AdjustmentConflict(
            f"A later change to this {_what(adjustment)} is still in place; revert that one first."
        )
    revert = Adjustment(
        athlete_id=adjustment.athlete_id,
        subject=adjustment.subject,
        planned_session_id=adjustment.planned_session_id,
        effective_date=adjustment.effective_date,
        rule=Adjustment.REVERT_RULE,
        changes=list(adjustment.changes),
        before=adjustment.after,
        after=adjustment.before,
        inputs={"reverts": adjustment.pk},
        magnitude_percent=adjustment.magnitude_percent,
        sentence=f"Back to the previous value: your coach undid “{adjustment.sentence}”",
        status=Adjustment.Status.PENDING,
        source=Adjustment.Source.COACH,
        reverts=adjustment,
    )
    revert.assign_current_tenant()
    revert.save()
    _apply(revert, by=by)
    adjustment.status = Adjustment.Status.REVERTED
    adjustment.save(update_fields=["status"])
    return revert


# --- the planned-session subject -------------------------------------------------------


def _session_edit(adjustment: Adjustment, after: Any) -> subjects.Edit:
    rx = _parse_rx(after)
    before = engine.SessionRx.from_dict(adjustment.before)
    return subjects.Edit(
        after=rx.as_dict(),
        changes=list(engine.changes_between(before, rx)),
        magnitude_percent=engine.magnitude_percent(before, rx),
        description=engine.describe_change(before, rx),
    )


subjects.register(
    Adjustment.Subject.SESSION,
    subjects.Subject(
        current=lambda adjustment: _current(adjustment.planned_session),
        write=lambda adjustment, state: _write(
            adjustment.planned_session, engine.SessionRx.from_dict(state), adjustment
        ),
        edit=_session_edit,
    ),
)
