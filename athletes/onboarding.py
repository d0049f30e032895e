"""A new client's way from sign-up to their first plan (issue 10), and the registry the
later apps plug their parts of the questionnaire into.

The steps, in order, and why:
1. **About you** (`onboarding_about`): the profile. Consent events, enrolments and
   assessments all hang on an `AthleteProfile`, so it comes first; it asks only what any
   contract needs (name, sex, birth date, height, discipline, goal), no health data.
2. **Consent** (`consent`): one answer per purpose, none pre-ticked, *before* anything
   special-category (body weight, bests, allergies) is asked for.
3. **Tier and payment** (`join`, billing's page): Stripe Checkout where the business sells
   online; a complimentary enrolment where the installation has no payment (the demo).
4. **Questionnaire** (`onboarding`): schedule, equipment, baseline, food. Submitting it
   stores everything and plans the first block and meal plan in one transaction, which
   needs the enrolment (the methodology) and the consents from the steps before.

Athletes may not import programs or nutrition (DESIGN.md), so they add their sections
(main-lift bests and the first block; food preferences and the first meal plan) with
`register_section` from `AppConfig.ready()`. A section's `apply` runs inside
`athletes.services.onboarding_complete`'s transaction and raises a `DomainError` whose
`fields` name its own form's fields; everything is rolled back then.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import HttpRequest
from django.urls import reverse

from athletes import consent, selectors
from athletes.models import Assessment, AthleteProfile, Enrolment
from coaching.models import Membership


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a section's `apply` gets: the athlete, the assessment the questionnaire just
    stored (for baseline lifts), the day the first plan starts, and its form's data."""

    athlete: AthleteProfile
    assessment: Assessment
    start: datetime.date
    data: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class Section:
    name: str  # also the form prefix
    title: str
    form_class: type[forms.Form]
    apply: Callable[[Context], None]
    order: int = 100
    intro: str = ""
    # The section can't work without a body weight (energy targets): the core form asks.
    needs_body_weight: bool = False
    # Shown only when this returns True (nutrition needs `nutrition_planning` consent).
    enabled: Callable[[AthleteProfile], bool] = field(default=lambda athlete: True)


_sections: dict[str, Section] = {}


def register_section(section: Section) -> None:
    _sections[section.name] = section


def sections_for(athlete: AthleteProfile) -> list[Section]:
    return sorted(
        (s for s in _sections.values() if s.enabled(athlete)), key=lambda s: (s.order, s.name)
    )


# --- where a client is in the journey ----------------------------------------------------

STEPS = ("onboarding_about", "consent", "join", "onboarding")


def next_step(membership: Membership | None) -> str | None:
    """The URL name of the client's first unfinished step, or None when onboarded (or
    not a client). An enrolment ever made counts as paid: a lapsed client is billing's
    business, not onboarding's."""
    if membership is None or membership.role != Membership.Role.CLIENT:
        return None
    athlete = selectors.athlete_profile_of(membership)
    if athlete is None:
        return "onboarding_about"
    if set(consent.PURPOSES) - consent.consent_answered(athlete):
        return "consent"
    if not Enrolment.objects.filter(athlete=athlete).exists():
        return "join"
    if selectors.latest_assessment(athlete) is None:
        return "onboarding"
    return None


def next_step_url(request: HttpRequest) -> str | None:
    """Registered with `coaching.routing.register_client_next_step`: the tenant
    home sends an unfinished client here. A suspended business can't take the writes
    onboarding needs, so its clients read their home as before."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not tenant.is_writable:
        return None
    name = next_step(getattr(request, "membership", None))
    return step_url(name) if name else None


def step_url(name: str) -> str:
    """A step's page; the consent page is told it is an onboarding step (there, an
    unticked box is recorded as a "no", so every purpose gets an answer)."""
    return reverse(name) + ("?onboarding" if name == "consent" else "")
