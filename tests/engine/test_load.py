"""programs.engine.load against published worked values and the SCIENCE.md conventions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from programs.engine.load import (
    acwr,
    monotony,
    pmc,
    riegel,
    run_tss,
    session_rpe_load,
    strain,
    trimp,
    tss,
)

loads_st = st.lists(st.floats(min_value=0, max_value=400), min_size=1, max_size=120)


def test_session_rpe_load_is_rpe_times_minutes():
    assert session_rpe_load(7, 60) == 420  # Foster 2001: RPE 7 for 60 min


def test_session_rpe_out_of_scale_raises():
    with pytest.raises(ValueError):
        session_rpe_load(11, 60)


def test_monotony_and_strain_of_a_week():
    week = [300, 0, 450, 300, 0, 600, 200]
    mean = sum(week) / 7
    sd = math.sqrt(sum((x - mean) ** 2 for x in week) / 7)  # population SD
    assert monotony(week) == pytest.approx(mean / sd)
    assert strain(week) == pytest.approx(sum(week) * mean / sd)


def test_identical_days_have_no_monotony():
    assert monotony([300] * 7) is None
    assert strain([300] * 7) is None


def test_monotony_needs_exactly_seven_days():
    with pytest.raises(ValueError, match="7"):
        monotony([100] * 6)


def test_one_hour_at_ftp_is_100_tss():
    assert tss(3600, 250, 250) == pytest.approx(100)


def test_tss_of_90_minutes_at_intensity_factor_0_8():
    assert tss(5400, 200, 250) == pytest.approx(96)


def test_run_tss_uses_the_same_form_with_speeds():
    assert run_tss(3600, 4.0, 4.0) == pytest.approx(100)
    assert run_tss(1800, 3.6, 4.0) == pytest.approx(40.5)


def test_tss_needs_a_positive_ftp():
    with pytest.raises(ValueError):
        tss(3600, 200, 0)


def test_banister_trimp_for_men_and_women():
    hrr = (150 - 50) / (190 - 50)
    assert trimp(60, 150, 50, 190, "male") == pytest.approx(60 * hrr * 0.64 * math.exp(1.92 * hrr))
    assert trimp(60, 150, 50, 190, "female") == pytest.approx(
        60 * hrr * 0.86 * math.exp(1.67 * hrr)
    )


@pytest.mark.parametrize(
    "args",
    [(60, 150, 50, 190, "other"), (60, 200, 50, 190, "male"), (60, 150, 190, 50, "female")],
)
def test_trimp_rejects_impossible_input(args):
    with pytest.raises(ValueError):
        trimp(*args)


def test_pmc_form_is_yesterdays_fitness_minus_yesterdays_fatigue():
    days = pmc([100, 100, 0], ctl0=50, atl0=60)
    ctl1, atl1, tsb1 = days[0]
    assert tsb1 == pytest.approx(50 - 60)
    assert ctl1 == pytest.approx(50 + (100 - 50) / 42)
    assert atl1 == pytest.approx(60 + (100 - 60) / 7)
    assert days[1][2] == pytest.approx(ctl1 - atl1)


def test_pmc_time_constants_are_parameters():
    ((ctl, atl, _),) = pmc([70], ctl_days=10, atl_days=5)
    assert (ctl, atl) == pytest.approx((7, 14))


def test_acwr_is_none_for_27_days_then_ewma_ratio():
    ratios = acwr([100] * 27 + [100, 300])
    assert ratios[:27] == [None] * 27
    assert ratios[27] == pytest.approx(1.0)
    acute = 0.25 * 300 + 0.75 * 100
    chronic = (2 / 29) * 300 + (27 / 29) * 100
    assert ratios[28] == pytest.approx(acute / chronic)


def test_acwr_is_none_where_chronic_load_is_zero():
    assert acwr([0] * 30)[-1] is None


def test_riegel_5k_to_10k():
    # 20:00 for 5 km predicts 41:42 for 10 km
    assert riegel(1200, 5000, 10000) == pytest.approx(2501.9, abs=0.1)


@given(loads=loads_st)
def test_pmc_stays_within_the_range_of_its_inputs(loads):
    for ctl, atl, _tsb in pmc(loads):
        assert 0 <= ctl <= max(loads) + 1e-9
        assert 0 <= atl <= max(loads) + 1e-9


@given(loads=loads_st)
def test_acwr_has_one_value_per_day_and_none_before_day_28(loads):
    ratios = acwr(loads)
    assert len(ratios) == len(loads)
    assert all(r is None for r in ratios[:27])
    assert all(r is None or r >= 0 for r in ratios)
