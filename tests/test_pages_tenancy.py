"""Request → tenant for pages: prefix, subdomain, unknown, suspended, offboarded, MFA."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests import factories


def test_member_sees_the_tenant_home(client, tenant_a, owner_a, client_a):
    client.force_login(owner_a)
    response = client.get("/t/alpha/")
    assert response.status_code == 200
    assert b"Alpha Strength" in response.content
    assert b"client@alpha.test" in response.content


def test_non_member_gets_the_same_404_as_an_unknown_tenant(client, tenant_a, client_b):
    client.force_login(client_b)
    theirs = client.get("/t/alpha/")
    unknown = client.get("/t/does-not-exist/")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.content == unknown.content
    assert b"Alpha" not in theirs.content


def test_tenant_from_subdomain(client, tenant_a, owner_a):
    client.force_login(owner_a)
    with override_settings(TENANT_BASE_DOMAIN="coach.test", ALLOWED_HOSTS=[".coach.test"]):
        response = client.get("/", HTTP_HOST="alpha.coach.test")
    assert response.status_code == 200
    assert b"Alpha Strength" in response.content


def test_links_inside_a_prefixed_tenant_keep_the_prefix(client, tenant_a, owner_a):
    client.force_login(owner_a)
    response = client.get("/t/alpha/")
    assert b'href="/t/alpha/accounts/logout/"' in response.content


def test_offboarded_tenant_is_404(client, tenant_a, client_a):
    tenant_a.status = "offboarded"
    tenant_a.save(update_fields=["status"])
    client.force_login(client_a)
    assert client.get("/t/alpha/").status_code == 404


def test_suspended_tenant_reads_with_a_notice_and_refuses_writes(client, tenant_a, client_a):
    tenant_a.status = "suspended"
    tenant_a.save(update_fields=["status"])
    client.force_login(client_a)
    page = client.get("/t/alpha/", follow=True)  # home -> the client's next page
    assert page.status_code == 200
    assert b"is suspended" in page.content
    write = client.post("/t/alpha/")
    assert write.status_code == 403
    assert b"read-only" in write.content


def test_staff_role_without_mfa_is_sent_to_totp_setup(client, tenant_a):
    coach = factories.member(tenant_a, "coach", email="nomfa@alpha.test")
    client.force_login(coach)
    response = client.get("/t/alpha/")
    assert response.status_code == 302
    assert response["Location"] == "/t/alpha/accounts/2fa/totp/activate/"


def test_client_needs_no_mfa(client, tenant_a, client_a):
    client.force_login(client_a)
    # (client_a has no tier yet, so the home sends them to that onboarding step)
    response = client.get("/t/alpha/", follow=True)
    assert response.status_code == 200
    assert all("/2fa/" not in url for url, _ in response.redirect_chain)


def test_login_lands_a_single_tenant_member_in_their_tenant(client, tenant_a, client_a):
    client.force_login(client_a)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/t/alpha/"


def test_member_of_two_tenants_picks_one(client, tenant_a, tenant_b):
    from coaching.models import Membership
    from coaching.tenancy import tenant_context

    dual = factories.member(tenant_a, "client", email="dual@both.test")
    with tenant_context(tenant_b):
        Membership.objects.create(user=dual, role="client")
    client.force_login(dual)
    response = client.get("/")
    assert response.status_code == 200
    assert b"/t/alpha/" in response.content and b"/t/bravo/" in response.content


@pytest.mark.parametrize("path", ["/admin/coaching/membership/", "/admin/athletes/checkin/"])
def test_admin_shows_tenant_data_only_after_staff_pick_a_tenant(client, tenant_a, path):
    staff = factories.user("staff@platform.test", mfa=True)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    factories.member(tenant_a, "client", email="visible@alpha.test")
    client.force_login(staff)
    before = client.get(path)
    assert before.status_code == 302 and before["Location"] == "/admin/tenant/"
    assert client.post("/admin/tenant/", {"slug": "alpha"}).status_code == 302
    after = client.get(path)
    assert after.status_code == 200
    assert b"Alpha Strength" in after.content


def test_admin_refuses_an_unknown_tenant_choice(client, db):
    staff = factories.user("staff@platform.test", mfa=True)
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    response = client.post("/admin/tenant/", {"slug": "nope"}, follow=True)
    assert b"No such tenant." in response.content


def test_platform_staff_without_mfa_cannot_open_the_admin(client, db):
    staff = factories.user("staff@platform.test")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


# --- every member page of another tenant is a 404 (issue 10, journey 5) ----------------------

# (url name, the tenant-B object its id names, or None). Names that are not in the URLconf
# (yet) are left out by `member_pages`, so this list can name pages still being built.
MEMBER_PAGES: tuple[tuple[str, str | None], ...] = (
    ("today", None),
    ("plan", None),
    ("athlete_plan", "athlete"),
    ("history", None),
    ("athlete_history", "athlete"),
    ("progress", None),
    ("athlete_progress", "athlete"),
    ("settings", None),
    ("plan_print", None),
    ("athlete_plan_print", "athlete"),
    ("nutrition", None),
    ("athlete_nutrition", "athlete"),
    ("nutrition_shopping", None),
    ("athlete_nutrition_shopping", "athlete"),
    ("consent", None),
    ("privacy", None),
    ("athlete_privacy", "athlete"),
    ("billing", None),
    ("billing_admin", None),
    ("alerts", None),
    ("alert_detail", "alert"),
    ("review_queue", None),
    ("coach_dashboard", None),
    ("client_detail", "athlete"),
    ("members", None),
    ("branding", None),
    ("nightly_runs", None),
    ("nightly_run", "run"),
    ("nightly_run_progress", "run"),
    ("onboarding", None),
    ("methodology", None),
    ("audit_log", None),
    ("calendar", None),
    ("imports", None),
    ("food_log", None),
    ("messages", None),
    ("athlete_messages", "athlete"),
    ("consent_texts", None),
    ("data_requests", None),
    ("methodology_tiers", None),
)


def tenant_b_objects(tenant_b, client_b) -> dict[str, int]:
    """One object of each kind the member pages take an id of, in tenant B."""
    import datetime

    from athletes.models import AthleteProfile
    from coaching.models import Alert, Membership, NightlyRun
    from coaching.tenancy import tenant_context

    with tenant_context(tenant_b):
        membership = Membership.objects.get(user=client_b)
        alert = Alert.objects.create(
            client=membership,
            kind="plateau",
            severity=2,
            title="Bravo's stalled squat",
            evidence={"rule": "r", "points": []},
            dedupe_key="plateau:bravo",
            day=datetime.date(2026, 11, 2),
        )
        run = NightlyRun.objects.create(date=datetime.date(2026, 11, 2))
        return {
            "athlete": AthleteProfile.objects.get(user=client_b).pk,
            "alert": alert.pk,
            "run": run.pk,
        }


def member_pages(objects: dict[str, int]) -> list[tuple[str, str]]:
    """(name, path without the tenant prefix) for every page in MEMBER_PAGES that the
    URLconf has, with tenant B's ids filled in."""
    from django.urls import NoReverseMatch, reverse

    pages = []
    for name, kind in MEMBER_PAGES:
        try:
            path = reverse(name, args=[objects[kind]] if kind else [])
        except NoReverseMatch:
            continue
        pages.append((name, path))
    return pages


def test_every_member_page_of_another_tenant_is_the_same_404(
    client, tenant_a, tenant_b, owner_a, client_a, client_b
):
    pages = member_pages(tenant_b_objects(tenant_b, client_b))
    assert {"plan", "history", "progress", "settings", "privacy"} <= {n for n, _ in pages}
    for account in (client_a, owner_a):
        client.force_login(account)
        unknown = client.get("/t/does-not-exist/")
        for name, path in pages:
            response = client.get(f"/t/bravo{path}")
            assert response.status_code == 404, (account.email, name)
            assert response.content == unknown.content, name


def test_tenant_b_ids_in_tenant_a_pages_are_404(client, tenant_a, tenant_b, owner_a, client_b):
    pages = [
        (name, path)
        for name, path in member_pages(tenant_b_objects(tenant_b, client_b))
        if any(name == n and kind for n, kind in MEMBER_PAGES)
    ]
    assert len(pages) >= 8
    client.force_login(owner_a)
    for name, path in pages:
        assert client.get(f"/t/alpha{path}").status_code == 404, name
