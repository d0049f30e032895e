"""Nutrition over HTTP, per athlete (`/nutrition/{athlete id}/…`), plus the food log and
the food and recipe search.

- `GET|PATCH preferences/` — diet, allergies, dislikes, favourites, meals a day, budget,
  prep time, skill, goal; a coach may also fix energy or protein;
- `GET targets/?from=&to=` — each day's energy and macros with their reasons;
- `GET plan/?from=` — 7 days of meals; `POST plan/` `{"start"}` builds targets and plans;
- `GET plan/{date}/swap-options/?slot=`, `POST plan/{date}/swap/` `{"slot", "key"}`,
  `POST plan/{date}/lock/` `{"slot", "locked"}`, `POST plan/{date}/replan/`;
- `GET shopping-list/?from=&to=[&download=csv|txt]`, `POST shopping-list/tick/`;
- `GET adherence/?from=&to=` — eaten vs target, per day; `GET weight-trend/?from=&to=`.

A client sees and changes only their own; staff any of the tenant's athletes; anyone
else's is the same 404 as a missing one. Bad input is a 400 naming the field, and
nothing is stored.
"""

from __future__ import annotations

import datetime

from django.http import HttpResponse
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from athletes import selectors as athlete_selectors
from athletes.api import ClientAccessGate
from athletes.models import AthleteProfile
from coaching.api_base import TenantPrimaryKeyRelatedField, TenantScopedViewSet
from nutrition import reports, selectors, services
from nutrition.catalogue import ALLERGENS, DIETS, MEAL_KINDS, load_catalogue
from nutrition.models import FoodLogEntry, NutritionProfile

MAX_SPAN_DAYS = 92
# How far ahead a plan may start: the targets need the athlete's age and weight on the
# day, which are only meaningful near today.
MAX_PLAN_AHEAD_DAYS = 366


def _bad(name: str, message: str) -> services.NutritionError:
    return services.NutritionError(message, fields={name: [message]})


def _date(raw: str | None, name: str, default: datetime.date | None = None) -> datetime.date:
    raw = (raw or "").strip()
    if not raw:
        if default is None:
            raise _bad(name, f"Give `{name}` as YYYY-MM-DD.")
        return default
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise _bad(name, f"`{name}` must be a date as YYYY-MM-DD, got {raw!r}.") from None


def _span(
    request: Request,
    default_days: int,
    *,
    ending_today: bool = False,
    max_days: int = MAX_SPAN_DAYS,
) -> tuple[datetime.date, datetime.date]:
    """`from`/`to` from the query: by default `default_days` from today onwards, or, with
    `ending_today`, the `default_days` up to today (what already happened)."""
    today = timezone.localdate()
    params = request.query_params
    if ending_today:
        end = _date(params.get("to"), "to", today)
        start = _date(params.get("from"), "from", end - datetime.timedelta(days=default_days - 1))
    else:
        start = _date(params.get("from"), "from", today)
        end = _date(params.get("to"), "to", start + datetime.timedelta(days=default_days - 1))
    if start > end:
        raise _bad("from", "`from` must not be after `to`.")
    if (end - start).days >= max_days:
        raise _bad("to", f"A range spans at most {max_days} days.")
    return start, end


# --- shapes ---------------------------------------------------------------------------


class PreferencesSerializer(serializers.ModelSerializer):
    """Unknown allergens, restrictions, foods and recipes are rejected by the service with
    the list of what is known."""

    restrictions = serializers.ListField(child=serializers.CharField(), required=False)
    allergies = serializers.ListField(child=serializers.CharField(), required=False)
    dislikes = serializers.ListField(child=serializers.CharField(), required=False)
    favourites = serializers.ListField(child=serializers.CharField(), required=False)
    # Null until the preferences are first saved (the defaults are shown unsaved).
    updated = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = NutritionProfile
        fields = [
            "diet", "restrictions", "allergies", "dislikes", "favourites", "meals_per_day",
            "budget_per_day", "max_prep_min", "cooking_skill", "goal", "rate_percent_per_week",
            "activity", "expenditure_kcal", "energy_kcal_override", "protein_g_override",
            "updated",
        ]  # fmt: skip
        read_only_fields = ["expenditure_kcal", "updated"]


class DayTargetSerializer(serializers.Serializer):
    date = serializers.DateField()
    day_load = serializers.CharField()
    energy_kcal = serializers.IntegerField()
    protein_g = serializers.IntegerField()
    carbs_g = serializers.IntegerField()
    fat_g = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    inputs = serializers.DictField()


class ItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    portions = serializers.IntegerField()
    grams = serializers.FloatField()
    kcal = serializers.FloatField()
    protein_g = serializers.FloatField()
    carbs_g = serializers.FloatField()
    fat_g = serializers.FloatField()
    cost = serializers.FloatField()
    prep_min = serializers.IntegerField()


class MealSerializer(serializers.Serializer):
    slot = serializers.CharField()
    kind = serializers.CharField()
    locked = serializers.BooleanField()
    items = ItemSerializer(many=True)


class PlanDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    target = serializers.DictField()
    meals = MealSerializer(many=True)
    totals = serializers.DictField()
    feasible = serializers.BooleanField()
    tolerance = serializers.DictField()
    relaxations = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()
    cost = serializers.DecimalField(max_digits=7, decimal_places=2)
    prep_min = serializers.IntegerField()


class PlanGenerateSerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    replan = serializers.BooleanField(default=False)


class SlotSerializer(serializers.Serializer):
    slot = serializers.CharField()


class SwapSerializer(SlotSerializer):
    key = serializers.CharField(help_text="The main item's key from swap-options.")


class LockSerializer(SlotSerializer):
    locked = serializers.BooleanField(default=True)


class TickSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    food = serializers.CharField()
    ticked = serializers.BooleanField(default=True)


class ShoppingItemSerializer(serializers.Serializer):
    food = serializers.CharField()
    name = serializers.CharField()
    store_section = serializers.CharField()
    grams = serializers.FloatField()
    units = serializers.IntegerField()
    unit_label = serializers.CharField()
    pantry = serializers.BooleanField()
    ticked = serializers.BooleanField()
    cost = serializers.FloatField()


class ShoppingListSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days_planned = serializers.IntegerField()
    cost = serializers.FloatField()
    items = ShoppingItemSerializer(many=True)


class AdherenceDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    target = serializers.DictField(allow_null=True)
    eaten = serializers.DictField(allow_null=True)
    percent = serializers.DictField(allow_null=True)


class WeightTrendSerializer(serializers.Serializer):
    weights = serializers.DictField(child=serializers.FloatField())
    trend = serializers.DictField(child=serializers.FloatField())
    estimates = serializers.ListField(child=serializers.DictField())


# --- per athlete ------------------------------------------------------------------------


