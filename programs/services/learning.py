"""Per-athlete models made persistent (SCIENCE.md §6): unusual-day detection and
next-session predictions, each fitted on one athlete's own data within their tenant.

- `anomaly_check(athlete=, date=)`: the nightly step. Scores the day's check-in with the
  athlete's stored IsolationForest and raises an `anomaly` alert naming the features
  that drove it. The forest is (re)fitted on the days *before* `date` — so the day being
  judged never teaches the model its own normal — when there is no usable model or
  `needs_refit` says so (weekly on the athlete's `refit_weekday`, or after ≥ 7 new days).
  Running the same night again refits nothing and raises nothing new.
- `predictions_update(athlete=, date=)`: scores stored predictions whose outcome has been
  logged, then predicts the e1RM of the main lifts of the next planned session. A stored
  prediction is never rewritten: it was made before the outcome was known.
- `prediction_mae(athlete)` and `model_audit(tenant)`: what the coach reads.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from athletes.models import AthleteProfile, CheckIn
from coaching import services as coaching_services
from coaching.models import Membership, Tenant
from coaching.selectors import membership_for
from coaching.tenancy import tenant_context
from programs.engine import strength
from programs.ml import anomaly as anomaly_ml
from programs.ml import audit as audit_ml
from programs.ml import predict as predict_ml
from programs.ml.common import Insufficient
from programs.models import (
    AssessmentLift,
    AthleteModel,
    PlannedSession,
    PlannedSet,
    Prediction,
    ProgramBlock,
    SetLog,
)
from programs.services.adjustments import UNSET

HISTORY_WEEKS = 12  # e1RM history read for a prediction (the engine windows it to 6)
# Plain names for the alert title: which features, never how much (titles carry no numbers).
FEATURE_LABELS = {
    "sleep_hours": "sleep duration",
    "sleep_quality": "sleep quality",
    "soreness": "soreness",
    "stress": "stress",
    "mood": "mood",
    "ln_rmssd": "HRV",
    "resting_hr_bpm": "resting HR",
    "body_weight_kg": "body weight",
}
_CHECKIN_FIELDS = (
    "sleep_hours",
    "sleep_quality",
    "soreness",
    "stress",
    "mood",
    "hrv_rmssd_ms",
    "resting_hr_bpm",
    "body_weight_kg",
)


# --- anomaly --------------------------------------------------------------------------


def _checkin_rows(
    athlete: AthleteProfile, date: datetime.date
) -> dict[datetime.date, dict[str, float | None]]:
    return checkin_rows_of([athlete.pk], date)[athlete.pk]


def checkin_rows_of(
    athlete_ids: Sequence[int], date: datetime.date
) -> dict[int, dict[datetime.date, dict[str, float | None]]]:
    """The anomaly model's feature rows of several athletes in one query (a nightly
    chunk's): the `WINDOW_DAYS` days up to `date`."""
    since = date - datetime.timedelta(days=anomaly_ml.WINDOW_DAYS)
    rows = CheckIn.objects.filter(
        athlete_id__in=list(athlete_ids), date__gte=since, date__lte=date
    ).values("athlete_id", "date", *_CHECKIN_FIELDS)
    out: dict[int, dict[datetime.date, dict[str, float | None]]] = {i: {} for i in athlete_ids}
    for row in rows:
        out[row["athlete_id"]][row["date"]] = anomaly_ml.checkin_row(
            **{f: row[f] for f in _CHECKIN_FIELDS}
        )
    return out


def _has_data(row: dict[str, float | None]) -> bool:
    return any(v is not None for v in row.values())


def _stored_model(athlete: AthleteProfile) -> tuple[AthleteModel | None, Any]:
    stored = AthleteModel.objects.filter(athlete=athlete, kind=AthleteModel.Kind.ANOMALY).first()
    if stored is None:
        return None, None
    try:
        return stored, anomaly_ml.loads(bytes(stored.blob))
    except ValueError:
        return stored, None  # another model or sklearn version: refit


def _fit(
    athlete: AthleteProfile, rows: dict, date: datetime.date
) -> anomaly_ml.AnomalyModel | Insufficient:
    before = {d: r for d, r in rows.items() if d < date}
    fitted = anomaly_ml.fit_anomaly(
        before, today=date - datetime.timedelta(days=1), random_state=athlete.pk
    )
    if isinstance(fitted, Insufficient):
        return fitted
    AthleteModel.objects.update_or_create(
        athlete=athlete,
        kind=AthleteModel.Kind.ANOMALY,
        defaults={
            "version": fitted.version,
            "fitted_on": fitted.fitted_on,
            "n_days": fitted.n_days,
            "blob": anomaly_ml.dumps(fitted),
            "meta": {
                "sklearn_version": fitted.sklearn_version,
                "window_start": fitted.window_start.isoformat(),
                "features": list(fitted.features),
                "random_state": fitted.random_state,
                "refit_weekday": anomaly_ml.refit_weekday(athlete.pk),
                "reason": fitted.reason,
            },
        },
    )
    return fitted


