from django.contrib import admin

from coaching.admin import TenantScopedAdmin
from programs.models import Exercise, SessionLog, SetLog


@admin.register(Exercise)
class ExerciseAdmin(TenantScopedAdmin):
    list_display = ["name", "category", "substitution_group"]


@admin.register(SessionLog)
class SessionLogAdmin(TenantScopedAdmin):
    list_display = ["athlete", "date", "kind", "duration_s"]
    list_filter = ["kind"]
    raw_id_fields = ["athlete"]


@admin.register(SetLog)
class SetLogAdmin(TenantScopedAdmin):
    list_display = ["session", "exercise", "set_index", "weight_kg", "reps", "rpe"]
    raw_id_fields = ["session", "exercise"]