class NutritionViewSet(ClientAccessGate, TenantScopedViewSet):
    """One athlete's nutrition (the id is the athlete profile's)."""

    queryset = AthleteProfile.objects
    serializer_class = PreferencesSerializer
    # The day lists (targets, plan, adherence, swap options) are a bounded span, not pages.
    pagination_class = None

    def scope_queryset(self, queryset):
        return athlete_selectors.profiles_visible_to(self.membership)

    def _day(self, day: str) -> datetime.date:
        return _date(day, "date")

    @extend_schema(methods=["GET"], responses=PreferencesSerializer)
    @extend_schema(
        methods=["PATCH"], request=PreferencesSerializer, responses=PreferencesSerializer
    )
    @action(detail=True, methods=["get", "patch"])
    def preferences(self, request: Request, pk: str | None = None) -> Response:
        athlete = self.get_object()
        if request.method == "GET":
            return Response(PreferencesSerializer(selectors.profile_of(athlete)).data)
        serializer = PreferencesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        fixed = {"energy_kcal_override", "protein_g_override"} & set(data)
        if fixed and not athlete_selectors.is_staff(self.membership):
            raise PermissionDenied("Only a coach sets fixed energy or protein targets.")
        profile = services.preferences_update(athlete=athlete, data=data)
        return Response(PreferencesSerializer(profile).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="Default: today."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Default: from + 6 days."),
        ],
        responses=DayTargetSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def targets(self, request: Request, pk: str | None = None) -> Response:
        athlete = self.get_object()
        start, end = _span(request, 7)
        rows = selectors.targets_between(athlete, start, end).values()
        return Response(DayTargetSerializer(list(rows), many=True).data)

    @extend_schema(
        methods=["GET"],
        parameters=[OpenApiParameter("from", OpenApiTypes.DATE, description="Default: today.")],
        responses=PlanDaySerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        request=PlanGenerateSerializer,
        responses={201: PlanDaySerializer(many=True)},
    )
    @action(detail=True, methods=["get", "post"])
    def plan(self, request: Request, pk: str | None = None) -> Response:
        athlete = self.get_object()
        if request.method == "GET":
            start, end = _span(request, 7)
            rows = selectors.plan_days_between(athlete, start, end).values()
            return Response(PlanDaySerializer(list(rows), many=True).data)
        serializer = PlanGenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        start = serializer.validated_data.get("start") or timezone.localdate()
        if start < timezone.localdate():
            raise _bad("start", "Plans start today or later.")
        if start > timezone.localdate() + datetime.timedelta(days=MAX_PLAN_AHEAD_DAYS):
            raise _bad("start", f"Plans start at most {MAX_PLAN_AHEAD_DAYS} days ahead.")
        services.nutrition_refresh(
            athlete=athlete, start=start, replan=serializer.validated_data["replan"]
        )
        end = start + datetime.timedelta(days=services.PLAN_DAYS - 1)
        rows = selectors.plan_days_between(athlete, start, end).values()
        return Response(
            PlanDaySerializer(list(rows), many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        parameters=[OpenApiParameter("slot", OpenApiTypes.STR, required=True)],
        responses=MealSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path=r"plan/(?P<day>\d{4}-\d{2}-\d{2})/swap-options")
    def swap_options(self, request: Request, pk: str | None = None, day: str = "") -> Response:
        athlete = self.get_object()
        row = self._plan_day(athlete, day)
        slot = request.query_params.get("slot", "")
        if not slot:
            raise _bad("slot", "Give `slot`, e.g. lunch or snack-1.")
        options = services.swap_options(row, slot)
        return Response(MealSerializer([services.meal_json(m) for m in options], many=True).data)

    def _plan_day(self, athlete: AthleteProfile, day: str):
        date = self._day(day)
        row = selectors.plan_days_between(athlete, date, date).get(date)
        if row is None:
            raise services.PlanMissing(f"No plan for {date.isoformat()}.")
        return row

    @extend_schema(request=SwapSerializer, responses=PlanDaySerializer)
    @action(detail=True, methods=["post"], url_path=r"plan/(?P<day>\d{4}-\d{2}-\d{2})/swap")
    def swap(self, request: Request, pk: str | None = None, day: str = "") -> Response:
        athlete = self.get_object()
        serializer = SwapSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.meal_swap(athlete=athlete, date=self._day(day), **serializer.validated_data)
        return Response(PlanDaySerializer(row).data)

    @extend_schema(request=LockSerializer, responses=PlanDaySerializer)
    @action(detail=True, methods=["post"], url_path=r"plan/(?P<day>\d{4}-\d{2}-\d{2})/lock")
    def lock(self, request: Request, pk: str | None = None, day: str = "") -> Response:
        athlete = self.get_object()
        serializer = LockSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.meal_lock(athlete=athlete, date=self._day(day), **serializer.validated_data)
        return Response(PlanDaySerializer(row).data)

    @extend_schema(request=None, responses=PlanDaySerializer)
    @action(detail=True, methods=["post"], url_path=r"plan/(?P<day>\d{4}-\d{2}-\d{2})/replan")
    def replan(self, request: Request, pk: str | None = None, day: str = "") -> Response:
        athlete = self.get_object()
        row = services.day_replan(athlete=athlete, date=self._day(day))
        return Response(PlanDaySerializer(row).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="Default: today."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Default: from + 6 days."),
            OpenApiParameter(
                "download", OpenApiTypes.STR, enum=["csv", "txt"], description="A file instead."
            ),
        ],
        responses={
            (200, "application/json"): ShoppingListSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="?download=csv"),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="?download=txt"),
        },
    )
    @action(detail=True, methods=["get"], url_path="shopping-list")
    def shopping_list(self, request: Request, pk: str | None = None) -> Response | HttpResponse:
        athlete = self.get_object()
        start, end = _span(request, 7)
        # Not `format`: DRF reserves that name for content negotiation.
        fmt = request.query_params.get("download", "json")
        if fmt not in ("json", "csv", "txt"):
            raise _bad("download", "`download` must be csv or txt.")
        report = reports.shopping_for(athlete, start, end)
        if fmt == "json":
            return Response(ShoppingListSerializer(report).data)
        body, kind = (
            (reports.shopping_text(report), "text/plain")
            if fmt == "txt"
            else (reports.shopping_csv(report), "text/csv")
        )
        response = HttpResponse(body, content_type=f"{kind}; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="shopping-{start.isoformat()}-{end.isoformat()}.{fmt}"'
        )
        return response

    @extend_schema(request=TickSerializer, responses=ShoppingListSerializer)
    @action(detail=True, methods=["post"], url_path="shopping-list/tick")
    def shopping_tick(self, request: Request, pk: str | None = None) -> Response:
        athlete = self.get_object()
        serializer = TickSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        start, end = data["start"], data["end"]
        if start > end or (end - start).days >= MAX_SPAN_DAYS:
            raise _bad(
                "end", f"`end` must be on or after `start`, at most {MAX_SPAN_DAYS} days on."
            )
        services.shopping_tick(
            athlete=athlete, start=start, end=end, food=data["food"], ticked=data["ticked"]
        )
        return Response(ShoppingListSerializer(reports.shopping_for(athlete, start, end)).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="Default: today − 6."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Default: today."),
        ],
        responses=AdherenceDaySerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def adherence(self, request: Request, pk: str | None = None) -> Response:
        athlete = self.get_object()
        start, end = _span(request, 7, ending_today=True)
        days = reports.adherence(athlete, start, end)
        return Response(AdherenceDaySerializer(days, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="Default: today − 89."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Default: today."),
        ],
        responses=WeightTrendSerializer,
    )
    @action(detail=True, methods=["get"], url_path="weight-trend")
    def weight_trend(self, request: Request, pk: str | None = None) -> Response:
        athlete = self.get_object()
        start, end = _span(request, 90, ending_today=True, max_days=731)
        return Response(WeightTrendSerializer(reports.weight_trend(athlete, start, end)).data)


