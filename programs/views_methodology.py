"""Simulate a methodology's draft before publishing it: the shadow-mode replay
(`programs.simulation`, the same one `POST /api/v1/simulations/` runs) of the draft and
of the published version over the business's clients' past nights, side by side.

Who may run it mirrors the API (`api_simulation.STAFF`: owners, coaches, admins); anyone
else, and another business's methodology, gets the same 404 as a missing page. It reads
and writes nothing (the simulation never does), so it is a GET.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from coaching import selectors as coaching_selectors
from coaching.methodology import RULE_LABELS, RulesInvalid, describe_path
from coaching.models import Membership, Methodology, MethodologyVersion
from programs import simulation
from programs.api_simulation import MAX_ATHLETES, MAX_WEEKS, STAFF

DEFAULT_WEEKS = 4


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


class SimulateForm(forms.Form):
    weeks = forms.IntegerField(
        label="Weeks to replay",
        min_value=1,
        max_value=MAX_WEEKS,
        initial=DEFAULT_WEEKS,
        help_text=f"1 to {MAX_WEEKS}: the nights up to yesterday.",
    )


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """One version's replay summed up the way a coach reads it."""

    proposals: int
    athletes_changed: int
    mean_change_percent: float | None
    largest_change_percent: float | None
    above_threshold: int
    alert_proposals: int
    clipped: int
    rules: list[tuple[str, int]]
    guardrails: list[tuple[str, int]]


def outcome_of(report: simulation.SimulationReport, rules: dict[str, Any]) -> Outcome:
    """`above_threshold`: changes bigger than the version's hybrid queue threshold;
    `alert_proposals`: changes by rules marked for the coach. On a hybrid tier both wait
    for the coach (a change may be both)."""
    total = report.total
    threshold = rules["autoregulation"]["queue_threshold_percent"]
    alert_rules = {r["name"] for r in rules["autoregulation"]["rules"] if r["alert"]}
    magnitudes = total.magnitudes
    return Outcome(
        proposals=total.proposals,
        athletes_changed=sum(1 for a in report.athletes if a.tally.proposals),
        mean_change_percent=_mean(magnitudes),
        largest_change_percent=round(max(magnitudes), 1) if magnitudes else None,
        above_threshold=sum(1 for m in magnitudes if m > threshold),
        alert_proposals=sum(n for rule, n in total.rules.items() if rule in alert_rules),
        clipped=total.clipped,
        rules=[(RULE_LABELS.get(rule, rule), n) for rule, n in sorted(total.rules.items())],
        guardrails=[
            (describe_path(f"guardrails.{name}").split(" › ")[-1], n)
            for name, n in sorted(total.guardrails.items())
        ],
    )


def _staff(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if request.tenant is None or membership is None or membership.role not in STAFF:
        raise Http404("No such page.")
    return membership


def _methodology(methodology_id: int) -> Methodology:
    methodology = coaching_selectors.methodologies().filter(pk=methodology_id).first()
    if methodology is None:
        raise Http404("No such methodology.")
    return methodology


def _draft_and_published(
    methodology: Methodology,
) -> tuple[MethodologyVersion | None, MethodologyVersion | None]:
    latest = coaching_selectors.latest_version(methodology)
    draft = latest if latest is not None and not latest.is_published else None
    return draft, coaching_selectors.latest_published_version(methodology)


@login_required
def methodology_simulate(request: HttpRequest, methodology_id: int) -> HttpResponse:
    """The draft (or, with none, the published version) replayed over the clients on
    the methodology's tiers, next to the published version on the same nights."""
    _staff(request)
    methodology = _methodology(methodology_id)
    draft, published = _draft_and_published(methodology)
    candidate = draft or published
    form = SimulateForm(request.GET if "weeks" in request.GET else None)
    context: dict[str, Any] = {
        "methodology": methodology,
        "draft": draft,
        "published": published,
        "candidate": candidate,
        "form": form,
        "max_athletes": MAX_ATHLETES,
    }
    if candidate is None or not form.is_bound or not form.is_valid():
        return render(request, "programs/simulate.html", context)

    cohort = simulation.enrolled_on(methodology.pk)
    athletes = cohort[:MAX_ATHLETES]
    end = timezone.localdate() - datetime.timedelta(days=1)
    weeks = form.cleaned_data["weeks"]
    context.update(cohort_size=len(cohort), sample_size=len(athletes), weeks=weeks)
    if not athletes:
        context["no_clients"] = True
        return render(request, "programs/simulate.html", context)
    try:
        if draft is not None and published is not None:
            comparison = simulation.compare(
                athletes=athletes,
                rules_a=published.rules,
                rules_b=draft.rules,
                end=end,
                weeks=weeks,
            )
            before, after = comparison.a, comparison.b
        else:
            before = None
            after = simulation.simulate(
                athletes=athletes, rules=candidate.rules, end=end, weeks=weeks
            )
    except RulesInvalid as exc:
        context["invalid"] = str(exc)
        return render(request, "programs/simulate.html", context)
    rows = []
    before_by_id = {a.athlete: a for a in before.athletes} if before is not None else {}
    for row in after.athletes:
        old = before_by_id.get(row.athlete)
        rows.append(
            {
                "name": row.name,
                "status": row.status,
                "after": row.tally,
                "before": old.tally if old is not None else None,
                "mean_after": _mean(row.tally.magnitudes),
                "mean_before": _mean(old.tally.magnitudes) if old else None,
            }
        )
    context.update(
        report=after,
        after=outcome_of(after, candidate.rules),
        before=outcome_of(before, published.rules) if before is not None else None,
        rows=rows,
    )
    return render(request, "programs/simulate.html", context)
