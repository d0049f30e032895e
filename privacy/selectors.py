"""Reads of data requests, within the tenant in context."""

from __future__ import annotations

from django.db.models import QuerySet

from athletes.models import AthleteProfile
from athletes.selectors import is_staff
from coaching.models import Membership
from privacy.models import DataRequest

#: Staff who may export or erase a client's data on the client's behalf.
ADMIN_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def data_request_by_id(request_id: int) -> DataRequest | None:
    return DataRequest.objects.select_related("athlete").filter(pk=request_id).first()


def requests_of(athlete: AthleteProfile) -> QuerySet[DataRequest]:
    return DataRequest.objects.filter(athlete=athlete).order_by("-requested_at", "-id")


def requests_visible_to(membership: Membership) -> QuerySet[DataRequest]:
    """Owners and admins see the tenant's requests; anyone else their own."""
    rows = DataRequest.objects.select_related("athlete")
    if membership.role in ADMIN_ROLES:
        return rows
    return rows.filter(athlete__user_id=membership.user_id)


def athlete_for(membership: Membership, athlete_id: int | None) -> AthleteProfile | None:
    """The athlete a member may act for: themselves, or (owners, admins) any client."""
    if athlete_id is None:
        return AthleteProfile.objects.filter(user_id=membership.user_id).first()
    if membership.role not in ADMIN_ROLES or not is_staff(membership):
        return None
    return AthleteProfile.objects.filter(pk=athlete_id).first()


def may_download(membership: Membership, request: DataRequest) -> bool:
    if request.athlete is None:
        return False
    return request.athlete.user_id == membership.user_id or membership.role in ADMIN_ROLES
