"""Shopping lists are arithmetic on the plan, property-tested: whatever the plan, the list
holds exactly the plan's grams of each food, buys whole units that cover them, and the
text and CSV exports list every item once."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from nutrition import shopping
from nutrition.catalogue import load_catalogue

CATALOGUE = load_catalogue()
CANDIDATES = CATALOGUE.candidates()

items = st.builds(
    lambda c, n: {"key": c.key, "portions": n, "grams": round(c.portion_grams * n, 1)},
    st.sampled_from(CANDIDATES),
    st.integers(1, 3),
)
meals = st.lists(
    st.builds(
        lambda xs: {"slot": "lunch", "kind": "lunch", "items": xs},
        st.lists(items, min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=30,
)


def _expanded(plan_meals) -> dict[str, float]:
    """The plan's grams by food, computed the long way round."""
    grams: dict[str, float] = defaultdict(float)
    for meal in plan_meals:
        for item in meal["items"]:
            kind, _, slug = item["key"].partition(":")
            if kind == "recipe":
                recipe = CATALOGUE.recipe(slug)
                for food, amount in recipe.ingredients:
                    grams[food] += amount * item["portions"] / recipe.servings
            else:
                grams[slug] += item["grams"]
    return grams


@settings(max_examples=150, deadline=None)
@given(plan_meals=meals, ticked=st.frozensets(st.sampled_from(sorted(CATALOGUE.foods)), max_size=5))
def test_the_list_holds_exactly_the_plans_grams_in_whole_units(plan_meals, ticked):
    expected = _expanded(plan_meals)
    grams = shopping.grams_by_food(plan_meals, CATALOGUE)
    assert set(grams) == set(expected)
    for food, amount in expected.items():
        assert abs(grams[food] - amount) < 1e-6

    listed = shopping.shopping_list(grams, CATALOGUE, ticked=ticked)
    assert abs(listed.total_grams - sum(expected.values())) <= 0.05 * len(listed.items)
    assert len({i.food for i in listed.items}) == len(listed.items) == len(expected)
    for item in listed.items:
        assert item.units >= 1
        assert item.units * item.unit_grams >= item.grams - 0.05  # enough is bought
        assert (item.units - 1) * item.unit_grams < item.grams  # and not a unit too many
        assert item.ticked == (item.food in ticked)
        assert item.pantry == CATALOGUE.food(item.food).pantry
    sections = [i.food for _, group in listed.sections() for i in group]
    assert sorted(sections) == sorted(i.food for i in listed.items)
    assert listed.cost == round(sum(i.cost for i in listed.items if not i.ticked), 2)

    rows = list(csv.DictReader(io.StringIO(shopping.as_csv(listed))))
    assert sorted(r["food"] for r in rows) == sorted(i.food for i in listed.items)
    text = shopping.as_text(listed, "Shopping list")
    assert text.count("[x]") == sum(i.ticked for i in listed.items)
    assert text.count("[ ]") == sum(not i.ticked for i in listed.items)
