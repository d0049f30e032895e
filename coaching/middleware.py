"""Request → tenant. The first of the three tenancy layers (see DESIGN.md, Tenancy).

Resolution order: `/t/<slug>/` path prefix (local/dev/tests, when enabled), the
`X-Tenant` header (API clients), then the subdomain of TENANT_BASE_DOMAIN. The prefix is
stripped from the path, so URL patterns stay tenant-agnostic; for members it becomes the
script prefix, so `reverse()` keeps producing links inside the tenant.

Unknown or offboarded tenant: 404. Suspended tenant: readable, writes get a read-only
notice. Members with a staff role must have TOTP before any page of the tenant.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, set_script_prefix

from coaching import selectors
from coaching.access import needs_mfa, user_has_mfa
from coaching.models import Tenant
from coaching.tenancy import tenant_context

_PREFIX = re.compile(r"^/t/(?P<slug>[a-z0-9-]{1,63})(?=/)")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Paths a staff member without MFA may still reach inside a tenant: setting MFA up.
_MFA_EXEMPT = ("/accounts/", "/api/")


SuspendedWriteCheck = Callable[[HttpRequest], bool]
_suspended_write_checks: list[SuspendedWriteCheck] = []


def allow_while_suspended(check: SuspendedWriteCheck) -> None:
    """Let apps name the few writes a suspended tenant still needs (paying the platform
    plan that lifts the suspension); everything else stays read-only."""
    if check not in _suspended_write_checks:
        _suspended_write_checks.append(check)


def _slug_from_host(host: str) -> str | None:
    base = settings.TENANT_BASE_DOMAIN.lower()
    host = host.split(":", 1)[0].lower()
    if host.endswith("." + base):
        sub = host[: -len(base) - 1]
        if sub and "." not in sub and sub != "www":
            return sub
    return None


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug = None
        match = _PREFIX.match(request.path_info) if settings.TENANT_PATH_PREFIX_ENABLED else None
        if match:
            slug = match["slug"]
            request.path_info = request.path_info[match.end() :]
        slug = slug or request.headers.get("X-Tenant") or _slug_from_host(request.get_host())

        request.tenant = None
        request.membership = None
        if not slug:
            if self._staff_without_mfa(request):
                return redirect("mfa_activate_totp")
            admin_tenant = self._admin_tenant(request)
            if admin_tenant is None:
                return self.get_response(request)
            with tenant_context(admin_tenant):
                request.tenant = admin_tenant
                return self.get_response(request)

        tenant = selectors.tenant_by_slug(slug)
        if tenant is None or tenant.status == Tenant.Status.OFFBOARDED:
            if request.path_info.startswith("/api/"):  # the API's one error body
                from coaching.api_conf import not_found_response

                return not_found_response()
            raise Http404("No such coaching business.")

        with tenant_context(tenant):
            request.tenant = tenant
            request.membership = selectors.membership_for(request.user, tenant)
            # Links stay inside the tenant for its members only: a non-member's pages
            # (their 404 above all) must not differ from an unknown tenant's.
            old_prefix = get_script_prefix()
            if match and request.membership is not None:
                set_script_prefix(request.META.get("SCRIPT_NAME", "") + match.group(0) + "/")
            try:
                return self._within_tenant(request, tenant)
            finally:
                set_script_prefix(old_prefix)

    def _staff_without_mfa(self, request: HttpRequest) -> bool:
        """Platform staff reach every tenant through the admin: TOTP first, like coaches."""
        return (
            request.path_info.startswith("/admin/")
            and request.user.is_staff
            and not user_has_mfa(request.user)
        )

    def _admin_tenant(self, request: HttpRequest) -> Tenant | None:
        """The tenant a staff member picked for the admin (never inferred)."""
        if not request.path_info.startswith("/admin/") or not request.user.is_staff:
            return None
        from coaching.admin import ADMIN_TENANT_SESSION_KEY

        tenant_id = request.session.get(ADMIN_TENANT_SESSION_KEY)
        return selectors.tenant_by_id(tenant_id) if tenant_id else None

    def _within_tenant(self, request: HttpRequest, tenant: Tenant) -> HttpResponse:
        is_api = request.path_info.startswith("/api/")
        if (
            not tenant.is_writable
            and request.method not in SAFE_METHODS
            and not is_api
            and not any(check(request) for check in _suspended_write_checks)
        ):
            return render(request, "coaching/tenant_read_only.html", {"tenant": tenant}, status=403)
        membership = request.membership
        if (
            membership is not None
            and not request.path_info.startswith(_MFA_EXEMPT)
            and needs_mfa(membership)
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)
