"""A client's week of eating through a real browser: plan the week, read why today's
carbohydrate is what it is, swap a meal for one that keeps the day on target, lock it,
and tick an item off the shopping list."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from coaching.tenancy import tenant_context
from nutrition.models import PlanDay, ShoppingList
from tests import factories
from tests.e2e.test_login import submit_login

pytestmark = pytest.mark.e2e

TODAY = timezone.localdate()


def test_client_plans_swaps_locks_and_shops(page, tenant_a, client_a, artifacts_dir):
    # given: an enrolled client with a block and a weigh-in, signed in
    weekdays = [(TODAY.weekday() + offset) % 7 for offset in (0, 2, 4)]
    factories.enrolled_strength_athlete(
        tenant_a, client_a, start=TODAY - datetime.timedelta(days=7), weekdays=weekdays
    )
    factories.checkin(tenant_a, client_a, TODAY, body_weight_kg=Decimal("66.0"))
    submit_login(page, "client@alpha.test", factories.PASSWORD)
    page.wait_for_url(re.compile(r"/t/alpha/today/$"))  # a client lands on their day

    # when: they open nutrition and plan the week
    page.goto("/t/alpha/nutrition/")
    page.get_by_role("button", name="Plan my week").click()

    # then: today's targets come with their reasons, and seven days are planned
    expect(page.locator("ul.reasons")).to_contain_text("carbohydrate day")
    expect(page.locator("section.plan-day")).to_have_count(7)
    page.screenshot(path=artifacts_dir / "e2e-nutrition-plan.png", full_page=True)

    # when: they swap tomorrow's lunch for the first option offered
    day = (TODAY + datetime.timedelta(days=1)).isoformat()
    lunch = page.locator(f"section.plan-day[data-date='{day}'] tr.meal[data-slot='lunch']")
    lunch.get_by_role("link", name="Swap").click()
    option = page.locator("form.swap-option").first
    chosen = option.locator("input[name=key]").get_attribute("value")
    option.get_by_role("button", name="Choose").click()

    # then: the plan shows the new lunch, and it is stored
    expect(page.locator("[role=status]")).to_contain_text("Meal swapped.")
    with tenant_context(tenant_a):
        row = PlanDay.objects.get(date=day)
        assert next(m for m in row.meals if m["slot"] == "lunch")["items"][0]["key"] == chosen

    # when: they lock it
    lunch.get_by_role("button", name="Lock").click()
    expect(lunch.get_by_role("button", name="Unlock")).to_be_visible()

    # and: tick the first item off the shopping list
    page.goto("/t/alpha/nutrition/shopping/")
    first = page.locator("tr.shopping-item").first
    food = first.get_attribute("data-food")
    first.get_by_role("button", name="Got it").click()
    expect(page.locator(f"tr.shopping-item[data-food='{food}']")).to_have_class(
        re.compile("ticked")
    )
    page.screenshot(path=artifacts_dir / "e2e-nutrition-shopping.png", full_page=True)
    with tenant_context(tenant_a):
        assert food in ShoppingList.objects.get().ticked
