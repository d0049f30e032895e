"""Local product run: SQLite, eager Celery, console e-mail. Nothing to install but pip."""

from .base import *  # noqa: F403
from .base import FIELD_ENCRYPTION_KEYS, env_bool

DEBUG = env_bool("DEBUG", True)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# NOT SECRET: a fixed, public development key (base64 of "DEV-ONLY-not-secret-field-key-01")
# so local data survives restarts. Never use it for real data; production requires its own.
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or ["REVWLU9OTFktbm90LXNlY3JldC1maWVsZC1rZXktMDE="]
