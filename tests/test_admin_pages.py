"""Owners' and platform staff's pages (issue 10): consent texts, the billing overview,
data requests, the audit log, and staff's list of businesses.

Each page: the owner (or an admin) gets it; a coach, a client and another tenant's
member get the same 404 as a stranger; bad input is a form error that stores nothing.
"""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.utils import timezone
from django.utils.html import escape

from athletes import consent
from athletes.models import AthleteProfile, ConsentPolicy
from billing.models import Subscription
from coaching.models import AuditEvent, Tenant
from coaching.tenancy import tenant_context
from privacy import services as privacy_services
from privacy.models import DataRequest
from tests import factories

PAGES = [
    "/t/alpha/settings/consent-texts/",
    "/t/alpha/privacy/requests/",
    "/t/alpha/audit/",
    "/t/alpha/billing/admin/",
]


def _athlete(tenant, user) -> AthleteProfile:
    with tenant_context(tenant):
        return AthleteProfile.objects.get(user=user)


def _events(tenant, **filters):
    return list(AuditEvent.objects.filter(tenant_id=tenant.pk, **filters))


# --- who may open the pages -------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_owner_and_admin_open_the_admin_pages(client, tenant_a, owner_a, url):
    admin = factories.member(tenant_a, "admin", email="admin@alpha.test", mfa=True)
    for user in (owner_a, admin):
        client.force_login(user)
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_coach_client_and_other_tenant_get_404(client, coach_a, client_a, tenant_b, url):
    owner_b = factories.member(tenant_b, "owner", email="owner@bravo.test", mfa=True)
    for user in (coach_a, client_a, owner_b):
        client.force_login(user)
        assert client.get(url).status_code == 404, user.email


def test_anonymous_visitor_is_sent_to_log_in(client, tenant_a):
    response = client.get("/t/alpha/audit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- consent texts -----------------------------------------------------------------------------


def test_consent_texts_show_every_purpose_and_what_publishing_does(client, owner_a):
    client.force_login(owner_a)
    page = client.get("/t/alpha/settings/consent-texts/").content.decode()
    for purpose in consent.PURPOSES:
        assert f'id="purpose-{purpose}"' in page
    assert "Clients are <em>not</em> asked again" in page
    assert consent.DEFAULT_TEXTS[consent.MARKETING_EMAIL] in page


def test_preview_shows_the_text_as_clients_see_it_and_stores_nothing(client, tenant_a, owner_a):
    client.force_login(owner_a)
    text = "We e-mail you our news and offers about once a month. Unsubscribe any time."
    response = client.post(
        "/t/alpha/settings/consent-texts/",
        {"purpose": consent.MARKETING_EMAIL, "text": text, "action": "preview"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Preview: what clients see" in page and "Policy version 2." in page
    assert page.count(text) == 2  # the preview, and the textarea keeping the draft
    with tenant_context(tenant_a):
        assert ConsentPolicy.objects.filter(purpose=consent.MARKETING_EMAIL).count() == 1


def test_publishing_adds_a_version_keeps_the_old_one_and_keeps_clients_agreed(
    client, tenant_a, owner_a, client_a
):
    client.force_login(owner_a)
    client.get("/t/alpha/settings/consent-texts/")  # version 1 exists
    text = "Let my coach see my sleep, HRV, body weight and notes, to adjust my plan by hand."
    response = client.post(
        "/t/alpha/settings/consent-texts/",
        {"purpose": consent.COACH_ACCESS, "text": text + "\r\n", "action": "publish"},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        versions = list(
            ConsentPolicy.objects.filter(purpose=consent.COACH_ACCESS).order_by("version")
        )
        athlete = AthleteProfile.objects.get(user=client_a)
        assert consent.has_consent(athlete, consent.COACH_ACCESS)  # not asked again
        assert consent.grants_on_older_versions()[consent.COACH_ACCESS] == 1
    assert [(p.version, p.text) for p in versions] == [
        (1, consent.DEFAULT_TEXTS[consent.COACH_ACCESS]),
        (2, text),
    ]
    [event] = _events(tenant_a, action="consent.policy_publish")
    assert event.actor_user_id == owner_a.pk
    assert event.detail == {"purpose": "coach_access", "version": 2, "previous": 1}
    page = client.get("/t/alpha/settings/consent-texts/").content.decode()
    assert "1 client agreed to an earlier version and stays agreed" in page
    assert "Earlier versions (1)" in page
    # the client's consent page now shows the new words, and their answer is kept
    client.force_login(client_a)
    mine = client.get("/t/alpha/consent/").content.decode()
    assert text in mine and "Policy version 2." in mine and "You agreed." in mine


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"purpose": "health_data", "text": "Too short."}, "Write at least 40 characters."),
        (
            {"purpose": "health_data", "text": consent.DEFAULT_TEXTS["health_data"]},
            "Change the text before publishing a new version.",
        ),
        (
            {"purpose": "tracking_everything", "text": "x" * 60},
            "Select a valid choice.",
        ),
        ({"purpose": "health_data", "text": "   "}, "This field is required."),
    ],
)
def test_bad_consent_text_is_a_form_error_and_nothing_is_published(
    client, tenant_a, owner_a, data, field_error
):
    client.force_login(owner_a)
    client.get("/t/alpha/settings/consent-texts/")
    with tenant_context(tenant_a):
        before = ConsentPolicy.objects.count()
    response = client.post("/t/alpha/settings/consent-texts/", {**data, "action": "publish"})
    page = response.content.decode()
    assert response.status_code == 400
    assert field_error in page
    if data["text"].strip():
        assert escape(data["text"]) in page  # what was typed is kept
    with tenant_context(tenant_a):
        assert ConsentPolicy.objects.count() == before
    assert not _events(tenant_a, action="consent.policy_publish")