# --- the food log -----------------------------------------------------------------------


# Documentation of what `services.food_log_add` checks (it reports every bad field at
# once with the `nutrition_invalid` code, so the serializer does not check them first).
@extend_schema_field({"type": "string", "pattern": r"^(food|recipe):[a-z0-9-]+$"})
class FoodKeyField(serializers.CharField):
    pass


@extend_schema_field({"type": "number", "minimum": 0.25, "maximum": 20, "nullable": True})
class PortionsField(serializers.FloatField):
    pass


class FoodLogSerializer(serializers.ModelSerializer):
    athlete = TenantPrimaryKeyRelatedField(AthleteProfile)
    key = FoodKeyField(help_text="food:<slug> or recipe:<slug>")
    # Not bounded in the schema: the same field in responses holds portions × portion size.
    grams = serializers.FloatField(
        required=False, allow_null=True, help_text="To log: 1–5000, or give `portions`."
    )
    portions = PortionsField(required=False, allow_null=True, help_text="0.25–20.")
    portion = serializers.CharField(
        required=False, allow_blank=True, write_only=True, help_text="e.g. '1 cup'"
    )
    slot = serializers.ChoiceField(choices=[*MEAL_KINDS, ""], required=False, default="")

    class Meta:
        model = FoodLogEntry
        fields = [
            "id", "athlete", "date", "slot", "key", "name", "grams", "portions", "portion",
            "energy_kcal",
            "protein_g", "carbs_g", "fat_g", "fibre_g", "created",
        ]  # fmt: skip
        read_only_fields = [
            "id", "name", "energy_kcal", "protein_g", "carbs_g", "fat_g", "fibre_g", "created",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("athlete", OpenApiTypes.INT, description="Staff: one athlete."),
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (inclusive)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (inclusive)."),
        ]
    )
)
class FoodLogViewSet(
    TenantScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    """What clients ate. Filter with `?athlete=<id>&from=&to=`."""

    queryset = FoodLogEntry.objects
    serializer_class = FoodLogSerializer

    def scope_queryset(self, queryset):
        qs = selectors.food_log_visible_to(self.membership)
        params = self.request.query_params
        if params.get("athlete", "").isdigit():
            qs = qs.filter(athlete_id=int(params["athlete"]))
        if params.get("from"):
            qs = qs.filter(date__gte=_date(params["from"], "from"))
        if params.get("to"):
            qs = qs.filter(date__lte=_date(params["to"], "to"))
        return qs.order_by("-date", "-id")

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        athlete = data["athlete"]
        if (
            not athlete_selectors.profiles_visible_to(self.membership)
            .filter(pk=athlete.pk)
            .exists()
        ):
            raise _bad("athlete", "No such object.")
        entry = services.food_log_add(
            athlete=athlete,
            date=data["date"],
            key=data["key"],
            grams=data.get("grams"),
            portions=data.get("portions"),
            portion=data.get("portion") or None,
            slot=data.get("slot", ""),
        )
        return Response(FoodLogSerializer(entry).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: FoodLogEntry) -> None:
        services.food_log_delete(entry=instance)


# --- the food table ---------------------------------------------------------------------


class FoodSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    fdc_id = serializers.IntegerField()
    category = serializers.CharField()
    store_section = serializers.CharField()
    kcal = serializers.FloatField()
    protein_g = serializers.FloatField()
    carbs_g = serializers.FloatField()
    fat_g = serializers.FloatField()
    fibre_g = serializers.FloatField()
    sugar_g = serializers.FloatField()
    sat_fat_g = serializers.FloatField()
    sodium_mg = serializers.FloatField()
    allergens = serializers.ListField(child=serializers.CharField())
    diets = serializers.ListField(child=serializers.CharField())
    portions = serializers.ListField(child=serializers.ListField())


class RecipeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    meals = serializers.ListField(child=serializers.CharField())
    servings = serializers.IntegerField()
    prep_min = serializers.IntegerField()
    skill = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())
    ingredients = serializers.ListField(child=serializers.ListField())
    steps = serializers.ListField(child=serializers.CharField())
    per_serving = serializers.DictField()
    cost_per_serving = serializers.FloatField()
    allergens = serializers.ListField(child=serializers.CharField())
    diets = serializers.ListField(child=serializers.CharField())


