"""Layering: tui -> fleetcalc -> kernels, checked by import-linter and in a fresh interpreter."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return set(json.loads(out.stdout))


def test_import_fleetcalc_is_cheap() -> None:
    loaded = _modules_after("import fleetcalc")
    for heavy in ("numba", "polars", "textual", "numpy", "rich", "kernels"):
        assert heavy not in loaded, f"`import fleetcalc` pulls in {heavy}"


def test_headless_modules_never_import_textual() -> None:
    loaded = _modules_after(
        "import fleetcalc.engine, fleetcalc.cli, fleetcalc.batch, fleetcalc.plan, "
        "fleetcalc.scenario, fleetcalc.network, fleetcalc.tariffs, fleetcalc.catalog"
    )
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "textual_plotext", "tui")}


def test_kernels_import_only_numpy_and_numba() -> None:
    loaded = _modules_after("import kernels.rigdays, kernels.reference, kernels.rng")
    assert not {m for m in loaded if m.split(".")[0] in ("polars", "textual", "fleetcalc")}


def test_only_the_engine_imports_jitted_kernels() -> None:
    offenders = []
    for path in (ROOT / "fleetcalc").rglob("*.py"):
        text = path.read_text()
        if path.name != "engine.py" and "_nb" in text and "from kernels" in text:
            offenders.append(path.name)
    assert not offenders, f"only engine.py may call jitted kernels: {offenders}"


def test_import_linter_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint_imports).exists():
        pytest.fail("import-linter is part of the test extra; install it with .[test]")
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
