"""Reads of athletes and their data, within the tenant in context. Staff see the whole
tenant; a client sees only their own rows."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from athletes import consent
from athletes.models import Assessment, AthleteProfile, CheckIn, Enrolment, ImportJob
from coaching.models import Membership

STAFF_ROLES = (Membership.Role.OWNER, Membership.Role.COACH, Membership.Role.ADMIN)


def is_staff(membership: Membership) -> bool:
    return membership.role in STAFF_ROLES


def own_or_all(membership: Membership, queryset: QuerySet, user_path: str) -> QuerySet:
    """The visibility rule for athlete data: staff see the tenant's, a client their own."""
    if is_staff(membership):
        return queryset
    return queryset.filter(**{user_path: membership.user_id})


def checkins_visible_to(membership: Membership) -> QuerySet[CheckIn]:
    """Consent gate (issue 8): staff see the raw check-ins only of clients who granted
    `coach_access` (and their own, when they train themselves); a client sees their own."""
    checkins = own_or_all(membership, CheckIn.objects.select_related("athlete"), "athlete__user_id")
    if is_staff(membership):
        consenting = consent.athletes_consenting(consent.COACH_ACCESS).values("pk")
        checkins = checkins.filter(
            Q(athlete__in=consenting) | Q(athlete__user_id=membership.user_id)
        )
    return checkins


def profiles_visible_to(membership: Membership) -> QuerySet[AthleteProfile]:
    return own_or_all(
        membership,
        AthleteProfile.objects.select_related("user").order_by("display_name"),
        "user_id",
    )


def assessments_visible_to(membership: Membership) -> QuerySet[Assessment]:
    return own_or_all(membership, Assessment.objects.select_related("athlete"), "athlete__user_id")


def enrolments_visible_to(membership: Membership) -> QuerySet[Enrolment]:
    return own_or_all(
        membership,
        Enrolment.objects.select_related("tier", "methodology_version"),
        "athlete__user_id",
    )


def athlete_profile_of(membership: Membership) -> AthleteProfile | None:
    return AthleteProfile.objects.filter(user_id=membership.user_id).first()


def current_enrolment(athlete: AthleteProfile) -> Enrolment | None:
    return (
        Enrolment.objects.filter(athlete=athlete, ended__isnull=True)
        .select_related("tier", "methodology_version")
        .first()
    )


def latest_assessment(
    athlete: AthleteProfile, *, on: datetime.date | None = None
) -> Assessment | None:
    """The newest assessment, or the one in force on `on` (back-filled logs)."""
    qs = Assessment.objects.filter(athlete=athlete)
    if on is not None:
        qs = qs.filter(date__lte=on)
    return qs.order_by("-date", "-id").first()


def profile_by_id(athlete_id: int) -> AthleteProfile:
    """An athlete of the tenant in context (tasks pass ids); DoesNotExist otherwise."""
    return AthleteProfile.objects.get(pk=athlete_id)


def weigh_ins(
    athlete: AthleteProfile, start: datetime.date, end: datetime.date
) -> dict[datetime.date, float]:
    """Body weight by day from the check-ins in [start, end] (days without one are absent)."""
    rows = CheckIn.objects.filter(
        athlete=athlete, date__range=(start, end), body_weight_kg__isnull=False
    ).values_list("date", "body_weight_kg")
    return {day: float(kg) for day, kg in rows}


def latest_body_weight(
    athlete: AthleteProfile, on: datetime.date
) -> tuple[float, datetime.date] | None:
    """The newest weigh-in or assessed body weight on or before `on`, with its date."""
    checkin = (
        CheckIn.objects.filter(athlete=athlete, date__lte=on, body_weight_kg__isnull=False)
        .order_by("-date")
        .values_list("body_weight_kg", "date")
        .first()
    )
    assessed = (
        Assessment.objects.filter(athlete=athlete, date__lte=on, body_weight_kg__isnull=False)
        .order_by("-date", "-id")
        .values_list("body_weight_kg", "date")
        .first()
    )
    found = [row for row in (checkin, assessed) if row is not None]
    if not found:
        return None
    kg, day = max(found, key=lambda row: row[1])
    return float(kg), day


def enrolled_athlete_count() -> int:
    """Clients of the tenant on a tier today (an open enrolment)."""
    return Enrolment.objects.filter(ended__isnull=True).values("athlete_id").distinct().count()


# --- coach notes (issue 10) -----------------------------------------------------------


def coach_notes_visible_to(membership: Membership) -> QuerySet:
    """Staff see the tenant's notes; clients none (the notes are the coach's context)."""
    from athletes.models import CoachNote

    if not is_staff(membership):
        return CoachNote.objects.none()
    return CoachNote.objects.select_related("author__user").order_by("-pinned", "-created", "-id")


def pinned_notes_by_athlete(membership: Membership, athlete_ids: list[int]) -> dict[int, list]:
    """Pinned notes of these clients in one query, newest first (the review queue)."""
    found: dict[int, list] = {}
    for note in coach_notes_visible_to(membership).filter(athlete_id__in=athlete_ids, pinned=True):
        found.setdefault(note.athlete_id, []).append(note)
    return found


def import_job(job_id: int) -> ImportJob | None:
    return ImportJob.objects.select_related("athlete").filter(pk=job_id).first()


def imports_visible_to(membership: Membership) -> QuerySet[ImportJob]:
    """A client's own imports; staff see their clients'."""
    return own_or_all(membership, ImportJob.objects.select_related("athlete"), "athlete__user_id")


def athlete_in_view(membership: Membership, athlete_id: int | None) -> AthleteProfile | None:
    """The athlete a page is about: without an id the member's own profile, with one a
    profile the member may see (staff: the tenant's; a client: only their own). None is
    the page's 404, the same for another tenant's id as for a missing one."""
    if athlete_id is None:
        return athlete_profile_of(membership)
    return profiles_visible_to(membership).filter(pk=athlete_id).first()
