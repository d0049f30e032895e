"""The client's consent page (issue 8): one checkbox per purpose with its plain-language
text, none ticked until the client has answered; saving records a grant or withdrawal
for each purpose that changed, with IP and user agent. Thin: `athletes.consent` works."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from athletes import consent, selectors
from athletes.models import AthleteProfile, ConsentPurpose


def _own_profile(request: HttpRequest) -> AthleteProfile:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    athlete = selectors.athlete_profile_of(membership)
    if athlete is None:
        raise Http404("Only clients give consent here.")
    return athlete


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from (the proxy in front sets REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[: consent.USER_AGENT_MAX]


@login_required
def consent_page(request: HttpRequest) -> HttpResponse:
    athlete = _own_profile(request)
    state = consent.consent_state(athlete)
    if request.method == "POST":
        wanted = set(request.POST.getlist("purposes")) & set(consent.PURPOSES)
        changed = 0
        for purpose in consent.PURPOSES:
            if (purpose in wanted) == state[purpose]:
                continue
            record = consent.consent_grant if purpose in wanted else consent.consent_withdraw
            record(
                athlete,
                purpose,
                ip=client_ip(request),
                user_agent=user_agent(request),
                actor_user_id=request.user.pk,
            )
            changed += 1
        messages.success(
            request, "Your choices are saved." if changed else "Nothing changed: choices kept."
        )
        return redirect(request.path)
    policies = consent.policies_current()
    answered = consent.consent_answered(athlete)
    rows = [
        {
            "purpose": purpose,
            "label": ConsentPurpose(purpose).label,
            "text": policies[purpose].text,
            "version": policies[purpose].version,
            "granted": state[purpose],
            "answered": purpose in answered,
        }
        for purpose in consent.PURPOSES
    ]
    return render(request, "athletes/consent.html", {"athlete": athlete, "rows": rows})
