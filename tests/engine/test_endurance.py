"""programs.engine.endurance: the load chart against load.py, Riegel predictions from the
athlete's own efforts, and the Bosquet taper."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from programs.engine.endurance import (
    Effort,
    TaperSession,
    load_series,
    predict_race,
    taper_plan,
    taper_week_cuts,
)
from programs.engine.load import acwr, monotony, pmc, riegel, strain

D0 = date(2026, 1, 1)
TODAY = date(2026, 11, 23)
HALF_M = 21097.5
RACE = date(2027, 3, 14)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


# Load series ------------------------------------------------------------------------------
def test_series_matches_pmc_and_acwr_over_the_whole_history():
    loads = [float((i * 37) % 120) for i in range(60)]
    series = load_series({day(i): v for i, v in enumerate(loads)}, day(0), day(59))
    expected = pmc(loads)
    ratios = acwr(loads)
    assert [p.date for p in series] == [day(i) for i in range(60)]
    for i, point in enumerate(series):
        assert (point.ctl, point.atl, point.tsb) == pytest.approx(expected[i])
        assert point.acwr == (None if ratios[i] is None else pytest.approx(ratios[i]))
    assert series[26].acwr is None and series[27].acwr is not None


def test_series_is_warmed_up_from_the_first_day_with_data():
    loads = {day(i): 100.0 for i in range(0, 100)}
    series = load_series(loads, day(90), day(99))
    full = pmc([100.0] * 100)
    assert len(series) == 10 and series[0].date == day(90)
    assert series[0].ctl == pytest.approx(full[90][0])
    assert series[0].ctl > 80  # a cold start on day 90 would show ≈ 2.4
    assert series[0].acwr == pytest.approx(1.0)  # constant load: acute = chronic


def test_days_without_a_log_are_zero_and_loads_after_end_ignored():
    series = load_series({day(0): 50.0, day(2): 70.0, day(20): 999.0}, day(0), day(3))
    assert [p.load for p in series] == [50.0, 0.0, 70.0, 0.0]
    assert [(p.ctl, p.atl, p.tsb) for p in series] == pytest.approx(pmc([50, 0, 70, 0]))


def test_known_pmc_values_with_seeds():
    series = load_series({day(0): 100.0}, day(0), day(1), ctl0=42.0, atl0=7.0)
    assert series[0].ctl == pytest.approx(42 + (100 - 42) / 42)
    assert series[0].atl == pytest.approx(7 + (100 - 7) / 7)
    assert series[0].tsb == pytest.approx(35.0)  # yesterday's 42 − 7
    assert series[1].tsb == pytest.approx(series[0].ctl - series[0].atl)


def test_start_before_any_data_starts_on_start():
    series = load_series({day(10): 60.0}, day(5), day(12))
    assert series[0].date == day(5) and series[0].ctl == 0.0
    assert series[5].load == 60.0


def test_monotony_and_strain_over_the_seven_days_ending_on_the_day():
    loads = [10.0, 0.0, 30.0, 20.0, 0.0, 50.0, 40.0, 25.0]
    series = load_series({day(i): v for i, v in enumerate(loads)}, day(0), day(7))
    assert series[7].monotony == pytest.approx(monotony(loads[1:8]))
    assert series[7].strain == pytest.approx(strain(loads[1:8]))
    # day 2: the window reaches before the first day, which counts as 0
    assert series[2].monotony == pytest.approx(monotony([0, 0, 0, 0, 10, 0, 30]))


def test_monotony_is_none_on_constant_loads():
    series = load_series({day(i): 80.0 for i in range(14)}, day(7), day(13))
    assert all(p.monotony is None and p.strain is None for p in series)
    empty = load_series({}, day(0), day(3))
    assert all(p.monotony is None and p.load == 0 and p.ctl == 0 for p in empty)


@pytest.mark.parametrize(
    ("loads", "start", "end"),
    [
        ({}, day(5), day(4)),
        ({day(0): -1.0}, day(0), day(1)),
        ({day(0): float("nan")}, day(0), day(1)),
        ({day(0): float("inf")}, day(0), day(1)),
    ],
)
def test_bad_series_input_raises(loads, start, end):
    with pytest.raises(ValueError):
        load_series(loads, start, end)


# Race prediction --------------------------------------------------------------------------
def test_ten_k_to_half_marathon_matches_riegel():
    effort = Effort(date=TODAY - timedelta(days=10), distance_m=10_000, time_s=2520, kind="race")
    result = predict_race([effort], HALF_M, today=TODAY)
    assert result.time_s == pytest.approx(2520 * (HALF_M / 10_000) ** 1.06)
    assert result.time_s == pytest.approx(riegel(2520, 10_000, HALF_M))
    assert result.pace_s_per_km == pytest.approx(result.time_s / 21.0975)
    assert result.effort is effort
    assert "10 km race" in result.reason and "1:32:40" in result.reason


def test_best_prediction_wins_and_races_outrank_training():
    race = Effort(date=TODAY - timedelta(days=30), distance_m=10_000, time_s=2700, kind="race")
    tt = Effort(date=TODAY - timedelta(days=20), distance_m=6_000, time_s=1530, kind="time_trial")
    fast_training = Effort(date=TODAY - timedelta(days=5), distance_m=10_000, time_s=2400)
    result = predict_race([race, tt, fast_training], HALF_M, today=TODAY)
    assert result.effort is tt  # the faster of race and TT, not the faster training run
    assert [c.effort for c in result.candidates] == [fast_training, tt, race]
    assert [c.preferred for c in result.candidates] == [False, True, True]
    assert result.time_s == pytest.approx(riegel(1530, 6_000, HALF_M))


def test_training_efforts_count_when_there_is_no_race():
    slow = Effort(date=TODAY - timedelta(days=3), distance_m=15_000, time_s=4500)
    fast = Effort(date=TODAY - timedelta(days=9), distance_m=10_000, time_s=2600)
    result = predict_race([slow, fast], HALF_M, today=TODAY)
    assert result.effort is fast
    assert "training" in result.reason and "no race or time trial" in result.reason


def test_window_and_distance_ratio_exclude_efforts():
    old = Effort(date=TODAY - timedelta(days=91), distance_m=10_000, time_s=2400, kind="race")
    edge = Effort(date=TODAY - timedelta(days=90), distance_m=10_000, time_s=2700, kind="race")
    future = Effort(date=TODAY + timedelta(days=1), distance_m=10_000, time_s=2000, kind="race")
    short = Effort(date=TODAY, distance_m=5_000, time_s=900, kind="race")  # 0.237× the half
    long = Effort(date=TODAY, distance_m=90_000, time_s=30_000, kind="race")  # 4.27×
    result = predict_race([old, edge, future, short, long], HALF_M, today=TODAY)
    assert [c.effort for c in result.candidates] == [edge]
    narrow = predict_race([old, edge], HALF_M, today=TODAY, window_days=30)
    assert narrow.time_s is None and narrow.effort is None and narrow.candidates == ()
    assert "30 days" in narrow.reason


def test_no_efforts_gives_no_time_and_a_reason():
    result = predict_race([], 42_195, today=TODAY)
    assert result.time_s is None and result.pace_s_per_km is None
    assert "No effort" in result.reason


@pytest.mark.parametrize(
    "make",
    [
        lambda: Effort(date=TODAY, distance_m=0, time_s=100),
        lambda: Effort(date=TODAY, distance_m=1000, time_s=-1),
        lambda: Effort(date=TODAY, distance_m=float("nan"), time_s=100),
        lambda: Effort(date=TODAY, distance_m=1000, time_s=100, kind="parkrun"),
        lambda: predict_race([], 0, today=TODAY),
        lambda: predict_race([], -5000, today=TODAY),
        lambda: predict_race([], 5000, today=TODAY, window_days=0),
        lambda: predict_race([], 5000, today=TODAY, exponent=0),
    ],
)
def test_bad_prediction_input_raises(make):
    with pytest.raises(ValueError):
        make()


# Taper ------------------------------------------------------------------------------------
def _session(key, days_before: int, minutes: int, zone: int | None = 2, kind: str = "run"):
    return TaperSession(
        key=key, date=RACE - timedelta(days=days_before), duration_min=minutes, zone=zone, kind=kind
    )


@pytest.mark.parametrize("weeks", [1, 2, 3])
@pytest.mark.parametrize("cut", [-40, -47.5, -50, -60])
def test_weekly_cuts_deepen_and_average_to_the_request(weeks, cut):
    cuts = taper_week_cuts(weeks, cut)
    assert len(cuts) == weeks
    assert statistics.fmean(cuts) == pytest.approx(cut)
    assert list(cuts) == sorted(cuts, reverse=True)  # deeper toward race day


def test_two_week_taper_cuts_45_then_55_percent_and_keeps_zones():
    sessions = [
        _session("a", 14, 60),  # first taper day
        _session("b", 8, 90, zone=4),
        _session("c", 7, 60),  # first day of week 2
        _session("d", 2, 45, zone=5),
    ]
    changes = {c.key: c for c in taper_plan(sessions, RACE)}
    assert [changes[k].week for k in "abcd"] == [1, 1, 2, 2]
    assert [changes[k].cut_percent for k in "abcd"] == [-45, -45, -55, -55]
    assert [changes[k].duration_after_min for k in "abcd"] == [35, 50, 25, 20]
    assert [changes[k].zone for k in "abcd"] == [2, 4, 2, 5]
    assert changes["d"].sentence == (
        "Volume −55 % (taper week 2 of 2 before your race on 2027-03-14); intensity kept."
    )


def test_race_day_after_it_and_before_the_taper_are_untouched():
    sessions = [
        _session("before", 15, 60),
        _session("race", 0, 120),
        _session("after", -1, 30),
        _session("in", 1, 40),
    ]
    changes = taper_plan(sessions, RACE, weeks=2)
    assert [c.key for c in changes] == ["in"]


def test_rounding_to_five_minutes_and_a_fifteen_minute_floor():
    changes = taper_plan(
        [_session(1, 3, 47), _session(2, 3, 20), _session(3, 3, 15), _session(4, 3, 10)],
        RACE,
        weeks=1,
        volume_cut_percent=-50,
    )
    after = [c.duration_after_min for c in changes]
    assert after == [25, 15, 15, 10]  # 23.5 → 25; 10 → 15 (floor); 15 and 10 kept
    assert "not below 15 min" in changes[1].sentence
    assert changes[2].sentence.startswith("Kept at 15 min")


def test_strength_sessions_are_shortened_too_with_no_zone():
    (change,) = taper_plan([_session("s", 4, 60, zone=None, kind="strength")], RACE)
    assert change.zone is None and change.kind == "strength"
    assert change.duration_after_min == 25  # −55 % of 60 = 27 → 25


@pytest.mark.parametrize(
    ("weeks", "cut"), [(0, -50), (4, -50), (2, -39), (2, -61), (2, 50), (2, float("nan"))]
)
def test_taper_range_is_validated(weeks, cut):
    with pytest.raises(ValueError):
        taper_plan([], RACE, weeks=weeks, volume_cut_percent=cut)


@pytest.mark.parametrize("minutes", [0, -10, 30.5, True])
def test_taper_session_needs_positive_whole_minutes(minutes):
    with pytest.raises(ValueError):
        TaperSession(key=1, date=RACE, duration_min=minutes)


sessions_st = st.lists(
    st.builds(
        TaperSession,
        key=st.integers(),
        date=st.dates(min_value=RACE - timedelta(days=30), max_value=RACE + timedelta(days=5)),
        duration_min=st.integers(min_value=1, max_value=400),
        zone=st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
        kind=st.sampled_from(["run", "ride", "strength"]),
    ),
    max_size=25,
)


@given(
    sessions=sessions_st,
    weeks=st.integers(min_value=1, max_value=3),
    cut=st.floats(min_value=-60, max_value=-40),
)
def test_taper_never_lengthens_or_changes_zone_and_keeps_every_session(sessions, weeks, cut):
    changes = taper_plan(sessions, RACE, weeks=weeks, volume_cut_percent=cut)
    in_taper = [s for s in sessions if RACE - timedelta(days=7 * weeks) <= s.date < RACE]
    assert len(changes) == len(in_taper)  # frequency kept
    by_key = {}
    for s in in_taper:
        by_key.setdefault((s.key, s.date, s.duration_min, s.zone), 0)
        by_key[(s.key, s.date, s.duration_min, s.zone)] += 1
    for c in changes:
        assert c.duration_after_min <= c.duration_before_min
        assert c.duration_after_min >= min(15, c.duration_before_min)
        assert c.duration_after_min == c.duration_before_min or c.duration_after_min % 5 == 0
        assert (c.key, c.date, c.duration_before_min, c.zone) in by_key
        assert 1 <= c.week <= weeks and c.date < RACE
