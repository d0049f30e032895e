"""Complete settings, driven by environment variables.

`local`, `test` and `production` only change defaults or harden; nothing here is on in
production by accident. Production secrets have no default there, so a missing one
stops the boot.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = env("SECRET_KEY", "local-dev-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,.localhost")

# Tenants live on subdomains of this domain (acme.<TENANT_BASE_DOMAIN>); in local/dev
# and tests a `/t/<slug>/` path prefix works too.
TENANT_BASE_DOMAIN = env("TENANT_BASE_DOMAIN", "localhost")
TENANT_PATH_PREFIX_ENABLED = env_bool("TENANT_PATH_PREFIX_ENABLED", True)
# Scheme and host put in front of `/t/<slug>/` links in e-mails (path-prefix mode only).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "coaching",
    "athletes",
    "programs",
    "nutrition",
    "billing",
    "privacy",
    # The project package, for the commands that span every app (seed_demo).
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "coaching.middleware.TenantMiddleware",
    "coaching.audit.AuditContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coaching.context_processors.tenant",
                "athletes.context_processors.consent_prompt",
            ],
        },
    },
]

# DATABASE_URL is the *application* role: it must not own the tables, so PostgreSQL's
# row-level security applies to it. Migrations run with the owner's URL in
# DATABASE_URL (see README). The engine wraps Django's PostgreSQL backend to set
# `app.tenant_id` per transaction.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "coaching.dbbackend"
# Requests run in one transaction: one `set_config('app.tenant_id', ..., true)` per
# request instead of one per statement.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# The role that web and worker processes connect as; migrations grant it DML on every
# table and it owns none.
DATABASE_APP_ROLE = env("DATABASE_APP_ROLE", "coaching_app")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Absolute, so the /t/<slug>/ script prefix never lands in asset URLs.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Personal-data exports (ZIPs): never under a static or media URL; served only by the
# privacy download view behind a signed, expiring link.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# --- allauth: e-mail login, mandatory verification, TOTP MFA, rate limits -----------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    # Failed logins per e-mail address and per IP; allauth shows a clear message.
    "login_failed": env("RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "login": env("RATE_LIMIT_LOGIN", "30/m/ip"),
    "signup": env("RATE_LIMIT_SIGNUP", "20/m/ip"),
    "reset_password": env("RATE_LIMIT_RESET_PASSWORD", "20/m/ip,5/m/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", "Coaching Platform")
# Roles that must have MFA before they reach any tenant data.
MFA_REQUIRED_ROLES = ("owner", "coach", "admin")

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Coaching Platform <no-reply@localhost>")

# --- API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "coaching.api_conf.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "coaching.api_conf.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Coaching Platform API",
    "DESCRIPTION": "Tenant-scoped API. Pick the tenant with the /t/<slug>/ prefix or the "
    "X-Tenant header; another tenant's object is a 404.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `kind`; name each choice set so the schema stays stable.
    "ENUM_NAME_OVERRIDES": {
        "SessionKindEnum": "programs.models.SessionKind",
        "PredictionKindEnum": "programs.models.Prediction.Kind",
    },
    # The enum hook is drf-spectacular's default; ours adds the one error body to every
    # operation (coaching/api_schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "coaching.api_schema.document_errors",
    ],
}

# --- Celery ----------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# Hard time limits stay under the visibility timeout, so a slow task is never
# redelivered while it still runs.
# (CELERY_VISIBILITY_TIMEOUT_S is lowered only by the worker-crash tests, so a killed
# worker's chunk comes back in seconds rather than an hour.)
from celery.schedules import crontab  # noqa: E402 - beside the schedule it builds

CELERY_VISIBILITY_TIMEOUT_S = int(env("CELERY_VISIBILITY_TIMEOUT_S", str(60 * 60)))
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The DatabaseScheduler syncs these into django-celery-beat's tables at start.
CELERY_BEAT_SCHEDULE = {
    # Hourly: each tenant's night starts in the first tick after 02:00 its local time.
    "nightly-dispatch": {"task": "coaching.nightly_dispatch", "schedule": crontab(minute=0)},
    "billing-sync-tenant-plans": {
        "task": "billing.sync_tenant_plans",
        "schedule": crontab(hour=4, minute=30),
    },
    "privacy-retention-run": {
        "task": "privacy.retention_run",
        "schedule": crontab(hour=5, minute=0),
    },
    "privacy-erasures-run": {"task": "privacy.erasures_run", "schedule": crontab(minute=20)},
    "privacy-erasure-reminders": {
        "task": "privacy.erasure_reminders",
        "schedule": crontab(minute=40),
    },
    "privacy-tenants-delete-due": {
        "task": "privacy.tenants_delete_due",
        "schedule": crontab(hour=5, minute=30),
    },
    "billing-prune-webhook-payloads": {
        "task": "billing.prune_webhook_payloads",
        "schedule": crontab(hour=3, minute=40),
    },
}

# --- Nightly pipeline (coaching.nightly) --------------------------------------------
NIGHTLY_CHUNK_SIZE = int(env("NIGHTLY_CHUNK_SIZE", "200"))
# A chunk's hard limit stays a tenth under the visibility timeout (and under the
# default task limit): Redis must never redeliver a chunk that is still running.
NIGHTLY_CHUNK_TIME_LIMIT = max(
    1,
    min(
        CELERY_TASK_TIME_LIMIT,
        CELERY_VISIBILITY_TIMEOUT_S - max(5, CELERY_VISIBILITY_TIMEOUT_S // 10),
    ),
)
# Where the nightly tasks go (empty: the default queue); a deployment may give the night
# its own workers, and the worker tests use a queue of their own.
NIGHTLY_QUEUE = env("NIGHTLY_QUEUE", "") or None
# Runs still queued/running this long after creation are resumed by the hourly tick.
NIGHTLY_RESUME_MINUTES = int(env("NIGHTLY_RESUME_MINUTES", "60"))

# `seed_demo` writes public passwords and a public TOTP secret: never in production.
DEMO_SEED_ALLOWED = env_bool("DEMO_SEED_ALLOWED", True)

# --- Stripe (used from the billing issue on) ---------------------------------------
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env("STRIPE_API_BASE", "")
# The platform's own price per active client per month, billed to each coaching business.
STRIPE_PLATFORM_PRICE_ID = env("STRIPE_PLATFORM_PRICE_ID", "")
# Days a settled Stripe event keeps its raw payload (it can quote a customer's e-mail).
STRIPE_EVENT_PAYLOAD_DAYS = int(env("STRIPE_EVENT_PAYLOAD_DAYS", "30"))

# --- Protection (DESIGN.md, Privacy) -------------------------------------------------
# Fernet keys for `coaching.fields.EncryptedTextField`, NEWEST FIRST, comma-separated in
# the environment. Rotation: prepend a new key, run `manage.py reencrypt_fields`, then
# drop the old one. No default here: local/test set non-secret dev keys, production
# refuses to boot without real ones.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
# Audit events older than this are deleted by `manage.py audit_prune`.
AUDIT_RETENTION_DAYS = int(env("AUDIT_RETENTION_DAYS", "730"))
# Days between offboarding a tenant (its full export is built then) and the deletion of
# its data (privacy.offboarding).
TENANT_OFFBOARD_RETENTION_DAYS = int(env("TENANT_OFFBOARD_RETENTION_DAYS", "30"))

# Logs carry ids, never names, e-mail addresses or health values.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
