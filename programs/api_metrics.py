"""Endurance metrics for charts and race planning, per athlete:

- `GET athlete-metrics/{id}/load-series/?from=&to=` — CTL/ATL/TSB, ACWR, monotony, strain
  per day in one declared unit (default the last 90 days, at most 730 days);
- `GET athlete-metrics/{id}/race-prediction/?distance_m=&sport=run` — Riegel from the
  athlete's own recent efforts;
- `GET athlete-metrics/{id}/taper/?race_date=&weeks=2&volume_cut_percent=-50` — a preview
  of the taper applied to the active plan (nothing is stored).

A client sees only their own athlete, staff any of the tenant's; anyone else's is the
same 404 as a missing one.
"""

from __future__ import annotations

import datetime
import math

from django.urls import include, path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from athletes import selectors as athlete_selectors
from athletes.models import AthleteProfile
from coaching.api_base import TenantScopedViewSet
from coaching.errors import DomainError
from programs import metrics
from programs.engine import endurance

DEFAULT_SPAN_DAYS = 90
MAX_SPAN_DAYS = 730
MAX_RACE_DISTANCE_M = 1_000_000
MAX_WINDOW_DAYS = 365


class MetricsQueryError(DomainError):
    code = "metrics_invalid"


def _bad(name: str, message: str) -> MetricsQueryError:
    return MetricsQueryError(message, fields={name: [message]})


def _date_param(request: Request, name: str, default: datetime.date | None) -> datetime.date:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        if default is None:
            raise _bad(name, f"Give `{name}` as YYYY-MM-DD.")
        return default
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise _bad(name, f"`{name}` must be a date as YYYY-MM-DD, got {raw!r}.") from None


def _number_param(request: Request, name: str, default: float | None) -> float:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        if default is None:
            raise _bad(name, f"Give `{name}`.")
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _bad(name, f"`{name}` must be a number, got {raw!r}.") from None
    if not math.isfinite(value):
        raise _bad(name, f"`{name}` must be a finite number, got {raw!r}.")
    return value


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    if not raw.lstrip("-").isdigit() or not low <= int(raw) <= high:
        raise _bad(name, f"`{name}` must be a whole number from {low} to {high}, got {raw!r}.")
    return int(raw)


# Response shapes (for the schema and the output) --------------------------------------------
class LoadPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    load = serializers.FloatField()
    ctl = serializers.FloatField()
    atl = serializers.FloatField()
    tsb = serializers.FloatField()
    acwr = serializers.FloatField(allow_null=True)
    monotony = serializers.FloatField(allow_null=True)
    strain = serializers.FloatField(allow_null=True)


class LoadSeriesSerializer(serializers.Serializer):
    athlete = serializers.IntegerField()
    unit = serializers.CharField(source="series.unit.unit")
    unit_reason = serializers.CharField(source="series.unit.reason")
    logs = serializers.IntegerField(source="series.unit.logs")
    logs_with_unit = serializers.IntegerField(source="series.unit.logs_with_unit")
    start = serializers.DateField(source="series.start")
    end = serializers.DateField(source="series.end")
    points = LoadPointSerializer(source="series.points", many=True)


class EffortSerializer(serializers.Serializer):
    date = serializers.DateField()
    distance_m = serializers.FloatField()
    time_s = serializers.FloatField()
    kind = serializers.CharField()
    session_log = serializers.IntegerField(source="key", allow_null=True)


class RaceCandidateSerializer(serializers.Serializer):
    effort = EffortSerializer()
    predicted_time_s = serializers.FloatField()
    preferred = serializers.BooleanField()


class RacePredictionSerializer(serializers.Serializer):
    athlete = serializers.IntegerField()
    sport = serializers.CharField()
    target_distance_m = serializers.FloatField(source="prediction.target_distance_m")
    time_s = serializers.FloatField(source="prediction.time_s", allow_null=True)
    pace_s_per_km = serializers.FloatField(source="prediction.pace_s_per_km", allow_null=True)
    effort = EffortSerializer(source="prediction.effort", allow_null=True)
    candidates = RaceCandidateSerializer(source="prediction.candidates", many=True)
    exponent = serializers.FloatField(source="prediction.exponent")
    window_days = serializers.IntegerField(source="prediction.window_days")
    reason = serializers.CharField(source="prediction.reason")


class TaperChangeSerializer(serializers.Serializer):
    planned_session = serializers.IntegerField(source="key")
    date = serializers.DateField()
    kind = serializers.CharField()
    week = serializers.IntegerField()
    weeks = serializers.IntegerField()
    cut_percent = serializers.FloatField()
    duration_before_min = serializers.IntegerField()
    duration_after_min = serializers.IntegerField()
    zone = serializers.IntegerField(allow_null=True)
    sentence = serializers.CharField()


class TaperPreviewSerializer(serializers.Serializer):
    athlete = serializers.IntegerField()
    race_date = serializers.DateField()
    weeks = serializers.IntegerField()
    volume_cut_percent = serializers.FloatField()
    week_cuts_percent = serializers.ListField(child=serializers.FloatField())
    minutes_before = serializers.IntegerField()
    minutes_after = serializers.IntegerField()
    changes = TaperChangeSerializer(many=True)


