"""The client's Today page (issue 10, client side): the registry its panels plug into.

Today is the page a client opens every morning on a phone: the readiness check-in (this
app's own panel), today's planned session, today's meals and a preview of tomorrow. The
session and the meals belong to apps athletes may not import (DESIGN.md), so they add
their panels here from `AppConfig.ready()`, the same way they add onboarding sections:

- `register_panel(name, order, build, actions=...)`: `build(day)` returns a `Panel` (a
  template and its context) or None to show nothing. `actions` are the panel's writes
  (logging a set, a session): the page posts to `today/<panel>/<action>/<id>/` and the
  action returns an `ActionResult` that re-renders a part of the panel in place (htmx)
  or, without JavaScript, the whole page.
- `register_preview(name, order, build)`: one line each in the "Tomorrow" panel.
- `register_readiness(fn)`: the day's readiness from that day's check-in (the engine's
  formula lives in programs), shown in the check-in panel once there is one.

Builders must load in bulk: the page's queries stay constant however long the session
or the meal plan is (tests/test_today.py counts them). `Day.memo` lets two builders that
need the same rows (today's and tomorrow's sessions) load them once.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from athletes import consent
from athletes.access import Access
from athletes.forms import SCALE_WORDS, CheckInForm
from athletes.models import AthleteProfile, CheckIn
from coaching.models import Membership


@dataclass(frozen=True, kw_only=True)
class Day:
    """What every builder and action gets: whose page, which day (the business's
    calendar), whether they have access, and their consents (loaded once)."""

    membership: Membership
    athlete: AthleteProfile
    date: datetime.date
    access: Access
    consents: Mapping[str, bool]
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def tomorrow(self) -> datetime.date:
        return self.date + datetime.timedelta(days=1)

    def memo(self, key: str, load: Callable[[], Any]) -> Any:
        """`load()` once per page for `key`: rows two builders share."""
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]


@dataclass(frozen=True, kw_only=True)
class Panel:
    name: str
    title: str
    template: str
    context: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class ActionResult:
    """What an action did. `panel` is the whole panel as it now stands (with the refused
    input and its error when `ok` is False), shown in the page without JavaScript;
    `template`/`context` is the part htmx swaps in place (the panel when not given)."""

    ok: bool
    panel: Panel
    message: str = ""
    template: str = ""
    context: Mapping[str, Any] | None = None


Build = Callable[[Day], "Panel | None"]
Action = Callable[[Day, HttpRequest, int], ActionResult]


@dataclass(frozen=True, kw_only=True)
class _Registered:
    name: str
    order: int
    build: Build
    actions: Mapping[str, Action]


@dataclass(frozen=True, kw_only=True)
class PreviewLine:
    """One line of tomorrow's preview: a heading and its key numbers."""

    title: str
    detail: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Readiness:
    score: float | None
    reason: str


_panels: dict[str, _Registered] = {}
_previews: dict[str, tuple[int, Callable[[Day], list[PreviewLine]]]] = {}
_readiness: list[Callable[[Day], Readiness | None]] = []


def register_panel(
    name: str, order: int, build: Build, *, actions: Mapping[str, Action] | None = None
) -> None:
    _panels[name] = _Registered(name=name, order=order, build=build, actions=dict(actions or {}))


def register_preview(name: str, order: int, build: Callable[[Day], list[PreviewLine]]) -> None:
    _previews[name] = (order, build)


def register_readiness(fn: Callable[[Day], Readiness | None]) -> None:
    if fn not in _readiness:
        _readiness.append(fn)


def panels(day: Day) -> list[Panel]:
    """The registered panels for the day, in order (a builder may show nothing)."""
    built = []
    for registered in sorted(_panels.values(), key=lambda r: (r.order, r.name)):
        panel = registered.build(day)
        if panel is not None:
            built.append(panel)
    return built


def action(panel: str, name: str) -> Action | None:
    registered = _panels.get(panel)
    return registered.actions.get(name) if registered is not None else None


def preview(day: Day) -> list[PreviewLine]:
    lines: list[PreviewLine] = []
    for _order, build in sorted(_previews.values(), key=lambda item: item[0]):
        lines.extend(build(day))
    return lines


def readiness(day: Day) -> Readiness | None:
    for fn in _readiness:
        found = fn(day)
        if found is not None:
            return found
    return None


# --- this app's own panel: the morning check-in -------------------------------------------

CHECKIN_TEMPLATE = "athletes/_today_checkin.html"
TOMORROW_TEMPLATE = "athletes/_today_tomorrow.html"
# A check-in older than this is too stale to prefill this morning's answers from.
PREFILL_DAYS = 7
CHECKIN_FORM_FIELDS = ("sleep_hours", "sleep_quality", "soreness", "stress", "mood", "hrv_rmssd_ms")


def _recent_checkins(day: Day) -> list[CheckIn]:
    """The day's check-in (if any) and the one before it, newest first: one query."""
    return list(
        CheckIn.objects.filter(
            athlete=day.athlete,
            date__range=(day.date - datetime.timedelta(days=PREFILL_DAYS), day.date),
        ).order_by("-date")[:2]
    )


def _plain(value: Any) -> Any:
    """7.50 h reads as 7.5 in the form."""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else value


def checkin_panel(day: Day, form: CheckInForm | None = None, *, saved: bool = False) -> Panel:
    """The check-in: the form (prefilled from the last morning, so an ordinary day is a
    few taps), or, once today's is in, what was saved and the readiness it gives.
    Without consent to health data it says so and links to the consent page."""
    context: dict[str, Any] = {"date": day.date, "saved": saved, "scale_words": SCALE_WORDS}
    if not day.consents.get(consent.HEALTH_DATA, False):
        context["needs_consent"] = True
        return Panel(name="checkin", title="Check-in", template=CHECKIN_TEMPLATE, context=context)
    recent = _recent_checkins(day)
    checkin = recent[0] if recent and recent[0].date == day.date else None
    if form is None:
        source = checkin or (recent[0] if recent else None)
        initial = {name: _plain(getattr(source, name, None)) for name in CHECKIN_FORM_FIELDS}
        if checkin is None:
            initial.pop("hrv_rmssd_ms", None)  # a new morning, a new reading
        form = CheckInForm(initial=initial)
    context.update(
        form=form,
        checkin=checkin,
        readiness=readiness(day) if checkin is not None else None,
        open=checkin is None or bool(form.errors),
    )
    return Panel(name="checkin", title="Check-in", template=CHECKIN_TEMPLATE, context=context)


def tomorrow_panel(day: Day) -> Panel:
    return Panel(
        name="tomorrow",
        title="Tomorrow",
        template=TOMORROW_TEMPLATE,
        context={"date": day.tomorrow, "lines": preview(day)},
    )
