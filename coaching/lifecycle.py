"""A tenant's life (issue 8, Tenant lifecycle): onboarding with its owner, invitations
and roles, branding, suspension and reactivation. Offboarding (export, then deletion
after the retention period) reaches every app, so it lives in `privacy.offboarding`.

Every change here is written to the audit log. Other apps react to a new tenant through
`on_tenant_created` (athletes seeds the default consent texts), since coaching may not
import them.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from coaching import audit
from coaching.errors import DomainError
from coaching.models import Invitation, Membership, Tenant
from coaching.routing import tenant_absolute_url
from coaching.tenancy import current_tenant, tenant_context

logger = logging.getLogger(__name__)

INVITATION_TTL = datetime.timedelta(days=14)
# Slugs that would shadow a platform host or path when used as a subdomain.
RESERVED_SLUGS = frozenset(
    {"admin", "api", "app", "www", "mail", "static", "media", "stripe", "accounts", "t"}
)
LOGO_MAX_BYTES = 256 * 1024
# Magic bytes of the logo formats we serve. SVG is refused: it can carry script.
LOGO_TYPES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
# Reasons the platform plan sets, so a paid plan lifts its own suspension but never a
# suspension staff decided.
SUSPENDED_UNPAID = "The platform plan is unpaid."
SUSPENDED_PLAN_ENDED = "The platform plan has ended."
PLAN_REASONS = frozenset({SUSPENDED_UNPAID, SUSPENDED_PLAN_ENDED})


class LifecycleError(DomainError):
    code = "lifecycle"


class InvitationInvalid(LifecycleError):
    code = "invitation_invalid"
    status = 409


class PermissionRefused(LifecycleError):
    code = "forbidden"
    status = 403


# --- hooks ---------------------------------------------------------------------------------

TenantHook = Callable[[Tenant], None]
_created_hooks: list[TenantHook] = []


def on_tenant_created(fn: TenantHook) -> None:
    """Run `fn(tenant)` inside the new tenant's context after it is created."""
    if fn not in _created_hooks:
        _created_hooks.append(fn)


# --- onboarding ----------------------------------------------------------------------------


