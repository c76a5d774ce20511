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

``interpreted`` gives a kernel's plain-Python form (its own code, nothing compiled), which a
caller may run on a small workload while the compiled form is not in the cache yet.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from typing import Any

from numba import njit
from numba.core.dispatcher import Dispatcher

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


# How a kernel's Python wrapper runs a jitted function: given it and the arguments it is about
# to be called with, the callable to call them with (``compiled``: the jitted function itself).
Tier = Callable[[Any, tuple], Callable[..., Any]]


def compiled(kernel: Any, args: tuple) -> Callable[..., Any]:
    """The default tier: the jitted function (compiled, or loaded from Numba's cache)."""
    return kernel


# Plain-Python forms already made, by the id of the jitted function or module they stand for
# (kept alive by the module-level objects they come from).
_INTERPRETED: dict[int, Any] = {}
_INTERPRETED_LOCK = threading.RLock()


def interpreted(kernel: Any) -> Callable[..., Any]:
    """``kernel``'s own Python code, run by the interpreter: every jitted function it names,
    directly or as an attribute of a ``kernels`` module, is its plain-Python form too.

    With an empty Numba cache, a small workload runs this way at once instead of waiting
    seconds for the compile (``fleetcalc.compile_ahead.tier_for``). The operations are the
    same IEEE double ones in the same order (no ``fastmath``), and ``math.exp``/``math.log``
    are the C library's as compiled code calls them, so the results are the same bits; where
    Python differs (a float division by zero raises instead of giving inf, ``math.log(0)``
    raises), the caller runs the compiled kernel instead. Run it under
    ``np.errstate(all="ignore")``: NumPy scalars then wrap and divide as compiled code does.
    """
    with _INTERPRETED_LOCK:  # a form half made (callees not yet swapped) is never handed out
        return _interpreted(kernel)


def _interpreted(kernel: Any) -> Callable[..., Any]:
    known = _INTERPRETED.get(id(kernel))
    if known is not None:
        return known
    original = kernel.py_func
    namespace = dict(original.__globals__)
    func = types.FunctionType(original.__code__, namespace, original.__name__,
                              original.__defaults__, original.__closure__)
    func.__qualname__ = original.__qualname__
    func.__module__ = original.__module__
    _INTERPRETED[id(kernel)] = func  # before its callees: they may name it again
    for name in _global_names(original.__code__):
        value = namespace.get(name)
        if isinstance(value, Dispatcher):
            namespace[name] = _interpreted(value)
        elif isinstance(value, types.ModuleType) and value.__name__.startswith("kernels."):
            namespace[name] = _interpreted_module(value)
    return func


def _interpreted_module(module: types.ModuleType) -> types.SimpleNamespace:
    """A stand-in for a ``kernels`` module whose jitted functions are their Python forms."""
    known = _INTERPRETED.get(id(module))
    if known is None:
        known = _INTERPRETED[id(module)] = types.SimpleNamespace(**vars(module))
        for name, value in vars(module).items():
            if isinstance(value, Dispatcher):
                setattr(known, name, _interpreted(value))
    return known


def _global_names(code: types.CodeType) -> set[str]:
    """Names a function's code (and code nested in it, e.g. a generator) may read as globals."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names
