"""The methodology rules document: defaults, validation and version diff.

This module is the `coaching` side of the contract in docs/methodology-rules.md; the
block engine (`programs.engine.blocks`) reads what `validate_rules` returns. Change the
three together. Pure Python (no Django), so engines and their tests can import it.

Normalised shape (what `validate_rules` returns, and what a version stores):
- every section and every documented field is present, defaults filled in;
- `block.week_volume_multipliers` is `null` when the coach gave none;
- `autoregulation.rules` lists every known rule in canonical order (a rule the coach
  left out gets its defaults; `velocity` is off by default, the rest on); switch one off
  with `"enabled": false`; each rule carries `alert` (queue it for review on hybrid tiers);
- `autoregulation.queue_threshold_percent`: on hybrid tiers, changes up to this size apply
  at once, larger ones wait for the coach;
- a session slot keeps the one of `exercise`/`pattern` it names; accessory slots always
  carry `sets`, `reps` and `rpe`, main slots never do (they follow the progression model);
- endurance documents have `sessions: []`.
Validating a normalised document returns it unchanged.
"""

from __future__ import annotations

import copy
import datetime
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NewType

SCHEMA_VERSION = 1
DISCIPLINES = ("strength", "endurance")
STRENGTH_MODELS = ("linear", "double_progression", "rpe_top_set_backoff", "percentage_waves")
ENDURANCE_MODELS = ("polarised", "pyramidal", "threshold")
PATTERNS = ("squat", "hinge", "press", "pull", "single_leg", "carry", "core", "accessory")
SLOT_ROLES = ("main", "accessory")
DELOAD_RULES = ("fixed", "triggered", "none")
READINESS_KEYS = ("hrv", "sleep", "soreness", "stress", "rpe_deviation")
ZONE_KEYS = ("z1", "z2", "z3")
SPORTS = ("run", "ride")
DIET_STYLES = ("omnivore", "vegetarian", "vegan", "pescatarian", "keto", "paleo")
AUTOREGULATION_RULES = (
    "hrv_low_streak",
    "short_sleep",
    "short_sleep_and_low_hrv",
    "rpe_overshoot",
    "acwr_spike",
    "decline_deload",
    "velocity",
)
#: Rules whose firing is worth a coach's look: on a hybrid tier their changes queue for
#: review whatever their size. A methodology may flip any rule's `alert` flag.
ALERT_LEVEL_RULES = ("short_sleep_and_low_hrv", "acwr_spike", "decline_deload")
#: Velocity-based rules need a velocity device; off unless the coach turns them on.
RULES_OFF_BY_DEFAULT = ("velocity",)
SUM_TOLERANCE = 0.01
MAX_SESSIONS = 7
MAX_SLOTS = 12
#: Where errors about the document as a whole go (the API's usual non-field key).
ROOT = "non_field_errors"

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

#: A rules document that passed `validate_rules`: normalised, defaults filled in.
ValidatedRules = NewType("ValidatedRules", dict)


