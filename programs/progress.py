"""Reads behind a client's history and progress pages, and the registry through which
higher apps add a chart to the progress page.

History: the sessions an athlete logged (what was planned beside what was done) and
the timeline of changes the engine or coach made. Progress: e1RM per main lift, the
PMC for endurance athletes, readiness; body weight comes from `nutrition` (its trend
smoothing lives there and programs may not import nutrition), which registers it with
`register_panel` from its `AppConfig.ready()`.

Everything here reads through the tenant-scoped managers: it sees only the tenant in
context.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from athletes import consent
from athletes.models import AthleteProfile
from athletes.selectors import athlete_in_view, is_staff
from coaching.models import Membership
from programs import charts, metrics, selectors
from programs.models import Adjustment, AutoregulationRun, Exercise, SessionLog

E1RM_WEEKS = 26
PMC_WEEKS = 12
READINESS_WEEKS = 8

# --- history ------------------------------------------------------------------------------


def session_logs_of(athlete: AthleteProfile) -> QuerySet[SessionLog]:
    """The athlete's logs, newest first, with the sets done and (for a planned session)
    the sets planned, counted in the query so a page of logs is one query."""
    return (
        SessionLog.objects.filter(athlete=athlete)
        .select_related("planned_session")
        .annotate(
            sets_done=Count("sets", distinct=True),
            sets_planned=Count("planned_session__sets", distinct=True),
        )
        .order_by("-date", "-id")
    )


def adjustment_timeline(membership: Membership, athlete: AthleteProfile) -> QuerySet[Adjustment]:
    """The athlete's changes, newest first, as the member may see them: staff see every
    status, a client what was applied or later reverted (the rule of
    `selectors.adjustments_visible_to`)."""
    return selectors.adjustments_visible_to(membership).filter(athlete=athlete)


# --- progress -----------------------------------------------------------------------------


def main_lifts() -> dict[str, str]:
    """The tenant's main lifts (reference, loadable), slug → name: the ones charted."""
    return dict(
        Exercise.objects.filter(is_reference=True, loadable=True)
        .order_by("name")
        .values_list("slug", "name")
    )


def lift_trends(athlete: AthleteProfile, today: datetime.date) -> dict[str, charts.LiftTrend]:
    """e1RM per main lift over the last `E1RM_WEEKS` weeks (lifts without usable sets
    are left out), keyed by the lift's name."""
    since = today - datetime.timedelta(weeks=E1RM_WEEKS)
    sets = selectors.logged_sets_by_exercise(athlete, since=since)
    trends = {}
    for slug, name in main_lifts().items():
        trend = charts.e1rm_trend(sets.get(slug, []))
        if trend.best:
            trends[name] = trend
    return trends


def readiness_by_day(athlete: AthleteProfile, today: datetime.date) -> dict[datetime.date, float]:
    """The nightly readiness score (0–100) over the last `READINESS_WEEKS` weeks."""
    since = today - datetime.timedelta(weeks=READINESS_WEEKS)
    rows = AutoregulationRun.objects.filter(
        athlete=athlete, date__range=(since, today), readiness_score__isnull=False
    ).values_list("date", "readiness_score")
    return {day: float(score) for day, score in rows}


def pmc_of(athlete: AthleteProfile, today: datetime.date) -> metrics.AthleteLoadSeries | None:
    """CTL/ATL/TSB over the last `PMC_WEEKS` weeks for endurance and hybrid athletes
    (warmed up from their first log, `metrics.load_series_of`); None for strength
    athletes and for those with no logs yet."""
    if athlete.discipline == AthleteProfile.Discipline.STRENGTH:
        return None
    if not SessionLog.objects.filter(athlete=athlete, date__lte=today).exists():
        return None
    return metrics.load_series_of(athlete, today - datetime.timedelta(weeks=PMC_WEEKS), today)


def profile_visible(membership: Membership, athlete_id: int | None) -> AthleteProfile | None:
    """The athlete a page is about: the member's own profile, or (staff) one by id."""
    return athlete_in_view(membership, athlete_id)


# --- the registry of extra panels ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PanelProvider:
    """A chart another app adds to the progress page. `raw_checkins`: it draws check-in
    values, which staff see only with the client's `coach_access` consent."""

    key: str
    order: int
    build: Callable[[AthleteProfile, datetime.date], charts.Panel | None]
    raw_checkins: bool = False


_PROVIDERS: dict[str, PanelProvider] = {}


def register_panel(provider: PanelProvider) -> None:
    """Called from an `AppConfig.ready()`; registering a key again replaces it."""
    _PROVIDERS[provider.key] = provider


def extra_panels(
    athlete: AthleteProfile, today: datetime.date, *, raw_checkins: bool
) -> list[charts.Panel]:
    panels = []
    for provider in sorted(_PROVIDERS.values(), key=lambda p: p.order):
        if provider.raw_checkins and not raw_checkins:
            continue
        panel = provider.build(athlete, today)
        if panel is not None:
            panels.append(panel)
    return panels


