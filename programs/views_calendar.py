"""The calendar feed: the public ICS (the token in the path is the only credential,
so no login) and the client's page to make, rotate or revoke the link. Thin: the work
is in `programs.calendar`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.views.decorators.http import require_GET, require_http_methods

from athletes.models import AthleteProfile
from athletes.selectors import athlete_profile_of
from coaching.routing import tenant_absolute_url
from programs import calendar

# The new link travels from the POST to the page it redirects to, once.
SESSION_KEY = "calendar_feed_token"


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed. An unknown, revoked or other tenant's token is the same 404."""
    if getattr(request, "tenant", None) is None:
        raise Http404("No such calendar.")
    feed = calendar.calendar_feed_by_token(token)
    if feed is None:
        raise Http404("No such calendar.")
    response = HttpResponse(
        calendar.calendar_ics(feed.athlete), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="training-plan.ics"'
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _own_profile(request: HttpRequest) -> AthleteProfile:
    membership = getattr(request, "membership", None)
    profile = athlete_profile_of(membership) if membership is not None else None
    if profile is None:
        raise Http404("Only clients have a training calendar.")
    return profile


@login_required
@require_http_methods(["GET", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    """Make (or replace) the link, or turn it off. The link is shown once, right after
    it is made: only its fingerprint is kept."""
    athlete = _own_profile(request)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            _, token = calendar.calendar_feed_create(athlete=athlete)
            request.session[SESSION_KEY] = token
        elif action == "revoke":
            calendar.calendar_feed_revoke(athlete=athlete)
            request.session.pop(SESSION_KEY, None)
        return redirect("calendar")
    token = request.session.pop(SESSION_KEY, None)
    feed = calendar.calendar_feed_live(athlete)
    url = None
    if token and feed is not None:
        # reverse() puts the request's prefix (/t/<slug>/ for members) in front; the
        # absolute link adds the tenant's own, right in both routing modes.
        path = reverse("calendar_feed", kwargs={"token": token})
        url = tenant_absolute_url(request.tenant, path.removeprefix(get_script_prefix()))
    return render(
        request,
        "programs/calendar.html",
        {"athlete": athlete, "feed": feed, "url": url},
    )
