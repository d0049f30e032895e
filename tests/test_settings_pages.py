"""The settings hub and the printable plan (issue 10): profile edit through the service,
what withdrawing each consent means, the links to the data and billing pages, and the
block with this week's meals on one printable page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.utils import timezone

from athletes import consent
from athletes.models import AthleteProfile
from coaching.tenancy import tenant_context
from nutrition.services import nutrition_refresh
from privacy.models import DataRequest
from tests import factories

TODAY = timezone.localdate()


def _profile(tenant, account) -> AthleteProfile:
    with tenant_context(tenant):
        return AthleteProfile.objects.get(user=account)


def test_settings_shows_the_profile_consequences_and_the_other_pages(client, tenant_a, client_a):
    client.force_login(client_a)

    page = client.get("/t/alpha/settings/")

    body = page.content.decode()
    assert page.status_code == 200
    assert 'value="Client"' in body  # the name, pre-filled
    for name in ("display_name", "goal", "available_weekdays", "session_minutes", "equipment"):
        assert f'name="{name}"' in body
    # every purpose with its state and, in plain words, what withdrawing it changes
    purposes = re.findall(r'<li data-purpose="(\w+)">(.*?)</li>', body, re.S)
    assert [p for p, _ in purposes] == list(consent.PURPOSES)
    health = dict(purposes)[consent.HEALTH_DATA]
    assert "you agreed" in health and "If you withdraw:" in health
    assert "can no longer log check-ins" in health
    assert 'href="/t/alpha/consent/"' in body
    assert 'action="/t/alpha/privacy/export/"' in body
    assert 'href="/t/alpha/privacy/"' in body
    assert 'href="/t/alpha/billing/"' in body
    assert 'href="/t/alpha/plan/print/"' in body
    assert 'href="/t/alpha/calendar/"' in body and 'href="/t/alpha/imports/"' in body


def test_a_withdrawn_purpose_says_what_is_off_while_not_agreed(client, tenant_a, client_a):
    with tenant_context(tenant_a):
        consent.consent_withdraw(
            _profile(tenant_a, client_a), consent.MARKETING_EMAIL, actor_user_id=client_a.pk
        )
    client.force_login(client_a)
    body = client.get("/t/alpha/settings/").content.decode()
    marketing = dict(re.findall(r'<li data-purpose="(\w+)">(.*?)</li>', body, re.S))[
        consent.MARKETING_EMAIL
    ]
    assert "not agreed" in marketing and "While you don't agree:" in marketing


def test_saving_the_profile_updates_it_through_the_service(client, tenant_a, client_a):
    client.force_login(client_a)

    response = client.post(
        "/t/alpha/settings/",
        {
            "display_name": "Robin",
            "goal": "endurance",
            "available_weekdays": ["1", "3", "5"],
            "session_minutes": "45",
            "equipment": ["dumbbell", "bands"],
        },
    )

    assert response.status_code == 302 and response["Location"] == "/t/alpha/settings/"
    profile = _profile(tenant_a, client_a)
    assert (profile.display_name, profile.goal) == ("Robin", "endurance")
    assert profile.available_weekdays == [1, 3, 5]
    assert profile.session_minutes == 45
    assert profile.equipment == ["dumbbell", "bands"]
    assert b"Saved." in client.get("/t/alpha/settings/").content


def test_bad_input_keeps_what_was_entered_and_saves_nothing(client, tenant_a, client_a):
    client.force_login(client_a)

    response = client.post(
        "/t/alpha/settings/",
        {"display_name": "Robin", "goal": "endurance", "session_minutes": "5"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "Pick at least one day you can train." in body
    assert "A session needs at least 20 minutes." in body
    assert 'value="Robin"' in body and 'value="5"' in body
    profile = _profile(tenant_a, client_a)
    assert profile.display_name == "Client" and profile.session_minutes == 60


def test_staff_without_a_profile_see_their_account_and_cannot_post(client, tenant_a, coach_a):
    client.force_login(coach_a)
    page = client.get("/t/alpha/settings/")
    assert page.status_code == 200
    assert b"no athlete profile" in page.content and b'name="display_name"' not in page.content
    assert client.post("/t/alpha/settings/", {"display_name": "x"}).status_code == 404


def test_the_export_button_on_settings_queues_an_export(client, tenant_a, client_a):
    client.force_login(client_a)
    response = client.post("/t/alpha/privacy/export/")  # the settings form's action
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert DataRequest.objects.filter(kind="export", athlete__user=client_a).count() == 1


# --- printable plan --------------------------------------------------------------------------


def _planned(tenant, account) -> AthleteProfile:
    weekdays = [(TODAY.weekday() + offset) % 7 for offset in (0, 2, 4)]
    profile, _ = factories.enrolled_strength_athlete(
        tenant, account, start=TODAY - datetime.timedelta(days=2), weekdays=weekdays
    )
    factories.checkin(tenant, account, TODAY, body_weight_kg=Decimal("66.0"))
    with tenant_context(tenant):
        nutrition_refresh(athlete=profile, start=TODAY)
    return profile


def test_print_page_has_the_block_week_by_week_and_this_weeks_meals(client, tenant_a, client_a):
    _planned(tenant_a, client_a)
    client.force_login(client_a)

    page = client.get("/t/alpha/plan/print/")

    body = page.content.decode()
    assert page.status_code == 200
    weeks = re.findall(r'<section class="print-week">\s*<h2>(Week \d+)', body)
    assert weeks[:2] == ["Week 1", "Week 2"] and len(weeks) >= 4
    assert "Back squat" in body and " kg" in body
    meals = body[body.index('class="print-meals"') :]
    assert meals.count('<th scope="row"') == 7  # seven days
    assert "Breakfast" in meals and "kcal" in meals
    # the print stylesheet: no nav or buttons, black on white, a page per week
    style = body[body.index("@media print") :]
    assert "header, nav, button" in style and "display:none" in style
    assert "color:#000" in style and "background:#fff" in style
    assert ".print-week { break-before:page" in style


def test_print_page_says_when_nothing_is_planned_and_is_404_for_others(
    client, tenant_a, tenant_b, coach_a, client_a, client_b
):
    client.force_login(client_a)
    body = client.get("/t/alpha/plan/print/").content.decode()
    assert "No training block yet." in body and body.count("Not planned yet.") == 7
    profile = _profile(tenant_a, client_a)
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    client.force_login(other)
    assert client.get(f"/t/alpha/plan/print/{profile.pk}/").status_code == 404
    client.force_login(coach_a)
    assert client.get(f"/t/alpha/plan/print/{profile.pk}/").status_code == 200
    theirs = _profile(tenant_b, client_b)
    assert client.get(f"/t/alpha/plan/print/{theirs.pk}/").status_code == 404
