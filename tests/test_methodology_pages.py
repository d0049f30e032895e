"""The methodology editor pages: the list, the form editor of the draft (the same
validator as the API: errors next to the input, everything entered kept, nothing stored),
the draft-vs-published diff in words, publishing, simulating on seeded clients, tiers and
prices; and who may open them (owners and coaches write, admins read, clients and other
businesses get 404)."""

from __future__ import annotations

import copy
import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from coaching import services as coaching_services
from coaching.forms_methodology import RulesForm
from coaching.models import MethodologyVersion, Tier
from coaching.tenancy import tenant_context
from programs import simulation
from tests import factories

A = "/t/alpha"
RAIL = "guardrails.max_load_change_session_percent"
TODAY = timezone.localdate()
NIGHT = TODAY - datetime.timedelta(days=1)


@pytest.fixture
def on_sale(tenant_a):
    version, tier = factories.methodology_on_sale(tenant_a, "strength")
    return version, tier


def _form_data(rules: dict, **changes) -> dict:
    """What the browser posts for the editor as the page shows it, with `changes`."""
    form = RulesForm(rules=rules)
    data: dict = {"editor": "form", "notes": ""}
    for name, field in form.fields.items():
        value = field.initial
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _versions(tenant, methodology_id) -> list[MethodologyVersion]:
    with tenant_context(tenant):
        return list(
            MethodologyVersion.objects.filter(methodology_id=methodology_id).order_by("number")
        )


# --- list ---------------------------------------------------------------------------


