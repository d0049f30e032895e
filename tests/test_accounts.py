"""Accounts: e-mail login, mandatory verification, password reset, login rate limit."""

from __future__ import annotations

import re

from django.core import mail
from django.core.cache import cache
from django.test import override_settings

from tests import factories


def test_signup_requires_email_verification_before_login(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@athlete.test",
            "password1": "A-long-pass-2026!",
            "password2": "A-long-pass-2026!",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 1
    login = client.post(
        "/accounts/login/", {"login": "new@athlete.test", "password": "A-long-pass-2026!"}
    )
    assert login["Location"] == "/accounts/confirm-email/"
    assert not client.session.get("_auth_user_id")
    link = re.search(r"https?://[^/]+(/accounts/confirm-email/[^\s]+)", mail.outbox[0].body)
    confirm = client.post(link.group(1))
    assert confirm.status_code == 302
    assert client.session.get("_auth_user_id")


def test_login_with_email_and_password(client, tenant_a, client_a):
    response = client.post(
        "/accounts/login/", {"login": "client@alpha.test", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(client_a.pk)


def test_wrong_password_is_a_form_error(client, tenant_a, client_a):
    response = client.post("/accounts/login/", {"login": "client@alpha.test", "password": "nope"})
    assert response.status_code == 200
    assert b"not correct" in response.content


def test_staff_login_asks_for_the_second_factor(client, tenant_a, coach_a):
    response = client.post(
        "/accounts/login/", {"login": "coach@alpha.test", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert not client.session.get("_auth_user_id")


def test_password_reset_sends_a_mail(client, tenant_a, client_a):
    response = client.post("/accounts/password/reset/", {"email": "client@alpha.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/m/ip,3/5m/key"})
def test_repeated_failed_logins_are_rate_limited_with_a_clear_message(client, tenant_a, client_a):
    cache.clear()
    for _ in range(3):
        client.post("/accounts/login/", {"login": "client@alpha.test", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"login": "client@alpha.test", "password": factories.PASSWORD}
    )
    assert client.session.get("_auth_user_id") is None
    assert b"Too many failed login attempts" in response.content
    cache.clear()
