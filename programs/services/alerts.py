"""Coach-by-exception detectors: turn an athlete's plan, logs and nightly runs into alerts.

Each detector is a pure function over plain data that returns a `Finding` (or None): the
alert's kind, severity, a title with no measurements (the inbox and the digest show it)
and its evidence `{"rule", "params", "points"}` (shown only on the alert). The
`athlete_alerts_raise` service gathers the data and raises what the detectors find
through `coaching.services.alert_raise`. Dedupe keys carry the ISO week of the run date,
so re-running a night, or the next night of the same week, creates nothing new; a
finding that persists into a new week raises a fresh alert for that week.

Not here: anomaly (programs.services.learning.anomaly_check). Plateau/decline of
endurance thresholds is not detected yet: only strength main lifts (reference
exercises) have a per-session series.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from athletes.models import AthleteProfile
from coaching import services as coaching_services
from coaching.models import Alert, Membership
from coaching.selectors import membership_for
from programs.engine import autoregulation as engine
from programs.engine import strength
from programs.ml import plateau as plateau_ml
from programs.models import AutoregulationRun, Exercise, PlannedSession, SetLog
from programs.services.adjustments import UNSET, _logs

MISSED_WINDOW_DAYS = 7
MISSED_MIN = 2
MISSED_HIGH = 3
ADHERENCE_RECENT_DAYS = 14
ADHERENCE_EARLIER_DAYS = 28
ADHERENCE_DROP_POINTS = 30.0
ADHERENCE_MIN_PLANNED = 4
READINESS_LOW = 40.0
READINESS_STREAK = 3
RPE_DRIFT_EXPOSURES = 4
RPE_DRIFT_MIN = 1.0
TREND_WEEKS = 6


@dataclass(frozen=True, kw_only=True)
class Finding:
    kind: str
    severity: int
    title: str
    key: str  # the subject part of the dedupe key (kind, lift); the week is added
    evidence: dict[str, Any]


def iso_week(day: datetime.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- pure detectors -------------------------------------------------------------------


def missed_sessions(
    planned: Sequence[tuple[datetime.date, str, bool]], date: datetime.date
) -> Finding | None:
    """`planned`: (date, name, completed) of the non-rest planned sessions of the window
    `date − 6 … date`."""
    missed = [(day, name) for day, name, done in planned if not done]
    if len(missed) < MISSED_MIN:
        return None
    return Finding(
        kind=Alert.Kind.MISSED_SESSIONS,
        severity=3 if len(missed) >= MISSED_HIGH else 2,
        title=f"Missed {len(missed)} planned sessions this week",
        key="missed_sessions",
        evidence={
            "rule": f"≥ {MISSED_MIN} planned sessions without a log in the last "
            f"{MISSED_WINDOW_DAYS} days (≥ {MISSED_HIGH}: high)",
            "params": {
                "window_days": MISSED_WINDOW_DAYS,
                "min_missed": MISSED_MIN,
                "high_from": MISSED_HIGH,
                "until": date,
            },
            "points": [
                {"date": day, "session": name, "completed": done} for day, name, done in planned
            ],
        },
    )


def adherence_drop(
    recent: tuple[int, int], earlier: tuple[int, int], date: datetime.date
) -> Finding | None:
    """`recent`/`earlier`: (completed, planned) over the last 14 days and the 28 before."""
    (recent_done, recent_planned), (earlier_done, earlier_planned) = recent, earlier
    if earlier_planned < ADHERENCE_MIN_PLANNED or recent_planned == 0:
        return None
    recent_pct = 100 * recent_done / recent_planned
    earlier_pct = 100 * earlier_done / earlier_planned
    if earlier_pct - recent_pct < ADHERENCE_DROP_POINTS:
        return None
    return Finding(
        kind=Alert.Kind.ADHERENCE_DROP,
        severity=2,
        title="Adherence has dropped over the last two weeks",
        key="adherence_drop",
        evidence={
            "rule": f"completed/planned over the last {ADHERENCE_RECENT_DAYS} days is "
            f"≥ {ADHERENCE_DROP_POINTS:g} points below the {ADHERENCE_EARLIER_DAYS} days "
            f"before (which had ≥ {ADHERENCE_MIN_PLANNED} planned)",
            "params": {
                "recent_days": ADHERENCE_RECENT_DAYS,
                "earlier_days": ADHERENCE_EARLIER_DAYS,
                "drop_points": ADHERENCE_DROP_POINTS,
                "min_planned": ADHERENCE_MIN_PLANNED,
                "until": date,
            },
            "points": [
                {
                    "period": "earlier",
                    "from": date
                    - datetime.timedelta(days=ADHERENCE_RECENT_DAYS + ADHERENCE_EARLIER_DAYS - 1),
                    "to": date - datetime.timedelta(days=ADHERENCE_RECENT_DAYS),
                    "completed": earlier_done,
                    "planned": earlier_planned,
                    "adherence_pct": round(earlier_pct, 1),
                },
                {
                    "period": "recent",
                    "from": date - datetime.timedelta(days=ADHERENCE_RECENT_DAYS - 1),
                    "to": date,
                    "completed": recent_done,
                    "planned": recent_planned,
                    "adherence_pct": round(recent_pct, 1),
                },
            ],
        },
    )


def readiness_low(
    runs: Sequence[tuple[datetime.date, float | None]], date: datetime.date
) -> Finding | None:
    """`runs`: (date, readiness score) of the nightly runs up to `date`. Fires when each
    of the last 3 days ending `date` has a run scoring below 40 (a missing night breaks
    the streak: no data is not low readiness)."""
    scores = dict(runs)
    days = [date - datetime.timedelta(days=k) for k in reversed(range(READINESS_STREAK))]
    if not all(scores.get(day) is not None and scores[day] < READINESS_LOW for day in days):
        return None
    return Finding(
        kind=Alert.Kind.READINESS_LOW,
        severity=2,
        title=f"Readiness has been low for {READINESS_STREAK} days in a row",
        key="readiness_low",
        evidence={
            "rule": f"readiness score < {READINESS_LOW:g} on each of the last "
            f"{READINESS_STREAK} consecutive days",
            "params": {"threshold": READINESS_LOW, "days": READINESS_STREAK, "until": date},
            "points": [{"date": day, "readiness_score": scores[day]} for day in days],
        },
    )


def rpe_drift(logs: Sequence[engine.LoggedSession], date: datetime.date) -> list[Finding]:
    """Per lift, the top set's logged RPE minus its planned target RPE, averaged over the
    last 4 exposures (sessions with both numbers): ≥ +1 means the planned loads have been
    feeling harder than prescribed."""
    exposures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for log in sorted(logs, key=lambda s: s.date):
        if log.date > date:
            continue
        top: dict[str, engine.LoggedSet] = {}
        for s in log.sets:
            if s.rpe is None or s.target_rpe is None:
                continue
            best = top.get(s.exercise)
            if best is None or (s.weight_kg, s.rpe) > (best.weight_kg, best.rpe):
                top[s.exercise] = s
        for slug, s in top.items():
            exposures[slug].append(
                {
                    "date": log.date,
                    "weight_kg": s.weight_kg,
                    "reps": s.reps,
                    "rpe": s.rpe,
                    "target_rpe": s.target_rpe,
                    "drift": round(s.rpe - s.target_rpe, 2),
                }
            )
    out = []
    for slug in sorted(exposures):
        last = exposures[slug][-RPE_DRIFT_EXPOSURES:]
        if len(last) < RPE_DRIFT_EXPOSURES:
            continue
        mean = sum(p["drift"] for p in last) / len(last)
        if mean < RPE_DRIFT_MIN:
            continue
        out.append(
            Finding(
                kind=Alert.Kind.RPE_DRIFT,
                severity=1,
                title=f"{_lift_name(slug)} is feeling harder than planned",
                key=f"rpe_drift:{slug}",
                evidence={
                    "rule": f"mean (top-set RPE − target RPE) over the last "
                    f"{RPE_DRIFT_EXPOSURES} exposures ≥ +{RPE_DRIFT_MIN:g}",
                    "params": {
                        "exercise": slug,
                        "exposures": RPE_DRIFT_EXPOSURES,
                        "min_mean_drift": RPE_DRIFT_MIN,
                        "mean_drift": round(mean, 2),
                        "until": date,
                    },
                    "points": last,
                },
            )
        )
    return out


def set_e1rm(weight_kg: float, reps: int, rpe: float | None) -> float | None:
    """e1RM of one set for the trend: the chart's reading of a logged set, except that a
    set without an RPE is left out here (assuming RPE 10 would bend the trend)."""
    return None if rpe is None else strength.logged_set_e1rm(weight_kg, reps, rpe)


def strength_trend(
    slug: str, points: Sequence[tuple[datetime.date, float]], date: datetime.date
) -> Finding | None:
    """Decline (severity 3) or plateau (severity 1) of a lift's per-session best e1RM
    over the last 6 weeks (programs.ml.plateau: Theil–Sen)."""
    result = plateau_ml.plateau(points, date, max_weeks=TREND_WEEKS)
    if not isinstance(result, plateau_ml.PlateauResult) or not result.is_plateau:
        return None
    name = _lift_name(slug)
    decline = result.is_decline
    return Finding(
        kind=Alert.Kind.DECLINE if decline else Alert.Kind.PLATEAU,
        severity=3 if decline else 1,
        title=f"{name} is declining" if decline else f"{name} has stopped progressing",
        key=f"{'decline' if decline else 'plateau'}:{slug}",
        evidence={
            "rule": (
                "Theil–Sen slope of session e1RM over the last 6 weeks: whole 95 % CI < 0"
                if decline
                else "Theil–Sen slope of session e1RM over the last 3–6 weeks ≤ 0"
            ),
            "params": {
                "exercise": slug,
                "max_weeks": TREND_WEEKS,
                "min_weeks": 3,
                "min_points": 4,
                "slope_kg_per_week": round(result.trend.slope_per_week, 3),
                "ci_kg_per_week": [
                    round(result.trend.ci_low_per_week, 3),
                    round(result.trend.ci_high_per_week, 3),
                ],
                "relative_slope_pct_per_week": round(result.relative_slope_pct_per_week, 2),
                "reason": result.reason,
            },
            "points": [{"date": day, "e1rm_kg": round(value, 2)} for day, value in result.points],
        },
    )


def _lift_name(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


# --- gathering ------------------------------------------------------------------------


def _client(athlete: AthleteProfile) -> Membership | None:
    membership = membership_for(athlete.user, athlete.tenant)
    if membership is None or membership.role != Membership.Role.CLIENT:
        return None
    return membership


def _planned(
    athlete: AthleteProfile, since: datetime.date, until: datetime.date
) -> list[tuple[datetime.date, str, bool]]:
    return _planned_of([athlete.pk], since, until)[athlete.pk]


def _planned_of(
    athlete_ids: Sequence[int], since: datetime.date, until: datetime.date
) -> dict[int, list[tuple[datetime.date, str, bool]]]:
    """`_planned` of several athletes in two queries (a nightly chunk's)."""
    sessions = (
        PlannedSession.objects.filter(
            athlete_id__in=list(athlete_ids), rest_day=False, date__range=(since, until)
        )
        .prefetch_related("logs")
        .order_by("date", "id")
    )
    out: dict[int, list[tuple[datetime.date, str, bool]]] = {i: [] for i in athlete_ids}
    for s in sessions:
        out[s.athlete_id].append((s.date, s.name, bool(s.logs.all())))
    return out


def adherence_since(date: datetime.date) -> datetime.date:
    """The first day the adherence detectors look at for the night of `date`."""
    recent_start = date - datetime.timedelta(days=ADHERENCE_RECENT_DAYS - 1)
    return recent_start - datetime.timedelta(days=ADHERENCE_EARLIER_DAYS)


def _within(
    rows: Sequence[tuple[datetime.date, str, bool]], since: datetime.date, until: datetime.date
) -> list[tuple[datetime.date, str, bool]]:
    return [row for row in rows if since <= row[0] <= until]


def _counts(rows: Sequence[tuple[datetime.date, str, bool]]) -> tuple[int, int]:
    return sum(1 for _, _, done in rows if done), len(rows)


def reference_lifts() -> list[str]:
    """The tenant's main lifts (reference, loadable): the ones with a trend."""
    return list(
        Exercise.objects.filter(is_reference=True, loadable=True).values_list("slug", flat=True)
    )


def _e1rm_series(
    athlete: AthleteProfile, date: datetime.date, main: Sequence[str] | None = None
) -> dict[str, list[tuple[datetime.date, float]]]:
    return _e1rm_series_of([athlete.pk], date, main)[athlete.pk]


def _e1rm_series_of(
    athlete_ids: Sequence[int], date: datetime.date, main: Sequence[str] | None = None
) -> dict[int, dict[str, list[tuple[datetime.date, float]]]]:
    """`_e1rm_series` of several athletes in one query (a nightly chunk's)."""
    since = date - datetime.timedelta(weeks=TREND_WEEKS) + datetime.timedelta(days=1)
    if main is None:
        main = reference_lifts()
    best: dict[int, dict[str, dict[datetime.date, float]]] = {
        i: defaultdict(dict) for i in athlete_ids
    }
    rows = SetLog.objects.filter(
        session__athlete_id__in=list(athlete_ids),
        session__date__range=(since, date),
        exercise__slug__in=list(main),
    ).values_list(
        "session__athlete_id", "exercise__slug", "session__date", "weight_kg", "reps", "rpe"
    )
    for athlete_id, slug, day, weight, reps, rpe in rows:
        value = set_e1rm(float(weight), reps, None if rpe is None else float(rpe))
        if value is not None and value > best[athlete_id][slug].get(day, 0.0):
            best[athlete_id][slug][day] = value
    return {
        i: {slug: sorted(days.items()) for slug, days in by_lift.items()}
        for i, by_lift in best.items()
    }


def athlete_findings(
    athlete: AthleteProfile,
    date: datetime.date,
    *,
    main_lifts: Sequence[str] | None = None,
    logs: Sequence[engine.LoggedSession] | None = None,
    planned: Sequence[tuple[datetime.date, str, bool]] | None = None,
    e1rm: Mapping[str, list[tuple[datetime.date, float]]] | None = None,
) -> list[Finding]:
    """Everything the detectors find about the athlete on `date` (tenant in context).
    `main_lifts` (`reference_lifts()`) lets a nightly batch read the tenant's once;
    `logs` (`_logs(athlete, date)`) is what the night already read for autoregulation;
    `planned` (`_planned(athlete, adherence_since(date), date)`) and `e1rm`
    (`_e1rm_series(athlete, date, main_lifts)`) what its chunk read for all athletes."""
    findings: list[Finding | None] = []
    recent_start = date - datetime.timedelta(days=ADHERENCE_RECENT_DAYS - 1)
    earlier_start = adherence_since(date)
    # One read for the three windows (the missed-sessions week lies inside the recent one).
    if planned is None:
        planned = _planned(athlete, earlier_start, date)
    week = _within(planned, date - datetime.timedelta(days=MISSED_WINDOW_DAYS - 1), date)
    findings.append(missed_sessions(week, date))
    earlier = _within(planned, earlier_start, recent_start - datetime.timedelta(days=1))
    recent = _within(planned, recent_start, date)
    findings.append(adherence_drop(_counts(recent), _counts(earlier), date))
    runs = AutoregulationRun.objects.filter(
        athlete=athlete,
        date__range=(date - datetime.timedelta(days=READINESS_STREAK - 1), date),
    ).values_list("date", "readiness_score")
    findings.append(readiness_low(list(runs), date))
    findings.extend(rpe_drift(logs if logs is not None else _logs(athlete, date), date))
    if e1rm is None:
        e1rm = _e1rm_series(athlete, date, main_lifts)
    for slug, points in sorted(e1rm.items()):
        findings.append(strength_trend(slug, points, date))
    return [f for f in findings if f is not None]


def athlete_alerts_raise(
    *,
    athlete: AthleteProfile,
    date: datetime.date,
    client: Any = UNSET,
    main_lifts: Sequence[str] | None = None,
    logs: Sequence[engine.LoggedSession] | None = None,
    planned: Sequence[tuple[datetime.date, str, bool]] | None = None,
    e1rm: Mapping[str, list[tuple[datetime.date, float]]] | None = None,
) -> list[Alert]:
    """Run the detectors for one athlete and night; the alerts newly created.

    Keys are `<kind>[:<lift>]:<ISO week of date>`, so reruns and later nights of the same
    week find the existing alert (whatever the coach did with it) and add nothing. An
    athlete who isn't a client of the tenant (a coach training themselves) gets none.
    `client` (the athlete's client membership or None), `main_lifts`, `planned` and
    `e1rm` are what a nightly batch loaded once for its chunk (see `athlete_findings`).
    """
    if client is UNSET:
        client = _client(athlete)
    if client is None:
        return []
    created_alerts = []
    week = iso_week(date)
    for finding in athlete_findings(
        athlete, date, main_lifts=main_lifts, logs=logs, planned=planned, e1rm=e1rm
    ):
        alert, created = coaching_services.alert_raise(
            client=client,
            kind=finding.kind,
            severity=finding.severity,
            title=finding.title,
            evidence=finding.evidence,
            dedupe_key=f"{finding.key}:{week}",
            day=date,
        )
        if created:
            created_alerts.append(alert)
    return created_alerts
