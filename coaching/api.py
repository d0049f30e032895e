"""Methodologies, their versions, tiers, memberships (coach assignment) and alerts over
the API (mounted under /api/v1/).

Any member reads (a client sees published versions and active tiers only); owners and
coaches write. The write check runs after the object lookup, so an id from another
tenant is the same 404 as a missing one, and a visible object a member may not change
is a 403 `permission_denied`.
"""

from __future__ import annotations

from dataclasses import asdict

from django.urls import include, path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from coaching import nightly, selectors, services
from coaching.access import user_has_mfa
from coaching.api_base import TenantPrimaryKeyRelatedField, TenantScopedViewSet
from coaching.api_conf import TenantNotFound
from coaching.methodology import rules_diff
from coaching.models import (
    Alert,
    Membership,
    Methodology,
    MethodologyVersion,
    NightlyRun,
    NightlyStep,
    Tier,
)
from coaching.tenancy import get_current_tenant

WRITE_ROLES = (Membership.Role.OWNER, Membership.Role.COACH)
WRITE_REFUSED = "Only the business's owners and coaches can change methodologies and tiers."


class OwnersAndCoachesWrite(permissions.BasePermission):
    """Object-level: reading is for every member, writing for owners and coaches."""

    message = WRITE_REFUSED

    def has_permission(self, request: Request, view: object) -> bool:
        # The member is resolved after DRF's permission pass (TenantScopedViewSet.initial);
        # list-level writes call `require_writer`, object writes are checked below.
        return True

    def has_object_permission(self, request: Request, view: object, obj: object) -> bool:
        return request.method in permissions.SAFE_METHODS or request.membership.role in WRITE_ROLES


PERMISSIONS = [permissions.IsAuthenticated, OwnersAndCoachesWrite]


def require_writer(membership: Membership) -> None:
    """For writes with no object to look up first (creating at a list URL)."""
    if membership.role not in WRITE_ROLES:
        raise exceptions.PermissionDenied(WRITE_REFUSED)


class MethodologySerializer(serializers.ModelSerializer):
    class Meta:
        model = Methodology
        fields = ["id", "name", "slug", "description", "discipline", "created"]
        read_only_fields = ["id", "created"]
        # Uniqueness is the service's to report (409 with a code), not the serializer's.
        validators = []


class VersionSerializer(serializers.ModelSerializer):
    methodology = TenantPrimaryKeyRelatedField(Methodology, read_only=True)
    created_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    rules = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="The rules document (docs/methodology-rules.md). Omitted on create: "
        "a copy of the latest version's rules, or the discipline's defaults.",
    )

    class Meta:
        model = MethodologyVersion
        fields = [
            "id",
            "methodology",
            "number",
            "status",
            "rules",
            "notes",
            "created",
            "created_by",
            "published_at",
        ]
        read_only_fields = ["id", "number", "status", "created", "published_at"]
        validators = []


class RuleChangeSerializer(serializers.Serializer):
    path = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class VersionDiffSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version compared (after).")
    against = serializers.IntegerField(help_text="The version compared with (before).")
    changes = RuleChangeSerializer(many=True)


class TierSerializer(serializers.ModelSerializer):
    methodology = TenantPrimaryKeyRelatedField(Methodology)
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        help_text="ISO 4217; defaults to the business's currency.",
        error_messages={"invalid": "Use an ISO 4217 code such as EUR."},
    )
    features = serializers.ListField(
        child=serializers.CharField(max_length=120), max_length=20, required=False
    )

    class Meta:
        model = Tier
        fields = [
            "id",
            "methodology",
            "name",
            "slug",
            "price",
            "currency",
            "interval",
            "autonomy",
            "checkin_cadence_days",
            "features",
            "is_active",
            "sort_order",
        ]
        read_only_fields = ["id"]
        validators = []


class MethodologyViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    """A business's methodologies; their rules live in numbered versions."""

    queryset = Methodology.objects
    serializer_class = MethodologySerializer
    permission_classes = PERMISSIONS

    def scope_queryset(self, queryset):
        return selectors.methodologies()

    def create(self, request: Request, *args, **kwargs) -> Response:
        require_writer(self.membership)
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: MethodologySerializer) -> None:
        serializer.instance = services.methodology_create(**serializer.validated_data)

    @extend_schema(methods=["GET"], responses=VersionSerializer(many=True))
    @extend_schema(methods=["POST"], request=VersionSerializer, responses={201: VersionSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=VersionSerializer)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """GET: the methodology's versions, newest first. POST: the next draft."""
        methodology = self.get_object()
        if request.method == "POST":
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            version = services.version_draft_create(
                methodology=methodology,
                rules=serializer.validated_data.get("rules"),
                notes=serializer.validated_data.get("notes", ""),
                created_by=request.user,
            )
            return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)
        versions = selectors.versions_of(methodology, membership=self.membership)
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class VersionViewSet(
    TenantScopedViewSet,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
):
    """One rules document. Drafts are edited with PATCH; published ones never change."""

    queryset = MethodologyVersion.objects
    serializer_class = VersionSerializer
    permission_classes = PERMISSIONS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scope_queryset(self, queryset):
        return selectors.versions_visible_to(self.membership)

    def perform_update(self, serializer: VersionSerializer) -> None:
        serializer.instance = services.version_draft_update(
            version=serializer.instance,
            rules=serializer.validated_data.get("rules"),
            notes=serializer.validated_data.get("notes"),
        )

    @extend_schema(request=None, responses=VersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Freeze the draft: validated again, then it never changes."""
        version = services.version_publish(version=self.get_object())
        return Response(self.get_serializer(version).data)

    @extend_schema(
        parameters=[OpenApiParameter("against", int, required=True)],
        responses=VersionDiffSerializer,
    )
    @action(detail=True, methods=["get"], serializer_class=VersionDiffSerializer)
    def diff(self, request: Request, pk: str | None = None) -> Response:
        """Changed leaves from `?against=<version id>` (before) to this version (after)."""
        version = self.get_object()
        against_id = request.query_params.get("against", "")
        if not against_id.isdigit():
            raise exceptions.ValidationError(
                {"against": ["Give the id of the version to compare with."]}
            )
        against = self.get_queryset().filter(pk=int(against_id)).first()
        if against is None:
            raise TenantNotFound()
        changes = rules_diff(against.rules, version.rules)
        body = {"version": version.pk, "against": against.pk, "changes": map(asdict, changes)}
        return Response(VersionDiffSerializer(body).data)


class TierViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
):
    """What clients buy: a methodology at a price with an autonomy level."""

    queryset = Tier.objects
    serializer_class = TierSerializer
    permission_classes = PERMISSIONS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scope_queryset(self, queryset):
        return selectors.tiers_visible_to(self.membership)

    def create(self, request: Request, *args, **kwargs) -> Response:
        require_writer(self.membership)
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: TierSerializer) -> None:
        serializer.instance = services.tier_create(**serializer.validated_data)

    def perform_update(self, serializer: TierSerializer) -> None:
        serializer.instance = services.tier_update(
            tier=serializer.instance, **serializer.validated_data
        )


# --- memberships (coach assignment) and alerts: staff only ------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    coach = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "role", "coach", "alert_daily_budget", "created"]
        read_only_fields = fields


class CoachAssignmentSerializer(serializers.Serializer):
    coach = TenantPrimaryKeyRelatedField(
        Membership,
        allow_null=True,
        help_text="Membership id of a coach or owner; null unassigns the client.",
    )


class MembershipViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
):
    """The business's members, for staff: who is a client, and whose coach is who.
    Clients get the same 404 as strangers."""

    queryset = Membership.objects
    serializer_class = MembershipSerializer
    allowed_roles = selectors.STAFF_ROLES

    def scope_queryset(self, queryset):
        return selectors.memberships_visible_to(self.membership)

    @extend_schema(request=CoachAssignmentSerializer, responses=MembershipSerializer)
    @action(
        detail=True, methods=["post"], url_path="coach", serializer_class=CoachAssignmentSerializer
    )
    def assign_coach(self, request: Request, pk: str | None = None) -> Response:
        """Route this client's alerts to a coach (or owner); null: to every coach."""
        client = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        client = services.membership_assign_coach(
            client=client, coach=serializer.validated_data["coach"], by=self.membership
        )
        return Response(MembershipSerializer(client).data)


def _named_enum(name: str, choices: type) -> serializers.ChoiceField:
    """A read-only choice field whose schema enum has its own name: `kind` and `status`
    are also other models' choice sets, and two unnamed enums of one field name collide
    in the OpenAPI document."""
    schema = {"type": "string", "enum": list(choices.values)}
    field_class = extend_schema_field(schema, component_name=name)(
        type(name, (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices.choices, read_only=True)


class AlertSerializer(serializers.ModelSerializer):
    """One alert with its evidence (retrieve and decisions)."""

    client = serializers.PrimaryKeyRelatedField(read_only=True)
    kind = _named_enum("AlertKindEnum", Alert.Kind)
    status = _named_enum("AlertStatusEnum", Alert.Status)
    client_label = serializers.SerializerMethodField()
    decided_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id", "client", "client_label", "kind", "severity", "title", "dedupe_key", "day",
            "status", "snoozed_until", "decided_by", "decided_at", "created", "updated",
            "evidence",
        ]  # fmt: skip
        read_only_fields = fields

    def get_client_label(self, alert: Alert) -> str:
        return selectors.client_label(alert.client)


class AlertListSerializer(AlertSerializer):
    """Rows of a list: the evidence is fetched per alert."""

    class Meta(AlertSerializer.Meta):
        fields = [f for f in AlertSerializer.Meta.fields if f != "evidence"]
        read_only_fields = fields


class AlertSnoozeSerializer(serializers.Serializer):
    until = serializers.DateField(help_text="The day the alert comes back (after today).")


ALERT_VIEWS = ("inbox", "digest", "all")


class AlertViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
):
    """Coach by exception. `?view=inbox` (default): today's ranked inbox, at most the
    coach's daily budget; `digest`: today's overflow; `all`: every alert this member may
    open, any status. Alerts are raised by the detectors, never over the API; clients
    get 404 (alerts are written for their coach)."""

    queryset = Alert.objects
    serializer_class = AlertSerializer
    allowed_roles = selectors.STAFF_ROLES

    def scope_queryset(self, queryset):
        return selectors.alerts_visible_to(self.membership)

    @extend_schema(
        parameters=[OpenApiParameter("view", str, enum=list(ALERT_VIEWS), required=False)],
        responses=AlertListSerializer(many=True),
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        view = request.query_params.get("view", "inbox")
        if view not in ALERT_VIEWS:
            raise exceptions.ValidationError({"view": [f"Use one of: {', '.join(ALERT_VIEWS)}."]})
        if view == "all":
            rows = self.get_queryset()
        else:
            inbox = selectors.alert_inbox(self.membership, selectors.tenant_today())
            rows = inbox.shown if view == "inbox" else inbox.digest
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AlertListSerializer(page, many=True).data)

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Seen and being handled: stays in the inbox below new alerts."""
        alert = services.alert_acknowledge(alert=self.get_object(), by=self.membership)
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=AlertSnoozeSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"], serializer_class=AlertSnoozeSerializer)
    def snooze(self, request: Request, pk: str | None = None) -> Response:
        """Hidden until `until`; back in the inbox on that day."""
        alert = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = services.alert_snooze(
            alert=alert, by=self.membership, until=serializer.validated_data["until"]
        )
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Done with; never reopens (a new finding is a new alert)."""
        alert = services.alert_resolve(alert=self.get_object(), by=self.membership)
        return Response(AlertSerializer(alert).data)


class NightlyRunSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = NightlyRun
        fields = [
            "id", "date", "status", "trigger", "total", "done", "failed", "skipped", "percent",
            "reason", "created", "started", "finished",
        ]  # fmt: skip
        read_only_fields = fields


class NightlyFailureSerializer(serializers.ModelSerializer):
    """A failed step of one subscriber: the athlete id and the error class and message."""

    class Meta:
        model = NightlyStep
        fields = ["id", "athlete", "date", "step", "status", "reason", "ms", "at"]
        read_only_fields = fields


class NightlyRunViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
):
    """The tenant's nightly runs (read-only; owners and admins, and platform staff with
    TOTP as on the run pages): progress counts, and `failures` lists each subscriber
    step that failed with its error."""

    queryset = NightlyRun.objects
    serializer_class = NightlyRunSerializer
    allowed_roles = (Membership.Role.OWNER, Membership.Role.ADMIN)

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        """Staff watch every business's nights (`views._nightly_viewer` lets them onto the
        pages), so a staff user with TOTP who is not an owner or admin there reads the same
        runs; anyone else gets the base class's 404. The endpoint has no writes."""
        try:
            super().initial(request, *args, **kwargs)
        except TenantNotFound:
            user = request.user
            if get_current_tenant() is None or not (user.is_staff and user_has_mfa(user)):
                raise
            self.membership = request.membership = None

    def scope_queryset(self, queryset):
        return nightly.runs()

    @extend_schema(responses=NightlyFailureSerializer(many=True))
    @action(detail=True, methods=["get"])
    def failures(self, request: Request, pk: str | None = None) -> Response:
        rows = nightly.failures_of(self.get_object())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(NightlyFailureSerializer(page, many=True).data)


router = DefaultRouter()
router.register("methodologies", MethodologyViewSet, basename="methodology")
router.register("versions", VersionViewSet, basename="methodology-version")
router.register("tiers", TierViewSet, basename="tier")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("alerts", AlertViewSet, basename="alert")
router.register("nightly-runs", NightlyRunViewSet, basename="nightly-run")

urlpatterns = [path("", include(router.urls))]
