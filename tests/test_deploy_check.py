"""`manage.py check --deploy` with production settings is clean, and production refuses
to boot without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x9!k2#Lq8@vZ4$wP7^nR3&tY6*uB1(eM5)hJ0_gD-cF=aS+oI-Lm3nB7vC9xZ2qW",
    "ALLOWED_HOSTS": ".coach.example",
    "TENANT_BASE_DOMAIN": "coach.example",
    "CSRF_TRUSTED_ORIGINS": "https://*.coach.example",
    "DATABASE_URL": "postgres://coaching_app@127.0.0.1:5432/coaching",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "STRIPE_SECRET_KEY": "sk_test_placeholder",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_placeholder",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
    "FIELD_ENCRYPTION_KEYS": "Zy1bhN3bEvyi6o0G0B-DAe1X8_XgWEz56V-4vm9f3mc=",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_boot_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
