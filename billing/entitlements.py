"""From a subscription's state to access: pure, so every branch is tested without Stripe.

trialing / active → access (until the period end when cancelled at period end);
past_due → access during the tenant's grace period (counted from when we first saw it
past due), then none; canceled, unpaid, incomplete, paused → none.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

ACTIVE, GRACE, NONE = "active", "grace", "none"


@dataclass(frozen=True)
class Access:
    status: str  # active | grace | none
    until: datetime.datetime | None  # access ends then without any further event
    reason: str


def _day(moment: datetime.datetime) -> str:
    return f"{moment:%-d %B %Y}"


def access_from(
    status: str,
    *,
    cancel_at_period_end: bool,
    current_period_end: datetime.datetime | None,
    trial_end: datetime.datetime | None,
    past_due_since: datetime.datetime | None,
    grace_days: int,
    now: datetime.datetime,
) -> Access:
    if status in ("trialing", "active"):
        if cancel_at_period_end and current_period_end is not None:
            if now >= current_period_end:
                return Access(NONE, None, f"Cancelled; access ended on {_day(current_period_end)}.")
            return Access(
                ACTIVE,
                current_period_end,
                f"Cancelled at period end: access until {_day(current_period_end)}.",
            )
        if status == "trialing" and trial_end is not None:
            return Access(ACTIVE, None, f"Free trial until {_day(trial_end)}.")
        return Access(ACTIVE, None, "Subscription active.")
    if status == "past_due":
        since = past_due_since or now
        grace_end = since + datetime.timedelta(days=grace_days)
        if now < grace_end:
            return Access(
                GRACE,
                grace_end,
                f"Payment failed: access continues until {_day(grace_end)} while the card "
                "is retried. Update your card to keep it.",
            )
        return Access(
            NONE,
            None,
            f"Payment overdue since {_day(since)}: access ended after the {grace_days}-day "
            "grace period. Update your card to restore it.",
        )
    if status == "canceled":
        return Access(NONE, None, "Subscription ended.")
    if status == "unpaid":
        return Access(NONE, None, "Unpaid after every retry: access ended.")
    if status in ("incomplete", "incomplete_expired"):
        return Access(NONE, None, "The first payment didn't go through.")
    return Access(NONE, None, f"Subscription {status}.")


def is_open(status: str, until: datetime.datetime | None, now: datetime.datetime) -> bool:
    """Whether a stored entitlement grants access at `now` (a grace period or a
    cancellation ends by the clock, even if no webhook arrives)."""
    return status in (ACTIVE, GRACE) and (until is None or now < until)