class RulesInvalid(ValueError):
    """The document breaks the contract. `errors` maps dotted paths to sentences."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        summary = "; ".join(f"{path}: {msg}" for path, msgs in errors.items() for msg in msgs)
        super().__init__(summary)


@dataclass(frozen=True)
class RuleChange:
    """One changed leaf between two documents; `None` on the side where it is absent."""

    path: str
    before: Any
    after: Any


# --- primitive checks ---------------------------------------------------------------

_INVALID = object()
_REQUIRED = object()


class _Errors:
    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> object:
        self.by_path.setdefault(path or ROOT, []).append(message)
        return _INVALID


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _fmt(value: float) -> str:
    if isinstance(value, float):
        return repr(round(value, 4))
    return str(value)


def _known(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names)


def _no_unknown_keys(
    errors: _Errors,
    mapping: Mapping[Any, Any],
    known: tuple[str, ...] | list[str],
    path: str,
    context: str = "",
) -> bool:
    """Report every key outside `known` at its own path; True when there were none."""
    ok = True
    for key in mapping:
        if key not in known:
            where = f" {context}" if context else ""
            errors.add(
                _join(path, str(key)), f"unknown key {key!r}{where}; known: {_known(list(known))}"
            )
            ok = False
    return ok


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


Check = Callable[[_Errors, Any, str], Any]


def number(
    lo: float,
    hi: float,
    *,
    whole: bool = False,
    step: float | None = None,
    above_lo: bool = False,
) -> Check:
    """A number in [lo, hi] (or (lo, hi] with `above_lo`); `whole` for counts."""

    def check(errors: _Errors, value: Any, path: str) -> Any:
        if not _is_number(value):
            return errors.add(path, "must be a whole number" if whole else "must be a number")
        if whole:
            if float(value) != int(value):
                return errors.add(path, "must be a whole number")
            value = int(value)
        if above_lo and not lo < value <= hi:
            return errors.add(path, f"must be greater than {_fmt(lo)} and at most {_fmt(hi)}")
        if not lo <= value <= hi:
            return errors.add(path, f"must be between {_fmt(lo)} and {_fmt(hi)}")
        if step is not None and not math.isclose(value / step, round(value / step)):
            return errors.add(path, f"must be in steps of {_fmt(step)}")
        return value

    return check


def choice(options: tuple[str, ...]) -> Check:
    def check(errors: _Errors, value: Any, path: str) -> Any:
        if not isinstance(value, str) or value not in options:
            return errors.add(path, f"must be one of: {_known(options)}")
        return value

    return check


def boolean(errors: _Errors, value: Any, path: str) -> Any:
    if not isinstance(value, bool):
        return errors.add(path, "must be true or false")
    return value


def slug(errors: _Errors, value: Any, path: str) -> Any:
    if not isinstance(value, str) or len(value) > 80 or not SLUG_RE.match(value):
        return errors.add(path, "must be an exercise library slug such as 'back-squat'")
    return value


def text(max_length: int) -> Check:
    def check(errors: _Errors, value: Any, path: str) -> Any:
        if not isinstance(value, str) or not value.strip():
            return errors.add(path, "must be a non-empty text")
        if len(value) > max_length:
            return errors.add(path, f"must be at most {max_length} characters")
        return value

    return check


def _mapping(errors: _Errors, value: Any, path: str) -> Mapping | None:
    if not isinstance(value, Mapping):
        errors.add(path, "must be an object")
        return None
    return value


def _list(errors: _Errors, value: Any, path: str) -> list | None:
    if not isinstance(value, list):
        errors.add(path, "must be a list")
        return None
    return value


def unique_list(item: Check, *, non_empty: bool = False) -> Check:
    """A list of distinct scalars, each passing `item`."""

    def check(errors: _Errors, value: Any, path: str) -> Any:
        items = _list(errors, value, path)
        if items is None:
            return _INVALID
        if non_empty and not items:
            return errors.add(path, "must not be empty")
        out = []
        for index, entry in enumerate(items):
            checked = item(errors, entry, _join(path, index))
            if checked is _INVALID:
                continue
            if checked in out:
                errors.add(_join(path, index), f"duplicate {checked!r}; list each once")
                continue
            out.append(checked)
        return out if len(out) == len(items) else _INVALID

    return check


def monday(errors: _Errors, value: Any, path: str) -> Any:
    try:
        day = datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None or day.isoformat() != value:
        return errors.add(path, "must be an ISO date such as '2027-03-01'")
    if day.weekday() != 0:
        week_start = day - datetime.timedelta(days=day.weekday())
        return errors.add(
            path,
            f"{value} is a {day.strftime('%A')}; give the Monday of the week "
            f"({week_start.isoformat()})",
        )
    return value


@dataclass(frozen=True)
class Field:
    default: Any
    check: Check
    #: Run an absent value's default through `check` too (nested sections fill their own).
    check_default: bool = False


def _fields(
    errors: _Errors,
    given: Any,
    path: str,
    spec: Mapping[str, Field],
    *,
    context: str = "",
) -> dict[str, Any] | None:
    """Check a mapping against `spec`: unknown keys are errors, absent ones get defaults.

    Returns the normalised mapping, or None when something in it was invalid.
    """
    mapping = _mapping(errors, given, path)
    if mapping is None:
        return None
    out: dict[str, Any] = {}
    ok = _no_unknown_keys(errors, mapping, list(spec), path, context)
    for key, field in spec.items():
        if key in mapping:
            value = field.check(errors, mapping[key], _join(path, key))
        elif field.default is _REQUIRED:
            value = errors.add(_join(path, key), "is required")
        elif field.check_default:
            value = field.check(errors, copy.deepcopy(field.default), _join(path, key))
        else:
            value = copy.deepcopy(field.default)
        if value is _INVALID:
            ok = False
        out[key] = value
    return out if ok else None


def _sub(spec: Mapping[str, Field], *, context: str = "") -> Check:
    def check(errors: _Errors, value: Any, path: str) -> Any:
        result = _fields(errors, value, path, spec, context=context)
        return _INVALID if result is None else result

    return check


def _fractions_summing_to_one(keys: tuple[str, ...], what: str) -> Check:
    """All of `keys` (each 0–1) and nothing else, summing to 1 ± SUM_TOLERANCE."""

    def check(errors: _Errors, value: Any, path: str) -> Any:
        mapping = _mapping(errors, value, path)
        if mapping is None:
            return _INVALID
        ok = _no_unknown_keys(errors, mapping, keys, path)
        out = {}
        for key in keys:
            if key not in mapping:
                errors.add(
                    _join(path, key), f"is required: give all of {_known(keys)} when you set {what}"
                )
                ok = False
                continue
            checked = number(0.0, 1.0)(errors, mapping[key], _join(path, key))
            if checked is _INVALID:
                ok = False
            out[key] = checked
        if not ok:
            return _INVALID
        total = sum(out.values())
        if abs(total - 1) > SUM_TOLERANCE:
            return errors.add(path, f"{what} must sum to 1 (got {_fmt(float(total))})")
        return out

    return check


# --- progression ------------------------------------------------------------------

RPE = number(6.5, 10.0, step=0.5)
SETS = number(1, 10, whole=True)
CHART_REPS = number(1, 12, whole=True)
LOAD_STEP_KG = number(0, 20, above_lo=True)


def _rep_range(errors: _Errors, value: Any, path: str) -> Any:
    items = _list(errors, value, path)
    if items is None:
        return _INVALID
    if len(items) != 2:
        return errors.add(path, "must be two whole numbers [low, high], e.g. [8, 12]")
    low = number(1, 20, whole=True)(errors, items[0], _join(path, 0))
    high = number(1, 20, whole=True)(errors, items[1], _join(path, 1))
    if low is _INVALID or high is _INVALID:
        return _INVALID
    if not low < high:
        return errors.add(path, f"low must be below high (got [{low}, {high}])")
    return [low, high]


_WAVE_WEEK = {
    "sets": Field(_REQUIRED, SETS),
    "reps": Field(_REQUIRED, number(1, 20, whole=True)),
    "percent_1rm": Field(_REQUIRED, number(0.4, 1.0)),
}


def _wave_weeks(errors: _Errors, value: Any, path: str) -> Any:
    items = _list(errors, value, path)
    if items is None:
        return _INVALID
    if not 1 <= len(items) <= 8:
        return errors.add(path, "needs one entry per build week (1 to 8 entries)")
    out = [_fields(errors, item, _join(path, i), _WAVE_WEEK) for i, item in enumerate(items)]
    return _INVALID if any(week is None for week in out) else out


_STRENGTH_PARAMS: dict[str, dict[str, Field]] = {
    "linear": {
        "sets": Field(3, SETS),
        "reps": Field(5, CHART_REPS),
        "start_rpe": Field(7.5, RPE),
        "load_step_kg": Field(2.5, LOAD_STEP_KG),
    },
    "double_progression": {
        "sets": Field(3, SETS),
        "rep_range": Field([8, 12], _rep_range),
        "rpe": Field(8, RPE),
        "load_step_kg": Field(2.5, LOAD_STEP_KG),
    },
    "rpe_top_set_backoff": {
        "top_set_reps": Field(3, CHART_REPS),
        "top_set_rpe": Field(8, number(6.5, 9.5, step=0.5)),
        "backoff_sets": Field(3, number(0, 10, whole=True)),
        "backoff_reps": Field(5, CHART_REPS),
        "backoff_percent_of_top": Field(0.90, number(0.5, 1.0)),
    },
    "percentage_waves": {
        "weeks": Field(
            [
                {"sets": 4, "reps": 6, "percent_1rm": 0.75},
                {"sets": 4, "reps": 5, "percent_1rm": 0.80},
                {"sets": 4, "reps": 3, "percent_1rm": 0.85},
            ],
            _wave_weeks,
        ),
    },
}

_ZONE_DEFAULTS = {
    "polarised": {"z1": 0.80, "z2": 0.05, "z3": 0.15},
    "pyramidal": {"z1": 0.75, "z2": 0.20, "z3": 0.05},
    "threshold": {"z1": 0.60, "z2": 0.35, "z3": 0.05},
}
_ENDURANCE_PARAMS: dict[str, dict[str, Field]] = {
    model: {
        "weekly_minutes": Field(300, number(30, 2400, whole=True)),
        "weekly_ramp_percent": Field(5, number(0, 15)),
        "zone_distribution": Field(
            zones, _fractions_summing_to_one(ZONE_KEYS, "zone_distribution")
        ),
        "sport": Field("run", choice(SPORTS)),
        "long_session_fraction": Field(0.30, number(0.0, 0.5)),
    }
    for model, zones in _ZONE_DEFAULTS.items()
}
MODEL_PARAMS: Mapping[str, Mapping[str, Field]] = MappingProxyType(
    {**_STRENGTH_PARAMS, **_ENDURANCE_PARAMS}
)
DEFAULT_MODEL = {"strength": "linear", "endurance": "polarised"}


def _progression(errors: _Errors, given: Any, path: str, discipline: str | None) -> Any:
    mapping = _mapping(errors, given, path)
    if mapping is None:
        return _INVALID
    ok = _no_unknown_keys(errors, mapping, ("model", "plate_increment_kg", "params"), path)
    plate = number(0, 50, above_lo=True)(
        errors, mapping.get("plate_increment_kg", 2.5), _join(path, "plate_increment_kg")
    )
    model_path = _join(path, "model")
    model = mapping.get("model", DEFAULT_MODEL.get(discipline or ""))
    if model is None:
        return _INVALID  # no model and no discipline to pick one: reported at `discipline`
    if not isinstance(model, str) or model not in MODEL_PARAMS:
        errors.add(model_path, f"unknown model {model!r}; known: {_known(list(MODEL_PARAMS))}")
        model = None
    elif discipline == "strength" and model not in STRENGTH_MODELS:
        errors.add(
            model_path,
            f"{model!r} is an endurance model; a strength methodology needs one of: "
            f"{_known(STRENGTH_MODELS)}",
        )
        model = None
    elif discipline == "endurance" and model not in ENDURANCE_MODELS:
        errors.add(
            model_path,
            f"{model!r} is a strength model; an endurance methodology needs one of: "
            f"{_known(ENDURANCE_MODELS)}",
        )
        model = None
    params = None
    if model is not None:
        params = _fields(
            errors,
            mapping.get("params", {}),
            _join(path, "params"),
            MODEL_PARAMS[model],
            context=f"for the {model} model",
        )
    if not ok or plate is _INVALID or params is None:
        return _INVALID
    return {"model": model, "plate_increment_kg": plate, "params": params}


# --- sessions ---------------------------------------------------------------------

_ACCESSORY_DEFAULTS = {"sets": 3, "reps": 10, "rpe": 7.5}
_ACCESSORY_CHECKS = {
    "sets": SETS,
    "reps": number(1, 30, whole=True),
    "rpe": number(5.0, 10.0, step=0.5),
}
_SLOT_KEYS = ("exercise", "pattern", "role", "sets", "reps", "rpe")


def _slot(errors: _Errors, given: Any, path: str) -> Any:
    mapping = _mapping(errors, given, path)
    if mapping is None:
        return _INVALID
    ok = _no_unknown_keys(errors, mapping, _SLOT_KEYS, path)
    out: dict[str, Any] = {}
    if "exercise" in mapping and "pattern" in mapping:
        errors.add(path, "name either an exercise or a pattern, not both")
        ok = False
    elif "exercise" in mapping:
        out["exercise"] = slug(errors, mapping["exercise"], _join(path, "exercise"))
    elif "pattern" in mapping:
        out["pattern"] = choice(PATTERNS)(errors, mapping["pattern"], _join(path, "pattern"))
    else:
        errors.add(path, "name an exercise (library slug) or a movement pattern")
        ok = False
    role = mapping.get("role", _REQUIRED)
    if role is _REQUIRED:
        out["role"] = errors.add(_join(path, "role"), f"is required: {_known(SLOT_ROLES)}")
    else:
        out["role"] = choice(SLOT_ROLES)(errors, role, _join(path, "role"))
    if out["role"] == "main":
        for key in _ACCESSORY_CHECKS:
            if key in mapping:
                errors.add(
                    _join(path, key),
                    f"a main slot follows the progression model; {key} is for accessory slots",
                )
                ok = False
    elif out["role"] == "accessory":
        for key, check in _ACCESSORY_CHECKS.items():
            value = mapping.get(key, _ACCESSORY_DEFAULTS[key])
            out[key] = check(errors, value, _join(path, key))
    if not ok or any(value is _INVALID for value in out.values()):
        return _INVALID
    return out


def _session(errors: _Errors, given: Any, path: str) -> Any:
    mapping = _mapping(errors, given, path)
    if mapping is None:
        return _INVALID
    ok = _no_unknown_keys(errors, mapping, ("name", "slots"), path)
    name = (
        text(80)(errors, mapping["name"], _join(path, "name"))
        if "name" in mapping
        else errors.add(_join(path, "name"), "is required")
    )
    slots_path = _join(path, "slots")
    slots = _list(errors, mapping["slots"], slots_path) if "slots" in mapping else None
    if "slots" not in mapping:
        errors.add(slots_path, "is required")
    checked: list[Any] = []
    if slots is not None:
        if not 1 <= len(slots) <= MAX_SLOTS:
            errors.add(slots_path, f"needs 1 to {MAX_SLOTS} slots (got {len(slots)})")
            ok = False
        checked = [_slot(errors, slot, _join(slots_path, i)) for i, slot in enumerate(slots)]
    if not ok or name is _INVALID or slots is None or _INVALID in checked:
        return _INVALID
    return {"name": name, "slots": checked}


def _sessions(errors: _Errors, given: Any, path: str, discipline: str | None) -> Any:
    if discipline == "endurance":
        if given is None or given == []:
            return []
        return errors.add(
            path,
            "sessions are for strength methodologies; an endurance plan is built from the "
            "progression model's weekly minutes and zones (leave sessions out or empty)",
        )
    if given is None:
        if discipline == "strength":
            return errors.add(path, "is required for a strength methodology (1 to 7 sessions)")
        return _INVALID
    items = _list(errors, given, path)
    if items is None:
        return _INVALID
    if not 1 <= len(items) <= MAX_SESSIONS:
        return errors.add(path, f"needs 1 to {MAX_SESSIONS} sessions (got {len(items)})")
    out = [_session(errors, item, _join(path, i)) for i, item in enumerate(items)]
    return _INVALID if _INVALID in out else out


# --- block ------------------------------------------------------------------------

_DELOAD = {
    "rule": Field("fixed", choice(DELOAD_RULES)),
    "every_n_weeks": Field(None, number(2, 8, whole=True)),  # None: the block's length
    "volume_percent": Field(-40, number(-80, 0)),
    "intensity_percent": Field(0, number(-20, 0)),
}


def _multipliers(errors: _Errors, value: Any, path: str) -> Any:
    if value is None:
        return None
    items = _list(errors, value, path)
    if items is None:
        return _INVALID
    out = [number(0.3, 1.5)(errors, item, _join(path, i)) for i, item in enumerate(items)]
    return _INVALID if _INVALID in out else out


_BLOCK = {
    "weeks": Field(4, number(2, 8, whole=True)),
    "deload": Field({}, _sub(_DELOAD), check_default=True),
    "week_volume_multipliers": Field(None, _multipliers),
}


def _block(errors: _Errors, given: Any, path: str) -> Any:
    block = _fields(errors, given, path, _BLOCK)
    if block is None:
        return _INVALID
    weeks, deload = block["weeks"], block["deload"]
    if deload["every_n_weeks"] is None:
        deload["every_n_weeks"] = weeks
    elif deload["rule"] == "fixed" and deload["every_n_weeks"] > weeks:
        return errors.add(
            _join(path, "deload.every_n_weeks"),
            f"must be at most the block's {weeks} weeks, or the block has no deload week",
        )
    multipliers = block["week_volume_multipliers"]
    if multipliers is not None and len(multipliers) != weeks:
        return errors.add(
            _join(path, "week_volume_multipliers"),
            f"needs one value per week: {weeks} (got {len(multipliers)})",
        )
    return block


def build_weeks(block: Mapping[str, Any]) -> int:
    """Weeks of a validated block that are not planned deloads."""
    deload = block["deload"]
    if deload["rule"] != "fixed":
        return block["weeks"]
    return block["weeks"] - block["weeks"] // deload["every_n_weeks"]


# --- readiness, autoregulation, guardrails, nutrition -------------------------------

_READINESS = {
    "weights": Field(
        {"hrv": 0.35, "sleep": 0.25, "soreness": 0.15, "stress": 0.15, "rpe_deviation": 0.10},
        _fractions_summing_to_one(READINESS_KEYS, "weights"),
    ),
}

INTENSITY_CUT = number(-50, 0)
SLEEP_HOURS = number(3, 10)
_RULE_PARAMS: dict[str, dict[str, Field]] = {
    "hrv_low_streak": {
        "days": Field(3, number(1, 14, whole=True)),
        "intensity_percent": Field(-5, INTENSITY_CUT),
        "volume_percent": Field(-20, number(-80, 0)),
    },
    "short_sleep": {
        "hours_below": Field(6, SLEEP_HOURS),
        "intensity_percent": Field(-5, INTENSITY_CUT),
    },
    "short_sleep_and_low_hrv": {
        "hours_below": Field(6, SLEEP_HOURS),
        "action": Field("reduce", choice(("reduce", "substitute"))),
        "intensity_percent": Field(-10, INTENSITY_CUT),
    },
    "rpe_overshoot": {
        "rpe_above_target": Field(1, number(0.5, 3.0, step=0.5)),
    },
    "acwr_spike": {
        "above": Field(1.5, number(1.0, 3.0)),
        "progression_allowed_below": Field(0.8, number(0.3, 1.0)),
    },
    "decline_deload": {
        "sessions": Field(3, number(2, 8, whole=True)),
        "decline_percent": Field(2, number(0.5, 20)),
        "readiness_below": Field(45, number(0, 100)),
        "volume_percent": Field(-40, number(-80, 0)),
    },
    "velocity": {
        "micro_progression_percent": Field(1.0, number(0.5, 1.0, step=0.5)),
        "faster_by_m_s": Field(0.03, number(0, 0.3)),
        "velocity_loss_cutoff_percent": Field(20, number(5, 50)),
        "mvt_m_s": Field(0.3, number(0.1, 0.6)),
    },
}
RULE_PARAMS: Mapping[str, Mapping[str, Field]] = MappingProxyType(_RULE_PARAMS)


def _rule_defaults(name: str) -> dict[str, Any]:
    params = {key: copy.deepcopy(field.default) for key, field in _RULE_PARAMS[name].items()}
    return {
        "name": name,
        "enabled": name not in RULES_OFF_BY_DEFAULT,
        "alert": name in ALERT_LEVEL_RULES,
        "params": params,
    }


def _rule(errors: _Errors, given: Any, path: str) -> Any:
    mapping = _mapping(errors, given, path)
    if mapping is None:
        return _INVALID
    ok = _no_unknown_keys(errors, mapping, ("name", "enabled", "alert", "params"), path)
    name = mapping.get("name")
    if "name" not in mapping:
        errors.add(_join(path, "name"), f"is required; known: {_known(AUTOREGULATION_RULES)}")
        return _INVALID
    if not isinstance(name, str) or name not in _RULE_PARAMS:
        errors.add(
            _join(path, "name"), f"unknown rule {name!r}; known: {_known(AUTOREGULATION_RULES)}"
        )
        return _INVALID
    defaults = _rule_defaults(name)
    enabled = boolean(errors, mapping.get("enabled", defaults["enabled"]), _join(path, "enabled"))
    alert = boolean(errors, mapping.get("alert", defaults["alert"]), _join(path, "alert"))
    params = _fields(
        errors,
        mapping.get("params", {}),
        _join(path, "params"),
        _RULE_PARAMS[name],
        context=f"for rule {name!r}",
    )
    if params is not None and name == "acwr_spike":
        if not params["progression_allowed_below"] < params["above"]:
            params = errors.add(
                _join(path, "params.progression_allowed_below"),
                f"must be below 'above' ({_fmt(params['above'])})",
            )
    if not ok or _INVALID in (enabled, alert) or params is None or params is _INVALID:
        return _INVALID
    return {"name": name, "enabled": enabled, "alert": alert, "params": params}


def _autoregulation_rules(errors: _Errors, value: Any, path: str) -> Any:
    items = _list(errors, value, path)
    if items is None:
        return _INVALID
    by_name: dict[str, Any] = {}
    ok = True
    for index, item in enumerate(items):
        rule = _rule(errors, item, _join(path, index))
        if rule is _INVALID:
            ok = False
        elif rule["name"] in by_name:
            errors.add(
                _join(path, f"{index}.name"),
                f"duplicate rule {rule['name']!r}; each rule appears once",
            )
            ok = False
        else:
            by_name[rule["name"]] = rule
    if not ok:
        return _INVALID
    return [by_name.get(name) or _rule_defaults(name) for name in AUTOREGULATION_RULES]


_AUTOREGULATION = {
    "rules": Field([_rule_defaults(name) for name in AUTOREGULATION_RULES], _autoregulation_rules),
    "queue_threshold_percent": Field(5, number(0, 50)),
}

UNIT_1RM = number(0.3, 1.0)
ZONE = number(1, 5, whole=True)
_GUARDRAILS = {
    "max_load_change_session_percent": Field(10, number(0, 50)),
    "max_load_change_week_percent": Field(15, number(0, 50)),
    "intensity_floor_1rm": Field(0.5, UNIT_1RM),
    "intensity_ceiling_1rm": Field(0.95, UNIT_1RM),
    "zone_floor": Field(1, ZONE),
    "zone_ceiling": Field(5, ZONE),
    "frozen_weeks": Field([], unique_list(monday)),
    "protected_exercises": Field([], unique_list(slug)),
    "max_weekly_volume_change_percent": Field(20, number(0, 100)),
}


def _guardrails(errors: _Errors, given: Any, path: str) -> Any:
    rails = _fields(errors, given, path, _GUARDRAILS)
    if rails is None:
        return _INVALID
    ok = True
    if not rails["intensity_floor_1rm"] < rails["intensity_ceiling_1rm"]:
        errors.add(
            _join(path, "intensity_floor_1rm"),
            f"must be below intensity_ceiling_1rm ({_fmt(rails['intensity_ceiling_1rm'])})",
        )
        ok = False
    if not rails["zone_floor"] <= rails["zone_ceiling"]:
        errors.add(
            _join(path, "zone_floor"),
            f"must be at most zone_ceiling ({rails['zone_ceiling']})",
        )
        ok = False
    return rails if ok else _INVALID


_NUTRITION = {
    "protein_g_per_kg": Field(1.8, number(1.2, 3.1)),
    "fat_fraction": Field(0.25, number(0.2, 0.4)),
    "carb_periodisation": Field(True, boolean),
    "diet_styles": Field(
        ["omnivore", "vegetarian", "vegan", "pescatarian"],
        unique_list(choice(DIET_STYLES), non_empty=True),
    ),
}

# --- the document -----------------------------------------------------------------

TOP_LEVEL_KEYS = (
    "schema_version",
    "discipline",
    "progression",
    "sessions",
    "block",
    "readiness",
    "autoregulation",
    "guardrails",
    "nutrition",
)


def validate_rules(document: Mapping[str, Any]) -> ValidatedRules:
    """The normalised document (defaults filled in), or `RulesInvalid` with every error.

    Error keys are dotted paths into the document as given (`sessions.0.slots.1.pattern`,
    list positions counted from 0); errors about the document as a whole go under `ROOT`.
    """
    errors = _Errors()
    if not isinstance(document, Mapping):
        errors.add(ROOT, "the rules document must be a JSON object")
        raise RulesInvalid(errors.by_path)
    _no_unknown_keys(errors, document, TOP_LEVEL_KEYS, "")

    version = document.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        errors.add("schema_version", f"must be {SCHEMA_VERSION} (the only version so far)")
    discipline = document.get("discipline")
    if "discipline" not in document:
        errors.add("discipline", f"is required: one of {_known(DISCIPLINES)}")
        discipline = None
    elif discipline not in DISCIPLINES:
        errors.add("discipline", f"must be one of: {_known(DISCIPLINES)}")
        discipline = None

    out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "discipline": discipline}
    out["progression"] = _progression(
        errors, document.get("progression", {}), "progression", discipline
    )
    out["sessions"] = _sessions(errors, document.get("sessions"), "sessions", discipline)
    out["block"] = _block(errors, document.get("block", {}), "block")
    for key, spec in (
        ("readiness", _READINESS),
        ("autoregulation", _AUTOREGULATION),
        ("nutrition", _NUTRITION),
    ):
        out[key] = _sub(spec)(errors, document.get(key, {}), key)
    out["guardrails"] = _guardrails(errors, document.get("guardrails", {}), "guardrails")

    progression, block = out["progression"], out["block"]
    if (
        progression is not _INVALID
        and block is not _INVALID
        and progression["model"] == "percentage_waves"
    ):
        needed, given = build_weeks(block), len(progression["params"]["weeks"])
        if needed != given:
            errors.add(
                "progression.params.weeks",
                f"needs one entry per build week: {needed} for a {block['weeks']}-week block "
                f"with deload rule {block['deload']['rule']!r} (got {given})",
            )
    if errors.by_path:
        raise RulesInvalid(errors.by_path)
    ordered = {key: out[key] for key in TOP_LEVEL_KEYS}
    return ValidatedRules(ordered)


def _defaults_for(discipline: str) -> dict[str, Any]:
    if discipline == "strength":
        document: dict[str, Any] = {
            "discipline": "strength",
            "sessions": [
                {
                    "name": "Squat day",
                    "slots": [
                        {"exercise": "back-squat", "role": "main"},
                        {"pattern": "press", "role": "main"},
                        {"pattern": "pull", "role": "accessory", "sets": 3, "reps": 10, "rpe": 7.5},
                    ],
                }
            ],
            "block": {"week_volume_multipliers": [1.0, 1.1, 1.2, 0.6]},
        }
    else:
        document = {"discipline": "endurance"}
    return validate_rules(document)


#: The starting document of a new methodology, per discipline (contract defaults; the
#: strength one carries the contract's example week). Read-only: use `default_rules()`
#: for a copy to edit.
DEFAULT_RULES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {discipline: _defaults_for(discipline) for discipline in DISCIPLINES}
)


def default_rules(discipline: str) -> dict[str, Any]:
    """A fresh, editable copy of the default document for `discipline`."""
    return copy.deepcopy(dict(DEFAULT_RULES[discipline]))


# --- diff -------------------------------------------------------------------------


def rules_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[RuleChange]:
    """Changed leaves from `old` to `new`.

    Mappings are walked key by key in sorted order (a document stored as jsonb keeps no
    key order, so this is the one stable order); lists of objects (sessions, slots, rules, waves)
    position by position; lists of scalars (diet styles, rep ranges, dates) compare
    whole. A key or position present on one side only is one change carrying the whole
    value, with `None` on the other side.
    """
    changes: list[RuleChange] = []
    _diff(old, new, "", changes)
    return changes


def _is_object_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, Mapping) for item in value)


def _same(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _diff(old: Any, new: Any, path: str, out: list[RuleChange]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted({*old, *new}, key=str):
            sub = _join(path, str(key))
            if key not in old:
                out.append(RuleChange(sub, None, copy.deepcopy(new[key])))
            elif key not in new:
                out.append(RuleChange(sub, copy.deepcopy(old[key]), None))
            else:
                _diff(old[key], new[key], sub, out)
    elif _is_object_list(old) and _is_object_list(new):
        for index in range(max(len(old), len(new))):
            sub = _join(path, index)
            if index >= len(old):
                out.append(RuleChange(sub, None, copy.deepcopy(new[index])))
            elif index >= len(new):
                out.append(RuleChange(sub, copy.deepcopy(old[index]), None))
            else:
                _diff(old[index], new[index], sub, out)
    elif not _same(old, new):
        out.append(RuleChange(path, copy.deepcopy(old), copy.deepcopy(new)))


# --- the editor's view of the contract: input limits and plain-words diffs -----------
#
# The methodology editor (coaching/views_methodology.py) shows a form per rule group and
# the draft-vs-published diff as sentences. Both read the limits and names from here, next
# to the checks they describe, so the page's min/max/step hints and its wording cannot
# drift from what `validate_rules` enforces (the validator stays the only judge).


@dataclass(frozen=True, kw_only=True)
class NumberLimits:
    """What a `number(...)` check accepts, for an input's min/max/step attributes."""

    lo: float
    hi: float
    whole: bool = False
    step: float | None = None
    above_lo: bool = False

    @property
    def html_step(self) -> str:
        if self.step is not None:
            return _fmt(self.step)
        return "1" if self.whole else "any"


