"""Forms of the client's onboarding pages: shape and plain-language messages here; the
services decide (and their refusals are put back on the field they name)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from athletes.models import EQUIPMENT, WEEKDAYS, AthleteProfile

EQUIPMENT_LABELS = {
    "pullup_bar": "Pull-up bar",
    "trap_bar": "Trap bar",
    "rack": "Squat rack",
    "bands": "Resistance bands",
}


def _required(message: str) -> dict[str, str]:
    return {"required": message}


class AboutForm(forms.Form):
    display_name = forms.CharField(
        label="Your name",
        max_length=120,
        error_messages=_required("Tell us what to call you."),
        help_text="As your coach will see it.",
    )
    discipline = forms.ChoiceField(
        label="What do you train for?",
        choices=AthleteProfile.Discipline.choices,
        widget=forms.RadioSelect,
        error_messages=_required("Pick strength, endurance or hybrid."),
    )
    goal = forms.ChoiceField(
        label="Your main goal",
        choices=AthleteProfile.Goal.choices,
        error_messages=_required("Pick the goal that fits best."),
    )
    sex = forms.ChoiceField(
        label="Sex",
        choices=AthleteProfile.Sex.choices,
        widget=forms.RadioSelect,
        help_text="Used for energy needs and strength standards.",
        error_messages=_required("Pick one: energy needs depend on it."),
    )
    birth_date = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Give your date of birth.",
            "invalid": "Write the date as YYYY-MM-DD.",
        },
    )
    height_cm = forms.DecimalField(
        label="Height (cm)",
        min_value=100,
        max_value=250,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
        error_messages={
            "required": "Give your height in centimetres.",
            "min_value": "Give your height in centimetres (100–250).",
            "max_value": "Give your height in centimetres (100–250).",
        },
    )


_PACE = re.compile(r"^\s*(\d{1,2}):([0-5]\d)\s*$")


class QuestionnaireForm(forms.Form):
    """Schedule, equipment and the baseline: what every plan needs, whatever the app."""

    available_weekdays = forms.TypedMultipleChoiceField(
        label="Days you can train",
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages=_required("Pick at least one day you can train."),
    )
    session_minutes = forms.IntegerField(
        label="How long can a session be? (minutes)",
        min_value=20,
        max_value=240,
        initial=60,
        error_messages={
            "required": "Say how many minutes a session can take.",
            "min_value": "A session needs at least 20 minutes.",
            "max_value": "Keep a session under 240 minutes.",
        },
    )
    equipment = forms.MultipleChoiceField(
        label="Equipment you have",
        choices=[(e, EQUIPMENT_LABELS.get(e, e.replace("_", " ").capitalize())) for e in EQUIPMENT],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Nothing ticked: bodyweight exercises only.",
    )
    training_age_years = forms.DecimalField(
        label="Years of regular training",
        min_value=0,
        max_value=60,
        decimal_places=1,
        required=False,
        initial=0,
        error_messages={
            "min_value": "Give 0 or more years.",
            "max_value": "Give at most 60 years.",
        },
    )
    injuries = forms.CharField(
        label="Injuries or limitations",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only your coach reads this.",
    )
    body_weight_kg = forms.DecimalField(
        label="Body weight (kg)",
        min_value=25,
        max_value=350,
        decimal_places=1,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
        error_messages={
            "required": "Give your body weight: your food targets are computed from it.",
            "min_value": "Give your body weight in kilograms (25–350).",
            "max_value": "Give your body weight in kilograms (25–350).",
        },
    )
    threshold_pace = forms.CharField(
        label="Threshold running pace (min:sec per km)",
        required=False,
        max_length=5,
        help_text="The pace you could hold for about an hour, e.g. 4:45."
        " Leave empty if you don't run.",
    )
    ftp_w = forms.IntegerField(
        label="Cycling FTP (watts)",
        required=False,
        min_value=50,
        max_value=600,
        help_text="Leave empty if you don't ride with power.",
        error_messages={
            "min_value": "FTP is between 50 and 600 watts.",
            "max_value": "FTP is between 50 and 600 watts.",
        },
    )

    def __init__(self, *args: Any, weight_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body_weight_kg"].required = weight_required

    def clean_threshold_pace(self) -> int | None:
        raw = self.cleaned_data.get("threshold_pace", "")
        if not raw:
            return None
        match = _PACE.match(raw)
        if not match:
            raise ValidationError("Write the pace as minutes:seconds, e.g. 4:45.")
        seconds = int(match[1]) * 60 + int(match[2])
        if not 150 <= seconds <= 600:
            raise ValidationError("A threshold pace is between 2:30 and 10:00 per km.")
        return seconds

    def clean_training_age_years(self) -> Decimal:
        return self.cleaned_data.get("training_age_years") or Decimal("0")


# --- settings (issue 10): the profile a client may change after onboarding -----------------


class SettingsProfileForm(forms.Form):
    """Name, goal, days, session length and equipment: the onboarding fields, with their
    labels and messages (copied from the onboarding forms, so both read the same)."""

    display_name = AboutForm.base_fields["display_name"]
    goal = AboutForm.base_fields["goal"]
    available_weekdays = QuestionnaireForm.base_fields["available_weekdays"]
    session_minutes = QuestionnaireForm.base_fields["session_minutes"]
    equipment = QuestionnaireForm.base_fields["equipment"]


# --- Today: the morning check-in (issue 10, client side) ---------------------------------

# The words under each 1–5 tap target, so a scale reads without a legend.
SCALE_WORDS = {
    "sleep_quality": ("Poor", "Fair", "OK", "Good", "Great"),
    "soreness": ("None", "Light", "Some", "Sore", "Very"),
    "stress": ("Calm", "Low", "Some", "High", "Very"),
    "mood": ("Low", "Meh", "OK", "Good", "Great"),
}


def _scale(label: str, name: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[(i, f"{i} {word}") for i, word in enumerate(SCALE_WORDS[name], start=1)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Pick 1 to 5."},
    )


class CheckInForm(forms.Form):
    """The Today check-in: one tap per scale, sleep prefilled with the last night logged,
    HRV only for those who measure it. Every field may be skipped (the model allows it);
    the ranges are the model's, said in words."""

    sleep_hours = forms.DecimalField(
        label="Sleep (hours)",
        min_value=0,
        max_value=24,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.25"}),
        error_messages={
            "invalid": "Give your sleep in hours, e.g. 7.5.",
            "min_value": "Sleep is between 0 and 24 hours.",
            "max_value": "Sleep is between 0 and 24 hours.",
            "max_decimal_places": "Give your sleep to the quarter hour, e.g. 7.25.",
        },
    )
    sleep_quality = _scale("Sleep quality", "sleep_quality")
    soreness = _scale("Soreness", "soreness")
    stress = _scale("Stress", "stress")
    mood = _scale("Mood", "mood")
    hrv_rmssd_ms = forms.DecimalField(
        label="HRV (rMSSD, ms)",
        min_value=1,
        max_value=400,
        decimal_places=1,
        required=False,
        help_text="Optional: from your watch or strap, if you measure it.",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
        error_messages={
            "invalid": "Give your HRV as a number of milliseconds, e.g. 62.",
            "min_value": "HRV (rMSSD) is between 1 and 400 ms.",
            "max_value": "HRV (rMSSD) is between 1 and 400 ms.",
            "max_decimal_places": "Give your HRV to one decimal, e.g. 62.5.",
        },
    )

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and all(value in (None, "") for value in data.values()):
            raise forms.ValidationError("Fill in at least one answer, then save.")
        return data