def _validation_fields(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {"non_field_errors": list(exc.messages)}


def _first_message(fields: dict[str, list[str]]) -> str:
    field, messages = next(iter(fields.items()))
    return f"{field}: {messages[0]}"


@dataclass(frozen=True)
class Onboarded:
    tenant: Tenant
    owner: Membership | None  # self-serve: the person signing up is the owner at once
    invitation: Invitation | None  # staff onboarding: the owner is invited by e-mail


def tenant_create(
    *,
    slug: str,
    name: str,
    timezone_name: str = "UTC",
    currency: str = "EUR",
    brand_colour: str = "",
    owner_user: AbstractBaseUser | None = None,
    owner_email: str = "",
    by_user_id: int | None = None,
) -> Onboarded:
    """Create a coaching business. Self-serve sign-up passes `owner_user` (they own it
    at once); platform staff pass `owner_email` and the owner is invited by e-mail."""
    if (owner_user is None) == (not owner_email):
        raise LifecycleError(
            "Name the owner: either the signed-in person or an e-mail to invite.",
            fields={"owner_email": ["Give the owner's e-mail address."]},
        )
    slug = (slug or "").strip().lower()
    tenant = Tenant(
        slug=slug,
        name=(name or "").strip(),
        timezone=timezone_name or "UTC",
        currency=(currency or "EUR").upper(),
    )
    if brand_colour:
        tenant.brand_colour = brand_colour
    try:
        tenant.full_clean(validate_unique=False)
    except ValidationError as exc:
        fields = _validation_fields(exc)
        raise LifecycleError(_first_message(fields), fields=fields) from exc
    if slug in RESERVED_SLUGS or Tenant.objects.filter(slug=slug).exists():
        raise _slug_taken(slug)
    try:
        with transaction.atomic():
            tenant.save()
            with tenant_context(tenant):
                owner = invitation = None
                if owner_user is not None:
                    owner = Membership.objects.create(user=owner_user, role=Membership.Role.OWNER)
                for hook in _created_hooks:
                    hook(tenant)
                audit.record(
                    action="tenant.create",
                    actor_user_id=by_user_id if owner_user is None else owner_user.pk,
                    detail={"tenant_id": tenant.pk, "slug": tenant.slug, "self_serve": bool(owner)},
                )
                if owner_email:
                    invitation = invitation_create(
                        email=owner_email,
                        role=Membership.Role.OWNER,
                        by=None,
                        by_user_id=by_user_id,
                    )
    except IntegrityError as exc:  # created by someone else since the check above
        raise _slug_taken(slug) from exc
    return Onboarded(tenant=tenant, owner=owner, invitation=invitation)


def _slug_taken(slug: str) -> LifecycleError:
    what = "reserved" if slug in RESERVED_SLUGS else "taken"
    return LifecycleError(
        f"The address “{slug}” is {what}: pick another.",
        code="slug_taken",
        fields={"slug": [f"This address is {what}."]},
    )


# --- invitations ---------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(tenant: Tenant, token: str) -> str:
    return tenant_absolute_url(tenant, f"invite/{token}/")


def _may_invite(by: Membership | None, role: str) -> bool:
    if by is None:  # platform staff or the system (tenant onboarding)
        return True
    if by.role == Membership.Role.OWNER:
        return True
    if by.role == Membership.Role.ADMIN:
        return role != Membership.Role.OWNER
    if by.role == Membership.Role.COACH:
        return role == Membership.Role.CLIENT
    return False


def invitation_create(
    *,
    email: str,
    role: str,
    by: Membership | None,
    by_user_id: int | None = None,
) -> Invitation:
    """Invite `email` to the current tenant as `role` and e-mail them the link. Inviting
    an address again replaces the open invitation (a resend with a fresh link)."""
    tenant = current_tenant()
    email = (email or "").strip()
    if role not in Membership.Role.values:
        raise LifecycleError(
            f"“{role}” is not a role: use one of {', '.join(Membership.Role.values)}.",
            fields={"role": ["Pick a role."]},
        )
    if not _may_invite(by, role):
        raise PermissionRefused(
            f"A {by.get_role_display().lower() if by else 'member'} can't invite a {role}.",
            fields={"role": ["You can't invite this role."]},
        )
    invitation = Invitation(email=email, role=role, invited_by=by, token_hash="x" * 64)
    invitation.expires_at = timezone.now() + INVITATION_TTL
    try:
        invitation.full_clean(exclude=["tenant", "token_hash", "invited_by"])
    except ValidationError as exc:
        fields = _validation_fields(exc)
        raise LifecycleError(_first_message(fields), fields=fields) from exc
    if Membership.objects.filter(user__email__iexact=email).exists():
        raise InvitationInvalid(
            f"{email} is already a member of {tenant.name}.",
            code="already_member",
            fields={"email": ["Already a member."]},
        )
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _token_hash(token)
    with transaction.atomic():
        Invitation.objects.select_for_update().filter(
            email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        invitation.save()
        actor = by.user_id if by is not None else by_user_id
        audit.record(
            action="invitation.create",
            actor_user_id=actor,
            detail={"invitation_id": invitation.pk, "role": role},
        )
    body = render_to_string(
        "coaching/email/invitation.txt",
        {
            "tenant": tenant,
            "invitation": invitation,
            "role": invitation.get_role_display().lower(),
            "url": invitation_url(tenant, token),
            "expires": invitation.expires_at,
        },
    )
    send_mail(f"You're invited to {tenant.name}", body, None, [email])
    logger.info("invitation %s sent (%s)", invitation.pk, role)
    return invitation


def invitation_by_token(token: str) -> Invitation | None:
    """The current tenant's invitation for `token` (open or not); None if unknown."""
    return Invitation.objects.filter(token_hash=_token_hash(token or "")).first()


def _verified_email(user: AbstractBaseUser, email: str) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def invitation_accept(*, invitation: Invitation, user: AbstractBaseUser) -> Membership:
    """`user` takes the seat `invitation` offers. The invitation names a person by
    e-mail, so only an account that verified that address may accept it."""
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvitationInvalid("This invitation has already been used.", code="used")
        if invitation.revoked_at is not None:
            raise InvitationInvalid(
                "This invitation was withdrawn or replaced by a newer one.", code="revoked"
            )
        if invitation.expires_at <= now:
            raise InvitationInvalid(
                f"This invitation expired on {timezone.localtime(invitation.expires_at):%d %b %Y}:"
                " ask for a new one.",
                code="expired",
            )
        if not _verified_email(user, invitation.email):
            raise InvitationInvalid(
                "This invitation was sent to another e-mail address: sign in with that"
                " address (and verify it) to accept.",
                code="wrong_account",
            )
        if Membership.objects.filter(user=user).exists():
            raise InvitationInvalid(
                f"You're already a member of {invitation.tenant.name}.", code="already_member"
            )
        membership = Membership.objects.create(user=user, role=invitation.role)
        invitation.accepted_at = now
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit.record(
            action="invitation.accept",
            actor_user_id=user.pk,
            detail={"invitation_id": invitation.pk, "membership_id": membership.pk},
        )
    return membership


def invitation_revoke(*, invitation: Invitation, by: Membership) -> Invitation:
    if not _may_invite(by, invitation.role):
        raise PermissionRefused("You can't withdraw this invitation.")
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise InvitationInvalid("Only an open invitation can be withdrawn.", code="not_open")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(
            action="invitation.revoke",
            actor_user_id=by.user_id,
            detail={"invitation_id": invitation.pk},
        )
    return invitation


# --- roles ---------------------------------------------------------------------------------

STAFF_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.COACH)


def membership_role_change(*, membership: Membership, role: str, by: Membership) -> Membership:
    """Owners change staff roles. A client's role is not changed here: their data hangs
    on their client profile (a client who becomes staff is invited with that role)."""
    if by.role != Membership.Role.OWNER:
        raise PermissionRefused("Only an owner can change roles.")
    if role not in STAFF_ROLES:
        raise LifecycleError(
            f"“{role}” is not a staff role: use owner, admin or coach.",
            fields={"role": ["Pick owner, admin or coach."]},
        )
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role not in STAFF_ROLES:
            raise LifecycleError(
                "A client's role can't be changed: invite them as staff instead.",
                code="client_role",
                fields={"role": ["Clients keep their role."]},
            )
        before = membership.role
        if before == role:
            return membership
        if before == Membership.Role.OWNER:
            owners = Membership.objects.select_for_update().filter(role=Membership.Role.OWNER)
            if owners.count() <= 1:
                raise LifecycleError(
                    "A business needs at least one owner: make someone else owner first.",
                    code="last_owner",
                    fields={"role": ["The last owner stays owner."]},
                )
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            action="membership.role_change",
            actor_user_id=by.user_id,
            subject_user_id=membership.user_id,
            detail={"membership_id": membership.pk, "from": before, "to": role},
        )
    return membership


