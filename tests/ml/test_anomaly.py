"""programs.ml.anomaly: the per-athlete IsolationForest, its drivers, storage and refits."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta

import numpy as np
import pytest

from programs.ml import anomaly
from programs.ml.anomaly import (
    FEATURES,
    MODEL_VERSION,
    AnomalyModel,
    checkin_row,
    dumps,
    fit_anomaly,
    loads,
    needs_refit,
    refit_weekday,
    score_anomaly,
)
from programs.ml.common import Insufficient

TODAY = date(2026, 3, 1)


def _ordinary_days(n: int, seed: int = 11) -> dict[date, dict[str, float | None]]:
    """n days of one athlete around a personal baseline; ratings mostly in the middle."""
    rng = np.random.default_rng(seed)
    rows: dict[date, dict[str, float | None]] = {}
    for i in range(n):
        rows[TODAY - timedelta(days=n - 1 - i)] = {
            "sleep_hours": float(rng.normal(7.5, 0.5)),
            "sleep_quality": float(rng.choice([2, 3, 4, 5], p=[0.05, 0.25, 0.5, 0.2])),
            "soreness": float(rng.choice([1, 2, 3, 4], p=[0.3, 0.45, 0.2, 0.05])),
            "stress": float(rng.choice([1, 2, 3, 4], p=[0.3, 0.45, 0.2, 0.05])),
            "mood": float(rng.choice([2, 3, 4, 5], p=[0.05, 0.25, 0.5, 0.2])),
            "ln_rmssd": float(rng.normal(4.2, 0.1)),
            "resting_hr_bpm": float(round(rng.normal(52, 2))),
            "body_weight_kg": float(rng.normal(80, 0.4)),
        }
    return rows


@pytest.fixture(scope="module")
def model() -> AnomalyModel:
    fitted = fit_anomaly(_ordinary_days(60), today=TODAY)
    assert isinstance(fitted, AnomalyModel)
    return fitted


def test_fit_stores_what_it_learned(model):
    assert model.version == MODEL_VERSION and model.fitted_on == TODAY
    assert model.n_days == 60 and model.features == FEATURES
    assert model.means["resting_hr_bpm"] == pytest.approx(52, abs=1)
    assert model.medians["ln_rmssd"] == pytest.approx(4.2, abs=0.05)
    assert 1.0 < model.sds["resting_hr_bpm"] < 3.5
    assert "60 days" in model.reason


def test_injected_day_is_flagged_and_names_resting_hr_and_hrv(model):
    day = dict(model.medians)
    day["resting_hr_bpm"] += 15
    day["ln_rmssd"] -= 0.6
    result = score_anomaly(model, day)
    assert result.is_anomaly
    assert result.named[:2] == ("resting_hr_bpm", "ln_rmssd")
    assert set(result.extreme) == {"resting_hr_bpm", "ln_rmssd"}
    assert {d.feature for d in result.drivers} == set(FEATURES)
    top = result.drivers[0]
    assert top.feature == "resting_hr_bpm" and top.z > 3.5
    assert result.drivers[1].z < -3.5
    assert result.reason.startswith("Unusual: resting HR 15 bpm above your usual, HRV low")


def test_an_ordinary_day_is_not_flagged(model):
    result = score_anomaly(model, dict(model.medians))
    assert not result.is_anomaly and not result.forest_unusual and result.extreme == ()
    assert result.score >= result.threshold
    assert result.named == ()
    assert result.reason.startswith("Within your usual range")


def test_missing_values_are_filled_with_the_median_and_never_drivers(model):
    result = score_anomaly(model, {"resting_hr_bpm": model.medians["resting_hr_bpm"] + 15})
    imputed = {d.feature for d in result.drivers if d.imputed}
    assert imputed == set(FEATURES) - {"resting_hr_bpm"}
    assert result.is_anomaly and result.named == ("resting_hr_bpm",)
    with pytest.raises(ValueError, match="nothing to score"):
        score_anomaly(model, {"sleep_hours": None})


def test_fewer_than_28_days_is_insufficient_with_a_reason():
    result = fit_anomaly(_ordinary_days(27), today=TODAY)
    assert isinstance(result, Insufficient)
    assert (result.have, result.need) == (27, 28)
    assert "27 of 28 days" in result.reason


def test_a_feature_never_recorded_is_left_out_of_the_model():
    rows = _ordinary_days(40)
    for row in rows.values():
        row["ln_rmssd"] = None  # no wearable
    fitted = fit_anomaly(rows, today=TODAY)
    assert isinstance(fitted, AnomalyModel)
    assert "ln_rmssd" not in fitted.features and len(fitted.features) == 7
    assert "left out" in fitted.reason


def test_checkin_row_logs_rmssd_and_accepts_decimals():
    from decimal import Decimal

    row = checkin_row(hrv_rmssd_ms=Decimal("66.0"), body_weight_kg=Decimal("80.25"))
    assert row["ln_rmssd"] == pytest.approx(math.log(66))
    assert row["body_weight_kg"] == 80.25 and row["mood"] is None
    assert set(row) == set(FEATURES)


def test_dumps_loads_round_trip_scores_the_same(model):
    restored = loads(dumps(model))
    assert restored == model  # every field but the estimator
    day = {"resting_hr_bpm": 70.0, "ln_rmssd": 3.5}
    assert score_anomaly(restored, day).score == score_anomaly(model, day).score


def test_loads_refuses_another_model_version(model):
    stale = dumps(dataclasses.replace(model, version="anomaly-0"))
    with pytest.raises(ValueError, match="version 'anomaly-0'.*refit"):
        loads(stale)
    other_sklearn = dumps(dataclasses.replace(model, sklearn_version="0.1"))
    with pytest.raises(ValueError, match="scikit-learn 0.1"):
        loads(other_sklearn)
    with pytest.raises(ValueError, match="not a stored anomaly model"):
        loads(b"something else")


def test_refit_weekly_or_after_seven_new_days(model):
    fitted = model.fitted_on
    assert not needs_refit(model, fitted + timedelta(days=3), new_days=3)
    assert needs_refit(model, fitted + timedelta(days=2), new_days=7)  # a wearable backfill
    assert needs_refit(model, fitted + timedelta(days=7), new_days=2)
    assert not needs_refit(model, fitted + timedelta(days=30), new_days=0)
    assert needs_refit(dataclasses.replace(model, version="anomaly-0"), fitted, new_days=0)


def test_staggered_refit_happens_on_the_athletes_weekday(model):
    weekday = (model.fitted_on.weekday() + 3) % 7
    slot = model.fitted_on + timedelta(days=3)
    assert needs_refit(model, slot, new_days=3, weekday=weekday)
    assert not needs_refit(model, slot - timedelta(days=1), new_days=2, weekday=weekday)
    # a missed slot catches up the day after the model turns a week old
    assert needs_refit(model, model.fitted_on + timedelta(days=8), new_days=1, weekday=weekday)


def test_refit_weekday_is_stable_and_spreads_athletes():
    assert refit_weekday(15) == refit_weekday(15) == 1
    counts = np.bincount([refit_weekday(i) for i in range(7000)], minlength=7)
    assert counts.min() == counts.max() == 1000
    uuids = [refit_weekday(f"6f1c2e0a-0000-4000-8000-{i:012d}") for i in range(700)]
    assert set(uuids) == set(range(7))
    assert all(0 <= refit_weekday(u) <= 6 for u in ("a", "b"))


def test_module_constants_document_the_threshold():
    assert anomaly.THRESHOLD == 0.0 and anomaly.CONTAMINATION == 0.01
    assert anomaly.MIN_DAYS == 28 and anomaly.N_ESTIMATORS == 100
