"""The import rules of DESIGN.md ("Which app may import which"), checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("coaching", "athletes", "programs", "nutrition", "billing", "privacy")
# app -> apps it must never import (privacy sits on top: it reaches the others through
# the registries in athletes/privacy.py; only config imports it)
FORBIDDEN = {
    "coaching": {"athletes", "programs", "nutrition", "billing", "privacy"},
    "athletes": {"programs", "nutrition", "billing", "privacy"},
    "programs": {"nutrition", "billing", "privacy"},
    "nutrition": {"billing", "privacy"},
    "billing": {"programs", "nutrition", "privacy"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _sources(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def test_apps_import_only_downwards():
    violations = []
    for app, forbidden in FORBIDDEN.items():
        for path in _sources(app):
            for name in _imports(path):
                if name.split(".")[0] in forbidden:
                    violations.append(f"{path.relative_to(ROOT)} imports {name}")
    assert violations == []


def test_only_the_billing_gateway_imports_stripe():
    importers = [
        str(path.relative_to(ROOT))
        for app in (*APPS, "config")
        for path in _sources(app)
        if any(name.split(".")[0] == "stripe" for name in _imports(path))
    ]
    assert set(importers) <= {"billing/gateway.py"}
