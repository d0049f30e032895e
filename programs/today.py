"""Programs' part of the client's Today page (athletes/today.py has the registry): today's
planned session with set-by-set logging, tomorrow's session in the preview, and the
day's readiness once the client has checked in.

Imported from `ProgramsConfig.ready()`, which is what registers these. The reads here
are the page's: every one loads in bulk (today's and tomorrow's sessions with their
sets, changes and logs in five queries, however many sets), because the page must stay
at a constant number of queries.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.db.models import Prefetch
from django.http import Http404, HttpRequest

from athletes import today
from athletes.models import CheckIn
from coaching.errors import DomainError
from coaching.methodology import validate_rules
from programs.engine import autoregulation as engine
from programs.models import (
    Adjustment,
    PlannedSession,
    PlannedSet,
    ProgramBlock,
    SessionLog,
    SetLog,
)
from programs.services.logging import session_log_record, set_log_record

PANEL = "session"
TEMPLATE = "athletes/_today_session.html"
SET_TEMPLATE = "athletes/_today_set.html"
# Readiness reads the HRV baseline (60 days) and the rolling week, as the night does.
READINESS_DAYS = 70
VISIBLE_TO_CLIENT = (Adjustment.Status.APPLIED, Adjustment.Status.REVERTED)


# --- forms -------------------------------------------------------------------------------


def _rpe_field(label: str, *, example: str) -> forms.DecimalField:
    """An optional RPE, 1–10 in half steps, with the same messages on every form."""
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=1,
        max_value=10,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
        error_messages={
            "invalid": "Give the RPE as a number from 1 to 10.",
            "min_value": "RPE is between 1 and 10.",
            "max_value": "RPE is between 1 and 10.",
            "max_decimal_places": f"Give the RPE to one decimal, e.g. {example}.",
        },
    )


class SetLogForm(forms.Form):
    """What was actually lifted, when it wasn't the prescription."""

    weight_kg = forms.DecimalField(
        label="Weight (kg)",
        min_value=0,
        max_value=1000,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
        error_messages={
            "required": "Give the weight in kg (0 for bodyweight).",
            "invalid": "Give the weight as a number of kg, e.g. 82.5.",
            "min_value": "The weight can't be negative.",
            "max_value": "Give the weight in kg (up to 1000).",
            "max_decimal_places": "Give the weight to two decimals at most.",
        },
    )
    reps = forms.IntegerField(
        label="Reps",
        min_value=1,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Give the reps you did.",
            "invalid": "Give the reps as a whole number.",
            "min_value": "Reps are between 1 and 100.",
            "max_value": "Reps are between 1 and 100.",
        },
    )
    rpe = _rpe_field("RPE", example="8.5")


class SessionLogForm(forms.Form):
    """A session's own numbers: how long, (endurance) how far, how hard overall."""

    duration_min = forms.IntegerField(
        label="Duration (minutes)",
        min_value=1,
        max_value=24 * 60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Say how many minutes it took.",
            "invalid": "Give the minutes as a whole number.",
            "min_value": "A session takes at least 1 minute.",
            "max_value": "A session takes at most 24 hours.",
        },
    )
    distance_km = forms.DecimalField(
        label="Distance (km)",
        required=False,
        min_value=Decimal("0.01"),
        max_value=1000,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        error_messages={
            "invalid": "Give the distance in km, e.g. 8.4.",
            "min_value": "Give the distance in km, more than 0.",
            "max_value": "Give the distance in km (up to 1000).",
            "max_decimal_places": "Give the distance to two decimals at most.",
        },
    )
    session_rpe = _rpe_field("How hard was it? (RPE 1–10)", example="6.5")


def _put(form: forms.Form, exc: DomainError) -> None:
    placed = False
    for name, errors in (exc.fields or {}).items():
        target = name if name in form.fields else None
        if name == "duration_s":
            target = "duration_min"
        elif name == "distance_m":
            target = "distance_km"
        for error in errors:
            form.add_error(target, error)
        placed = placed or target is not None
    if not placed:
        form.add_error(None, exc.message)


# --- reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    block: ProgramBlock | None
    by_date: Mapping[datetime.date, list[PlannedSession]]
    next_session: PlannedSession | None


