"""Billing's column of the coach dashboard (coaching/dashboard.py): each client's payment
state, read from the entitlement (what the product gates on) and its subscription, in one
query. Registered from `BillingConfig.ready()`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils import timezone

from billing import entitlements
from billing.models import Entitlement
from coaching import dashboard
from coaching.dashboard import ClientRow

# state -> what the coach reads
STATES = {
    "active": "Paid",
    "trial": "Trial",
    "comped": "Complimentary",
    "grace": "Payment failed (grace)",
    "cancelling": "Cancelling",
    "lapsed": "No access",
}


@dataclass(frozen=True)
class PaymentState:
    state: str

    def __str__(self) -> str:
        return STATES[self.state]


def _state(status: str, source: str, until, sub_status: str | None, now) -> str:
    if not entitlements.is_open(status, until, now):
        return "lapsed"
    if source == Entitlement.Source.COMPED:
        return "comped"
    if status == Entitlement.Status.GRACE:
        return "grace"
    if until is not None:
        return "cancelling"
    if sub_status == "trialing":
        return "trial"
    return "active"


def payment_states(rows: Sequence[ClientRow]) -> Mapping[int, PaymentState]:
    """Clients without an entitlement row have no value (billing off, or never paid)."""
    now = timezone.now()
    found = Entitlement.objects.filter(athlete_id__in=[r.athlete_id for r in rows]).values_list(
        "athlete_id", "status", "source", "until", "subscription__status"
    )
    return {
        athlete_id: PaymentState(_state(status, source, until, sub_status, now))
        for athlete_id, status, source, until, sub_status in found
    }


def register() -> None:
    dashboard.register_column(
        key="payment",
        label="Payment",
        order=60,
        load=payment_states,
        sort_key=lambda value: list(STATES).index(value.state),
        filter_value=lambda value: value.state,
        filter_label="Payment",
        numeric=False,
        css=lambda value: "attention" if value.state in ("grace", "lapsed") else "",
    )


register()
