"""Which code computed a result: stored results (batch checkpoints) are keyed by it.

``RESULTS_VERSION`` is the declared version of the numbers and of the result schema: bump it with
any deliberate change of a result (a regenerated ``tests/pins/pins.json``) or of a result column.
``code_digest()`` covers what a forgotten bump would miss: it hashes the source and shipped data
of ``fleetcalc`` and ``kernels`` as installed, so results stored by other code are never reused;
``runtime()`` names the interpreter and the libraries that compute the numbers (a Numba or NumPy
upgrade may change the last bits of a result).
"""

from __future__ import annotations

import functools
import hashlib
import platform
from importlib import metadata
from pathlib import Path

RESULTS_VERSION = 6  # 6: percentiles of whole-number metrics (payback days) stored whole;
# 5: sites priced by the megawatt, resale at market, the re-based default plans; 4: capex paid
# on the payment schedule's days, customs fees, debt and tax views; 3: the responsive network
# in the default scenario; 2: Monte Carlo medians, pessimistic P10, shutdown prices, warnings
# The files whose content determines the numbers: code and the shipped catalog, tariffs and
# defaults. Caches (__pycache__, Numba's index files) are not among them.
_CODE_SUFFIXES = (".py", ".csv", ".toml")
_PACKAGES = ("fleetcalc", "kernels")
# The libraries whose version can change a number: the JIT, its LLVM, the arrays, the tables.
_NUMERIC_LIBRARIES = ("numba", "llvmlite", "numpy", "polars", "pyarrow")


def tree_digest(root: Path, packages: tuple[str, ...] = _PACKAGES) -> str:
    """SHA-256 over the relative path and bytes of every source and data file of ``packages``
    under ``root``."""
    digest = hashlib.sha256()
    for package in packages:
        files = sorted(p for p in (root / package).rglob("*")
                       if p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts)
        for file in files:
            for chunk in (file.relative_to(root).as_posix().encode(), file.read_bytes()):
                digest.update(len(chunk).to_bytes(8, "little") + chunk)  # length-prefixed
    return digest.hexdigest()


@functools.cache
def code_digest() -> str:
    """``tree_digest`` of this installation of fleetcalc and kernels (computed once)."""
    return tree_digest(Path(__file__).resolve().parents[1])


@functools.cache
def runtime() -> dict[str, str]:
    """The Python version and the installed versions of ``_NUMERIC_LIBRARIES``."""
    versions = {"python": platform.python_version()}
    for name in _NUMERIC_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions
