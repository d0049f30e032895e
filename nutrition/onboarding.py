"""Nutrition's part of the onboarding questionnaire (see `athletes.onboarding`): food
preferences, then the first week's meal plan. Shown only to clients who agreed to
nutrition planning; registered from `NutritionConfig.ready()`."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from athletes import consent
from athletes.models import AthleteProfile
from athletes.onboarding import Context, Section
from nutrition import services
from nutrition.catalogue import ALLERGENS, load_catalogue
from nutrition.models import NutritionProfile


def _label(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").capitalize()


class FoodForm(forms.Form):
    diet = forms.ChoiceField(
        label="How do you eat?",
        choices=NutritionProfile.Diet.choices,
        initial=NutritionProfile.Diet.OMNIVORE,
    )
    goal = forms.ChoiceField(
        label="Body-weight goal",
        choices=NutritionProfile.Goal.choices,
        initial=NutritionProfile.Goal.MAINTAIN,
    )
    meals_per_day = forms.TypedChoiceField(
        label="Meals a day",
        choices=[(n, str(n)) for n in range(3, 7)],
        coerce=int,
        initial=4,
        error_messages={"invalid_choice": "Pick 3 to 6 meals a day."},
    )
    allergies = forms.MultipleChoiceField(
        label="Allergies",
        choices=[(a, _label(a)) for a in ALLERGENS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Never planned, whatever else happens.",
    )
    restrictions = forms.MultipleChoiceField(
        label="Other rules",
        choices=[(r, _label(r)) for r in services.RESTRICTIONS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    dislikes = forms.CharField(
        label="Foods you don't eat",
        required=False,
        max_length=500,
        help_text="Separate with commas, e.g. mushrooms, tofu.",
    )

    def clean_dislikes(self) -> list[str]:
        """Names people write, to the catalogue's slugs; an unknown one is named back."""
        raw = self.cleaned_data.get("dislikes", "")
        words = [w.strip() for w in raw.split(",") if w.strip()]
        if not words:
            return []
        foods = load_catalogue().foods
        by_name = {food.name.lower(): slug for slug, food in foods.items()}
        by_name.update({slug.replace("-", " "): slug for slug in foods})
        slugs, unknown = [], []
        for word in words:
            key = word.lower().replace("-", " ")
            match = by_name.get(key) or by_name.get(key.rstrip("s"))
            if match is None:
                candidates = [s for n, s in by_name.items() if key in n]
                match = candidates[0] if len(set(candidates)) == 1 else None
            if match is None:
                unknown.append(word)
            else:
                slugs.append(match)
        if unknown:
            raise ValidationError(
                f"We don't know {', '.join(unknown)}: check the spelling or leave it out."
            )
        return sorted(set(slugs))


def enabled(athlete: AthleteProfile) -> bool:
    return consent.has_consent(athlete, consent.NUTRITION_PLANNING)


def apply(context: Context) -> None:
    """The preferences (hard rules first), then targets and meals from the start day."""
    data = {
        name: context.data[name]
        for name in ("diet", "goal", "meals_per_day", "allergies", "restrictions", "dislikes")
        if name in context.data
    }
    services.preferences_update(athlete=context.athlete, data=data)
    try:
        services.nutrition_refresh(athlete=context.athlete, start=context.start)
    except services.NoBodyWeight as exc:
        raise services.NoBodyWeight(
            exc.message, fields={"body_weight_kg": ["Your food targets need your body weight."]}
        ) from exc


SECTION = Section(
    name="food",
    title="Food",
    intro="Your meal plan keeps to these: allergies and dislikes are never planned.",
    form_class=FoodForm,
    apply=apply,
    order=20,
    enabled=enabled,
    needs_body_weight=True,
)
