"""The client's pages beyond today: history (what was logged, what changed and why) and
progress (charts drawn on the server, each with its numbers as text). Clients see
their own; staff pass an athlete id (another tenant's or an unknown id is the same
404). Thin: `programs.progress` reads and builds the panels."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from athletes.models import AthleteProfile
from athletes.selectors import is_staff
from coaching import audit
from coaching.models import Membership
from programs import progress

PER_PAGE = 20


def _subject(
    request: HttpRequest, athlete_id: int | None, page: str
) -> tuple[Membership, AthleteProfile]:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    athlete = progress.profile_visible(membership, athlete_id)
    if athlete is None:
        raise Http404("No such athlete.")
    audit.record_client_view(actor_user_id=request.user.pk, athlete=athlete, page=page)
    return membership, athlete


@login_required
def history(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    """Sessions logged, newest first (planned sets beside the sets done), and the
    timeline of changes with the sentence that explains each."""
    membership, athlete = _subject(request, athlete_id, "history")
    sessions = Paginator(progress.session_logs_of(athlete), PER_PAGE).get_page(
        request.GET.get("page")
    )
    changes = Paginator(progress.adjustment_timeline(membership, athlete), PER_PAGE).get_page(
        request.GET.get("changes")
    )
    return render(
        request,
        "programs/history.html",
        {
            "athlete": athlete,
            "athlete_id": athlete_id,
            "staff": is_staff(membership),
            "sessions": sessions,
            "changes": changes,
        },
    )


@login_required
def progress_page(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    """e1RM per main lift, fitness/fatigue/form, readiness and body weight."""
    membership, athlete = _subject(request, athlete_id, "progress")
    today = timezone.localdate()
    panels = progress.progress_panels(
        athlete, today, raw_checkins=progress.raw_checkins_visible(membership, athlete)
    )
    return render(
        request,
        "programs/progress.html",
        {"athlete": athlete, "athlete_id": athlete_id, "panels": panels, "today": today},
    )
