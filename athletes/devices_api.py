"""Wearable readings and file imports over the API (issue 11).

`POST /device-samples/` takes a batch of up to 10,000 readings from a companion app (all
or nothing, idempotent by key); `GET /device-samples/` lists the stored ones by local day
range and metric. `POST /imports/` (multipart: kind, file) queues a file import and
answers 202; `GET /imports/{id}/` follows its progress and outcome."""

from __future__ import annotations

import datetime

from django.http import Http404
from django.urls import include, path
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from athletes import consent, devices, imports, selectors
from athletes.api import ClientAccessGate
from athletes.models import AthleteProfile, DeviceSample, ImportJob
from coaching.api_base import TenantScopedViewSet


class DeviceSampleSerializer(serializers.ModelSerializer):
    # Empty for every metric but sleep.
    stage = serializers.ChoiceField(
        choices=DeviceSample.SleepStage.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = DeviceSample
        fields = ["id", "source", "metric", "timestamp", "end", "value", "stage", "day"]
        read_only_fields = fields


class SampleInSerializer(serializers.Serializer):
    """The shape of one reading (documentation: the service validates each item so that
    one request reports every bad item by index)."""

    source = serializers.CharField(max_length=40, help_text="e.g. garmin, apple_health")
    metric = serializers.ChoiceField(choices=DeviceSample.Metric.choices)
    timestamp = serializers.DateTimeField(help_text="ISO 8601 with offset")
    end = serializers.DateTimeField(required=False, help_text="interval end (sleep)")
    value = serializers.DecimalField(max_digits=9, decimal_places=2, required=False)
    stage = serializers.ChoiceField(choices=DeviceSample.SleepStage.choices, required=False)


class BatchInSerializer(serializers.Serializer):
    samples = SampleInSerializer(many=True)


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    days = serializers.ListField(child=serializers.DateField())


def _date(raw: str | None, name: str) -> datetime.date | None:
    if raw in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: ["Expected a date, YYYY-MM-DD."]}) from None


class DeviceSampleViewSet(ClientAccessGate, TenantScopedViewSet):
    queryset = DeviceSample.objects
    serializer_class = DeviceSampleSerializer

    def _athlete(self, request) -> AthleteProfile:
        if not selectors.is_staff(self.membership):
            athlete = selectors.athlete_profile_of(self.membership)
        else:
            raw = request.query_params.get("athlete", "")
            if not raw.isdigit():
                raise ValidationError({"athlete": ["Name the athlete: ?athlete=<id>."]})
            # Health data: staff see it only where the client granted coach access.
            athlete = (
                selectors.profiles_visible_to(self.membership)
                .filter(pk=int(raw))
                .filter(pk__in=consent.athletes_consenting(consent.COACH_ACCESS).values("pk"))
                .first()
            )
        if athlete is None:
            raise Http404
        return athlete

    @extend_schema(
        parameters=[
            OpenApiParameter("athlete", int, description="staff: whose readings"),
            OpenApiParameter("from", datetime.date, description="first local day"),
            OpenApiParameter("to", datetime.date, description="last local day"),
            OpenApiParameter("metric", str, enum=DeviceSample.Metric.values),
        ]
    )
    def list(self, request, *args, **kwargs):
        metric = request.query_params.get("metric") or None
        if metric is not None and metric not in DeviceSample.Metric.values:
            raise ValidationError({"metric": [f"Expected one of {DeviceSample.Metric.values}."]})
        rows = devices.samples_of(
            self._athlete(request),
            since=_date(request.query_params.get("from"), "from"),
            until=_date(request.query_params.get("to"), "to"),
            metric=metric,
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=BatchInSerializer,
        responses={
            201: OpenApiResponse(IngestResultSerializer, description="Something was stored."),
            200: OpenApiResponse(IngestResultSerializer, description="All already stored."),
        },
    )
    def create(self, request, *args, **kwargs):
        if selectors.is_staff(self.membership):
            raise PermissionDenied("Readings come from the client's own devices.")
        athlete = selectors.athlete_profile_of(self.membership)
        if athlete is None:
            raise Http404
        body = request.data if isinstance(request.data, dict) else {}
        if "samples" not in body:
            raise ValidationError({"samples": ["Send the readings as a list under 'samples'."]})
        result = devices.device_samples_ingest(athlete=athlete, items=body["samples"])
        return Response(
            IngestResultSerializer(result).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "athlete", "kind", "filename", "size_bytes", "status", "progress", "records",
            "counts", "error", "created", "started", "finished",
        ]  # fmt: skip
        read_only_fields = fields

    def get_progress(self, job: ImportJob) -> int:
        """Records read so far (live while the import runs)."""
        return imports.progress_of(job)


@extend_schema_field({"type": "string", "format": "binary"})
class UploadField(serializers.FileField):
    """A file part of the multipart body (the schema's `binary`, not a URL)."""


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[])
    file = UploadField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(i.kind, i.label) for i in imports.importers()]


class ImportJobViewSet(
    ClientAccessGate, TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    queryset = ImportJob.objects
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]

    def scope_queryset(self, queryset):
        return selectors.imports_visible_to(self.membership)

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportJobSerializer})
    def create(self, request, *args, **kwargs):
        athlete = selectors.athlete_profile_of(self.membership)
        if athlete is None:
            raise PermissionDenied("Imports are the client's own files.")
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        job = imports.import_create(
            athlete=athlete,
            kind=upload.validated_data["kind"],
            upload=upload.validated_data["file"],
        )
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.register("device-samples", DeviceSampleViewSet, basename="device-sample")
router.register("imports", ImportJobViewSet, basename="import")
urlpatterns = [path("", include(router.urls))]