# The viewset -----------------------------------------------------------------------------
class AthleteMetricsViewSet(TenantScopedViewSet):
    """Read-only endurance metrics of one athlete (the id is the athlete profile's)."""

    queryset = AthleteProfile.objects
    serializer_class = LoadSeriesSerializer

    def scope_queryset(self, queryset):
        return athlete_selectors.profiles_visible_to(self.membership)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="Default: to − 89 days."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Default: today."),
        ],
        responses=LoadSeriesSerializer,
    )
    @action(detail=True, methods=["get"], url_path="load-series")
    def load_series(self, request: Request, pk: str | None = None) -> Response:
        """CTL/ATL/TSB, ACWR, monotony and strain per day, warmed up from the first log."""
        athlete = self.get_object()
        end = _date_param(request, "to", timezone.localdate())
        start = _date_param(request, "from", end - datetime.timedelta(days=DEFAULT_SPAN_DAYS - 1))
        if start > end:
            raise _bad("from", "`from` must not be after `to`.")
        if (end - start).days > MAX_SPAN_DAYS:
            raise _bad("from", f"A series spans at most {MAX_SPAN_DAYS} days.")
        series = metrics.load_series_of(athlete, start, end)
        return Response(LoadSeriesSerializer({"athlete": athlete.pk, "series": series}).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "distance_m",
                {
                    "type": "number",
                    "exclusiveMinimum": True,
                    "minimum": 0,
                    "maximum": MAX_RACE_DISTANCE_M,
                },
                required=True,
            ),
            OpenApiParameter("sport", OpenApiTypes.STR, enum=["run", "ride"]),
            OpenApiParameter(
                "window_days",
                {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_DAYS},
                description="Default 90.",
            ),
        ],
        responses=RacePredictionSerializer,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="race-prediction",
        serializer_class=RacePredictionSerializer,
    )
    def race_prediction(self, request: Request, pk: str | None = None) -> Response:
        """Riegel from the athlete's own recent efforts over 0.25–4× the distance."""
        athlete = self.get_object()
        distance = _number_param(request, "distance_m", None)
        if not 0 < distance <= MAX_RACE_DISTANCE_M:
            raise _bad("distance_m", f"`distance_m` must be > 0 and ≤ {MAX_RACE_DISTANCE_M}.")
        sport = request.query_params.get("sport", "run")
        if sport not in ("run", "ride"):
            raise _bad("sport", "`sport` must be 'run' or 'ride'.")
        window = _int_param(request, "window_days", 90, 1, MAX_WINDOW_DAYS)
        prediction = metrics.race_prediction(
            athlete, distance, today=timezone.localdate(), sport=sport, window_days=window
        )
        body = {"athlete": athlete.pk, "sport": sport, "prediction": prediction}
        return Response(RacePredictionSerializer(body).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "race_date", OpenApiTypes.DATE, required=True, description="Today or later."
            ),
            OpenApiParameter(
                "weeks",
                {
                    "type": "integer",
                    "minimum": endurance.TAPER_WEEKS[0],
                    "maximum": endurance.TAPER_WEEKS[1],
                },
                description="Default 2.",
            ),
            OpenApiParameter(
                "volume_cut_percent",
                {
                    "type": "number",
                    "minimum": endurance.TAPER_CUT_PERCENT[0],
                    "maximum": endurance.TAPER_CUT_PERCENT[1],
                },
                description="Default −50.",
            ),
        ],
        responses=TaperPreviewSerializer,
    )
    @action(detail=True, methods=["get"], serializer_class=TaperPreviewSerializer)
    def taper(self, request: Request, pk: str | None = None) -> Response:
        """Preview of a progressive taper (Bosquet et al. 2007) on the active plan."""
        athlete = self.get_object()
        race_date = _date_param(request, "race_date", None)
        if race_date < timezone.localdate():
            raise _bad("race_date", "`race_date` must be today or later.")
        low_weeks, high_weeks = endurance.TAPER_WEEKS
        weeks = _int_param(request, "weeks", 2, low_weeks, high_weeks)
        cut = _number_param(request, "volume_cut_percent", -50.0)
        low, high = endurance.TAPER_CUT_PERCENT
        if not low <= cut <= high:
            raise _bad(
                "volume_cut_percent",
                f"`volume_cut_percent` must be from {low:g} to {high:g} (a cut of 40–60 %).",
            )
        changes = metrics.taper_preview(athlete, race_date, weeks, cut)
        body = {
            "athlete": athlete.pk,
            "race_date": race_date,
            "weeks": weeks,
            "volume_cut_percent": cut,
            "week_cuts_percent": endurance.taper_week_cuts(weeks, cut),
            "minutes_before": sum(c.duration_before_min for c in changes),
            "minutes_after": sum(c.duration_after_min for c in changes),
            "changes": changes,
        }
        return Response(TaperPreviewSerializer(body).data)


router = SimpleRouter()
router.register("athlete-metrics", AthleteMetricsViewSet, basename="athlete-metrics")

urlpatterns = [path("", include(router.urls))]
