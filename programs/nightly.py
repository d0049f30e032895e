"""Programs' step in the nightly frame (coaching.nightly), registered from
`ProgramsConfig.ready()`: readiness → autoregulation → alerts → model updates for one
subscriber and the finished day, as `services.athlete_night` runs them. The chunk's
shared reads (library, consents, enrolments, blocks, memberships) come from
`services.night_context`, once per chunk."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from athletes.models import AthleteProfile
from coaching.nightly import StepOutcome
from programs import services
from programs.services.night import NightContext, night_context
from programs.services.plans import NoEnrolment

ORDER = 100


def programs_prepare(athletes: Sequence[AthleteProfile], date: datetime.date) -> NightContext:
    return night_context(athletes, date)


def programs_night(
    athlete: AthleteProfile, date: datetime.date, context: NightContext | None = None
) -> StepOutcome:
    """Skipped when autoregulation could not run (consent); a partial skip (no ML
    consent) is a done step whose reason says what was left out."""
    try:
        result = services.athlete_night(athlete=athlete, date=date, context=context)
    except NoEnrolment:
        return StepOutcome.skip("Not enrolled on a tier.")
    if "autoregulation" in result.skipped:
        return StepOutcome.skip(result.skipped["autoregulation"])
    note = "; ".join(f"{step}: {why}" for step, why in sorted(result.skipped.items()))
    return StepOutcome.done(note)
