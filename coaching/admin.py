"""Django admin for platform staff, tenant-aware.

Staff pick a tenant explicitly (/admin/tenant/); the choice lives in their session and
`TenantMiddleware` enters it for /admin/ requests. Until they pick one, tenant-scoped
admin pages show nothing but a link to the picker: the scoped manager would otherwise
raise, and we never want a cross-tenant changelist.

When you add a tenant-scoped model to the admin, subclass `TenantScopedAdmin`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from coaching.models import Membership, Tenant
from coaching.tenancy import get_current_tenant

ADMIN_TENANT_SESSION_KEY = "admin_tenant_id"


class TenantScopedAdmin(admin.ModelAdmin):
    def _tenant_or_redirect(self, request: HttpRequest) -> HttpResponse | None:
        if get_current_tenant() is None:
            messages.info(
                request, "Pick a tenant first: tenant data is shown one tenant at a time."
            )
            return redirect("admin_tenant_select")
        return None

    def changelist_view(self, request, extra_context=None):
        return self._tenant_or_redirect(request) or super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._tenant_or_redirect(request) or super().changeform_view(
            request, object_id, form_url, extra_context
        )

    def delete_view(self, request, object_id, extra_context=None):
        return self._tenant_or_redirect(request) or super().delete_view(
            request, object_id, extra_context
        )

    def history_view(self, request, object_id, extra_context=None):
        return self._tenant_or_redirect(request) or super().history_view(
            request, object_id, extra_context
        )


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "status", "timezone", "currency", "created"]
    list_filter = ["status"]
    search_fields = ["slug", "name"]


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ["user", "role", "created"]
    list_filter = ["role"]
    raw_id_fields = ["user"]
