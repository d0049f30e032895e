"""Shopping lists from meal plans: pure (no Django), so the arithmetic is property-tested.

The plan's items are expanded into the foods they are made of (a recipe serving is its
ingredients ÷ servings), summed by food, then rounded up to whole purchasable units
(a 500 g pack, one banana). Pantry staples (oil, spices, sauces) are listed apart: most
households have them, so the client ticks off what they already own.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nutrition.catalogue import Catalogue


@dataclass(frozen=True)
class ShoppingItem:
    food: str
    name: str
    store_section: str
    grams: float  # what the plan uses
    units: int  # purchasable units to buy
    unit_label: str
    unit_grams: float
    pantry: bool
    ticked: bool
    cost: float  # estimate for the units bought

    @property
    def label(self) -> str:
        return f"{self.units} × {self.unit_label}"


@dataclass(frozen=True)
class ShoppingList:
    items: tuple[ShoppingItem, ...]  # grouped by store section, then by name

    @property
    def total_grams(self) -> float:
        return sum(item.grams for item in self.items)

    @property
    def cost(self) -> float:
        """What's left to buy: ticked items are already at home."""
        return round(sum(item.cost for item in self.items if not item.ticked), 2)

    def sections(self) -> list[tuple[str, list[ShoppingItem]]]:
        """Non-pantry items by store section, pantry items last under "pantry staples"."""
        groups: dict[str, list[ShoppingItem]] = defaultdict(list)
        for item in self.items:
            groups["pantry staples" if item.pantry else item.store_section].append(item)
        order = sorted(k for k in groups if k != "pantry staples")
        if "pantry staples" in groups:
            order.append("pantry staples")
        return [(section, groups[section]) for section in order]


def grams_by_food(meals: Iterable[Mapping[str, Any]], catalogue: Catalogue) -> dict[str, float]:
    """Grams of each food that the meals (PlanDay.meals JSON) are made of."""
    grams: dict[str, float] = defaultdict(float)
    for meal in meals:
        for item in meal["items"]:
            kind, _, slug = item["key"].partition(":")
            if kind == "recipe":
                recipe = catalogue.recipe(slug)
                share = float(item["portions"]) / recipe.servings
                for food, amount in recipe.ingredients:
                    grams[food] += amount * share
            else:
                grams[slug] += float(item["grams"])
    return dict(grams)


def shopping_list(
    grams: Mapping[str, float], catalogue: Catalogue, *, ticked: Iterable[str] = ()
) -> ShoppingList:
    done = set(ticked)
    items = []
    for slug, needed in grams.items():
        if needed <= 0:
            continue
        food = catalogue.food(slug)
        units = max(1, math.ceil(needed / food.purchase_g - 1e-9))
        items.append(
            ShoppingItem(
                food=slug,
                name=food.name,
                store_section=food.store_section,
                grams=round(needed, 1),
                units=units,
                unit_label=food.purchase_label,
                unit_grams=food.purchase_g,
                pantry=food.pantry,
                ticked=slug in done,
                cost=round(units * food.purchase_g * food.price_per_kg / 1000, 2),
            )
        )
    items.sort(key=lambda i: (i.pantry, i.store_section, i.name.lower()))
    return ShoppingList(items=tuple(items))


def as_text(shopping: ShoppingList, title: str) -> str:
    lines = [title, ""]
    for section, items in shopping.sections():
        lines.append(section.replace("-", " ").capitalize())
        for item in items:
            box = "[x]" if item.ticked else "[ ]"
            lines.append(f"  {box} {item.name}: {item.label} (plan uses {item.grams:g} g)")
        lines.append("")
    lines.append(f"Estimated cost of what's left to buy: {shopping.cost:.2f}")
    return "\n".join(lines) + "\n"


def as_csv(shopping: ShoppingList) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["section", "food", "name", "grams_needed", "units", "unit", "pantry", "ticked", "cost"]
    )
    for section, items in shopping.sections():
        for item in items:
            writer.writerow(
                [
                    section,
                    item.food,
                    item.name,
                    f"{item.grams:g}",
                    item.units,
                    item.unit_label,
                    int(item.pantry),
                    int(item.ticked),
                    f"{item.cost:.2f}",
                ]
            )
    return out.getvalue()
