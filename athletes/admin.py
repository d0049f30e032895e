from django.contrib import admin

from athletes.models import Assessment, AthleteProfile, CheckIn, Enrolment
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
