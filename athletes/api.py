from django.urls import include, path
from rest_framework import mixins, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.routers import DefaultRouter

from athletes import selectors, services
from athletes.models import AthleteProfile, CheckIn
from coaching.api_base import TenantPrimaryKeyRelatedField, TenantScopedViewSet


class CheckInSerializer(serializers.ModelSerializer):
    athlete = TenantPrimaryKeyRelatedField(AthleteProfile, required=False)

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "athlete",
            "date",
            "sleep_hours",
            "soreness",
            "stress",
            "hrv_rmssd_ms",
            "resting_hr_bpm",
            "body_weight_kg",
            "created",
        ]
        read_only_fields = ["id", "created"]
        # Uniqueness is the service's to report (409 with a code), not the serializer's.
        validators = []


class CheckInViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    """Morning check-ins: sleep, soreness, stress, HRV, resting HR, body weight."""

    queryset = CheckIn.objects
    serializer_class = CheckInSerializer

    def scope_queryset(self, queryset):
        return selectors.checkins_visible_to(self.membership)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        own = selectors.athlete_profile_of(self.membership)
        athlete = data.pop("athlete", None)
        if self.membership.role == "client" or athlete is None:
            if own is None or (athlete is not None and athlete.pk != own.pk):
                raise ValidationError({"athlete": ["You can only check in for yourself."]})
            athlete = own
        serializer.instance = services.checkin_create(athlete=athlete, **data)


router = DefaultRouter()
router.register("checkins", CheckInViewSet, basename="checkin")

urlpatterns = [path("", include(router.urls))]
