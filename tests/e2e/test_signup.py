"""Issue 10, journey 1 in a real browser at phone width (360 px): a stranger opens a
business's public page, signs up, verifies their e-mail through the link in the mail
(locmem backend: the live server runs in this process), joins as a client, answers the
consent per purpose, takes the demo-style complimentary tier, fills the questionnaire and
lands on Today with the session planned for today (the business's day)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from athletes.models import AthleteProfile
from coaching.methodology import default_rules
from coaching.selectors import tenant_today
from coaching.tenancy import tenant_context
from nutrition.models import PlanDay
from programs.models import PlannedSession
from tests import factories

pytestmark = pytest.mark.e2e

EMAIL = "nora@example.test"
PASSWORD = "a-long-and-unusual-passphrase-2026"


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide at a 360 px viewport"


def test_stranger_signs_up_onboards_and_sees_a_planned_session(
    phone, tenant_a, mailoutbox, artifacts_dir
):
    page = phone
    # Today shows the business's day; the days ticked below are counted from it, so its
    # session is planned even when that day is ahead of the server's (UTC) date.
    today = tenant_today(tenant_a)
    factories.methodology_on_sale(tenant_a, "strength", default_rules("strength"))

    # given: the public page of the business, with its tier and a sign-up button
    page.goto("/t/alpha/")
    expect(page.get_by_role("heading", name="Alpha Strength")).to_be_visible()
    expect(page.locator("section.tier")).to_contain_text("29.00 EUR / monthly")
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / "e2e-signup-landing.png", full_page=True)

    # when: they sign up
    page.get_by_role("link", name="Sign up").click()
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.locator("form").get_by_role("button", name=re.compile("Sign Up", re.I)).click()

    # and: follow the verification link from the e-mail, and confirm
    expect(page.locator("body")).to_contain_text(re.compile("verify", re.I))
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+", mailoutbox[-1].body)[0]
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    # then: they are back at the business, signed in, and join as a client
    page.wait_for_url(re.compile(r"/t/alpha/welcome/$"))
    page.get_by_role("button", name="Join as a client").click()

    # step 1: about you (a wrong height first: the message, and what was typed, stay)
    page.wait_for_url(re.compile(r"/t/alpha/onboarding/about/$"))
    page.get_by_label("Your name").fill("Nora")
    page.get_by_label("Strength", exact=True).check()
    page.get_by_label("Your main goal").select_option("strength")
    page.get_by_label("Female").check()
    page.get_by_label("Date of birth").fill("1992-03-14")
    page.get_by_label("Height (cm)").fill("40")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("[role=alert]")).to_contain_text("Give your height in centimetres")
    expect(page.get_by_label("Your name")).to_have_value("Nora")
    page.get_by_label("Height (cm)").fill("171")
    page.get_by_role("button", name="Continue").click()

    # step 2: consent, one purpose at a time, nothing ticked for them
    page.wait_for_url(re.compile(r"/t/alpha/consent/\?onboarding$"))
    expect(page.locator("input[name=purposes]:checked")).to_have_count(0)
    for purpose in ("health_data", "nutrition_planning", "coach_access"):
        page.locator(f"input[name=purposes][value={purpose}]").check()
    page.get_by_role("button", name="Save and continue").click()

    # step 3: the tier (no payment on this installation: complimentary, like the demo)
    page.wait_for_url(re.compile(r"/t/alpha/join/$"))
    page.get_by_role("button", name="Start with DIY (complimentary)").click()

    # step 4: the questionnaire
    page.wait_for_url(re.compile(r"/t/alpha/onboarding/$"))
    _no_horizontal_scroll(page)
    weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    for offset in (0, 2, 4):
        page.get_by_label(weekdays[(today.weekday() + offset) % 7], exact=True).check()
    page.get_by_label("How long can a session be? (minutes)").fill("60")
    for item in ("Barbell", "Squat rack", "Bench", "Dumbbell"):
        page.get_by_label(item, exact=True).check()
    page.get_by_label("Body weight (kg)").fill("64.5")
    page.get_by_label("Back squat: weight (kg)").fill("80")
    page.get_by_label("Back squat: reps").fill("5")
    page.get_by_label("Meals a day").select_option("4")
    page.get_by_label("Peanuts").check()
    page.screenshot(path=artifacts_dir / "e2e-signup-questionnaire.png", full_page=True)
    page.get_by_role("button", name="Save and plan my first block").click()

    # then: Today, with today's session and its loads, a check-in to fill and tomorrow
    page.wait_for_url(re.compile(r"/t/alpha/today/$"))
    expect(page.get_by_role("heading", name=re.compile(r"^Today"))).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"{today:%A} {today.day} {today:%B}")
    session = page.locator("#panel-session")
    expect(session).to_contain_text("Back squat")
    expect(session).to_contain_text(re.compile(r"0 of \d+ sets done"))
    expect(page.get_by_role("button", name="Save check-in")).to_be_visible()
    expect(page.locator("#panel-tomorrow")).to_be_visible()
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / "e2e-signup-today.png", full_page=True)
    page.screenshot(path=artifacts_dir / "e2e-signup-today-top.png")  # the first screen
    # and: the whole plan is one link away
    page.get_by_role("link", name="Your whole plan").click()
    page.wait_for_url(re.compile(r"/t/alpha/plan/$"))
    expect(page.get_by_role("heading", name="Nora's plan")).to_be_visible()
    expect(page.locator("main table").first).to_contain_text("Back squat")
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user__email=EMAIL)
        assert PlannedSession.objects.filter(athlete=athlete, date=today).exists()
        assert PlanDay.objects.filter(athlete=athlete, date=today).exists()
