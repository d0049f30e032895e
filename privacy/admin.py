from django.contrib import admin

from athletes.admin import ReadOnlyAdmin
from privacy.models import DataRequest


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    """Exports and erasures, for staff to follow; acting on them goes through the
    privacy pages and services, which check the grace period and record the audit."""

    list_display = ["athlete", "kind", "status", "requested_at", "due_at", "finished_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["athlete"]
