"""Tenant lifecycle (issue 8): onboarding with an invited owner, invitations and roles,
branding, suspension and reactivation — through the services, the pages, the admin and
the shell, on PostgreSQL."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from athletes.models import ConsentPolicy
from coaching import lifecycle
from coaching.lifecycle import InvitationInvalid, LifecycleError, PermissionRefused
from coaching.models import AuditEvent, Invitation, Membership, Tenant
from coaching.tenancy import tenant_context
from tests import factories

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _token_from(message) -> str:
    match = re.search(r"/invite/([A-Za-z0-9_-]+)/", message.body)
    assert match, message.body
    return match.group(1)


def _membership(tenant: Tenant, account) -> Membership:
    with tenant_context(tenant):
        return Membership.objects.get(user=account)


# --- onboarding ----------------------------------------------------------------------------


def test_staff_onboarding_creates_the_tenant_invites_the_owner_and_seeds_consent_texts(db):
    onboarded = lifecycle.tenant_create(
        slug="north",
        name="North Barbell",
        timezone_name="Europe/Dublin",
        currency="gbp",
        brand_colour="#aa3300",
        owner_email="Founder@North.test",
        by_user_id=None,
    )
    tenant = onboarded.tenant
    assert (tenant.slug, tenant.currency, tenant.brand_colour) == ("north", "GBP", "#aa3300")
    assert onboarded.owner is None and onboarded.invitation.role == "owner"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Founder@North.test"]
    assert "North Barbell" in message.subject
    assert "http://127.0.0.1:8000/t/north/invite/" in message.body
    with tenant_context(tenant):
        assert ConsentPolicy.objects.count() == 5  # one default text per purpose
        assert Invitation.objects.get().token_hash != _token_from(message)  # only a hash
    actions = set(AuditEvent.objects.filter(tenant=tenant).values_list("action", flat=True))
    assert {"tenant.create", "invitation.create"} <= actions


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"slug": "Bad Slug!"}, "slug"),
        ({"slug": "admin"}, "slug"),
        ({"slug": "alpha"}, "slug"),  # taken
        ({"timezone_name": "Mars/Olympus"}, "timezone"),
        ({"brand_colour": "red"}, "brand_colour"),
        ({"currency": "euro"}, "currency"),
        ({"owner_email": ""}, "owner_email"),
        ({"owner_email": "not-an-email"}, "email"),
    ],
)
def test_onboarding_refuses_bad_input_naming_the_field_and_stores_nothing(tenant_a, values, field):
    kwargs = {"slug": "fresh", "name": "Fresh", "owner_email": "o@fresh.test", **values}
    before = Tenant.objects.count()
    with pytest.raises(LifecycleError) as refused:
        lifecycle.tenant_create(**kwargs)
    assert field in refused.value.fields, refused.value.fields
    assert Tenant.objects.count() == before
    assert mail.outbox == []


def test_self_serve_sign_up_makes_the_person_owner_at_once(client, db):
    person = factories.user("starter@self.test", mfa=True)
    client.force_login(person)
    page = client.get("/start/")
    assert page.status_code == 200 and b"Start your coaching business" in page.content
    bad = client.post("/start/", {"name": "X", "slug": "www", "timezone": "UTC", "currency": "EUR"})
    assert bad.status_code == 400 and "reserved" in bad.content.decode()
    response = client.post(
        "/start/",
        {"name": "Self Made", "slug": "self-made", "timezone": "Europe/Paris", "currency": "EUR"},
    )
    assert response.status_code == 302 and response["Location"] == "/t/self-made/members/"
    tenant = Tenant.objects.get(slug="self-made")
    assert _membership(tenant, person).role == "owner"
    assert client.get("/t/self-made/members/").status_code == 200


def test_tenant_create_command(db, capsys):
    call_command("tenant_create", "shell-made", name="Shell Made", owner_email="o@shell.test")
    assert "Created shell-made" in capsys.readouterr().out
    assert len(mail.outbox) == 1
    with pytest.raises(CommandError, match="taken"):
        call_command("tenant_create", "shell-made", name="Again", owner_email="o@shell.test")


# --- invitations ---------------------------------------------------------------------------


def test_an_invited_client_signs_up_with_that_address_and_joins(client, tenant_a, owner_a):
    with tenant_context(tenant_a):
        lifecycle.invitation_create(
            email="new@client.test", role="client", by=_membership(tenant_a, owner_a)
        )
    token = _token_from(mail.outbox[-1])
    url = f"/t/alpha/invite/{token}/"
    anonymous = client.get(url)
    assert anonymous.status_code == 200
    assert b"Create an account" in anonymous.content and b"next=" in anonymous.content

    stranger = factories.user("stranger@elsewhere.test")
    client.force_login(stranger)
    refused = client.post(url)
    assert refused.status_code == 409 and b"another e-mail address" in refused.content
    with tenant_context(tenant_a):
        assert not Membership.objects.filter(user=stranger).exists()

    invitee = factories.user("new@client.test")
    client.force_login(invitee)
    accepted = client.post(url)
    assert accepted.status_code == 302 and accepted["Location"] == "/t/alpha/"
    assert _membership(tenant_a, invitee).role == "client"
    again = client.post(url)
    assert again.status_code == 409 and b"already been used" in again.content


def test_expired_revoked_and_replaced_invitations_cannot_be_used(tenant_a, owner_a):
    owner = _membership(tenant_a, owner_a)
    invitee = factories.user("late@client.test")
    with tenant_context(tenant_a):
        first = lifecycle.invitation_create(email="late@client.test", role="coach", by=owner)
        first_token = _token_from(mail.outbox[-1])
        second = lifecycle.invitation_create(email="late@client.test", role="coach", by=owner)
        first.refresh_from_db()
        assert first.revoked_at is not None  # a resend replaces the open invitation
        with pytest.raises(InvitationInvalid, match="withdrawn or replaced"):
            lifecycle.invitation_accept(
                invitation=lifecycle.invitation_by_token(first_token), user=invitee
            )
        Invitation.objects.filter(pk=second.pk).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
        second.refresh_from_db()
        with pytest.raises(InvitationInvalid, match="expired"):
            lifecycle.invitation_accept(invitation=second, user=invitee)
        assert not Membership.objects.filter(user=invitee).exists()


def test_who_may_invite_whom(tenant_a, owner_a, coach_a):
    coach = _membership(tenant_a, coach_a)
    with tenant_context(tenant_a):
        lifecycle.invitation_create(email="c1@client.test", role="client", by=coach)
        with pytest.raises(PermissionRefused):
            lifecycle.invitation_create(email="c2@coach.test", role="coach", by=coach)
        admin = Membership.objects.create(user=factories.user("adm@alpha.test"), role="admin")
        with pytest.raises(PermissionRefused):
            lifecycle.invitation_create(email="o2@alpha.test", role="owner", by=admin)
        with pytest.raises(InvitationInvalid, match="already a member"):
            lifecycle.invitation_create(email="coach@alpha.test", role="client", by=admin)
        with pytest.raises(LifecycleError) as bad:
            lifecycle.invitation_create(email="x@y.test", role="superuser", by=admin)
        assert "role" in bad.value.fields


def test_invitations_are_tenant_data(tenant_a, tenant_b, owner_a):
    with tenant_context(tenant_a):
        lifecycle.invitation_create(
            email="x@client.test", role="client", by=_membership(tenant_a, owner_a)
        )
    token = _token_from(mail.outbox[-1])
    with tenant_context(tenant_b):
        assert lifecycle.invitation_by_token(token) is None


def test_members_page_invites_and_withdraws(client, tenant_a, owner_a):
    client.force_login(owner_a)
    bad = client.post("/t/alpha/members/", {"action": "invite", "email": "nope", "role": "coach"})
    assert bad.status_code == 400 and b"Enter a valid email address" in bad.content
    sent = client.post(
        "/t/alpha/members/", {"action": "invite", "email": "c@alpha.test", "role": "coach"}
    )
    assert sent.status_code == 302 and len(mail.outbox) == 1
    page = client.get("/t/alpha/members/")
    assert b"c@alpha.test" in page.content and b"Open invitations (1)" in page.content
    with tenant_context(tenant_a):
        invitation = Invitation.objects.get()
    client.post("/t/alpha/members/", {"action": "revoke", "invitation": invitation.pk})
    with tenant_context(tenant_a):
        invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_clients_do_not_see_the_members_page(client, tenant_a, client_a):
    client.force_login(client_a)
    assert client.get("/t/alpha/members/").status_code == 404


# --- roles ---------------------------------------------------------------------------------


def test_owners_change_staff_roles_but_never_remove_the_last_owner(tenant_a, owner_a, coach_a):
    owner, coach = _membership(tenant_a, owner_a), _membership(tenant_a, coach_a)
    client = _membership(tenant_a, factories.member(tenant_a, "client", email="cl@alpha.test"))
    with tenant_context(tenant_a):
        changed = lifecycle.membership_role_change(membership=coach, role="admin", by=owner)
        assert changed.role == "admin"
        with pytest.raises(PermissionRefused):
            lifecycle.membership_role_change(membership=owner, role="coach", by=changed)
        with pytest.raises(LifecycleError, match="at least one owner"):
            lifecycle.membership_role_change(membership=owner, role="coach", by=owner)
        with pytest.raises(LifecycleError, match="client's role"):
            lifecycle.membership_role_change(membership=client, role="coach", by=owner)
        lifecycle.membership_role_change(membership=changed, role="owner", by=owner)
        lifecycle.membership_role_change(membership=owner, role="coach", by=owner)  # not last
    event = AuditEvent.objects.filter(action="membership.role_change").order_by("at", "id")[0]
    assert event.detail["from"] == "coach" and event.detail["to"] == "admin"
    assert event.actor_user_id == owner_a.pk and event.subject_user_id == coach_a.pk


def test_role_change_through_the_members_page(client, tenant_a, owner_a, coach_a):
    client.force_login(owner_a)
    coach = _membership(tenant_a, coach_a)
    response = client.post(
        "/t/alpha/members/", {"action": "role", "membership": coach.pk, "role": "admin"}
    )
    assert response.status_code == 302
    assert _membership(tenant_a, coach_a).role == "admin"
    owner = _membership(tenant_a, owner_a)
    refused = client.post(
        "/t/alpha/members/",
        {"action": "role", "membership": owner.pk, "role": "coach"},
        follow=True,
    )
    assert b"at least one owner" in refused.content


# --- branding ------------------------------------------------------------------------------


def test_branding_validates_the_logo_and_serves_it(client, tenant_a, owner_a, coach_a):
    owner = _membership(tenant_a, owner_a)
    with pytest.raises(LifecycleError, match="PNG or JPEG"):
        lifecycle.branding_update(tenant=tenant_a, by=owner, logo=SVG)
    with pytest.raises(LifecycleError, match="under 256 KB"):
        lifecycle.branding_update(tenant=tenant_a, by=owner, logo=PNG + b"\x00" * 300_000)
    with pytest.raises(LifecycleError) as bad_colour:
        lifecycle.branding_update(tenant=tenant_a, by=owner, brand_colour="blue", logo=PNG)
    assert "brand_colour" in bad_colour.value.fields
    tenant_a.refresh_from_db()
    assert tenant_a.logo_type == "" and tenant_a.brand_colour == "#1f5fbf"  # nothing stored
    with pytest.raises(PermissionRefused):
        lifecycle.branding_update(tenant=tenant_a, by=_membership(tenant_a, coach_a), name="X")

    client.force_login(owner_a)
    from django.core.files.uploadedfile import SimpleUploadedFile

    saved = client.post(
        "/t/alpha/branding/",
        {
            "name": "Alpha Strength Co",
            "brand_colour": "#123456",
            "logo": SimpleUploadedFile("logo.png", PNG, content_type="image/png"),
        },
    )
    assert saved.status_code == 302
    logo = client.get("/t/alpha/brand/logo")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert logo.content == PNG
    home = client.get("/t/alpha/").content.decode()
    assert "--accent:#123456" in home and "Alpha Strength Co" in home and "brand/logo" in home
    refused = client.post(
        "/t/alpha/branding/",
        {
            "name": "Alpha",
            "brand_colour": "#123456",
            "logo": SimpleUploadedFile("x.svg", SVG, content_type="image/svg+xml"),
        },
    )
    assert refused.status_code == 400 and b"PNG or JPEG" in refused.content


# --- suspension ----------------------------------------------------------------------------


def test_suspension_makes_the_tenant_read_only_and_reactivation_restores_it(
    client, tenant_a, owner_a, client_a
):
    with pytest.raises(LifecycleError, match="Say why"):
        lifecycle.tenant_suspend(tenant=tenant_a, reason=" ", by_user_id=None)
    lifecycle.tenant_suspend(tenant=tenant_a, reason="Suspended by platform staff.", by_user_id=1)
    client.force_login(client_a)
    page = client.get("/t/alpha/", follow=True)
    assert page.status_code == 200
    assert b"is suspended (Suspended by platform staff.)" in page.content
    write = client.post("/t/alpha/consent/", {})
    assert write.status_code == 403
    api = client.post(
        "/api/v1/checkins/",
        {"date": timezone.localdate().isoformat(), "sleep_hours": 7},
        content_type="application/json",
        HTTP_X_TENANT="alpha",
    )
    assert api.status_code in (403, 409) and b"suspended" in api.content.lower()

    lifecycle.tenant_reactivate(tenant=tenant_a, by_user_id=1)
    assert client.post("/t/alpha/consent/", {}).status_code != 403
    actions = list(
        AuditEvent.objects.filter(tenant=tenant_a, action__startswith="tenant.")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["tenant.suspend", "tenant.reactivate"]


def test_an_unpaid_platform_plan_suspends_and_paying_lifts_only_its_own_suspension(tenant_a):
    lifecycle.tenant_plan_status_changed(tenant=tenant_a, plan_status="past_due")
    tenant_a.refresh_from_db()
    assert tenant_a.status == "active"  # Stripe still retries: not yet
    lifecycle.tenant_plan_status_changed(tenant=tenant_a, plan_status="unpaid")
    tenant_a.refresh_from_db()
    assert (tenant_a.status, tenant_a.status_reason) == ("suspended", lifecycle.SUSPENDED_UNPAID)
    lifecycle.tenant_plan_status_changed(tenant=tenant_a, plan_status="active")
    tenant_a.refresh_from_db()
    assert tenant_a.status == "active"

    lifecycle.tenant_suspend(tenant=tenant_a, reason="Terms breach.", by_user_id=1)
    lifecycle.tenant_plan_status_changed(tenant=tenant_a, plan_status="active")
    tenant_a.refresh_from_db()
    assert tenant_a.status == "suspended"  # staff decided; paying doesn't lift it


def test_a_suspended_owner_can_still_pay_the_platform_plan(client, tenant_a, owner_a):
    lifecycle.tenant_plan_status_changed(tenant=tenant_a, plan_status="unpaid")
    client.force_login(owner_a)
    other_write = client.post("/t/alpha/billing/admin/", {"action": "prices"})
    assert other_write.status_code == 403
    pay = client.post("/t/alpha/billing/admin/", {"action": "plan"})
    assert pay.status_code != 403  # reaches the billing view (which answers on its own)


# --- admin ---------------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    account = factories.user("staff@platform.test", mfa=True)
    account.is_staff = account.is_superuser = True
    account.save()
    return account


def test_staff_onboard_and_suspend_from_the_admin(client, staff, tenant_a):
    client.force_login(staff)
    assert client.get("/admin/coaching/tenant/add/").status_code == 200
    response = client.post(
        "/admin/coaching/tenant/add/",
        {
            "slug": "from-admin",
            "name": "From Admin",
            "timezone": "UTC",
            "currency": "EUR",
            "brand_colour": "#1f5fbf",
            "owner_email": "boss@from-admin.test",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(slug="from-admin")
    assert mail.outbox[-1].to == ["boss@from-admin.test"]
    client.post(
        "/admin/coaching/tenant/",
        {"action": "suspend", "_selected_action": [tenant.pk, tenant_a.pk]},
    )
    assert set(Tenant.objects.values_list("status", flat=True)) == {"suspended"}
    client.post(
        "/admin/coaching/tenant/", {"action": "reactivate", "_selected_action": [tenant.pk]}
    )
    tenant.refresh_from_db()
    assert tenant.status == "active"
    assert AuditEvent.objects.filter(
        action="admin.view", actor_user_id=staff.pk, detail__model="coaching.Tenant"
    ).exists()


def test_staff_offboard_from_the_admin(client, staff, tenant_a):
    client.force_login(staff)
    response = client.post(
        "/admin/coaching/tenant/", {"action": "offboard", "_selected_action": [tenant_a.pk]}
    )
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.status == "offboarded" and tenant_a.delete_after is not None
    assert AuditEvent.objects.filter(action="tenant.offboard", actor_user_id=staff.pk).exists()
    # reactivation can't bring an offboarded tenant back
    with pytest.raises(LifecycleError, match="offboarded"):
        lifecycle.tenant_reactivate(tenant=tenant_a, by_user_id=staff.pk)


def test_owners_remove_staff_but_not_clients_or_the_last_owner(client, tenant_a, owner_a, coach_a):
    owner, coach = _membership(tenant_a, owner_a), _membership(tenant_a, coach_a)
    customer = _membership(tenant_a, factories.member(tenant_a, "client", email="cl@alpha.test"))
    with tenant_context(tenant_a):
        from coaching import services

        services.membership_assign_coach(client=customer, coach=coach, by=owner)
        with pytest.raises(PermissionRefused):
            lifecycle.membership_remove(membership=owner, by=coach)
        with pytest.raises(LifecycleError, match="erasure"):
            lifecycle.membership_remove(membership=customer, by=owner)
        with pytest.raises(LifecycleError, match="at least one owner"):
            lifecycle.membership_remove(membership=owner, by=owner)
    client.force_login(owner_a)
    response = client.post("/t/alpha/members/", {"action": "remove", "membership": coach.pk})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert not Membership.objects.filter(pk=coach.pk).exists()
        customer.refresh_from_db()
        assert customer.coach_id is None  # their client is unassigned, not lost
    event = AuditEvent.objects.get(action="membership.remove")
    assert event.subject_user_id == coach_a.pk and event.detail["role"] == "coach"
