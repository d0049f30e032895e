"""The owner's consent texts page (`/settings/consent-texts/`, issue 10): the current
policy text of every purpose, its history, and publishing a new version after a preview
of what clients see. Owners and admins only; anyone else gets the same 404 as a
stranger. Thin: `athletes.consent` numbers, validates and audits."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from athletes import consent
from athletes.models import ConsentPurpose
from coaching.errors import DomainError
from coaching.forms import add_domain_error
from coaching.models import Membership

CONSENT_TEXT_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


class ConsentTextForm(forms.Form):
    purpose = forms.ChoiceField(choices=ConsentPurpose.choices, label="Purpose")
    text = forms.CharField(
        label="New text",
        widget=forms.Textarea(attrs={"rows": 7, "aria-describedby": "text-help"}),
        max_length=consent.CONSENT_TEXT_MAX + 200,  # the service's limit is the real one
        help_text=(
            "Plain language: what is done with which data, and what saying no means. "
            f"{consent.CONSENT_TEXT_MIN}–{consent.CONSENT_TEXT_MAX} characters."
        ),
    )


def _owner_or_admin(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if request.tenant is None or membership is None or membership.role not in CONSENT_TEXT_ROLES:
        raise Http404("No such page.")
    return membership


@login_required
def consent_texts(request: HttpRequest) -> HttpResponse:
    """GET: the texts. POST `action=preview`: the form again with the text as clients
    will read it; `action=publish`: a new version, or the form with what to fix."""
    me = _owner_or_admin(request)
    current = consent.policies_current()
    initial_purpose = request.GET.get("purpose", "")
    if initial_purpose not in consent.PURPOSES:
        initial_purpose = consent.HEALTH_DATA
    form = ConsentTextForm(
        request.POST or None,
        initial={"purpose": initial_purpose, "text": current[initial_purpose].text},
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        purpose, text = form.cleaned_data["purpose"], form.cleaned_data["text"]
        if request.POST.get("action") == "publish":
            try:
                policy = consent.consent_policy_publish(
                    purpose=purpose, text=text, by_user_id=me.user_id
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"{ConsentPurpose(purpose).label}: version {policy.version} published. "
                    "Clients see it on their consent page from now on.",
                )
                return redirect("consent_texts")
        else:
            preview = {
                "purpose": purpose,
                "label": ConsentPurpose(purpose).label,
                "text": consent.normalise_text(text).strip(),
                "version": current[purpose].version + 1,
            }
    history = consent.policy_versions()
    older = consent.grants_on_older_versions()
    rows = [
        {
            "purpose": purpose,
            "label": ConsentPurpose(purpose).label,
            "policy": current[purpose],
            "older_versions": history.get(purpose, [])[1:],
            "agreed_on_older": older.get(purpose, 0),
        }
        for purpose in consent.PURPOSES
    ]
    return render(
        request,
        "athletes/consent_texts.html",
        {"rows": rows, "form": form, "preview": preview},
        status=400 if form.errors else 200,
    )
