"""Strength: e1RM, the RTS RPE chart, load selection (SCIENCE.md §1).

Units: kg and reps. RPE on the CR-10 scale in 0.5 steps; reps in reserve count as reps
(r = reps + 10 − rpe) for the closed formulas. Arguments outside a formula's range raise
`ValueError` rather than extrapolate silently.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

# RTS chart as one ladder: each extra rep and each half-RPE step below 10 move one rung.
# index = 2·(reps − 1) + 2·(10 − rpe); 1 rep @ RPE 10 = 100 %, 12 reps @ RPE 6.5 = 58.6 %.
RPE_LADDER: tuple[float, ...] = (
    1.000, 0.978, 0.955, 0.939, 0.922, 0.907, 0.892, 0.878, 0.863, 0.850,
    0.837, 0.824, 0.811, 0.799, 0.786, 0.774, 0.762, 0.751, 0.739, 0.723,
    0.707, 0.694, 0.680, 0.667, 0.653, 0.640, 0.626, 0.613, 0.599, 0.586,
)  # fmt: skip
CHART_MIN_REPS, CHART_MAX_REPS = 1, 12
CHART_MIN_RPE, CHART_MAX_RPE = 6.5, 10.0
FORMULAS = ("rts", "epley", "brzycki", "lombardi")


def _check_rpe(rpe: float) -> None:
    if not CHART_MIN_RPE <= rpe <= CHART_MAX_RPE or (rpe * 2) != int(rpe * 2):
        raise ValueError(f"RPE must be 6.5–10 in 0.5 steps, got {rpe}")


def rpe_percent(reps: int, rpe: float) -> float:
    """Fraction of 1RM that `reps` at `rpe` represents (RTS chart, 1–12 reps, RPE 6.5–10)."""
    if isinstance(reps, bool) or int(reps) != reps or not CHART_MIN_REPS <= reps <= CHART_MAX_REPS:
        raise ValueError(f"reps must be a whole number 1–12 for the RPE chart, got {reps}")
    _check_rpe(rpe)
    index = 2 * (int(reps) - 1) + round(2 * (10 - rpe))
    return RPE_LADDER[index]


def e1rm(weight: float, reps: int, rpe: float = 10.0, formula: str = "rts") -> float:
    """Estimated one-rep max from one set.

    "rts" (default) divides by the chart percentage; the closed formulas count reps in
    reserve as reps: r = reps + (10 − rpe).
    """
    if weight < 0:
        raise ValueError(f"weight must be ≥ 0 kg, got {weight}")
    if reps < 1:
        raise ValueError(f"reps must be ≥ 1, got {reps}")
    if formula == "rts":
        return weight / rpe_percent(reps, rpe)
    if not 0 <= rpe <= 10:
        raise ValueError(f"RPE must be within 0–10, got {rpe}")
    r = reps + (10 - rpe)
    if formula == "epley":
        return weight if r == 1 else weight * (1 + r / 30)
    if formula == "brzycki":
        if r > 12:
            raise ValueError(f"Brzycki is valid up to 12 reps (with RIR), got {r}")
        return weight * 36 / (37 - r)
    if formula == "lombardi":
        return weight * r**0.10
    raise ValueError(f"unknown formula {formula!r}; use one of {', '.join(FORMULAS)}")


def round_to_increment(load: float, increment: float = 2.5) -> float:
    """Nearest loadable weight; halves round up (a plate you can't split goes on)."""
    if increment <= 0:
        raise ValueError(f"plate increment must be > 0 kg, got {increment}")
    steps = math.floor(load / increment + 0.5 + 1e-9)
    return round(steps * increment, 6)


def load_for(e1rm: float, reps: int, rpe: float, increment: float = 2.5) -> float:
    """The load for `reps` at `rpe` given an e1RM, rounded to the plate increment."""
    if e1rm < 0:
        raise ValueError(f"e1RM must be ≥ 0 kg, got {e1rm}")
    return round_to_increment(e1rm * rpe_percent(reps, rpe), increment)


def rpe_adjusted_load(load: float, reps: int, target_rpe: float, actual_rpe: float) -> float:
    """Next exposure's load when the last was rated off target (unrounded, kg)."""
    if load < 0:
        raise ValueError(f"load must be ≥ 0 kg, got {load}")
    return load * rpe_percent(reps, target_rpe) / rpe_percent(reps, actual_rpe)


# working_e1rm was appended after the chart functions; its imports stay beside it.

WORKING_E1RM_METHODS = ("best_of_last_n", "theil_sen")
# A session top more than this far above the median session top of the recent weeks is
# treated as an outlier (a lucky AMRAP, a logging slip) by "best_of_last_n".
OUTLIER_ABOVE_MEDIAN = 0.10


def logged_set_e1rm(weight: float, reps: int, rpe: float | None) -> float | None:
    """The e1RM a logged set gives, or None where the chart can't read it: 0 kg, more than
    12 reps, RPE under 6.5 (warm-ups). No RPE counts as RPE 10 (the lowest estimate the
    reps allow); an RPE is read to the nearest half step, at most 10."""
    effort = 10.0 if rpe is None else round(float(rpe) * 2) / 2
    if weight <= 0 or reps < CHART_MIN_REPS or reps > CHART_MAX_REPS or effort < CHART_MIN_RPE:
        return None
    return e1rm(float(weight), int(reps), min(effort, CHART_MAX_RPE))


def working_e1rm(
    sets: Sequence[tuple[date, float, int, float | None]],
    *,
    method: str = "best_of_last_n",
    n: int = 3,
    weeks: int = 6,
    today: date | None = None,
) -> float | None:
    """A robust working e1RM from logged sets `(date, weight_kg, reps, rpe)` (SCIENCE.md §1).

    Each set's e1RM comes from the RTS chart; a set without an RPE counts as RPE 10 (the
    lowest estimate its reps allow). Sets the chart can't read are left out: RPE below 6.5
    (warm-ups), more than 12 reps, a load of 0 kg. A session's value is its best set.

    - "best_of_last_n": the best of the last `n` sessions' values, after leaving out any
      session more than 10 % above the median session of the last `weeks` weeks (needs
      3 sessions to judge), so one lucky AMRAP can't rewrite a cycle.
    - "theil_sen": a Theil–Sen line (median of pairwise slopes) through the session
      values of the last `weeks` weeks, read at `today`, kept within the values seen.

    `today` defaults to the latest logged date. Returns None when no set is usable.
    """
    import statistics

    if method not in WORKING_E1RM_METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(WORKING_E1RM_METHODS)}")
    if n < 1 or weeks < 1:
        raise ValueError(f"n and weeks must be ≥ 1, got n={n}, weeks={weeks}")
    tops: dict[date, float] = {}
    for day, weight, reps, rpe in sets:
        if weight < 0 or reps < 1:
            raise ValueError(f"a logged set needs weight ≥ 0 and reps ≥ 1, got {weight} × {reps}")
        value = logged_set_e1rm(weight, reps, rpe)
        if value is not None:
            tops[day] = max(tops.get(day, 0.0), value)
    if today is None and tops:
        today = max(tops)
    days = sorted(d for d in tops if today is None or d <= today)
    if not days:
        return None
    recent = [d for d in days if (today - d).days < 7 * weeks]
    if method == "best_of_last_n":
        screen = [tops[d] for d in (recent or days[-n:])]
        last = [tops[d] for d in days[-n:]]
        if len(screen) >= 3:
            ceiling = statistics.median(screen) * (1 + OUTLIER_ABOVE_MEDIAN)
            last = [v for v in last if v <= ceiling] or [min(last)]
        return max(last)
    if not recent:
        return None
    values = [tops[d] for d in recent]
    if len(recent) == 1:
        return values[0]
    from scipy.stats import theilslopes

    x = [(d - today).days for d in recent]
    slope, intercept, _, _ = theilslopes(values, x)
    return float(min(max(intercept, min(values)), max(values)))
