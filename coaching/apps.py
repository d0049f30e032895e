from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_rls(sender, using: str = "default", **kwargs) -> None:
    from django.db import connections

    from coaching.rls import install_row_level_security

    install_row_level_security(connections[using])


class CoachingConfig(AppConfig):
    name = "coaching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Schema work, not domain flow: RLS must follow every migrate, whoever runs it.
        post_migrate.connect(_install_rls, sender=self, dispatch_uid="coaching.install_rls")
