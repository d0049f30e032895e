"""Logging in through a real browser: password, the coach's second factor, tenant pages.

Personas come from `tests/conftest.py`: the coach of tenant A has TOTP, clients have none.
The TOTP code is computed the way an authenticator app does, from the stored secret.
"""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from playwright.sync_api import Page, expect

from tests import factories

pytestmark = pytest.mark.e2e


# A code read this close to the end of its period could expire before the server checks
# it (allauth accepts no neighbouring period by default): take the next one instead.
TOTP_MARGIN_SECONDS = 3


def current_totp_code(user) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    period = mfa_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < TOTP_MARGIN_SECONDS:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def submit_login(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign In").click()


def test_coach_logs_in_with_password_and_totp_and_sees_their_clients(
    page, tenant_a, coach_a, client_a, artifacts_dir
):
    # given: the login page
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    page.screenshot(path=artifacts_dir / "e2e-login.png", full_page=True)

    # when: the coach signs in with e-mail and password
    submit_login(page, "coach@alpha.test", factories.PASSWORD)

    # then: a second factor is asked for before anything else
    page.wait_for_url("**/accounts/2fa/authenticate/")
    code_input = page.locator("input[name=code]")
    expect(code_input).to_be_visible()

    # when: the coach enters the authenticator's current code
    code_input.fill(current_totp_code(coach_a))
    code_input.press("Enter")

    # then: they land in their tenant, on its clients
    page.wait_for_url(re.compile(r"/t/alpha/$"))
    expect(page.locator("header")).to_contain_text("Alpha Strength")
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    clients_table = page.locator("table")
    expect(clients_table).to_contain_text("client@alpha.test")
    expect(page.locator("header")).to_contain_text("coach@alpha.test")
    page.screenshot(path=artifacts_dir / "e2e-coach-home.png", full_page=True)


def test_client_of_one_tenant_gets_404_in_another(
    page, tenant_a, client_a, tenant_b, client_b, artifacts_dir
):
    # given: a client of tenant A, signed in (clients need no second factor)
    submit_login(page, "client@alpha.test", factories.PASSWORD)
    # (no tier yet: the home sends them to that onboarding step, still inside tenant A)
    page.wait_for_url(re.compile(r"/t/alpha/"))
    expect(page.get_by_role("heading", name="Alpha Strength")).to_be_visible()

    # when: they open tenant B
    response = page.goto("/t/bravo/")

    # then: it is a 404 page, with nothing of tenant B on it
    assert response is not None
    assert response.status == 404
    expect(page.locator("body")).to_contain_text("Not Found")
    expect(page.locator("body")).not_to_contain_text("Bravo Endurance")
    expect(page.locator("body")).not_to_contain_text("client@bravo.test")
    page.screenshot(path=artifacts_dir / "e2e-client-other-tenant-404.png", full_page=True)


def test_wrong_password_shows_an_error_on_the_login_form(page, tenant_a, client_a, artifacts_dir):
    submit_login(page, "client@alpha.test", "not-the-password")

    expect(page.locator("form")).to_contain_text(
        "The email address and/or password you specified are not correct."
    )
    assert page.url.endswith("/accounts/login/")
    expect(page.locator("input[name=password]")).to_be_visible()
    page.screenshot(path=artifacts_dir / "e2e-login-wrong-password.png", full_page=True)


def test_coach_without_totp_is_sent_to_totp_activation(page, tenant_a, client_a, artifacts_dir):
    # given: a coach who never set up an authenticator, signed in with a password
    factories.member(tenant_a, "coach", email="nomfa@alpha.test")
    submit_login(page, "nomfa@alpha.test", factories.PASSWORD)
    expect(page.locator("header")).to_contain_text("nomfa@alpha.test")

    # when: they enter the tenant
    page.goto("/t/alpha/")

    # then: they are on the TOTP activation page, not on the tenant's client list
    page.wait_for_url(re.compile(r"/t/alpha/accounts/2fa/totp/activate/$"))
    expect(page.locator("input[name=code]")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("client@alpha.test")
    page.screenshot(path=artifacts_dir / "e2e-totp-activate.png", full_page=True)
