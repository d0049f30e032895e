from __future__ import annotations

from django.apps import AppConfig


def _entitled_ids_or_everyone() -> set[int] | None:
    """`product_access` for a whole tenant in two queries: a business that doesn't sell
    online gives access with the enrolment (None = everyone)."""
    from billing import selectors

    account = selectors.billing_account()
    if account is None or not account.can_sell:
        return None
    return selectors.entitled_athlete_ids()


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from athletes import access
        from billing import (
            privacy,  # noqa: F401 - fills athletes.privacy
            selectors,
            views,
        )
        from coaching import middleware

        # Pages and nightly steps ask `athletes.access`; programs and nutrition can't
        # import billing, so billing tells athletes how to decide.
        access.register(selectors.product_access)
        access.register_bulk(_entitled_ids_or_everyone)
        # A suspended business is read-only, except that its owner can still pay the
        # platform plan that lifts the suspension.
        middleware.allow_while_suspended(views.is_platform_plan_payment)
        # Platform staff's business list (coaching) shows each one's plan and billed clients.
        from coaching import selectors as coaching_selectors

        coaching_selectors.register_staff_tenant_facts(views.staff_tenant_facts)
        from billing import dashboard  # noqa: F401 - fills the coach dashboard's columns