def _limits_of(check: Check) -> NumberLimits | None:
    # `number` keeps its bounds in the closure of the check it returns.
    if getattr(check, "__qualname__", "") != "number.<locals>.check":
        return None
    import inspect

    bound = inspect.getclosurevars(check).nonlocals
    return NumberLimits(
        lo=bound["lo"],
        hi=bound["hi"],
        whole=bound.get("whole", False),
        step=bound.get("step"),
        above_lo=bound.get("above_lo", False),
    )


def _number_limits_table() -> dict[str, NumberLimits]:
    table: dict[str, NumberLimits] = {
        "progression.plate_increment_kg": NumberLimits(lo=0, hi=50, above_lo=True),
        "block.week_volume_multipliers": NumberLimits(lo=0.3, hi=1.5),
        "readiness.weights": NumberLimits(lo=0, hi=1),
    }
    fraction = NumberLimits(lo=0, hi=1)
    for model, spec in MODEL_PARAMS.items():
        for key, field in spec.items():
            limits = _limits_of(field.check)
            if limits is not None:
                table[f"progression.params.{model}.{key}"] = limits
        if model in ENDURANCE_MODELS:
            table[f"progression.params.{model}.zone_distribution"] = fraction
    table["progression.params.double_progression.rep_range"] = NumberLimits(lo=1, hi=20, whole=True)
    for key, field in _WAVE_WEEK.items():
        table[f"progression.params.percentage_waves.weeks.{key}"] = _limits_of(field.check)
    groups: list[tuple[str, Mapping[str, Field]]] = [
        ("block", _BLOCK),
        ("block.deload", _DELOAD),
        ("autoregulation", _AUTOREGULATION),
        ("guardrails", _GUARDRAILS),
        ("nutrition", _NUTRITION),
    ]
    groups += [(f"autoregulation.rules.{name}.params", spec) for name, spec in _RULE_PARAMS.items()]
    for prefix, spec in groups:
        for key, field in spec.items():
            limits = _limits_of(field.check)
            if limits is not None:
                table[f"{prefix}.{key}"] = limits
    return table


