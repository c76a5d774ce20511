"""The rig-day kernel as it was before the Performance issue's kernel work: the BASELINE the
kernel benchmarks divide by, timed in the same run. Not shipped code.

The baseline is not a copy in the tree: ``load_baseline_rigdays`` reads the ``kernels`` package
at ``BASELINE_COMMIT`` from git (``git show``), writes it to a directory of its own under the
system's temporary directory as the package ``kernels_baseline`` (its ``kernels`` imports
renamed, nothing else changed) and imports its ``rigdays``. Its Numba functions live in those
files, so they compile and cache apart from the current kernels; the files are only rewritten
when their text changes, so the cache stays valid from one run to the next.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
# main when this session's kernel work started (2026-12-02 00:31 UTC, "Merge p1: hourly power
# prices and operating modes"): "today's" kernel of the Performance issue.
BASELINE_COMMIT = "f08d6b8a816b2c4a6ae16f8dcfec1c4823b1ef26"
PACKAGE = "kernels_baseline"
_IMPORT = re.compile(r"^(\s*(?:from|import)\s+)kernels\b", re.MULTILINE)


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the baseline kernel needs git and commit {BASELINE_COMMIT[:10]}: "
                         f"{done.stderr.strip()}")
    return done.stdout


def load_baseline_rigdays(commit: str = BASELINE_COMMIT) -> ModuleType:
    """``kernels.rigdays`` at ``commit``, imported as ``kernels_baseline.rigdays``."""
    home = Path(tempfile.gettempdir()) / f"fleetcalc-baseline-{commit[:12]}"
    package = home / PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    for path in _git("ls-tree", "--name-only", commit, "kernels/").split():
        if not path.endswith(".py"):
            continue
        text = _IMPORT.sub(lambda m: m.group(1) + PACKAGE, _git("show", f"{commit}:{path}"))
        target = package / Path(path).name
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
    if str(home) not in sys.path:
        sys.path.insert(0, str(home))
    return importlib.import_module(f"{PACKAGE}.rigdays")