def membership_remove(*, membership: Membership, by: Membership) -> None:
    """An owner takes a coach or admin out of the business. Their clients become
    unassigned (alerts reach every coach again) and their decisions stay, unsigned.
    A client leaves through erasure or the end of their subscription, not here."""
    if by.role != Membership.Role.OWNER:
        raise PermissionRefused("Only an owner can remove a member.")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role not in STAFF_ROLES:
            raise LifecycleError(
                "A client isn't removed here: their data goes through erasure.",
                code="client_role",
            )
        if membership.role == Membership.Role.OWNER:
            owners = Membership.objects.select_for_update().filter(role=Membership.Role.OWNER)
            if owners.count() <= 1:
                raise LifecycleError(
                    "A business needs at least one owner: make someone else owner first.",
                    code="last_owner",
                )
        audit.record(
            action="membership.remove",
            actor_user_id=by.user_id,
            subject_user_id=membership.user_id,
            detail={"membership_id": membership.pk, "role": membership.role},
        )
        membership.delete()


# --- branding ------------------------------------------------------------------------------


def logo_type_of(data: bytes) -> str:
    for magic, content_type in LOGO_TYPES:
        if data.startswith(magic):
            return content_type
    return ""


def branding_update(
    *,
    tenant: Tenant,
    by: Membership,
    name: str | None = None,
    brand_colour: str | None = None,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Tenant:
    """Owners and admins change the name, colour and logo their clients see."""
    if by.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise PermissionRefused("Only an owner or admin can change the branding.")
    fields: dict[str, list[str]] = {}
    content_type = ""
    if logo:
        content_type = logo_type_of(logo)
        if len(logo) > LOGO_MAX_BYTES:
            fields["logo"] = [
                f"The logo is {len(logo) // 1024} KB: keep it under {LOGO_MAX_BYTES // 1024} KB."
            ]
        elif not content_type:
            fields["logo"] = ["Upload a PNG or JPEG image."]
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if name is not None:
            tenant.name = name.strip()
        if brand_colour is not None:
            tenant.brand_colour = brand_colour.strip()
        try:
            tenant.full_clean(exclude=["slug", "logo", "logo_type"])
        except ValidationError as exc:
            fields.update(_validation_fields(exc))
        if fields:
            raise LifecycleError(_first_message(fields), fields=fields)
        if logo:
            tenant.logo, tenant.logo_type = logo, content_type
        elif remove_logo:
            tenant.logo, tenant.logo_type = b"", ""
        tenant.save(update_fields=["name", "brand_colour", "logo", "logo_type"])
        audit.record(
            action="tenant.branding",
            actor_user_id=by.user_id,
            detail={"tenant_id": tenant.pk, "logo": bool(tenant.logo_type)},
        )
    return tenant


# --- suspension ----------------------------------------------------------------------------


def tenant_suspend(*, tenant: Tenant, reason: str, by_user_id: int | None) -> Tenant:
    """Make the business read-only: pages and the API refuse writes, the nightly run
    skips it and clients see a notice. Nothing is deleted, so reactivation restores
    everything."""
    reason = (reason or "").strip()
    if not reason:
        raise LifecycleError(
            "Say why the business is suspended (its owners read it).",
            fields={"reason": ["Give a reason."]},
        )
    return _status_set(
        tenant, Tenant.Status.SUSPENDED, reason[:200], by_user_id, action="tenant.suspend"
    )


def tenant_reactivate(*, tenant: Tenant, by_user_id: int | None) -> Tenant:
    return _status_set(tenant, Tenant.Status.ACTIVE, "", by_user_id, action="tenant.reactivate")


def _status_set(
    tenant: Tenant, status: str, reason: str, by_user_id: int | None, *, action: str
) -> Tenant:
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if tenant.status == Tenant.Status.OFFBOARDED:
            raise LifecycleError(
                f"{tenant.name} has been offboarded: it can't be suspended or reactivated.",
                code="offboarded",
            )
        if tenant.status == status and tenant.status_reason == reason:
            return tenant
        before = tenant.status
        tenant.status, tenant.status_reason = status, reason
        tenant.status_changed = timezone.now()
        tenant.save(update_fields=["status", "status_reason", "status_changed"])
        with tenant_context(tenant):
            audit.record(
                action=action,
                actor_user_id=by_user_id,
                detail={"tenant_id": tenant.pk, "from": before, "reason": reason},
            )
    logger.info("tenant %s: %s → %s", tenant.pk, before, status)
    return tenant


def tenant_plan_status_changed(*, tenant: Tenant, plan_status: str) -> Tenant:
    """The platform plan's Stripe status moved: an unpaid or ended plan suspends the
    business; paying again lifts a suspension the plan caused (never one staff set)."""
    if plan_status == "unpaid":
        if tenant.status == Tenant.Status.ACTIVE:
            return tenant_suspend(tenant=tenant, reason=SUSPENDED_UNPAID, by_user_id=None)
    elif plan_status in ("canceled", "incomplete_expired"):
        if tenant.status == Tenant.Status.ACTIVE:
            return tenant_suspend(tenant=tenant, reason=SUSPENDED_PLAN_ENDED, by_user_id=None)
    elif plan_status in ("active", "trialing"):
        if tenant.status == Tenant.Status.SUSPENDED and tenant.status_reason in PLAN_REASONS:
            return tenant_reactivate(tenant=tenant, by_user_id=None)
    return tenant


# --- self-serve clients (issue 10, Public and sign-up) -----------------------------------------


def client_join(*, user: AbstractBaseUser) -> Membership:
    """A signed-in stranger becomes a client of the tenant in context from its public
    page. Like an invitation, it needs a verified e-mail address (the business writes to
    it about payment and data); unlike one, nobody chose this person, so only a business
    that is open for sign-ups (writable, with a tier on sale) takes them. The profile and
    everything else come in the onboarding steps that follow."""
    from allauth.account.models import EmailAddress

    from coaching.models import Tier

    tenant = current_tenant()
    if not tenant.is_writable:
        raise LifecycleError(
            f"{tenant.name} isn't taking new clients right now.", code="not_accepting"
        )
    if not Tier.objects.filter(is_active=True).exists():
        raise LifecycleError(
            f"{tenant.name} has nothing on sale yet, so it can't take new clients.",
            code="not_accepting",
        )
    if not EmailAddress.objects.filter(user=user, verified=True).exists():
        raise LifecycleError(
            "Verify your e-mail address first: follow the link we sent you.", code="unverified"
        )
    with transaction.atomic():
        existing = Membership.objects.select_for_update().filter(user=user).first()
        if existing is not None:
            return existing  # a second click (or a reload) changes nothing
        membership = Membership.objects.create(user=user, role=Membership.Role.CLIENT)
        audit.record(
            action="membership.client_join",
            actor_user_id=user.pk,
            detail={"membership_id": membership.pk},
        )
    logger.info("client joined tenant %s", tenant.pk)
    return membership
