"""The first run compiles two kernels in two processes at once.

With an empty Numba cache, the default scenario's first result waits on two compiles: the
responsive network's chain (the market step) and the rig-day kernel (every plan). Numba
compiles one function at a time per process (a global compiler lock, and most of a compile
holds the GIL), so a thread would not overlap them; a second process does. The engine names
the kernel a helper process should compile (``ahead``) and the one this process compiles
meanwhile; ``start`` launches the helper (``fleetcalc.engine.compile_rigdays_ahead``, a
one-plan evaluation that calls the kernel with the very argument types the engine passes) only
if both are missing from the cache; ``wait`` blocks until the helper has written its kernel
into the cache, from where this process loads it. Same compiled code either way, so the same
bits.

Nothing happens with one CPU, when either kernel is cached already, or when
``FLEETCALC_COMPILE_AHEAD=0``. If the helper fails, this process compiles the kernel itself,
as it would have.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

ENV_SWITCH = "FLEETCALC_COMPILE_AHEAD"
HELPER = "import fleetcalc.engine as engine; engine.compile_rigdays_ahead()"


def is_cold(kernel: Any) -> bool:
    """True if Numba's cache holds no compiled version of the jitted ``kernel`` (its index
    is missing or stale). Reads Numba's cache index through internals: if they change, say
    warm (compile in this process, as without this module)."""
    if kernel.signatures:  # compiled or loaded in this process: no need to read the index
        return False
    try:
        return not kernel._cache._cache_file._load_index()
    except Exception:  # a Numba version without these internals
        return False


def start(ahead: Any, meanwhile: Any) -> subprocess.Popen[bytes] | None:
    """The helper process compiling ``ahead`` while this one compiles ``meanwhile``, if both
    are missing from the cache (else None: nothing to overlap)."""
    if os.environ.get(ENV_SWITCH) == "0" or (os.cpu_count() or 1) < 2:
        return None
    if not (is_cold(ahead) and is_cold(meanwhile)):
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-c", HELPER], env={**os.environ, ENV_SWITCH: "0"},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def wait(helper: subprocess.Popen[bytes] | None) -> None:
    """Block until the helper (if any) has written its kernel into the cache."""
    if helper is not None:
        helper.wait()


def stop(helper: subprocess.Popen[bytes] | None) -> None:
    """End the helper early (this evaluation failed): Numba writes each cache file whole, so
    a kill leaves no partial one."""
    if helper is not None:
        helper.kill()
        helper.wait()
