"""Shadow mode: replay a methodology version over past weeks as if it had run nightly.

A coach drafting v2 wants to know what it would have done to real athletes before
publishing it. `simulate` re-runs the pure engine night by night over the window, from
only what was known by each night (check-ins, logs and loads up to that day), and
applies every proposal in memory (shadow mode as DIY) so later nights build on earlier
ones, exactly as the nightly service would have. It reads the database and writes
nothing: no runs, no adjustments, no changed sets.

"Predicted vs actual" compares the simulated prescription of each logged session with
what the athlete then lifted or ran, so two versions can be judged by how close their
plans came to what athletes could actually do.
"""

from __future__ import annotations

import datetime
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from athletes.models import AthleteProfile
from coaching.methodology import validate_rules
from programs import metrics
from programs.engine import autoregulation as engine
from programs.engine.library import Library
from programs.models import Adjustment, PlannedSession, SessionLog
from programs.services.adjustments import (
    PLAN_AHEAD_DAYS,
    READINESS_DAYS,
    _checkins,
    _logs,
    _stored,
    session_rx,
)
from programs.services.plans import tenant_library

MAX_WEEKS = 26
#: The engine calls a zone change "zone"; coaches read it as intensity.
CHANGE_NAMES = {"zone": "intensity"}
NO_PLAN = "no plan"


@dataclass
class Tally:
    """Counts that add up across athletes (a report's per-athlete rows and its total)."""

    nights: int = 0
    proposals: int = 0
    rules: Counter = field(default_factory=Counter)
    changes: Counter = field(default_factory=Counter)
    clipped: int = 0
    guardrails: Counter = field(default_factory=Counter)
    magnitudes: list[float] = field(default_factory=list)
    readiness: list[float] = field(default_factory=list)
    load_diffs: list[float] = field(default_factory=list)
    minute_diffs: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.nights += other.nights
        self.proposals += other.proposals
        self.rules.update(other.rules)
        self.changes.update(other.changes)
        self.clipped += other.clipped
        self.guardrails.update(other.guardrails)
        self.magnitudes += other.magnitudes
        self.readiness += other.readiness
        self.load_diffs += other.load_diffs
        self.minute_diffs += other.minute_diffs

    def as_dict(self) -> dict[str, Any]:
        return {
            "nights": self.nights,
            "proposals": self.proposals,
            "rules": dict(sorted(self.rules.items())),
            "changes": dict(sorted(self.changes.items())),
            "clipped": self.clipped,
            "guardrails": dict(sorted(self.guardrails.items())),
            "mean_magnitude_percent": _mean(self.magnitudes),
            "readiness_mean": _mean(self.readiness),
            "strength": {
                "lifts": len(self.load_diffs),
                "mean_abs_diff_kg": _mean(self.load_diffs),
            },
            "endurance": {
                "sessions": len(self.minute_diffs),
                "mean_abs_diff_min": _mean(self.minute_diffs),
            },
        }


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


@dataclass
class AthleteSimulation:
    athlete: int
    name: str
    status: str  # "ok" or NO_PLAN
    tally: Tally

    def as_dict(self) -> dict[str, Any]:
        return {
            "athlete": self.athlete,
            "name": self.name,
            "status": self.status,
            **self.tally.as_dict(),
        }


@dataclass
class SimulationReport:
    start: datetime.date  # the first simulated night
    end: datetime.date  # the last simulated night
    weeks: int
    athletes: list[AthleteSimulation]
    total: Tally

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "weeks": self.weeks,
            "athletes": [a.as_dict() for a in self.athletes],
            "total": self.total.as_dict(),
        }


@dataclass
class Comparison:
    a: SimulationReport
    b: SimulationReport

    def differences(self) -> dict[str, Any]:
        """b − a for every count in the totals (rules, changes and guardrails included)."""
        ta, tb = self.a.total.as_dict(), self.b.total.as_dict()
        out: dict[str, Any] = {}
        for key in ("nights", "proposals", "clipped"):
            out[key] = tb[key] - ta[key]
        for key in ("rules", "changes", "guardrails"):
            names = sorted(set(ta[key]) | set(tb[key]))
            out[key] = {n: tb[key].get(n, 0) - ta[key].get(n, 0) for n in names}
        for key in ("mean_magnitude_percent", "readiness_mean"):
            out[key] = _diff(ta[key], tb[key])
        out["strength_mean_abs_diff_kg"] = _diff(
            ta["strength"]["mean_abs_diff_kg"], tb["strength"]["mean_abs_diff_kg"]
        )
        out["endurance_mean_abs_diff_min"] = _diff(
            ta["endurance"]["mean_abs_diff_min"], tb["endurance"]["mean_abs_diff_min"]
        )
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a.as_dict(), "b": self.b.as_dict(), "differences": self.differences()}


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 2)