#: Limits by field path, with a model or rule *name* where the document has a list index
#: (`autoregulation.rules.velocity.params.mvt_m_s`, `progression.params.linear.sets`).
NUMBER_LIMITS: Mapping[str, NumberLimits] = MappingProxyType(_number_limits_table())

#: What coaches call each section, rule and field (the editor's labels and the diff's words).
SECTION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "schema_version": "Schema version",
        "discipline": "Discipline",
        "progression": "Progression",
        "sessions": "Sessions",
        "block": "Block",
        "readiness": "Readiness",
        "autoregulation": "Autoregulation",
        "guardrails": "Guardrails",
        "nutrition": "Nutrition",
    }
)
RULE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "hrv_low_streak": "Low HRV streak",
        "short_sleep": "Short sleep",
        "short_sleep_and_low_hrv": "Short sleep and low HRV",
        "rpe_overshoot": "RPE overshoot",
        "acwr_spike": "Load spike (ACWR)",
        "decline_deload": "Performance decline deload",
        "velocity": "Velocity-based progression",
    }
)
FIELD_LABELS: Mapping[str, str] = MappingProxyType(
    {
        # progression
        "model": "Progression model",
        "plate_increment_kg": "Smallest plate step (kg)",
        "sets": "Sets",
        "reps": "Reps",
        "start_rpe": "Week 1 RPE",
        "load_step_kg": "Load step per successful session (kg)",
        "rep_range": "Rep range",
        "rpe": "RPE",
        "top_set_reps": "Top set reps",
        "top_set_rpe": "Top set RPE (week 1)",
        "backoff_sets": "Back-off sets",
        "backoff_reps": "Back-off reps",
        "backoff_percent_of_top": "Back-off load (fraction of top set)",
        "weeks": "Weeks",
        "percent_1rm": "Load (fraction of 1RM)",
        "weekly_minutes": "Week 1 minutes",
        "weekly_ramp_percent": "Weekly ramp (%)",
        "zone_distribution": "Time in zones",
        "z1": "Zone 1 (easy) fraction",
        "z2": "Zone 2 (threshold) fraction",
        "z3": "Zone 3 (hard) fraction",
        "sport": "Sport",
        "long_session_fraction": "Long session (fraction of the week)",
        # block
        "deload": "Deload",
        "rule": "Deload rule",
        "every_n_weeks": "Deload every N weeks",
        "volume_percent": "Volume change (%)",
        "intensity_percent": "Intensity change (%)",
        "week_volume_multipliers": "Weekly volume multipliers",
        # readiness
        "weights": "Weights",
        "hrv": "HRV weight",
        "sleep": "Sleep weight",
        "soreness": "Soreness weight",
        "stress": "Stress weight",
        "rpe_deviation": "RPE deviation weight",
        # autoregulation
        "rules": "Rules",
        "enabled": "On",
        "alert": "Send to the coach on hybrid tiers",
        "params": "Settings",
        "queue_threshold_percent": "Hybrid tiers: changes up to this size apply at once (%)",
        "days": "Low-HRV nights in a row",
        "hours_below": "Sleep below (hours)",
        "action": "Action",
        "rpe_above_target": "RPE above target by",
        "above": "ACWR above",
        "progression_allowed_below": "Progression allowed below ACWR",
        "decline_percent": "Decline per session (%)",
        "readiness_below": "Mean readiness below",
        "micro_progression_percent": "Micro-progression (%)",
        "faster_by_m_s": "Faster by (m/s)",
        "velocity_loss_cutoff_percent": "Velocity loss cut-off (%)",
        "mvt_m_s": "Minimum velocity threshold (m/s)",
        # guardrails
        "max_load_change_session_percent": "Largest load change in one session (%)",
        "max_load_change_week_percent": "Largest load change in one week (%)",
        "intensity_floor_1rm": "Intensity floor (fraction of 1RM)",
        "intensity_ceiling_1rm": "Intensity ceiling (fraction of 1RM)",
        "zone_floor": "Lowest zone",
        "zone_ceiling": "Highest zone",
        "frozen_weeks": "Frozen weeks (no automatic change)",
        "protected_exercises": "Protected exercises (never swapped)",
        "max_weekly_volume_change_percent": "Largest weekly volume change (%)",
        # nutrition
        "protein_g_per_kg": "Protein (g per kg body weight)",
        "fat_fraction": "Fat (fraction of energy)",
        "carb_periodisation": "Periodise carbohydrate to training",
        "diet_styles": "Diet styles offered",
        # sessions
        "name": "Name",
        "slots": "Slots",
        "exercise": "Exercise",
        "pattern": "Pattern",
        "role": "Role",
    }
)


