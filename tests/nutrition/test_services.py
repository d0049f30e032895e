"""Nutrition services on PostgreSQL with RLS: targets fuelled by tomorrow's training, the
meal plan, the night (idempotent, re-planning only what changed), swaps, locks, the
shopping list, the food log and adaptive expenditure as a revertible Adjustment."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from athletes.models import AthleteProfile
from coaching.models import Membership
from coaching.tenancy import tenant_context
from nutrition import reports, selectors, services, shopping
from nutrition.catalogue import load_catalogue
from nutrition.models import DayTarget, NutritionRun, PlanDay
from programs import selectors as program_selectors
from programs import services as program_services
from programs.models import Adjustment, PlannedSession
from tests import factories

TODAY = timezone.localdate()
START = TODAY - datetime.timedelta(days=7)
WEEKDAYS = [(TODAY.weekday() + offset) % 7 for offset in (0, 2, 4)]


@pytest.fixture
def athlete(tenant_a, client_a):
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS
    )
    factories.checkin(
        tenant_a, client_a, TODAY - datetime.timedelta(days=1), body_weight_kg=Decimal("70.0")
    )
    with tenant_context(tenant_a):
        yield AthleteProfile.objects.get(pk=profile.pk)


def _sessions_by_day(athlete):
    out = {}
    for s in PlannedSession.objects.filter(athlete=athlete, rest_day=False):
        out.setdefault(s.date, []).append(s)
    return out


def test_targets_fuel_tomorrows_training_and_keep_the_weekly_energy(athlete):
    # 90-minute sessions are "high" days (1–3 h); a 34-minute one would be "light", whose
    # band (3–5 g/kg) is the rest day's.
    PlannedSession.objects.filter(athlete=athlete).update(duration_min=90)
    refresh = services.nutrition_refresh(athlete=athlete, start=TODAY)
    rows = selectors.targets_between(athlete, TODAY, TODAY + datetime.timedelta(days=6))
    assert len(rows) == 7 and len(refresh.planned) == 7
    sessions = _sessions_by_day(athlete)
    before_training = [r for d, r in rows.items() if d + datetime.timedelta(days=1) in sessions]
    before_rest = [r for d, r in rows.items() if d + datetime.timedelta(days=1) not in sessions]
    assert before_training and before_rest
    assert min(r.carbs_g for r in before_training) > max(r.carbs_g for r in before_rest)
    for row in before_training:
        assert "tomorrow" in row.reasons[0] and "carbohydrate day" in row.reasons[0]
    for row in before_rest:
        assert row.reasons[0].endswith("rest day tomorrow.")
    # The week keeps its energy unless a day's carbohydrate floor binds; then the reasons
    # say so (SCIENCE.md §4: carbohydrate is at least the band's lower end).
    average = rows[TODAY].inputs["average_energy_kcal"]
    total = sum(r.energy_kcal for r in rows.values())
    floored = any("floor" in reason for r in rows.values() for reason in r.reasons)
    assert total >= 7 * average - 7
    assert abs(total - 7 * average) <= 7 or floored
    for row in rows.values():
        assert row.protein_g * 4 + row.carbs_g * 4 + row.fat_g * 9 == row.energy_kcal


def test_targets_need_a_body_weight(tenant_a, client_a):
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
        with pytest.raises(services.NoBodyWeight):
            services.nutrition_refresh(athlete=athlete, start=TODAY)
        assert not DayTarget.objects.exists()


def _within(row: PlanDay) -> bool:
    tol = row.tolerance
    target = row.target
    totals = row.totals
    return all(
        abs(totals[name] - target[name]) <= tol[key] * target[name] + 0.5
        for name, key in (
            ("energy_kcal", "energy"),
            ("protein_g", "protein"),
            ("carbs_g", "carbs"),
            ("fat_g", "fat"),
        )
    )


def test_every_planned_day_is_within_tolerance_and_respects_the_hard_rules(athlete):
    services.preferences_update(
        athlete=athlete,
        data={"diet": "vegetarian", "allergies": ["peanuts", "tree-nuts"], "meals_per_day": 5},
    )
    services.nutrition_refresh(athlete=athlete, start=TODAY)
    catalogue = load_catalogue()
    plans = selectors.plan_days_between(athlete, TODAY, TODAY + datetime.timedelta(days=6))
    assert len(plans) == 7
    for row in plans.values():
        assert row.feasible, row.message
        assert _within(row), (row.target, row.totals, row.tolerance)
        assert len(row.meals) == 5
        for meal in row.meals:
            for item in meal["items"]:
                kind, _, slug = item["key"].partition(":")
                thing = catalogue.recipe(slug) if kind == "recipe" else catalogue.food(slug)
                assert not thing.allergens & {"peanuts", "tree-nuts"}
                assert "vegetarian" in thing.diets


def test_no_recipe_twice_within_three_days(athlete):
    services.nutrition_refresh(athlete=athlete, start=TODAY)
    plans = selectors.plan_days_between(athlete, TODAY, TODAY + datetime.timedelta(days=6))
    days = sorted(plans)
    for i, day in enumerate(days):
        for other in days[i + 1 : i + 3]:
            assert not services._recipes_in(plans[day]) & services._recipes_in(plans[other])


def test_the_night_is_idempotent_and_replans_only_days_whose_target_changed(athlete):
    night = TODAY - datetime.timedelta(days=1)
    run = services.plan_nutrition(athlete=athlete, date=night)
    assert len(run.days_planned) == 7 and run.infeasible == []
    stamps = {p.date: p.updated for p in PlanDay.objects.filter(athlete=athlete)}
    again = services.plan_nutrition(athlete=athlete, date=night)
    assert again.pk == run.pk and NutritionRun.objects.count() == 1
    assert {p.date: p.updated for p in PlanDay.objects.filter(athlete=athlete)} == stamps

    # A longer session the day after tomorrow changes one day's target: only it is re-planned.
    session = min(
        (
            s
            for s in PlannedSession.objects.filter(athlete=athlete, rest_day=False)
            if s.date > TODAY + datetime.timedelta(days=1)
        ),
        key=lambda s: s.date,
    )
    session.duration_min = 200
    session.save(update_fields=["duration_min"])
    refresh = services.nutrition_refresh(athlete=athlete, start=TODAY)
    fuelled = session.date - datetime.timedelta(days=1)
    assert fuelled in refresh.targets_changed
    assert set(refresh.planned) <= set(refresh.targets_changed)
    assert fuelled in refresh.planned
    assert selectors.targets_between(athlete, fuelled, fuelled)[fuelled].day_load == "high"


def test_a_small_target_drift_keeps_the_meals_and_repoints_the_plan(tenant_a, client_a, athlete):
    first = services.nutrition_refresh(athlete=athlete, start=TODAY)
    assert len(first.planned) == 7
    meals = {p.date: p.meals for p in PlanDay.objects.filter(athlete=athlete)}
    # a weigh-in 0.5 kg up moves every target a little (BMR and protein follow the weight)
    factories.checkin(tenant_a, client_a, TODAY, body_weight_kg=Decimal("70.5"))

    drift = services.nutrition_refresh(athlete=athlete, start=TODAY)

    assert drift.targets_changed, "the weigh-in should move the targets"
    targets = selectors.targets_between(athlete, TODAY, TODAY + datetime.timedelta(days=6))
    for plan in PlanDay.objects.filter(athlete=athlete):
        assert plan.target == services._target_json(targets[plan.date])  # re-pointed
        assert services.plan_still_fits(plan, plan.target)
        if plan.date not in drift.planned:
            assert plan.meals == meals[plan.date]  # kept as it was
    assert len(drift.planned) < len(drift.targets_changed)


def test_a_night_that_hasnt_happened_is_refused(athlete):
    with pytest.raises(services.NutritionError, match="hasn't happened yet"):
        services.plan_nutrition(athlete=athlete, date=TODAY + datetime.timedelta(days=1))


def test_swap_keeps_the_day_on_target_and_lock_survives_a_replan(athlete):
    services.nutrition_refresh(athlete=athlete, start=TODAY)
    day = TODAY + datetime.timedelta(days=1)
    row = selectors.plan_days_between(athlete, day, day)[day]
    options = services.swap_options(row, "lunch")
    assert options
    current = next(m for m in row.meals if m["slot"] == "lunch")["items"][0]["key"]
    assert all(o.items[0].key != current for o in options)
    chosen = options[0].items[0].key
    row = services.meal_swap(athlete=athlete, date=day, slot="lunch", key=chosen)
    assert next(m for m in row.meals if m["slot"] == "lunch")["items"][0]["key"] == chosen
    assert _within(row)

    with pytest.raises(services.NutritionError, match="isn't a swap"):
        services.meal_swap(athlete=athlete, date=day, slot="lunch", key="recipe:nope")
    with pytest.raises(services.NutritionError, match="No meal 'brunch'"):
        services.meal_lock(athlete=athlete, date=day, slot="brunch", locked=True)

    services.meal_lock(athlete=athlete, date=day, slot="lunch", locked=True)
    locked = next(
        m for m in PlanDay.objects.get(athlete=athlete, date=day).meals if m["slot"] == "lunch"
    )
    replanned = services.day_replan(athlete=athlete, date=day)
    assert replanned.revision == 1
    assert next(m for m in replanned.meals if m["slot"] == "lunch") == locked
    assert _within(replanned) or replanned.relaxations


def test_shopping_list_totals_equal_the_plan_and_ticks_survive(athlete):
    services.nutrition_refresh(athlete=athlete, start=TODAY)
    end = TODAY + datetime.timedelta(days=6)
    catalogue = load_catalogue()
    plans = selectors.plan_days_between(athlete, TODAY, end)
    expected = 0.0
    for row in plans.values():
        for meal in row.meals:
            for item in meal["items"]:
                kind, _, slug = item["key"].partition(":")
                if kind == "recipe":
                    recipe = catalogue.recipe(slug)
                    expected += (
                        sum(g for _, g in recipe.ingredients) * item["portions"] / recipe.servings
                    )
                else:
                    expected += item["grams"]
    report = reports.shopping_for(athlete, TODAY, end)
    assert report.shopping.total_grams == pytest.approx(expected, abs=0.1 * len(report.items))
    for item in report.items:
        assert item.units * item.unit_grams >= item.grams - 0.05

    food = report.items[0].food
    services.shopping_tick(athlete=athlete, start=TODAY, end=end, food=food, ticked=True)
    services.nutrition_refresh(athlete=athlete, start=TODAY, replan=True)
    again = reports.shopping_for(athlete, TODAY, end)
    assert (
        food not in {i.food for i in again.items}
        or next(i for i in again.items if i.food == food).ticked
    )
    text = reports.shopping_text(again)
    assert "Shopping list" in text and "[ ]" in text
    csv_text = reports.shopping_csv(again)
    assert csv_text.splitlines()[0].startswith("section,food,name,grams_needed")
    with pytest.raises(services.NutritionError, match="Unknown food"):
        services.shopping_tick(
            athlete=athlete, start=TODAY, end=end, food="unobtainium", ticked=True
        )


def test_food_log_by_portions_and_grams_and_adherence(athlete):
    catalogue = load_catalogue()
    food = next(f for f in catalogue.foods.values() if f.snack_slots)
    label, grams = food.default_portion
    by_portion = services.food_log_add(
        athlete=athlete, date=TODAY, key=f"food:{food.slug}", portions=2
    )
    assert float(by_portion.grams) == pytest.approx(2 * grams, abs=0.1)
    assert by_portion.energy_kcal == pytest.approx(food.kcal * 2 * grams / 100, abs=0.2)
    sized = next(f for f in catalogue.foods.values() if len(f.portions) > 1)
    label, size = sized.portions[1]
    named = services.food_log_add(
        athlete=athlete, date=TODAY, key=f"food:{sized.slug}", portions=1, portion=label
    )
    assert float(named.grams) == pytest.approx(size, abs=0.1)
    with pytest.raises(services.NutritionError, match="comes in"):
        services.food_log_add(
            athlete=athlete, date=TODAY, key=f"food:{sized.slug}", portions=1, portion="a bucket"
        )
    named.delete()
    recipe = next(iter(catalogue.recipes.values()))
    entry = services.food_log_add(
        athlete=athlete, date=TODAY, key=f"recipe:{recipe.slug}", portions=1
    )
    assert entry.energy_kcal == pytest.approx(recipe.per_serving.kcal, abs=0.2)
    for bad, message in (
        ({"key": "food:unobtainium", "grams": 100}, "Unknown food or recipe"),
        ({"key": f"food:{food.slug}"}, "Give grams or portions"),
        ({"key": f"food:{food.slug}", "grams": 0}, "Grams must be"),
    ):
        with pytest.raises(services.NutritionError, match=message):
            services.food_log_add(athlete=athlete, date=TODAY, **bad)
    services.nutrition_refresh(athlete=athlete, start=TODAY)
    day = reports.adherence(athlete, TODAY, TODAY)[0]
    target = DayTarget.objects.get(athlete=athlete, date=TODAY)
    eaten = by_portion.energy_kcal + entry.energy_kcal
    assert day["percent"]["energy_kcal"] == round(100 * eaten / target.energy_kcal)


def test_bad_preferences_are_refused_and_nothing_is_stored(athlete):
    for data, field in (
        ({"allergies": ["kryptonite"]}, "allergies"),
        ({"restrictions": ["raw-only"]}, "restrictions"),
        ({"dislikes": ["unobtainium"]}, "dislikes"),
        ({"favourites": ["banana"]}, "favourites"),
        ({"goal": "lose", "rate_percent_per_week": Decimal("3")}, "rate_percent_per_week"),
    ):
        with pytest.raises(services.NutritionError) as error:
            services.preferences_update(athlete=athlete, data=data)
        assert field in error.value.fields
    assert selectors.profile_of(athlete).pk is None


def test_an_impossible_fixed_protein_target_is_a_clear_error(tenant_a, client_a):
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
    factories.checkin(tenant_a, client_a, TODAY, body_weight_kg=Decimal("40.0"))
    with tenant_context(tenant_a):
        with pytest.raises(services.NutritionError) as error:
            services.preferences_update(
                athlete=athlete, data={"protein_g_override": 200, "energy_kcal_override": 1200}
            )
        fields = error.value.fields
        assert "5.0 g/kg" in fields["protein_g_override"][0]
        assert "1,200 kcal can't hold 200 g of protein" in fields["energy_kcal_override"][0]
        assert selectors.profile_of(athlete).pk is None


def _history(tenant, account, athlete, *, days=28, start_kg=80.0, kg_per_week=-0.5, kcal=2000):
    """Daily weigh-ins on a steady trend and a logged intake of `kcal` every day."""
    catalogue = load_catalogue()
    food = next(f for f in catalogue.foods.values() if f.kcal > 300 and f.snack_slots)
    for offset in range(days):
        day = TODAY - datetime.timedelta(days=days - offset)
        kg = start_kg + kg_per_week / 7 * offset
        factories.checkin(tenant, account, day, body_weight_kg=Decimal(f"{kg:.2f}"))
        with tenant_context(tenant):
            services.food_log_add(
                athlete=athlete, date=day, key=f"food:{food.slug}", grams=kcal / food.kcal * 100
            )


@pytest.mark.parametrize("autonomy", ["auto", "queue"])
def test_adaptive_expenditure_is_an_explained_revertible_adjustment(
    tenant_a, client_a, coach_a, autonomy
):
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS, autonomy=autonomy
    )
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(pk=profile.pk)
    _history(tenant_a, client_a, athlete)
    night = TODAY - datetime.timedelta(days=1)
    with tenant_context(tenant_a):
        formula = services.compute_targets(athlete, TODAY).inputs["expenditure_kcal"]
        run = services.plan_nutrition(athlete=athlete, date=night)
        estimate = run.expenditure
        # 2,000 kcal a day while losing 0.5 kg a week: about 2,000 + 550 = 2,550 kcal.
        assert estimate.adaptive_kcal == pytest.approx(2550, abs=15)
        adjustment = estimate.adjustment
        assert adjustment is not None and adjustment.subject == "energy"
        assert "you logged 2,000 kcal a day" in adjustment.sentence
        assert "fell 0.50 kg a week" in adjustment.sentence
        expected = min(max(2550, formula * 0.9), formula * 1.1)
        assert adjustment.after["expenditure_kcal"] == pytest.approx(expected, abs=15)
        coach = Membership.objects.get(user=coach_a)
        if autonomy == "queue":
            assert adjustment.status == "pending"
            queue = program_selectors.adjustment_queue(
                program_selectors.adjustments_visible_to(coach)
            )
            assert adjustment in queue
            program_services.adjustment_approve(adjustment=adjustment, by=coach)
        adjustment.refresh_from_db()
        assert adjustment.status == "applied"
        assert (
            selectors.profile_of(athlete).expenditure_kcal == adjustment.after["expenditure_kcal"]
        )
        tomorrow = selectors.targets_between(athlete, TODAY, TODAY + datetime.timedelta(days=1))
        assert (
            tomorrow[TODAY + datetime.timedelta(days=1)].inputs["expenditure_source"] == "measured"
        )

        revert = program_services.adjustment_revert(adjustment=adjustment, by=coach)
        assert revert.subject == "energy" and revert.after == {"expenditure_kcal": None}
        assert selectors.profile_of(athlete).expenditure_kcal is None
        assert Adjustment.objects.get(pk=adjustment.pk).status == "reverted"

        # A week later with no new data in range: a new reading, not a duplicate.
        assert services.expenditure_update(athlete=athlete, date=night) is None


def test_too_little_data_gives_a_reading_that_says_so(athlete):
    run = services.plan_nutrition(athlete=athlete, date=TODAY - datetime.timedelta(days=1))
    assert run.expenditure.adaptive_kcal is None
    assert "Not enough data yet" in run.expenditure.note
    assert not Adjustment.objects.filter(subject="energy").exists()


def test_a_coach_edits_an_energy_proposal(tenant_a, client_a, coach_a):
    profile, _ = factories.enrolled_strength_athlete(
        tenant_a, client_a, start=START, weekdays=WEEKDAYS, autonomy="approve"
    )
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(pk=profile.pk)
    _history(tenant_a, client_a, athlete)
    with tenant_context(tenant_a):
        run = services.plan_nutrition(athlete=athlete, date=TODAY - datetime.timedelta(days=1))
        adjustment = run.expenditure.adjustment
        assert adjustment.status == "pending"
        coach = Membership.objects.get(user=coach_a)
        with pytest.raises(services.NutritionError, match="expenditure_kcal"):
            program_services.adjustment_edit_approve(
                adjustment=adjustment, by=coach, after={"expenditure_kcal": 50}
            )
        edited = program_services.adjustment_edit_approve(
            adjustment=adjustment, by=coach, after={"expenditure_kcal": 2500}
        )
        assert edited.status == "applied" and edited.source == "coach"
        assert edited.sentence.startswith("Energy expenditure")
        assert selectors.profile_of(athlete).expenditure_kcal == 2500


def test_pure_shopping_list_rounds_up_to_whole_units():
    catalogue = load_catalogue()
    food = next(f for f in catalogue.foods.values() if f.purchase_g >= 100)
    listed = shopping.shopping_list({food.slug: food.purchase_g * 1.2}, catalogue)
    assert listed.items[0].units == 2


def test_bench_nutrition_times_the_service_and_leaves_the_data_alone(athlete):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("bench_nutrition", stdout=out)
    text = out.getvalue()
    assert "Athletes: 1 " in text and "Re-plan 7 days:" in text and "Queries per re-plan" in text
    assert not PlanDay.objects.exists() and not DayTarget.objects.exists()
