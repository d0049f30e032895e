"""The calendar feed (programs/calendar.py): a private, revocable ICS link per client,
parsed back with icalendar. One event per planned session from today on, a UID that
never changes, SEQUENCE and LAST-MODIFIED that move when a change is applied; unknown,
revoked and other tenants' tokens are the same 404; the client's page makes, rotates
and revokes the link."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from icalendar import Calendar

from coaching.models import Membership
from coaching.tenancy import tenant_context
from programs import calendar, services
from programs.models import CalendarFeed, PlannedSession
from tests import factories
from tests.test_client_detail import premium_client_with_a_pending_change

TODAY = timezone.localdate()
START = TODAY - datetime.timedelta(days=7)
WEEKDAYS = sorted({(TODAY + datetime.timedelta(days=d)).weekday() for d in (0, 2, 4)})


@pytest.fixture
def athlete(tenant_a, client_a):
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS
    )
    return profile


def feed_of(tenant, athlete) -> str:
    with tenant_context(tenant):
        _, token = calendar.calendar_feed_create(athlete=athlete)
    return token


def fetch(client, token: str, slug: str = "alpha"):
    return client.get(f"/t/{slug}/calendar/{token}.ics")


def events(response) -> dict[str, object]:
    cal = Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_the_feed_lists_planned_sessions_from_today_with_their_targets(client, tenant_a, athlete):
    token = feed_of(tenant_a, athlete)
    response = fetch(client, token)  # no login: the link is the credential
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    by_uid = events(response)
    with tenant_context(tenant_a):
        ahead = list(
            PlannedSession.objects.filter(athlete=athlete, date__gte=TODAY).order_by("date")
        )
        first = ahead[0]
        first_sets = list(first.sets.select_related("exercise"))
    assert ahead and len(by_uid) == len(ahead)
    event = by_uid[f"planned-session-{first.pk}@alpha.coaching-platform"]
    assert event.decoded("DTSTART") == first.date  # an all-day date, not a time
    assert str(event["SUMMARY"]) == first.name
    description = str(event["DESCRIPTION"])
    assert f"{first.duration_min} min" in description
    lift = first_sets[0]
    assert f"{lift.exercise.name}: " in description
    assert re.search(rf"\d+ x {lift.reps}\b", description)
    if lift.load_kg is not None:
        assert f"@ {float(lift.load_kg):g} kg" in description
    assert int(event["SEQUENCE"]) == 0
    # Past sessions are not in the feed.
    with tenant_context(tenant_a):
        past = PlannedSession.objects.filter(athlete=athlete, date__lt=TODAY).first()
    assert past is not None
    assert f"planned-session-{past.pk}@alpha.coaching-platform" not in by_uid


def test_an_applied_change_moves_sequence_and_last_modified_and_says_why(
    client, tenant_a, coach_a, client_a
):
    profile, adjustment = premium_client_with_a_pending_change(tenant_a, client_a)
    token = feed_of(tenant_a, profile)
    uid = f"planned-session-{adjustment.planned_session_id}@alpha.coaching-platform"
    before = events(fetch(client, token))[uid]
    assert int(before["SEQUENCE"]) == 0
    with tenant_context(tenant_a):
        services.adjustment_approve(adjustment=adjustment, by=Membership.objects.get(user=coach_a))
    after = events(fetch(client, token))[uid]
    assert int(after["SEQUENCE"]) == 1
    with tenant_context(tenant_a):
        adjustment.refresh_from_db()
    assert after.decoded("LAST-MODIFIED") == adjustment.applied_at.replace(microsecond=0)
    assert after.decoded("LAST-MODIFIED") >= before.decoded("LAST-MODIFIED")
    assert f"Latest change: {adjustment.sentence}" in str(after["DESCRIPTION"])
    assert str(after["UID"]) == str(before["UID"])
    # Reverting is a change too: the calendar app hears about it.
    with tenant_context(tenant_a):
        services.adjustment_revert(adjustment=adjustment, by=Membership.objects.get(user=coach_a))
    assert int(events(fetch(client, token))[uid]["SEQUENCE"]) == 2


def test_unknown_revoked_and_rotated_tokens_are_404(client, tenant_a, athlete):
    assert fetch(client, "not-a-real-token").status_code == 404
    old = feed_of(tenant_a, athlete)
    new = feed_of(tenant_a, athlete)  # making a new link revokes the old one
    assert fetch(client, old).status_code == 404
    assert fetch(client, new).status_code == 200
    with tenant_context(tenant_a):
        assert calendar.calendar_feed_revoke(athlete=athlete) == 1
        assert CalendarFeed.objects.filter(athlete=athlete, revoked_at__isnull=True).count() == 0
    assert fetch(client, new).status_code == 404


def test_another_tenants_path_with_a_good_token_is_404(client, tenant_a, tenant_b, athlete):
    token = feed_of(tenant_a, athlete)
    assert fetch(client, token, "bravo").status_code == 404
    assert fetch(client, token, "alpha").status_code == 200


def test_only_a_hash_of_the_token_is_stored(tenant_a, athlete):
    token = feed_of(tenant_a, athlete)
    with tenant_context(tenant_a):
        feed = CalendarFeed.objects.get(athlete=athlete, revoked_at__isnull=True)
    assert token not in feed.token_hash and len(feed.token_hash) == 64


def test_the_client_page_makes_shows_once_rotates_and_revokes_the_link(
    client, tenant_a, client_a, athlete
):
    client.force_login(client_a)
    page = client.get("/t/alpha/calendar/").content.decode()
    assert "no calendar link" in page and "Anyone who has the link" in page
    response = client.post("/t/alpha/calendar/", {"action": "create"})
    assert response.status_code == 302
    page = client.get("/t/alpha/calendar/").content.decode()
    url = re.search(r'value="(http[^"]+\.ics)"', page).group(1)
    assert url.startswith("http") and "/t/alpha/calendar/" in url
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert fetch(client, token).status_code == 200
    # Shown once: the next visit can't show it again.
    assert token not in client.get("/t/alpha/calendar/").content.decode()
    client.post("/t/alpha/calendar/", {"action": "create"})
    assert fetch(client, token).status_code == 404
    client.post("/t/alpha/calendar/", {"action": "revoke"})
    with tenant_context(tenant_a):
        assert calendar.calendar_feed_live(athlete) is None
    assert "no calendar link" in client.get("/t/alpha/calendar/").content.decode()


def test_the_page_is_for_clients_only(client, coach_a, tenant_a):
    client.force_login(coach_a)
    assert client.get("/t/alpha/calendar/").status_code == 404