def test_coach_cannot_publish_a_consent_text(client, tenant_a, coach_a):
    client.force_login(coach_a)
    response = client.post(
        "/t/alpha/settings/consent-texts/",
        {"purpose": "health_data", "text": "y" * 80, "action": "publish"},
    )
    assert response.status_code == 404
    with tenant_context(tenant_a):
        assert not ConsentPolicy.objects.filter(version__gt=1).exists()


# --- billing overview --------------------------------------------------------------------------


def test_billing_overview_lists_failed_payments_with_the_grace_period(
    client, tenant_a, owner_a, client_a
):
    athlete = _athlete(tenant_a, client_a)
    since = timezone.now() - datetime.timedelta(days=2)
    with tenant_context(tenant_a):
        Subscription.objects.create(
            athlete=athlete,
            stripe_subscription_id="sub_overdue",
            stripe_customer_id="cus_1",
            price_id="price_1",
            status="past_due",
            past_due_since=since,
        )
    client.force_login(owner_a)
    page = client.get("/t/alpha/billing/admin/").content.decode()
    assert "Failed payments (1)" in page and "1 overdue now" in page
    assert athlete.display_name in page and "Payment overdue" in page
    access_until = since + datetime.timedelta(days=7)
    assert f"{access_until:%-d %b %Y}" in page
    assert "Monthly recurring revenue" in page and "Your platform plan" in page


def test_billing_overview_without_failures_says_so(client, owner_a):
    client.force_login(owner_a)
    page = client.get("/t/alpha/billing/admin/").content.decode()
    assert "Failed payments (0)" in page and "every subscription is paid up" in page


# --- data requests -----------------------------------------------------------------------------


@pytest.fixture
def requests_a(tenant_a, owner_a, client_a):
    """An export the client asked for and an erasure the owner scheduled for them."""
    athlete = _athlete(tenant_a, client_a)
    with tenant_context(tenant_a):
        export = privacy_services.export_request(athlete=athlete, requested_by=client_a.pk)
        erasure = privacy_services.erasure_request(athlete=athlete, requested_by=owner_a.pk)
    return export, erasure


