"""Values shared by the per-athlete models."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import SupportsFloat


@dataclass(frozen=True, kw_only=True)
class Insufficient:
    """Returned instead of a result when the athlete's data can't support one yet.

    A bare `None` could not say why; the coach sees `reason` ("3 of 4 sessions …").
    """

    reason: str
    have: int  # what there is (points, days, …) in the unit the reason names
    need: int


def finite(value: SupportsFloat, what: str) -> float:
    """Float of a number (Decimal from the database included); NaN/inf refused."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def clean_series(
    points: Iterable[tuple[date, SupportsFloat]], what: str
) -> list[tuple[date, float]]:
    """Date-sorted (date, float) pairs; the order callers pass them in doesn't matter."""
    series = [(day, finite(value, what)) for day, value in points]
    series.sort(key=lambda point: point[0])
    return series


def fmt(number: float, digits: int = 1) -> str:
    """A number for a sentence: rounded, without a trailing '.0', with a real minus sign."""
    text = f"{number:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace("-", "−")
