from django.apps import AppConfig


class AthletesConfig(AppConfig):
    name = "athletes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from athletes import (
            access,
            consent,
            privacy_registrations,  # noqa: F401 - fills athletes.privacy
        )
        from coaching import lifecycle, nightly

        # The nightly frame (coaching) may not import athletes: tell it who subscribes.
        nightly.register_subscribers(
            nightly.SubscriberSource(
                ids=access.subscriber_ids,
                load=access.subscribers_by_ids,
                denied=access.denied_reasons,
            )
        )
        # A new business asks for consent from day one: seed the default texts.
        lifecycle.on_tenant_created(lambda tenant: consent.policies_current())
        # The tenant home sends a client with an unfinished onboarding to its next step.
        from athletes import onboarding
        from coaching import routing

        routing.register_client_next_step(onboarding.next_step_url)
        from athletes import (
            dashboard,  # noqa: F401 - fills the coach dashboard's columns
            importers,
        )

        importers.register()