def test_data_requests_list_state_due_date_who_asked_and_the_clients_page(
    client, tenant_a, owner_a, client_a, requests_a
):
    export, erasure = requests_a
    client.force_login(owner_a)
    page = client.get("/t/alpha/privacy/requests/").content.decode()
    athlete = _athlete(tenant_a, client_a)
    assert f'data-request="{export.pk}"' in page and f'data-request="{erasure.pk}"' in page
    assert "Being prepared" in page and "Scheduled" in page
    assert f"due {timezone.localtime(erasure.due_at):%-d %b %Y}" in page
    assert "The client" in page and "owner@alpha.test (owner)" in page
    assert f'href="/t/alpha/privacy/athlete/{athlete.pk}/"' in page
    assert page.count("Cancel erasure</button>") == 1


def test_data_requests_filter_by_kind_and_reject_unknown_values(client, owner_a, requests_a):
    export, erasure = requests_a
    client.force_login(owner_a)
    only = client.get("/t/alpha/privacy/requests/", {"kind": "erasure"}).content.decode()
    assert f'data-request="{erasure.pk}"' in only and f'data-request="{export.pk}"' not in only
    bad = client.get("/t/alpha/privacy/requests/", {"status": "everything"})
    assert bad.status_code == 400 and "Select a valid choice." in bad.content.decode()


def test_owner_cancels_a_scheduled_erasure_for_the_client(
    client, tenant_a, owner_a, client_a, requests_a
):
    _, erasure = requests_a
    client.force_login(owner_a)
    response = client.post(f"/t/alpha/privacy/requests/{erasure.pk}/cancel/")
    assert response.status_code == 302
    with tenant_context(tenant_a):
        erasure.refresh_from_db()
    assert erasure.status == DataRequest.Status.CANCELLED
    [event] = _events(tenant_a, action="erasure.cancel")
    assert event.actor_user_id == owner_a.pk and event.subject_user_id == client_a.pk
    # a second cancel is refused and changes nothing
    again = client.post(f"/t/alpha/privacy/requests/{erasure.pk}/cancel/", follow=True)
    assert "Only a scheduled erasure can be cancelled." in again.content.decode()
    assert len(_events(tenant_a, action="erasure.cancel")) == 1


def test_another_tenants_request_and_a_coach_cannot_cancel(
    client, tenant_a, tenant_b, owner_a, coach_a, client_b, requests_a
):
    _, erasure = requests_a
    with tenant_context(tenant_b):
        theirs = privacy_services.erasure_request(
            athlete=AthleteProfile.objects.get(user=client_b), requested_by=client_b.pk
        )
    client.force_login(owner_a)
    assert client.post(f"/t/alpha/privacy/requests/{theirs.pk}/cancel/").status_code == 404
    client.force_login(coach_a)
    assert client.post(f"/t/alpha/privacy/requests/{erasure.pk}/cancel/").status_code == 404
    with tenant_context(tenant_b):
        theirs.refresh_from_db()
    with tenant_context(tenant_a):
        erasure.refresh_from_db()
    assert theirs.status == erasure.status == DataRequest.Status.SCHEDULED


# --- the audit log -----------------------------------------------------------------------------


def _event(tenant, action, *, at, actor=None, subject=None, **detail) -> AuditEvent:
    return AuditEvent.objects.create(
        tenant=tenant,
        action=action,
        at=at,
        actor_user_id=actor,
        subject_user_id=subject,
        detail=detail,
    )


@pytest.fixture
def log_a(tenant_a, tenant_b, owner_a, coach_a, client_a):
    """Events on three days in tenant A (Europe/Amsterdam), and one in tenant B."""
    day = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
    return {
        "view": _event(
            tenant_a, "client.view", at=day, actor=coach_a.pk, subject=client_a.pk, page="plan"
        ),
        "grant": _event(
            tenant_a,
            "consent.grant",
            at=day + datetime.timedelta(days=1),
            actor=client_a.pk,
            subject=client_a.pk,
            purpose="health_data",
        ),
        "withdraw": _event(
            tenant_a,
            "consent.withdraw",
            at=day + datetime.timedelta(days=2),
            actor=owner_a.pk,
            subject=client_a.pk,
            purpose="marketing_email",
        ),
        "other": _event(tenant_b, "client.view", at=day, actor=999, page="secret-of-bravo"),
    }


