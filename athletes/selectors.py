"""Reads of athletes and their data, within the tenant in context. Staff see the whole
tenant; a client sees only their own rows."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from athletes.models import Assessment, AthleteProfile, CheckIn, Enrolment
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
    return own_or_all(membership, CheckIn.objects.select_related("athlete"), "athlete__user_id")


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
