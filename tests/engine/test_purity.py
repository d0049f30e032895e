"""Engines are pure: importing them must not import Django or any app (DESIGN.md)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE_PACKAGES = ["programs.engine", "nutrition.engine"]


def _engine_modules() -> list[str]:
    modules = []
    for package in ENGINE_PACKAGES:
        path = ROOT / package.replace(".", "/")
        modules.append(package)
        modules += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
    return modules


def test_engines_import_nothing_of_django_or_the_apps():
    modules = _engine_modules()
    assert "programs.engine.strength" in modules and "nutrition.engine.mealplan" in modules
    # An engine may import its own package (and Python imports the app package holding
    # it, an empty __init__), nothing else of Django or of any app.
    probe = (
        "import importlib, sys\n"
        f"engines = {ENGINE_PACKAGES!r}\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "apps = {'django', 'rest_framework', 'celery', 'coaching', 'athletes', 'programs', "
        "'nutrition', 'billing'}\n"
        "allowed = {e.split('.')[0] for e in engines}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in apps and m not in allowed "
        "and not any(m == e or m.startswith(e + '.') for e in engines))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
