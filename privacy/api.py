"""Data requests over HTTP (`/api/v1/data-requests/`).

- `GET` — the member's own requests (owners/admins: the tenant's), each with a
  `download_url` for 24 h after an export is built;
- `POST` `{"kind": "export"|"erasure"[, "athlete": id]}` — a client for themselves, an
  owner/admin for any client of the tenant; an erasure is scheduled after the grace period;
- `POST {id}/cancel/` — cancel a scheduled erasure.
Another tenant's request is the same 404 as a missing one.
"""

from __future__ import annotations

from django.urls import include, path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from coaching.api_base import TenantScopedViewSet
from privacy import selectors, services
from privacy.models import DataRequest


class DataRequestSerializer(serializers.ModelSerializer):
    # A person's requests only: the tenant export is offboarding's (privacy.offboarding).
    kind = serializers.ChoiceField(
        choices=[(DataRequest.Kind.EXPORT, "Export"), (DataRequest.Kind.ERASURE, "Erasure")]
    )
    athlete = serializers.IntegerField(source="athlete_id", required=False, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DataRequest
        fields = [
            "id", "athlete", "kind", "status", "requested_at", "due_at", "finished_at",
            "download_url",
        ]  # fmt: skip
        read_only_fields = ["status", "requested_at", "due_at", "finished_at"]

    def get_download_url(self, row: DataRequest) -> str | None:
        if (
            row.kind != DataRequest.Kind.EXPORT
            or row.status != DataRequest.Status.READY
            or services.export_expired(row)
        ):
            return None
        return reverse("privacy_download", args=[services.download_token(row)])


class DataRequestViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
):
    queryset = DataRequest.objects
    serializer_class = DataRequestSerializer

    def scope_queryset(self, queryset):
        return selectors.requests_visible_to(self.membership)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        athlete = selectors.athlete_for(self.membership, data.get("athlete_id"))
        if athlete is None:
            raise NotFound()
        if data["kind"] == DataRequest.Kind.EXPORT:
            row = services.export_request(athlete=athlete, requested_by=request.user.pk)
        else:
            row = services.erasure_request(athlete=athlete, requested_by=request.user.pk)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=DataRequestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        row = services.erasure_cancel(request=self.get_object(), by=request.user.pk)
        return Response(self.get_serializer(row).data)


router = DefaultRouter()
router.register("data-requests", DataRequestViewSet, basename="data-request")

urlpatterns = [path("", include(router.urls))]
