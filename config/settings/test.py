"""Tests: real PostgreSQL and Redis on 127.0.0.1.

DATABASE_URL here is the *owner* (it creates the test database and runs migrations);
`tests/conftest.py` then reconnects as DATABASE_APP_ROLE, which owns nothing, so every
test runs under row-level security exactly as the web and worker processes do.
"""

import dj_database_url

from .base import *  # noqa: F403
from .base import DATABASES, FIELD_ENCRYPTION_KEYS, REDIS_URL, env

DATABASES["default"] = dj_database_url.parse(
    env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coaching"),
    conn_max_age=0,
)
DATABASES["default"]["ENGINE"] = "coaching.dbbackend"
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", "test_coaching")}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("TEST_REDIS_URL", REDIS_URL.rsplit("/", 1)[0] + "/15"),
        "KEY_PREFIX": "test",
    }
}
CELERY_BROKER_URL = env("TEST_REDIS_URL", REDIS_URL.rsplit("/", 1)[0] + "/14")
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests exercise the rate limiter deliberately; elsewhere it must not interfere.
ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip,1000/m/key"}
# NOT SECRET: a fixed, public test key (base64 of "TEST-ONLY-not-secret-field-key01").
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or ["VEVTVC1PTkxZLW5vdC1zZWNyZXQtZmllbGQta2V5MDE="]
