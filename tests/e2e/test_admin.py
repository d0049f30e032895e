"""Owners' and platform staff's pages through a real browser (issue 10): an owner
publishes a new consent text and finds it in the audit log; staff suspend a business.
Both sign in with password and TOTP, as in test_login.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from athletes.models import AthleteProfile, ConsentPolicy
from coaching.models import AuditEvent, Tenant
from coaching.tenancy import tenant_context
from privacy import services as privacy_services
from tests import factories
from tests.e2e.test_login import current_totp_code, submit_login

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


def _sign_in_with_totp(page: Page, user, email: str) -> None:
    submit_login(page, email, factories.PASSWORD)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    code = page.locator("input[name=code]")
    code.fill(current_totp_code(user))
    code.press("Enter")


def test_owner_publishes_a_consent_text_and_finds_it_in_the_audit_log(
    page, tenant_a, owner_a, client_a, artifacts_dir
):
    page.set_viewport_size(LAPTOP)
    _sign_in_with_totp(page, owner_a, "owner@alpha.test")
    page.wait_for_url(re.compile(r"/t/alpha/$"))

    # given: the consent texts page
    page.goto("/t/alpha/settings/consent-texts/")
    expect(page.get_by_role("heading", name="Consent texts")).to_be_visible()
    expect(page.locator(".notice")).to_contain_text("Clients are not asked again")

    # when: the owner writes a new marketing text and previews it
    text = "We send you our newsletter and offers about once a month. Unsubscribe any time."
    page.get_by_label("Purpose").select_option("marketing_email")
    page.get_by_label("New text").fill(text)
    page.get_by_role("button", name="Preview").click()

    # then: the preview shows it as clients will see it, as version 2, nothing published
    preview = page.locator(".preview")
    expect(preview).to_contain_text(text)
    expect(preview).to_contain_text("Policy version 2.")
    with tenant_context(tenant_a):
        assert not ConsentPolicy.objects.filter(version=2).exists()
    page.screenshot(path=artifacts_dir / "e2e-consent-texts-preview.png", full_page=True)

    # when: they publish it
    page.get_by_role("button", name="Publish as a new version").click()

    # then: version 2 is current and version 1 is kept in the history
    expect(page.locator("main")).to_contain_text("version 2 published")
    section = page.locator("section", has=page.locator("#purpose-marketing_email"))
    expect(section).to_contain_text("version 2")
    expect(section).to_contain_text(text)
    expect(section).to_contain_text("1 client agreed to an earlier version and stays agreed.")
    page.screenshot(path=artifacts_dir / "e2e-consent-texts-published.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=artifacts_dir / "e2e-consent-texts-phone.png", full_page=True)
    page.set_viewport_size(LAPTOP)

    # when: they open the audit log and filter by the publish action
    page.goto("/t/alpha/audit/")
    page.get_by_label("Action").select_option("consent.policy_publish")
    page.get_by_role("button", name="Filter").click()

    # then: one event, by the owner (an id and a role, no address), naming the versions
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("consent.policy_publish")
    expect(rows.first).to_contain_text(f"#{owner_a.pk} owner")
    expect(rows.first).to_contain_text("previous=1, purpose=marketing_email, version=2")
    expect(page.locator("table.audit")).not_to_contain_text("owner@alpha.test")
    page.screenshot(path=artifacts_dir / "e2e-audit-log.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=artifacts_dir / "e2e-audit-log-phone.png", full_page=True)
    page.set_viewport_size(LAPTOP)

    # and: the client's erasure request is on the data requests page, cancellable
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        privacy_services.erasure_request(athlete=athlete, requested_by=client_a.pk)
    page.goto("/t/alpha/privacy/requests/")
    row = page.locator("table.requests tbody tr").first
    expect(row).to_contain_text("Scheduled")
    expect(row).to_contain_text("The client")
    row.get_by_role("button", name=re.compile("Cancel the erasure")).click()
    expect(page.locator("main")).to_contain_text("cancelled; they are told by e-mail")
    expect(page.locator("table.requests tbody tr").first).to_contain_text("Cancelled")
    page.screenshot(path=artifacts_dir / "e2e-data-requests.png", full_page=True)


def test_staff_suspend_a_business_on_the_staff_page(
    page, tenant_a, tenant_b, client_a, artifacts_dir
):
    staff = factories.user("staff@platform.test", mfa=True)
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    page.set_viewport_size(LAPTOP)
    _sign_in_with_totp(page, staff, "staff@platform.test")
    page.wait_for_url(re.compile(r"/$"))

    # given: the list of every business
    page.goto("/staff/tenants/")
    expect(page.get_by_role("heading", name="Businesses")).to_be_visible()
    alpha = page.locator('tr[data-tenant="alpha"]')
    expect(alpha).to_contain_text("Active")
    expect(page.locator('tr[data-tenant="bravo"]')).to_be_visible()

    # when: suspending without a reason, then with one
    alpha.get_by_role("button", name="Suspend Alpha Strength").click()
    alpha = page.locator('tr[data-tenant="alpha"]')
    expect(alpha).to_contain_text("This field is required.")
    tenant_a.refresh_from_db()
    assert tenant_a.status == Tenant.Status.ACTIVE
    alpha.get_by_label("Reason").fill("Unpaid invoices since March.")
    alpha.get_by_role("button", name="Suspend Alpha Strength").click()

    # then: Alpha is suspended with the reason, and can be reactivated from here
    expect(page.locator("main")).to_contain_text("Alpha Strength is suspended (read-only).")
    alpha = page.locator('tr[data-tenant="alpha"]')
    expect(alpha).to_contain_text("Suspended")
    expect(alpha).to_contain_text("Unpaid invoices since March.")
    expect(alpha.get_by_role("button", name="Reactivate Alpha Strength")).to_be_visible()
    tenant_a.refresh_from_db()
    assert tenant_a.status == Tenant.Status.SUSPENDED
    assert AuditEvent.objects.filter(
        tenant_id=tenant_a.pk, action="tenant.suspend", actor_user_id=staff.pk
    ).exists()
    page.screenshot(path=artifacts_dir / "e2e-staff-tenants.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=artifacts_dir / "e2e-staff-tenants-phone.png", full_page=True)
