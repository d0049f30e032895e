"""Reads of athletes and their check-ins, within the tenant in context."""

from __future__ import annotations

from django.db.models import QuerySet

from athletes.models import AthleteProfile, CheckIn
from coaching.models import Membership

STAFF_ROLES = (Membership.Role.OWNER, Membership.Role.COACH, Membership.Role.ADMIN)


def checkins_visible_to(membership: Membership) -> QuerySet[CheckIn]:
    """Staff see every client's check-ins; a client sees only their own."""
    qs = CheckIn.objects.select_related("athlete")
    if membership.role in STAFF_ROLES:
        return qs
    return qs.filter(athlete__user_id=membership.user_id)


def athlete_profile_of(membership: Membership) -> AthleteProfile | None:
    return AthleteProfile.objects.filter(user_id=membership.user_id).first()
