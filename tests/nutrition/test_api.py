"""Nutrition over HTTP: preferences, targets, the 7-day plan, swap, lock, re-plan, the
shopping list (JSON, CSV, text, ticks), the food log, food and recipe search, and the
pages. Bad input is a 400 naming the field with nothing stored; another tenant's athlete
is a 404."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from athletes.models import AthleteProfile
from coaching.tenancy import tenant_context
from nutrition.models import FoodLogEntry, NutritionProfile, PlanDay
from tests import factories

TODAY = timezone.localdate()
START = TODAY - datetime.timedelta(days=7)
WEEKDAYS = [(TODAY.weekday() + offset) % 7 for offset in (0, 2, 4)]
API = "/t/alpha/api/v1"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def athlete(tenant_a, client_a):
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS
    )
    factories.checkin(tenant_a, client_a, TODAY, body_weight_kg=Decimal("72.5"))
    return profile


def _plan(api, athlete) -> list[dict]:
    response = api.post(f"{API}/nutrition/{athlete.pk}/plan/", {}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_client_plans_a_week_and_reads_targets_with_reasons(api, client_a, athlete):
    api.force_login(client_a)
    days = _plan(api, athlete)
    assert len(days) == 7 and all(d["feasible"] for d in days)
    targets = api.get(f"{API}/nutrition/{athlete.pk}/targets/").json()
    assert len(targets) == 7
    assert all(t["reasons"][0].split(":")[0].endswith("carbohydrate day") for t in targets)
    plan = api.get(f"{API}/nutrition/{athlete.pk}/plan/").json()
    assert [d["date"] for d in plan] == [d["date"] for d in days]
    assert plan[0]["meals"][0]["items"][0]["key"].split(":")[0] in ("recipe", "food")


def test_swap_lock_and_replan_through_the_api(api, client_a, athlete):
    api.force_login(client_a)
    _plan(api, athlete)
    day = (TODAY + datetime.timedelta(days=1)).isoformat()
    url = f"{API}/nutrition/{athlete.pk}/plan/{day}"
    options = api.get(f"{url}/swap-options/", {"slot": "dinner"}).json()
    assert options, "a dinner swap exists"
    key = options[0]["items"][0]["key"]
    swapped = api.post(f"{url}/swap/", {"slot": "dinner", "key": key}, format="json")
    assert swapped.status_code == 200
    dinner = next(m for m in swapped.json()["meals"] if m["slot"] == "dinner")
    assert dinner["items"][0]["key"] == key

    bad = api.post(f"{url}/swap/", {"slot": "dinner", "key": "recipe:nope"}, format="json")
    assert bad.status_code == 400 and "key" in bad.json()["error"]["fields"]
    missing = api.get(f"{url}/swap-options/")
    assert missing.status_code == 400 and "slot" in missing.json()["error"]["fields"]

    locked = api.post(f"{url}/lock/", {"slot": "dinner", "locked": True}, format="json")
    assert next(m for m in locked.json()["meals"] if m["slot"] == "dinner")["locked"] is True
    replanned = api.post(f"{url}/replan/").json()
    assert next(m for m in replanned["meals"] if m["slot"] == "dinner") == {
        **dinner,
        "locked": True,
    }
    past = (TODAY - datetime.timedelta(days=30)).isoformat()
    assert api.post(f"{API}/nutrition/{athlete.pk}/plan/{past}/replan/").status_code == 404


def test_shopping_list_formats_and_ticks(api, client_a, athlete):
    api.force_login(client_a)
    _plan(api, athlete)
    url = f"{API}/nutrition/{athlete.pk}/shopping-list/"
    listed = api.get(url).json()
    assert listed["days_planned"] == 7 and listed["items"]
    food = listed["items"][0]["food"]
    end = (TODAY + datetime.timedelta(days=6)).isoformat()
    ticked = api.post(
        f"{url}tick/",
        {"start": TODAY.isoformat(), "end": end, "food": food, "ticked": True},
        format="json",
    ).json()
    assert next(i for i in ticked["items"] if i["food"] == food)["ticked"] is True
    csv_response = api.get(url, {"download": "csv"})
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response.content.decode().startswith("section,food,name")
    text = api.get(url, {"download": "txt"}).content.decode()
    assert "[x]" in text
    assert api.get(url, {"download": "pdf"}).status_code == 400
    assert api.get(url, {"from": "2026-13-01"}).status_code == 400


def test_unknown_allergen_is_a_400_and_nothing_is_stored(api, client_a, athlete):
    api.force_login(client_a)
    response = api.patch(
        f"{API}/nutrition/{athlete.pk}/preferences/",
        {"allergies": ["peanuts", "kryptonite"], "meals_per_day": 5},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "kryptonite" in error["fields"]["allergies"][0]
    with tenant_context(athlete.tenant):
        assert not NutritionProfile.objects.exists()
    ok = api.patch(
        f"{API}/nutrition/{athlete.pk}/preferences/",
        {"allergies": ["peanuts"], "diet": "vegetarian", "meals_per_day": 5},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["meals_per_day"] == 5
    assert (
        api.patch(
            f"{API}/nutrition/{athlete.pk}/preferences/", {"meals_per_day": 9}, format="json"
        ).status_code
        == 400
    )


def test_the_impossible_protein_target_is_a_clear_400(api, tenant_a, client_a, coach_a):
    factories.checkin(tenant_a, client_a, TODAY, body_weight_kg=Decimal("40"))
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
    api.force_login(client_a)
    url = f"{API}/nutrition/{athlete.pk}/preferences/"
    body = {"protein_g_override": 200, "energy_kcal_override": 1200}
    assert api.patch(url, body, format="json").status_code == 403  # a coach's call
    api.force_login(coach_a)
    response = api.patch(url, body, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "5.0 g/kg for a 40 kg client" in fields["protein_g_override"][0]
    assert "1,200 kcal can't hold 200 g of protein" in fields["energy_kcal_override"][0]
    with tenant_context(tenant_a):
        assert not NutritionProfile.objects.exists()


def test_food_log_and_adherence(api, client_a, athlete):
    api.force_login(client_a)
    _plan(api, athlete)
    foods = api.get(f"{API}/foods/", {"q": "banana"}).json()
    assert foods and foods[0]["fdc_id"] > 0
    created = api.post(
        f"{API}/food-log/",
        {
            "athlete": athlete.pk,
            "date": TODAY.isoformat(),
            "key": f"food:{foods[0]['slug']}",
            "portions": 1,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["energy_kcal"] > 0
    bad = api.post(
        f"{API}/food-log/",
        {"athlete": athlete.pk, "date": TODAY.isoformat(), "key": "food:unobtainium", "grams": 50},
        format="json",
    )
    assert bad.status_code == 400 and "key" in bad.json()["error"]["fields"]
    adherence = api.get(
        f"{API}/nutrition/{athlete.pk}/adherence/", {"from": TODAY.isoformat()}
    ).json()
    assert adherence[-1]["percent"]["energy_kcal"] > 0
    with tenant_context(athlete.tenant):
        assert FoodLogEntry.objects.count() == 1


def test_food_and_recipe_search(api, client_a, athlete):
    api.force_login(client_a)
    vegan = api.get(f"{API}/recipes/", {"diet": "vegan", "meal": "dinner"}).json()
    assert vegan and all("vegan" in r["diets"] and "dinner" in r["meals"] for r in vegan)
    nut_free = api.get(f"{API}/foods/", {"exclude_allergen": "tree-nuts,peanuts"}).json()
    assert nut_free and all(not {"tree-nuts", "peanuts"} & set(f["allergens"]) for f in nut_free)
    bad = api.get(f"{API}/foods/", {"exclude_allergen": "kryptonite"})
    assert bad.status_code == 400 and "exclude_allergen" in bad.json()["error"]["fields"]
    recipe = vegan[0]
    detail = api.get(f"{API}/recipes/{recipe['slug']}/").json()
    assert detail["per_serving"]["kcal"] > 0
    assert api.get(f"{API}/recipes/no-such-recipe/").status_code == 404


def test_another_tenants_athlete_is_a_404(api, tenant_b, client_b, athlete):
    api.force_login(client_b)
    assert api.get(f"/t/bravo/api/v1/nutrition/{athlete.pk}/targets/").status_code == 404
    assert (
        api.post(f"/t/bravo/api/v1/nutrition/{athlete.pk}/plan/", {}, format="json").status_code
        == 404
    )


def test_the_nutrition_pages(client, client_a, coach_a, athlete):
    client.force_login(client_a)
    page = client.get("/t/alpha/nutrition/")
    assert page.status_code == 200 and "Plan my week" in page.content.decode()
    client.post("/t/alpha/nutrition/generate/")
    page = client.get("/t/alpha/nutrition/").content.decode()
    assert "carbohydrate day" in page and "Swap" in page
    day = (TODAY + datetime.timedelta(days=1)).isoformat()
    swap = client.get(f"/t/alpha/nutrition/{day}/lunch/swap/")
    assert swap.status_code == 200 and "Choose" in swap.content.decode()
    shopping = client.get("/t/alpha/nutrition/shopping/")
    assert shopping.status_code == 200 and "Got it" in shopping.content.decode()
    assert client.get("/t/alpha/nutrition/shopping/", {"format": "csv"})["Content-Type"].startswith(
        "text/csv"
    )
    client.force_login(coach_a)
    assert client.get(f"/t/alpha/nutrition/athlete/{athlete.pk}/").status_code == 200
    with tenant_context(athlete.tenant):
        assert PlanDay.objects.count() == 7


def test_an_energy_change_waits_in_the_coaches_review_queue(client, tenant_a, client_a, coach_a):
    from nutrition import services
    from programs.models import Adjustment
    from tests.nutrition.test_services import _history

    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS, autonomy="approve"
    )
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(pk=profile.pk)
    _history(tenant_a, client_a, athlete)
    with tenant_context(tenant_a):
        run = services.plan_nutrition(athlete=athlete, date=TODAY - datetime.timedelta(days=1))
        adjustment = run.expenditure.adjustment
    client.force_login(coach_a)
    queue = client.get("/t/alpha/review/").content.decode()
    assert "Energy expenditure" in queue and "you logged 2,000 kcal a day" in queue
    client.post(f"/t/alpha/review/{adjustment.pk}/", {"decision": "approve"})
    with tenant_context(tenant_a):
        assert Adjustment.objects.get(pk=adjustment.pk).status == "applied"
    client.force_login(client_a)
    page = client.get("/t/alpha/nutrition/").content.decode()
    assert "Last expenditure reading" in page and "waiting for your coach" not in page


def test_weight_trend_smooths_the_weigh_ins_for_the_chart(api, tenant_a, client_a, athlete):
    for offset, kg in enumerate(("73.0", "72.2", "72.9", "71.8", "72.4")):
        day = TODAY - datetime.timedelta(days=10 - offset)
        factories.checkin(tenant_a, client_a, day, body_weight_kg=Decimal(kg))
    api.force_login(client_a)
    trend = api.get(f"{API}/nutrition/{athlete.pk}/weight-trend/").json()
    assert len(trend["weights"]) == 6  # the fixture's weigh-in today, and these five
    values = list(trend["trend"].values())
    # the trend line moves less than the raw weigh-ins do from day to day
    raw = list(trend["weights"].values())
    assert max(values) - min(values) < max(raw) - min(raw)
    bad = api.get(f"{API}/nutrition/{athlete.pk}/weight-trend/", {"from": "2027-01-01"})
    assert bad.status_code == 400
    page = api.get("/t/alpha/nutrition/").content.decode()
    assert "<polyline" in page
