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


def _edited_rx(after: dict, post) -> tuple[dict, dict[str, str]]:
    """The coach's version of a session prescription from the edit form, and the
    problems per input (kept in the form, never half-applied)."""
    errors: dict[str, str] = {}
    edited = dict(after)
    raw = post.get("duration_min", "").strip()
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= 600:
            errors["duration_min"] = "Minutes: a whole number from 1 to 600."
        else:
            edited["duration_min"] = int(raw)
    sets = []
    for index, row in enumerate(after.get("sets") or []):
        row = dict(row)
        reps = post.get(f"reps_{index}", "").strip()
        if not reps.isdigit() or not 1 <= int(reps) <= 100:
            errors[f"reps_{index}"] = f"Set {row.get('set_index')}: reps from 1 to 100."
        else:
            row["reps"] = int(reps)
        load = post.get(f"load_kg_{index}", "").strip()
        if load:
            try:
                value = float(load)
            except ValueError:
                value = -1.0
            if not 0 <= value <= 1000:
                errors[f"load_kg_{index}"] = f"Set {row.get('set_index')}: load in kg, 0–1000."
            else:
                row["load_kg"] = value
        elif row.get("load_kg") is not None:
            errors[f"load_kg_{index}"] = f"Set {row.get('set_index')}: give the load in kg."
        sets.append(row)
    edited["sets"] = sets
    return edited, errors


@login_required
def review_edit(request: HttpRequest, adjustment_id: int) -> HttpResponse:
    """The coach's own version of a proposed session change: before, the engine's
    proposal and editable numbers side by side; applying it keeps the engine's version
    on record (`adjustment_edit_approve`)."""
    membership = _staff(request)
    adjustment = (
        selectors.adjustments_visible_to(membership)
        .select_related("athlete", "planned_session")
        .filter(pk=adjustment_id, status=Adjustment.Status.PENDING)
        .first()
    )
    if adjustment is None or adjustment.subject != Adjustment.Subject.SESSION:
        raise Http404("No such change waiting.")
    errors: dict[str, str] = {}
    values = request.POST if request.method == "POST" else None
    if request.method == "POST":
        after, errors = _edited_rx(adjustment.after, request.POST)
        if not errors:
            try:
                services.adjustment_edit_approve(adjustment=adjustment, by=membership, after=after)
            except DomainError as exc:
                errors["__all__"] = str(exc)
            else:
                messages.success(request, "Your version is applied; the engine's is on record.")
                return redirect("review_queue")
    names = dict(
        selectors.exercises()
        .filter(slug__in=[s["exercise"] for s in adjustment.after.get("sets") or []])
        .values_list("slug", "name")
    )
    before_sets = {s["set_index"]: s for s in adjustment.before.get("sets") or []}
    rows = [
        {
            "index": index,
            "name": names.get(row["exercise"], row["exercise"]),
            "set_index": row["set_index"],
            "before": before_sets.get(row["set_index"]),
            "proposed": row,
            "reps": values.get(f"reps_{index}") if values else row.get("reps"),
            "load_kg": values.get(f"load_kg_{index}") if values else row.get("load_kg"),
            "reps_error": errors.get(f"reps_{index}"),
            "load_error": errors.get(f"load_kg_{index}"),
        }
        for index, row in enumerate(adjustment.after.get("sets") or [])
    ]
    return render(
        request,
        "programs/review_edit.html",
        {
            "adjustment": adjustment,
            "rows": rows,
            "duration_min": (
                values.get("duration_min") if values else adjustment.after.get("duration_min")
            ),
            "errors": errors,
        },
        status=400 if errors else 200,
    )
