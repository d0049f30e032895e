from django import template

register = template.Library()


@register.filter
def money(minor_units: int | None, currency: str = "") -> str:
    """Minor units (cents) as an amount: 1250, "eur" → "12.50 EUR"."""
    if minor_units is None:
        return "—"
    return f"{minor_units / 100:,.2f} {currency.upper()}".strip()