def test_owner_sees_methodologies_with_versions_and_links(client, owner_a, on_sale):
    version, _ = on_sale
    client.force_login(owner_a)
    page = client.get(f"{A}/methodology/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Strength method" in text and "v1" in text and "Published" in text
    assert f'href="{A}/methodology/{version.methodology_id}/edit/"' in text
    assert f'href="{A}/methodologies/{version.methodology_id}/versions/"' in text


def test_admin_reads_but_cannot_edit_like_the_api(client, tenant_a, on_sale):
    version, _ = on_sale
    admin = factories.member(tenant_a, "admin", email="admin@alpha.test", mfa=True)
    client.force_login(admin)
    page = client.get(f"{A}/methodology/")
    assert page.status_code == 200
    assert "/edit/" not in page.content.decode()
    assert client.get(f"{A}/methodology/{version.methodology_id}/edit/").status_code == 404
    assert client.get(f"{A}/methodology/{version.methodology_id}/publish/").status_code == 404


# --- the form editor ------------------------------------------------------------------


def test_edit_page_shows_labelled_inputs_with_the_validator_limits(client, coach_a, on_sale):
    version, _ = on_sale
    client.force_login(coach_a)
    page = client.get(f"{A}/methodology/{version.methodology_id}/edit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'<label for="id_{RAIL}">Largest load change in one session (%)</label>' in text
    assert f'name="{RAIL}" value="10" min="0" max="50" step="any"' in text
    assert (
        'name="progression.params.linear.start_rpe" value="7.5" min="6.5" max="10" step="0.5"'
        in (text)
    )
    assert '<select name="block.deload.rule"' in text
    assert 'type="checkbox" name="autoregulation.rules.velocity.enabled"' in text
    assert "Saving creates a new draft" in text
    # A GET stores nothing: still only the published version.
    assert [v.number for v in _versions(version.tenant, version.methodology_id)] == [1]


def test_saving_the_form_creates_a_draft_and_shows_the_diff_in_words(client, coach_a, on_sale):
    version, _ = on_sale
    client.force_login(coach_a)
    url = f"{A}/methodology/{version.methodology_id}/edit/"
    data = _form_data(
        version.rules,
        **{RAIL: "5", "autoregulation.rules.velocity.enabled": "on", "notes": "Gentler"},
    )
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == url
    published, draft = _versions(version.tenant, version.methodology_id)
    assert published.is_published and published.rules == version.rules
    assert draft.number == 2 and draft.status == "draft" and draft.notes == "Gentler"
    assert draft.rules["guardrails"]["max_load_change_session_percent"] == 5
    assert draft.created_by == coach_a
    velocity = next(r for r in draft.rules["autoregulation"]["rules"] if r["name"] == "velocity")
    assert velocity["enabled"] is True
    # Only what was changed differs from the published document.
    expected = copy.deepcopy(version.rules)
    expected["guardrails"]["max_load_change_session_percent"] = 5
    next(r for r in expected["autoregulation"]["rules"] if r["name"] == "velocity")["enabled"] = (
        True
    )
    assert draft.rules == expected

    page = client.get(url).content.decode()
    assert "Guardrails › Largest load change in one session (%): 10 → 5." in page
    assert "Autoregulation › Velocity-based progression: switched on." in page
    assert "draft v2" in page

    # Saving again edits the same draft (no v3).
    client.post(url, _form_data(draft.rules, **{RAIL: "4"}))
    versions = _versions(version.tenant, version.methodology_id)
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].rules["guardrails"]["max_load_change_session_percent"] == 4


def test_bad_values_show_errors_next_to_inputs_keep_the_input_and_store_nothing(
    client, coach_a, on_sale
):
    version, _ = on_sale
    with tenant_context(version.tenant):
        draft = coaching_services.version_draft_create(methodology=version.methodology)
    client.force_login(coach_a)
    url = f"{A}/methodology/{version.methodology_id}/edit/"
    data = _form_data(
        draft.rules,
        **{
            RAIL: "80",
            "guardrails.frozen_weeks": "2027-03-03",
            "nutrition.protein_g_per_kg": "2.2",
            "readiness.weights.hrv": "0.5",
        },
    )
    response = client.post(url, data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "The draft was not saved" in text
    # Each error sits in the input's own block, in the validator's words.
    rail_block = text.split(f'<label for="id_{RAIL}">')[1].split('<div class="input')[0]
    assert 'value="80"' in rail_block and "Must be between 0 and 50." in rail_block
    assert "2027-03-03 is a Wednesday; give the Monday of the week (2027-03-01)" in text
    assert "weights must sum to 1 (got 1.15)" in text
    # What was entered is all still there, valid or not.
    assert 'name="nutrition.protein_g_per_kg" value="2.2"' in text
    assert 'name="guardrails.frozen_weeks" value="2027-03-03"' in text
    # Nothing stored changed.
    assert _versions(version.tenant, version.methodology_id)[1].rules == draft.rules

    # A rule between two inputs is reported at the first of them.
    data = _form_data(
        draft.rules,
        **{"guardrails.intensity_floor_1rm": "0.9", "guardrails.intensity_ceiling_1rm": "0.8"},
    )
    text = client.post(url, data).content.decode()
    floor_block = text.split('<label for="id_guardrails.intensity_floor_1rm">')[1].split(
        '<div class="input'
    )[0]
    assert "Must be below intensity_ceiling_1rm (0.8)." in floor_block
    assert 'value="0.9"' in floor_block
    assert _versions(version.tenant, version.methodology_id)[1].rules == draft.rules


def test_a_value_that_is_not_a_number_is_refused_by_the_form(client, coach_a, on_sale):
    version, _ = on_sale
    client.force_login(coach_a)
    response = client.post(
        f"{A}/methodology/{version.methodology_id}/edit/",
        _form_data(version.rules, **{RAIL: "ten"}),
    )
    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()
    assert [v.number for v in _versions(version.tenant, version.methodology_id)] == [1]


def test_json_view_saves_and_reports_errors_by_path(client, coach_a, on_sale):
    version, _ = on_sale
    client.force_login(coach_a)
    url = f"{A}/methodology/{version.methodology_id}/edit/"
    broken = '{"discipline": "strength", "guardrails": '
    response = client.post(url, {"editor": "json", "rules_json": broken})
    assert response.status_code == 400
    assert "This is not valid JSON" in response.content.decode()
    assert "&quot;guardrails&quot;: </textarea>" in response.content.decode()

    rules = copy.deepcopy(version.rules)
    rules["guardrails"]["bogus"] = 1
    response = client.post(url, {"editor": "json", "rules_json": json.dumps(rules)})
    assert response.status_code == 400
    assert "(guardrails.bogus): unknown key &#x27;bogus&#x27;" in response.content.decode()
    assert [v.number for v in _versions(version.tenant, version.methodology_id)] == [1]

    del rules["guardrails"]["bogus"]
    rules["sessions"][0]["name"] = "Heavy day"
    response = client.post(url, {"editor": "json", "rules_json": json.dumps(rules)})
    assert response.status_code == 302
    assert _versions(version.tenant, version.methodology_id)[1].rules["sessions"][0]["name"] == (
        "Heavy day"
    )


def test_switching_the_progression_model_uses_that_models_inputs(client, coach_a, on_sale):
    version, _ = on_sale
    client.force_login(coach_a)
    url = f"{A}/methodology/{version.methodology_id}/edit/"
    prefix = "progression.params.double_progression"
    bad = _form_data(
        version.rules,
        **{"progression.model": "double_progression", f"{prefix}.rep_range.0": "12"},
    )
    response = client.post(url, bad)
    assert response.status_code == 400
    block = response.content.decode().split(f'<label for="id_{prefix}.rep_range.0">')[1]
    assert "low must be below high (got [12, 12])" in block.split('<div class="input')[0]
    assert len(_versions(version.tenant, version.methodology_id)) == 1

    good = _form_data(
        version.rules,
        **{"progression.model": "double_progression", f"{prefix}.rep_range.0": "6"},
    )
    assert client.post(url, good).status_code == 302
    draft = _versions(version.tenant, version.methodology_id)[1]
    assert draft.rules["progression"] == {
        "model": "double_progression",
        "plate_increment_kg": 2.5,
        "params": {"sets": 3, "rep_range": [6, 12], "rpe": 8, "load_step_kg": 2.5},
    }


def test_an_endurance_methodology_is_edited_with_its_own_inputs(client, tenant_a, coach_a):
    version, _ = factories.methodology_on_sale(tenant_a, "endurance")
    client.force_login(coach_a)
    url = f"{A}/methodology/{version.methodology_id}/edit/"
    page = client.get(url).content.decode()
    assert 'name="progression.params.polarised.weekly_minutes"' in page
    assert "Sessions</legend>" not in page
    data = _form_data(version.rules, **{"progression.params.polarised.weekly_minutes": "360"})
    assert client.post(url, data).status_code == 302
    draft = _versions(tenant_a, version.methodology_id)[1]
    assert draft.rules["progression"]["params"]["weekly_minutes"] == 360
    assert draft.rules["sessions"] == []


# --- publish ----------------------------------------------------------------------------


def test_publish_asks_for_confirmation_then_publishes_and_the_versions_page_says_what_changed(
    client, owner_a, on_sale
):
    version, _ = on_sale
    client.force_login(owner_a)
    edit = f"{A}/methodology/{version.methodology_id}/edit/"
    client.post(edit, _form_data(version.rules, **{RAIL: "6"}))
    url = f"{A}/methodology/{version.methodology_id}/publish/"

    confirm = client.get(url)
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "Publish Strength method v2?" in text
    assert "Largest load change in one session (%): 10 → 6." in text
    assert _versions(version.tenant, version.methodology_id)[1].status == "draft"

    response = client.post(url)
    versions_url = f"{A}/methodologies/{version.methodology_id}/versions/"
    assert response.status_code == 302 and response["Location"] == versions_url
    v1, v2 = _versions(version.tenant, version.methodology_id)
    assert v2.status == "published" and v2.published_at is not None
    assert v1.rules == version.rules

    page = client.get(versions_url).content.decode()
    assert "What changed from v1 to v2" in page
    assert "Guardrails › Largest load change in one session (%): 10 → 6." in page

    # Nothing left to publish: back to the editor, no new version.
    assert client.post(url)["Location"] == edit
    assert len(_versions(version.tenant, version.methodology_id)) == 2


# --- simulate ---------------------------------------------------------------------------


def _low_hrv_nights(tenant, user) -> None:
    for k in range(70):
        day = NIGHT - datetime.timedelta(days=69 - k)
        rmssd = Decimal("40") if k >= 63 else Decimal("58" if k % 2 else "62")
        factories.checkin(tenant, user, day, hrv_rmssd_ms=rmssd, sleep_hours=Decimal("7.5"))


def test_simulate_shows_the_draft_and_published_numbers_for_seeded_clients(
    client, tenant_a, coach_a, client_a
):
    weekdays = sorted({(TODAY + datetime.timedelta(days=d)).weekday() for d in (0, 2, 4)})
    profile, version = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=TODAY - datetime.timedelta(days=7), weekdays=weekdays
    )
    _low_hrv_nights(tenant_a, client_a)
    client.force_login(coach_a)
    client.post(
        f"{A}/methodology/{version.methodology_id}/edit/",
        _form_data(version.rules, **{RAIL: "1"}),
    )
    draft = _versions(tenant_a, version.methodology_id)[1]
    with tenant_context(tenant_a):
        expected = simulation.compare(
            athletes=[profile], rules_a=version.rules, rules_b=draft.rules, end=NIGHT, weeks=1
        )
    published_total, draft_total = expected.a.total, expected.b.total
    assert draft_total.proposals >= 1 and draft_total.clipped >= 1  # the seed makes it fire

    url = f"{A}/methodology/{version.methodology_id}/simulate/"
    assert "Run the simulation" in client.get(url).content.decode()
    page = client.get(url, {"weeks": 1})
    assert page.status_code == 200
    text = page.content.decode()
    assert f'data-testid="draft-proposals">{draft_total.proposals}<' in text
    assert f'data-testid="draft-clipped">{draft_total.clipped}<' in text
    assert f"<td>{published_total.proposals}</td>" in text
    assert "Low HRV streak: " in text
    assert "Largest load change in one session (%): " in text
    assert "Client@Alpha.Test" in text or str(profile) in text
    # Replaying wrote nothing: still one published version and the draft.
    assert [v.status for v in _versions(tenant_a, version.methodology_id)] == [
        "published",
        "draft",
    ]


def test_simulate_rejects_a_bad_number_of_weeks(client, coach_a, on_sale):
    version, _ = on_sale
    client.force_login(coach_a)
    page = client.get(f"{A}/methodology/{version.methodology_id}/simulate/", {"weeks": 40})
    assert page.status_code == 200
    assert "Ensure this value is less than or equal to 12." in page.content.decode()


# --- tiers and prices ---------------------------------------------------------------------


def test_tiers_list_autonomy_price_and_features_with_billing_off(
    client, owner_a, on_sale, settings
):
    settings.STRIPE_SECRET_KEY = ""
    _, tier = on_sale
    with tenant_context(tier.tenant):
        coaching_services.tier_update(tier=tier, features=["Nightly re-plan"])
    client.force_login(owner_a)
    page = client.get(f"{A}/methodology/tiers/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<td>DIY</td>" in text and "DIY<br>" in text  # name, and the product it is
    assert "29.00 EUR / monthly" in text and "Nightly re-plan" in text
    assert "Online payment is off" in text


def test_tier_edit_changes_name_price_and_features_through_the_service(
    client, owner_a, on_sale, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test_configured"
    _, tier = on_sale
    client.force_login(owner_a)
    url = f"{A}/methodology/tiers/{tier.pk}/"
    page = client.get(url).content.decode()
    assert "existing subscriptions keep the price they pay" in page
    response = client.post(
        url, {"name": "DIY plus", "price": "35.50", "features": "App plan\n\nMeal plans\n"}
    )
    assert response.status_code == 302
    with tenant_context(tier.tenant):
        tier = Tier.objects.get(pk=tier.pk)
    assert (tier.name, tier.price, tier.features) == (
        "DIY plus",
        Decimal("35.50"),
        ["App plan", "Meal plans"],
    )


def test_tier_edit_refuses_a_negative_price_and_keeps_the_input(client, owner_a, on_sale):
    _, tier = on_sale
    client.force_login(owner_a)
    response = client.post(
        f"{A}/methodology/tiers/{tier.pk}/",
        {"name": "Renamed", "price": "-3", "features": "One"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Ensure this value is greater than or equal to 0." in text
    assert 'value="Renamed"' in text and 'value="-3"' in text
    with tenant_context(tier.tenant):
        stored = Tier.objects.get(pk=tier.pk)
    assert (stored.name, stored.price) == ("DIY", Decimal("29.00"))


# --- who may open what ----------------------------------------------------------------------


def _pages(methodology_id: int, tier_id: int) -> list[str]:
    return [
        f"{A}/methodology/",
        f"{A}/methodology/{methodology_id}/edit/",
        f"{A}/methodology/{methodology_id}/publish/",
        f"{A}/methodology/{methodology_id}/simulate/",
        f"{A}/methodology/tiers/",
        f"{A}/methodology/tiers/{tier_id}/",
    ]


def test_client_gets_404_on_every_page(client, client_a, on_sale):
    version, tier = on_sale
    client.force_login(client_a)
    for url in _pages(version.methodology_id, tier.pk):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{A}/methodology/{version.methodology_id}/publish/").status_code == 404
    assert len(_versions(version.tenant, version.methodology_id)) == 1


def test_another_businesss_methodology_and_tier_are_404(client, owner_a, on_sale, tenant_b):
    b_version, b_tier = factories.methodology_on_sale(tenant_b, "endurance")
    client.force_login(owner_a)
    for url in _pages(b_version.methodology_id, b_tier.pk)[1:]:
        if url.endswith("/methodology/tiers/"):
            continue
        assert client.get(url).status_code == 404, url
    assert client.post(f"{A}/methodology/{b_version.methodology_id}/publish/").status_code == 404
    assert "Endurance method" not in client.get(f"{A}/methodology/").content.decode()


def test_a_member_of_another_business_gets_404(client, client_b, on_sale):
    version, tier = on_sale
    client.force_login(client_b)
    for url in _pages(version.methodology_id, tier.pk):
        assert client.get(url).status_code == 404, url
