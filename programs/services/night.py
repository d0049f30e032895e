"""One athlete's night, in the order DESIGN.md gives the programs steps: readiness and
autoregulation, then the alerts a coach should see, then the per-athlete models. The
nightly pipeline (fan-out per tenant, NightlyRun bookkeeping) calls this per subscriber;
each step is idempotent for (athlete, date) on its own, so a retried night changes
nothing."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from athletes.models import AthleteProfile
from programs.engine.library import Library
from programs.models import AutoregulationRun
from programs.services import alerts, learning
from programs.services.adjustments import autoregulate


@dataclass(frozen=True, kw_only=True)
class NightResult:
    run: AutoregulationRun
    alerts_raised: int
    anomaly: str  # "unusual", "usual", or why it wasn't scored
    predictions: dict


def athlete_night(
    *, athlete: AthleteProfile, date: datetime.date, library: Library | None = None
) -> NightResult:
    """Run the programs steps of one athlete's night for the finished day `date`."""
    run = autoregulate(athlete=athlete, date=date, library=library)
    raised = alerts.athlete_alerts_raise(athlete=athlete, date=date)
    score = learning.anomaly_check(athlete=athlete, date=date)
    is_anomaly = getattr(score, "is_anomaly", None)
    anomaly = (
        getattr(score, "reason", "not scored")
        if is_anomaly is None
        else ("unusual" if is_anomaly else "usual")
    )
    predictions = learning.predictions_update(athlete=athlete, date=date)
    return NightResult(run=run, alerts_raised=len(raised), anomaly=anomaly, predictions=predictions)
