"""Methodology, version and tier API: the isolation contract (another tenant's object is
the same 404 as a missing one), roles (clients read, owners and coaches write), the one
error body with rules paths in `fields`."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from coaching import services
from coaching.methodology import DEFAULT_RULES
from coaching.models import Methodology, MethodologyVersion, Tier
from coaching.tenancy import tenant_context
from tests import factories

A = "/t/alpha/api/v1"
MISSING = 987654321


@pytest.fixture
def api():
    return APIClient()


def _methodology(tenant, slug="strength-basics", discipline="strength") -> Methodology:
    with tenant_context(tenant):
        return services.methodology_create(name=slug.title(), slug=slug, discipline=discipline)


def _version(tenant, methodology, *, publish: bool) -> MethodologyVersion:
    with tenant_context(tenant):
        version = services.version_draft_create(methodology=methodology)
        return services.version_publish(version=version) if publish else version


def _tier(tenant, methodology, slug="diy", **kwargs) -> Tier:
    values = {"name": slug.upper(), "price": Decimal("19.00"), "autonomy": "auto", **kwargs}
    with tenant_context(tenant):
        return services.tier_create(methodology=methodology, slug=slug, **values)


@pytest.fixture
def a_methodology(tenant_a):
    return _methodology(tenant_a)


@pytest.fixture
def a_published(tenant_a, a_methodology):
    return _version(tenant_a, a_methodology, publish=True)


@pytest.fixture
def b_objects(tenant_b, client_b):
    methodology = _methodology(tenant_b, slug="bravo-base")
    published = _version(tenant_b, methodology, publish=True)
    draft = _version(tenant_b, methodology, publish=False)
    tier = _tier(tenant_b, methodology)
    return {"methodology": methodology, "published": published, "draft": draft, "tier": tier}


def _assert_same_404(theirs, missing):
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content
    assert theirs.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


# --- isolation contract -------------------------------------------------------------


@pytest.mark.parametrize("role", ["coach", "client"])
def test_another_tenants_objects_are_byte_identical_to_missing_ones(
    api, tenant_a, coach_a, client_a, b_objects, role
):
    # given tenant B's methodology, versions and tier, and a member of A
    api.force_authenticate(coach_a if role == "coach" else client_a)
    methodology, version, tier = b_objects["methodology"], b_objects["published"], b_objects["tier"]
    # when they address B's objects by id, and ids that exist nowhere
    pairs = [
        (f"{A}/methodologies/{methodology.pk}/", f"{A}/methodologies/{MISSING}/"),
        (f"{A}/methodologies/{methodology.pk}/versions/", f"{A}/methodologies/{MISSING}/versions/"),
        (f"{A}/versions/{version.pk}/", f"{A}/versions/{MISSING}/"),
        (f"{A}/tiers/{tier.pk}/", f"{A}/tiers/{MISSING}/"),
    ]
    # then every answer is the same 404, byte for byte
    for theirs, missing in pairs:
        _assert_same_404(api.get(theirs), api.get(missing))


def test_writes_to_another_tenants_objects_are_404_not_403(api, client_a, coach_a, b_objects):
    draft, tier = b_objects["draft"], b_objects["tier"]
    for user in (client_a, coach_a):
        api.force_authenticate(user)
        _assert_same_404(
            api.patch(f"{A}/versions/{draft.pk}/", {"notes": "x"}, format="json"),
            api.patch(f"{A}/versions/{MISSING}/", {"notes": "x"}, format="json"),
        )
        _assert_same_404(
            api.post(f"{A}/versions/{draft.pk}/publish/"),
            api.post(f"{A}/versions/{MISSING}/publish/"),
        )
        _assert_same_404(
            api.post(f"{A}/methodologies/{b_objects['methodology'].pk}/versions/", format="json"),
            api.post(f"{A}/methodologies/{MISSING}/versions/", format="json"),
        )
        _assert_same_404(
            api.patch(f"{A}/tiers/{tier.pk}/", {"price": "1.00"}, format="json"),
            api.patch(f"{A}/tiers/{MISSING}/", {"price": "1.00"}, format="json"),
        )
    with tenant_context(b_objects["draft"].tenant):
        draft.refresh_from_db()
        assert draft.notes == "" and draft.status == "draft"


def test_lists_show_only_the_tenants_own_rows(api, coach_a, a_methodology, a_published, b_objects):
    a_tier = _tier(a_methodology.tenant, a_methodology)
    api.force_authenticate(coach_a)
    methodologies = api.get(f"{A}/methodologies/").json()
    assert [row["id"] for row in methodologies["results"]] == [a_methodology.pk]
    tiers = api.get(f"{A}/tiers/").json()
    assert [row["id"] for row in tiers["results"]] == [a_tier.pk]


def test_diff_against_another_tenants_version_is_404(api, coach_a, a_published, b_objects):
    api.force_authenticate(coach_a)
    _assert_same_404(
        api.get(f"{A}/versions/{a_published.pk}/diff/", {"against": b_objects["published"].pk}),
        api.get(f"{A}/versions/{a_published.pk}/diff/", {"against": MISSING}),
    )


def test_body_fk_to_another_tenants_methodology_is_rejected_like_a_missing_one(
    api, coach_a, b_objects
):
    api.force_authenticate(coach_a)
    body = {"name": "Sneaky", "slug": "sneaky", "price": "10.00", "autonomy": "auto"}
    theirs = api.post(
        f"{A}/tiers/", {**body, "methodology": b_objects["methodology"].pk}, format="json"
    )
    missing = api.post(f"{A}/tiers/", {**body, "methodology": MISSING}, format="json")
    assert theirs.status_code == missing.status_code == 400
    assert theirs.content == missing.content
    assert theirs.json()["error"]["fields"] == {"methodology": ["No such object."]}


def test_non_member_gets_404_for_the_whole_api(api, client_b, a_methodology):
    api.force_authenticate(client_b)
    assert api.get(f"{A}/methodologies/").status_code == 404
    assert api.get(f"{A}/tiers/").status_code == 404


# --- methodologies and versions -----------------------------------------------------


def test_coach_creates_a_methodology_and_its_first_draft(api, tenant_a, coach_a):
    api.force_authenticate(coach_a)
    # when a coach creates a methodology, then a draft without rules
    created = api.post(
        f"{A}/methodologies/",
        {"name": "Strength Basics", "slug": "strength-basics", "discipline": "strength"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    draft = api.post(
        f"{A}/methodologies/{created.json()['id']}/versions/", {"notes": "First"}, format="json"
    )
    # then the draft is version 1 with the strength defaults, authored by the coach
    assert draft.status_code == 201, draft.json()
    body = draft.json()
    assert (body["number"], body["status"], body["notes"]) == (1, "draft", "First")
    assert body["created_by"] == coach_a.pk
    assert body["rules"] == DEFAULT_RULES["strength"]


def test_duplicate_methodology_slug_is_409(api, coach_a, a_methodology):
    api.force_authenticate(coach_a)
    response = api.post(
        f"{A}/methodologies/",
        {"name": "Again", "slug": a_methodology.slug, "discipline": "strength"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slug_taken"
    assert response.json()["error"]["fields"] == {"slug": ["This slug is already in use."]}


def test_invalid_rules_get_the_error_body_with_paths_and_nothing_is_stored(
    api, tenant_a, coach_a, a_methodology
):
    api.force_authenticate(coach_a)
    rules = copy.deepcopy(DEFAULT_RULES["strength"])
    rules["readiness"]["weights"]["hrv"] = 0.25
    rules["sessions"][0]["slots"][1]["pattern"] = "push"
    rules["guardrails"]["intensity_floor_1rm"] = 0.2
    response = api.post(
        f"{A}/methodologies/{a_methodology.pk}/versions/", {"rules": rules}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "rules_invalid"
    assert error["fields"] == {
        "sessions.0.slots.1.pattern": [
            "must be one of: squat, hinge, press, pull, single_leg, carry, core, accessory"
        ],
        "readiness.weights": ["weights must sum to 1 (got 0.9)"],
        "guardrails.intensity_floor_1rm": ["must be between 0.3 and 1.0"],
    }
    with tenant_context(tenant_a):
        assert not MethodologyVersion.objects.exists()


def test_draft_edit_publish_and_then_409_for_any_change(api, coach_a, a_methodology):
    api.force_authenticate(coach_a)
    draft = api.post(f"{A}/methodologies/{a_methodology.pk}/versions/", format="json").json()
    url = f"{A}/versions/{draft['id']}/"
    # given a draft edited over PATCH
    rules = copy.deepcopy(draft["rules"])
    rules["nutrition"] = {"protein_g_per_kg": 2.2}
    edited = api.patch(url, {"rules": rules, "notes": "More protein"}, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["rules"]["nutrition"]["protein_g_per_kg"] == 2.2
    assert edited.json()["rules"]["nutrition"]["fat_fraction"] == 0.25  # defaults filled in
    # when it is published
    published = api.post(f"{url}publish/")
    assert published.status_code == 200, published.json()
    assert published.json()["status"] == "published"
    assert published.json()["published_at"] is not None
    # then PATCH and a second publish are 409 version_published, and nothing changed
    for response in (
        api.patch(url, {"notes": "Sneaky edit"}, format="json"),
        api.post(f"{url}publish/"),
    ):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "version_published"
    assert api.get(url).json()["notes"] == "More protein"


def test_put_is_not_offered_on_versions(api, coach_a, a_published):
    api.force_authenticate(coach_a)
    response = api.put(f"{A}/versions/{a_published.pk}/", {"notes": "x"}, format="json")
    assert response.status_code == 405


def test_next_draft_copies_the_latest_rules_and_the_diff_lists_changes(
    api, coach_a, a_methodology, a_published
):
    api.force_authenticate(coach_a)
    # given a second draft (a copy of v1) with two leaves changed
    second = api.post(f"{A}/methodologies/{a_methodology.pk}/versions/", format="json").json()
    assert second["number"] == 2 and second["rules"] == a_published.rules
    rules = copy.deepcopy(second["rules"])
    rules["block"]["deload"]["volume_percent"] = -50
    rules["progression"]["params"]["reps"] = 3
    api.patch(f"{A}/versions/{second['id']}/", {"rules": rules}, format="json")
    # when the diff against v1 is asked for
    response = api.get(f"{A}/versions/{second['id']}/diff/", {"against": a_published.pk})
    # then it lists the changed leaves, before (v1) and after (v2)
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "version": second["id"],
        "against": a_published.pk,
        "changes": [
            {"path": "block.deload.volume_percent", "before": -40, "after": -50},
            {"path": "progression.params.reps", "before": 5, "after": 3},
        ],
    }


def test_diff_needs_an_against_id(api, coach_a, a_published):
    api.force_authenticate(coach_a)
    response = api.get(f"{A}/versions/{a_published.pk}/diff/")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "against": ["Give the id of the version to compare with."]
    }


def test_second_draft_while_one_is_open_is_409(api, coach_a, a_methodology):
    api.force_authenticate(coach_a)
    api.post(f"{A}/methodologies/{a_methodology.pk}/versions/", format="json")
    response = api.post(f"{A}/methodologies/{a_methodology.pk}/versions/", format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "draft_exists"


# --- roles --------------------------------------------------------------------------


def test_client_reads_methodologies_and_published_versions_only(
    api, tenant_a, client_a, a_methodology, a_published
):
    draft = _version(tenant_a, a_methodology, publish=False)
    api.force_authenticate(client_a)
    assert api.get(f"{A}/methodologies/{a_methodology.pk}/").status_code == 200
    listed = api.get(f"{A}/methodologies/{a_methodology.pk}/versions/").json()
    assert [row["id"] for row in listed["results"]] == [a_published.pk]
    assert api.get(f"{A}/versions/{a_published.pk}/").status_code == 200
    # a draft is not theirs to see: the same 404 as a missing id
    _assert_same_404(api.get(f"{A}/versions/{draft.pk}/"), api.get(f"{A}/versions/{MISSING}/"))


def test_coach_sees_drafts_newest_first(api, tenant_a, coach_a, a_methodology, a_published):
    draft = _version(tenant_a, a_methodology, publish=False)
    api.force_authenticate(coach_a)
    listed = api.get(f"{A}/methodologies/{a_methodology.pk}/versions/").json()
    assert [row["id"] for row in listed["results"]] == [draft.pk, a_published.pk]


@pytest.mark.parametrize("role", ["client", "admin"])
def test_writes_on_visible_objects_are_403_for_clients_and_admins(
    api, tenant_a, client_a, a_methodology, a_published, role
):
    user = (
        client_a
        if role == "client"
        else factories.member(tenant_a, "admin", email="admin@alpha.test", mfa=True)
    )
    tier = _tier(tenant_a, a_methodology)
    api.force_authenticate(user)
    responses = [
        api.post(
            f"{A}/methodologies/",
            {"name": "Mine", "slug": "mine", "discipline": "strength"},
            format="json",
        ),
        api.post(f"{A}/methodologies/{a_methodology.pk}/versions/", format="json"),
        api.patch(f"{A}/versions/{a_published.pk}/", {"notes": "x"}, format="json"),
        api.post(f"{A}/versions/{a_published.pk}/publish/"),
        api.post(
            f"{A}/tiers/",
            {
                "methodology": a_methodology.pk,
                "name": "Mine",
                "slug": "mine",
                "price": "1.00",
                "autonomy": "auto",
            },
            format="json",
        ),
        api.patch(f"{A}/tiers/{tier.pk}/", {"price": "1.00"}, format="json"),
    ]
    for response in responses:
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "permission_denied"
    with tenant_context(tenant_a):
        assert Methodology.objects.count() == 1
        assert MethodologyVersion.objects.count() == 1
        assert Tier.objects.get().price == Decimal("19.00")


def test_owner_may_write(api, owner_a, a_methodology):
    api.force_authenticate(owner_a)
    response = api.post(f"{A}/methodologies/{a_methodology.pk}/versions/", format="json")
    assert response.status_code == 201


# --- tiers --------------------------------------------------------------------------


def test_coach_creates_a_tier_in_the_tenants_currency(api, coach_a, a_methodology, a_published):
    api.force_authenticate(coach_a)
    response = api.post(
        f"{A}/tiers/",
        {
            "methodology": a_methodology.pk,
            "name": "Hybrid",
            "slug": "hybrid",
            "price": "79.00",
            "autonomy": "queue",
            "checkin_cadence_days": 30,
            "features": ["Monthly check-in with your coach", "Messages"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["currency"], body["interval"], body["price"]) == ("EUR", "month", "79.00")
    assert body["features"] == ["Monthly check-in with your coach", "Messages"]
    updated = api.patch(f"{A}/tiers/{body['id']}/", {"price": "89.00"}, format="json")
    assert updated.status_code == 200, updated.json()
    assert updated.json()["price"] == "89.00"


def test_client_sees_active_tiers_only(api, tenant_a, client_a, a_methodology, a_published):
    on_sale = _tier(tenant_a, a_methodology, slug="diy")
    _tier(tenant_a, a_methodology, slug="legacy", is_active=False)
    api.force_authenticate(client_a)
    listed = api.get(f"{A}/tiers/").json()
    assert [row["id"] for row in listed["results"]] == [on_sale.pk]


def test_tier_errors_use_the_error_body(api, coach_a, a_methodology):
    api.force_authenticate(coach_a)
    body = {"methodology": a_methodology.pk, "name": "DIY", "slug": "diy", "autonomy": "auto"}
    negative = api.post(f"{A}/tiers/", {**body, "price": "-5.00"}, format="json")
    assert negative.status_code == 400
    assert negative.json()["error"]["code"] == "invalid"
    assert "price" in negative.json()["error"]["fields"]
    bad_autonomy = api.post(
        f"{A}/tiers/", {**body, "price": "5", "autonomy": "yolo"}, format="json"
    )
    assert "autonomy" in bad_autonomy.json()["error"]["fields"]
    # no published version yet: an active tier would sell nothing
    unpublished = api.post(f"{A}/tiers/", {**body, "price": "5.00"}, format="json")
    assert unpublished.status_code == 409
    assert unpublished.json()["error"]["code"] == "methodology_unpublished"


def test_schema_lists_the_new_endpoints(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    for endpoint in (
        b"/api/v1/methodologies/",
        b"/api/v1/versions/{id}/diff/",
        b"/api/v1/versions/{id}/publish/",
        b"/api/v1/tiers/",
    ):
        assert endpoint in schema.content


# --- admin ------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, tenant_a):
    staff = factories.user("staff@platform.test", mfa=True)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    assert client.post("/admin/tenant/", {"slug": "alpha"}).status_code == 302
    return client


def test_admin_lists_methodologies_versions_and_tiers(
    staff_client, tenant_a, a_methodology, a_published
):
    _tier(tenant_a, a_methodology, slug="diy")
    for path in ("methodology", "methodologyversion", "tier"):
        response = staff_client.get(f"/admin/coaching/{path}/")
        assert response.status_code == 200, path
        assert b"Strength-Basics" in response.content or b"DIY" in response.content


def test_admin_shows_a_published_version_read_only(staff_client, tenant_a, a_published):
    url = f"/admin/coaching/methodologyversion/{a_published.pk}/change/"
    page = staff_client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    refused = staff_client.post(url, {"rules": "{}", "notes": "edited"})
    assert refused.status_code == 403
    with tenant_context(tenant_a):
        a_published.refresh_from_db()
        assert a_published.notes == ""


def test_admin_edits_a_draft_through_the_validator(staff_client, tenant_a, a_methodology):
    draft = _version(tenant_a, a_methodology, publish=False)
    url = f"/admin/coaching/methodologyversion/{draft.pk}/change/"
    invalid = staff_client.post(
        url, {"rules": '{"discipline": "strength", "sessions": []}', "notes": "x"}
    )
    assert invalid.status_code == 200
    assert b"sessions: needs 1 to 7 sessions (got 0)" in invalid.content
    rules = {"sessions": [{"name": "A", "slots": [{"pattern": "hinge", "role": "main"}]}]}
    saved = staff_client.post(
        url, {"rules": json.dumps({"discipline": "strength", **rules}), "notes": "Hinge day"}
    )
    assert saved.status_code == 302
    with tenant_context(tenant_a):
        draft.refresh_from_db()
    assert draft.notes == "Hinge day"
    assert draft.rules["sessions"][0]["slots"] == [{"pattern": "hinge", "role": "main"}]
    assert draft.rules["nutrition"]["fat_fraction"] == 0.25


def test_version_diff_page_shows_the_changed_rules(client, tenant_a, coach_a, client_b):
    from coaching import services as coaching_services
    from coaching.methodology import default_rules
    from coaching.tenancy import tenant_context

    with tenant_context(tenant_a):
        methodology = coaching_services.methodology_create(
            name="Alpha 5s", slug="alpha-5s", discipline="strength"
        )
        v1 = coaching_services.version_publish(
            version=coaching_services.version_draft_create(methodology=methodology)
        )
        rules = default_rules("strength")
        rules["progression"]["params"]["reps"] = 3
        coaching_services.version_draft_create(methodology=methodology, rules=rules)
    client.force_login(coach_a)
    page = client.get(f"/t/alpha/methodologies/{methodology.pk}/versions/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "What changed from v1 to v2" in body
    assert "progression.params.reps" in body
    assert v1.published_at.strftime("%Y-%m-%d") in body  # v1 listed as published
    client.force_login(client_b)
    assert client.get(f"/t/alpha/methodologies/{methodology.pk}/versions/").status_code == 404
