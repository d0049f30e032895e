"""The client's pages: consent (issue 8) and onboarding (issue 10).

Consent: one checkbox per purpose with its plain-language text, none ticked until the
client has answered; saving records a grant or withdrawal for each purpose that changed,
with IP and user agent. Thin: `athletes.consent` works.

Onboarding: "About you" (the profile), then consent, the tier (billing's join page) and
the questionnaire; the order and why are in `athletes.onboarding`. Thin: forms check
shape, `athletes.services` decides and plans."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import exceptions as django_exceptions
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from athletes import consent, onboarding, selectors, services, today
from athletes.access import access_of
from athletes.forms import AboutForm, CheckInForm, QuestionnaireForm
from athletes.models import AthleteProfile, ConsentPurpose
from coaching import selectors as coaching_selectors
from coaching.errors import DomainError
from coaching.forms import add_domain_error
from coaching.models import Membership


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
    onboarding_step = request.POST.get("onboarding") == "1" or "onboarding" in request.GET
    if request.method == "POST":
        wanted = set(request.POST.getlist("purposes")) & set(consent.PURPOSES)
        # As an onboarding step the form asks for every purpose, so an unticked box is
        # an answer ("no"), recorded as such; elsewhere only changes are recorded.
        answered = consent.consent_answered(athlete) if onboarding_step else set(consent.PURPOSES)
        changed = 0
        for purpose in consent.PURPOSES:
            if (purpose in wanted) == state[purpose] and purpose in answered:
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
        step = onboarding.next_step(request.membership)
        if onboarding_step:
            return _to_step(step)
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
    return render(
        request,
        "athletes/consent.html",
        {"athlete": athlete, "rows": rows, "onboarding_step": onboarding_step},
    )


# --- onboarding (issue 10) -----------------------------------------------------------------


def _client_member(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if membership is None or membership.role != Membership.Role.CLIENT:
        raise Http404("No such page.")
    return membership


def _to_step(step: str | None) -> HttpResponse:
    return redirect(onboarding.step_url(step) if step else reverse("today"))


@login_required
def onboarding_about(request: HttpRequest) -> HttpResponse:
    """Step 1: who the client is. Editable until the questionnaire is done."""
    membership = _client_member(request)
    athlete = selectors.athlete_profile_of(membership)
    step = onboarding.next_step(membership)
    if step is None:
        return _to_step(None)
    initial = {name: getattr(athlete, name) for name in services.ABOUT_FIELDS} if athlete else {}
    form = AboutForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.onboarding_profile_create(membership=membership, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return _to_step(onboarding.next_step(membership))
    return render(
        request,
        "athletes/onboarding_about.html",
        {"form": form, "steps": _progress("onboarding_about")},
        status=400 if form.errors else 200,
    )


def _progress(current: str) -> list[dict[str, object]]:
    titles = {
        "onboarding_about": "About you",
        "consent": "Privacy",
        "join": "Your tier",
        "onboarding": "Training and food",
    }
    index = onboarding.STEPS.index(current)
    return [
        {"title": titles[name], "current": i == index, "done": i < index}
        for i, name in enumerate(onboarding.STEPS)
    ]


def _place(core: QuestionnaireForm, target: forms.Form, exc: services.OnboardingInvalid) -> None:
    """Put a refusal on the field it names: the section's own, else the core form's
    (body weight, which the food plan needs), else on top of the section."""
    placed = False
    for name, errors in (exc.fields or {}).items():
        for form in (target, core):
            if name in form.fields:
                for error in errors:
                    form.add_error(name, error)
                placed = True
                break
    if not placed:
        target.add_error(None, exc.message)


@login_required
def onboarding_questionnaire(request: HttpRequest) -> HttpResponse:
    """Last step: schedule, equipment, baseline and food in one sectioned form. Saving
    stores it all and plans the first block and meal plan, or changes nothing and shows
    what to fix next to what was entered."""
    membership = _client_member(request)
    step = onboarding.next_step(membership)
    if step != "onboarding":
        return _to_step(step)
    athlete = selectors.athlete_profile_of(membership)
    sections = onboarding.sections_for(athlete)
    data = request.POST if request.method == "POST" else None
    core = QuestionnaireForm(
        data,
        weight_required=any(s.needs_body_weight for s in sections),
        initial={
            "available_weekdays": athlete.available_weekdays,
            "session_minutes": athlete.session_minutes,
            "equipment": athlete.equipment,
        },
    )
    if not consent.has_consent(athlete, consent.HEALTH_DATA):
        core.fields["body_weight_kg"].disabled = True
        core.fields[
            "body_weight_kg"
        ].help_text = "You haven't agreed to the use of health data, so we don't ask for it."
    parts = [(section, section.form_class(data, prefix=section.name)) for section in sections]
    if data is not None:
        valid = [core.is_valid(), *(form.is_valid() for _, form in parts)]
        if all(valid):
            c = core.cleaned_data
            try:
                services.onboarding_complete(
                    athlete=athlete,
                    available_weekdays=c["available_weekdays"],
                    session_minutes=c["session_minutes"],
                    equipment=c["equipment"],
                    training_age_years=c["training_age_years"],
                    injuries=c["injuries"],
                    body_weight_kg=c["body_weight_kg"],
                    threshold_pace_s_per_km=c["threshold_pace"],
                    ftp_w=c["ftp_w"],
                    sections={section.name: form.cleaned_data for section, form in parts},
                )
            except services.OnboardingInvalid as exc:
                target = next((f for s, f in parts if s.name == exc.section), core)
                _place(core, target, exc)
            else:
                messages.success(
                    request, "Your first block is planned. Here is today; the plan has every week."
                )
                return redirect("today")
    has_errors = bool(core.errors) or any(form.errors for _, form in parts)
    return render(
        request,
        "athletes/onboarding.html",
        {"core": core, "parts": parts, "steps": _progress("onboarding"), "has_errors": has_errors},
        status=400 if has_errors else 200,
    )


# --- settings (issue 10) -------------------------------------------------------------------

from django.core.exceptions import ValidationError  # noqa: E402 - appended section

from athletes.forms import SettingsProfileForm  # noqa: E402 - appended section

# What withdrawing each purpose changes, in the client's words (the settings page).
WITHDRAW_CONSEQUENCES: dict[str, str] = {
    consent.HEALTH_DATA: "You can no longer log check-ins or body measurements, and your"
    " plan stops adjusting to how you slept and feel.",
    consent.NUTRITION_PLANNING: "No new food targets, meal plans or shopping lists are made;"
    " the ones you have stay as they are.",
    consent.ML_PERSONALISATION: "The models fitted on your data and their predictions are"
    " deleted; your plan keeps working without them.",
    consent.COACH_ACCESS: "Your coach no longer sees your raw check-ins (sleep, HRV, body"
    " weight, notes); they still see your plan and training.",
    consent.MARKETING_EMAIL: "You stop getting news and offers by e-mail. Messages about your"
    " account and plan still arrive.",
}


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """The settings hub: the profile (saved here), and the consent, data and billing
    pages it leads to with what each choice means. Staff without a profile see the
    links that apply to them."""
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    athlete = selectors.athlete_profile_of(membership)
    form = None
    if athlete is not None:
        initial = {name: getattr(athlete, name) for name in SettingsProfileForm.base_fields}
        form = SettingsProfileForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.profile_update(profile=athlete, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request, "Saved. Your next plan uses these days and this session length."
                )
                return redirect("settings")
    elif request.method == "POST":
        raise Http404("Only clients have a profile to edit.")
    rows = []
    if athlete is not None:
        state = consent.consent_state(athlete)
        rows = [
            {
                "purpose": purpose,
                "label": ConsentPurpose(purpose).label,
                "granted": state[purpose],
                "consequence": WITHDRAW_CONSEQUENCES[purpose],
            }
            for purpose in consent.PURPOSES
        ]
    return render(
        request,
        "athletes/settings.html",
        {
            "athlete": athlete,
            "form": form,
            "consents": rows,
            "enrolment": selectors.current_enrolment(athlete) if athlete else None,
            "staff": selectors.is_staff(membership),
        },
        status=400 if form is not None and form.errors else 200,
    )


# --- Today (issue 10, client side) ------------------------------------------------------------

TODAY_TEMPLATE = "athletes/today.html"


def _today_of(request: HttpRequest) -> today.Day:
    """The client's day on the business's calendar (the night runs on it too). Staff
    have the dashboard: Today is a 404 for them, as for anyone not a client here."""
    membership = _client_member(request)
    athlete = selectors.athlete_profile_of(membership)
    if athlete is None:
        raise Http404("No such page.")
    return today.Day(
        membership=membership,
        athlete=athlete,
        date=coaching_selectors.tenant_today(request.tenant),
        access=access_of(athlete),
        consents=consent.consent_state(athlete),
    )


def _today_page(
    request: HttpRequest,
    day: today.Day,
    *,
    checkin: today.Panel | None = None,
    replace: today.Panel | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page: the check-in, the registered panels (one of them replaced by an
    action's refused input, when a form was posted without JavaScript), tomorrow."""
    panels: list[today.Panel] = []
    if day.access.allowed:
        panels = [checkin or today.checkin_panel(day)]
        for panel in today.panels(day):
            panels.append(replace if replace is not None and replace.name == panel.name else panel)
        panels.append(today.tomorrow_panel(day))
    return render(
        request,
        TODAY_TEMPLATE,
        {"day": day, "athlete": day.athlete, "access": day.access, "panels": panels},
        status=status,
    )


