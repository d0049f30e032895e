"""programs.engine.library: the packaged exercise library and its validation."""

from __future__ import annotations

import json
import re

import pytest

from programs.engine.library import (
    DOSE_UNITS,
    EQUIPMENT,
    PATTERNS,
    SPORTS,
    STRUCTURES,
    Library,
    load_library,
)

REQUIRED = (
    "back-squat",
    "front-squat",
    "bench-press",
    "overhead-press",
    "deadlift",
    "romanian-deadlift",
    "barbell-row",
    "pull-up",
    "bulgarian-split-squat",
    "goblet-squat",
    "push-up",
    "dumbbell-bench-press",
    "single-leg-romanian-deadlift",
)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def _row(**overrides):
    row = {
        "slug": "back-squat",
        "name": "Back squat",
        "pattern": "squat",
        "equipment": ["barbell", "rack"],
        "primary_muscles": ["quadriceps"],
        "substitution_group": "squat",
        "unilateral": False,
        "fatigue": 3,
        "e1rm_ratio": 1.0,
        "reference": True,
    }
    row.update(overrides)
    return row


def test_library_has_at_least_120_exercises_with_unique_kebab_slugs(library):
    slugs = [e.slug for e in library.exercises]
    assert len(slugs) >= 120
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) for s in slugs)


def test_every_exercise_uses_the_vocabularies(library):
    for e in library.exercises:
        assert e.pattern in PATTERNS, e.slug
        assert e.equipment and e.equipment <= set(EQUIPMENT), e.slug
        assert e.primary_muscles, e.slug
        assert e.fatigue in (1, 2, 3), e.slug
        assert e.dose_unit in DOSE_UNITS, e.slug
        assert (e.default_dose is None) == (e.dose_unit == "reps"), e.slug
        if e.e1rm_ratio is not None:
            assert 0 < e.e1rm_ratio <= 3 and e.loadable, e.slug


def test_the_named_lifts_are_in_the_library(library):
    assert all(slug in library for slug in REQUIRED)
    assert library.exercise("back-squat").fatigue == 3
    assert library.exercise("leg-extension").fatigue == 1
    assert library.exercise("front-squat").e1rm_ratio == pytest.approx(0.85)


def test_each_group_with_ratios_has_exactly_one_reference_at_ratio_one(library):
    for group in library.groups():
        members = library.group(group)
        references = [e for e in members if e.reference]
        assert len(references) <= 1, group
        if any(e.e1rm_ratio for e in members):
            assert len(references) == 1 and references[0].e1rm_ratio == 1.0, group


@pytest.mark.parametrize("slug", REQUIRED)
def test_a_home_athlete_can_replace_every_main_lift_within_its_group(library, slug):
    group = library.exercise(slug).substitution_group
    members = library.group(group)
    assert any(e.possible_with(frozenset()) for e in members), f"{group}: no bodyweight option"
    assert any(e.possible_with({"dumbbell"}) and "dumbbell" in e.equipment for e in members), (
        f"{group}: no dumbbell option"
    )


def test_endurance_sessions_cover_every_zone_of_both_sports(library):
    for sport in SPORTS:
        zones = {t.zone for t in library.endurance_types(sport=sport)}
        assert zones == {1, 2, 3, 4, 5}, sport
        assert library.endurance_types(sport=sport, structure="long")
    for t in library.endurance_sessions:
        assert t.structure in STRUCTURES and 0 < t.min_minutes <= t.max_minutes


def test_lookups_by_slug_group_and_pattern(library):
    assert library.get("nope") is None
    with pytest.raises(KeyError):
        library.exercise("nope")
    assert library.reference_for("squat").slug == "back-squat"
    assert library.reference_for("horizontal-press").slug == "bench-press"
    assert {e.pattern for e in library.by_pattern("hinge")} == {"hinge"}
    assert library.exercise("goblet-squat") in library.group("squat")
    home = library.available({"dumbbell"})
    assert all(e.equipment <= {"dumbbell", "bodyweight"} for e in home)
    assert library.exercise("push-up") in home and library.exercise("back-squat") not in home


def test_an_exercise_needs_all_of_its_equipment_and_bodyweight_is_free(library):
    bss = library.exercise("bulgarian-split-squat")
    assert not bss.possible_with({"dumbbell"})
    assert bss.possible_with({"dumbbell", "bench"})
    assert bss.missing_equipment({"dumbbell"}) == ("bench",)
    assert library.exercise("push-up").possible_with(set())


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_row(), _row()], r"exercises\[1\] \('back-squat'\): duplicate slug"),
        (
            [_row(equipment=["barbell", "dumbells"])],
            r"exercises\[0\].*unknown equipment 'dumbells'",
        ),
        ([_row(pattern="lunge")], r"exercises\[0\].*unknown pattern 'lunge'"),
        ([_row(slug="back squat")], r"exercises\[0\].*slug must be"),
        ([_row(fatigue=4)], r"fatigue"),
        ([_row(reference=False, e1rm_ratio=0.9)], r"no reference lift"),
        ([_row(substitution_group="")], r"need a substitution_group"),
        (
            [_row(), _row(slug="front-squat", name="Front squat")],
            r"exercises\[1\] \('front-squat'\).*already has a reference",
        ),
        ([_row(reference=False, e1rm_ratio=None, loadable=False, dose_unit="s")], "default_dose"),
    ],
)
def test_bad_rows_raise_naming_the_row(rows, message):
    with pytest.raises(ValueError, match=message):
        Library.from_rows(exercises=rows)


def test_bad_endurance_rows_raise_naming_the_row():
    bad = {"slug": "run-x", "name": "X", "sport": "swim", "zone": 2, "structure": "continuous"}
    with pytest.raises(ValueError, match=r"endurance_sessions\[0\] \('run-x'\): sport"):
        Library.from_rows(exercises=[_row()], endurance_sessions=[bad])


def test_a_tenants_own_row_may_leave_group_equipment_and_muscles_empty():
    row = _row(
        slug="my_sled_pull",
        substitution_group="",
        equipment=[],
        primary_muscles=[],
        reference=False,
        e1rm_ratio=None,
    )
    library = Library.from_rows(exercises=[_row(), row])
    mine = library.exercise("my_sled_pull")
    assert mine.possible_with(set()) and library.groups() == ("squat",)


def test_load_library_reads_a_given_path(tmp_path):
    path = tmp_path / "lib.json"
    path.write_text(json.dumps({"exercises": [_row()], "endurance_sessions": []}))
    library = load_library(path)
    assert len(library) == 1 and library.exercise("back-squat").reference
    path.write_text(json.dumps({"exercises": [_row(), _row()]}))
    with pytest.raises(ValueError, match="duplicate slug"):
        load_library(path)
