import datetime

from django.urls import include, path
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from athletes import selectors, services
from athletes.access import access_of
from athletes.models import Assessment, AthleteProfile, CheckIn, Enrolment
from coaching.api_base import TenantPrimaryKeyRelatedField, TenantScopedViewSet
from coaching.models import MethodologyVersion, Tier


class ClientAccessGate:
    """A client whose access is paused (no open entitlement where the business sells
    online: `athletes.access`) gets a 403 saying why; staff are not gated."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if selectors.is_staff(self.membership):
            return
        athlete = selectors.athlete_profile_of(self.membership)
        if athlete is not None:
            access = access_of(athlete)
            if not access.allowed:
                raise PermissionDenied(access.reason)


class ForAthleteMixin:
    """Writes about an athlete: a client writes for themselves; staff name the athlete
    (resolved within the tenant, so another tenant's id is the same error as a missing one)."""

    def athlete_for_write(self, requested: AthleteProfile | None) -> AthleteProfile:
        if selectors.is_staff(self.membership):
            if requested is None:
                raise ValidationError({"athlete": ["Name the athlete."]})
            return requested
        own = selectors.athlete_profile_of(self.membership)
        if own is None or (requested is not None and requested.pk != own.pk):
            raise ValidationError({"athlete": ["You can only write your own data."]})
        return own


class CheckInSerializer(serializers.ModelSerializer):
    athlete = TenantPrimaryKeyRelatedField(AthleteProfile, required=False)

    class Meta:
        model = CheckIn
        fields = [
            "id", "athlete", "date", "sleep_hours", "sleep_quality", "soreness", "stress",
            "mood", "hrv_rmssd_ms", "resting_hr_bpm", "body_weight_kg", "notes",
            "device_fields", "created", "updated",
        ]  # fmt: skip
        read_only_fields = ["id", "device_fields", "created", "updated"]
        # One per athlete and day is the service's upsert, not a validation error.
        validators = []


class CheckInViewSet(
    TenantScopedViewSet,
    ForAthleteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
):
    """Morning check-ins. POST is an upsert by date: 201 when new, 200 when it updated
    the day's existing check-in (only the fields sent)."""

    queryset = CheckIn.objects
    serializer_class = CheckInSerializer

    def scope_queryset(self, queryset):
        return selectors.checkins_visible_to(self.membership)

    @extend_schema(
        responses={
            201: OpenApiResponse(CheckInSerializer, description="A new check-in for the day."),
            200: OpenApiResponse(CheckInSerializer, description="The day's check-in, updated."),
        }
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        athlete = self.athlete_for_write(data.pop("athlete", None))
        checkin, created = services.checkin_upsert(athlete=athlete, date=data.pop("date"), **data)
        return Response(
            self.get_serializer(checkin).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# The ages the energy equations were fitted on (nutrition/engine/energy.py AGE_RANGE):
# outside them no targets can be computed, so such a birth date is refused up front.
MIN_AGE_YEARS = 13
MAX_AGE_YEARS = 99  # whole years: 99 and some months is still under 100


class ProfileSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)

    def validate_birth_date(self, value: datetime.date) -> datetime.date:
        today = timezone.localdate()
        age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
        if not MIN_AGE_YEARS <= age <= MAX_AGE_YEARS:
            raise ValidationError(f"Age must be {MIN_AGE_YEARS}–{MAX_AGE_YEARS} years.")
        return value

    class Meta:
        model = AthleteProfile
        fields = [
            "id", "email", "display_name", "discipline", "sex", "birth_date", "height_cm",
            "training_age_years", "goal", "available_weekdays", "session_minutes", "equipment",
            "injuries", "coach_notes", "created",
        ]  # fmt: skip
        read_only_fields = ["id", "email", "created"]


class ProfileViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
):
    """Athlete profiles. Staff see all of the tenant's; a client sees and edits their own
    (but not the coach's notes)."""

    queryset = AthleteProfile.objects
    serializer_class = ProfileSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def scope_queryset(self, queryset):
        return selectors.profiles_visible_to(self.membership)

    def perform_update(self, serializer):
        values = dict(serializer.validated_data)
        if "coach_notes" in values and not selectors.is_staff(self.membership):
            raise ValidationError({"coach_notes": ["Only your coach writes these notes."]})
        serializer.instance = services.profile_update(profile=serializer.instance, **values)


class AssessmentSerializer(serializers.ModelSerializer):
    athlete = TenantPrimaryKeyRelatedField(AthleteProfile, required=False)

    class Meta:
        model = Assessment
        fields = [
            "id", "athlete", "date", "body_weight_kg", "body_fat_percent", "ftp_w",
            "threshold_pace_s_per_km", "hr_max_bpm", "hr_rest_bpm", "notes", "created",
        ]  # fmt: skip
        read_only_fields = ["id", "created"]


class AssessmentViewSet(
    TenantScopedViewSet,
    ForAthleteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    queryset = Assessment.objects
    serializer_class = AssessmentSerializer

    def scope_queryset(self, queryset):
        return selectors.assessments_visible_to(self.membership)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        athlete = self.athlete_for_write(data.pop("athlete", None))
        serializer.instance = services.assessment_create(athlete=athlete, **data)


class EnrolmentSerializer(serializers.ModelSerializer):
    athlete = TenantPrimaryKeyRelatedField(AthleteProfile)
    tier = TenantPrimaryKeyRelatedField(Tier)
    methodology_version = TenantPrimaryKeyRelatedField(MethodologyVersion, required=False)
    started = serializers.DateField(required=False)

    class Meta:
        model = Enrolment
        fields = ["id", "athlete", "tier", "methodology_version", "started", "ended", "created"]
        read_only_fields = ["id", "ended", "created"]
        validators = []


class EnrolmentViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    """Which tier and methodology version a client is on. Coaches enrol (a new enrolment
    ends the open one); clients read their own."""

    queryset = Enrolment.objects
    serializer_class = EnrolmentSerializer

    def scope_queryset(self, queryset):
        return selectors.enrolments_visible_to(self.membership)

    def perform_create(self, serializer):
        if not selectors.is_staff(self.membership):
            raise PermissionDenied("Only a coach enrols clients.")
        serializer.instance = services.enrolment_create(**serializer.validated_data)


router = DefaultRouter()
router.register("checkins", CheckInViewSet, basename="checkin")
router.register("profiles", ProfileViewSet, basename="profile")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")

urlpatterns = [path("", include(router.urls))]
