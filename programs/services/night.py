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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from athletes import consent
from athletes.models import AthleteProfile, Enrolment
from coaching.models import Membership
from programs.engine import autoregulation as engine
from programs.engine.library import Library
from programs.models import AutoregulationRun, ProgramBlock
from programs.services import alerts, learning
from programs.services.adjustments import (
    UNSET,
    _checkins_of,
    _logs,
    _logs_of,
    autoregulate,
)
from programs.services.plans import tenant_library


@dataclass(frozen=True, kw_only=True)
class NightResult:
    run: AutoregulationRun
    alerts_raised: int
    anomaly: str  # "unusual", "usual", or why it wasn't scored
    predictions: dict
    skipped: dict[str, str] = field(default_factory=dict)  # step -> why it did not run


@dataclass(frozen=True, kw_only=True)
class NightContext:
    """What a nightly chunk loads once for all its athletes (the tenant in context):
    read-only inputs, each exactly what the per-athlete read would have returned."""

    library: Library
    main_lifts: list[str]
    consents: Mapping[int, Mapping[str, bool]]  # athlete id -> purpose -> granted
    enrolments: Mapping[int, Enrolment]  # open enrolment (tier, version) by athlete id
    blocks: Mapping[int, ProgramBlock]  # active block by athlete id
    clients: Mapping[int, Membership]  # client membership by athlete id
    # The athletes' own history up to the night, one query per table for the chunk
    # (nothing tonight writes changes them: tonight's changes are to later sessions).
    # Absent (None) for a context built without them: each service then reads its own.
    logs: Mapping[int, list[engine.LoggedSession]] | None = None  # `_logs`
    checkins: Mapping[int, dict[datetime.date, engine.DayCheckIn]] | None = None  # `_checkins`
    planned: Mapping[int, list[tuple[datetime.date, str, bool]]] | None = None  # alerts
    e1rm: Mapping[int, dict[str, list[tuple[datetime.date, float]]]] | None = None  # alerts
    anomaly_rows: Mapping[int, dict[datetime.date, dict[str, float | None]]] | None = None


def night_context(athletes: Sequence[AthleteProfile], date: datetime.date) -> NightContext:
    """About fifteen queries for a chunk, whatever its size: what the tenant shares (library,
    main lifts), each athlete's consents, enrolment, block and membership, and the
    history that autoregulation and the alerts read for the night of `date` (logs with
    their sets and targets, check-ins twice (readiness's window, the anomaly model's),
    planned sessions with their logs, e1RM sets)."""
    ids = [a.pk for a in athletes]
    main_lifts = alerts.reference_lifts()
    enrolments: dict[int, Enrolment] = {}
    # Same pick as `current_enrolment` / `active_block_of` (`.first()` in Meta.ordering)
    # when there are several: read in the reverse order, so the first one is kept last.
    for enrolment in (
        Enrolment.objects.filter(athlete_id__in=ids, ended__isnull=True)
        .select_related("tier", "methodology_version")
        .order_by("started", "id")
    ):
        enrolments[enrolment.athlete_id] = enrolment
    blocks: dict[int, ProgramBlock] = {}
    for block in ProgramBlock.objects.filter(
        athlete_id__in=ids, status=ProgramBlock.Status.ACTIVE
    ).order_by("start_date", "id"):
        blocks[block.athlete_id] = block
    by_user = {
        m.user_id: m
        for m in Membership.objects.filter(
            user_id__in=[a.user_id for a in athletes], role=Membership.Role.CLIENT
        )
    }
    return NightContext(
        library=tenant_library(),
        main_lifts=main_lifts,
        consents=consent.consent_states(ids),
        enrolments=enrolments,
        blocks=blocks,
        clients={a.pk: by_user[a.user_id] for a in athletes if a.user_id in by_user},
        logs=_logs_of(ids, date),
        checkins=_checkins_of(ids, date),
        planned=alerts._planned_of(ids, alerts.adherence_since(date), date),
        e1rm=alerts._e1rm_series_of(ids, date, main_lifts),
        anomaly_rows=learning.checkin_rows_of(ids, date),
    )


def _slice(chunk: Mapping[int, Any] | None, athlete_id: int) -> Any:
    return None if chunk is None else chunk.get(athlete_id)


def athlete_night(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    library: Library | None = None,
    context: NightContext | None = None,
) -> NightResult:
    """Run the programs steps of one athlete's night for the finished day `date`.
    `context` (from `night_context`) replaces the per-athlete reads of what a nightly
    chunk loaded once; without it everything is read here."""
    skipped: dict[str, str] = {}
    if context is not None:
        granted = context.consents.get(athlete.pk, {})
        health = granted.get(consent.HEALTH_DATA, False)
        ml = granted.get(consent.ML_PERSONALISATION, False)
        library = library or context.library
        known = {
            "enrolment": context.enrolments.get(athlete.pk),
            "block": context.blocks.get(athlete.pk),
        }
        client = context.clients.get(athlete.pk)
    else:
        health = consent.has_consent(athlete, consent.HEALTH_DATA)
        ml = consent.has_consent(athlete, consent.ML_PERSONALISATION)
        known = {}
        client = UNSET
    if not health:
        skipped["autoregulation"] = consent.skipped_reason(consent.HEALTH_DATA)
    # Autoregulation and the alerts read the same logs (up to `date`, which tonight's
    # changes to later sessions don't touch): read them once, or take the chunk's.
    logs = _slice(context.logs, athlete.pk) if context is not None else None
    if logs is None:
        logs = _logs(athlete, date)
    run = autoregulate(
        athlete=athlete,
        date=date,
        library=library,
        skip_reason=skipped.get("autoregulation", ""),
        logs=logs,
        checkins=_slice(context.checkins, athlete.pk) if context is not None else None,
        **known,
    )
    raised = alerts.athlete_alerts_raise(
        athlete=athlete,
        date=date,
        client=client,
        main_lifts=context.main_lifts if context is not None else None,
        logs=logs,
        planned=_slice(context.planned, athlete.pk) if context is not None else None,
        e1rm=_slice(context.e1rm, athlete.pk) if context is not None else None,
    )
    if health and ml:
        score = learning.anomaly_check(
            athlete=athlete,
            date=date,
            client=client,
            rows=_slice(context.anomaly_rows, athlete.pk) if context is not None else None,
        )
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
        predictions = learning.predictions_update(
            athlete=athlete, date=date, block=known.get("block", UNSET)
        )
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
