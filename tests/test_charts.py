"""Chart geometry (programs/charts.py): pure functions, no database."""

from __future__ import annotations

import datetime

import pytest

from nutrition import charts as nutrition_charts
from programs import charts
from programs.engine import strength

D = datetime.date(2026, 3, 1)


def day(n: int) -> datetime.date:
    return D + datetime.timedelta(days=n)


def test_time_chart_maps_first_and_last_day_to_the_padded_edges_and_values_upwards():
    chart = charts.time_chart(
        [charts.Series(name="s", points={day(0): 10.0, day(10): 20.0}, style="both")], margin=0
    )
    (s,) = chart.series
    # first day at x = pad, last at width − pad; the low value at the bottom edge
    assert s.dots == ((28.0, 172.0), (612.0, 28.0))
    assert s.line == "28.0,172.0 612.0,28.0"
    assert (chart.low, chart.high, chart.first, chart.last) == (10.0, 20.0, day(0), day(10))
    assert s.latest == 20.0


def test_time_chart_places_a_middle_day_proportionally_and_pads_the_range_by_the_margin():
    chart = charts.time_chart(
        [charts.Series(name="s", points={day(0): 0.0, day(5): 5.0, day(10): 10.0}, style="dots")],
        margin=5,
    )
    xs = [x for x, _ in chart.series[0].dots]
    ys = [y for _, y in chart.series[0].dots]
    assert xs == [28.0, 320.0, 612.0]
    # range −5 … 15: 0 sits a quarter of the way up, 10 three quarters
    assert ys == [136.0, 100.0, 64.0]
    assert (chart.low, chart.high) == (0.0, 10.0)
    assert chart.series[0].line == ""  # dots only


def test_time_chart_needs_min_points_in_some_series():
    one = charts.Series(name="s", points={day(0): 1.0})
    assert charts.time_chart([one]) is None
    assert charts.time_chart([one], min_points=1) is not None
    assert charts.time_chart([]) is None


def test_a_fixed_range_ignores_the_data_range_and_zero_gets_a_reference_line():
    fixed = charts.time_chart(
        [charts.Series(name="r", points={day(0): 40.0, day(1): 60.0})],
        margin=0,
        value_range=(0, 100),
    )
    assert fixed.series[0].dots == ()  # a line only
    assert fixed.series[0].line == "28.0,114.4 612.0,85.6"
    assert fixed.zero_y is None  # 0 is the bottom edge, not inside the range
    tsb = charts.time_chart([charts.Series(name="tsb", points={day(0): -10.0, day(1): 10.0})])
    assert tsb.zero_y == 100.0  # half way between −10.5 and 10.5


def test_equal_values_without_margin_do_not_divide_by_zero():
    chart = charts.time_chart(
        [charts.Series(name="flat", points={day(0): 5.0, day(3): 5.0})], margin=0
    )
    assert chart.series[0].line == "28.0,100.0 612.0,100.0"


def test_a_single_day_series_sits_at_the_left_edge():
    chart = charts.time_chart([charts.Series(name="s", points={day(0): 3.0})], min_points=1)
    assert chart.series[0].line == ""
    assert chart.first == chart.last == day(0)


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        charts.Series(name="s", points={}, style="bars")
    with pytest.raises(ValueError):
        charts.time_chart([charts.Series(name="s", points={day(0): 1, day(1): 2})], margin=-1)
    with pytest.raises(ValueError):
        charts.weekly_rows([], every_days=0)


def test_weekly_rows_count_back_from_the_last_day_and_carry_the_latest_value():
    a = charts.Series(name="a", points={day(i): float(i) for i in range(15)})
    b = charts.Series(name="b", points={day(10): 1.0})
    rows = charts.weekly_rows([a, b])
    assert rows == [
        (day(0), (0.0, None)),
        (day(7), (7.0, None)),
        (day(14), (14.0, 1.0)),
    ]
    assert charts.weekly_rows([]) == []


def test_e1rm_trend_uses_the_engines_set_e1rm_and_working_e1rm():
    sets = [
        (day(0), 100.0, 5, 8.0),
        (day(0), 60.0, 5, 5.0),  # a warm-up: RPE below the chart, left out
        (day(7), 105.0, 5, 8.0),
        (day(14), 140.0, 5, 8.0),  # a lucky day: > 10 % above the median
        (day(14), 20.0, 15, None),  # > 12 reps: left out
    ]
    trend = charts.e1rm_trend(sets)
    assert trend.best == pytest.approx(
        {
            day(0): strength.e1rm(100.0, 5, 8.0),
            day(7): strength.e1rm(105.0, 5, 8.0),
            day(14): strength.e1rm(140.0, 5, 8.0),
        }
    )
    assert trend.working[day(14)] == pytest.approx(strength.working_e1rm(sets, today=day(14)))
    # the working line ignores the outlier session
    assert trend.working[day(14)] == pytest.approx(strength.e1rm(105.0, 5, 8.0))
    assert charts.e1rm_trend([(day(0), 50.0, 20, None)]).best == {}


def test_nutritions_weight_chart_keeps_its_shape_on_the_shared_geometry():
    chart = nutrition_charts.weight_chart(
        {"2026-03-01": 70.0, "2026-03-11": 69.0},
        {"2026-03-01": 70.0, "2026-03-06": 69.6, "2026-03-11": 69.4},
    )
    assert chart == {
        "width": 640,
        "height": 200,
        # range 68.5 … 70.5 (0.5 kg margin): 70 kg at a quarter from the top
        "dots": [(28.0, 64.0), (612.0, 136.0)],
        "line": "28.0,64.0 320.0,92.8 612.0,107.2",
        "low": 69.0,
        "high": 70.0,
        "first": "2026-03-01",
        "last": "2026-03-11",
        "latest_trend": 69.4,
    }
    assert nutrition_charts.weight_chart({"2026-03-01": 70.0}, {"2026-03-01": 70.0}) is None
