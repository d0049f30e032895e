from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html

from athletes.admin import ReadOnlyAdmin
from coaching.admin import TenantScopedAdmin, register_tenant_action
from coaching.errors import DomainError
from privacy import offboarding
from privacy.models import DataRequest, RetentionPolicy


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    """Exports and erasures, for staff to follow; acting on them goes through the
    privacy pages and services, which check the grace period and record the audit."""

    list_display = [
        "athlete", "kind", "status", "requested_at", "due_at", "finished_at", "staff_download",
    ]  # fmt: skip
    list_filter = ["kind", "status"]
    raw_id_fields = ["athlete"]

    @admin.display(description="Download")
    def staff_download(self, row: DataRequest) -> str:
        """An offboarded tenant's export: a fresh 24-hour link for staff (the download
        view checks staff and two-factor again, and audits the fetch)."""
        if row.kind != DataRequest.Kind.TENANT or row.status != DataRequest.Status.READY:
            return ""
        return format_html('<a href="{}">tenant export</a>', offboarding.tenant_export_url(row))


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(TenantScopedAdmin):
    """How long an inactive client's data is kept before `apply_retention` erases it."""

    list_display = ["inactive_months", "enabled", "updated"]


@admin.action(description="Offboard (stop billing, export everything, delete after retention)")
def offboard(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset) -> None:
    for tenant in queryset:
        try:
            offboarding.tenant_offboard(
                tenant=tenant, by_user_id=request.user.pk, reason="Offboarded by platform staff."
            )
        except DomainError as exc:
            modeladmin.message_user(request, f"{tenant.slug}: {exc.message}", messages.ERROR)
        else:
            modeladmin.message_user(
                request,
                f"{tenant.slug} offboarded: its export is being built (Data requests), and its"
                f" data is deleted after {tenant.delete_after:%Y-%m-%d}.",
            )


register_tenant_action(offboard)
