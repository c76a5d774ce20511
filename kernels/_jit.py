"""Every Numba option of the project in one place.

``cache=True`` keeps compiled code on disk so the second process starts fast; ``nogil=True``
lets threads run kernels in parallel (the rig-day kernel's pool; the TUI's worker while the event
loop keeps running);
``error_model="numpy"`` makes a division by zero give inf/nan instead of raising, as NumPy does
(it also removes the zero checks from the inner loops).

``fastmath`` stays off: the kernels must match the NumPy reference to 1e-9 and be bit-identical
across thread counts, and reassociation would make a sum depend on vector width.

No kernel uses ``parallel=True``: a ``prange`` parfor costs a second full compile and needs a
Numba threading layer (the default one, workqueue, is not thread-safe). Threads come from a
plain thread pool calling ``nogil`` kernels instead (``kernels.rigdays.simulate_rigdays``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit

JIT_OPTIONS: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy"}


def jit(*, inline: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``njit`` with the project's options; ``inline`` for a small step a hot loop calls (Numba
    then compiles it into the caller, where LLVM would not inline it: the call and its tuple
    return cost more than the step)."""
    return njit(inline="always" if inline else "never", **JIT_OPTIONS)
