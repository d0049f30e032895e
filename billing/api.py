"""Billing over HTTP. A client buys, cancels, changes tier and reads their own invoices;
owners and admins read every invoice and subscription, refund, and read the revenue
report; platform staff read the report of every tenant.

- `GET billing/entitlement/` (client; staff with `?athlete=`), `POST billing/checkout/`
  `{"tier"}` → `{"url"}`, `POST billing/portal/`, `POST billing/cancel/` `{"cancel"}`,
  `POST billing/change-tier/` `{"tier"}`, `GET billing/report/`, `GET billing/report/platform/`;
- `GET invoices/`, `POST invoices/{id}/refund/` `{"amount"}` (minor units; empty: in full);
- `GET subscriptions/`.
"""

from __future__ import annotations

from dataclasses import asdict

from django.urls import include, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from athletes import selectors as athlete_selectors
from billing import reports, selectors, services
from billing.models import Entitlement, Invoice, Subscription
from coaching.api_base import TenantPrimaryKeyRelatedField, TenantScopedViewSet
from coaching.api_schema import error_response
from coaching.models import Membership, Tier

ADMINS = (Membership.Role.OWNER, Membership.Role.ADMIN)
STRIPE_FAILED = error_response("Stripe refused or could not be reached (`payment_provider_error`).")


class EntitlementSerializer(serializers.ModelSerializer):
    has_access = serializers.SerializerMethodField()
    # Null for a client who never had an entitlement (no row yet: status "none").
    updated = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Entitlement
        fields = ["athlete", "status", "source", "until", "reason", "has_access", "updated"]

    def get_has_access(self, obj: Entitlement) -> bool:
        return selectors.has_access(obj.athlete)


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subscription
        fields = [
            "id", "athlete", "tier", "stripe_subscription_id", "status", "price_id",
            "current_period_start", "current_period_end", "cancel_at_period_end",
            "canceled_at", "trial_end", "past_due_since", "created",
        ]  # fmt: skip
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = [
            "id", "athlete", "subscription", "stripe_invoice_id", "number", "status",
            "amount_due", "amount_paid", "amount_refunded", "currency",
            "application_fee_amount", "hosted_invoice_url", "period_start", "period_end",
            "issued", "paid_at", "payment_failed_at",
        ]  # fmt: skip
        read_only_fields = fields


class TierChoiceSerializer(serializers.Serializer):
    tier = TenantPrimaryKeyRelatedField(Tier)
    success_url = serializers.URLField(required=False)
    cancel_url = serializers.URLField(required=False)


class CancelSerializer(serializers.Serializer):
    cancel = serializers.BooleanField(default=True)


class RefundSerializer(serializers.Serializer):
    amount = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class UrlSerializer(serializers.Serializer):
    url = serializers.URLField()


class ReportSerializer(serializers.Serializer):
    tenant = serializers.CharField()
    currency = serializers.CharField()
    month = serializers.CharField()
    mrr = serializers.IntegerField()
    active_subscribers = serializers.IntegerField()
    subscribers_by_tier = serializers.DictField(child=serializers.IntegerField())
    new_this_month = serializers.IntegerField()
    churned_this_month = serializers.IntegerField()
    failed_payments = serializers.IntegerField()
    revenue = serializers.IntegerField()
    platform_fees = serializers.IntegerField()


