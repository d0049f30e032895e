"""Pages of the plan: a client's current block, week by week, with the reason for every
number. Thin: reads through selectors, renders."""

from collections import defaultdict
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from athletes import selectors as athlete_selectors
from athletes.access import access_of
from coaching import audit
from coaching.errors import DomainError
from programs import selectors, services
from programs.models import Adjustment


@login_required
def plan(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    """The athlete's active block. Clients see their own; staff pass an athlete id."""
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    athlete = athlete_selectors.athlete_in_view(membership, athlete_id)
    if athlete is None:
        raise Http404("No such athlete.")
    audit.record_client_view(actor_user_id=request.user.pk, athlete=athlete, page="plan")
    block = selectors.active_block_of(athlete)
    weeks = []
    adherence = {}
    changes: dict[int, list[Adjustment]] = defaultdict(list)
    if block is not None:
        sessions = selectors.sessions_of_block(block).prefetch_related("sets__exercise")
        weeks = [(week, list(items)) for week, items in groupby(sessions, key=lambda s: s.week)]
        adherence = {row["week"]: row for row in services.adherence_by_week(athlete, block)}
        for adjustment in (
            selectors.adjustments_visible_to(membership)
            .filter(planned_session__block=block)
            .order_by("created", "id")
        ):
            changes[adjustment.planned_session_id].append(adjustment)
    return render(
        request,
        "programs/plan.html",
        {
            "access": access_of(athlete),
            "staff": athlete_selectors.is_staff(membership),
            "athlete": athlete,
            # not "block": inside {% block %} Django's own `block` variable would shadow it
            "current_block": block,
            "weeks": weeks,
            "adherence": adherence,
            "changes": dict(changes),
        },
    )


def _staff(request: HttpRequest):
    membership = getattr(request, "membership", None)
    if membership is None or not athlete_selectors.is_staff(membership):
        raise Http404("No such page.")
    return membership


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """The coach's queue: changes waiting for a decision, next session first, and the
    latest applied ones (which can be reverted)."""
    membership = _staff(request)
    visible = selectors.adjustments_visible_to(membership).select_related("athlete")
    pending = list(selectors.adjustment_queue(visible))
    return render(
        request,
        "programs/review_queue.html",
        {
            "pending": pending,
            # Pinned coach notes beside each client's changes: the context to decide with.
            "notes": athlete_selectors.pinned_notes_by_athlete(
                membership, list({a.athlete_id for a in pending})
            ),
            "recent": visible.filter(status=Adjustment.Status.APPLIED)[:20],
        },
    )


_DECISIONS = {
    "approve": (services.adjustment_approve, "Applied."),
    "reject": (services.adjustment_reject, "Rejected; the session stays as it was."),
    "revert": (services.adjustment_revert, "Reverted to the previous prescription."),
}


@login_required
@require_POST
def review_decide(request: HttpRequest, adjustment_id: int | None = None) -> HttpResponse:
    """The queue's buttons: approve / reject / revert one, or approve the ticked ones."""
    membership = _staff(request)
    visible = selectors.adjustments_visible_to(membership)
    decision = request.POST.get("decision", "")
    if adjustment_id is None:
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        outcome = services.adjustments_bulk_approve(
            adjustments=list(visible.filter(pk__in=ids)), by=membership
        )
        applied = sum(1 for result in outcome.values() if result == "applied")
        messages.info(request, f"{applied} of {len(ids)} applied.")
        for pk, result in outcome.items():
            if result != "applied":
                messages.error(request, f"#{pk}: {result}")
        return redirect("review_queue")
    adjustment = visible.filter(pk=adjustment_id).first()
    if adjustment is None or decision not in _DECISIONS:
        raise Http404("No such adjustment.")
    service, done = _DECISIONS[decision]
    try:
        service(adjustment=adjustment, by=membership)
        messages.success(request, done)
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("review_queue")
