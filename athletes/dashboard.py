"""Athletes' part of the coach dashboard (coaching/dashboard.py): who the clients are,
their tier, and their outstanding alerts (coaching's model, but keyed by membership, which
only athletes can map to a profile). Registered from `AthletesConfig.ready()`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Count, Q

from athletes.models import AthleteProfile, Enrolment
from coaching import dashboard
from coaching.dashboard import ClientRow
from coaching.models import Alert, Membership
from coaching.selectors import tenant_today


def client_rows() -> list[ClientRow]:
    """The tenant's clients with a profile: two queries (memberships, profiles)."""
    members = {
        user_id: (pk, coach_id)
        for pk, user_id, coach_id in Membership.objects.filter(
            role=Membership.Role.CLIENT
        ).values_list("pk", "user_id", "coach_id")
    }
    profiles = AthleteProfile.objects.filter(user_id__in=list(members)).values_list(
        "pk", "user_id", "display_name", "user__email"
    )
    return [
        ClientRow(
            athlete_id=pk,
            user_id=user_id,
            membership_id=members[user_id][0],
            coach_membership_id=members[user_id][1],
            name=name,
            email=email,
        )
        for pk, user_id, name, email in profiles
    ]


def tiers(rows: Sequence[ClientRow]) -> Mapping[int, tuple[int, str]]:
    """(tier id, tier name) of each client's open enrolment."""
    found = Enrolment.objects.filter(
        athlete_id__in=[r.athlete_id for r in rows], ended__isnull=True
    ).values_list("athlete_id", "tier_id", "tier__name")
    return {athlete_id: (tier_id, name) for athlete_id, tier_id, name in found}


def open_alerts(rows: Sequence[ClientRow]) -> Mapping[int, int]:
    """Outstanding alerts per client: not resolved, and not snoozed past today."""
    today = tenant_today()
    by_membership = {r.membership_id: r.athlete_id for r in rows}
    counts = (
        Alert.objects.filter(client_id__in=list(by_membership))
        .exclude(status=Alert.Status.RESOLVED)
        .exclude(Q(status=Alert.Status.SNOOZED) & Q(snoozed_until__gt=today))
        .order_by()
        .values("client_id")
        .annotate(n=Count("pk"))
        .values_list("client_id", "n")
    )
    found = {by_membership[client_id]: n for client_id, n in counts}
    return {r.athlete_id: found.get(r.athlete_id, 0) for r in rows}


def _tier_name(value: Any) -> str:
    return value[1]


def register() -> None:
    dashboard.register_rows(client_rows)
    dashboard.register_column(
        key="tier",
        label="Tier",
        order=10,
        load=tiers,
        sort_key=_tier_name,
        display=_tier_name,
        filter_value=lambda value: str(value[0]),
        filter_label="Tier",
        numeric=False,
    )
    dashboard.register_column(
        key="alerts",
        label="Open alerts",
        order=70,
        load=open_alerts,
        sort_key=int,
        attention=lambda n: n > 0,
        css=lambda n: "attention" if n else "",
    )


register()