def describe_value(value: Any) -> str:
    """A stored value as a coach reads it."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return _fmt(value)
    if isinstance(value, list) and all(not isinstance(v, (Mapping, list)) for v in value):
        return ", ".join(describe_value(v) for v in value) if value else "none"
    if isinstance(value, Mapping):
        return "; ".join(
            f"{FIELD_LABELS.get(str(k), k)} {describe_value(v)}" for k, v in value.items()
        )
    if isinstance(value, list):
        return "; ".join(describe_value(v) for v in value)
    return str(value)


def describe_path(path: str) -> str:
    """`autoregulation.rules.3.params.rpe_above_target` → "Autoregulation › RPE
    overshoot › RPE above target by". Rule positions are named by the canonical order a
    validated document keeps them in."""
    parts = path.split(".")
    words: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        nxt = parts[index + 1] if index + 1 < len(parts) else None
        if index == 0:
            words.append(SECTION_LABELS.get(part, part))
        elif part == "rules" and parts[0] == "autoregulation" and nxt and nxt.isdigit():
            position = int(nxt)
            name = AUTOREGULATION_RULES[position] if position < len(AUTOREGULATION_RULES) else nxt
            words.append(RULE_LABELS.get(name, name))
            index += 1
        elif part == "params":
            pass  # the rule or model already says whose settings these are
        elif part.isdigit():
            owner = parts[index - 1]
            noun = {"sessions": "Session", "slots": "slot", "weeks": "week"}.get(owner, "item")
            if owner in ("sessions", "slots", "weeks") and words:
                words[-1] = f"{noun} {int(part) + 1}"
            else:
                words.append(f"{noun} {int(part) + 1}")
        else:
            words.append(FIELD_LABELS.get(part, part.replace("_", " ")))
        index += 1
    return " › ".join(words)


def describe_change(change: RuleChange) -> str:
    """One `rules_diff` change as a sentence."""
    where = describe_path(change.path)
    if change.path.endswith(".enabled") and isinstance(change.after, bool):
        return f"{where.rsplit(' › ', 1)[0]}: switched {'on' if change.after else 'off'}."
    if change.before is None:
        return f"{where}: set to {describe_value(change.after)}."
    if change.after is None:
        return f"{where}: removed (was {describe_value(change.before)})."
    return f"{where}: {describe_value(change.before)} → {describe_value(change.after)}."


def rules_diff_sentences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """`rules_diff` in plain words, one sentence per changed leaf."""
    return [describe_change(change) for change in rules_diff(old, new)]
