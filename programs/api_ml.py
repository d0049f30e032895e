"""Per-athlete models over the API (SCIENCE.md §6):

- `GET model-audit/` — staff only: the tenant's prediction error by sex, age band and
  training age, with counts; small groups are flagged, never hidden.
- `GET athlete-models/{athlete_id}/predictions/` — the athlete's stored predictions
  (newest first) and MAE per subject. Staff see any athlete of the tenant, a client only
  their own; anyone else's is the same 404 as a missing one.
"""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from athletes import selectors as athlete_selectors
from athletes.models import AthleteProfile
from coaching.api_base import TenantScopedViewSet
from coaching.tenancy import get_current_tenant
from programs import selectors
from programs.models import Prediction
from programs.services import learning

STAFF = ("owner", "coach", "admin")
MAX_PREDICTIONS = 200


class GroupStatSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    group = serializers.CharField()
    count = serializers.IntegerField()
    mae = serializers.FloatField(allow_null=True)
    small = serializers.BooleanField()


@extend_schema_serializer(many=False)  # the `list` route answers one report, not a page
class AuditReportSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    overall_mae = serializers.FloatField(allow_null=True)
    min_group = serializers.IntegerField()
    groups = GroupStatSerializer(many=True)
    small_groups = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()


class PredictionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prediction
        fields = [
            "id", "kind", "subject", "made_on", "for_date", "predicted", "actual",
            "abs_error", "scored_on", "method", "reason",
        ]  # fmt: skip


class SubjectMaeSerializer(serializers.Serializer):
    subject = serializers.CharField()
    mae = serializers.FloatField()
    count = serializers.IntegerField()


class AthletePredictionsSerializer(serializers.Serializer):
    athlete = serializers.IntegerField()
    mae = SubjectMaeSerializer(many=True)
    predictions = PredictionSerializer(many=True)


class ModelAuditViewSet(TenantScopedViewSet):
    """The tenant's bias audit (staff only; anyone else gets 404)."""

    allowed_roles = STAFF
    queryset = Prediction.objects
    serializer_class = AuditReportSerializer

    @extend_schema(responses=AuditReportSerializer)
    def list(self, request: Request) -> Response:
        report = learning.model_audit(get_current_tenant())
        return Response(AuditReportSerializer(report).data)


class AthleteModelsViewSet(TenantScopedViewSet):
    """Read-only predictions of one athlete (the id is the athlete profile's)."""

    queryset = AthleteProfile.objects
    serializer_class = AthletePredictionsSerializer

    def scope_queryset(self, queryset):
        return athlete_selectors.profiles_visible_to(self.membership)

    @extend_schema(responses=AthletePredictionsSerializer)
    @action(detail=True, methods=["get"])
    def predictions(self, request: Request, pk: str | None = None) -> Response:
        athlete = self.get_object()
        rows = selectors.predictions_of(athlete)
        body = {
            "athlete": athlete.pk,
            "mae": [
                {"subject": s, "mae": m, "count": n}
                for s, (m, n) in learning.prediction_mae(athlete).items()
            ],
            "predictions": list(rows[:MAX_PREDICTIONS]),
        }
        return Response(AthletePredictionsSerializer(body).data)


router = SimpleRouter()
router.register("model-audit", ModelAuditViewSet, basename="model-audit")
router.register("athlete-models", AthleteModelsViewSet, basename="athlete-models")

urlpatterns = [path("", include(router.urls))]