def _client_membership(athlete: AthleteProfile) -> Membership | None:
    membership = membership_for(athlete.user, athlete.tenant)
    if membership is None or membership.role != Membership.Role.CLIENT:
        return None
    return membership


@transaction.atomic
def anomaly_check(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    client: Any = UNSET,
    rows: Mapping[datetime.date, dict[str, float | None]] | None = None,
) -> anomaly_ml.AnomalyScore | Insufficient:
    """Fit or refit when due, then score `date`'s check-in; alert when it is unusual.

    `Insufficient` while the athlete has fewer than 28 days of data before `date` (no
    model is stored), or when there is no check-in on `date` to score. `client`: the
    athlete's client membership (or None) when a nightly batch loaded it for its chunk;
    `rows` (`checkin_rows_of`) the athlete's feature rows it read for the chunk.
    """
    rows = dict(rows) if rows is not None else _checkin_rows(athlete, date)
    stored, model = _stored_model(athlete)
    if model is None:
        fitted = _fit(athlete, rows, date)
        if isinstance(fitted, Insufficient):
            return fitted
        model = fitted
    else:
        new_days = sum(1 for d, r in rows.items() if model.fitted_on < d < date and _has_data(r))
        if anomaly_ml.needs_refit(
            model, date, new_days, weekday=anomaly_ml.refit_weekday(athlete.pk)
        ):
            fitted = _fit(athlete, rows, date)
            if not isinstance(fitted, Insufficient):
                model = fitted
    today = rows.get(date)
    if today is None or not any(today.get(f) is not None for f in model.features):
        return Insufficient(
            reason=f"No check-in or wearable data on {date.isoformat()} to score", have=0, need=1
        )
    result = anomaly_ml.score_anomaly(model, today)
    if client is UNSET:
        client = _client_membership(athlete)
    if result.is_anomaly and client is not None:
        labels = [FEATURE_LABELS[f] for f in result.named]
        title = (
            f"Unusual day: {', '.join(labels)}"
            if labels
            else "Unusual day: an unusual combination of check-in values"
        )
        coaching_services.alert_raise(
            client=client,
            kind="anomaly",
            severity=2,
            title=title,
            evidence={
                "rule": "isolation_forest_or_extreme_z",
                "params": {
                    "model_version": result.model_version,
                    "fitted_on": result.fitted_on,
                    "score": result.score,
                    "threshold": result.threshold,
                    "forest_unusual": result.forest_unusual,
                    "extreme": list(result.extreme),
                    "z_extreme": anomaly_ml.Z_EXTREME,
                    "sentence": result.reason,
                },
                "points": [
                    {
                        "feature": d.feature,
                        "value": d.value,
                        "usual": d.usual,
                        "sd": d.sd,
                        "z": d.z,
                        "imputed": d.imputed,
                        "named": d.feature in result.named,
                    }
                    for d in result.drivers
                ],
            },
            dedupe_key=f"anomaly:{date.isoformat()}",
            day=date,
        )
    return result


# --- predictions ----------------------------------------------------------------------


def _session_e1rms(
    athlete: AthleteProfile, slugs: set[str], since: datetime.date, until: datetime.date
) -> dict[str, dict[datetime.date, float]]:
    """Best-set e1RM per exercise and logged day, `since` ≤ day ≤ `until`."""
    best: dict[str, dict[datetime.date, float]] = defaultdict(dict)
    rows = SetLog.objects.filter(
        session__athlete=athlete,
        session__date__gte=since,
        session__date__lte=until,
        exercise__slug__in=slugs,
    ).values_list("exercise__slug", "session__date", "weight_kg", "reps", "rpe")
    for slug, day, weight, reps, rpe in rows:
        value = strength.logged_set_e1rm(float(weight), reps, rpe)
        if value is not None and value > best[slug].get(day, 0.0):
            best[slug][day] = value
    return best


def _score_due(athlete: AthleteProfile, date: datetime.date) -> int:
    due = list(
        Prediction.objects.filter(
            athlete=athlete, kind=Prediction.Kind.E1RM, scored_on=None, for_date__lte=date
        )
    )
    if not due:
        return 0
    outcomes = _session_e1rms(
        athlete,
        {p.subject for p in due},
        min(p.for_date for p in due),
        max(p.for_date for p in due),
    )
    scored = 0
    for prediction in due:
        actual = outcomes.get(prediction.subject, {}).get(prediction.for_date)
        if actual is None:
            continue  # not logged (yet): stays open
        prediction.actual = actual
        prediction.abs_error = abs(prediction.predicted - actual)
        prediction.scored_on = date
        prediction.save(update_fields=["actual", "abs_error", "scored_on"])
        scored += 1
    return scored