# --- one athlete -----------------------------------------------------------------------


def _original(sessions: Sequence[PlannedSession]) -> dict[int, engine.SessionRx]:
    """Each session as the block planned it: the `before` of its first adjustment (real
    adjustments since then must not leak into the replay), else as it stands."""
    firsts: dict[int, dict[str, Any]] = {}
    for session_id, before in (
        Adjustment.objects.filter(planned_session__in=[s.pk for s in sessions])
        .order_by("id")
        .values_list("planned_session_id", "before")
    ):
        firsts.setdefault(session_id, before)
    return {
        s.pk: (engine.SessionRx.from_dict(firsts[s.pk]) if s.pk in firsts else session_rx(s))
        for s in sessions
    }


def _block_for(night: datetime.date, ahead: Sequence[PlannedSession]) -> int | None:
    """The block the nightly run would have used: of the blocks with sessions ahead, the
    latest one already started the next day (a replaced block loses to its successor)."""
    blocks = {s.block_id: s.block for s in ahead}
    if not blocks:
        return None
    started = [b for b in blocks.values() if b.start_date <= night + datetime.timedelta(days=1)]
    pool = started or list(blocks.values())
    chosen = (
        max(pool, key=lambda b: (b.start_date, b.pk))
        if started
        else min(pool, key=lambda b: (b.start_date, b.pk))
    )
    return chosen.pk


def _simulate_athlete(
    athlete: AthleteProfile,
    rules: Mapping[str, Any],
    nights: Sequence[datetime.date],
    library: Library,
) -> AthleteSimulation:
    tally = Tally()
    name = str(athlete)
    first, last = nights[0], nights[-1]
    horizon = datetime.timedelta(days=PLAN_AHEAD_DAYS)
    in_window = PlannedSession.objects.filter(
        athlete=athlete, date__gt=first, date__lte=last + horizon
    )
    block_ids = set(in_window.values_list("block_id", flat=True))
    if not block_ids:
        return AthleteSimulation(athlete=athlete.pk, name=name, status=NO_PLAN, tally=tally)
    sessions = list(
        PlannedSession.objects.filter(block_id__in=block_ids)
        .select_related("block")
        .prefetch_related("sets__exercise")
        .order_by("date", "id")
    )
    current = _original(sessions)
    planned = dict(current)
    readiness_history: dict[datetime.date, float] = {}
    already_applied: set[tuple[str, int]] = set()
    last_fired: dict[str, datetime.date] = {}

    for night in nights:
        tally.nights += 1
        ahead = [s for s in sessions if night < s.date <= night + horizon]
        block_id = _block_for(night, ahead)
        weeks = {s.week for s in ahead if s.block_id == block_id}
        mine = [s for s in sessions if s.block_id == block_id and s.week in weeks]
        block = mine[0].block if mine else None
        states = [
            engine.PlannedSessionState(
                key=s.pk,
                date=s.date,
                week=(s.block_id, s.week),
                kind=s.kind,
                is_deload=s.is_deload,
                planned=planned[s.pk],
                current=current[s.pk],
            )
            for s in mine
        ]
        unit = metrics.load_unit(athlete, until=night)
        inputs = engine.AutoregulationInput(
            day=night,
            checkins=_checkins(athlete, night),
            logs=_logs(athlete, night),
            daily_loads=metrics.daily_loads(
                athlete, night - datetime.timedelta(days=90), night, unit=unit.unit
            ),
            sessions=states,
            e1rm_kg={
                k: float(v) for k, v in (block.inputs.get("e1rm_kg", {}) if block else {}).items()
            },
            readiness_history={
                d: v
                for d, v in readiness_history.items()
                if d >= night - datetime.timedelta(days=READINESS_DAYS)
            },
            equipment=frozenset(athlete.equipment),
            already_applied=frozenset(already_applied),
            last_fired=dict(last_fired),
        )
        result = engine.autoregulate(inputs, rules, library=library)
        if result.readiness.score is not None:
            readiness_history[night] = result.readiness.score
            tally.readiness.append(result.readiness.score)
        for proposal in result.proposals:
            current[proposal.session_key] = _stored(proposal.after)
            already_applied.add((proposal.rule, proposal.session_key))
            last_fired[proposal.rule] = night
            tally.proposals += 1
            tally.rules[proposal.rule] += 1
            tally.changes.update(CHANGE_NAMES.get(c, c) for c in proposal.changes)
            if proposal.clipped_by:
                tally.clipped += 1
                tally.guardrails.update(proposal.clipped_by)
            tally.magnitudes.append(proposal.magnitude_percent)

    _outcomes(athlete, sessions, current, first, last, tally)
    return AthleteSimulation(athlete=athlete.pk, name=name, status="ok", tally=tally)


