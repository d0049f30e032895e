"""Liveness of the parts a request or a night run needs: database, cache, broker."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    cache.set("healthz", "ok", 10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was written")


def _broker() -> None:
    from config.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER and app.conf.broker_url.startswith("memory"):
        return
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


def check_all() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "down"
            results[name] = f"down: {type(exc).__name__}"
    return results
