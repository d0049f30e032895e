"""Forms of the methodology editor: the rules document as labelled inputs per rule group.

The forms only parse what the browser sends (numbers, choices, ticks, lists) and put it
back into a rules document; whether the document is acceptable is decided by the same
validator the API uses (`services.rules_validate_for`, through the draft services). Its
errors come back keyed by dotted document paths, which `RulesForm.add_rule_errors` puts
next to the input they name, so a page and the API can never disagree on what is valid.

Field names are document paths, except where the document holds a list whose position
means something: progression parameters carry their model
(`progression.params.linear.sets`) and autoregulation rules their name
(`autoregulation.rules.velocity.enabled`), so the inputs of every model and rule can be on
the page at once.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms

from coaching.methodology import (
    AUTOREGULATION_RULES,
    DELOAD_RULES,
    DIET_STYLES,
    ENDURANCE_MODELS,
    FIELD_LABELS,
    MODEL_PARAMS,
    NUMBER_LIMITS,
    READINESS_KEYS,
    RULE_LABELS,
    RULE_PARAMS,
    SPORTS,
    STRENGTH_MODELS,
    ZONE_KEYS,
    describe_path,
)
from coaching.models import Tier

MODEL_LABELS = {
    "linear": "Linear",
    "double_progression": "Double progression",
    "rpe_top_set_backoff": "RPE top set + back-off sets",
    "percentage_waves": "Percentage waves",
    "polarised": "Polarised",
    "pyramidal": "Pyramidal",
    "threshold": "Threshold",
}
MAX_WAVE_WEEKS = 8
RULE_CHOICES = {"action": (("reduce", "Reduce the session"), ("substitute", "Swap the lift"))}
LIST_FIELDS = ("guardrails.frozen_weeks", "guardrails.protected_exercises")


@dataclass
class Group:
    """One fieldset of the editor: a legend, an optional hint, inputs and sub-fieldsets."""

    key: str
    legend: str
    hint: str = ""
    names: list[str] = field(default_factory=list)
    children: list[Group] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    fields: list[forms.BoundField] = field(default_factory=list)


def _plain(value: float | int) -> float | int:
    """10.0 → 10: the document keeps whole numbers whole (and the diff stays quiet)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _limits_key(name: str) -> str:
    # `progression.params.percentage_waves.weeks.2.sets` → `...weeks.sets`;
    # `progression.params.polarised.zone_distribution.z1` → `...zone_distribution`;
    # `readiness.weights.hrv` → `readiness.weights`; rep_range `.0` → `.rep_range`.
    parts = [p for p in name.split(".") if not p.isdigit()]
    joined = ".".join(parts)
    if joined in NUMBER_LIMITS:
        return joined
    return ".".join(parts[:-1])


def _number(name: str, label: str, *, required: bool = True) -> forms.FloatField:
    limits = NUMBER_LIMITS.get(_limits_key(name))
    attrs = {"step": "any", "inputmode": "decimal"}
    help_text = ""
    if limits is not None:
        attrs = {"min": _num(limits.lo), "max": _num(limits.hi), "step": limits.html_step}
        low = f"more than {_num(limits.lo)}" if limits.above_lo else _num(limits.lo)
        help_text = f"{low} to {_num(limits.hi)}"
        if limits.step is not None:
            help_text += f", in steps of {_num(limits.step)}"
        elif limits.whole:
            help_text += ", whole number"
    return forms.FloatField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.NumberInput(attrs=attrs),
        error_messages={"required": "Enter a value.", "invalid": "Enter a number."},
    )


def _num(value: float | int) -> str:
    return str(_plain(value)) if isinstance(value, (int, float)) else str(value)


def _label(key: str) -> str:
    return FIELD_LABELS.get(key, key.replace("_", " ").capitalize())


