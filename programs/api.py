from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from athletes import selectors as athlete_selectors
from athletes.api import ClientAccessGate, ForAthleteMixin
from athletes.models import Assessment, AthleteProfile
from coaching.api_base import TenantPrimaryKeyRelatedField, TenantScopedViewSet
from coaching.models import MethodologyVersion
from programs import selectors, services
from programs.models import (
    Adjustment,
    AssessmentLift,
    AutoregulationRun,
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
        # Ordered, so pages never repeat or skip a row.
        return queryset.filter(assessment__in=visible).select_related("exercise").order_by("id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        visible = athlete_selectors.assessments_visible_to(self.membership)
        if not visible.filter(pk=data["assessment"].pk).exists():
            raise ValidationError({"assessment": ["No such object."]})
        # One lift per exercise and assessment (a unique constraint): say so, not a 500.
        if (
            self.get_queryset()
            .filter(assessment=data["assessment"], exercise=data["exercise"])
            .exists()
        ):
            raise ValidationError(
                {"exercise": ["This assessment already has a lift of this exercise."]}
            )
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


class AdjustmentSerializer(serializers.ModelSerializer):
    session_date = serializers.DateField(
        source="planned_session.date", read_only=True, allow_null=True
    )

    class Meta:
        model = Adjustment
        fields = [
            "id", "athlete", "subject", "planned_session", "session_date", "effective_date",
            "run", "rule", "changes",
            "before", "after", "proposed_after", "inputs", "clipped_by", "magnitude_percent",
            "alert_level", "sentence", "status", "source", "reverts", "decided_by",
            "decided_at", "applied_at", "created",
        ]  # fmt: skip
        read_only_fields = fields


class PlannedSessionSerializer(serializers.ModelSerializer):
    sets = PlannedSetSerializer(many=True, read_only=True)

    class Meta:
        model = PlannedSession
        fields = [
            "id", "block", "athlete", "date", "week", "is_deload", "kind", "name",
            "duration_min", "endurance_type", "zone", "target_low", "target_high",
            "target_unit", "planned_tss", "rest_day", "notes", "derivation", "sets",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (inclusive)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (inclusive)."),
            OpenApiParameter("athlete", OpenApiTypes.INT, description="Staff: one athlete."),
        ]
    )
)
class PlannedSessionViewSet(
    ClientAccessGate, TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
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

    @extend_schema(responses=AdjustmentSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, *args, **kwargs):
        """The session's adjustments in order (a client sees the applied ones)."""
        session = self.get_object()
        visible = selectors.adjustments_visible_to(self.membership)
        rows = visible.filter(pk__in=selectors.adjustment_history(session)).order_by(
            "created", "id"
        )
        return Response(AdjustmentSerializer(rows, many=True).data)


class BlockSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProgramBlock
        fields = [
            "id", "athlete", "methodology_version", "assessment", "previous", "start_date",
            "weeks", "status", "inputs", "derivation", "created",
        ]  # fmt: skip


class WeekAdherenceSerializer(serializers.Serializer):
    week = serializers.IntegerField()
    planned = serializers.IntegerField(help_text="Sessions planned that week.")
    completed = serializers.IntegerField(help_text="Planned sessions with a log.")
    adherence = serializers.FloatField(
        allow_null=True, help_text="completed / planned, 0–1; null when nothing was planned."
    )


class BlockGenerateSerializer(serializers.Serializer):
    athlete = TenantPrimaryKeyRelatedField(AthleteProfile)
    start_date = serializers.DateField()
    methodology_version = TenantPrimaryKeyRelatedField(MethodologyVersion, required=False)


class BlockViewSet(
    ClientAccessGate, TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """Program blocks. Staff generate one with POST /blocks/generate/; every block shows
    its adherence per week at /blocks/{id}/adherence/."""

    queryset = ProgramBlock.objects
    serializer_class = BlockSerializer

    def scope_queryset(self, queryset):
        return selectors.blocks_visible_to(self.membership)

    @extend_schema(request=BlockGenerateSerializer, responses={201: BlockSerializer})
    @action(detail=False, methods=["post"], serializer_class=BlockGenerateSerializer)
    def generate(self, request, *args, **kwargs):
        if self.membership.role not in STAFF:
            raise PermissionDenied("Only a coach plans blocks.")
        serializer = BlockGenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        block = services.block_generate(**serializer.validated_data)
        return Response(BlockSerializer(block).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=WeekAdherenceSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
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
    ClientAccessGate,
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


class AdjustmentEditSerializer(serializers.Serializer):
    after = serializers.JSONField()


class BulkApproveSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=500)


class BulkApproveResultSerializer(serializers.Serializer):
    results = serializers.DictField(
        child=serializers.CharField(),
        help_text='Adjustment id → "applied", "not found", or why it was not applied.',
    )


class AutoregulateSerializer(serializers.Serializer):
    athlete = TenantPrimaryKeyRelatedField(AthleteProfile)
    date = serializers.DateField()


class AutoregulationRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AutoregulationRun
        fields = [
            "id", "athlete", "date", "methodology_version", "autonomy", "readiness_score",
            "readiness", "hrv", "metrics", "notes", "proposed", "applied", "queued",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=Adjustment.Status.values),
            OpenApiParameter("subject", OpenApiTypes.STR, enum=Adjustment.Subject.values),
            OpenApiParameter("athlete", OpenApiTypes.INT),
            OpenApiParameter("planned_session", OpenApiTypes.INT),
        ]
    )
)
class AdjustmentViewSet(
    ClientAccessGate, TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """Changes to planned sessions. Staff: the review queue (`?status=pending`), approve,
    reject, edit (then approve), bulk approve, revert, and a manual night's run. Clients
    see the changes applied to their own plan, each with its sentence. Filter with
    `?status=`, `?athlete=<id>`, `?planned_session=<id>`."""

    queryset = Adjustment.objects
    serializer_class = AdjustmentSerializer

    def scope_queryset(self, queryset):
        qs = selectors.adjustments_visible_to(self.membership)
        params = self.request.query_params
        if params.get("status"):
            if params["status"] not in Adjustment.Status.values:
                raise ValidationError(
                    {"status": [f"Use one of: {', '.join(Adjustment.Status.values)}."]}
                )
            qs = qs.filter(status=params["status"])
        if params.get("subject"):
            if params["subject"] not in Adjustment.Subject.values:
                raise ValidationError(
                    {"subject": [f"Use one of: {', '.join(Adjustment.Subject.values)}."]}
                )
            qs = qs.filter(subject=params["subject"])
        for name in ("athlete", "planned_session"):
            if params.get(name, "").isdigit():
                qs = qs.filter(**{f"{name}_id": int(params[name])})
        return qs

    def _staff(self) -> None:
        if self.membership.role not in STAFF:
            raise PermissionDenied("Only a coach decides on adjustments.")

    def _decide(self, service, **kwargs):
        adjustment = self.get_object()  # what you can't see is a 404, before any 403
        self._staff()
        adjustment = service(adjustment=adjustment, by=self.membership, **kwargs)
        return Response(AdjustmentSerializer(adjustment).data)

    @extend_schema(request=None, responses=AdjustmentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        return self._decide(services.adjustment_approve)

    @extend_schema(request=None, responses=AdjustmentSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        return self._decide(services.adjustment_reject)

    @extend_schema(request=AdjustmentEditSerializer, responses=AdjustmentSerializer)
    @action(detail=True, methods=["post"], serializer_class=AdjustmentEditSerializer)
    def edit(self, request, *args, **kwargs):
        serializer = AdjustmentEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._decide(
            services.adjustment_edit_approve, after=serializer.validated_data["after"]
        )

    @extend_schema(request=None, responses={201: AdjustmentSerializer})
    @action(detail=True, methods=["post"])
    def revert(self, request, *args, **kwargs):
        adjustment = self.get_object()
        self._staff()
        revert = services.adjustment_revert(adjustment=adjustment, by=self.membership)
        return Response(AdjustmentSerializer(revert).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BulkApproveSerializer, responses=BulkApproveResultSerializer)
    @action(
        detail=False,
        methods=["post"],
        url_path="bulk-approve",
        serializer_class=BulkApproveSerializer,
    )
    def bulk_approve(self, request, *args, **kwargs):
        self._staff()
        serializer = BulkApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = serializer.validated_data["ids"]
        found = list(self.get_queryset().filter(pk__in=ids))
        results = {str(pk): "not found" for pk in ids}
        results.update(
            {
                str(pk): outcome
                for pk, outcome in services.adjustments_bulk_approve(
                    adjustments=found, by=self.membership
                ).items()
            }
        )
        return Response({"results": results})

    @extend_schema(request=AutoregulateSerializer, responses=AutoregulationRunSerializer)
    @action(detail=False, methods=["post"], serializer_class=AutoregulateSerializer)
    def run(self, request, *args, **kwargs):
        """Run (or re-read) one athlete's night: idempotent per (athlete, date)."""
        self._staff()
        serializer = AutoregulateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.autoregulate(**serializer.validated_data)
        return Response(AutoregulationRunSerializer(run).data)


router = DefaultRouter()
router.register("exercises", ExerciseViewSet, basename="exercise")
router.register("assessment-lifts", AssessmentLiftViewSet, basename="assessment-lift")
router.register("blocks", BlockViewSet, basename="block")
router.register("planned-sessions", PlannedSessionViewSet, basename="planned-session")
router.register("session-logs", SessionLogViewSet, basename="session-log")
router.register("adjustments", AdjustmentViewSet, basename="adjustment")

urlpatterns = [path("", include(router.urls))]
