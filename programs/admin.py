from django.contrib import admin

from coaching.admin import TenantScopedAdmin
from programs.models import (
    AssessmentLift,
    Exercise,
    PlannedSession,
    PlannedSet,
    ProgramBlock,
    SessionLog,
    SetLog,
)


@admin.register(Exercise)
class ExerciseAdmin(TenantScopedAdmin):
    list_display = ["name", "slug", "pattern", "substitution_group", "fatigue"]
    list_filter = ["pattern"]
    search_fields = ["name", "slug"]


@admin.register(SessionLog)
class SessionLogAdmin(TenantScopedAdmin):
    list_display = ["athlete", "date", "kind", "duration_s"]
    list_filter = ["kind"]
    raw_id_fields = ["athlete"]


@admin.register(SetLog)
class SetLogAdmin(TenantScopedAdmin):
    list_display = ["session", "exercise", "set_index", "weight_kg", "reps", "rpe"]
    raw_id_fields = ["session", "exercise"]


@admin.register(AssessmentLift)
class AssessmentLiftAdmin(TenantScopedAdmin):
    list_display = ["assessment", "exercise", "weight_kg", "reps", "rpe", "e1rm_kg"]
    raw_id_fields = ["assessment", "exercise"]


@admin.register(ProgramBlock)
class ProgramBlockAdmin(TenantScopedAdmin):
    list_display = ["athlete", "start_date", "weeks", "status", "methodology_version"]
    list_filter = ["status"]
    raw_id_fields = ["athlete", "assessment", "previous", "methodology_version"]


@admin.register(PlannedSession)
class PlannedSessionAdmin(TenantScopedAdmin):
    list_display = ["athlete", "date", "week", "kind", "name", "duration_min", "is_deload"]
    list_filter = ["kind", "is_deload"]
    raw_id_fields = ["block", "athlete"]


@admin.register(PlannedSet)
class PlannedSetAdmin(TenantScopedAdmin):
    list_display = ["session", "exercise", "set_index", "reps", "target_rpe", "load_kg"]
    raw_id_fields = ["session", "exercise"]