def _next_session(
    athlete: AthleteProfile, date: datetime.date, block: Any = UNSET
) -> PlannedSession | None:
    if block is UNSET:
        block = ProgramBlock.objects.filter(
            athlete=athlete, status=ProgramBlock.Status.ACTIVE
        ).first()
    if block is None:
        return None
    return (
        PlannedSession.objects.filter(block=block, date__gt=date, rest_day=False)
        .filter(sets__exercise__is_reference=True, sets__exercise__loadable=True)
        .order_by("date", "id")
        .first()
    )


@transaction.atomic
def predictions_update(
    *, athlete: AthleteProfile, date: datetime.date, block: Any = UNSET
) -> dict[str, Any]:
    """Score what is due, then predict the next session's main lifts (reference lifts).
    `block`: the active block (or None) when a nightly batch loaded it for its chunk.

    Returns `{"scored": n, "made": [slugs], "skipped": {slug: reason}, "for_date": day}`.
    """
    scored = _score_due(athlete, date)
    session = _next_session(athlete, date, block)
    made: list[str] = []
    skipped: dict[str, str] = {}
    if session is None:
        return {"scored": scored, "made": made, "skipped": skipped, "for_date": None}
    slugs = set(
        PlannedSet.objects.filter(
            session=session, exercise__is_reference=True, exercise__loadable=True
        ).values_list("exercise__slug", flat=True)
    )
    history = _session_e1rms(
        athlete, slugs, date - datetime.timedelta(weeks=HISTORY_WEEKS), session.date
    )
    anchors: dict[str, list[tuple[datetime.date, float]]] = defaultdict(list)
    tested = AssessmentLift.objects.filter(
        assessment__athlete=athlete,
        tested=True,
        exercise__slug__in=slugs,
        assessment__date__lte=date,
    ).values_list("exercise__slug", "assessment__date", "e1rm_kg")
    for slug, day, value in tested:
        anchors[slug].append((day, float(value)))
    existing = set(
        Prediction.objects.filter(
            athlete=athlete, kind=Prediction.Kind.E1RM, for_date=session.date
        ).values_list("subject", flat=True)
    )
    for slug in sorted(slugs):
        if slug in existing:
            continue  # made on an earlier night, before the outcome: kept as it was
        points = sorted(history.get(slug, {}).items())
        try:
            prediction = predict_ml.predict_next_e1rm(
                points, on=session.date, anchors=anchors.get(slug, ())
            )
        except ValueError as error:
            skipped[slug] = str(error)
            continue
        Prediction.objects.create(
            athlete=athlete,
            kind=Prediction.Kind.E1RM,
            subject=slug,
            made_on=date,
            for_date=session.date,
            predicted=prediction.value,
            method=prediction.method,
            reason=prediction.reason,
        )
        made.append(slug)
    return {"scored": scored, "made": made, "skipped": skipped, "for_date": session.date}


def athlete_models_delete(athlete: AthleteProfile) -> int:
    """Delete the athlete's fitted models and the predictions they made: what withdrawing
    `ml_personalisation` consent means (registered in `ProgramsConfig.ready()`)."""
    models_deleted, _ = AthleteModel.objects.filter(athlete=athlete).delete()
    predictions_deleted, _ = Prediction.objects.filter(athlete=athlete).delete()
    return models_deleted + predictions_deleted


def prediction_mae(athlete: AthleteProfile) -> dict[str, tuple[float, int]]:
    """MAE and count of the athlete's scored predictions, per subject (exercise or 'ftp')."""
    errors: dict[str, list[float]] = defaultdict(list)
    rows = Prediction.objects.filter(athlete=athlete, abs_error__isnull=False).values_list(
        "subject", "abs_error"
    )
    for subject, error in rows:
        errors[subject].append(error)
    return {s: (sum(e) / len(e), len(e)) for s, e in sorted(errors.items())}


# --- bias audit -----------------------------------------------------------------------


def _years(start: datetime.date, end: datetime.date) -> float:
    return max((end - start).days / 365.25, 0.0)


def model_audit(tenant: Tenant, *, min_group: int = 10) -> audit_ml.AuditReport:
    """Prediction error of one tenant by sex, age band and training age, with counts.

    Age is taken on the predicted day. Training age is the profile's current value: it
    is not recorded per date.
    """
    with tenant_context(tenant):
        rows = Prediction.objects.filter(abs_error__isnull=False).values_list(
            "for_date",
            "abs_error",
            "athlete__sex",
            "athlete__birth_date",
            "athlete__training_age_years",
        )
        audit_rows = [
            audit_ml.AuditRow(
                sex=sex or None,
                age_years=_years(birth, day) if birth else None,
                training_age_years=float(training) if training is not None else None,
                abs_error=error,
            )
            for day, error, sex, birth, training in rows
        ]
    return audit_ml.bias_audit(audit_rows, min_group=min_group)