def _listed(request: Request, name: str, known: tuple[str, ...]) -> list[str]:
    values = [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise _bad(name, f"Unknown {name}: {', '.join(unknown)}. Use: {', '.join(known)}.")
    return values


def _food_json(food) -> dict:
    return {
        **{f: getattr(food, f) for f in FoodSerializer().fields if f not in ("allergens", "diets")},
        "allergens": sorted(food.allergens),
        "diets": sorted(food.diets),
        "portions": [list(p) for p in food.portions],
    }


def _recipe_json(recipe) -> dict:
    return {
        **{
            f: getattr(recipe, f)
            for f in ("slug", "name", "servings", "prep_min", "skill", "cost_per_serving")
        },
        "meals": sorted(recipe.meals),
        "tags": list(recipe.tags),
        "ingredients": [list(i) for i in recipe.ingredients],
        "steps": list(recipe.steps),
        "per_serving": recipe.per_serving.as_dict(),
        "allergens": sorted(recipe.allergens),
        "diets": sorted(recipe.diets),
    }


_SEARCH = [
    OpenApiParameter("q", OpenApiTypes.STR),
    OpenApiParameter("diet", OpenApiTypes.STR, description="Comma-separated; all must hold."),
    OpenApiParameter("exclude_allergen", OpenApiTypes.STR, description="Comma-separated."),
]


class FoodViewSet(TenantScopedViewSet):
    """The food composition table (USDA FoodData Central values per 100 g)."""

    serializer_class = FoodSerializer
    pagination_class = None  # a search: at most 50 matches, never pages
    lookup_value_regex = "[a-z0-9-]+"

    @extend_schema(parameters=_SEARCH, responses=FoodSerializer(many=True))
    def list(self, request: Request) -> Response:
        foods = load_catalogue().search_foods(
            request.query_params.get("q", ""),
            diets=_listed(request, "diet", DIETS),
            exclude_allergens=_listed(request, "exclude_allergen", ALLERGENS),
            limit=50,
        )
        return Response(FoodSerializer([_food_json(f) for f in foods], many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        catalogue = load_catalogue()
        if pk not in catalogue.foods:
            raise services.PlanMissing("No such food.")
        return Response(FoodSerializer(_food_json(catalogue.food(pk))).data)


class RecipeViewSet(TenantScopedViewSet):
    """Recipes, their nutrition computed from their foods."""

    serializer_class = RecipeSerializer
    pagination_class = None  # a search: at most 50 matches, never pages
    lookup_value_regex = "[a-z0-9-]+"

    @extend_schema(
        parameters=[*_SEARCH, OpenApiParameter("meal", OpenApiTypes.STR, enum=list(MEAL_KINDS))],
        responses=RecipeSerializer(many=True),
    )
    def list(self, request: Request) -> Response:
        meal = request.query_params.get("meal") or None
        if meal is not None and meal not in MEAL_KINDS:
            raise _bad("meal", f"`meal` must be one of: {', '.join(MEAL_KINDS)}.")
        recipes = load_catalogue().search_recipes(
            request.query_params.get("q", ""),
            meal=meal,
            diets=_listed(request, "diet", DIETS),
            exclude_allergens=_listed(request, "exclude_allergen", ALLERGENS),
            limit=50,
        )
        return Response(RecipeSerializer([_recipe_json(r) for r in recipes], many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        catalogue = load_catalogue()
        if pk not in catalogue.recipes:
            raise services.PlanMissing("No such recipe.")
        return Response(RecipeSerializer(_recipe_json(catalogue.recipe(pk))).data)


router = SimpleRouter()
router.register("nutrition", NutritionViewSet, basename="nutrition")
router.register("food-log", FoodLogViewSet, basename="food-log")
router.register("foods", FoodViewSet, basename="foods")
router.register("recipes", RecipeViewSet, basename="recipes")

urlpatterns = [path("", include(router.urls))]