def raw_checkins_visible(membership: Membership, athlete: AthleteProfile) -> bool:
    """Whether the member may see the athlete's raw check-in values (the consent gate of
    `athletes.selectors.checkins_visible_to`)."""
    if not is_staff(membership) or athlete.user_id == membership.user_id:
        return True
    return consent.has_consent(athlete, consent.COACH_ACCESS)


# --- the panels of the progress page --------------------------------------------------------

_COLOURS = ("#2457d6", "#b42318", "#1b7f3b", "#7a4cc2")


def _kg(value: float) -> str:
    return f"{value:.1f}"


def _d(day: datetime.date) -> str:
    return f"{day:%d %b}".lstrip("0")


def lift_panel(name: str, trend: charts.LiftTrend) -> charts.Panel:
    """One main lift: dots are each session's best set, the line the working e1RM."""
    chart = charts.time_chart(
        [
            charts.Series(name="best set", points=trend.best, style="dots", colour="#6b7689"),
            charts.Series(name="working e1RM", points=trend.working, style="line"),
        ],
        margin=2.5,
        min_points=1,
    )
    days = sorted(trend.best)
    last = days[-1]
    now = trend.working.get(last, trend.best[last])
    summary = f"{name}: working e1RM {_kg(now)} kg on {_d(last)}"
    if len(days) > 1 and days[0] in trend.working:
        change = now - trend.working[days[0]]
        summary += f", {'up' if change >= 0 else 'down'} {_kg(abs(change))} kg since {_d(days[0])}"
    summary += f" ({len(days)} session{'s' if len(days) != 1 else ''})."
    rows = tuple(
        (
            _d(day),
            _kg(trend.best[day]),
            _kg(trend.working[day]) if day in trend.working else "—",
        )
        for day in reversed(days)
    )
    return charts.Panel(
        key=f"e1rm-{name.lower().replace(' ', '-')}",
        title=f"{name} · estimated 1RM (kg)",
        summary=summary,
        chart=chart,
        headers=("Session", "Best set e1RM (kg)", "Working e1RM (kg)"),
        rows=rows,
        note="Dots: the best set of each session (RTS chart). Line: the working e1RM your"
        " plan uses, which ignores one unusually good day.",
    )


def pmc_panel(series: metrics.AthleteLoadSeries) -> charts.Panel:
    ctl = {p.date: p.ctl for p in series.points}
    atl = {p.date: p.atl for p in series.points}
    tsb = {p.date: p.tsb for p in series.points}
    lines = [
        charts.Series(name="fitness (CTL)", points=ctl, colour=_COLOURS[0]),
        charts.Series(name="fatigue (ATL)", points=atl, colour=_COLOURS[1]),
        charts.Series(name="form (TSB)", points=tsb, colour=_COLOURS[2]),
    ]
    last = series.points[-1]
    rows = tuple(
        (_d(day), *(f"{v:.0f}" if v is not None else "—" for v in values))
        for day, values in reversed(charts.weekly_rows(lines))
    )
    return charts.Panel(
        key="pmc",
        title="Fitness, fatigue and form",
        summary=(
            f"On {_d(last.date)}: fitness (CTL) {last.ctl:.0f}, fatigue (ATL) {last.atl:.0f},"
            f" form (TSB) {last.tsb:+.0f}."
        ),
        chart=charts.time_chart(lines, margin=2),
        headers=("Day", "Fitness (CTL)", "Fatigue (ATL)", "Form (TSB)"),
        rows=rows,
        note=f"Load in {series.unit.unit.upper()}: {series.unit.reason} Fitness is the"
        " 42-day average load, fatigue the 7-day one; form is yesterday's fitness minus"
        " yesterday's fatigue (negative while you build, positive when fresh).",
    )


def readiness_panel(scores: dict[datetime.date, float]) -> charts.Panel | None:
    if not scores:
        return None
    series = charts.Series(name="readiness", points=scores, style="both")
    days = sorted(scores)
    mean = sum(scores.values()) / len(scores)
    return charts.Panel(
        key="readiness",
        title=f"Readiness, last {READINESS_WEEKS} weeks (0–100)",
        summary=(
            f"Latest {scores[days[-1]]:.0f} on {_d(days[-1])}; average {mean:.0f} over"
            f" {len(days)} day{'s' if len(days) != 1 else ''}."
        ),
        chart=charts.time_chart([series], margin=0, min_points=2, value_range=(0, 100)),
        headers=("Day", "Readiness"),
        rows=tuple((_d(day), f"{scores[day]:.0f}") for day in reversed(days)),
        note="Computed each night from your check-in (sleep, HRV, soreness, stress, mood)"
        " and your last session, with the weights your coach's method sets.",
    )


def progress_panels(
    athlete: AthleteProfile, today: datetime.date, *, raw_checkins: bool
) -> list[charts.Panel]:
    """Every panel of the progress page, in order: lifts, PMC, readiness, then the
    registered ones (body weight)."""
    panels = [lift_panel(name, trend) for name, trend in lift_trends(athlete, today).items()]
    series = pmc_of(athlete, today)
    if series is not None and series.points:
        panels.append(pmc_panel(series))
    readiness = readiness_panel(readiness_by_day(athlete, today))
    if readiness is not None:
        panels.append(readiness)
    panels.extend(extra_panels(athlete, today, raw_checkins=raw_checkins))
    return panels
