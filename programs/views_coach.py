"""The coach's page of one client: profile and baseline, the current block, recent logs,
every change the engine or a coach made (with revert), open alerts, the readiness trend
and the coach's notes. It lives in programs because it composes athletes' and programs'
data (programs may import athletes and coaching, not the other way round).

Staff only: a client, or anyone asking for another tenant's athlete, gets the same 404.
Every view is an access to client data and goes to the audit log."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from athletes import consent
from athletes import selectors as athlete_selectors
from athletes import services as athlete_services
from athletes.access import access_of
from athletes.models import AthleteProfile
from coaching import audit
from coaching import selectors as coaching_selectors
from coaching.errors import DomainError
from coaching.models import Alert, Membership
from programs import charts, selectors, services
from programs.forms import CoachNoteForm
from programs.models import Adjustment

TREND_DAYS = 28
RECENT_LOGS = 10
TIMELINE = 30


def _staff_and_athlete(request: HttpRequest, athlete_id: int) -> tuple[Membership, AthleteProfile]:
    membership = getattr(request, "membership", None)
    if membership is None or not athlete_selectors.is_staff(membership):
        raise Http404("No such page.")
    athlete = athlete_selectors.profiles_visible_to(membership).filter(pk=athlete_id).first()
    if athlete is None:
        raise Http404("No such client.")
    return membership, athlete


def _readiness_chart(athlete: AthleteProfile, today: datetime.date) -> Any:
    """The last four weeks of nightly readiness, on a fixed 0–100 axis (a score)."""
    series = selectors.readiness_series(athlete, today - datetime.timedelta(days=TREND_DAYS))
    chart = charts.time_chart(
        [charts.Series(name="readiness", points=series, style="both")],
        value_range=(0, 100),
        margin=0,
    )
    return {"chart": chart, "points": sorted(series.items())}


def _context(
    request: HttpRequest, membership: Membership, athlete: AthleteProfile, form: CoachNoteForm
) -> dict[str, Any]:
    today = coaching_selectors.tenant_today(request.tenant)
    assessment = athlete_selectors.latest_assessment(athlete)
    block = selectors.active_block_of(athlete)
    adherence = services.adherence_by_week(athlete, block) if block is not None else []
    alerts = (
        coaching_selectors.alerts_visible_to(membership)
        .filter(client__user_id=athlete.user_id)
        .exclude(status=Alert.Status.RESOLVED)
    )
    sees_health = consent.has_consent(athlete, consent.COACH_ACCESS)
    return {
        "athlete": athlete,
        "access": access_of(athlete),
        "enrolment": athlete_selectors.current_enrolment(athlete),
        "assessment": assessment,
        "lifts": selectors.lifts_of(assessment) if assessment is not None else [],
        # not "block": inside {% block %} that name is the template block itself
        "current_block": block,
        "adherence": adherence,
        "done": sum(row["completed"] for row in adherence),
        "planned": sum(row["planned"] for row in adherence),
        "logs": list(
            selectors.session_logs_visible_to(membership)
            .filter(athlete=athlete)
            .order_by("-date", "-id")[:RECENT_LOGS]
        ),
        "adjustments": list(
            selectors.adjustments_visible_to(membership)
            .filter(athlete=athlete)
            .order_by("-created", "-id")[:TIMELINE]
        ),
        "alerts": list(alerts),
        "sees_health": sees_health,
        "readiness": _readiness_chart(athlete, today) if sees_health else None,
        "notes": list(athlete_selectors.coach_notes_visible_to(membership).filter(athlete=athlete)),
        "form": form,
    }


@login_required
def client_detail(request: HttpRequest, athlete_id: int) -> HttpResponse:
    membership, athlete = _staff_and_athlete(request, athlete_id)
    audit.record_client_view(actor_user_id=request.user.pk, athlete=athlete, page="client")
    return render(
        request,
        "programs/client_detail.html",
        _context(request, membership, athlete, CoachNoteForm()),
    )


@login_required
@require_POST
def client_note_add(request: HttpRequest, athlete_id: int) -> HttpResponse:
    """Write a note; a bad one re-renders the page with the error and the text kept."""
    membership, athlete = _staff_and_athlete(request, athlete_id)
    form = CoachNoteForm(request.POST)
    if form.is_valid():
        try:
            athlete_services.coach_note_create(
                athlete=athlete,
                author=membership,
                body=form.cleaned_data["body"],
                pinned=form.cleaned_data["pinned"],
            )
        except DomainError as exc:
            for field, texts in (exc.fields or {"body": [exc.message]}).items():
                for text in texts:
                    form.add_error(field if field in form.fields else None, text)
        else:
            messages.success(request, "Note saved.")
            return redirect("client_detail", athlete_id=athlete.pk)
    audit.record_client_view(actor_user_id=request.user.pk, athlete=athlete, page="client")
    response = render(
        request, "programs/client_detail.html", _context(request, membership, athlete, form)
    )
    response.status_code = 400
    return response


@login_required
@require_POST
def client_note_delete(request: HttpRequest, athlete_id: int, note_id: int) -> HttpResponse:
    membership, athlete = _staff_and_athlete(request, athlete_id)
    note = (
        athlete_selectors.coach_notes_visible_to(membership)
        .filter(pk=note_id, athlete=athlete)
        .first()
    )
    if note is None:
        raise Http404("No such note.")
    athlete_services.coach_note_delete(note=note, by=membership)
    messages.success(request, "Note removed.")
    return redirect("client_detail", athlete_id=athlete.pk)


@login_required
@require_POST
def client_adjustment_revert(
    request: HttpRequest, athlete_id: int, adjustment_id: int
) -> HttpResponse:
    """The timeline's revert button: the review queue's revert, back to this page."""
    membership, athlete = _staff_and_athlete(request, athlete_id)
    adjustment = (
        selectors.adjustments_visible_to(membership)
        .filter(pk=adjustment_id, athlete=athlete)
        .first()
    )
    if adjustment is None or adjustment.status != Adjustment.Status.APPLIED:
        raise Http404("No such change.")
    try:
        services.adjustment_revert(adjustment=adjustment, by=membership)
        messages.success(request, "Reverted to the previous prescription.")
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("client_detail", athlete_id=athlete.pk)
