"""programs.ml stays cheap and pure to import: no Django, no app, no scikit-learn/SciPy.

scikit-learn costs about a second at import; web processes import these modules for
their dataclasses and must not pay for it. Checked in a fresh interpreter, because this
test process has long imported everything.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY_OR_FORBIDDEN = {
    "sklearn",
    "scipy",
    "django",
    "rest_framework",
    "celery",
    "coaching",
    "athletes",
    "nutrition",
    "billing",
}


def test_importing_programs_ml_loads_neither_sklearn_nor_django():
    modules = ["programs.ml"] + [
        f"programs.ml.{m.name}" for m in pkgutil.iter_modules([str(ROOT / "programs" / "ml")])
    ]
    assert {"programs.ml.anomaly", "programs.ml.plateau", "programs.ml.bench"} <= set(modules)
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{sorted(HEAVY_OR_FORBIDDEN)!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
