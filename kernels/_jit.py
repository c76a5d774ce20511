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

import types
from collections.abc import Callable
from typing import Any

from numba import njit

JIT_OPTIONS: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy"}


def jit(*, inline: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``njit`` with the project's options; ``inline`` for a small step a hot loop calls (Numba
    then compiles it into the caller, where LLVM would not inline it: the call and its tuple
    return cost more than the step)."""
    return njit(inline="always" if inline else "never", **JIT_OPTIONS)


def jit_variant(kernel: Any, suffix: str, **replaced_globals: Any) -> Any:
    """A second jitted function with ``kernel``'s code where the globals named in
    ``replaced_globals`` mean something else, e.g. a module of callees swapped for stand-ins.

    Numba types and compiles every callee a function names, taken branch or not; a variant
    whose stand-ins name nothing heavy compiles without them (the rig-day kernel without the
    hourly path costs about half the compile). The variant is named ``<name>_<suffix>``, so
    Numba's cache keeps it in a file of its own beside the original's (the cache keys a
    function by module, qualified name and line, not by its globals).
    """
    original = kernel.py_func
    namespace = {**original.__globals__, **replaced_globals}
    func = types.FunctionType(original.__code__, namespace, f"{original.__name__}_{suffix}",
                              original.__defaults__, original.__closure__)
    func.__qualname__ = f"{original.__qualname__}_{suffix}"
    func.__module__ = original.__module__
    func.__doc__ = original.__doc__
    return njit(inline=kernel.targetoptions["inline"], **JIT_OPTIONS)(func)
