"""The Celery app. Tasks take `tenant_id` explicitly: see `coaching.tasks.tenant_task`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("coaching_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
