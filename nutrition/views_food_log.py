"""The client's food log page: what they ate on a day against the day's target, one tap
for a planned meal eaten as planned, search the food table and recipes for the rest."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from athletes import consent
from coaching.errors import DomainError
from nutrition import selectors, services
from nutrition.catalogue import load_catalogue
from nutrition.views import _athlete, _gated

SLOTS = ("breakfast", "lunch", "dinner", "snack")
MACROS = ("energy_kcal", "protein_g", "carbs_g", "fat_g")


def _day(raw: str | None) -> datetime.date:
    today = timezone.localdate()
    if not raw:
        return today
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        raise Http404("No such day.") from None
    if day > today:
        raise Http404("That day hasn't come yet.")
    return day


def _url(day: datetime.date) -> str:
    return f"{reverse('food_log')}?day={day.isoformat()}"


@login_required
@_gated
def food_log(request: HttpRequest) -> HttpResponse:
    athlete = _athlete(request, None)
    day = _day(request.GET.get("day") or request.POST.get("day"))
    if not consent.has_consent(athlete, consent.HEALTH_DATA):
        return render(request, "nutrition/food_log.html", {"day": day, "needs_consent": True})
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        amount = request.POST.get("amount", "").strip()
        unit = request.POST.get("unit", "grams")
        try:
            value = float(amount)
        except ValueError:
            errors["amount"] = ["Give how much as a number, e.g. 150 (grams) or 1.5 (portions)."]
        else:
            try:
                entry = services.food_log_add(
                    athlete=athlete,
                    date=day,
                    key=request.POST.get("key", ""),
                    slot=request.POST.get("slot", "") if request.POST.get("slot") in SLOTS else "",
                    **({"portions": value} if unit == "portions" else {"grams": value}),
                )
            except DomainError as exc:
                errors = exc.fields or {"amount": [exc.message]}
            else:
                messages.success(request, f"Logged {entry.name} ({entry.grams} g).")
                return redirect(_url(day))
    query = request.GET.get("q", "").strip()
    catalogue = load_catalogue()
    results = []
    if query:
        results = [
            ("food:" + f.slug, f.name, f.default_portion[0])
            for f in catalogue.search_foods(query, limit=8)
        ]
        results += [
            ("recipe:" + r.slug, r.name, "1 serving")
            for r in catalogue.search_recipes(query, limit=5)
        ]
    entries = list(
        selectors.food_log_visible_to(request.membership).filter(athlete=athlete, date=day)
    )
    eaten = {m: round(sum(getattr(e, m) for e in entries), 1) for m in MACROS}
    target = selectors.targets_between(athlete, day, day).get(day)
    plan = selectors.plan_days_between(athlete, day, day).get(day)
    logged_keys = {(e.slot, e.key) for e in entries}
    planned = [
        {
            "slot": meal.get("slot", ""),
            "item": item,
            "logged": (meal.get("slot", ""), item.get("key")) in logged_keys,
        }  # fmt: skip
        for meal in (plan.meals if plan else [])
        for item in meal.get("items", ())
    ]
    return render(
        request,
        "nutrition/food_log.html",
        {
            "day": day,
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1) if day < timezone.localdate() else None,
            "entries": entries,
            "eaten": eaten,
            "target": target,
            "planned": planned,
            "query": query,
            "results": results,
            "slots": SLOTS,
            "errors": errors,
            "posted": request.POST if errors else {},
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
@_gated
def food_log_delete(request: HttpRequest, entry_id: int) -> HttpResponse:
    athlete = _athlete(request, None)
    entry = (
        selectors.food_log_visible_to(request.membership)
        .filter(athlete=athlete, pk=entry_id)
        .first()
    )
    if entry is None:
        raise Http404("No such entry.")
    day = entry.date
    services.food_log_delete(entry=entry)
    messages.success(request, f"Removed {entry.name}.")
    return redirect(_url(day))
