"""programs.ml.audit: prediction error by sex, age band and training age; small groups shown."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from programs.ml.audit import AuditRow, bias_audit


def _rows(n: int, **fields) -> list[AuditRow]:
    base = {"sex": "male", "age_years": 30, "training_age_years": 2, "abs_error": 2.0}
    return [AuditRow(**(base | fields)) for _ in range(n)]


def _group(report, dimension: str, group: str):
    return next(g for g in report.groups if (g.dimension, g.group) == (dimension, group))


def test_groups_by_sex_age_and_training_age_with_counts_and_mae():
    rows = (
        _rows(20, sex="male", age_years=30, training_age_years=4, abs_error=2.0)
        + _rows(12, sex="female", age_years=47, training_age_years=0.5, abs_error=4.0)
        + _rows(3, sex="female", age_years=61, training_age_years=12, abs_error=10.0)
    )
    report = bias_audit(rows)
    assert report.count == 35
    assert report.overall_mae == pytest.approx((20 * 2 + 12 * 4 + 3 * 10) / 35)
    female = _group(report, "sex", "female")
    assert (female.count, female.mae, female.small) == (15, pytest.approx(5.2), False)
    assert (_group(report, "age", "25–34").count, _group(report, "age", "45–54").mae) == (20, 4.0)
    assert _group(report, "training_age", "3–5").mae == 2.0
    assert _group(report, "training_age", "<1").count == 12


def test_small_groups_are_flagged_not_hidden():
    rows = _rows(20) + _rows(3, sex="female", age_years=61, training_age_years=12, abs_error=9.0)
    report = bias_audit(rows, min_group=10)
    over_55 = _group(report, "age", "55+")
    assert (over_55.count, over_55.mae, over_55.small) == (3, 9.0, True)
    assert "age:55+" in report.small_groups and "sex:female" in report.small_groups
    empty = _group(report, "age", "<25")
    assert (empty.count, empty.mae, empty.small) == (0, None, True)
    assert "flagged small, not hidden" in report.reason


def test_band_edges_and_unknowns():
    rows = [
        AuditRow(sex=None, age_years=25, training_age_years=1, abs_error=1.0),
        AuditRow(sex="male", age_years=24.9, training_age_years=None, abs_error=3.0),
        AuditRow(sex="male", age_years=None, training_age_years=5, abs_error=5.0),
    ]
    report = bias_audit(rows, min_group=1)
    assert _group(report, "age", "25–34").mae == 1.0
    assert _group(report, "age", "<25").mae == 3.0
    assert _group(report, "age", "unknown").mae == 5.0
    assert _group(report, "sex", "unknown").count == 1
    assert _group(report, "training_age", "1–3").count == 1
    assert _group(report, "training_age", "5+").count == 1
    assert _group(report, "training_age", "unknown").count == 1


def test_empty_audit_says_so():
    report = bias_audit([])
    assert report.overall_mae is None and report.count == 0
    assert all(g.small and g.mae is None for g in report.groups)


def test_negative_error_is_refused():
    with pytest.raises(ValueError):
        bias_audit(_rows(1, abs_error=-1.0))


@given(
    st.lists(
        st.builds(
            AuditRow,
            sex=st.sampled_from(["male", "female", None]),
            age_years=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
            training_age_years=st.one_of(st.none(), st.floats(min_value=0, max_value=50)),
            abs_error=st.floats(min_value=0, max_value=1000),
        ),
        max_size=40,
    )
)
def test_every_row_lands_in_exactly_one_group_per_dimension(rows):
    report = bias_audit(rows)
    for dimension in ("sex", "age", "training_age"):
        assert sum(g.count for g in report.groups if g.dimension == dimension) == len(rows)
