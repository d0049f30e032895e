"""Pages of the plan: a client's current block, week by week, with the reason for every
number. Thin: reads through selectors, renders."""

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from athletes import selectors as athlete_selectors
from programs import selectors, services


@login_required
def plan(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    """The athlete's active block. Clients see their own; staff pass an athlete id."""
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    profiles = athlete_selectors.profiles_visible_to(membership)
    if athlete_id is not None:
        athlete = profiles.filter(pk=athlete_id).first()
    else:
        athlete = athlete_selectors.athlete_profile_of(membership)
    if athlete is None:
        raise Http404("No such athlete.")
    block = selectors.active_block_of(athlete)
    weeks = []
    adherence = {}
    if block is not None:
        sessions = selectors.sessions_of_block(block).prefetch_related("sets__exercise")
        weeks = [(week, list(items)) for week, items in groupby(sessions, key=lambda s: s.week)]
        adherence = {row["week"]: row for row in services.adherence_by_week(athlete, block)}
    return render(
        request,
        "programs/plan.html",
        {"athlete": athlete, "block": block, "weeks": weeks, "adherence": adherence},
    )