class BillingViewSet(TenantScopedViewSet):
    """The signed-in member's billing actions."""

    serializer_class = EntitlementSerializer
    pagination_class = None  # no lists to page: the platform report is one row per tenant

    def _athlete(self):
        athlete = athlete_selectors.athlete_profile_of(self.membership)
        if athlete is None:
            raise PermissionDenied("Only clients buy tiers.")
        return athlete

    def _urls(self, data: dict) -> tuple[str, str]:
        base = self.request.build_absolute_uri("/")
        return (
            data.get("success_url") or f"{base}t/{self.request.tenant.slug}/billing/return/",
            data.get("cancel_url") or f"{base}t/{self.request.tenant.slug}/join/",
        )

    @extend_schema(
        parameters=[OpenApiParameter("athlete", int, description="Staff: a client's profile id.")],
        responses=EntitlementSerializer,
    )
    @action(detail=False, methods=["get"])
    def entitlement(self, request: Request) -> Response:
        if request.query_params.get("athlete", "").isdigit():
            athlete = (
                athlete_selectors.profiles_visible_to(self.membership)
                .filter(pk=int(request.query_params["athlete"]))
                .first()
            )
            if athlete is None:
                raise NotFound()
        else:
            athlete = self._athlete()
        row = selectors.entitlement_of(athlete) or Entitlement(athlete=athlete)
        return Response(EntitlementSerializer(row).data)

    @extend_schema(request=TierChoiceSerializer, responses={201: UrlSerializer, 502: STRIPE_FAILED})
    @action(detail=False, methods=["post"])
    def checkout(self, request: Request) -> Response:
        serializer = TierChoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        success, cancel = self._urls(serializer.validated_data)
        url = services.checkout_start(
            athlete=self._athlete(),
            tier=serializer.validated_data["tier"],
            success_url=success,
            cancel_url=cancel,
        )
        return Response({"url": url}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: UrlSerializer, 502: STRIPE_FAILED})
    @action(detail=False, methods=["post"])
    def portal(self, request: Request) -> Response:
        url = services.portal_url(
            athlete=self._athlete(),
            return_url=request.build_absolute_uri(f"/t/{request.tenant.slug}/billing/"),
        )
        return Response({"url": url})

    @extend_schema(
        request=CancelSerializer, responses={200: SubscriptionSerializer, 502: STRIPE_FAILED}
    )
    @action(detail=False, methods=["post"])
    def cancel(self, request: Request) -> Response:
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sub = services.cancel_at_period_end(
            athlete=self._athlete(), cancel=serializer.validated_data["cancel"]
        )
        return Response(SubscriptionSerializer(sub).data)

    @extend_schema(
        request=TierChoiceSerializer, responses={200: SubscriptionSerializer, 502: STRIPE_FAILED}
    )
    @action(detail=False, methods=["post"], url_path="change-tier")
    def change_tier(self, request: Request) -> Response:
        serializer = TierChoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sub = services.change_tier(athlete=self._athlete(), tier=serializer.validated_data["tier"])
        return Response(SubscriptionSerializer(sub).data)

    @extend_schema(responses=ReportSerializer)
    @action(detail=False, methods=["get"])
    def report(self, request: Request) -> Response:
        if self.membership.role not in ADMINS:
            raise PermissionDenied("Revenue is for the business's owner and admins.")
        return Response(ReportSerializer(asdict(reports.tenant_report(request.tenant))).data)

    @extend_schema(responses=ReportSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="report/platform")
    def platform_report(self, request: Request) -> Response:
        if not request.user.is_staff:
            raise PermissionDenied("The platform report is for platform staff.")
        rows = [asdict(r) for r in reports.platform_report()]
        return Response(ReportSerializer(rows, many=True).data)


class InvoiceViewSet(TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Invoices: a client's own, or all for staff. Owners and admins refund."""

    queryset = Invoice.objects
    serializer_class = InvoiceSerializer

    def scope_queryset(self, queryset):
        return selectors.invoices_visible_to(self.membership)

    @extend_schema(request=RefundSerializer, responses={200: InvoiceSerializer, 502: STRIPE_FAILED})
    @action(detail=True, methods=["post"])
    def refund(self, request: Request, pk: str | None = None) -> Response:
        invoice = self.get_object()
        if self.membership.role not in ADMINS:
            raise PermissionDenied("Only the business's owner or an admin refunds.")
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = services.refund(
            invoice=invoice, amount=serializer.validated_data.get("amount"), by=self.membership
        )
        return Response(InvoiceSerializer(invoice).data)


class SubscriptionViewSet(TenantScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Subscription.objects
    serializer_class = SubscriptionSerializer

    def scope_queryset(self, queryset):
        # Newest first, and ordered so pages never repeat or skip a row.
        return selectors.subscriptions_visible_to(self.membership).order_by("-created", "-id")


router = SimpleRouter()
router.register("billing", BillingViewSet, basename="billing")
router.register("invoices", InvoiceViewSet, basename="invoices")
router.register("subscriptions", SubscriptionViewSet, basename="subscriptions")

urlpatterns = [path("", include(router.urls))]
