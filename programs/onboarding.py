"""Programs' part of the onboarding questionnaire (see `athletes.onboarding`): recent
bests of the main lifts as baseline lifts, then the first block. Registered from
`ProgramsConfig.ready()` because athletes may not import programs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from athletes.onboarding import Context, Section
from programs import services
from programs.models import Exercise

# The reference lifts the block engine scales from (programs/data/exercises.json).
MAIN_LIFTS = (
    ("back-squat", "Back squat"),
    ("bench-press", "Bench press"),
    ("deadlift", "Deadlift"),
    ("overhead-press", "Overhead press"),
)
# A recent best is a hard set but not a tested max on the day: taken as RPE 9.5.
BEST_RPE = Decimal("9.5")


class BestsForm(forms.Form):
    """Per lift: the weight and reps of a recent hard set, both or neither."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for slug, name in MAIN_LIFTS:
            key = slug.replace("-", "_")
            self.fields[f"{key}_kg"] = forms.DecimalField(
                label=f"{name}: weight (kg)",
                required=False,
                min_value=1,
                max_value=600,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
                error_messages={
                    "min_value": "Give the weight in kilograms (1–600).",
                    "max_value": "Give the weight in kilograms (1–600).",
                },
            )
            self.fields[f"{key}_reps"] = forms.IntegerField(
                label=f"{name}: reps",
                required=False,
                min_value=1,
                max_value=12,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                error_messages={
                    "min_value": "Give 1 to 12 reps (more says little about your max).",
                    "max_value": "Give 1 to 12 reps (more says little about your max).",
                },
            )

    @property
    def pairs(self) -> list[tuple[str, Any, Any]]:
        return [
            (name, self[f"{slug.replace('-', '_')}_kg"], self[f"{slug.replace('-', '_')}_reps"])
            for slug, name in MAIN_LIFTS
        ]

    other_fields: list[Any] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for slug, _name in MAIN_LIFTS:
            key = slug.replace("-", "_")
            kg, reps = data.get(f"{key}_kg"), data.get(f"{key}_reps")
            if kg is not None and reps is None and f"{key}_reps" not in self.errors:
                self.add_error(f"{key}_reps", "How many reps did you lift that weight for?")
            if reps is not None and kg is None and f"{key}_kg" not in self.errors:
                self.add_error(f"{key}_kg", "What weight did you lift for those reps?")
        return data


def apply(context: Context) -> None:
    """Baseline lifts on the questionnaire's assessment, then the first block from the
    start day (its first sessions fall on the client's first training days)."""
    if not Exercise.objects.exists():
        services.exercise_library_install()
    for slug, name in MAIN_LIFTS:
        key = slug.replace("-", "_")
        kg, reps = context.data.get(f"{key}_kg"), context.data.get(f"{key}_reps")
        if kg is None or reps is None:
            continue
        exercise = Exercise.objects.filter(slug=slug).first()
        if exercise is None:
            continue  # the coach removed it from their library: nothing to scale from
        try:
            services.assessment_lift_add(
                assessment=context.assessment,
                exercise=exercise,
                weight_kg=Decimal(kg),
                reps=int(reps),
                rpe=BEST_RPE,
                tested=False,
            )
        except services.ProgramsError as exc:
            raise services.ProgramsError(
                f"{name}: {exc.message}",
                fields={f"{key}_reps" if "reps" in exc.fields else f"{key}_kg": [exc.message]},
            ) from exc
    services.block_generate(athlete=context.athlete, start_date=context.start)


SECTION = Section(
    name="bests",
    title="Recent bests (strength)",
    intro="A hard set from the last few weeks, for the lifts you do: your first loads are"
    " computed from them. Leave a lift empty if you don't do it.",
    form_class=BestsForm,
    apply=apply,
    order=10,
)