def _outcomes(
    athlete: AthleteProfile,
    sessions: Sequence[PlannedSession],
    current: Mapping[int, engine.SessionRx],
    first: datetime.date,
    last: datetime.date,
    tally: Tally,
) -> None:
    """Simulated prescription vs what was logged, for sessions the replay could touch."""
    touched = {s.pk for s in sessions if first < s.date <= last}
    logs = SessionLog.objects.filter(
        athlete=athlete, planned_session_id__in=touched, date__lte=last
    ).prefetch_related("sets__exercise")
    for log in logs:
        rx = current[log.planned_session_id]
        if log.kind == "strength":
            if rx.rest_day:
                continue
            planned_top: dict[str, float] = {}
            for s in rx.sets:
                if s.load_kg is not None:
                    planned_top[s.exercise] = max(planned_top.get(s.exercise, 0.0), s.load_kg)
            logged_top: dict[str, float] = {}
            for s in log.sets.all():
                slug = s.exercise.slug
                logged_top[slug] = max(logged_top.get(slug, 0.0), float(s.weight_kg))
            for slug in sorted(set(planned_top) & set(logged_top)):
                tally.load_diffs.append(abs(planned_top[slug] - logged_top[slug]))
        else:
            minutes = 0 if rx.rest_day else rx.duration_min
            tally.minute_diffs.append(abs(minutes - log.duration_s / 60))


# --- public ----------------------------------------------------------------------------


def window(end: datetime.date, weeks: int) -> list[datetime.date]:
    """The simulated nights: `weeks` × 7 days ending with `end`."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be 1–{MAX_WEEKS}, got {weeks}")
    return [end - datetime.timedelta(days=k) for k in range(weeks * 7 - 1, -1, -1)]


def simulate(
    *,
    athletes: Sequence[AthleteProfile],
    rules: Mapping[str, Any],
    end: datetime.date,
    weeks: int = 4,
    library: Library | None = None,
) -> SimulationReport:
    """What `rules` would have done to each athlete over the `weeks` ending with `end`,
    every proposal applied in memory. Reads only; call inside the tenant's context."""
    validated = validate_rules(rules)
    nights = window(end, weeks)
    library = library if library is not None else tenant_library()
    rows = [_simulate_athlete(a, validated, nights, library) for a in athletes]
    total = Tally()
    for row in rows:
        total.add(row.tally)
    return SimulationReport(start=nights[0], end=end, weeks=weeks, athletes=rows, total=total)


def compare(
    *,
    athletes: Sequence[AthleteProfile],
    rules_a: Mapping[str, Any],
    rules_b: Mapping[str, Any],
    end: datetime.date,
    weeks: int = 4,
) -> Comparison:
    """Both versions over the same athletes and nights, and b − a."""
    library = tenant_library()
    return Comparison(
        a=simulate(athletes=athletes, rules=rules_a, end=end, weeks=weeks, library=library),
        b=simulate(athletes=athletes, rules=rules_b, end=end, weeks=weeks, library=library),
    )


def enrolled_on(methodology_id: int) -> list[AthleteProfile]:
    """Athletes currently enrolled on any tier of the methodology (the default cohort)."""
    return list(
        AthleteProfile.objects.filter(
            enrolments__ended__isnull=True, enrolments__tier__methodology_id=methodology_id
        )
        .distinct()
        .order_by("id")
    )
