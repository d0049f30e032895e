from django.contrib import admin

from athletes.admin import ReadOnlyAdmin
from coaching.admin import TenantScopedAdmin
from privacy.models import DataRequest, RetentionPolicy


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    """Exports and erasures, for staff to follow; acting on them goes through the
    privacy pages and services, which check the grace period and record the audit."""

    list_display = ["athlete", "kind", "status", "requested_at", "due_at", "finished_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["athlete"]


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(TenantScopedAdmin):
    """How long an inactive client's data is kept before `apply_retention` erases it."""

    list_display = ["inactive_months", "enabled", "updated"]
