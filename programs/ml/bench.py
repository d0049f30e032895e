"""Benchmark: fit and score the anomaly forest for N synthetic athletes.

    python -m programs.ml.bench 200

Prints per-athlete fit and score time (p50/p95) and what a nightly run over 10,000
athletes would cost with refits staggered across the week. Numbers, not assertions:
tests don't time things.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta

from programs.ml.anomaly import fit_anomaly, score_anomaly

DAYS = 60
TODAY = date(2025, 3, 1)


def synthetic_rows(seed: int) -> dict[date, dict[str, float]]:
    """60 ordinary days of one athlete: wearable values around a personal baseline."""
    import numpy as np

    rng = np.random.default_rng(seed)
    base_rhr, base_hrv, base_weight = rng.normal(55, 6), rng.normal(4.2, 0.3), rng.normal(75, 10)
    rows = {}
    for i in range(DAYS):
        rows[TODAY - timedelta(days=DAYS - 1 - i)] = {
            "sleep_hours": float(rng.normal(7.4, 0.6)),
            "sleep_quality": float(rng.choice([2, 3, 4, 5], p=[0.05, 0.25, 0.5, 0.2])),
            "soreness": float(rng.choice([1, 2, 3, 4], p=[0.3, 0.45, 0.2, 0.05])),
            "stress": float(rng.choice([1, 2, 3, 4], p=[0.3, 0.45, 0.2, 0.05])),
            "mood": float(rng.choice([2, 3, 4, 5], p=[0.05, 0.25, 0.5, 0.2])),
            "ln_rmssd": float(rng.normal(base_hrv, 0.12)),
            "resting_hr_bpm": float(round(rng.normal(base_rhr, 2.5))),
            "body_weight_kg": float(rng.normal(base_weight, 0.5)),
        }
    return rows


def _pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    athletes = int(args[0]) if args else 200
    start = time.perf_counter()
    from sklearn.ensemble import IsolationForest  # noqa: F401 - time the import on its own

    import_s = time.perf_counter() - start
    fit_ms, score_ms, flagged = [], [], 0
    for seed in range(athletes):
        rows = synthetic_rows(seed)
        t0 = time.perf_counter()
        model = fit_anomaly(rows, today=TODAY, random_state=0)
        t1 = time.perf_counter()
        result = score_anomaly(model, rows[TODAY])  # type: ignore[arg-type]
        t2 = time.perf_counter()
        fit_ms.append(1000 * (t1 - t0))
        score_ms.append(1000 * (t2 - t1))
        flagged += result.is_anomaly
    fit_p50, score_p50 = _pct(fit_ms, 50), _pct(score_ms, 50)
    nightly_s = 10_000 * (score_p50 + fit_p50 / 7) / 1000
    print(f"athletes: {athletes}, {DAYS} days × 8 features, IsolationForest 100 trees")
    print(f"sklearn import: {import_s * 1000:.0f} ms (once per process)")
    print(f"fit   per athlete: p50 {fit_p50:.1f} ms, p95 {_pct(fit_ms, 95):.1f} ms")
    print(f"score per athlete: p50 {score_p50:.1f} ms, p95 {_pct(score_ms, 95):.1f} ms")
    print(f"last (training) day flagged unusual: {flagged} of {athletes} ordinary athletes")
    print(
        f"10,000 athletes, one core: score all + refit 1/7 each night ≈ {nightly_s:.0f} s; "
        f"refit all at once ≈ {10_000 * fit_p50 / 1000:.0f} s"
    )


if __name__ == "__main__":
    main()