def _load(day: today.Day) -> _Loaded:
    """The active block, and today's and tomorrow's sessions with everything shown."""
    block = (
        ProgramBlock.objects.filter(athlete=day.athlete, status=ProgramBlock.Status.ACTIVE)
        .select_related("methodology_version")
        .first()
    )
    by_date: dict[datetime.date, list[PlannedSession]] = {day.date: [], day.tomorrow: []}
    next_session = None
    if block is not None:
        sessions = (
            PlannedSession.objects.filter(block=block, date__range=(day.date, day.tomorrow))
            .prefetch_related(
                Prefetch(
                    "sets",
                    queryset=PlannedSet.objects.select_related("exercise").order_by("set_index"),
                ),
                Prefetch(
                    "adjustments",
                    queryset=Adjustment.objects.filter(status__in=VISIBLE_TO_CLIENT).order_by(
                        "created", "id"
                    ),
                    to_attr="client_changes",
                ),
                Prefetch(
                    "logs",
                    queryset=SessionLog.objects.order_by("-id").prefetch_related(
                        Prefetch("sets", queryset=SetLog.objects.order_by("set_index"))
                    ),
                    to_attr="day_logs",
                ),
            )
            .order_by("date", "id")
        )
        for session in sessions:
            by_date[session.date].append(session)
        if not any(not s.rest_day for s in by_date[day.date]):
            next_session = (
                PlannedSession.objects.filter(block=block, date__gt=day.date, rest_day=False)
                .order_by("date", "id")
                .first()
            )
    return _Loaded(block=block, by_date=by_date, next_session=next_session)


def _loaded(day: today.Day) -> _Loaded:
    return day.memo("programs.today", lambda: _load(day))


# --- what the templates show -------------------------------------------------------------


def _kg(value: Decimal | float | None) -> str:
    if value is None:
        return ""
    return f"{float(value):g}"


def _pace(speed_m_s: float) -> str:
    seconds = round(1000 / speed_m_s)
    return f"{seconds // 60}:{seconds % 60:02d}"


def targets_text(session: PlannedSession) -> str:
    """An endurance session's targets in the words a runner or rider uses."""
    low, high, unit = session.target_low, session.target_high, session.target_unit
    parts = []
    if session.zone:
        parts.append(f"zone {session.zone}")
    if low is not None and high is not None and unit:
        if unit == "m/s" and low > 0 and high > 0:
            parts.append(f"{_pace(low)}–{_pace(high)} min/km")
        else:
            parts.append(f"{low:g}–{high:g} {unit}")
    return " · ".join(parts)


def _no_load(planned: PlannedSet) -> str:
    """A bodyweight set's weight is 0; a loaded lift without a planned load is left for
    the client to fill in."""
    return "" if planned.exercise.loadable else "0"


@dataclass(frozen=True, kw_only=True)
class SetRow:
    planned: PlannedSet
    number: int  # the set's place among this exercise's sets
    logged: SetLog | None
    form: SetLogForm
    editing: bool  # the edit form opens by itself (it holds a refused input)

    @property
    def needs_weight(self) -> bool:
        """No load planned for a loaded lift (its e1RM isn't known yet): the client
        picks the weight by the target RPE, so "as prescribed" can't say what it was."""
        return self.planned.load_kg is None and self.planned.exercise.loadable

    @property
    def prescription(self) -> str:
        p = self.planned
        rpe = f" @ RPE {_kg(p.target_rpe)}" if p.target_rpe is not None else ""
        if p.load_kg is not None:
            each = " per hand" if p.exercise.per_hand else ""
            return f"{p.reps} × {_kg(p.load_kg)} kg{each}{rpe}"
        if p.exercise.loadable:
            return f"{p.reps} reps{rpe}, a weight you choose"
        return f"{p.reps} reps{rpe}, bodyweight"

    @property
    def logged_text(self) -> str:
        if self.logged is None:
            return ""
        rpe = f" @ RPE {_kg(self.logged.rpe)}" if self.logged.rpe is not None else ""
        return f"{_kg(self.logged.weight_kg)} kg × {self.logged.reps}{rpe}"

    @property
    def as_prescribed(self) -> bool:
        if self.logged is None:
            return False
        p = self.planned
        return (
            self.logged.weight_kg == (p.load_kg if p.load_kg is not None else Decimal("0"))
            and self.logged.reps == p.reps
            and self.logged.rpe == p.target_rpe
        )


@dataclass(frozen=True, kw_only=True)
class SessionView:
    session: PlannedSession
    changes: list[Adjustment]
    groups: list[tuple[str, list[SetRow]]]
    done: int
    total: int
    log: SessionLog | None
    log_form: SessionLogForm
    log_open: bool
    targets: str

    @property
    def logged_text(self) -> str:
        """ "44 min · 8.4 km · RPE 4": what the client logged for the session."""
        if self.log is None:
            return ""
        parts = [f"{round(self.log.duration_s / 60)} min"]
        if self.log.distance_m:
            parts.append(f"{self.log.distance_m / 1000:g} km")
        if self.log.session_rpe is not None:
            parts.append(f"RPE {_kg(self.log.session_rpe)}")
        return " · ".join(parts)