@login_required
def today_page(request: HttpRequest) -> HttpResponse:
    """What a client does today: check in, train (logging set by set), eat; and what
    tomorrow holds. A client who hasn't finished onboarding is sent to the next step."""
    membership = _client_member(request)
    step = onboarding.next_step(membership)
    if step is not None and request.tenant.is_writable:
        return redirect(onboarding.step_url(step))
    return _today_page(request, _today_of(request))


def _partial(
    request: HttpRequest, template: str, context: dict[str, object], *, ok: bool
) -> HttpResponse:
    # 422 for a refusal: the page's htmx config swaps it in (the message beside the input).
    return render(request, template, context, status=200 if ok else 422)


@login_required
@require_POST
def today_checkin(request: HttpRequest) -> HttpResponse:
    """Save the morning check-in (the day's only one: a second save corrects it). With
    htmx the panel comes back in place; without, the page reloads (or shows what to fix
    next to what was entered)."""
    day = _today_of(request)
    if not day.access.allowed:
        return _today_page(request, day, status=403)
    form = CheckInForm(request.POST)
    if form.is_valid():
        values = {name: value for name, value in form.cleaned_data.items() if value is not None}
        try:
            services.checkin_upsert(athlete=day.athlete, date=day.date, **values)
        except DomainError as exc:
            add_domain_error(form, exc)
        except django_exceptions.ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for name, messages_ in errors.items():
                form.add_error(name if name in form.fields else None, messages_)
    ok = not form.errors
    panel = today.checkin_panel(day, None if ok else form, saved=ok)
    if request.htmx:
        return _partial(request, panel.template, {"p": panel.context, "panel": panel}, ok=ok)
    if ok:
        messages.success(request, "Check-in saved.")
        return redirect(reverse("today") + "#panel-checkin")
    return _today_page(request, day, checkin=panel, status=400)


@login_required
@require_POST
def today_action(request: HttpRequest, panel: str, action: str, pk: int) -> HttpResponse:
    """A panel's write (log a set, a session), dispatched to the app that registered
    it; another tenant's or another client's object is the action's 404."""
    handler = today.action(panel, action)
    if handler is None:
        raise Http404("No such action.")
    day = _today_of(request)
    if not day.access.allowed:
        return _today_page(request, day, status=403)
    result = handler(day, request, pk)
    if request.htmx:
        template = result.template or result.panel.template
        context = dict(result.context or {"p": result.panel.context})
        context.setdefault("panel", result.panel)
        return _partial(request, template, context, ok=result.ok)
    if result.ok:
        if result.message:
            messages.success(request, result.message)
        return redirect(reverse("today") + f"#panel-{panel}")
    return _today_page(request, day, replace=result.panel, status=400)
