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


# --- the owners' data requests page (issue 10) -----------------------------------------------


def data_requests_of_tenant(*, kind: str = "", status: str = "") -> QuerySet[DataRequest]:
    """The current tenant's export and erasure requests, newest first, optionally of one
    kind and status. Offboarding's tenant export is platform staff's, not listed here."""
    rows = DataRequest.objects.exclude(kind=DataRequest.Kind.TENANT).select_related("athlete")
    if kind:
        rows = rows.filter(kind=kind)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-requested_at", "-id")


def members_by_user_id(user_ids: list[int]) -> dict[int, Membership]:
    """The current tenant's memberships of `user_ids` (who asked for a request)."""
    return {
        m.user_id: m
        for m in Membership.objects.filter(user_id__in=set(user_ids)).select_related("user")
    }
