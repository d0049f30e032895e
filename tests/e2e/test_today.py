"""Issue 10, journey 2 in a real browser at phone size (360 × 740): a client opens Today,
checks in after a short night (a few taps, one save, the panel answers in place with the
day's readiness), logs the session set by set (two taps "done", one set edited after a
refused value), the nightly pipeline runs for that day, and the next morning Today shows
the session the engine adjusted, with the reason in a sentence.

"The next morning" without freezing the clock of a live server: Today and the night
follow the business's calendar (its time zone), so the test moves the business to a time
zone where it is one day later. The two zones are chosen from the current UTC hour so
that the first day is never after the server's date (a night only runs for a finished
day, and check-ins may not be dated in the future)."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from athletes.models import CheckIn
from coaching.models import Tenant
from coaching.tenancy import tenant_context
from nutrition import services as nutrition_services
from programs.models import Adjustment, SetLog
from tests import factories
from tests.e2e.test_login import submit_login

pytestmark = pytest.mark.e2e

# Time zones whose dates differ from UTC's by -1, 0, +1 for part of every day.
BEHIND, ZERO, AHEAD = "Etc/GMT+12", "UTC", "Etc/GMT-14"


def _two_days() -> tuple[str, str, datetime.date]:
    """(zone of the logging day, zone of the next morning, the logging day)."""
    now = timezone.now()
    local = {zone: now.astimezone(zoneinfo.ZoneInfo(zone)).date() for zone in (BEHIND, ZERO, AHEAD)}
    one_day = datetime.timedelta(days=1)
    if local[AHEAD] == local[ZERO] + one_day:
        return ZERO, AHEAD, local[ZERO]
    assert local[BEHIND] == local[ZERO] - one_day
    return BEHIND, ZERO, local[BEHIND]


def _move(tenant: Tenant, zone: str) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(timezone=zone)
    tenant.refresh_from_db()


def _no_horizontal_scroll(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide at a {width} px viewport"


def test_client_logs_a_session_and_a_check_in_and_the_night_adjusts_the_next_day(
    phone, page, tenant_a, client_a, artifacts_dir
):
    # given: a client with a session on the logging day and on the next, and meal plans
    first_zone, next_zone, day = _two_days()
    tomorrow = day + datetime.timedelta(days=1)
    _move(tenant_a, first_zone)
    athlete, _version = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=day, weekdays=[day.weekday(), tomorrow.weekday()]
    )
    factories.checkin(tenant_a, client_a, day - datetime.timedelta(days=1), body_weight_kg=66)
    with tenant_context(tenant_a):
        nutrition_services.nutrition_refresh(athlete=athlete, start=day)

    # when: they open Today on their phone
    submit_login(phone, "client@alpha.test", factories.PASSWORD)
    phone.wait_for_url(re.compile(r"/t/alpha/today/$"))  # a client's home is their day
    expect(phone.get_by_role("heading", name=re.compile(r"^Today"))).to_contain_text(
        f"{day:%A} {day.day} {day:%B}"
    )
    _no_horizontal_scroll(phone, 360)
    phone.screenshot(path=artifacts_dir / "e2e-today-morning.png")

    # and: check in after a short night: the sleep, three taps, save
    phone.evaluate("window.samePage = true")  # gone if anything below reloads the page
    checkin = phone.locator("#panel-checkin")
    checkin.get_by_label("Sleep (hours)").fill("5")
    checkin.locator("fieldset", has_text="Sleep quality").get_by_label("2 Fair").check()
    checkin.locator("fieldset", has_text="Soreness").get_by_label("3 Some").check()
    checkin.locator("fieldset", has_text="Mood").get_by_label("3 OK").check()
    checkin.get_by_role("button", name="Save check-in").click()

    # then: the panel answers in place (no page load) with the day's readiness
    expect(checkin.locator("[role=status]")).to_contain_text("Saved.")
    expect(checkin).to_contain_text(re.compile(r"Readiness \d+/100"))
    expect(checkin).to_contain_text("slept 5 h")

    # when: they do the first two squat sets as prescribed
    session = phone.locator("#panel-session")
    for number in (1, 2):
        session.get_by_role("button", name=f"Done Back squat set {number}").click()
        expect(session.get_by_text(re.compile(rf"^{number} of \d+ sets done"))).to_be_visible()
    expect(session.locator("li.set.is-done")).to_have_count(2)

    # and: the third felt harder than planned; a typo in the reps first
    third = session.locator("li.set").nth(2)
    third.get_by_text("Different weight or reps").click()
    third.get_by_label("Reps").fill("0")
    third.get_by_label("RPE").fill("9.5")
    third.get_by_role("button", name=re.compile(r"^Save set 3")).click()
    expect(third.locator("[role=alert]")).to_contain_text("Reps are between 1 and 100.")
    expect(third.get_by_label("RPE")).to_have_value("9.5")  # what was typed stays
    third.get_by_label("Reps").fill("5")
    third.get_by_role("button", name=re.compile(r"^Save set 3")).click()
    expect(third).to_contain_text(re.compile(r"✓ [\d.]+ kg × 5 @ RPE 9\.5"))
    expect(session.get_by_text(re.compile(r"^3 of \d+ sets done"))).to_be_visible()
    assert phone.evaluate("window.samePage === true"), "htmx should have swapped in place"
    _no_horizontal_scroll(phone, 360)
    phone.screenshot(path=artifacts_dir / "e2e-today-logged.png", full_page=True)
    with tenant_context(tenant_a):
        assert SetLog.objects.filter(session__athlete=athlete, session__date=day).count() == 3
        assert CheckIn.objects.get(athlete=athlete, date=day).sleep_hours == Decimal("5")

    # when: the day is over and the night runs for it
    _move(tenant_a, next_zone)
    call_command("run_nightly", tenant="alpha", date=day.isoformat(), eager=True)

    # then: the next morning, Today shows the adjusted session with the reason
    phone.goto("/t/alpha/today/")
    expect(phone.get_by_role("heading", name=re.compile(r"^Today"))).to_contain_text(
        f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B}"
    )
    session = phone.locator("#panel-session")
    expect(session.locator(".changed").first).to_contain_text("Changed:")
    expect(session).to_contain_text("because you slept 5 h last night (under 6 h)")
    expect(session).to_contain_text(re.compile(r"0 of \d+ sets done"))
    with tenant_context(tenant_a):
        changed = Adjustment.objects.filter(
            athlete=athlete, planned_session__date=tomorrow, status=Adjustment.Status.APPLIED
        )
        assert changed.filter(rule="short_sleep").exists()
    _no_horizontal_scroll(phone, 360)
    phone.screenshot(path=artifacts_dir / "e2e-today-next-morning.png")
    phone.screenshot(path=artifacts_dir / "e2e-today-next-morning-full.png", full_page=True)

    # and: the same page on a laptop
    submit_login(page, "client@alpha.test", factories.PASSWORD)
    page.wait_for_url(re.compile(r"/t/alpha/today/$"))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/t/alpha/today/")
    expect(page.locator("#panel-session")).to_contain_text("because you slept 5 h")
    page.screenshot(path=artifacts_dir / "e2e-today-desktop.png", full_page=True)
