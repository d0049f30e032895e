"""Journey 5 through a real browser: a client of tenant A tries tenant B's pages and
gets the same 404 as for a tenant that does not exist, while their own pages work.
The full list of member pages is checked with the test client in
tests/test_pages_tenancy.py (same list, `MEMBER_PAGES`); here a few go through Chromium."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from coaching.tenancy import tenant_context
from programs import services
from programs.models import Exercise
from tests import factories
from tests.e2e.test_login import submit_login
from tests.test_pages_tenancy import member_pages, tenant_b_objects

pytestmark = pytest.mark.e2e

TODAY = timezone.localdate()
IN_BROWSER = ("history", "athlete_history", "progress", "settings", "plan_print", "privacy")


def test_client_of_a_gets_404_for_tenant_b_pages_in_the_browser(
    page, tenant_a, tenant_b, client_a, client_b, artifacts_dir
):
    # given: a client of A with a few weeks of squats and weigh-ins, signed in on a phone
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a,
        client_a,
        start=TODAY - datetime.timedelta(days=28),
        weekdays=[(TODAY.weekday() + d) % 7 for d in (0, 2, 4)],
    )
    with tenant_context(tenant_a):
        squat = Exercise.objects.get(slug="back-squat")
        for weeks_ago, load in ((3, "110"), (2, "112.5"), (1, "115"), (0, "117.5")):
            services.session_log_create(
                athlete=profile,
                date=TODAY - datetime.timedelta(weeks=weeks_ago),
                kind="strength",
                duration_s=3600,
                session_rpe=Decimal("8"),
                sets=[{"exercise": squat, "weight_kg": Decimal(load), "reps": 5, "rpe": 8}],
            )
    for days_ago, kg in ((21, "66.4"), (14, "66.0"), (7, "65.9"), (0, "65.5")):
        factories.checkin(
            tenant_a, client_a, TODAY - datetime.timedelta(days=days_ago), body_weight_kg=kg
        )
    pages = dict(member_pages(tenant_b_objects(tenant_b, client_b)))
    page.set_viewport_size({"width": 360, "height": 740})
    submit_login(page, "client@alpha.test", factories.PASSWORD)
    page.wait_for_url(re.compile(r"/t/alpha/"))

    # when: they open their own progress and history
    own = page.goto("/t/alpha/progress/")
    # then: the charts are there, each with its sentence
    assert own.status == 200
    expect(page.locator("#e1rm-back-squat .summary")).to_contain_text("working e1RM")
    expect(page.locator("#body-weight svg")).to_be_visible()
    page.screenshot(path=artifacts_dir / "e2e-isolation-own-progress-360.png", full_page=True)
    assert page.goto("/t/alpha/history/").status == 200
    expect(page.locator("tr.history-session")).to_have_count(4)
    page.screenshot(path=artifacts_dir / "e2e-isolation-own-history-360.png", full_page=True)
    # and: their printable plan prints without navigation or buttons
    assert page.goto("/t/alpha/plan/print/").status == 200
    expect(page.locator("section.print-week").first).to_contain_text("Week 1")
    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    expect(page.locator(".no-print")).to_be_hidden()
    page.screenshot(path=artifacts_dir / "e2e-isolation-print-360.png")  # the first screen
    page.locator(".print-meals-section").screenshot(path=artifacts_dir / "e2e-print-meals.png")
    page.emulate_media(media="screen")

    # when: they try tenant B's pages, one of them with B's athlete id
    for name in IN_BROWSER:
        response = page.goto(f"/t/bravo{pages[name]}")
        # then: each is a 404 that says nothing about B
        assert response.status == 404, name
        expect(page.locator("body")).not_to_contain_text("Bravo")
    page.screenshot(path=artifacts_dir / "e2e-isolation-404-360.png", full_page=True)
