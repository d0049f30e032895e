from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project itself: settings, urls, and commands that span every app."""

    name = "config"
    label = "config"