def _session_view(
    session: PlannedSession,
    set_forms: Mapping[int, SetLogForm],
    log_forms: Mapping[int, SessionLogForm],
) -> SessionView:
    log = session.day_logs[0] if session.day_logs else None
    logged = {s.set_index: s for s in log.sets.all()} if log is not None else {}
    groups: list[tuple[str, list[SetRow]]] = []
    last_weight: dict[int, Decimal] = {}  # per exercise: what the previous set was done with
    for planned in session.sets.all():
        mine = logged.get(planned.set_index)
        weight = mine.weight_kg if mine is not None else planned.load_kg
        if weight is None:
            weight = last_weight.get(planned.exercise_id)
        if mine is not None:
            last_weight[planned.exercise_id] = mine.weight_kg
        form = set_forms.get(planned.pk) or SetLogForm(
            initial={
                "weight_kg": _kg(weight) if weight is not None else _no_load(planned),
                "reps": (mine or planned).reps,
                "rpe": _kg(mine.rpe if mine is not None else planned.target_rpe),
            },
            prefix=f"set{planned.pk}",
        )
        same = bool(groups) and groups[-1][0] == planned.exercise.name
        row = SetRow(
            planned=planned,
            number=len(groups[-1][1]) + 1 if same else 1,
            logged=mine,
            form=form,
            editing=planned.pk in set_forms,
        )
        if same:
            groups[-1][1].append(row)
        else:
            groups.append((planned.exercise.name, [row]))
    log_form = log_forms.get(session.pk) or SessionLogForm(
        initial={
            "duration_min": round(log.duration_s / 60) if log else session.duration_min,
            "distance_km": (
                Decimal(log.distance_m) / 1000 if log is not None and log.distance_m else None
            ),
            "session_rpe": _kg(log.session_rpe) if log is not None else None,
        },
        prefix=f"log{session.pk}",
    )
    return SessionView(
        session=session,
        changes=list(session.client_changes),
        groups=groups,
        done=len([p for p in session.sets.all() if p.set_index in logged]),
        total=len(session.sets.all()),
        log=log,
        log_form=log_form,
        log_open=session.pk in log_forms,
        targets=targets_text(session),
    )


def _panel(
    day: today.Day,
    *,
    set_forms: Mapping[int, SetLogForm] | None = None,
    log_forms: Mapping[int, SessionLogForm] | None = None,
) -> today.Panel:
    loaded = _loaded(day)
    views = [_session_view(s, set_forms or {}, log_forms or {}) for s in loaded.by_date[day.date]]
    return today.Panel(
        name=PANEL,
        title="Training",
        template=TEMPLATE,
        context={
            "date": day.date,
            "block": loaded.block,
            "sessions": views,
            "next_session": loaded.next_session,
        },
    )


def build(day: today.Day) -> today.Panel:
    return _panel(day)


# --- the panel's writes ------------------------------------------------------------------


def _fresh(day: today.Day) -> today.Day:
    """The same day with nothing loaded yet: re-read after a write."""
    return today.Day(
        membership=day.membership,
        athlete=day.athlete,
        date=day.date,
        access=day.access,
        consents=day.consents,
    )


def _set_result(
    day: today.Day, planned_set_id: int, *, ok: bool, form: SetLogForm | None, message: str
) -> today.ActionResult:
    panel = _panel(day, set_forms={planned_set_id: form} if form is not None else None)
    for view in panel.context["sessions"]:
        for _name, rows in view.groups:
            for row in rows:
                if row.planned.pk == planned_set_id:
                    return today.ActionResult(
                        ok=ok,
                        panel=panel,
                        message=message,
                        template=SET_TEMPLATE,
                        context={"row": row, "view": view, "oob": True},
                    )
    raise Http404("No such set.")


def log_set(day: today.Day, request: HttpRequest, pk: int) -> today.ActionResult:
    """ "Done as prescribed" (`done=1`), or the weight, reps and RPE actually lifted."""
    planned = (
        PlannedSet.objects.filter(
            pk=pk,
            session__athlete=day.athlete,
            session__date=day.date,
            session__block__status=ProgramBlock.Status.ACTIVE,
        )
        .select_related("session", "exercise")
        .first()
    )
    if planned is None:
        raise Http404("No such set today.")
    form = None
    try:
        if request.POST.get("done") == "1":
            set_log_record(athlete=day.athlete, planned_set=planned, as_prescribed=True)
        else:
            form = SetLogForm(request.POST, prefix=f"set{pk}")
            if not form.is_valid():
                return _set_result(_fresh(day), pk, ok=False, form=form, message="")
            set_log_record(
                athlete=day.athlete,
                planned_set=planned,
                weight_kg=form.cleaned_data["weight_kg"],
                reps=form.cleaned_data["reps"],
                rpe=form.cleaned_data["rpe"],
            )
    except DomainError as exc:
        if form is None:  # "done": show the refusal beside the prescription it was about
            form = SetLogForm(
                {
                    f"set{pk}-weight_kg": _kg(planned.load_kg),
                    f"set{pk}-reps": planned.reps,
                    f"set{pk}-rpe": _kg(planned.target_rpe),
                },
                prefix=f"set{pk}",
            )
        form.is_valid()
        _put(form, exc)
        return _set_result(_fresh(day), pk, ok=False, form=form, message="")
    return _set_result(
        _fresh(day), pk, ok=True, form=None, message=f"{planned.exercise.name}: set logged."
    )


