"""Programs' columns of the coach dashboard (coaching/dashboard.py): readiness today,
adherence over 7 and 28 days, and the last logged session. Each loader is one query over
all the rows, registered from `ProgramsConfig.ready()`."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Exists, Max, OuterRef

from athletes import consent
from coaching import dashboard
from coaching.dashboard import ClientRow
from coaching.selectors import tenant_today
from programs.models import AutoregulationRun, PlannedSession, SessionLog
from programs.services.alerts import READINESS_LOW


def _ids(rows: Sequence[ClientRow]) -> list[int]:
    return [r.athlete_id for r in rows]


def readiness_today(rows: Sequence[ClientRow]) -> Mapping[int, float]:
    """The score of the newest night run for yesterday or today: what today's plan was
    adjusted with. Only for clients who let their coach see their health data
    (`coach_access`): the score is made of their check-ins."""
    today = tenant_today()
    found = (
        AutoregulationRun.objects.filter(
            athlete_id__in=_ids(rows),
            date__gte=today - datetime.timedelta(days=1),
            readiness_score__isnull=False,
            athlete__in=consent.athletes_consenting(consent.COACH_ACCESS).values("pk"),
        )
        .order_by("athlete_id", "date")
        .values_list("athlete_id", "readiness_score")
    )
    return dict(found)  # ordered by date: the newest night wins


@dataclass(frozen=True)
class Adherence:
    completed: int
    planned: int

    @property
    def ratio(self) -> float:
        return self.completed / self.planned

    def __str__(self) -> str:
        return f"{round(100 * self.ratio)} % ({self.completed}/{self.planned})"


def adherence_loader(days: int):
    """Planned (non-rest) sessions of the `days` before today with a log, out of all of
    them, as the adherence alerts count them; clients with nothing planned have no value."""

    def load(rows: Sequence[ClientRow]) -> Mapping[int, Adherence]:
        today = tenant_today()
        sessions = (
            PlannedSession.objects.filter(
                athlete_id__in=_ids(rows),
                rest_day=False,
                date__range=(today - datetime.timedelta(days=days), today - datetime.timedelta(1)),
            )
            .annotate(done=Exists(SessionLog.objects.filter(planned_session=OuterRef("pk"))))
            .values_list("athlete_id", "done")
        )
        planned: dict[int, int] = defaultdict(int)
        completed: dict[int, int] = defaultdict(int)
        for athlete_id, done in sessions:
            planned[athlete_id] += 1
            completed[athlete_id] += bool(done)
        return {a: Adherence(completed[a], n) for a, n in planned.items()}

    return load


def last_log(rows: Sequence[ClientRow]) -> Mapping[int, datetime.date]:
    found = (
        SessionLog.objects.filter(athlete_id__in=_ids(rows))
        .order_by()
        .values("athlete_id")
        .annotate(last=Max("date"))
        .values_list("athlete_id", "last")
    )
    return dict(found)


def _low(score: float) -> bool:
    return score < READINESS_LOW


def _adherence_css(value: Adherence) -> str:
    return "attention" if value.ratio < 0.5 else ""


def register() -> None:
    dashboard.register_column(
        key="readiness",
        label="Readiness today",
        order=20,
        load=readiness_today,
        sort_key=float,
        display=lambda score: f"{score:.0f}",
        attention=_low,
        css=lambda score: "attention" if _low(score) else "",
    )
    for key, days, order in (("adherence_7", 7, 30), ("adherence_28", 28, 40)):
        dashboard.register_column(
            key=key,
            label=f"Adherence {days} d",
            order=order,
            load=adherence_loader(days),
            sort_key=lambda value: (value.ratio, value.planned),
            css=_adherence_css,
        )
    dashboard.register_column(
        key="last_log",
        label="Last log",
        order=50,
        load=last_log,
        sort_key=datetime.date.toordinal,
        display=lambda day: f"{day:%a %-d %b}",
    )


register()
