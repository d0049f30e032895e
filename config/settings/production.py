"""Production: PostgreSQL, Redis, HTTPS. Secrets come from the environment, no defaults."""

import os

import dj_database_url
from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import DATABASES, env, env_list

SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise RuntimeError("ALLOWED_HOSTS must be set in production")
DEBUG = False

DATABASES["default"] = dj_database_url.parse(
    os.environ["DATABASE_URL"],
    conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
    conn_health_checks=True,
)
DATABASES["default"]["ENGINE"] = "coaching.dbbackend"
DATABASES["default"]["ATOMIC_REQUESTS"] = True

REDIS_URL = os.environ["REDIS_URL"]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)

TENANT_PATH_PREFIX_ENABLED = False
DEMO_SEED_ALLOWED = False
TENANT_BASE_DOMAIN = os.environ["TENANT_BASE_DOMAIN"]

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
STRIPE_SECRET_KEY = os.environ["STRIPE_SECRET_KEY"]
STRIPE_PUBLISHABLE_KEY = os.environ["STRIPE_PUBLISHABLE_KEY"]
STRIPE_WEBHOOK_SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]

# Field encryption keys (comma-separated Fernet keys, newest first): required, and the
# public dev/test keys are refused.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS:
    raise RuntimeError("FIELD_ENCRYPTION_KEYS must be set in production")
_PUBLIC_DEV_KEYS = {
    "REVWLU9OTFktbm90LXNlY3JldC1maWVsZC1rZXktMDE=",  # config/settings/local.py
    "VEVTVC1PTkxZLW5vdC1zZWNyZXQtZmllbGQta2V5MDE=",  # config/settings/test.py
}
if _PUBLIC_DEV_KEYS & set(FIELD_ENCRYPTION_KEYS):
    raise RuntimeError("FIELD_ENCRYPTION_KEYS holds a public development key")
for _key in FIELD_ENCRYPTION_KEYS:
    Fernet(_key)  # a malformed key stops the boot here, not at the first write
