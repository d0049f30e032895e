"""Readiness (SCIENCE.md §3): HRV status against the athlete's own baseline, and a 0–100
composite whose weights belong to the coach's methodology.

`hrv_status` follows the HRV-guided training literature (Plews et al.; Kiviniemi et al.)
with 0.5 SD as the smallest worthwhile change. `readiness` is a product rule, not
science: every input is turned into a 0–100 sub-score where 50 is "as usual for you",
the weighted mean is the score, and the result lists each input's contribution so the
number can be explained and argued with.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

BASELINE_DAYS = 60
ROLLING_DAYS = 7
MIN_BASELINE_VALUES = 14
MIN_ROLLING_VALUES = 3
SWC_SD = 0.5
WEIGHT_KEYS = ("hrv", "sleep", "soreness", "stress", "rpe_deviation")


@dataclass(frozen=True, kw_only=True)
class HrvStatus:
    status: str  # "low" | "normal" | "high" | "unknown"
    rolling_mean: float | None
    baseline_mean: float | None
    baseline_sd: float | None
    baseline_values: int
    rolling_values: int
    z: float | None  # (rolling − baseline mean) / baseline SD
    reason: str


def hrv_status(ln_rmssd_by_day: Mapping[date, float], day: date) -> HrvStatus:
    """HRV status on `day` from daily ln rMSSD values.

    Rolling mean: the 7 days ending on `day` (≥ 3 values). Baseline: mean and population
    SD over the 60 days before those 7 (≥ 14 values). Low / high beyond ± 0.5 SD.
    """
    rolling_start = day - timedelta(days=ROLLING_DAYS - 1)
    baseline_start = rolling_start - timedelta(days=BASELINE_DAYS)
    rolling = [v for d, v in ln_rmssd_by_day.items() if rolling_start <= d <= day]
    baseline = [v for d, v in ln_rmssd_by_day.items() if baseline_start <= d < rolling_start]
    for value in (*rolling, *baseline):
        if not math.isfinite(value):
            raise ValueError(f"ln rMSSD values must be finite numbers, got {value}")
    rolling_mean = statistics.fmean(rolling) if rolling else None
    if len(baseline) < MIN_BASELINE_VALUES or len(rolling) < MIN_ROLLING_VALUES:
        return HrvStatus(
            status="unknown",
            rolling_mean=rolling_mean,
            baseline_mean=statistics.fmean(baseline) if baseline else None,
            baseline_sd=statistics.pstdev(baseline) if baseline else None,
            baseline_values=len(baseline),
            rolling_values=len(rolling),
            z=None,
            reason=(
                f"Not enough HRV yet: {len(baseline)} of {MIN_BASELINE_VALUES} baseline days "
                f"and {len(rolling)} of {MIN_ROLLING_VALUES} days this week"
            ),
        )
    mean = statistics.fmean(baseline)
    sd = statistics.pstdev(baseline)
    z = (rolling_mean - mean) / sd if sd > 0 else 0.0
    if rolling_mean < mean - SWC_SD * sd:
        status, word = "low", "below"
    elif rolling_mean > mean + SWC_SD * sd:
        status, word = "high", "above"
    else:
        status, word = "normal", "within"
    return HrvStatus(
        status=status,
        rolling_mean=rolling_mean,
        baseline_mean=mean,
        baseline_sd=sd,
        baseline_values=len(baseline),
        rolling_values=len(rolling),
        z=z,
        reason=(
            f"7-day HRV (ln rMSSD {rolling_mean:.2f}) is {word} your usual range "
            f"({mean:.2f} ± {SWC_SD * sd:.2f})"
        ),
    )


@dataclass(frozen=True, kw_only=True)
class ReadinessInputs:
    """Today's signals; any may be missing (its weight is shared among the others)."""

    hrv_z: float | None = None  # from hrv_status
    sleep_hours: float | None = None
    sleep_baseline_hours: float | None = None  # the athlete's own usual
    soreness: int | None = None  # 1 none … 5 very sore
    stress: int | None = None  # 1 calm … 5 very stressed
    mood: int | None = None  # 1 low … 5 great
    rpe_deviation: float | None = None  # last session: actual − target RPE


@dataclass(frozen=True, kw_only=True)
class Contribution:
    input: str  # a weight key
    value: Mapping[str, float]  # the raw input(s)
    sub_score: float  # 0–100, 50 = as usual
    weight: float  # after sharing out missing inputs' weights
    points: float  # weight × sub_score: this input's part of the score
    reason: str


