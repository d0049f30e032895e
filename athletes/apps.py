from django.apps import AppConfig


class AthletesConfig(AppConfig):
    name = "athletes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from athletes import privacy_registrations  # noqa: F401 - fills athletes.privacy
