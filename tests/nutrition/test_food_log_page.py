"""The client's food log page: log a planned meal in one tap, search and log anything
else by grams or portions, remove an entry; bad input keeps what was typed."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from athletes.models import AthleteProfile
from coaching.tenancy import tenant_context
from nutrition.models import FoodLogEntry
from nutrition.services import nutrition_refresh
from tests import factories

URL = "/t/alpha/nutrition/log/"


@pytest.fixture
def athlete(tenant_a, client_a):
    today = timezone.localdate()
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=today - datetime.timedelta(days=3), weekdays=[0, 2, 4]
    )
    factories.checkin(tenant_a, client_a, today, body_weight_kg=Decimal("70"))
    with tenant_context(tenant_a):
        nutrition_refresh(athlete=profile, start=today, days=1)
    return profile


def _entries(tenant):
    with tenant_context(tenant):
        return list(FoodLogEntry.objects.order_by("id"))


def test_a_planned_meal_is_logged_in_one_tap_and_counts_against_the_target(
    client, tenant_a, client_a, athlete
):
    client.force_login(client_a)
    page = client.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Your plan for the day" in body and "Ate this" in body and "Target" in body
    planned = page.context["planned"][0]
    response = client.post(
        URL,
        {
            "key": planned["item"]["key"],
            "slot": planned["slot"],
            "unit": "grams",
            "amount": planned["item"]["grams"],
        },  # fmt: skip
    )
    assert response.status_code == 302
    [entry] = _entries(tenant_a)
    assert entry.key == planned["item"]["key"] and entry.slot == planned["slot"]
    again = client.get(URL)
    assert again.context["planned"][0]["logged"] is True
    assert again.context["eaten"]["energy_kcal"] == pytest.approx(entry.energy_kcal, abs=0.1)


def test_search_then_log_by_portions_and_remove(client, tenant_a, client_a, athlete):
    client.force_login(client_a)
    found = client.get(URL, {"q": "oat"})
    keys = [key for key, _, _ in found.context["results"]]
    assert keys and all(k.startswith(("food:", "recipe:")) for k in keys)
    key = next(k for k in keys if k.startswith("food:"))
    client.post(URL, {"key": key, "unit": "portions", "amount": "1.5", "slot": "breakfast"})
    [entry] = _entries(tenant_a)
    assert entry.portions == Decimal("1.50") and entry.slot == "breakfast"
    response = client.post(f"/t/alpha/nutrition/log/{entry.pk}/delete/")
    assert response.status_code == 302
    assert _entries(tenant_a) == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"amount": "lots", "unit": "grams"}, "Give how much as a number"),
        ({"amount": "9000", "unit": "grams"}, "Grams must be 1–5000."),
        ({"amount": "100", "unit": "grams", "key": "food:unobtainium"}, "Unknown food"),
    ],
)
def test_bad_input_keeps_what_was_typed_and_logs_nothing(
    client, tenant_a, client_a, athlete, data, words
):
    client.force_login(client_a)
    key = client.get(URL, {"q": "oat"}).context["results"][0][0]
    response = client.post(URL + "?q=oat", {"key": key, **data})
    assert response.status_code == 400
    body = response.content.decode()
    assert words in body
    assert _entries(tenant_a) == []


def test_a_future_day_other_clients_entries_and_staff_are_404(
    client, tenant_a, client_a, coach_a, athlete
):
    client.force_login(client_a)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert client.get(URL, {"day": tomorrow.isoformat()}).status_code == 404
    other = factories.member(tenant_a, "client", email="other@alpha.test")
    with tenant_context(tenant_a):
        theirs = FoodLogEntry.objects.create(
            athlete=AthleteProfile.objects.get(user=other), date=timezone.localdate(),
            key="food:oats", name="Oats", grams=50, energy_kcal=190, protein_g=6,
            carbs_g=33, fat_g=3,
        )  # fmt: skip
    assert client.post(f"/t/alpha/nutrition/log/{theirs.pk}/delete/").status_code == 404
    client.force_login(coach_a)
    assert client.get(URL).status_code == 404


def test_without_health_data_consent_the_page_asks_for_it_and_logs_nothing(client, tenant_a):
    account = factories.member(tenant_a, "client", email="shy@alpha.test", consents=False)
    factories.enrolled_strength_athlete(
        tenant_a, account, start=timezone.localdate(), weekdays=[0, 2, 4]
    )
    client.force_login(account)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"needs your agreement first" in response.content
    posted = client.post(URL, {"key": "food:oats", "unit": "grams", "amount": "50"})
    assert b"needs your agreement first" in posted.content
    assert _entries(tenant_a) == []
