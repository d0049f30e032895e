"""Consent over the API (issue 8). A client reads and changes their own consent
(`GET/POST /consents/`); staff read a client's (`GET /consents/?athlete=<id>`) to see
which purposes the client granted, but never give or withdraw it for them."""

from __future__ import annotations

from django.http import Http404
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from athletes import consent, selectors
from athletes.models import AthleteProfile, ConsentEvent
from athletes.views import client_ip, user_agent
from coaching.api_base import TenantScopedViewSet


class ConsentChangeSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    action = serializers.ChoiceField(choices=ConsentEvent.Action.choices)


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

    def list(self, request, *args, **kwargs):
        return Response(_state_body(self._athlete(request)))

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
