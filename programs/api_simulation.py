"""Shadow mode over the API (staff only):

`POST simulations/` {"version", "compare_version"?, "athletes"?, "weeks"?, "end"?} — replay
a methodology version (a draft too) over past nights and return what it would have done,
or both versions and b − a. Synchronous, so the cohort is capped; it writes nothing.
Versions and athletes resolve within the tenant: another tenant's id is "No such object".
"""

from __future__ import annotations

import datetime

from django.urls import include, path
from django.utils import timezone
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from athletes.models import AthleteProfile
from coaching.api_base import TenantPrimaryKeyRelatedField, TenantScopedViewSet
from coaching.errors import DomainError
from coaching.methodology import RulesInvalid
from coaching.models import MethodologyVersion
from programs import simulation

STAFF = ("owner", "coach", "admin")
MAX_ATHLETES = 50
MAX_WEEKS = 12


class SimulationError(DomainError):
    code = "simulation_invalid"
    status = 400


def _yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


class SimulationRequestSerializer(serializers.Serializer):
    version = TenantPrimaryKeyRelatedField(MethodologyVersion)
    compare_version = TenantPrimaryKeyRelatedField(
        MethodologyVersion, required=False, allow_null=True
    )
    athletes = serializers.ListField(
        child=TenantPrimaryKeyRelatedField(AthleteProfile),
        required=False,
        allow_empty=False,
        max_length=MAX_ATHLETES,
    )
    weeks = serializers.IntegerField(min_value=1, max_value=MAX_WEEKS, default=4)
    end = serializers.DateField(required=False)

    def validate_end(self, value: datetime.date) -> datetime.date:
        if value > _yesterday():
            raise serializers.ValidationError("A night is replayed once its day is over.")
        return value


class SimulationViewSet(TenantScopedViewSet):
    """Run a simulation (staff only; anyone else gets 404)."""

    allowed_roles = STAFF
    queryset = MethodologyVersion.objects
    serializer_class = SimulationRequestSerializer

    # 200, not 201: a simulation stores nothing. The report's shape is
    # `programs.simulation` (SimulationReport.as_dict / Comparison.as_dict).
    @extend_schema(request=SimulationRequestSerializer, responses={200: OpenApiTypes.OBJECT})
    def create(self, request: Request) -> Response:
        body = SimulationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        version: MethodologyVersion = data["version"]
        athletes = data.get("athletes") or simulation.enrolled_on(version.methodology_id)
        athletes = list({a.pk: a for a in athletes}.values())
        if len(athletes) > MAX_ATHLETES:
            raise SimulationError(
                f"At most {MAX_ATHLETES} athletes per simulation; {len(athletes)} given.",
                fields={"athletes": [f"At most {MAX_ATHLETES}."]},
            )
        end, weeks = data.get("end") or _yesterday(), data["weeks"]
        other = data.get("compare_version")
        try:
            if other is None:
                report = simulation.simulate(
                    athletes=athletes, rules=version.rules, end=end, weeks=weeks
                ).as_dict()
                body_out = {"version": version.pk, "report": report}
            else:
                comparison = simulation.compare(
                    athletes=athletes,
                    rules_a=version.rules,
                    rules_b=other.rules,
                    end=end,
                    weeks=weeks,
                )
                body_out = {
                    "version": version.pk,
                    "compare_version": other.pk,
                    **comparison.as_dict(),
                }
        except RulesInvalid as exc:
            raise SimulationError(f"The version's rules are invalid: {exc}") from exc
        return Response(body_out)


router = SimpleRouter()
router.register("simulations", SimulationViewSet, basename="simulations")

urlpatterns = [path("", include(router.urls))]
