"""Forms of the tenant lifecycle pages. They check shape only; the rules (who may invite
whom, the last owner, logo formats) live in `coaching.lifecycle`, whose errors the views
put back on the form."""

from __future__ import annotations

import zoneinfo

from django import forms

from coaching.errors import DomainError
from coaching.models import Membership

TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the fields it names (or on the form)."""
    placed = False
    for field, messages in (exc.fields or {}).items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
        placed = placed or target is not None
    if not placed:
        form.add_error(None, exc.message)


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.CLIENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=[(r.value, r.label) for r in Membership.Role if r != Membership.Role.CLIENT]
    )


class BrandingForm(forms.Form):
    name = forms.CharField(max_length=200)
    brand_colour = forms.CharField(
        label="Brand colour",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    logo = forms.FileField(
        required=False, help_text="PNG or JPEG, under 256 KB. Shown at the top of every page."
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the current logo")


class TenantSignupForm(forms.Form):
    name = forms.CharField(label="Business name", max_length=200)
    slug = forms.SlugField(
        label="Address",
        max_length=63,
        help_text="Lowercase letters, digits and hyphens: it becomes your web address.",
    )
    timezone = forms.ChoiceField(
        choices=TIMEZONE_CHOICES,
        initial="Europe/London",
        help_text="Your clients' nightly re-plan runs at 02:00 in this time zone.",
    )
    currency = forms.CharField(max_length=3, initial="EUR", help_text="ISO 4217, e.g. EUR, GBP.")
