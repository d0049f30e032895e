"""One athlete's night, in the order DESIGN.md gives the programs steps: readiness and
autoregulation, then the alerts a coach should see, then the per-athlete models. The
nightly pipeline (fan-out per tenant, NightlyRun bookkeeping) calls this per subscriber;
each step is idempotent for (athlete, date) on its own, so a retried night changes
nothing.

Consent gates (issue 8): without `health_data` readiness-based autoregulation does not
run (the night's `AutoregulationRun` is still claimed by `autoregulate(skip_reason=)`, so
the pipeline and the client's day view see why); without `ml_personalisation` (or without
`health_data`, which the unusual-day model reads) no model is fitted and nothing is
predicted. Each skipped step is named with its reason in `NightResult.skipped`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from athletes import consent
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
    skipped: dict[str, str] = field(default_factory=dict)  # step -> why it did not run


def athlete_night(
    *, athlete: AthleteProfile, date: datetime.date, library: Library | None = None
) -> NightResult:
    """Run the programs steps of one athlete's night for the finished day `date`."""
    skipped: dict[str, str] = {}
    health = consent.has_consent(athlete, consent.HEALTH_DATA)
    ml = consent.has_consent(athlete, consent.ML_PERSONALISATION)
    if not health:
        skipped["autoregulation"] = consent.skipped_reason(consent.HEALTH_DATA)
    run = autoregulate(
        athlete=athlete, date=date, library=library, skip_reason=skipped.get("autoregulation", "")
    )
    raised = alerts.athlete_alerts_raise(athlete=athlete, date=date)
    if health and ml:
        score = learning.anomaly_check(athlete=athlete, date=date)
        is_anomaly = getattr(score, "is_anomaly", None)
        anomaly = (
            getattr(score, "reason", "not scored")
            if is_anomaly is None
            else ("unusual" if is_anomaly else "usual")
        )
    else:
        anomaly = consent.skipped_reason(
            consent.ML_PERSONALISATION if not ml else consent.HEALTH_DATA
        )
        skipped["anomaly"] = anomaly
    if ml:
        predictions = learning.predictions_update(athlete=athlete, date=date)
    else:
        skipped["predictions"] = consent.skipped_reason(consent.ML_PERSONALISATION)
        predictions = {"scored": 0, "made": [], "skipped": {}, "for_date": None}
    return NightResult(
        run=run,
        alerts_raised=len(raised),
        anomaly=anomaly,
        predictions=predictions,
        skipped=skipped,
    )
