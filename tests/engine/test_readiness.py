"""programs.engine.readiness: HRV status per SCIENCE.md §3 and the explained composite."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from programs.engine.readiness import ReadinessInputs, hrv_status, readiness

DAY = date(2026, 11, 23)
WEIGHTS = {"hrv": 0.35, "sleep": 0.25, "soreness": 0.15, "stress": 0.15, "rpe_deviation": 0.10}


def _series(baseline: list[float], week: list[float]) -> dict[date, float]:
    """Baseline values on the days before the last 7, then `week` ending on DAY."""
    values = {DAY - timedelta(days=7 + i): v for i, v in enumerate(reversed(baseline))}
    values.update({DAY - timedelta(days=i): v for i, v in enumerate(reversed(week))})
    return values


BASELINE = [4.0 + (0.1 if i % 2 else -0.1) for i in range(60)]  # mean 4.0, SD 0.1


def test_low_when_the_week_is_more_than_half_an_sd_below_baseline():
    result = hrv_status(_series(BASELINE, [3.9] * 7), DAY)
    assert result.status == "low"
    assert result.baseline_mean == pytest.approx(4.0)
    assert result.baseline_sd == pytest.approx(0.1)
    assert result.rolling_mean == pytest.approx(3.9)
    assert result.z == pytest.approx(-1.0)
    assert "below your usual range" in result.reason


@pytest.mark.parametrize(
    ("week_value", "status"), [(3.96, "normal"), (4.04, "normal"), (4.06, "high")]
)
def test_half_an_sd_is_the_smallest_worthwhile_change(week_value, status):
    assert hrv_status(_series(BASELINE, [week_value] * 7), DAY).status == status


def test_unknown_with_fewer_than_14_baseline_values():
    result = hrv_status(_series(BASELINE[:13], [3.0] * 7), DAY)
    assert result.status == "unknown" and result.baseline_values == 13
    assert "13 of 14 baseline days" in result.reason


def test_unknown_with_fewer_than_3_values_this_week():
    assert hrv_status(_series(BASELINE, [3.0] * 2), DAY).status == "unknown"


def test_windows_are_the_7_days_to_day_and_the_60_before():
    values = {DAY - timedelta(days=i): 4.0 for i in range(7, 67)}  # exactly the baseline window
    values[DAY - timedelta(days=67)] = 100.0  # outside: ignored
    values[DAY - timedelta(days=7)] = 4.0
    values.update({DAY - timedelta(days=i): 3.0 for i in range(7)})
    values[DAY + timedelta(days=1)] = 100.0  # the future: ignored
    result = hrv_status(values, DAY)
    assert result.baseline_values == 60 and result.rolling_values == 7
    assert result.baseline_mean == pytest.approx(4.0)
    assert result.rolling_mean == pytest.approx(3.0)


def test_an_ordinary_day_reads_50():
    result = readiness(
        ReadinessInputs(
            hrv_z=0,
            sleep_hours=7.5,
            sleep_baseline_hours=7.5,
            soreness=3,
            stress=3,
            mood=3,
            rpe_deviation=0,
        ),
        WEIGHTS,
    )
    assert result.score == pytest.approx(50)
    assert sum(c.points for c in result.contributions) == pytest.approx(result.score, abs=0.05)


def test_missing_inputs_share_their_weight_and_the_lowest_is_named():
    result = readiness(ReadinessInputs(sleep_hours=5, sleep_baseline_hours=8, soreness=1), WEIGHTS)
    weights = {c.input: c.weight for c in result.contributions}
    assert weights == pytest.approx({"sleep": 0.25 / 0.40, "soreness": 0.15 / 0.40})
    assert result.score == pytest.approx(0.625 * 0 + 0.375 * 100)
    assert "lowest: slept 5 h (-3.0 h vs your usual 8 h)" in result.reason


def test_no_inputs_no_score():
    assert readiness(ReadinessInputs(), WEIGHTS).score is None


@pytest.mark.parametrize(
    ("inputs", "weights"),
    [
        (ReadinessInputs(soreness=6), WEIGHTS),
        (ReadinessInputs(sleep_hours=25), WEIGHTS),
        (ReadinessInputs(soreness=3), {"vibes": 1.0}),
        (ReadinessInputs(soreness=3), {"soreness": -1.0}),
    ],
)
def test_bad_input_raises(inputs, weights):
    with pytest.raises(ValueError):
        readiness(inputs, weights)


@given(
    hrv_z=st.one_of(st.none(), st.floats(-6, 6)),
    sleep=st.one_of(st.none(), st.floats(0, 14)),
    soreness=st.one_of(st.none(), st.integers(1, 5)),
    stress=st.one_of(st.none(), st.integers(1, 5)),
    mood=st.one_of(st.none(), st.integers(1, 5)),
    dev=st.one_of(st.none(), st.floats(-4, 4)),
)
def test_score_stays_within_0_100_and_is_the_sum_of_its_parts(
    hrv_z, sleep, soreness, stress, mood, dev
):
    result = readiness(
        ReadinessInputs(
            hrv_z=hrv_z,
            sleep_hours=sleep,
            soreness=soreness,
            stress=stress,
            mood=mood,
            rpe_deviation=dev,
        ),
        WEIGHTS,
    )
    if result.score is None:
        assert result.contributions == ()
        return
    assert 0 <= result.score <= 100
    assert sum(c.weight for c in result.contributions) == pytest.approx(1)
    assert sum(c.points for c in result.contributions) == pytest.approx(result.score, abs=0.1)
