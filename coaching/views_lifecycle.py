"""Pages of the tenant lifecycle: members and invitations, branding, accepting an
invitation, and self-serve sign-up of a new coaching business. Thin: forms check shape,
`coaching.lifecycle` decides."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import cache_control

from coaching import lifecycle, selectors
from coaching.errors import DomainError
from coaching.forms import (
    BrandingForm,
    InvitationForm,
    RoleForm,
    TenantSignupForm,
    add_domain_error,
)
from coaching.models import Invitation, Membership, Tenant
from coaching.routing import tenant_home_url

BRANDING_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _member_in(request: HttpRequest, roles: tuple[str, ...]) -> Membership:
    membership = request.membership
    if request.tenant is None or membership is None or membership.role not in roles:
        raise Http404("No such page.")
    return membership


@login_required
def members(request: HttpRequest) -> HttpResponse:
    """Who belongs to the business, open invitations, and the forms to change both."""
    me = _member_in(request, selectors.STAFF_ROLES)
    invite_form = InvitationForm(request.POST if request.POST.get("action") == "invite" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "invite" and invite_form.is_valid():
                invitation = lifecycle.invitation_create(
                    email=invite_form.cleaned_data["email"],
                    role=invite_form.cleaned_data["role"],
                    by=me,
                )
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("members")
            if action == "role":
                target = selectors.memberships_visible_to(me).filter(
                    pk=request.POST.get("membership", "0") or 0
                )
                form = RoleForm(request.POST)
                if not target or not form.is_valid():
                    messages.error(request, "Pick a member and one of owner, admin or coach.")
                    return redirect("members")
                changed = lifecycle.membership_role_change(
                    membership=target[0], role=form.cleaned_data["role"], by=me
                )
                messages.success(
                    request, f"{changed.user.email} is now {changed.get_role_display().lower()}."
                )
                return redirect("members")
            if action == "remove":
                target = selectors.memberships_visible_to(me).filter(
                    pk=request.POST.get("membership", "0") or 0
                )
                if not target:
                    raise Http404("No such member.")
                email = target[0].user.email
                lifecycle.membership_remove(membership=target[0], by=me)
                messages.success(request, f"{email} no longer belongs to {request.tenant.name}.")
                return redirect("members")
            if action == "revoke":
                invitation = Invitation.objects.filter(
                    pk=request.POST.get("invitation", "0") or 0
                ).first()
                if invitation is None:
                    raise Http404("No such invitation.")
                lifecycle.invitation_revoke(invitation=invitation, by=me)
                messages.success(request, f"Invitation to {invitation.email} withdrawn.")
                return redirect("members")
        except DomainError as exc:
            if action == "invite":
                add_domain_error(invite_form, exc)
            else:
                messages.error(request, exc.message)
                return redirect("members")
    open_invitations = list(selectors.open_invitations())
    return render(
        request,
        "coaching/members.html",
        {
            "me": me,
            "members": selectors.memberships_visible_to(me),
            "invitations": open_invitations,
            "invite_form": invite_form,
            "role_choices": RoleForm.base_fields["role"].choices,
            "staff_roles": lifecycle.STAFF_ROLES,
        },
        status=400 if invite_form.errors else 200,
    )


@login_required
def branding(request: HttpRequest) -> HttpResponse:
    me = _member_in(request, BRANDING_ROLES)
    tenant = request.tenant
    form = BrandingForm(
        request.POST or None,
        request.FILES or None,
        initial={"name": tenant.name, "brand_colour": tenant.brand_colour},
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("logo")
        try:
            # Read one byte past the limit: enough to refuse an oversize file by its size.
            logo = upload.read(lifecycle.LOGO_MAX_BYTES + 1) if upload else None
            lifecycle.branding_update(
                tenant=tenant,
                by=me,
                name=form.cleaned_data["name"],
                brand_colour=form.cleaned_data["brand_colour"],
                logo=logo,
                remove_logo=form.cleaned_data["remove_logo"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Branding saved.")
            return redirect("branding")
    return render(
        request,
        "coaching/branding.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@cache_control(public=True, max_age=3600)
def brand_logo(request: HttpRequest) -> HttpResponse:
    """The tenant's logo: public, like its name, so sign-up and invitation pages show it."""
    tenant = request.tenant
    if tenant is None or not tenant.logo_type:
        raise Http404("No logo.")
    response = HttpResponse(bytes(tenant.logo), content_type=tenant.logo_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Someone opens their invitation link: sign up or sign in, then accept."""
    tenant = request.tenant
    invite = lifecycle.invitation_by_token(token) if tenant is not None else None
    if invite is None:
        raise Http404("No such invitation.")
    error = ""
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?{urlencode({'next': request.path})}")
        try:
            membership = lifecycle.invitation_accept(invitation=invite, user=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"Welcome to {tenant.name}: you're a {membership.get_role_display().lower()}.",
            )
            return redirect(tenant_home_url(tenant))
    here = urlencode({"next": request.path})
    return render(
        request,
        "coaching/invitation.html",
        {
            "invitation": invite,
            "error": error,
            "signup_url": f"{reverse('account_signup')}?{here}",
            "login_url": f"{reverse('account_login')}?{here}",
        },
        status=409 if error else 200,
    )


@login_required
def tenant_signup(request: HttpRequest) -> HttpResponse:
    """Self-serve: a signed-in person starts a coaching business and owns it."""
    form = TenantSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            onboarded = lifecycle.tenant_create(
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
                timezone_name=form.cleaned_data["timezone"],
                currency=form.cleaned_data["currency"],
                owner_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"{onboarded.tenant.name} is ready. Next: invite your coaches and clients.",
            )
            return redirect(tenant_home_url(onboarded.tenant) + "members/")
    return render(
        request, "coaching/tenant_signup.html", {"form": form}, status=400 if form.errors else 200
    )


# --- the public page and self-serve clients (issue 10) ---------------------------------------


def _public_links(tenant: Tenant) -> dict[str, str]:
    """Links for a non-member: the script prefix is only set for members (see the
    middleware), so tenant URLs are built from the tenant's home, not `reverse()`."""
    home = tenant_home_url(tenant)
    welcome = home + "welcome/"
    return {
        "home_url": home,
        "logo_url": home + "brand/logo",
        "welcome_url": welcome,
        "signup_url": f"{reverse('account_signup')}?{urlencode({'next': welcome})}",
        "login_url": f"{reverse('account_login')}?{urlencode({'next': welcome})}",
    }


def landing(request: HttpRequest) -> HttpResponse:
    """`/t/<slug>/` for someone who isn't a member: the business's public page.

    Only a business that sells something (an active tier of a published methodology)
    has one: it is advertising itself. Any other business stays indistinguishable from
    an unknown address (anonymous visitors are sent to log in, as on every page, and
    signed-in strangers get the same 404). A suspended business shows a notice and no
    sign-up; an offboarded one is a 404 in the middleware already."""
    tenant = request.tenant
    if tenant is None:
        raise Http404("No such coaching business.")
    offer = selectors.public_offer_of_tenant()
    if offer is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404("No such coaching business.")
    return render(
        request,
        "coaching/landing.html",
        {
            "tenant": tenant,
            "offer": offer,
            "accepting": tenant.is_writable,
            "tiers": [
                (tier, AUTONOMY_WORDS.get(tier.autonomy, tier.get_autonomy_display()))
                for tier in offer.tiers
            ],
            **_public_links(tenant),
        },
    )


#: The tier's autonomy in the words of DESIGN.md's table, for people choosing one.
AUTONOMY_WORDS = {
    "auto": "Your plan adapts every night inside your coach's rules; changes apply at once.",
    "queue": "The engine proposes changes and your coach reviews the unusual ones,"
    " with a check-in from your coach.",
    "approve": "Your coach approves every change to your plan and programmes for you.",
}


@login_required
def welcome(request: HttpRequest) -> HttpResponse:
    """After sign-up and e-mail verification: the person confirms they join as a client,
    then onboarding starts (the tenant home sends them to its first step)."""
    tenant = request.tenant
    if tenant is None:
        raise Http404("No such coaching business.")
    if request.membership is not None:
        return redirect(tenant_home_url(tenant))
    if selectors.public_offer_of_tenant() is None:
        raise Http404("No such coaching business.")
    error = ""
    if request.method == "POST":
        try:
            lifecycle.client_join(user=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"Welcome to {tenant.name}. A few steps to your first plan.")
            return redirect(tenant_home_url(tenant))
    return render(
        request,
        "coaching/welcome.html",
        {
            "tenant": tenant,
            "error": error,
            "accepting": tenant.is_writable,
            **_public_links(tenant),
        },
        status=409 if error else 200,
    )
