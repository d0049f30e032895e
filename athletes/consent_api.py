"""Consent over the API (issue 8). A client reads and changes their own consent
(`GET/POST /consents/`); staff read a client's (`GET /consents/?athlete=<id>`) to see
which purposes the client granted, but never give or withdraw it for them."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from athletes import consent, selectors
from athletes.models import AthleteProfile, ConsentEvent
from athletes.views import client_ip, user_agent
from coaching.api_base import TenantScopedViewSet


# Validated by the service (an unknown purpose is `unknown_purpose`, not a field error
# of the serializer); the schema still names the purposes.
@extend_schema_field({"type": "string", "enum": list(consent.PURPOSES)})
class PurposeField(serializers.CharField):
    pass


class ConsentChangeSerializer(serializers.Serializer):
    purpose = PurposeField()
    action = serializers.ChoiceField(choices=ConsentEvent.Action.choices)


class PolicySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    text = serializers.CharField()


class ConsentEventSerializer(serializers.Serializer):
    purpose = PurposeField()
    action = serializers.ChoiceField(choices=ConsentEvent.Action.choices)
    policy_version = serializers.IntegerField()
    at = serializers.DateTimeField()


@extend_schema_serializer(many=False)
class ConsentStateSerializer(serializers.Serializer):
    """The body of GET and POST: one object, not a page."""

    athlete = serializers.IntegerField()
    state = serializers.DictField(
        child=serializers.BooleanField(), help_text="Purpose → granted now."
    )
    policies = serializers.DictField(
        child=PolicySerializer(), help_text="Purpose → the current policy version and text."
    )
    events = ConsentEventSerializer(many=True, help_text="The ledger, oldest first.")


def _state_body(athlete: AthleteProfile) -> dict:
    policies = consent.policies_current()
    state = consent.consent_state(athlete)
    return {
        "athlete": athlete.pk,
        "state": state,
        "policies": {
            purpose: {"version": policy.version, "text": policy.text}
            for purpose, policy in policies.items()
        },
        "events": [
            {
                "purpose": event.purpose,
                "action": event.action,
                "policy_version": event.policy.version,
                "at": event.at.isoformat(),
            }
            for event in consent.ledger_of(athlete)
        ],
    }


class ConsentViewSet(TenantScopedViewSet):
    """GET: the consent state, policy texts and ledger (IP and user agent stay out).
    POST {"purpose", "action": "grant"|"withdraw"}: the client's own decision."""

    queryset = ConsentEvent.objects
    serializer_class = ConsentChangeSerializer
    pagination_class = None

    def _athlete(self, request) -> AthleteProfile:
        if selectors.is_staff(self.membership):
            raw = request.query_params.get("athlete")
            if raw is None:
                own = selectors.athlete_profile_of(self.membership)
                if own is not None:
                    return own
                raise ValidationError({"athlete": ["Name the athlete: ?athlete=<id>."]})
            try:
                athlete_id = int(raw)
            except ValueError:
                raise ValidationError({"athlete": ["Expected an id."]}) from None
            athlete = selectors.profiles_visible_to(self.membership).filter(pk=athlete_id).first()
        else:
            athlete = selectors.athlete_profile_of(self.membership)
        if athlete is None:
            raise Http404
        return athlete

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "athlete", OpenApiTypes.INT, description="Staff: whose consent (a profile id)."
            )
        ],
        responses=ConsentStateSerializer,
    )
    def list(self, request, *args, **kwargs):
        return Response(_state_body(self._athlete(request)))

    @extend_schema(request=ConsentChangeSerializer, responses={201: ConsentStateSerializer})
    def create(self, request, *args, **kwargs):
        athlete = selectors.athlete_profile_of(self.membership)
        if athlete is None:  # staff give no consent for a client, only for themselves
            raise PermissionDenied("Only the client gives or withdraws their consent.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        purpose = serializer.validated_data["purpose"]
        if purpose not in consent.PURPOSES:
            raise consent.UnknownPurpose(purpose)
        record = (
            consent.consent_grant
            if serializer.validated_data["action"] == ConsentEvent.Action.GRANT
            else consent.consent_withdraw
        )
        record(
            athlete,
            purpose,
            ip=client_ip(request),
            user_agent=user_agent(request),
            actor_user_id=request.user.pk,
        )
        return Response(_state_body(athlete), status=status.HTTP_201_CREATED)


router = SimpleRouter()
router.register("consents", ConsentViewSet, basename="consent")

urlpatterns = router.urls
