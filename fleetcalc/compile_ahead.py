"""The first run with an empty Numba cache: small workloads run as Python while a background
process compiles (below); large ones compile two kernels in two processes at once.

With an empty Numba cache, a large first result (a responsive market of many paths) waits on
two compiles: the responsive network's chain (the market step) and the rig-day kernel (every
plan). Numba
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

**Small workloads do not wait at all** (``tier_for``): a kernel missing from the cache, called
on work its Python form does in at most ``INTERPRET_MAX_S`` (the default plans: one cohort row
per order, one or two paths), runs as plain Python (``kernels._jit.interpreted``: the same
code, the same bits), about as fast there as loading the compiled kernel; meanwhile a
background process (``compile_queued``, at low priority, never waited for) compiles it, with
the very argument types of the call, into the cache for the next call or run. Compiling the
default path costs 15-20 s of CPU with an empty cache; the first result no longer waits on it.
A larger call compiles as before (waiting for the background process if it has the kernel
queued). ``FLEETCALC_COMPILE_AHEAD=0`` turns this off too (every kernel compiles in the
process that calls it).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import pickle
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

ENV_SWITCH = "FLEETCALC_COMPILE_AHEAD"
HELPER = "import fleetcalc.engine as engine; engine.compile_rigdays_ahead()"
# A file the background compiler holds locked (flock) while it runs, if this names one, and
# into which it writes its CPU seconds when done: lets a benchmark wait until the cache is
# full before it times warm runs, and count what the compiles cost.
LOCK_ENV = "FLEETCALC_COMPILE_LOCK"
BACKGROUND = "import fleetcalc.compile_ahead as c; c.compile_queued()"
# CPU seconds the kernels' Python forms take per unit of work, measured on the 2-core Xeon
# (load ~4): the rig-day kernel 1.1-1.3 us per rig-day walked one by one (sampled or not) and
# ~3 us per cohort row-day (the default plans' one row per order, per-call costs included);
# the responsive chain 12-14 us per path-day; rigs on hourly prices or modes 6-10 us per
# rig-day (small hypothesis fleets; 15 allows for more modes and sites).
PYTHON_S_PER_RIG_DAY = 3e-6
PYTHON_S_PER_HOURLY_RIG_DAY = 15e-6
PYTHON_S_PER_MARKET_DAY = 15e-6
# Most CPU seconds one call runs as Python while its kernel is not compiled: a first result
# costs about what a warm one does (the default plans' whole evaluation ~1.5 s of CPU either
# way), where waiting for the compile costs 15-20 s.
INTERPRET_MAX_S = 1.0


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


@dataclass
class _Compiler:
    """The background compiler's process and how far it has got: it writes one byte to its
    stdout per record done, so a caller waits for exactly the records of its kernel (never on
    the cache index, which an unwritable cache folder never fills: it would wait forever)."""

    process: subprocess.Popen[bytes]
    sent: int = 0  # records written to its queue
    done: int = 0  # acknowledgements read back
    last_record: dict[int, int] = field(default_factory=dict)  # id(kernel) -> its last record


# The background compiler (started on first need) and the (kernel, argument types) sent to it.
_BACKGROUND: _Compiler | None = None
_QUEUED: set[tuple[int, tuple]] = set()
_BACKGROUND_LOCK = threading.Lock()
_ACK_LOCK = threading.Lock()  # held while reading acknowledgements (never with the one above)


def small(python_s: float) -> bool:
    """True if a call of about ``python_s`` CPU seconds as Python may run as Python while its
    kernel is cold (at most ``INTERPRET_MAX_S``)."""
    return python_s <= INTERPRET_MAX_S


def tier_for_market(path_days: int) -> Callable[[Any, tuple], Callable[..., Any]]:
    """``tier_for`` a market kernel's call (the chain, the responsive network) on
    ``path_days`` path-days."""
    return tier_for(path_days * PYTHON_S_PER_MARKET_DAY)


def tier_for(python_s: float) -> Callable[[Any, tuple], Callable[..., Any]]:
    """A ``kernels._jit.Tier`` for a call whose Python form would take about ``python_s``
    CPU seconds (``PYTHON_S_PER_*`` times its work): the jitted kernel if it is in the cache
    (or compiled in this process), or the call is above ``INTERPRET_MAX_S``, or
    ``FLEETCALC_COMPILE_AHEAD=0``; else its Python form, the compile queued in the
    background."""

    def tier(kernel: Any, args: tuple) -> Callable[..., Any]:
        if os.environ.get(ENV_SWITCH) == "0" or not is_cold(kernel):
            return kernel
        if not small(python_s):
            _wait_for_background(kernel)
            return kernel
        _compile_in_background(kernel, args)
        return _interpreted_or_compiled(kernel)

    return tier


def _interpreted_or_compiled(kernel: Any) -> Callable[..., Any]:
    """Run ``kernel``'s Python form; where Python arithmetic raises and compiled code would
    not (a float division by zero, ``math.log(0)``), run the compiled kernel instead (it
    overwrites every output)."""
    from kernels._jit import interpreted

    python_form = interpreted(kernel)

    def run(*args: Any) -> Any:
        try:
            with np.errstate(all="ignore"):
                return python_form(*args)
        except (ArithmeticError, ValueError):
            return kernel(*args)

    return run


def _compile_in_background(kernel: Any, args: tuple) -> None:
    """Queue ``kernel`` with the Numba types of ``args`` for the background compiler."""
    types = tuple(kernel.typeof_pyval(a) for a in args)
    with _BACKGROUND_LOCK:  # the app's workers may call kernels at once
        if (id(kernel), types) not in _QUEUED:
            _queue(kernel, types)


def _queue(kernel: Any, types: tuple) -> None:
    global _BACKGROUND
    _QUEUED.add((id(kernel), types))
    module = kernel.py_func.__module__
    # The module attribute that holds it (a variant's differs from its function's name); a
    # kernel that no module holds compiles where it is next called on a large workload.
    name = next((n for n, v in vars(sys.modules[module]).items() if v is kernel), None)
    if name is None:
        return
    record = pickle.dumps((module, name, types))
    if _BACKGROUND is None or _BACKGROUND.process.poll() is not None:
        process = _start_background()
        _BACKGROUND = None if process is None else _Compiler(process)
    if _BACKGROUND is None:
        return
    try:
        assert _BACKGROUND.process.stdin is not None
        _BACKGROUND.process.stdin.write(len(record).to_bytes(8, "little") + record)
        _BACKGROUND.process.stdin.flush()
    except OSError:  # it ended: the next run compiles (or interprets) again
        _BACKGROUND = None
        return
    _BACKGROUND.sent += 1
    _BACKGROUND.last_record[id(kernel)] = _BACKGROUND.sent


def _start_background() -> subprocess.Popen[bytes] | None:
    """The background compiler, in a session of its own (an interrupt of this process does not
    reach it; it ends when the queue is done and this process has closed its end)."""
    lock_fd = _locked(os.environ.get(LOCK_ENV))
    try:
        return subprocess.Popen(
            [sys.executable, "-c", BACKGROUND], env={**os.environ, ENV_SWITCH: "0"},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True, pass_fds=() if lock_fd is None else (lock_fd,))
    except OSError:
        return None
    finally:
        if lock_fd is not None:
            os.close(lock_fd)  # the child's copy holds the lock until the child ends


def _locked(path: str | None) -> int | None:
    """A descriptor of ``path`` holding an exclusive lock on it, or None (no path, or the lock
    is taken: never wait for it here)."""
    if not path:
        return None
    import fcntl

    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


@atexit.register
def _let_go() -> None:
    """At exit, close the queue without waiting: the compiler finishes it and ends on its own
    (``Popen`` would warn that it still runs)."""
    global _BACKGROUND
    if _BACKGROUND is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            for pipe in (_BACKGROUND.process.stdin, _BACKGROUND.process.stdout):
                if pipe is not None:  # its acknowledgements then fail quietly (EPIPE)
                    pipe.close()
            _BACKGROUND = None


def _wait_for_background(kernel: Any) -> None:
    """A large call of a kernel the background compiler has queued waits until it has done
    that kernel's records (or has ended) rather than compiling it a second time here."""
    with _BACKGROUND_LOCK:
        compiler = _BACKGROUND
        target = None if compiler is None else compiler.last_record.get(id(kernel))
    if compiler is None or target is None or compiler.process.stdout is None:
        return
    with _ACK_LOCK:
        while compiler.done < target and compiler.process.stdout.read(1):
            compiler.done += 1


def compile_queued(stream: IO[bytes] | None = None, acks: IO[bytes] | None = None) -> None:
    """The background compiler's loop: compile each queued (module, attribute, argument
    types) into Numba's cache and acknowledge it with one byte on ``acks`` (stdout), until
    the queue's writer closes it. A compile that fails is acknowledged too: the caller then
    compiles in its own process, where the error shows."""
    os.nice(10)  # the foreground process (a first result, an app) comes first
    source = sys.stdin.buffer if stream is None else stream
    done = sys.stdout.buffer if acks is None else acks
    while header := source.read(8):
        module, name, types = pickle.loads(source.read(int.from_bytes(header, "little")))
        with contextlib.suppress(Exception):  # acknowledged all the same (see above)
            getattr(importlib.import_module(module), name).compile(types)
        with contextlib.suppress(OSError):  # the caller has gone: nobody waits for it
            done.write(b".")
            done.flush()
    lock = os.environ.get(LOCK_ENV)
    if lock:  # what the compiles cost, for the benchmark that waits on the lock (a handshake
        # in the lock file itself, not an output file: no atomic replace, which would swap
        # the file the benchmark holds open)
        fd = os.open(lock, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, f"{time.process_time():.3f}\n".encode())
        finally:
            os.close(fd)
