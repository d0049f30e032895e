"""/healthz against the real PostgreSQL and Redis, and with one dependency unreachable.

"Unreachable" is a closed local port: the check has to open a real connection to notice.
Celery reads its broker URL through Django's settings (`config_from_object`), so the
`settings` fixture redirects the broker too; the cache handler resets on CACHES changes.
"""

from __future__ import annotations

import pytest

# Nothing listens on port 1: connecting is refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def broker_from_settings(monkeypatch):
    """An exported CELERY_BROKER_URL would win over settings in Celery's conf."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)


def test_healthz_is_ok_when_database_cache_and_broker_answer(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
        "down": [],
    }
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_naming_the_broker_when_it_is_unreachable(client, db, settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["broker"]
    assert body["checks"]["broker"].startswith("down: ")
    assert body["checks"]["database"] == body["checks"]["cache"] == "ok"


def test_healthz_is_503_naming_the_cache_when_it_is_unreachable(client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["cache"]
    assert body["checks"]["cache"].startswith("down: ")
    assert body["checks"]["database"] == body["checks"]["broker"] == "ok"
