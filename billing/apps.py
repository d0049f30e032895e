from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Pages and nightly steps ask `athletes.access`; programs and nutrition can't
        # import billing, so billing tells athletes how to decide.
        from athletes import access
        from billing import selectors

        access.register(selectors.product_access)
        from billing import privacy  # noqa: F401 - fills athletes.privacy
