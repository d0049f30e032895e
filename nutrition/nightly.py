"""Nutrition's step in the nightly frame (coaching.nightly), registered from
`NutritionConfig.ready()` after programs' (it fuels tomorrow's planned training):
targets → meal plans → shopping list, as `services.plan_nutrition` runs them."""

from __future__ import annotations

import datetime

from athletes import consent
from athletes.models import AthleteProfile
from coaching.nightly import StepOutcome
from nutrition import services

ORDER = 200


def nutrition_night(athlete: AthleteProfile, date: datetime.date) -> StepOutcome:
    """`date` is the finished day (plan_nutrition refuses a future one and plans the 7
    days after it). Skipped without `nutrition_planning` consent or an enrolment."""
    try:
        run = services.plan_nutrition(athlete=athlete, date=date)
    except services.NotEnrolled:
        return StepOutcome.skip("Not enrolled on a tier.")
    no_consent = consent.skipped_reason(consent.NUTRITION_PLANNING)
    if no_consent in (run.notes or []):
        return StepOutcome.skip(no_consent)
    if run.infeasible:
        return StepOutcome.done(f"{len(run.infeasible)} day(s) without a feasible plan.")
    return StepOutcome.done()
