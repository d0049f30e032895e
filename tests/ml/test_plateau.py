"""programs.ml.plateau: Theil–Sen trend, plateau and decline alerts (SCIENCE.md §6)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from programs.ml.common import Insufficient
from programs.ml.plateau import decline, plateau, theil_sen

TODAY = date(2026, 3, 2)


def _sessions(values: list[float], every_days: int = 3) -> list[tuple[date, float]]:
    """One value per session, the last one on TODAY."""
    n = len(values)
    return [(TODAY - timedelta(days=every_days * (n - 1 - i)), v) for i, v in enumerate(values)]


def test_theil_sen_recovers_slope_per_week_and_ignores_one_outlier():
    points = _sessions([100 + i * 3 / 7 for i in range(12)])  # +1 kg a week, every 3 days
    points[5] = (points[5][0], 160.0)  # one absurd AMRAP
    trend = theil_sen(points)
    assert trend.slope_per_week == pytest.approx(1.0, abs=0.05)
    assert trend.ci_low_per_week <= trend.slope_per_week <= trend.ci_high_per_week
    assert (trend.n, trend.first, trend.last) == (12, points[0][0], TODAY)
    assert trend.value_at(points[0][0]) == pytest.approx(100, abs=0.5)


def test_theil_sen_needs_two_dates():
    with pytest.raises(ValueError, match="two different dates"):
        theil_sen([(TODAY, 100.0), (TODAY, 101.0)])


def test_flat_series_is_a_plateau_but_not_a_decline():
    result = plateau(_sessions([120.0] * 12), TODAY)
    assert not isinstance(result, Insufficient)
    assert result.status == "plateau"
    assert result.is_plateau and not result.is_decline
    assert result.trend.slope_per_week == 0
    assert result.reason.startswith("Plateau: working e1RM is not rising")


def test_declining_noisy_series_is_a_decline_with_its_evidence():
    rng = np.random.default_rng(7)
    values = [140 - 0.3 * i + rng.normal(0, 0.5) for i in range(14)]  # −0.7 kg a week
    result = decline(_sessions(values), TODAY)
    assert not isinstance(result, Insufficient)
    assert result.is_decline and result.is_plateau and result.status == "decline"
    assert result.trend.ci_high_per_week < 0
    assert result.trend.slope_per_week == pytest.approx(-0.7, abs=0.25)
    assert result.relative_slope_pct_per_week < 0
    assert len(result.points) == 14 and result.window_end == TODAY
    assert "whole interval is below 0" in result.reason


def test_rising_series_raises_no_alert():
    rng = np.random.default_rng(3)
    values = [100 + 0.4 * i + rng.normal(0, 0.5) for i in range(14)]
    result = plateau(_sessions(values), TODAY)
    assert not isinstance(result, Insufficient)
    assert result.status == "progressing"
    assert not result.is_plateau and not result.is_decline


def test_only_the_last_six_weeks_count():
    # Rising for months, flat for the last six weeks: that is a plateau now.
    old = [(TODAY - timedelta(days=120 - 3 * i), 80.0 + i) for i in range(20)]
    recent = _sessions([120.0] * 14)
    result = plateau(old + recent, TODAY)
    assert not isinstance(result, Insufficient)
    assert result.is_plateau
    assert result.window_start == TODAY - timedelta(days=41)
    assert all(day >= result.window_start for day, _ in result.points)


def test_too_few_points_is_insufficient_with_a_reason():
    result = plateau(_sessions([100.0, 99.0, 98.0], every_days=10), TODAY)
    assert isinstance(result, Insufficient)
    assert (result.have, result.need) == (3, 4)
    assert "3 of 4" in result.reason


def test_too_short_a_span_is_insufficient():
    result = plateau(_sessions([100.0, 99.0, 98.0, 97.0, 96.0], every_days=2), TODAY)
    assert isinstance(result, Insufficient)
    assert (result.have, result.need) == (8, 21)


def test_points_after_today_are_ignored():
    future = [(TODAY + timedelta(days=i), 200.0 + 10 * i) for i in range(1, 5)]
    result = plateau(_sessions([120.0] * 12) + future, TODAY)
    assert not isinstance(result, Insufficient)
    assert result.is_plateau and result.trend.last == TODAY


@given(
    start=st.floats(min_value=20, max_value=300),
    steps=st.lists(st.floats(min_value=0.01, max_value=5), min_size=3, max_size=25),
    gaps=st.lists(st.integers(min_value=1, max_value=7), min_size=25, max_size=25),
)
def test_strictly_increasing_series_has_positive_slope(start, steps, gaps):
    day, value, points = TODAY, start, [(TODAY, start)]
    for step, gap in zip(steps, gaps, strict=False):
        day, value = day + timedelta(days=gap), value + step
        points.append((day, value))
    trend = theil_sen(points)
    assert trend.slope_per_week > 0
