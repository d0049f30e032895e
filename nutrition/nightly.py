"""Nutrition's step in the nightly frame (coaching.nightly), registered from
`NutritionConfig.ready()` after programs' (it fuels tomorrow's planned training):
targets → meal plans → shopping list, as `services.plan_nutrition` runs them. The
chunk's consents and enrolments and the catalogue are loaded once per chunk
(`services.nutrition_night_context`)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from athletes import consent
from athletes.models import AthleteProfile
from coaching.nightly import StepOutcome
from nutrition import services

ORDER = 200


def nutrition_prepare(
    athletes: Sequence[AthleteProfile], date: datetime.date
) -> services.NutritionNightContext:
    return services.nutrition_night_context(athletes)


def nutrition_night(
    athlete: AthleteProfile,
    date: datetime.date,
    context: services.NutritionNightContext | None = None,
) -> StepOutcome:
    """`date` is the finished day (plan_nutrition refuses a future one and plans the 7
    days after it). Skipped without `nutrition_planning` consent or an enrolment."""
    known = {} if context is None else context.for_athlete(athlete)
    try:
        run = services.plan_nutrition(athlete=athlete, date=date, **known)
    except services.NotEnrolled:
        return StepOutcome.skip("Not enrolled on a tier.")
    no_consent = consent.skipped_reason(consent.NUTRITION_PLANNING)
    if no_consent in (run.notes or []):
        return StepOutcome.skip(no_consent)
    if run.infeasible:
        return StepOutcome.done(f"{len(run.infeasible)} day(s) without a feasible plan.")
    return StepOutcome.done()
