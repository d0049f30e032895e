"""programs.ml.predict: next-session e1RM and threshold from the athlete's own trend."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from programs.ml.predict import mae, predict_next_e1rm, predict_threshold, score

LAST = date(2026, 3, 1)


def _every_3_days(values: list[float], last: date = LAST) -> list[tuple[date, float]]:
    n = len(values)
    return [(last - timedelta(days=3 * (n - 1 - i)), v) for i, v in enumerate(values)]


def test_linear_series_predicts_the_next_session_within_tolerance():
    rng = np.random.default_rng(5)
    # +1 kg a week (≈ 0.8 %/week, under the 2.5 % clip), ±0.5 kg of noise
    history = _every_3_days([120 + i * 3 / 7 + rng.normal(0, 0.5) for i in range(14)])
    on = LAST + timedelta(days=3)
    truth = 120 + (on - history[0][0]).days / 7  # the noiseless line on `on`
    prediction = predict_next_e1rm(history, on=on)
    assert prediction.method == "trend" and not prediction.clipped
    assert prediction.value == pytest.approx(truth, abs=1.0)
    assert prediction.slope_per_week == pytest.approx(1.0, abs=0.3)
    assert prediction.n_points == 14 and prediction.base_date == LAST
    assert prediction.reason.startswith("Predicted e1RM ") and "kg a week" in prediction.reason


def test_a_too_steep_trend_is_clipped_to_a_sane_weekly_change():
    history = _every_3_days([100 + i * 3 for i in range(10)])  # +7 kg a week
    prediction = predict_next_e1rm(history, on=LAST + timedelta(days=7))
    assert prediction.clipped
    assert prediction.raw_slope_per_week == pytest.approx(7.0)
    assert prediction.slope_per_week == pytest.approx(0.025 * prediction.level)
    assert "clipped" in prediction.reason


def test_after_a_long_break_the_last_block_predicts_with_a_capped_horizon():
    history = _every_3_days([100 + i * 3 / 7 for i in range(14)])
    prediction = predict_next_e1rm(history, on=LAST + timedelta(weeks=20))
    assert prediction.method == "trend" and prediction.n_points == 14
    assert prediction.weeks_ahead == 4.0
    assert prediction.value == pytest.approx(prediction.level + 4 * prediction.slope_per_week)


def test_horizon_cap_within_the_window():
    history = _every_3_days([100 + i * 3 / 7 for i in range(14)])
    prediction = predict_next_e1rm(history, on=LAST + timedelta(days=10), max_horizon_weeks=1)
    assert prediction.weeks_ahead == 1.0
    assert prediction.value == pytest.approx(prediction.level + prediction.slope_per_week)


def test_a_test_re_bases_the_series():
    # Estimates from submaximal sets said ~100 rising 1 kg/week; a tested 1RM on day 30
    # says the real level is 110, and the sessions after it continue from there.
    first = LAST - timedelta(days=39)
    before = [(first + timedelta(days=3 * i), 100 + 3 * i / 7) for i in range(10)]
    anchor_day = first + timedelta(days=30)
    after = [(anchor_day + timedelta(days=3 * k), 110 + 3 * k / 7) for k in range(1, 4)]
    on = LAST + timedelta(days=3)
    prediction = predict_next_e1rm(before + after, on=on, anchors=[(anchor_day, 110.0)])
    expected = 110 + (on - anchor_day).days / 7
    assert prediction.anchor == (anchor_day, 110.0)
    assert prediction.anchor_shift == pytest.approx(110 - (100 + 30 / 7), abs=0.01)
    assert prediction.value == pytest.approx(expected, abs=0.3)
    naive = predict_next_e1rm([*before, (anchor_day, 110.0), *after], on=on)
    assert naive.value < expected - 1  # without re-basing the old level drags it down
    assert "re-based on the test" in prediction.reason


def test_anchor_only_just_after_a_test():
    anchor_day = LAST - timedelta(days=2)
    prediction = predict_next_e1rm([], on=LAST, anchors=[(anchor_day, 150.0)])
    assert prediction.method == "level" and prediction.value == 150.0


def test_few_points_fall_back_to_the_median_level():
    history = _every_3_days([100.0, 104.0, 101.0], last=LAST)[1:]
    prediction = predict_next_e1rm(history, on=LAST + timedelta(days=2))
    assert prediction.method == "level" and prediction.trend is None
    assert prediction.value == pytest.approx(102.5)
    assert "too few" in prediction.reason


def test_outcome_on_the_day_is_not_used_to_predict_it():
    history = _every_3_days([100 + i * 3 / 7 for i in range(14)])
    with_outcome = [*history, (LAST + timedelta(days=3), 500.0)]
    on = LAST + timedelta(days=3)
    assert predict_next_e1rm(with_outcome, on=on) == predict_next_e1rm(history, on=on)


def test_no_history_is_an_error():
    with pytest.raises(ValueError, match="no e1RM"):
        predict_next_e1rm([], on=LAST)


def test_threshold_prediction_with_a_time_trial_anchor():
    history = _every_3_days([250 + i * 0.3 for i in range(14)])  # +0.7 W a week
    trial_day = LAST - timedelta(days=1)
    prediction = predict_threshold(history, on=LAST + timedelta(days=7), anchors=[(trial_day, 262)])
    assert prediction.kind == "threshold" and prediction.anchor == (trial_day, 262.0)
    assert prediction.value == pytest.approx(262 + 8 * 0.1, abs=1.0)
    assert prediction.slope_per_week <= 0.01 * prediction.level + 1e-9
    assert "W" in prediction.reason


def test_score_and_mae():
    history = _every_3_days([100.0] * 10)
    prediction = predict_next_e1rm(history, on=LAST + timedelta(days=3))
    assert prediction.value == pytest.approx(100.0)
    assert score(prediction, 103.5) == pytest.approx(3.5)
    assert mae([(100, 103), (100, 98), (50, 50)]) == pytest.approx(5 / 3)
    assert mae([]) is None
