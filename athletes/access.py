"""Whether a client may use the product today: the one gate that pages and the nightly
steps ask. Billing decides (an open entitlement, DESIGN.md Billing), but programs and
nutrition must not import billing, so billing registers its check here from
`AppConfig.ready()`; without billing installed everyone enrolled has access."""

from __future__ import annotations

from collections.abc import Callable
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
