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


# Seconds a probe may wait for the broker: a load balancer gives up on /healthz soon.
BROKER_TIMEOUT = 2


def _broker() -> None:
    from config.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER and app.conf.broker_url.startswith("memory"):
        return
    # A fresh connection, not the pool: a pooled one may be stale or already open. The
    # Redis transport ignores `connect_timeout` and reads socket timeouts from the
    # transport options; without them an unreachable host blocks for the OS TCP timeout.
    # kombu's defaults would also sleep 2 s before the single retry; fail fast instead.
    with app.connection_for_write(
        transport_options={
            "socket_connect_timeout": BROKER_TIMEOUT,
            "socket_timeout": BROKER_TIMEOUT,
        }
    ) as conn:
        conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)


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
