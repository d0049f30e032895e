from django.urls import include, path
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from athletes import selectors as athlete_selectors
from athletes.api import ForAthleteMixin
from athletes.models import Assessment, AthleteProfile
from coaching.api_base import TenantPrimaryKeyRelatedField, TenantScopedViewSet
from coaching.models import MethodologyVersion
from programs import selectors, services
from programs.models import (
    AssessmentLift,
    Exercise,
    PlannedSession,
    PlannedSet,
    ProgramBlock,
    SessionLog,
    SetLog,
)

STAFF = ("owner", "coach", "admin")


class ExerciseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Exercise
        fields = [
            "id", "slug", "name", "pattern", "equipment", "primary_muscles",
            "substitution_group", "unilateral", "fatigue", "loadable", "per_hand", "dose_unit",
        ]  # fmt: skip


class ExerciseViewSet(TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The tenant's exercise library."""

    queryset = Exercise.objects
    serializer_class = ExerciseSerializer


class AssessmentLiftSerializer(serializers.ModelSerializer):
    assessment = TenantPrimaryKeyRelatedField(Assessment)
    exercise = TenantPrimaryKeyRelatedField(Exercise)

    class Meta:
        model = AssessmentLift
        fields = ["id", "assessment", "exercise", "weight_kg", "reps", "rpe", "tested", "e1rm_kg"]
        read_only_fields = ["id", "e1rm_kg"]
        validators = []


class AssessmentLiftViewSet(
    TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Tested maxes and rep-max sets; the e1RM is computed (RTS chart)."""

    queryset = AssessmentLift.objects
    serializer_class = AssessmentLiftSerializer

    def scope_queryset(self, queryset):
        visible = athlete_selectors.assessments_visible_to(self.membership)
        return queryset.filter(assessment__in=visible).select_related("exercise")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        visible = athlete_selectors.assessments_visible_to(self.membership)
        if not visible.filter(pk=data["assessment"].pk).exists():
            raise ValidationError({"assessment": ["No such object."]})
        serializer.instance = services.assessment_lift_add(**data)


class PlannedSetSerializer(serializers.ModelSerializer):
    exercise = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    exercise_name = serializers.CharField(source="exercise.name", read_only=True)

    class Meta:
        model = PlannedSet
        fields = [
            "set_index", "exercise", "exercise_name", "reps", "target_rpe", "percent_1rm",
            "load_kg", "derivation",
        ]  # fmt: skip


class PlannedSessionSerializer(serializers.ModelSerializer):
    sets = PlannedSetSerializer(many=True, read_only=True)

    class Meta:
        model = PlannedSession
        fields = [
            "id", "block", "athlete", "date", "week", "is_deload", "kind", "name",
            "duration_min", "endurance_type", "zone", "target_low", "target_high",
            "target_unit", "planned_tss", "notes", "derivation", "sets",
        ]  # fmt: skip


class PlannedSessionViewSet(TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Planned sessions with their sets and the reasons behind every number.
    Filter with `?from=YYYY-MM-DD&to=YYYY-MM-DD` and `?athlete=<id>`."""

    queryset = PlannedSession.objects
    serializer_class = PlannedSessionSerializer

    def scope_queryset(self, queryset):
        qs = selectors.planned_sessions_visible_to(self.membership)
        params = self.request.query_params
        fields = serializers.DateField()
        try:
            if params.get("from"):
                qs = qs.filter(date__gte=fields.to_internal_value(params["from"]))
            if params.get("to"):
                qs = qs.filter(date__lte=fields.to_internal_value(params["to"]))
        except serializers.ValidationError as exc:
            raise ValidationError({"from/to": exc.detail}) from exc
        if params.get("athlete", "").isdigit():
            qs = qs.filter(athlete_id=int(params["athlete"]))
        return qs


class BlockSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProgramBlock
        fields = [
            "id", "athlete", "methodology_version", "assessment", "previous", "start_date",
            "weeks", "status", "inputs", "derivation", "created",
        ]  # fmt: skip


class BlockGenerateSerializer(serializers.Serializer):
    athlete = TenantPrimaryKeyRelatedField(AthleteProfile)
    start_date = serializers.DateField()
    methodology_version = TenantPrimaryKeyRelatedField(MethodologyVersion, required=False)


class BlockViewSet(TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Program blocks. Staff generate one with POST /blocks/generate/; every block shows
    its adherence per week at /blocks/{id}/adherence/."""

    queryset = ProgramBlock.objects
    serializer_class = BlockSerializer

    def scope_queryset(self, queryset):
        return selectors.blocks_visible_to(self.membership)

    @action(detail=False, methods=["post"], serializer_class=BlockGenerateSerializer)
    def generate(self, request, *args, **kwargs):
        if self.membership.role not in STAFF:
            raise PermissionDenied("Only a coach plans blocks.")
        serializer = BlockGenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        block = services.block_generate(**serializer.validated_data)
        return Response(BlockSerializer(block).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def adherence(self, request, *args, **kwargs):
        block = self.get_object()
        return Response(services.adherence_by_week(block.athlete, block))


class SetLogSerializer(serializers.ModelSerializer):
    exercise = TenantPrimaryKeyRelatedField(Exercise)

    class Meta:
        model = SetLog
        fields = ["set_index", "exercise", "weight_kg", "reps", "rpe", "mean_velocity_m_s"]
        read_only_fields = ["set_index"]
        validators = []


class SessionLogSerializer(serializers.ModelSerializer):
    athlete = TenantPrimaryKeyRelatedField(AthleteProfile, required=False)
    planned_session = TenantPrimaryKeyRelatedField(PlannedSession, required=False, allow_null=True)
    sets = SetLogSerializer(many=True, required=False)

    class Meta:
        model = SessionLog
        fields = [
            "id", "athlete", "planned_session", "date", "kind", "duration_s", "session_rpe",
            "distance_m", "avg_hr_bpm", "max_hr_bpm", "avg_power_w", "normalized_power_w",
            "srpe_load", "tss", "trimp", "notes", "sets", "created",
        ]  # fmt: skip
        read_only_fields = ["id", "srpe_load", "tss", "trimp", "created"]


class SessionLogViewSet(
    TenantScopedViewSet,
    ForAthleteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    """Logged sessions (strength sets; runs and rides). Loads (sRPE, TSS, TRIMP) are
    computed by the engine from what is logged and the latest assessment."""

    queryset = SessionLog.objects
    serializer_class = SessionLogSerializer

    def scope_queryset(self, queryset):
        return selectors.session_logs_visible_to(self.membership)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        athlete = self.athlete_for_write(data.pop("athlete", None))
        serializer.instance = services.session_log_create(athlete=athlete, **data)


router = DefaultRouter()
router.register("exercises", ExerciseViewSet, basename="exercise")
router.register("assessment-lifts", AssessmentLiftViewSet, basename="assessment-lift")
router.register("blocks", BlockViewSet, basename="block")
router.register("planned-sessions", PlannedSessionViewSet, basename="planned-session")
router.register("session-logs", SessionLogViewSet, basename="session-log")

urlpatterns = [path("", include(router.urls))]