def test_audit_log_shows_this_tenants_events_with_ids_and_roles_only(client, owner_a, log_a):
    client.force_login(owner_a)
    page = client.get("/t/alpha/audit/").content.decode()
    assert "client.view" in page and "consent.grant" in page and "consent.withdraw" in page
    assert "secret-of-bravo" not in page and "#999" not in page
    assert f'#{log_a["view"].actor_user_id}</a> <span class="muted">coach</span>' in page
    assert "@alpha.test" not in page.split("<main>", 1)[1]  # nobody named by address


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "consent.grant"}, {"grant"}),
        ({"action": "consent."}, {"grant", "withdraw"}),
        ({"date_from": "2026-03-11", "date_to": "2026-03-11"}, {"grant"}),
        ({"date_from": "2026-03-11"}, {"grant", "withdraw"}),
        ({"date_to": "2026-03-10"}, {"view"}),
    ],
)
def test_audit_log_filters(client, owner_a, log_a, query, expected):
    client.force_login(owner_a)
    response = client.get("/t/alpha/audit/", query)
    assert response.status_code == 200
    page = response.content.decode()
    shown = {
        name for name, e in log_a.items() if name != "other" and f"<code>{e.action}</code>" in page
    }
    assert shown == expected


def test_audit_log_filter_by_actor(client, owner_a, coach_a, log_a):
    client.force_login(owner_a)
    page = client.get("/t/alpha/audit/", {"actor": coach_a.pk}).content.decode()
    assert "<code>client.view</code>" in page and "<code>consent.grant</code>" not in page


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"date_from": "2026-03-12", "date_to": "2026-03-10"}, "The end date is before the start"),
        ({"date_from": "12/03/2026x"}, "Enter a valid date."),
        ({"actor": "someone"}, "Enter a whole number."),
        ({"action": "drop table"}, "Select a valid choice."),
    ],
)
def test_audit_log_bad_filter_is_a_form_error_keeping_the_input(
    client, owner_a, log_a, query, error
):
    client.force_login(owner_a)
    response = client.get("/t/alpha/audit/", query)
    page = response.content.decode()
    assert response.status_code == 400 and error in page
    assert "<code>consent.grant</code>" not in page
    for value in query.values():
        if value != "drop table":
            assert f'value="{value}"' in page


def test_audit_log_pages_by_keyset_without_gaps_or_repeats(client, tenant_a, owner_a):
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    # 55 events, five of them sharing one timestamp (the id breaks the tie)
    for i in range(55):
        _event(tenant_a, "client.view", at=start + datetime.timedelta(minutes=min(i, 50)), n=i)
    client.force_login(owner_a)
    first = client.get("/t/alpha/audit/").content.decode()
    assert first.count("<code>client.view</code>") == 50
    next_url = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get("/t/alpha/audit/" + next_url.replace("&amp;", "&")).content.decode()
    assert second.count("<code>client.view</code>") == 5
    assert 'rel="next"' not in second and "Newest events" in second
    seen = [
        int(part.split("</code>")[0])
        for text in (first, second)
        for part in text.split("<code>n=")[1:]
    ]
    assert sorted(seen) == list(range(55))


