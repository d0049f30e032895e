"""A coach tightens a guardrail in the methodology editor, reads the change in words,
simulates the draft on their clients' past nights, and publishes it — in Chromium."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from coaching.models import MethodologyVersion
from coaching.tenancy import tenant_context
from tests import factories
from tests.e2e.test_login import current_totp_code, submit_login

pytestmark = pytest.mark.e2e

TODAY = timezone.localdate()
NIGHT = TODAY - datetime.timedelta(days=1)


def _seed_client_with_low_hrv(tenant, user):
    weekdays = sorted({(TODAY + datetime.timedelta(days=d)).weekday() for d in (0, 2, 4)})
    _, version = factories.enrolled_strength_athlete(
        tenant, user, start=TODAY - datetime.timedelta(days=7), weekdays=weekdays
    )
    for k in range(70):
        day = NIGHT - datetime.timedelta(days=69 - k)
        rmssd = Decimal("40") if k >= 63 else Decimal("58" if k % 2 else "62")
        factories.checkin(tenant, user, day, hrv_rmssd_ms=rmssd, sleep_hours=Decimal("7.5"))
    return version


def test_coach_changes_a_guardrail_sees_the_diff_simulates_and_publishes(
    page, tenant_a, coach_a, client_a, artifacts_dir
):
    version = _seed_client_with_low_hrv(tenant_a, client_a)
    page.set_viewport_size({"width": 1280, "height": 900})

    # given: the coach signed in with password and TOTP
    submit_login(page, "coach@alpha.test", factories.PASSWORD)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("input[name=code]").fill(current_totp_code(coach_a))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r"/t/alpha/"))

    # when: they open their methodology and start a draft
    page.goto("/t/alpha/methodology/")
    expect(page.get_by_role("heading", name="Strength method")).to_be_visible()
    page.get_by_role("link", name="Start a new draft").click()
    rail = page.get_by_label("Largest load change in one session (%)")
    expect(rail).to_have_value("10")

    # a value outside the contract is refused next to the field, and kept
    rail.fill("80")
    page.get_by_role("button", name="Save draft", exact=True).click()
    expect(page.locator(".has-error")).to_contain_text("Must be between 0 and 50.")
    expect(page.get_by_label("Largest load change in one session (%)")).to_have_value("80")

    # then a valid one is saved as draft v2, and the page says what it changes
    page.get_by_label("Largest load change in one session (%)").fill("1")
    page.get_by_label("What changed in this version, and why").first.fill("Smaller steps")
    page.get_by_role("button", name="Save draft", exact=True).click()
    expect(page.locator("body")).to_contain_text("Draft v2 saved.")
    diff = page.locator("section.diff")
    expect(diff).to_contain_text("Guardrails › Largest load change in one session (%): 10 → 1.")
    page.screenshot(path=artifacts_dir / "e2e-methodology-edit.png", full_page=True)

    # when: they simulate the draft over the last week
    page.get_by_role("link", name="Simulate the draft").click()
    page.get_by_label("Weeks to replay").fill("1")
    page.get_by_role("button", name="Run the simulation").click()

    # then: the numbers of both versions are shown, with the guardrail holding changes
    expect(page.get_by_role("heading", name=re.compile("Over the last 1 week"))).to_be_visible()
    proposals = page.get_by_test_id("draft-proposals")
    expect(proposals).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.get_by_test_id("draft-clipped")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.locator("body")).to_contain_text("Low HRV streak")
    page.screenshot(path=artifacts_dir / "e2e-methodology-simulate.png", full_page=True)

    # when: they publish, confirming on the page that lists the change
    page.get_by_role("link", name="Publish v2…").click()
    expect(page.get_by_role("heading", name="Publish Strength method v2?")).to_be_visible()
    expect(page.locator("section.diff")).to_contain_text("10 → 1")
    page.get_by_role("button", name="Yes, publish v2").click()

    # then: v2 is published and the versions page says what changed
    page.wait_for_url(re.compile(r"/methodologies/\d+/versions/$"))
    expect(page.locator("body")).to_contain_text("Strength method v2 is published")
    expect(page.locator("section.diff")).to_contain_text(
        "Guardrails › Largest load change in one session (%): 10 → 1."
    )
    page.screenshot(path=artifacts_dir / "e2e-methodology-published.png", full_page=True)
    with tenant_context(tenant_a):
        v2 = MethodologyVersion.objects.get(methodology_id=version.methodology_id, number=2)
    assert v2.is_published and v2.rules["guardrails"]["max_load_change_session_percent"] == 1

    # the editor at phone width: one column, nothing wider than the screen
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/t/alpha/methodology/{version.methodology_id}/edit/")
    expect(page.get_by_label("Largest load change in one session (%)")).to_have_value("1")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    page.screenshot(path=artifacts_dir / "e2e-methodology-edit-360.png")
    page.get_by_label("Largest load change in one session (%)").scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "e2e-methodology-edit-360-guardrails.png")
