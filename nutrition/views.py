"""Pages of a client's nutrition: today's targets and why, the 7-day meal plan (swap, lock,
re-plan a day), the shopping list (tick off, download) and the weight trend chart.
Clients see their own; staff pass an athlete id. Thin: selectors and services do the work.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from athletes import selectors as athlete_selectors
from athletes.access import access_of
from athletes.models import AthleteProfile
from coaching import audit
from coaching.errors import DomainError
from nutrition import charts, reports, selectors, services


class _NoAccess(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def _athlete(request: HttpRequest, athlete_id: int | None) -> AthleteProfile:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    athlete = athlete_selectors.athlete_in_view(membership, athlete_id)
    if athlete is None:
        raise Http404("No such athlete.")
    access = access_of(athlete)
    if not access.allowed and not athlete_selectors.is_staff(membership):
        raise _NoAccess(access.reason)
    return athlete


def _paused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "nutrition/paused.html", {"reason": reason}, status=403)


def _gated(view):
    """A client without access sees why, not their data (staff still see it)."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _NoAccess as exc:
            return _paused(request, exc.reason)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _home(athlete_id: int | None) -> str:
    if athlete_id is None:
        return reverse("nutrition")
    return reverse("athlete_nutrition", args=[athlete_id])


def _date(raw: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise Http404("No such day.") from None


@login_required
@_gated
def nutrition(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    athlete = _athlete(request, athlete_id)
    audit.record_client_view(actor_user_id=request.user.pk, athlete=athlete, page="nutrition")
    today = timezone.localdate()
    end = today + datetime.timedelta(days=services.PLAN_DAYS - 1)
    targets = selectors.targets_between(athlete, today, end)
    plans = selectors.plan_days_between(athlete, today, end)
    days = [
        {"date": d, "target": targets.get(d), "plan": plans.get(d)}
        for d in (today + datetime.timedelta(days=i) for i in range(services.PLAN_DAYS))
    ]
    trend = reports.weight_trend(athlete, today - datetime.timedelta(days=89), today)
    return render(
        request,
        "nutrition/nutrition.html",
        {
            "athlete": athlete,
            "athlete_id": athlete_id,
            "base": _home(athlete_id),
            "days": days,
            "today": today,
            "profile": selectors.profile_of(athlete),
            "adherence": reports.adherence(athlete, today - datetime.timedelta(days=6), today),
            "chart": charts.weight_chart(trend["weights"], trend["trend"]),
            "estimate": selectors.latest_estimate(athlete),
        },
    )


@login_required
@require_POST
@_gated
def generate(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    athlete = _athlete(request, athlete_id)
    try:
        refresh = services.nutrition_refresh(athlete=athlete, start=timezone.localdate())
        messages.success(request, f"Planned {len(refresh.planned)} day(s).")
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect(_home(athlete_id))


@login_required
@_gated
def swap(request: HttpRequest, day: str, slot: str, athlete_id: int | None = None) -> HttpResponse:
    """The alternatives for one meal (GET), or the chosen one (POST)."""
    athlete = _athlete(request, athlete_id)
    date = _date(day)
    if request.method == "POST":
        try:
            services.meal_swap(
                athlete=athlete, date=date, slot=slot, key=request.POST.get("key", "")
            )
            messages.success(request, "Meal swapped.")
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect(_home(athlete_id))
    row = selectors.plan_days_between(athlete, date, date).get(date)
    if row is None:
        raise Http404("No plan for that day.")
    try:
        options = services.swap_options(row, slot)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(_home(athlete_id))
    current = next(m for m in row.meals if m["slot"] == slot)
    return render(
        request,
        "nutrition/swap.html",
        {
            "athlete": athlete,
            "athlete_id": athlete_id,
            "base": _home(athlete_id),
            "row": row,
            "slot": slot,
            "current": current,
            "options": [services.meal_json(m) for m in options],
        },
    )


@login_required
@require_POST
@_gated
def lock(request: HttpRequest, day: str, slot: str, athlete_id: int | None = None) -> HttpResponse:
    athlete = _athlete(request, athlete_id)
    try:
        services.meal_lock(
            athlete=athlete, date=_date(day), slot=slot, locked=request.POST.get("locked") == "1"
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect(_home(athlete_id))


@login_required
@require_POST
@_gated
def replan(request: HttpRequest, day: str, athlete_id: int | None = None) -> HttpResponse:
    athlete = _athlete(request, athlete_id)
    try:
        services.day_replan(athlete=athlete, date=_date(day))
        messages.success(request, "New meals for the unlocked slots.")
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect(_home(athlete_id))


def _range(request: HttpRequest) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    try:
        start = datetime.date.fromisoformat(request.GET.get("from") or today.isoformat())
        end = datetime.date.fromisoformat(
            request.GET.get("to") or (start + datetime.timedelta(days=6)).isoformat()
        )
    except ValueError:
        raise Http404("Dates are YYYY-MM-DD.") from None
    if start > end or (end - start).days > 31:
        raise Http404("A shopping list covers 1–31 days.")
    return start, end


@login_required
@_gated
def shopping(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    athlete = _athlete(request, athlete_id)
    start, end = _range(request)
    if request.method == "POST":
        try:
            services.shopping_tick(
                athlete=athlete,
                start=start,
                end=end,
                food=request.POST.get("food", ""),
                ticked=request.POST.get("ticked") == "1",
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect(f"{request.path}?from={start.isoformat()}&to={end.isoformat()}")
    report = reports.shopping_for(athlete, start, end)
    fmt = request.GET.get("format")
    if fmt in ("txt", "csv"):
        body = reports.shopping_text(report) if fmt == "txt" else reports.shopping_csv(report)
        response = HttpResponse(
            body, content_type=("text/plain" if fmt == "txt" else "text/csv") + "; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="shopping-{start}-{end}.{fmt}"'
        return response
    return render(
        request,
        "nutrition/shopping.html",
        {
            "athlete": athlete,
            "athlete_id": athlete_id,
            "base": _home(athlete_id),
            "report": report,
            "sections": report.shopping.sections(),
        },
    )
