"""programs.engine.strength against published values (RTS chart, Epley, Brzycki,
Lombardi) and the properties a plan relies on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from programs.engine.strength import (
    RPE_LADDER,
    e1rm,
    load_for,
    round_to_increment,
    rpe_adjusted_load,
    rpe_percent,
)

reps_st = st.integers(min_value=1, max_value=12)
rpe_st = st.sampled_from([6.5 + 0.5 * i for i in range(8)])


@pytest.mark.parametrize(
    ("reps", "rpe", "expected"),
    [
        (1, 10, 1.000),  # a true single
        (1, 9, 0.955),
        (3, 8, 0.863),
        (5, 8, 0.811),  # the RTS chart's 5 @ 8
        (5, 10, 0.863),
        (8, 9, 0.762),
        (8, 10, 0.786),
        (10, 10, 0.739),
        (12, 6.5, 0.586),  # the chart's last cell
    ],
)
def test_rpe_percent_matches_the_rts_chart(reps, rpe, expected):
    assert rpe_percent(reps, rpe) == expected


@pytest.mark.parametrize(("reps", "rpe"), [(0, 8), (13, 8), (5, 6), (5, 10.5), (5, 8.25)])
def test_rpe_percent_outside_the_chart_raises(reps, rpe):
    with pytest.raises(ValueError):
        rpe_percent(reps, rpe)


def test_ladder_has_every_cell_of_the_chart_and_only_descends():
    assert len(RPE_LADDER) == 2 * 11 + 2 * 3.5 + 1
    assert all(a > b for a, b in zip(RPE_LADDER, RPE_LADDER[1:], strict=False))


def test_published_closed_formulas_for_100kg_x5_at_failure():
    assert e1rm(100, 5, formula="epley") == pytest.approx(116.667, abs=1e-3)
    assert e1rm(100, 5, formula="brzycki") == pytest.approx(112.5)
    assert e1rm(100, 5, formula="lombardi") == pytest.approx(117.462, abs=1e-3)


def test_reps_in_reserve_count_as_reps_for_closed_formulas():
    # 5 reps @ RPE 8 is treated as 7 reps to failure
    assert e1rm(100, 5, rpe=8, formula="epley") == pytest.approx(100 * (1 + 7 / 30))
    assert e1rm(100, 5, rpe=8, formula="brzycki") == pytest.approx(100 * 36 / 30)


def test_epley_single_returns_the_weight():
    assert e1rm(180, 1, formula="epley") == 180


def test_brzycki_beyond_twelve_reps_raises():
    with pytest.raises(ValueError):
        e1rm(100, 10, rpe=7, formula="brzycki")


def test_rts_default_divides_by_the_chart():
    assert e1rm(112.5, 5, 8) == pytest.approx(112.5 / 0.811)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weight": -1, "reps": 5}, "weight"),
        ({"weight": 100, "reps": 0}, "reps"),
        ({"weight": 100, "reps": 5, "formula": "mayhew"}, "unknown formula"),
    ],
)
def test_e1rm_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        e1rm(**kwargs)


def test_load_for_the_issue_example():
    # "4×5 @ 112.5 kg: 81 % of your 140 kg e1RM, for an RPE 8 target"
    assert load_for(140, 5, 8) == 112.5
    assert load_for(140, 5, 8, increment=1.0) == 114.0


def test_rpe_adjusted_load_lowers_the_load_after_a_harder_than_planned_set():
    # planned 5 @ 8 (81.1 %), felt like 9 (83.7 %): the same effort needs less load
    assert rpe_adjusted_load(100, 5, 8, 9) == pytest.approx(100 * 0.811 / 0.837)
    assert rpe_adjusted_load(100, 5, 8, 7) > 100


def test_round_to_increment_rejects_a_zero_increment():
    with pytest.raises(ValueError):
        round_to_increment(100, 0)


@given(e1=st.floats(min_value=20, max_value=400), reps=reps_st, rpe=rpe_st)
def test_load_for_is_loadable_and_within_half_a_plate_of_the_chart(e1, reps, rpe):
    load = load_for(e1, reps, rpe)
    assert load / 2.5 == pytest.approx(round(load / 2.5))
    assert abs(load - e1 * rpe_percent(reps, rpe)) <= 1.25 + 1e-9


@given(reps=reps_st, rpe=rpe_st)
def test_more_reps_or_lower_rpe_never_means_a_heavier_percentage(reps, rpe):
    if reps < 12:
        assert rpe_percent(reps + 1, rpe) < rpe_percent(reps, rpe)
    if rpe > 6.5:
        assert rpe_percent(reps, rpe - 0.5) < rpe_percent(reps, rpe)


@given(weight=st.floats(min_value=20, max_value=400), reps=reps_st, rpe=rpe_st)
def test_e1rm_and_the_chart_invert_each_other(weight, reps, rpe):
    assert e1rm(weight, reps, rpe) * rpe_percent(reps, rpe) == pytest.approx(weight)