class RulesForm(forms.Form):
    """The rules document of one methodology as inputs, grouped as the document is.

    `rules` is the document being edited (a validated one: the draft, or the latest
    published version); what the form does not cover (session templates) is carried over
    from it untouched by `document()`.
    """

    notes = forms.CharField(
        label="What changed in this version, and why",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, rules: Mapping[str, Any], notes: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.rules = copy.deepcopy(dict(rules))
        self.discipline = self.rules["discipline"]
        self.fields["notes"].initial = notes
        self.groups: list[Group] = []
        self._build()
        self._bind_groups(self.groups)

    # --- building -------------------------------------------------------------------

    def _add(self, group: Group, name: str, form_field: forms.Field, initial: Any) -> None:
        form_field.initial = initial
        self.fields[name] = form_field
        group.names.append(name)

    def _build(self) -> None:
        rules = self.rules
        self.groups = [
            self._progression(rules["progression"]),
            self._block(rules["block"]),
            self._readiness(rules["readiness"]),
            self._autoregulation(rules["autoregulation"]),
            self._guardrails(rules["guardrails"]),
            self._nutrition(rules["nutrition"]),
        ]

    def _progression(self, progression: Mapping[str, Any]) -> Group:
        models = STRENGTH_MODELS if self.discipline == "strength" else ENDURANCE_MODELS
        group = Group("progression", "Progression", "How the plan moves forward week to week.")
        self._add(
            group,
            "progression.model",
            forms.ChoiceField(
                label=_label("model"), choices=[(m, MODEL_LABELS[m]) for m in models]
            ),
            progression["model"],
        )
        self._add(
            group,
            "progression.plate_increment_kg",
            _number("progression.plate_increment_kg", _label("plate_increment_kg")),
            progression["plate_increment_kg"],
        )
        for model in models:
            stored = progression["params"] if progression["model"] == model else {}
            sub = Group(
                f"progression.params.{model}",
                f"{MODEL_LABELS[model]}: settings",
                "Used when this model is chosen above.",
                attrs={"data-model": model},
            )
            prefix = f"progression.params.{model}"
            for key, spec in MODEL_PARAMS[model].items():
                value = stored.get(key, copy.deepcopy(spec.default))
                name = f"{prefix}.{key}"
                if key == "rep_range":
                    for index, end in enumerate(("lowest", "highest")):
                        self._add(
                            sub,
                            f"{name}.{index}",
                            _number(f"{name}.{index}", f"Rep range: {end}"),
                            value[index],
                        )
                elif key == "zone_distribution":
                    for zone in ZONE_KEYS:
                        self._add(
                            sub,
                            f"{name}.{zone}",
                            _number(f"{name}.{zone}", _label(zone)),
                            value[zone],
                        )
                elif key == "weeks":
                    for index in range(MAX_WAVE_WEEKS):
                        week = value[index] if index < len(value) else {}
                        for wave_key in ("sets", "reps", "percent_1rm"):
                            self._add(
                                sub,
                                f"{name}.{index}.{wave_key}",
                                _number(
                                    f"{name}.{index}.{wave_key}",
                                    f"Build week {index + 1}: {_label(wave_key).lower()}",
                                    required=False,
                                ),
                                week.get(wave_key),
                            )
                    sub.hint = "One row per build week; leave the rows you don't need empty."
                elif key == "sport":
                    self._add(
                        sub,
                        name,
                        forms.ChoiceField(label=_label(key), choices=[(s, s) for s in SPORTS]),
                        value,
                    )
                else:
                    self._add(sub, name, _number(name, _label(key)), value)
            group.children.append(sub)
        return group

    def _block(self, block: Mapping[str, Any]) -> Group:
        group = Group("block", "Block", "Length of a block and its deload.")
        self._add(group, "block.weeks", _number("block.weeks", "Weeks per block"), block["weeks"])
        deload = block["deload"]
        self._add(
            group,
            "block.deload.rule",
            forms.ChoiceField(
                label=_label("rule"),
                choices=[
                    ("fixed", "Fixed: the last week of every N weeks"),
                    ("triggered", "Triggered: only when autoregulation inserts one"),
                    ("none", "None"),
                ],
            ),
            deload["rule"],
        )
        assert set(DELOAD_RULES) == {"fixed", "triggered", "none"}
        for key in ("every_n_weeks", "volume_percent", "intensity_percent"):
            name = f"block.deload.{key}"
            self._add(group, name, _number(name, f"Deload: {_label(key).lower()}"), deload[key])
        multipliers = block["week_volume_multipliers"]
        self._add(
            group,
            "block.week_volume_multipliers",
            forms.CharField(
                label=_label("week_volume_multipliers"),
                required=False,
                help_text="One per week, separated by commas (0.3 to 1.5), e.g. 1.0, 1.1, "
                "1.2, 0.6. Leave empty for none.",
            ),
            ", ".join(_num(m) for m in multipliers) if multipliers else "",
        )
        return group

    def _readiness(self, readiness: Mapping[str, Any]) -> Group:
        group = Group(
            "readiness",
            "Readiness",
            "How much each signal counts in the daily readiness score (fractions summing to 1).",
        )
        for key in READINESS_KEYS:
            name = f"readiness.weights.{key}"
            self._add(group, name, _number(name, _label(key)), readiness["weights"][key])
        return group

    def _autoregulation(self, autoregulation: Mapping[str, Any]) -> Group:
        group = Group(
            "autoregulation",
            "Autoregulation and alerts",
            "Nightly rules. A rule marked for the coach sends its changes to your review "
            "queue on hybrid tiers, whatever their size.",
        )
        self._add(
            group,
            "autoregulation.queue_threshold_percent",
            _number("autoregulation.queue_threshold_percent", _label("queue_threshold_percent")),
            autoregulation["queue_threshold_percent"],
        )
        stored = {rule["name"]: rule for rule in autoregulation["rules"]}
        for name in AUTOREGULATION_RULES:
            rule = stored[name]
            sub = Group(f"autoregulation.rules.{name}", RULE_LABELS[name])
            prefix = f"autoregulation.rules.{name}"
            self._add(
                sub,
                f"{prefix}.enabled",
                forms.BooleanField(label="Rule on", required=False),
                rule["enabled"],
            )
            self._add(
                sub,
                f"{prefix}.alert",
                forms.BooleanField(label=_label("alert"), required=False),
                rule["alert"],
            )
            for key in RULE_PARAMS[name]:
                field_name = f"{prefix}.params.{key}"
                if key in RULE_CHOICES:
                    form_field: forms.Field = forms.ChoiceField(
                        label=_label(key), choices=RULE_CHOICES[key]
                    )
                else:
                    form_field = _number(field_name, _label(key))
                self._add(sub, field_name, form_field, rule["params"][key])
            group.children.append(sub)
        return group

    def _guardrails(self, rails: Mapping[str, Any]) -> Group:
        group = Group(
            "guardrails",
            "Guardrails",
            "Limits no automatic change may cross; they apply last, to every proposal.",
        )
        for key in (
            "max_load_change_session_percent",
            "max_load_change_week_percent",
            "max_weekly_volume_change_percent",
            "intensity_floor_1rm",
            "intensity_ceiling_1rm",
            "zone_floor",
            "zone_ceiling",
        ):
            name = f"guardrails.{key}"
            self._add(group, name, _number(name, _label(key)), rails[key])
        self._add(
            group,
            "guardrails.frozen_weeks",
            forms.CharField(
                label=_label("frozen_weeks"),
                required=False,
                help_text="Mondays as dates, separated by commas, e.g. 2027-03-01.",
            ),
            ", ".join(rails["frozen_weeks"]),
        )
        self._add(
            group,
            "guardrails.protected_exercises",
            forms.CharField(
                label=_label("protected_exercises"),
                required=False,
                help_text="Exercise library names, separated by commas, e.g. back-squat.",
            ),
            ", ".join(rails["protected_exercises"]),
        )
        return group

    def _nutrition(self, nutrition: Mapping[str, Any]) -> Group:
        group = Group("nutrition", "Nutrition philosophy", "What meal plans are built around.")
        for key in ("protein_g_per_kg", "fat_fraction"):
            name = f"nutrition.{key}"
            self._add(group, name, _number(name, _label(key)), nutrition[key])
        self._add(
            group,
            "nutrition.carb_periodisation",
            forms.BooleanField(label=_label("carb_periodisation"), required=False),
            nutrition["carb_periodisation"],
        )
        self._add(
            group,
            "nutrition.diet_styles",
            forms.MultipleChoiceField(
                label=_label("diet_styles"),
                required=False,
                choices=[(style, style.capitalize()) for style in DIET_STYLES],
                widget=forms.CheckboxSelectMultiple,
            ),
            list(nutrition["diet_styles"]),
        )
        return group

    def _bind_groups(self, groups: Iterable[Group]) -> None:
        for group in groups:
            group.fields = [self[name] for name in group.names]
            self._bind_groups(group.children)

    # --- reading the inputs back into a document ------------------------------------

    def document(self) -> dict[str, Any]:
        """The rules document the inputs describe (call after `is_valid()`); the
        validator, not this form, judges it."""
        data = self.cleaned_data
        doc = copy.deepcopy(self.rules)
        model = data["progression.model"]
        doc["progression"]["model"] = model
        doc["progression"]["plate_increment_kg"] = _plain(data["progression.plate_increment_kg"])
        prefix = f"progression.params.{model}"
        params: dict[str, Any] = {}
        for key in MODEL_PARAMS[model]:
            name = f"{prefix}.{key}"
            if key == "rep_range":
                params[key] = [_plain(data[f"{name}.0"]), _plain(data[f"{name}.1"])]
            elif key == "zone_distribution":
                params[key] = {zone: _plain(data[f"{name}.{zone}"]) for zone in ZONE_KEYS}
            elif key == "weeks":
                weeks = []
                for index in range(MAX_WAVE_WEEKS):
                    row = {
                        k: data.get(f"{name}.{index}.{k}") for k in ("sets", "reps", "percent_1rm")
                    }
                    if all(v is None for v in row.values()):
                        continue
                    weeks.append({k: (None if v is None else _plain(v)) for k, v in row.items()})
                params[key] = weeks
            elif key == "sport":
                params[key] = data[name]
            else:
                params[key] = _plain(data[name])
        doc["progression"]["params"] = params

        block = doc["block"]
        block["weeks"] = _plain(data["block.weeks"])
        block["deload"]["rule"] = data["block.deload.rule"]
        for key in ("every_n_weeks", "volume_percent", "intensity_percent"):
            block["deload"][key] = _plain(data[f"block.deload.{key}"])
        block["week_volume_multipliers"] = self._multipliers(data["block.week_volume_multipliers"])

        doc["readiness"]["weights"] = {
            key: _plain(data[f"readiness.weights.{key}"]) for key in READINESS_KEYS
        }

        auto = doc["autoregulation"]
        auto["queue_threshold_percent"] = _plain(data["autoregulation.queue_threshold_percent"])
        rules = []
        for name in AUTOREGULATION_RULES:
            prefix = f"autoregulation.rules.{name}"
            rule_params = {}
            for key in RULE_PARAMS[name]:
                value = data[f"{prefix}.params.{key}"]
                rule_params[key] = value if isinstance(value, str) else _plain(value)
            rules.append(
                {
                    "name": name,
                    "enabled": data[f"{prefix}.enabled"],
                    "alert": data[f"{prefix}.alert"],
                    "params": rule_params,
                }
            )
        auto["rules"] = rules

        rails = doc["guardrails"]
        for key in list(rails):
            name = f"guardrails.{key}"
            if name in LIST_FIELDS:
                rails[key] = _split(data[name])
            else:
                rails[key] = _plain(data[name])

        nutrition = doc["nutrition"]
        for key in ("protein_g_per_kg", "fat_fraction"):
            nutrition[key] = _plain(data[f"nutrition.{key}"])
        nutrition["carb_periodisation"] = data["nutrition.carb_periodisation"]
        nutrition["diet_styles"] = list(data["nutrition.diet_styles"])
        return doc

    def _multipliers(self, text: str) -> list[Any] | None:
        items = _split(text)
        if not items:
            return None
        out: list[Any] = []
        for item in items:
            try:
                out.append(_plain(float(item)))
            except ValueError:
                out.append(item)  # the validator names it: "must be a number"
        return out

    # --- the validator's errors, next to their inputs -------------------------------

    def field_for_path(self, path: str) -> tuple[str | None, bool]:
        """The input a validator error path belongs to (None: the form as a whole), and
        whether the error is about that input exactly (else about a part or a group)."""
        parts = path.split(".")
        if parts[:2] == ["progression", "params"]:
            model = self.data.get("progression.model") or self.rules["progression"]["model"]
            parts = ["progression", "params", model, *parts[2:]]
        elif parts[:2] == ["autoregulation", "rules"] and len(parts) > 2 and parts[2].isdigit():
            position = int(parts[2])
            if position < len(AUTOREGULATION_RULES):
                parts[2] = AUTOREGULATION_RULES[position]
        for end in range(len(parts), 0, -1):
            name = ".".join(parts[:end])
            if name in self.fields:
                return name, end == len(parts)
            children = [f for f in self.fields if f.startswith(name + ".")]
            if children:
                return children[0], False
        return None, False

    def add_rule_errors(self, errors: Mapping[str, list[str]]) -> None:
        for path, messages in errors.items():
            name, exact = self.field_for_path(path)
            where = describe_path(path) if path != "non_field_errors" else ""
            for message in messages:
                if exact:
                    text = message[:1].upper() + message[1:]
                    self.add_error(name, text if text.endswith(".") else text + ".")
                else:
                    self.add_error(name, f"{where}: {message}" if where else message)


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]


