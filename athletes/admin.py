from django.contrib import admin

from athletes.models import (
    Assessment,
    AthleteProfile,
    CheckIn,
    ConsentEvent,
    ConsentPolicy,
    Enrolment,
)
from coaching.admin import TenantScopedAdmin


@admin.register(AthleteProfile)
class AthleteProfileAdmin(TenantScopedAdmin):
    list_display = ["display_name", "discipline", "goal", "session_minutes", "created"]
    list_filter = ["discipline", "goal"]
    raw_id_fields = ["user"]


@admin.register(CheckIn)
class CheckInAdmin(TenantScopedAdmin):
    list_display = ["athlete", "date"]
    date_hierarchy = "date"
    raw_id_fields = ["athlete"]


@admin.register(Assessment)
class AssessmentAdmin(TenantScopedAdmin):
    list_display = ["athlete", "date", "ftp_w", "hr_max_bpm"]
    date_hierarchy = "date"
    raw_id_fields = ["athlete"]


@admin.register(Enrolment)
class EnrolmentAdmin(TenantScopedAdmin):
    list_display = ["athlete", "tier", "methodology_version", "started", "ended"]
    raw_id_fields = ["athlete"]


class ReadOnlyAdmin(TenantScopedAdmin):
    """Records that only their own services may write (ledgers, policies in force)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    """The consent ledger: who granted or withdrew which purpose, under which policy."""

    list_display = ["athlete", "purpose", "action", "policy", "at"]
    list_filter = ["purpose", "action"]
    raw_id_fields = ["athlete"]


@admin.register(ConsentPolicy)
class ConsentPolicyAdmin(ReadOnlyAdmin):
    list_display = ["purpose", "version", "created"]
    list_filter = ["purpose"]