def test_audit_csv_downloads_the_whole_filtered_range_and_is_itself_audited(
    client, tenant_a, owner_a, log_a
):
    client.force_login(owner_a)
    response = client.get("/t/alpha/audit/", {"action": "consent.", "download": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["consent.withdraw", "consent.grant"]
    assert rows[1]["detail"] == '{"purpose": "health_data"}'
    assert rows[1]["at_utc"] == "2026-03-11T12:00:00+00:00"
    [download] = _events(tenant_a, action="audit.download")
    assert download.actor_user_id == owner_a.pk and download.detail["action"] == "consent."


def test_audit_csv_with_a_bad_filter_downloads_nothing(client, tenant_a, owner_a, log_a):
    client.force_login(owner_a)
    response = client.get("/t/alpha/audit/", {"date_from": "nope", "download": "csv"})
    assert response.status_code == 400 and not response.has_header("Content-Disposition")
    assert not _events(tenant_a, action="audit.download")


# --- platform staff: every business ------------------------------------------------------------


@pytest.fixture
def staff_user(db):
    user = factories.user("staff@platform.test", mfa=True)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def test_staff_see_every_business_with_status_plan_and_clients(
    client, staff_user, tenant_a, tenant_b, client_a, client_b
):
    factories.member(tenant_a, "client", email="second@alpha.test")
    client.force_login(staff_user)
    response = client.get("/staff/tenants/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-tenant="alpha"' in page and 'data-tenant="bravo"' in page
    alpha_row = page.split('data-tenant="alpha"')[1].split("</tr>")[0]
    assert "<td>2</td>" in alpha_row  # client memberships
    assert "not started" in alpha_row  # the platform plan (billing's column)
    assert 'href="/t/alpha/nightly/"' in alpha_row
    assert "/admin/coaching/tenant/?q=alpha" in alpha_row
    assert "Platform plan" in page and "Active clients" in page


def test_only_staff_with_totp_on_a_platform_url_reach_the_staff_page(
    client, tenant_a, owner_a, staff_user
):
    client.force_login(owner_a)
    assert client.get("/staff/tenants/").status_code == 404
    client.force_login(staff_user)
    assert client.get("/t/alpha/staff/tenants/").status_code == 404
    no_totp = factories.user("newstaff@platform.test")
    no_totp.is_staff = True
    no_totp.save(update_fields=["is_staff"])
    client.force_login(no_totp)
    response = client.get("/staff/tenants/")
    assert response.status_code == 302 and "/2fa/totp/activate/" in response["Location"]


def test_staff_suspend_with_a_reason_and_reactivate(client, staff_user, tenant_a):
    client.force_login(staff_user)
    response = client.post(
        "/staff/tenants/",
        {"tenant": tenant_a.pk, "action": "suspend", "reason": "Chargeback under review."},
    )
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.status == Tenant.Status.SUSPENDED
    assert tenant_a.status_reason == "Chargeback under review."
    [event] = _events(tenant_a, action="tenant.suspend")
    assert event.actor_user_id == staff_user.pk
    page = client.get("/staff/tenants/").content.decode()
    assert "Reactivate Alpha Strength" in page and "Chargeback under review." in page
    client.post("/staff/tenants/", {"tenant": tenant_a.pk, "action": "reactivate"})
    tenant_a.refresh_from_db()
    assert tenant_a.status == Tenant.Status.ACTIVE and tenant_a.status_reason == ""
    assert len(_events(tenant_a, action="tenant.reactivate")) == 1


def test_suspending_without_a_reason_is_a_form_error_and_changes_nothing(
    client, staff_user, tenant_a
):
    client.force_login(staff_user)
    response = client.post(
        "/staff/tenants/", {"tenant": tenant_a.pk, "action": "suspend", "reason": "  "}
    )
    assert response.status_code == 400
    row = response.content.decode().split('data-tenant="alpha"')[1].split("</tr>")[0]
    assert "This field is required." in row
    tenant_a.refresh_from_db()
    assert tenant_a.status == Tenant.Status.ACTIVE
    assert not _events(tenant_a, action="tenant.suspend")


def test_non_staff_cannot_suspend_and_unknown_tenant_is_404(client, owner_a, staff_user, tenant_a):
    client.force_login(owner_a)
    response = client.post(
        "/staff/tenants/", {"tenant": tenant_a.pk, "action": "suspend", "reason": "mine now"}
    )
    assert response.status_code == 404
    client.force_login(staff_user)
    missing = client.post("/staff/tenants/", {"tenant": 987654, "action": "suspend", "reason": "x"})
    assert missing.status_code == 404
    tenant_a.refresh_from_db()
    assert tenant_a.status == Tenant.Status.ACTIVE
