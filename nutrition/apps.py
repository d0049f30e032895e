from django.apps import AppConfig


class NutritionConfig(AppConfig):
    name = "nutrition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Energy changes live in programs' review queue; programs can't import us, so we
        # tell it how to read, write and edit them (programs.services.subjects).
        from nutrition import services
        from programs.models import Adjustment
        from programs.services import subjects

        subjects.register(Adjustment.Subject.ENERGY, services.ENERGY_SUBJECT)
        from coaching import nightly
        from nutrition import privacy  # noqa: F401 - fills athletes.privacy
        from nutrition.nightly import ORDER, nutrition_night, nutrition_prepare

        nightly.register_step("nutrition", nutrition_night, ORDER, prepare=nutrition_prepare)
        # Onboarding's questionnaire: food preferences and the first meal plan (issue 10).
        from athletes import onboarding
        from nutrition.onboarding import SECTION

        onboarding.register_section(SECTION)
        # The progress page's body-weight chart (programs can't import us; issue 10).
        from nutrition.progress import PROVIDER
        from programs import progress

        progress.register_panel(PROVIDER)
        from nutrition import today  # noqa: F401 - fills athletes.today (issue 10, Today page)
