"""Journey 3, the coach: signs in with a second factor, opens the client dashboard and the
review queue, approves the change the engine drafted for a premium client; the client
then signs in and sees the changed prescription with its reason on their plan and on
their Today page.

The drafted change comes from the real engine (a week of low HRV, last night's run on a
premium tier), as in tests/test_adjustments.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from coaching.tenancy import tenant_context
from programs.models import Adjustment
from tests import factories
from tests.e2e.test_login import current_totp_code, submit_login
from tests.test_client_detail import premium_client_with_a_pending_change

pytestmark = pytest.mark.e2e


def test_coach_approves_a_drafted_change_and_the_client_sees_it_with_its_reason(
    page, browser, live_server, tenant_a, coach_a, client_a, artifacts_dir
):
    # given: a premium client whose week of low HRV made last night's run draft a change
    profile, adjustment = premium_client_with_a_pending_change(tenant_a, client_a)
    factories.member(tenant_a, "client", email="second@alpha.test")  # someone else on the list
    with tenant_context(tenant_a):
        session = adjustment.planned_session
        old_loads = sorted(float(s.load_kg) for s in session.sets.all() if s.load_kg)
    new_loads = sorted(s["load_kg"] for s in adjustment.after["sets"] if s.get("load_kg"))
    assert new_loads and new_loads != old_loads

    # when: the coach signs in with password and TOTP and opens the dashboard
    page.set_viewport_size({"width": 1280, "height": 800})
    submit_login(page, "coach@alpha.test", factories.PASSWORD)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("input[name=code]").fill(current_totp_code(coach_a))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r"/t/alpha/$"))
    page.goto("/t/alpha/dashboard/")

    # then: the client is on it with their tier, and the table sorts and filters in place
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    table = page.locator("table.dash-table")
    expect(table).to_contain_text("Client")
    expect(table).to_contain_text("Approve")  # the premium tier, named by its autonomy
    expect(table).to_contain_text("Second")
    page.get_by_role("link", name="Tier").click()  # htmx swap, URL pushed
    page.wait_for_url(re.compile(r"sort=tier"))
    page.get_by_label("Tier").select_option(label="Approve")
    page.wait_for_url(re.compile(r"tier=\d+"))
    expect(table).not_to_contain_text("Second")
    expect(page.locator("#client-table")).to_contain_text("1 of 2 clients")
    page.screenshot(path=artifacts_dir / "e2e-coach-dashboard.png", full_page=True)

    # when: they open the client from the dashboard
    table.locator("tbody").get_by_role("link", name="Client", exact=True).click()
    page.wait_for_url(re.compile(rf"/t/alpha/clients/{profile.pk}/$"))
    # then: the drafted change is on the client's timeline, waiting for a decision
    expect(page.locator("#changes-h + ol")).to_contain_text(adjustment.sentence)
    expect(page.locator("#changes-h + ol")).to_contain_text("Waiting for the coach")
    page.screenshot(path=artifacts_dir / "e2e-coach-client-detail.png", full_page=True)

    # when: they follow it to the review queue and approve the drafted change
    page.get_by_role("link", name="decide in the review queue").click()
    page.wait_for_url(re.compile(r"/t/alpha/review/$"))
    row = page.locator("tr", has_text=adjustment.sentence)
    expect(row).to_be_visible()
    row.get_by_role("button", name="Approve").click()

    # then: it is applied
    expect(page.locator("body")).to_contain_text("Applied.")
    with tenant_context(tenant_a):
        adjustment.refresh_from_db()
        assert adjustment.status == Adjustment.Status.APPLIED
        assert sorted(float(s.load_kg) for s in session.sets.all() if s.load_kg) == new_loads

    # when: the client signs in on a phone and opens their plan
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 780})
    client_page = phone.new_page()
    try:
        submit_login(client_page, "client@alpha.test", factories.PASSWORD)
        client_page.wait_for_url(re.compile(r"/t/alpha/"))
        client_page.goto("/t/alpha/plan/")

        # then: the session shows the new loads and the sentence that explains them
        section = client_page.locator("section", has_text=adjustment.sentence)
        expect(section).to_be_visible()
        expect(section).not_to_contain_text("waiting for your coach")
        for load in new_loads:
            expect(section).to_contain_text(f"{load:g} kg")
        width = client_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the plan is {width}px wide on a 360px phone"
        section.screenshot(path=artifacts_dir / "e2e-client-plan-changed-360.png")

        # and: the changed session is today's, so the Today page says so too
        client_page.goto("/t/alpha/today/")
        today_session = client_page.locator("#panel-session")
        expect(today_session).to_contain_text(f"Changed: {adjustment.sentence}")
        today_session.screenshot(path=artifacts_dir / "e2e-client-today-changed-360.png")
        client_page.screenshot(
            path=artifacts_dir / "e2e-client-plan-changed-360-full.png", full_page=True
        )
    finally:
        phone.close()
