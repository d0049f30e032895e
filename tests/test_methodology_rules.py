"""The methodology rules document (docs/methodology-rules.md): the validator's defaults
and errors, the version diff, the version services, and the database refusing to change
a published version."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from coaching import services
from coaching.methodology import (
    AUTOREGULATION_RULES,
    DEFAULT_RULES,
    ENDURANCE_MODELS,
    MODEL_PARAMS,
    ROOT,
    STRENGTH_MODELS,
    RuleChange,
    RulesInvalid,
    default_rules,
    rules_diff,
    validate_rules,
)
from coaching.models import PRODUCT_AUTONOMY, MethodologyVersion, Tier
from coaching.tenancy import tenant_context

CONTRACT = Path(__file__).resolve().parent.parent / "docs" / "methodology-rules.md"
SESSION = {"name": "Day A", "slots": [{"exercise": "back-squat", "role": "main"}]}


def _strength(**sections) -> dict:
    return {"discipline": "strength", "sessions": [copy.deepcopy(SESSION)], **sections}


def _errors(document) -> dict[str, list[str]]:
    with pytest.raises(RulesInvalid) as caught:
        validate_rules(document)
    return caught.value.errors


# --- defaults ---------------------------------------------------------------------


@pytest.mark.parametrize("discipline", ["strength", "endurance"])
def test_default_rules_validate_to_themselves(discipline):
    # given the default document of a discipline
    document = default_rules(discipline)
    # when it is validated
    validated = validate_rules(document)
    # then it passes unchanged: the defaults are already normalised
    assert validated == DEFAULT_RULES[discipline] == document
    assert validated["discipline"] == discipline


def test_the_contracts_example_document_is_valid():
    # given the example in docs/methodology-rules.md, verbatim
    example = json.loads(re.search(r"```json\n(.*?)```", CONTRACT.read_text(), re.S).group(1))
    # when it is validated
    validated = validate_rules(example)
    # then it passes and keeps what the coach wrote
    assert validated["guardrails"]["frozen_weeks"] == ["2027-03-01"]
    assert validated["guardrails"]["protected_exercises"] == ["back-squat"]
    assert validated["sessions"][0]["slots"][2] == {
        "pattern": "pull",
        "role": "accessory",
        "sets": 3,
        "reps": 10,
        "rpe": 7.5,
    }
    assert [rule["name"] for rule in validated["autoregulation"]["rules"]] == list(
        AUTOREGULATION_RULES
    )


def test_a_minimal_strength_document_gets_every_default():
    # given only a discipline and one session
    validated = validate_rules(_strength())
    # then every section is filled with the contract's defaults
    assert validated["schema_version"] == 1
    assert validated["progression"] == {
        "model": "linear",
        "plate_increment_kg": 2.5,
        "params": {"sets": 3, "reps": 5, "start_rpe": 7.5, "load_step_kg": 2.5},
    }
    assert validated["block"] == {
        "weeks": 4,
        "deload": {
            "rule": "fixed",
            "every_n_weeks": 4,
            "volume_percent": -40,
            "intensity_percent": 0,
        },
        "week_volume_multipliers": None,
    }
    assert validated["readiness"]["weights"] == {
        "hrv": 0.35,
        "sleep": 0.25,
        "soreness": 0.15,
        "stress": 0.15,
        "rpe_deviation": 0.10,
    }
    assert validated["guardrails"] == {
        "max_load_change_session_percent": 10,
        "max_load_change_week_percent": 15,
        "intensity_floor_1rm": 0.5,
        "intensity_ceiling_1rm": 0.95,
        "zone_floor": 1,
        "zone_ceiling": 5,
        "frozen_weeks": [],
        "protected_exercises": [],
        "max_weekly_volume_change_percent": 20,
    }
    assert validated["nutrition"] == {
        "protein_g_per_kg": 1.8,
        "fat_fraction": 0.25,
        "carb_periodisation": True,
        "diet_styles": ["omnivore", "vegetarian", "vegan", "pescatarian"],
    }
    assert (
        validated["autoregulation"]["rules"] == DEFAULT_RULES["strength"]["autoregulation"]["rules"]
    )


def test_autoregulation_defaults_follow_science_section_3():
    rules = {rule["name"]: rule for rule in DEFAULT_RULES["strength"]["autoregulation"]["rules"]}
    # Velocity rules need a device: off until the coach turns them on. The rest ship on.
    assert [name for name, rule in rules.items() if not rule["enabled"]] == ["velocity"]
    assert {name for name, rule in rules.items() if rule["alert"]} == {
        "short_sleep_and_low_hrv",
        "acwr_spike",
        "decline_deload",
    }
    assert DEFAULT_RULES["strength"]["autoregulation"]["queue_threshold_percent"] == 5
    assert rules["velocity"]["params"]["velocity_loss_cutoff_percent"] == 20
    assert rules["hrv_low_streak"]["params"] == {
        "days": 3,
        "intensity_percent": -5,
        "volume_percent": -20,
    }
    assert rules["short_sleep"]["params"] == {"hours_below": 6, "intensity_percent": -5}
    assert rules["short_sleep_and_low_hrv"]["params"] == {
        "hours_below": 6,
        "action": "reduce",
        "intensity_percent": -10,
    }
    assert rules["rpe_overshoot"]["params"] == {"rpe_above_target": 1}
    assert rules["acwr_spike"]["params"] == {"above": 1.5, "progression_allowed_below": 0.8}


def test_a_minimal_endurance_document_is_the_endurance_default():
    validated = validate_rules({"discipline": "endurance"})
    assert validated == DEFAULT_RULES["endurance"]
    assert validated["sessions"] == []
    assert validated["progression"]["model"] == "polarised"


@pytest.mark.parametrize("model", STRENGTH_MODELS)
def test_every_strength_model_is_accepted_with_its_defaults(model):
    # given a strength document naming the model and no params
    validated = validate_rules(_strength(progression={"model": model}))
    # then the model's documented defaults are filled in
    expected = {key: field.default for key, field in MODEL_PARAMS[model].items()}
    assert validated["progression"]["params"] == expected


@pytest.mark.parametrize(
    ("model", "zones"),
    [
        ("polarised", {"z1": 0.80, "z2": 0.05, "z3": 0.15}),
        ("pyramidal", {"z1": 0.75, "z2": 0.20, "z3": 0.05}),
        ("threshold", {"z1": 0.60, "z2": 0.35, "z3": 0.05}),
    ],
)
def test_every_endurance_model_is_accepted_with_its_defaults(model, zones):
    validated = validate_rules({"discipline": "endurance", "progression": {"model": model}})
    assert validated["progression"]["params"] == {
        "weekly_minutes": 300,
        "weekly_ramp_percent": 5,
        "zone_distribution": zones,
        "sport": "run",
        "long_session_fraction": 0.30,
    }


def test_model_defaults_per_contract():
    assert validate_rules(_strength(progression={"model": "double_progression"}))["progression"][
        "params"
    ] == {"sets": 3, "rep_range": [8, 12], "rpe": 8, "load_step_kg": 2.5}
    assert validate_rules(_strength(progression={"model": "rpe_top_set_backoff"}))["progression"][
        "params"
    ] == {
        "top_set_reps": 3,
        "top_set_rpe": 8,
        "backoff_sets": 3,
        "backoff_reps": 5,
        "backoff_percent_of_top": 0.90,
    }
    waves = validate_rules(_strength(progression={"model": "percentage_waves"}))
    assert waves["progression"]["params"]["weeks"] == [
        {"sets": 4, "reps": 6, "percent_1rm": 0.75},
        {"sets": 4, "reps": 5, "percent_1rm": 0.80},
        {"sets": 4, "reps": 3, "percent_1rm": 0.85},
    ]


def test_partial_sections_keep_given_values_and_fill_the_rest():
    validated = validate_rules(
        _strength(
            progression={"model": "double_progression", "params": {"rep_range": [6, 10]}},
            guardrails={"intensity_ceiling_1rm": 0.9},
            nutrition={"protein_g_per_kg": 2.2},
        )
    )
    assert validated["progression"]["params"]["rep_range"] == [6, 10]
    assert validated["progression"]["params"]["sets"] == 3
    assert validated["guardrails"]["intensity_ceiling_1rm"] == 0.9
    assert validated["guardrails"]["intensity_floor_1rm"] == 0.5
    assert validated["nutrition"]["protein_g_per_kg"] == 2.2
    assert validated["nutrition"]["fat_fraction"] == 0.25


def test_validation_is_idempotent_and_leaves_the_input_alone():
    document = _strength(autoregulation={"rules": [{"name": "acwr_spike", "enabled": False}]})
    before = copy.deepcopy(document)
    once = validate_rules(document)
    assert document == before
    assert validate_rules(once) == once


def test_default_rules_returns_an_editable_copy():
    mine = default_rules("strength")
    mine["nutrition"]["protein_g_per_kg"] = 2.5
    assert DEFAULT_RULES["strength"]["nutrition"]["protein_g_per_kg"] == 1.8


# --- document-level errors ----------------------------------------------------------


def test_a_document_that_is_not_an_object_is_a_root_error():
    assert _errors(["not", "a", "mapping"]) == {ROOT: ["the rules document must be a JSON object"]}


def test_discipline_is_required_and_must_be_known():
    assert _errors({"sessions": [SESSION]})["discipline"] == [
        "is required: one of strength, endurance"
    ]
    assert _errors({"discipline": "yoga"})["discipline"] == ["must be one of: strength, endurance"]


def test_schema_version_must_be_1():
    assert _errors(_strength(schema_version=2))["schema_version"] == [
        "must be 1 (the only version so far)"
    ]


def test_unknown_keys_are_errors_at_their_own_path():
    errors = _errors(_strength(bar=1, nutrition={"protein_g_per_kg": 2, "bar": True}))
    assert errors["bar"][0].startswith("unknown key 'bar'; known: schema_version, discipline")
    assert errors["nutrition.bar"][0].startswith("unknown key 'bar'")


def test_every_error_is_reported_at_once():
    errors = _errors(
        {
            "discipline": "strength",
            "sessions": [],
            "guardrails": {"zone_floor": 0},
            "nutrition": {"fat_fraction": 0.5},
        }
    )
    assert set(errors) == {"sessions", "guardrails.zone_floor", "nutrition.fat_fraction"}


def test_types_are_checked_not_coerced():
    errors = _errors(
        _strength(
            progression={"params": {"sets": "3", "reps": 4.5}},
            nutrition={"carb_periodisation": "yes", "protein_g_per_kg": True},
            readiness=[],
        )
    )
    assert errors["progression.params.sets"] == ["must be a whole number"]
    assert errors["progression.params.reps"] == ["must be a whole number"]
    assert errors["nutrition.carb_periodisation"] == ["must be true or false"]
    assert errors["nutrition.protein_g_per_kg"] == ["must be a number"]
    assert errors["readiness"] == ["must be an object"]


# --- progression ------------------------------------------------------------------


def test_unknown_model_lists_the_known_ones():
    errors = _errors(_strength(progression={"model": "conjugate"}))
    assert errors["progression.model"] == [
        "unknown model 'conjugate'; known: linear, double_progression, rpe_top_set_backoff, "
        "percentage_waves, polarised, pyramidal, threshold"
    ]


@pytest.mark.parametrize("model", ENDURANCE_MODELS)
def test_strength_needs_a_strength_model(model):
    errors = _errors(_strength(progression={"model": model}))
    assert errors["progression.model"][0].startswith(f"'{model}' is an endurance model")


@pytest.mark.parametrize("model", STRENGTH_MODELS)
def test_endurance_needs_an_endurance_model(model):
    errors = _errors({"discipline": "endurance", "progression": {"model": model}})
    assert errors["progression.model"][0].startswith(f"'{model}' is a strength model")


def test_params_of_another_model_are_unknown_keys():
    errors = _errors(_strength(progression={"model": "linear", "params": {"rep_range": [8, 12]}}))
    assert errors["progression.params.rep_range"] == [
        "unknown key 'rep_range' for the linear model; known: sets, reps, start_rpe, load_step_kg"
    ]


@pytest.mark.parametrize(
    ("rep_range", "path", "message"),
    [
        ([12, 8], "progression.params.rep_range", "low must be below high (got [12, 8])"),
        ([8, 8], "progression.params.rep_range", "low must be below high (got [8, 8])"),
        ([8, 25], "progression.params.rep_range.1", "must be between 1 and 20"),
        (
            [8],
            "progression.params.rep_range",
            "must be two whole numbers [low, high], e.g. [8, 12]",
        ),
    ],
)
def test_double_progression_rep_range(rep_range, path, message):
    errors = _errors(
        _strength(progression={"model": "double_progression", "params": {"rep_range": rep_range}})
    )
    assert errors[path] == [message]


def test_linear_params_ranges():
    errors = _errors(
        _strength(
            progression={
                "plate_increment_kg": 0,
                "params": {"reps": 15, "start_rpe": 7.3, "load_step_kg": -1},
            }
        )
    )
    assert errors["progression.plate_increment_kg"] == ["must be greater than 0 and at most 50"]
    assert errors["progression.params.reps"] == ["must be between 1 and 12"]
    assert errors["progression.params.start_rpe"] == ["must be in steps of 0.5"]
    assert errors["progression.params.load_step_kg"] == ["must be greater than 0 and at most 20"]


def test_top_set_rpe_is_capped_at_9_5():
    errors = _errors(
        _strength(progression={"model": "rpe_top_set_backoff", "params": {"top_set_rpe": 10}})
    )
    assert errors["progression.params.top_set_rpe"] == ["must be between 6.5 and 9.5"]


def test_percentage_waves_check_each_week_and_one_per_build_week():
    low = {"sets": 4, "reps": 5, "percent_1rm": 0.3}
    errors = _errors(
        _strength(progression={"model": "percentage_waves", "params": {"weeks": [low, {}, {}]}})
    )
    assert errors["progression.params.weeks.0.percent_1rm"] == ["must be between 0.4 and 1.0"]
    assert errors["progression.params.weeks.1.sets"] == ["is required"]
    # a 6-week block with a fixed deload every 3 weeks has 4 build weeks
    errors = _errors(
        _strength(
            progression={"model": "percentage_waves"},
            block={"weeks": 6, "deload": {"every_n_weeks": 3}},
        )
    )
    assert errors["progression.params.weeks"] == [
        "needs one entry per build week: 4 for a 6-week block with deload rule 'fixed' (got 3)"
    ]


def test_endurance_zone_distribution_must_sum_to_one_with_every_zone():
    errors = _errors(
        {
            "discipline": "endurance",
            "progression": {
                "model": "pyramidal",
                "params": {"zone_distribution": {"z1": 0.7, "z2": 0.2, "z3": 0.2}},
            },
        }
    )
    assert errors["progression.params.zone_distribution"] == [
        "zone_distribution must sum to 1 (got 1.1)"
    ]
    errors = _errors(
        {"discipline": "endurance", "progression": {"params": {"zone_distribution": {"z1": 1}}}}
    )
    assert errors["progression.params.zone_distribution.z2"][0].startswith("is required")


def test_endurance_params_ranges():
    errors = _errors(
        {
            "discipline": "endurance",
            "progression": {"params": {"weekly_ramp_percent": 20, "sport": "swim"}},
        }
    )
    assert errors["progression.params.weekly_ramp_percent"] == ["must be between 0 and 15"]
    assert errors["progression.params.sport"] == ["must be one of: run, ride"]


# --- sessions ---------------------------------------------------------------------


def test_strength_needs_one_to_seven_sessions():
    assert _errors({"discipline": "strength"})["sessions"] == [
        "is required for a strength methodology (1 to 7 sessions)"
    ]
    assert _errors(_strength(sessions=[SESSION] * 8))["sessions"] == [
        "needs 1 to 7 sessions (got 8)"
    ]


def test_slot_errors_name_their_path():
    errors = _errors(
        _strength(
            sessions=[
                {
                    "name": "Day A",
                    "slots": [
                        {"exercise": "back-squat", "role": "main"},
                        {"pattern": "push", "role": "main"},
                        {"exercise": "bench", "pattern": "press", "role": "main"},
                        {"role": "accessory"},
                        {"exercise": "Back Squat", "role": "main"},
                        {"pattern": "pull", "role": "main", "sets": 5},
                        {"pattern": "core"},
                    ],
                }
            ]
        )
    )
    assert errors["sessions.0.slots.1.pattern"] == [
        "must be one of: squat, hinge, press, pull, single_leg, carry, core, accessory"
    ]
    assert errors["sessions.0.slots.2"] == ["name either an exercise or a pattern, not both"]
    assert errors["sessions.0.slots.3"] == ["name an exercise (library slug) or a movement pattern"]
    assert errors["sessions.0.slots.4.exercise"] == [
        "must be an exercise library slug such as 'back-squat'"
    ]
    assert errors["sessions.0.slots.5.sets"] == [
        "a main slot follows the progression model; sets is for accessory slots"
    ]
    assert errors["sessions.0.slots.6.role"] == ["is required: main, accessory"]
    assert "sessions.0.slots.0" not in errors


def test_accessory_slots_default_to_3_x_10_at_rpe_7_5():
    validated = validate_rules(
        _strength(sessions=[{"name": "A", "slots": [{"pattern": "carry", "role": "accessory"}]}])
    )
    assert validated["sessions"][0]["slots"] == [
        {"pattern": "carry", "role": "accessory", "sets": 3, "reps": 10, "rpe": 7.5}
    ]


def test_session_needs_a_name_and_slots():
    errors = _errors(_strength(sessions=[{"slots": []}, {"name": "B"}]))
    assert errors["sessions.0.name"] == ["is required"]
    assert errors["sessions.0.slots"] == ["needs 1 to 12 slots (got 0)"]
    assert errors["sessions.1.slots"] == ["is required"]


def test_endurance_takes_no_sessions():
    errors = _errors({"discipline": "endurance", "sessions": [SESSION]})
    assert errors["sessions"][0].startswith("sessions are for strength methodologies")


# --- block ------------------------------------------------------------------------


def test_block_ranges():
    errors = _errors(
        _strength(
            block={
                "weeks": 9,
                "deload": {"rule": "sometimes", "volume_percent": -90, "intensity_percent": 5},
            }
        )
    )
    assert errors["block.weeks"] == ["must be between 2 and 8"]
    assert errors["block.deload.rule"] == ["must be one of: fixed, triggered, none"]
    assert errors["block.deload.volume_percent"] == ["must be between -80 and 0"]
    assert errors["block.deload.intensity_percent"] == ["must be between -20 and 0"]


def test_week_volume_multipliers_one_per_week_within_range():
    errors = _errors(_strength(block={"weeks": 4, "week_volume_multipliers": [1.0, 1.1, 1.2]}))
    assert errors["block.week_volume_multipliers"] == ["needs one value per week: 4 (got 3)"]
    errors = _errors(_strength(block={"weeks": 2, "week_volume_multipliers": [1.0, 2.0]}))
    assert errors["block.week_volume_multipliers.1"] == ["must be between 0.3 and 1.5"]


def test_fixed_deload_defaults_to_the_last_week_and_must_fall_inside_the_block():
    validated = validate_rules(_strength(block={"weeks": 6}))
    assert validated["block"]["deload"]["every_n_weeks"] == 6
    errors = _errors(_strength(block={"weeks": 3, "deload": {"every_n_weeks": 4}}))
    assert errors["block.deload.every_n_weeks"] == [
        "must be at most the block's 3 weeks, or the block has no deload week"
    ]
    # a triggered deload has no planned week, so the cadence is not checked against it
    validate_rules(
        _strength(block={"weeks": 3, "deload": {"rule": "triggered", "every_n_weeks": 4}})
    )


# --- readiness and autoregulation ---------------------------------------------------


def test_readiness_weights_must_sum_to_one():
    weights = {"hrv": 0.3, "sleep": 0.25, "soreness": 0.15, "stress": 0.1, "rpe_deviation": 0.1}
    errors = _errors(_strength(readiness={"weights": weights}))
    assert errors["readiness.weights"] == ["weights must sum to 1 (got 0.9)"]


def test_readiness_weights_within_tolerance_pass_and_need_all_five_keys():
    weights = {"hrv": 0.355, "sleep": 0.25, "soreness": 0.15, "stress": 0.15, "rpe_deviation": 0.1}
    assert validate_rules(_strength(readiness={"weights": weights}))["readiness"]["weights"] == (
        weights
    )
    errors = _errors(_strength(readiness={"weights": {"hrv": 1.0, "mood": 0}}))
    assert errors["readiness.weights.mood"][0].startswith("unknown key 'mood'")
    assert errors["readiness.weights.sleep"] == [
        "is required: give all of hrv, sleep, soreness, stress, rpe_deviation when you set weights"
    ]
    errors = _errors(
        _strength(
            readiness={
                "weights": {
                    "hrv": 1.1,
                    "sleep": -0.1,
                    "soreness": 0,
                    "stress": 0,
                    "rpe_deviation": 0,
                }
            }
        )
    )
    assert errors["readiness.weights.sleep"] == ["must be between 0.0 and 1.0"]


def test_unknown_autoregulation_rule_lists_the_known_ones():
    errors = _errors(_strength(autoregulation={"rules": [{"name": "foo"}]}))
    assert errors["autoregulation.rules.0.name"] == [
        "unknown rule 'foo'; known: hrv_low_streak, short_sleep, short_sleep_and_low_hrv, "
        "rpe_overshoot, acwr_spike, decline_deload, velocity"
    ]


def test_autoregulation_rules_are_completed_in_canonical_order():
    # given a document that disables one rule and tunes another, listed out of order
    validated = validate_rules(
        _strength(
            autoregulation={
                "rules": [
                    {"name": "acwr_spike", "enabled": False},
                    {"name": "hrv_low_streak", "params": {"days": 5}},
                ]
            }
        )
    )
    rules = validated["autoregulation"]["rules"]
    # then all five are present in canonical order, the rest with defaults, enabled
    assert [rule["name"] for rule in rules] == list(AUTOREGULATION_RULES)
    assert rules[0]["params"] == {"days": 5, "intensity_percent": -5, "volume_percent": -20}
    assert rules[0]["enabled"] is True
    assert rules[4]["enabled"] is False
    assert rules[1] == {
        "name": "short_sleep",
        "enabled": True,
        "alert": False,
        "params": {"hours_below": 6, "intensity_percent": -5},
    }


def test_autoregulation_rule_errors():
    errors = _errors(
        _strength(
            autoregulation={
                "rules": [
                    {"name": "short_sleep"},
                    {"name": "short_sleep"},
                    {"name": "short_sleep_and_low_hrv", "params": {"action": "panic"}},
                    {
                        "name": "acwr_spike",
                        "params": {"above": 1.0, "progression_allowed_below": 1.0},
                    },
                    {"name": "rpe_overshoot", "params": {"rpe_below_target": 1}, "enabled": "on"},
                ]
            }
        )
    )
    assert errors["autoregulation.rules.1.name"] == [
        "duplicate rule 'short_sleep'; each rule appears once"
    ]
    assert errors["autoregulation.rules.2.params.action"] == ["must be one of: reduce, substitute"]
    assert errors["autoregulation.rules.3.params.progression_allowed_below"] == [
        "must be below 'above' (1.0)"
    ]
    assert errors["autoregulation.rules.4.params.rpe_below_target"][0].startswith(
        "unknown key 'rpe_below_target' for rule 'rpe_overshoot'; known: rpe_above_target"
    )
    assert errors["autoregulation.rules.4.enabled"] == ["must be true or false"]


# --- guardrails and nutrition -------------------------------------------------------


def test_intensity_floor_and_ceiling():
    errors = _errors(_strength(guardrails={"intensity_floor_1rm": 0.2}))
    assert errors["guardrails.intensity_floor_1rm"] == ["must be between 0.3 and 1.0"]
    errors = _errors(
        _strength(guardrails={"intensity_floor_1rm": 0.9, "intensity_ceiling_1rm": 0.85})
    )
    assert errors["guardrails.intensity_floor_1rm"] == [
        "must be below intensity_ceiling_1rm (0.85)"
    ]


def test_zone_floor_at_most_ceiling_within_1_to_5():
    errors = _errors(_strength(guardrails={"zone_floor": 4, "zone_ceiling": 3}))
    assert errors["guardrails.zone_floor"] == ["must be at most zone_ceiling (3)"]
    assert _errors(_strength(guardrails={"zone_ceiling": 6}))["guardrails.zone_ceiling"] == [
        "must be between 1 and 5"
    ]
    assert validate_rules(_strength(guardrails={"zone_floor": 3, "zone_ceiling": 3}))


def test_frozen_weeks_are_iso_mondays_and_protected_exercises_slugs():
    errors = _errors(
        _strength(
            guardrails={
                "frozen_weeks": ["2027-03-02", "March 1st", "2027-03-01", "2027-03-01"],
                "protected_exercises": ["back-squat", "back-squat", "Bench Press"],
            }
        )
    )
    assert errors["guardrails.frozen_weeks.0"] == [
        "2027-03-02 is a Tuesday; give the Monday of the week (2027-03-01)"
    ]
    assert errors["guardrails.frozen_weeks.1"] == ["must be an ISO date such as '2027-03-01'"]
    assert errors["guardrails.frozen_weeks.3"] == ["duplicate '2027-03-01'; list each once"]
    assert errors["guardrails.protected_exercises.1"] == ["duplicate 'back-squat'; list each once"]
    assert errors["guardrails.protected_exercises.2"] == [
        "must be an exercise library slug such as 'back-squat'"
    ]


def test_nutrition_ranges_and_diet_styles():
    errors = _errors(
        _strength(nutrition={"protein_g_per_kg": 3.5, "fat_fraction": 0.1, "diet_styles": []})
    )
    assert errors["nutrition.protein_g_per_kg"] == ["must be between 1.2 and 3.1"]
    assert errors["nutrition.fat_fraction"] == ["must be between 0.2 and 0.4"]
    assert errors["nutrition.diet_styles"] == ["must not be empty"]
    errors = _errors(_strength(nutrition={"diet_styles": ["vegan", "carnivore"]}))
    assert errors["nutrition.diet_styles.1"] == [
        "must be one of: omnivore, vegetarian, vegan, pescatarian, keto, paleo"
    ]
    assert validate_rules(_strength(nutrition={"diet_styles": ["keto"]}))["nutrition"][
        "diet_styles"
    ] == ["keto"]


# --- diff -------------------------------------------------------------------------


def test_identical_documents_have_no_changes():
    assert rules_diff(DEFAULT_RULES["strength"], default_rules("strength")) == []


def test_diff_lists_changed_leaves_by_path():
    # given a copy with a few leaves changed
    old = default_rules("strength")
    new = copy.deepcopy(old)
    new["progression"]["params"]["reps"] = 3
    new["readiness"]["weights"]["hrv"] = 0.30
    new["readiness"]["weights"]["sleep"] = 0.30
    new["sessions"][0]["slots"][1]["pattern"] = "pull"
    new["nutrition"]["diet_styles"] = ["omnivore"]
    # when diffed
    changes = rules_diff(old, new)
    # then each changed leaf appears once (sorted by path), scalar lists whole, object
    # lists by position
    assert changes == [
        RuleChange(
            "nutrition.diet_styles",
            ["omnivore", "vegetarian", "vegan", "pescatarian"],
            ["omnivore"],
        ),
        RuleChange("progression.params.reps", 5, 3),
        RuleChange("readiness.weights.hrv", 0.35, 0.30),
        RuleChange("readiness.weights.sleep", 0.25, 0.30),
        RuleChange("sessions.0.slots.1.pattern", "press", "pull"),
    ]


def test_diff_order_does_not_depend_on_key_order():
    # a document read back from jsonb has its keys reordered
    old = default_rules("strength")
    new = copy.deepcopy(old)
    new["guardrails"]["zone_ceiling"] = 4
    new["block"]["weeks"] = 6
    shuffled = {key: new[key] for key in reversed(list(new))}
    assert rules_diff(old, new) == rules_diff(old, shuffled)
    assert [change.path for change in rules_diff(old, shuffled)] == [
        "block.weeks",
        "guardrails.zone_ceiling",
    ]


def test_diff_reports_added_and_removed_keys_and_positions_whole():
    old = validate_rules(_strength())
    new = validate_rules(
        _strength(
            progression={"model": "double_progression"},
            sessions=[SESSION, {"name": "Day B", "slots": [{"pattern": "hinge", "role": "main"}]}],
        )
    )
    changes = {change.path: change for change in rules_diff(old, new)}
    assert changes["progression.model"] == RuleChange(
        "progression.model", "linear", "double_progression"
    )
    assert changes["progression.params.rep_range"] == RuleChange(
        "progression.params.rep_range", None, [8, 12]
    )
    assert changes["progression.params.reps"] == RuleChange("progression.params.reps", 5, None)
    assert changes["sessions.1"].before is None
    assert changes["sessions.1"].after["name"] == "Day B"


# --- services ---------------------------------------------------------------------


def _methodology(tenant, *, slug="strength-basics", discipline="strength"):
    with tenant_context(tenant):
        return services.methodology_create(name=slug.title(), slug=slug, discipline=discipline)


def test_first_draft_starts_from_the_disciplines_defaults(tenant_a, coach_a):
    methodology = _methodology(tenant_a)
    with tenant_context(tenant_a):
        # when a coach creates a draft without rules
        version = services.version_draft_create(methodology=methodology, created_by=coach_a)
        # then it is version 1 holding the strength defaults
        version.refresh_from_db()
        assert (version.number, version.status, version.created_by_id) == (1, "draft", coach_a.pk)
        assert version.rules == DEFAULT_RULES["strength"]
        assert version.published_at is None


def test_draft_publish_then_immutable_and_the_next_draft_copies_the_rules(tenant_a):
    methodology = _methodology(tenant_a)
    with tenant_context(tenant_a):
        # given a draft with edited rules, published
        draft = services.version_draft_create(
            methodology=methodology, rules=_strength(nutrition={"protein_g_per_kg": 2.0})
        )
        published = services.version_publish(version=draft)
        assert published.status == "published" and published.published_at is not None
        # when anyone tries to change it, or publish it again
        with pytest.raises(services.VersionPublished) as caught:
            services.version_draft_update(version=published, notes="typo")
        assert caught.value.code == "version_published" and caught.value.status == 409
        with pytest.raises(services.VersionPublished):
            services.version_publish(version=published)
        # then it is unchanged, and the next draft starts from its rules
        published.refresh_from_db()
        assert published.notes == ""
        second = services.version_draft_create(methodology=methodology, notes="Heavier")
        assert second.number == 2
        assert second.rules == published.rules
        assert second.rules["nutrition"]["protein_g_per_kg"] == 2.0


def test_one_draft_at_a_time(tenant_a):
    methodology = _methodology(tenant_a)
    with tenant_context(tenant_a):
        services.version_draft_create(methodology=methodology)
        with pytest.raises(services.DraftExists) as caught:
            services.version_draft_create(methodology=methodology)
        assert caught.value.code == "draft_exists"
        assert MethodologyVersion.objects.filter(methodology=methodology).count() == 1


def test_invalid_rules_are_refused_with_path_errors_and_nothing_is_stored(tenant_a):
    methodology = _methodology(tenant_a)
    with tenant_context(tenant_a):
        bad = _strength(readiness={"weights": {"hrv": 1}}, guardrails={"zone_floor": 9})
        with pytest.raises(services.RulesDocumentInvalid) as caught:
            services.version_draft_create(methodology=methodology, rules=bad)
        assert caught.value.code == "rules_invalid" and caught.value.status == 400
        assert "readiness.weights.sleep" in caught.value.fields
        assert caught.value.fields["guardrails.zone_floor"] == ["must be between 1 and 5"]
        assert not MethodologyVersion.objects.exists()


def test_rules_must_match_the_methodologys_discipline(tenant_a):
    methodology = _methodology(tenant_a, slug="runs", discipline="endurance")
    with tenant_context(tenant_a):
        with pytest.raises(services.RulesDocumentInvalid) as caught:
            services.version_draft_create(methodology=methodology, rules=_strength())
        assert caught.value.fields["discipline"] == ["must be 'endurance', the discipline of Runs"]
        # a document without a discipline takes the methodology's
        version = services.version_draft_create(
            methodology=methodology, rules={"progression": {"model": "threshold"}}
        )
        assert version.rules["discipline"] == "endurance"
        assert version.rules["progression"]["params"]["zone_distribution"]["z2"] == 0.35


def test_draft_update_validates_and_stores_the_normalised_document(tenant_a):
    methodology = _methodology(tenant_a)
    with tenant_context(tenant_a):
        draft = services.version_draft_create(methodology=methodology)
        updated = services.version_draft_update(
            version=draft, rules=_strength(block={"weeks": 6}), notes="Six-week blocks"
        )
        updated.refresh_from_db()
        assert updated.rules["block"]["weeks"] == 6
        assert updated.rules["block"]["deload"]["every_n_weeks"] == 6
        assert updated.notes == "Six-week blocks"
        with pytest.raises(services.RulesDocumentInvalid):
            services.version_draft_update(version=draft, rules=_strength(block={"weeks": 1}))
        draft.refresh_from_db()
        assert draft.rules["block"]["weeks"] == 6


def test_diff_between_published_versions_shows_changed_leaves(tenant_a):
    methodology = _methodology(tenant_a)
    with tenant_context(tenant_a):
        first = services.version_publish(
            version=services.version_draft_create(methodology=methodology)
        )
        rules = copy.deepcopy(first.rules)
        rules["guardrails"]["max_load_change_session_percent"] = 7.5
        second = services.version_publish(
            version=services.version_draft_create(methodology=methodology, rules=rules)
        )
        assert rules_diff(first.rules, second.rules) == [
            RuleChange("guardrails.max_load_change_session_percent", 10, 7.5)
        ]


def test_methodology_slug_is_unique_per_tenant_only(tenant_a, tenant_b):
    _methodology(tenant_a)
    with tenant_context(tenant_a), pytest.raises(services.SlugTaken) as caught:
        services.methodology_create(name="Again", slug="strength-basics", discipline="strength")
    assert caught.value.code == "slug_taken" and caught.value.status == 409
    assert _methodology(tenant_b).slug == "strength-basics"


def _published(tenant, **kwargs):
    methodology = _methodology(tenant, **kwargs)
    with tenant_context(tenant):
        services.version_publish(version=services.version_draft_create(methodology=methodology))
    return methodology


def test_tier_currency_defaults_to_the_tenants(tenant_a):
    methodology = _published(tenant_a)
    with tenant_context(tenant_a):
        tier = services.tier_create(
            methodology=methodology,
            name="Hybrid",
            slug="hybrid",
            price=Decimal("79.00"),
            autonomy=PRODUCT_AUTONOMY["hybrid"],
            checkin_cadence_days=30,
            features=["Monthly check-in"],
        )
        tier.refresh_from_db()
    assert (tier.currency, tier.autonomy, tier.interval) == ("EUR", "queue", "month")
    assert tier.features == ["Monthly check-in"]


def test_product_names_map_to_autonomy_levels():
    assert PRODUCT_AUTONOMY == {"diy": "auto", "hybrid": "queue", "premium": "approve"}
    assert set(PRODUCT_AUTONOMY.values()) == set(Tier.Autonomy.values)


def test_an_active_tier_needs_a_published_version(tenant_a):
    methodology = _methodology(tenant_a)
    with tenant_context(tenant_a):
        services.version_draft_create(methodology=methodology)
        kwargs = {
            "methodology": methodology,
            "name": "DIY",
            "price": Decimal("19"),
            "autonomy": "auto",
        }
        with pytest.raises(services.MethodologyUnpublished) as caught:
            services.tier_create(slug="diy", **kwargs)
        assert caught.value.code == "methodology_unpublished"
        hidden = services.tier_create(slug="diy", is_active=False, **kwargs)
        with pytest.raises(services.MethodologyUnpublished):
            services.tier_update(tier=hidden, is_active=True)


def test_tier_update_and_its_validation(tenant_a):
    methodology = _published(tenant_a)
    with tenant_context(tenant_a):
        tier = services.tier_create(
            methodology=methodology, name="DIY", slug="diy", price=Decimal("19"), autonomy="auto"
        )
        services.tier_create(
            methodology=methodology,
            name="Premium",
            slug="premium",
            price=Decimal("199"),
            autonomy="approve",
        )
        updated = services.tier_update(tier=tier, price=Decimal("24.50"), sort_order=2)
        assert (updated.price, updated.sort_order) == (Decimal("24.50"), 2)
        with pytest.raises(ValidationError) as caught:
            services.tier_update(tier=tier, price=Decimal("-1"))
        assert "price" in caught.value.message_dict
        with pytest.raises(services.SlugTaken):
            services.tier_update(tier=tier, slug="premium")
        tier.refresh_from_db()
        assert (tier.price, tier.slug) == (Decimal("24.50"), "diy")


# --- the database keeps published versions as they are ---------------------------------


def _raw(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def test_database_refuses_to_change_a_published_versions_rules(tenant_a):
    methodology = _methodology(tenant_a)
    with tenant_context(tenant_a):
        draft = services.version_draft_create(methodology=methodology)
        # given a draft, whose rules raw SQL may change (RLS lets the row be seen)
        with transaction.atomic():
            assert (
                _raw(
                    "UPDATE coaching_methodologyversion SET rules = rules || '{}'::jsonb"
                    " WHERE id = %s",
                    [draft.pk],
                )
                == 1
            )
        published = services.version_publish(version=draft)
        # when raw SQL updates the published version's rules or number
        for assignment in (
            """rules = jsonb_set(rules, '{nutrition,protein_g_per_kg}', '2.5')""",
            "number = 7",
            "status = 'draft', published_at = NULL",
        ):
            with pytest.raises(IntegrityError, match="is published and cannot change"):
                with transaction.atomic():
                    _raw(
                        f"UPDATE coaching_methodologyversion SET {assignment} WHERE id = %s",
                        [published.pk],
                    )
        # then the row is unchanged; clearing the author (user erasure) is still allowed
        with transaction.atomic():
            assert (
                _raw(
                    "UPDATE coaching_methodologyversion SET created_by_id = NULL WHERE id = %s",
                    [published.pk],
                )
                == 1
            )
        published.refresh_from_db()
        assert published.number == 1
        assert published.rules["nutrition"]["protein_g_per_kg"] == 1.8


def test_orm_save_of_a_published_version_is_refused_by_the_database(tenant_a):
    methodology = _methodology(tenant_a)
    with tenant_context(tenant_a):
        published = services.version_publish(
            version=services.version_draft_create(methodology=methodology)
        )
        published.rules["nutrition"]["protein_g_per_kg"] = 2.5
        with pytest.raises(IntegrityError), transaction.atomic():
            published.save(update_fields=["rules"])


def test_the_validator_imports_nothing_of_django():
    # the block engine reads what it returns; both must stay importable without Django
    probe = (
        "import sys, coaching.methodology\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'rest_framework', 'athletes', 'programs', 'nutrition', 'billing'})))\n"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_a_rule_stored_before_the_alert_flag_existed_gets_its_default():
    document = _strength(
        autoregulation={"rules": [{"name": "acwr_spike", "enabled": True, "params": {}}]}
    )
    rules = {r["name"]: r for r in validate_rules(document)["autoregulation"]["rules"]}
    assert rules["acwr_spike"]["alert"] is True
    assert rules["short_sleep"]["alert"] is False
    assert rules["velocity"]["enabled"] is False


def test_rule_flags_must_be_booleans():
    document = _strength(autoregulation={"rules": [{"name": "velocity", "alert": "yes"}]})
    with pytest.raises(RulesInvalid) as caught:
        validate_rules(document)
    assert caught.value.errors == {"autoregulation.rules.0.alert": ["must be true or false"]}