@dataclass(frozen=True, kw_only=True)
class Readiness:
    score: float | None  # 0–100; None when no input was given
    contributions: tuple[Contribution, ...]
    reason: str


def _clip(x: float, low: float = 0.0, high: float = 100.0) -> float:
    return max(low, min(high, x))


def _one_to_five(name: str, value: int, *, higher_is_better: bool) -> float:
    if isinstance(value, bool) or value not in (1, 2, 3, 4, 5):
        raise ValueError(f"{name} must be 1–5, got {value}")
    return (value - 1) / 4 * 100 if higher_is_better else (5 - value) / 4 * 100


def _sub_scores(inputs: ReadinessInputs) -> dict[str, tuple[dict[str, float], float, str]]:
    out: dict[str, tuple[dict[str, float], float, str]] = {}
    if inputs.hrv_z is not None:
        score = _clip(50 + 25 * inputs.hrv_z)
        out["hrv"] = ({"hrv_z": inputs.hrv_z}, score, f"HRV {inputs.hrv_z:+.1f} SD from usual")
    if inputs.sleep_hours is not None:
        if not 0 <= inputs.sleep_hours <= 24:
            raise ValueError(f"sleep_hours must be 0–24, got {inputs.sleep_hours}")
        usual = inputs.sleep_baseline_hours or 8.0
        delta = inputs.sleep_hours - usual
        out["sleep"] = (
            {"sleep_hours": inputs.sleep_hours, "usual_hours": usual},
            _clip(50 + 25 * delta),  # ± 2 h from usual spans the scale
            f"slept {inputs.sleep_hours:g} h ({delta:+.1f} h vs your usual {usual:g} h)",
        )
    if inputs.soreness is not None:
        score = _one_to_five("soreness", inputs.soreness, higher_is_better=False)
        out["soreness"] = ({"soreness": inputs.soreness}, score, f"soreness {inputs.soreness}/5")
    moods = {}
    if inputs.stress is not None:
        moods["stress"] = _one_to_five("stress", inputs.stress, higher_is_better=False)
    if inputs.mood is not None:
        moods["mood"] = _one_to_five("mood", inputs.mood, higher_is_better=True)
    if moods:
        raw = {k: float(getattr(inputs, k)) for k in moods}
        words = ", ".join(f"{k} {int(v)}/5" for k, v in raw.items())
        out["stress"] = (raw, statistics.fmean(moods.values()), words)
    if inputs.rpe_deviation is not None:
        dev = inputs.rpe_deviation
        out["rpe_deviation"] = (
            {"rpe_deviation": dev},
            _clip(50 - 25 * dev),  # 2 RPE harder than planned reads as empty
            f"last session felt {abs(dev):g} RPE {'harder' if dev > 0 else 'easier'} than planned"
            if dev
            else "last session felt as planned",
        )
    return out


def readiness(inputs: ReadinessInputs, weights: Mapping[str, float]) -> Readiness:
    """0–100 readiness from the inputs present, weighted by the methodology's weights
    (`hrv`, `sleep`, `soreness`, `stress`, `rpe_deviation`); 50 is an ordinary day."""
    unknown = set(weights) - set(WEIGHT_KEYS)
    if unknown:
        raise ValueError(f"unknown readiness weights: {', '.join(sorted(unknown))}")
    if any(w < 0 for w in weights.values()):
        raise ValueError("readiness weights must be ≥ 0")
    subs = {k: v for k, v in _sub_scores(inputs).items() if weights.get(k, 0) > 0}
    total = sum(weights[k] for k in subs)
    if not subs or total == 0:
        return Readiness(score=None, contributions=(), reason="No readiness inputs today")
    contributions = tuple(
        Contribution(
            input=key,
            value=raw,
            sub_score=round(score, 1),
            weight=weights[key] / total,
            points=round(weights[key] / total * score, 2),
            reason=reason,
        )
        for key, (raw, score, reason) in subs.items()
    )
    score = round(sum(c.weight * c.sub_score for c in contributions), 1)
    lowest = min(contributions, key=lambda c: c.sub_score)
    return Readiness(
        score=score,
        contributions=contributions,
        reason=f"Readiness {score:.0f}/100; lowest: {lowest.reason}",
    )
