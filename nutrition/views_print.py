"""The printable plan (`plan/print/`): the current training block and this week's meals
on one page, with a print stylesheet. It lives in nutrition because it shows both, and
nutrition may read programs (not the other way round)."""

from __future__ import annotations

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from athletes import selectors as athlete_selectors
from athletes.access import access_of
from coaching import audit
from nutrition import printable
from programs import selectors as program_selectors


@login_required
def plan_print(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    athlete = athlete_selectors.athlete_in_view(membership, athlete_id)
    if athlete is None:
        raise Http404("No such athlete.")
    audit.record_client_view(actor_user_id=request.user.pk, athlete=athlete, page="plan_print")
    staff = athlete_selectors.is_staff(membership)
    access = access_of(athlete)
    if not access.allowed and not staff:
        return render(request, "nutrition/paused.html", {"reason": access.reason}, status=403)
    block = program_selectors.active_block_of(athlete)
    weeks = []
    if block is not None:
        sessions = program_selectors.sessions_of_block(block).prefetch_related("sets__exercise")
        weeks = [(week, list(items)) for week, items in groupby(sessions, key=lambda s: s.week)]
    today = timezone.localdate()
    return render(
        request,
        "nutrition/print_plan.html",
        {
            "athlete": athlete,
            "program_block": block,
            "weeks": weeks,
            "meals": printable.week_meals(athlete, today),
            "today": today,
        },
    )
