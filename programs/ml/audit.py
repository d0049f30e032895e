"""Bias audit of prediction errors within one tenant (SCIENCE.md §6).

Errors grouped by sex, age band and training-age band, each with its count. A group
with fewer than `min_group` predictions is flagged `small` and still reported: a coach
should see "we don't know yet how well this works for women over 55", never a table in
which that group silently isn't there. Every band is listed, empty ones with count 0.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from programs.ml.common import finite, fmt

AGE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("<25", 0, 25),
    ("25–34", 25, 35),
    ("35–44", 35, 45),
    ("45–54", 45, 55),
    ("55+", 55, float("inf")),
)
TRAINING_AGE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("<1", 0, 1),
    ("1–3", 1, 3),
    ("3–5", 3, 5),
    ("5+", 5, float("inf")),
)
SEXES = ("female", "male")
UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class AuditRow:
    sex: str | None  # "female" | "male"; None when not given
    age_years: float | None
    training_age_years: float | None
    abs_error: float


@dataclass(frozen=True, kw_only=True)
class GroupStat:
    dimension: str  # "sex" | "age" | "training_age"
    group: str  # "female", "35–44", "1–3", "unknown", …
    count: int
    mae: float | None  # None when count is 0
    small: bool  # count < min_group: too few to judge; reported anyway


@dataclass(frozen=True, kw_only=True)
class AuditReport:
    count: int
    overall_mae: float | None
    min_group: int
    groups: tuple[GroupStat, ...]  # sex, then age, then training age, bands in order
    small_groups: tuple[str, ...]  # "dimension:group" of every small group
    reason: str


def _band(value: float | None, bands: tuple[tuple[str, float, float], ...]) -> str:
    if value is None:
        return UNKNOWN
    number = finite(value, "age")
    if number < 0:
        raise ValueError(f"ages must be ≥ 0 years, got {value}")
    return next(name for name, low, high in bands if low <= number < high)


def bias_audit(rows: Sequence[AuditRow], *, min_group: int = 10) -> AuditReport:
    """MAE overall and per sex, age band and training-age band, with counts."""
    if min_group < 1:
        raise ValueError(f"min_group must be ≥ 1, got {min_group}")
    errors = []
    keyed: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        error = finite(row.abs_error, "abs_error")
        if error < 0:
            raise ValueError(f"abs_error must be ≥ 0, got {row.abs_error}")
        errors.append(error)
        keys = (
            ("sex", row.sex or UNKNOWN),
            ("age", _band(row.age_years, AGE_BANDS)),
            ("training_age", _band(row.training_age_years, TRAINING_AGE_BANDS)),
        )
        for key in keys:
            keyed.setdefault(key, []).append(error)
    order = [
        *(("sex", s) for s in SEXES),
        *sorted(k for k in keyed if k[0] == "sex" and k[1] not in SEXES),
        *(("age", name) for name, _, _ in AGE_BANDS),
        *(("age", UNKNOWN),) * (("age", UNKNOWN) in keyed),
        *(("training_age", name) for name, _, _ in TRAINING_AGE_BANDS),
        *(("training_age", UNKNOWN),) * (("training_age", UNKNOWN) in keyed),
    ]
    groups = []
    for dimension, group in order:
        group_errors = keyed.get((dimension, group), [])
        groups.append(
            GroupStat(
                dimension=dimension,
                group=group,
                count=len(group_errors),
                mae=statistics.fmean(group_errors) if group_errors else None,
                small=len(group_errors) < min_group,
            )
        )
    small = tuple(f"{g.dimension}:{g.group}" for g in groups if g.small)
    overall = statistics.fmean(errors) if errors else None
    if overall is None:
        reason = "No scored predictions yet: nothing to audit."
    else:
        reason = f"MAE {fmt(overall, 2)} over {len(errors)} scored predictions; " + (
            f"{len(small)} groups have fewer than {min_group} and are flagged small, not hidden."
            if small
            else f"every group has at least {min_group}."
        )
    return AuditReport(
        count=len(errors),
        overall_mae=overall,
        min_group=min_group,
        groups=tuple(groups),
        small_groups=small,
        reason=reason,
    )
