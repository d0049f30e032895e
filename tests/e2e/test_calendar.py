"""Issue 11, the calendar link in a real browser at phone width (360 px): a client makes
the link, sees it once, and the feed it names answers with their plan as ICS."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from tests import factories
from tests.e2e.test_login import submit_login

pytestmark = pytest.mark.e2e


def test_client_makes_a_calendar_link_and_the_feed_serves_their_plan(
    phone, tenant_a, client_a, artifacts_dir, live_server, settings
):
    # given: a client with a block
    today = timezone.localdate()
    factories.enrolled_strength_athlete(
        tenant_a, client_a, start=today - datetime.timedelta(days=2), weekdays=[0, 2, 4]
    )
    settings.PUBLIC_BASE_URL = live_server.url
    submit_login(phone, client_a.email, factories.PASSWORD)
    # when: they open the calendar page and make a link
    phone.goto("/t/alpha/calendar/")
    expect(phone.get_by_role("heading", name="Your plan in your calendar")).to_be_visible()
    phone.get_by_role("button", name="Make a calendar link").click()
    # then: the link is shown once, in a labelled field, and it serves the plan
    field = phone.get_by_label("Calendar link")
    expect(field).to_be_visible()
    url = field.input_value()
    assert url.startswith(live_server.url + "/t/alpha/calendar/") and url.endswith(".ics")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide at a 360 px viewport"
    phone.screenshot(path=artifacts_dir / "e2e-calendar-link.png", full_page=True)
    response = phone.request.get(url)
    assert response.status == 200
    assert Calendar.from_ical(response.body()).walk("VEVENT")
    # and: turning it off makes the feed a 404
    phone.get_by_role("button", name="Turn the link off").click()
    expect(phone.get_by_text("You have no calendar link at the moment.")).to_be_visible()
    assert phone.request.get(url).status == 404
