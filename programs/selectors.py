"""Reads of programs data within the tenant in context."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import QuerySet
from django.utils import timezone

from athletes.models import Assessment, AthleteProfile
from athletes.selectors import is_staff, own_or_all
from coaching.models import Membership
from programs.models import (
    Adjustment,
    AssessmentLift,
    AutoregulationRun,
    Exercise,
    PlannedSession,
    Prediction,
    ProgramBlock,
    SessionLog,
    SetLog,
)


def exercises() -> QuerySet[Exercise]:
    return Exercise.objects.order_by("name")


def lifts_of(assessment: Assessment) -> list[AssessmentLift]:
    return list(AssessmentLift.objects.filter(assessment=assessment).select_related("exercise"))


def active_block_of(athlete: AthleteProfile) -> ProgramBlock | None:
    return ProgramBlock.objects.filter(athlete=athlete, status=ProgramBlock.Status.ACTIVE).first()


def sessions_of_block(block: ProgramBlock) -> QuerySet[PlannedSession]:
    return PlannedSession.objects.filter(block=block).order_by("date", "id")


def blocks_visible_to(membership: Membership) -> QuerySet[ProgramBlock]:
    return own_or_all(
        membership, ProgramBlock.objects.select_related("athlete"), "athlete__user_id"
    )


def planned_sessions_visible_to(membership: Membership) -> QuerySet[PlannedSession]:
    return own_or_all(
        membership,
        PlannedSession.objects.prefetch_related("sets__exercise").order_by("date", "id"),
        "athlete__user_id",
    )


def session_logs_visible_to(membership: Membership) -> QuerySet[SessionLog]:
    return own_or_all(membership, SessionLog.objects.prefetch_related("sets"), "athlete__user_id")


def logged_sets_by_exercise(
    athlete: AthleteProfile, *, since: datetime.date
) -> dict[str, list[tuple[datetime.date, float, int, float | None]]]:
    """Logged strength sets per exercise slug, as the engine's `working_e1rm` reads them."""
    rows = (
        SetLog.objects.filter(session__athlete=athlete, session__date__gte=since)
        .values_list("exercise__slug", "session__date", "weight_kg", "reps", "rpe")
        .order_by("session__date")
    )
    by_slug: dict[str, list[tuple[datetime.date, float, int, float | None]]] = defaultdict(list)
    for slug, day, weight, reps, rpe in rows:
        by_slug[slug].append((day, float(weight), reps, float(rpe) if rpe is not None else None))
    return dict(by_slug)


def adjustments_visible_to(membership: Membership) -> QuerySet[Adjustment]:
    """Staff see every adjustment; a client sees only the changes applied to their own plan
    (and what was later reverted), never what waits for the coach or was rejected."""
    qs = own_or_all(
        membership,
        Adjustment.objects.select_related("planned_session").order_by("-created", "-id"),
        "athlete__user_id",
    )
    if not is_staff(membership):
        qs = qs.filter(status__in=[Adjustment.Status.APPLIED, Adjustment.Status.REVERTED])
    return qs


def adjustment_history(session: PlannedSession) -> QuerySet[Adjustment]:
    """A session's changes in the order they happened: its timeline."""
    return Adjustment.objects.filter(planned_session=session).order_by("created", "id")


def adjustment_queue(visible: QuerySet[Adjustment]) -> QuerySet[Adjustment]:
    """Changes waiting for the coach that still lie ahead, soonest first."""
    return visible.filter(
        status=Adjustment.Status.PENDING, effective_date__gte=timezone.localdate()
    ).order_by("effective_date", "id")


def predictions_of(athlete: AthleteProfile) -> QuerySet[Prediction]:
    """The athlete's stored predictions, newest first."""
    return Prediction.objects.filter(athlete=athlete).order_by("-for_date", "subject")


def planned_sessions_between(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> dict[datetime.date, list[PlannedSession]]:
    """The athlete's planned sessions by day in [start, end], rest days included: what
    nutrition fuels (tomorrow's load sets today's carbohydrate)."""
    by_day: dict[datetime.date, list[PlannedSession]] = defaultdict(list)
    for session in PlannedSession.objects.filter(
        athlete=athlete, date__range=(start, end)
    ).order_by("date", "id"):
        by_day[session.date].append(session)
    return dict(by_day)


def readiness_series(athlete: AthleteProfile, since: datetime.date) -> dict[datetime.date, float]:
    """The nightly readiness scores from `since` on, by night (the coach's trend chart)."""
    rows = AutoregulationRun.objects.filter(
        athlete=athlete, date__gte=since, readiness_score__isnull=False
    ).values_list("date", "readiness_score")
    return dict(rows)
