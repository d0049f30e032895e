from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "programs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Withdrawing `ml_personalisation` deletes the athlete's fitted models (issue 8);
        # athletes may not import programs, so programs registers the hook.
        from athletes import consent
        from programs.services.learning import athlete_models_delete

        consent.on_withdraw(consent.ML_PERSONALISATION, athlete_models_delete)
        from coaching import nightly
        from programs import privacy  # noqa: F401 - fills athletes.privacy
        from programs.nightly import ORDER, programs_night, programs_prepare

        nightly.register_step("programs", programs_night, ORDER, prepare=programs_prepare)
        # Onboarding's questionnaire: main-lift bests and the first block (issue 10).
        from athletes import onboarding
        from programs.onboarding import SECTION

        onboarding.register_section(SECTION)
        from programs import (
            dashboard,  # noqa: F401 - fills the coach dashboard's columns
            today,  # noqa: F401 - fills athletes.today (issue 10, Today page)
        )
        from programs.imports import register as register_importers

        register_importers()  # FIT and CSV-lift importers (issue 11)
