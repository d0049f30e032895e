"""What an adjustment can change, by `Adjustment.subject`.

Programs owns adjustments (the review queue, approve, reject, edit, revert) but must not
import nutrition (DESIGN.md, "Which app may import which"), so an app whose automatic
changes should live in the same queue registers a `Subject` here from its
`AppConfig.ready()`: how to read the current state, write a new one and validate a coach's
edit. The planned-session subject is registered by `programs.services.adjustments`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from programs.models import Adjustment


@dataclass(frozen=True)
class Edit:
    """A coach's edit of a proposal, validated by its subject."""

    after: dict[str, Any]
    changes: list[str]
    magnitude_percent: float
    description: str  # "Energy 2,650 → 2,800 kcal a day"


@dataclass(frozen=True)
class Subject:
    # The state as it stands, read under a row lock (what `before` must equal to apply).
    current: Callable[[Adjustment], dict[str, Any]]
    # Make the target say `state` (the adjustment is passed for provenance).
    write: Callable[[Adjustment, dict[str, Any]], None]
    # Validate a coach's replacement for `after`; raises a DomainError with `fields`.
    edit: Callable[[Adjustment, Any], Edit]


_SUBJECTS: dict[str, Subject] = {}


def register(name: str, subject: Subject) -> None:
    _SUBJECTS[name] = subject


def subject_of(adjustment: Adjustment) -> Subject:
    try:
        return _SUBJECTS[adjustment.subject]
    except KeyError:
        raise LookupError(f"No adjustment subject {adjustment.subject!r} is registered.") from None