class RulesJsonForm(forms.Form):
    """The whole document as JSON, for what the inputs don't cover (session templates)."""

    rules_json = forms.CharField(
        label="Rules document (JSON)",
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}),
        help_text="The full document as in docs/methodology-rules.md; checked like the form.",
    )
    notes = forms.CharField(
        label="What changed in this version, and why",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_rules_json(self) -> Any:
        try:
            return json.loads(self.cleaned_data["rules_json"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"This is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from exc

    def add_rule_errors(self, errors: Mapping[str, list[str]]) -> None:
        for path, messages in errors.items():
            where = describe_path(path) if path != "non_field_errors" else "Document"
            for message in messages:
                self.add_error("rules_json", f"{where} ({path}): {message}")


def rules_as_json(rules: Mapping[str, Any]) -> str:
    return json.dumps(rules, indent=2, ensure_ascii=False)


class TierForm(forms.Form):
    """What the tier page edits: the name, sign-up lines and price (others via the API)."""

    name = forms.CharField(label="Name", max_length=80)
    price = forms.DecimalField(
        label="Price", min_value=0, max_digits=10, decimal_places=2,
        widget=forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
    )  # fmt: skip
    features = forms.CharField(
        label="Features (one per line, shown on the sign-up page)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="At most 20 lines of 120 characters.",
    )

    def clean_features(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["features"].splitlines() if line.strip()]

    @classmethod
    def initial_for(cls, tier: Tier) -> dict[str, Any]:
        return {"name": tier.name, "price": tier.price, "features": "\n".join(tier.features)}
