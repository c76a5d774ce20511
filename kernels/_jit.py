"""Every Numba option of the project in one place.

``cache=True`` keeps compiled code on disk so the second process starts fast; ``nogil=True``
lets the TUI call kernels from a worker thread while the event loop keeps running;
``error_model="numpy"`` makes a division by zero give inf/nan instead of raising, as NumPy does
(it also removes the zero checks from the inner loops).

``fastmath`` stays off: the kernels must match the NumPy reference to 1e-9 and be bit-identical
across thread counts, and reassociation would make a sum depend on vector width.

The threading layer is left to Numba (OpenMP where libgomp is present, as on the benchmark
machine; workqueue where neither TBB nor OpenMP is); the engine serialises kernel calls with a
lock, so the non-thread-safe workqueue layer is never entered from two threads at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit

JIT_OPTIONS: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy"}


def jit(*, parallel: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``njit`` with the project's options; ``parallel`` only where a kernel uses ``prange``."""
    return njit(parallel=parallel, **JIT_OPTIONS)
