"""Whether a client may use the product today: the one gate that pages and the nightly
steps ask. Billing decides (an open entitlement, DESIGN.md Billing), but programs and
nutrition must not import billing, so billing registers its check here from
`AppConfig.ready()`; without billing installed everyone enrolled has access."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from athletes.models import AthleteProfile


@dataclass(frozen=True)
class Access:
    allowed: bool
    reason: str  # what the client reads when not allowed


Check = Callable[[AthleteProfile], Access]
_check: Check | None = None


def register(check: Check) -> None:
    global _check
    _check = check


def access_of(athlete: AthleteProfile) -> Access:
    if _check is None:
        return Access(True, "")
    return _check(athlete)


# --- in bulk, for the nightly fan-out ---------------------------------------------------
# A chunk of 200 subscribers asks once, not 200 times. Billing registers a function that
# returns the ids of the tenant's athletes with access, or None when everyone enrolled has
# access (a business that doesn't sell online).

BulkCheck = Callable[[], "set[int] | None"]
_bulk: BulkCheck | None = None
NO_ACCESS_REASON = "No open entitlement: the plan is paused until the subscription is active."


def register_bulk(check: BulkCheck) -> None:
    global _bulk
    _bulk = check


def denied_reasons(athletes: Sequence[AthleteProfile]) -> dict[int, str]:
    """The athletes (of the tenant in context) without access, with why: one query with
    a bulk check registered, else the per-athlete gate."""
    if _bulk is not None:
        allowed = _bulk()
        if allowed is None:
            return {}
        return {a.pk: NO_ACCESS_REASON for a in athletes if a.pk not in allowed}
    denied: dict[int, str] = {}
    for athlete in athletes:
        access = access_of(athlete)
        if not access.allowed:
            denied[athlete.pk] = access.reason
    return denied


def allowed_ids(athletes: Sequence[AthleteProfile]) -> set[int]:
    denied = denied_reasons(athletes)
    return {a.pk for a in athletes if a.pk not in denied}


def subscriber_ids() -> list[int]:
    """The tenant's subscribers: athletes on a tier today (an open enrolment), in id order.
    Access is checked per chunk, when the night actually runs."""
    from athletes.models import Enrolment

    return list(
        Enrolment.objects.filter(ended__isnull=True)
        .order_by("athlete_id")
        .values_list("athlete_id", flat=True)
        .distinct()
    )


def subscribers_by_ids(ids: Sequence[int]) -> list[AthleteProfile]:
    """One query for a chunk of subscribers (of the tenant in context), in id order."""
    return list(AthleteProfile.objects.filter(pk__in=list(ids)).order_by("pk"))