def log_session(day: today.Day, request: HttpRequest, pk: int) -> today.ActionResult:
    """An endurance session's duration, distance and RPE; a strength session's finish."""
    session = PlannedSession.objects.filter(
        pk=pk,
        athlete=day.athlete,
        date=day.date,
        block__status=ProgramBlock.Status.ACTIVE,
    ).first()
    if session is None:
        raise Http404("No such session today.")
    form = SessionLogForm(request.POST, prefix=f"log{pk}")
    if form.is_valid():
        distance = form.cleaned_data["distance_km"]
        try:
            session_log_record(
                athlete=day.athlete,
                planned_session=session,
                duration_s=form.cleaned_data["duration_min"] * 60,
                session_rpe=form.cleaned_data["session_rpe"],
                distance_m=int(distance * 1000) if distance is not None else None,
            )
        except DomainError as exc:
            _put(form, exc)
    ok = not form.errors
    panel = _panel(_fresh(day), log_forms=None if ok else {pk: form})
    return today.ActionResult(ok=ok, panel=panel, message="Session logged." if ok else "")


# --- tomorrow and readiness --------------------------------------------------------------


def _key_targets(session: PlannedSession) -> str:
    """Per lift, the heaviest set with how many sets: "Back squat 3 × 5 @ 102.5 kg"."""
    if session.kind != PlannedSession.Kind.STRENGTH:
        return " · ".join(p for p in (f"{session.duration_min} min", targets_text(session)) if p)
    lifts: dict[str, list[PlannedSet]] = {}
    for planned in session.sets.all():
        lifts.setdefault(planned.exercise.name, []).append(planned)
    parts = []
    for name, sets in lifts.items():
        top = max(sets, key=lambda s: (s.load_kg or 0, s.reps))
        load = f" @ {_kg(top.load_kg)} kg" if top.load_kg is not None else ""
        parts.append(f"{name} {len(sets)} × {top.reps}{load}")
    return " · ".join(parts)


def preview(day: today.Day) -> list[today.PreviewLine]:
    sessions = _loaded(day).by_date[day.tomorrow]
    if _loaded(day).block is None:
        return []
    if not sessions:
        return [today.PreviewLine(title="Rest day", detail="No training planned.")]
    return [
        today.PreviewLine(
            title=f"{s.name} · {s.duration_min} min" if not s.rest_day else f"Rest day ({s.name})",
            detail="" if s.rest_day else _key_targets(s),
            notes=tuple(a.sentence for a in s.client_changes if a.status == "applied"),
        )
        for s in sessions
    ]


def day_readiness(day: today.Day) -> today.Readiness | None:
    """The day's readiness by the coach's weights, from the check-ins (HRV against the
    client's baseline, sleep against their usual): what tonight's run will see, minus
    the last session's RPE, which the night adds."""
    loaded = _loaded(day)
    if loaded.block is None:
        return None
    rows = CheckIn.objects.filter(
        athlete=day.athlete,
        date__range=(day.date - datetime.timedelta(days=READINESS_DAYS), day.date),
    ).values_list("date", "sleep_hours", "soreness", "stress", "mood", "hrv_rmssd_ms")
    checkins = {
        d: engine.DayCheckIn(
            date=d,
            sleep_hours=float(sleep) if sleep is not None else None,
            soreness=soreness,
            stress=stress,
            mood=mood,
            hrv_rmssd_ms=float(hrv) if hrv is not None else None,
        )
        for d, sleep, soreness, stress, mood, hrv in rows
    }
    if day.date not in checkins:
        return None
    weights = validate_rules(loaded.block.methodology_version.rules)["readiness"]["weights"]
    score, _hrv = engine.day_readiness(
        engine.AutoregulationInput(day=day.date, checkins=checkins), weights
    )
    if score.score is None:
        return None
    # The engine's reason repeats the score ("Readiness 41/100; lowest: …"): keep the why.
    why = score.reason.split("; ", 1)[-1]
    return today.Readiness(score=score.score, reason=why[:1].upper() + why[1:])


today.register_panel(PANEL, 20, build, actions={"set": log_set, "session": log_session})
today.register_preview(PANEL, 10, preview)
today.register_readiness(day_readiness)
