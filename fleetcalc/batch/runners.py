"""Runners: evaluate units in this process, on local worker processes or on a Dask cluster.

Each runner calls ``record(unit, outcome)`` in this process as units finish, in any order;
``outcome`` is the unit's rows or the ``InputError`` that stopped it (InputError pickles, so it
arrives from a worker process or a Dask worker with its file, field, value and expectation).
Any other exception is a bug and propagates.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from fleetcalc.batch.units import UnitRows, evaluate_unit
from fleetcalc.errors import InputError

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from fleetcalc.batch.units import Unit

Outcome = UnitRows | InputError
Record = Callable[["Unit", Outcome], None]


def _outcome(result: Callable[[], UnitRows]) -> Outcome:
    try:
        return result()
    except InputError as error:
        return error


# How often a worker checks that its parent is alive, where the parent-death signal is missing.
PARENT_CHECK_S = 0.5
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _watch_parent(parent_pid: int) -> None:
    import os
    import time

    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)  # orphaned: no one will read this worker's results


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG).
    A worker of a parent killed outright (SIGKILL, the OOM killer) would otherwise block on
    the task queue forever: each spawned worker holds both ends of that pipe, so it never
    sees end-of-file."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no libc with prctl: the watchdog alone
        return


def _init_worker(parent_pid: int) -> None:
    """Set up a worker process: it ignores Ctrl-C and dies with its parent."""
    import os
    import signal
    import threading

    # Ctrl-C reaches the whole process group; the parent alone handles it (and stops the
    # workers), so no worker prints a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    # The fallback where the signal is unavailable (or the parent thread that spawned this
    # worker ends): a thread that polls the parent's pid.
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                     name="fleetcalc-parent-watchdog").start()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers now, mid-unit: on Ctrl-C, SIGTERM or an error in this process
    their results would be thrown away anyway (finished units are checkpointed already)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def run_local(units: list[Unit], breakevens: bool, workers: int, record: Record) -> None:
    """In this process, or on ``workers`` spawned processes: the engine serialises kernel calls
    within a process, so threads could not use a second core.

    A worker that dies (killed, out of memory) raises ``BrokenProcessPool`` here; the workers
    die with this process, whatever kills it."""
    if workers <= 1:
        for unit in units:
            record(unit, _outcome(partial(evaluate_unit, unit.plan_file.plan, unit.variant,
                                          breakevens)))
        return
    import multiprocessing
    import os
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    def submit(unit: Unit) -> None:
        running[pool.submit(evaluate_unit, unit.plan_file.plan, unit.variant, breakevens)] = unit

    # At most 2 x workers units in flight, so memory stays bounded by a few units. Spawn, not
    # fork: forking a process that has started Numba's or polars' threads is unsafe.
    queue: Iterator[Unit] = iter(units)
    running: dict[Future[UnitRows], Unit] = {}
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(os.getpid(),),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            for unit in itertools.islice(queue, 2 * workers):
                submit(unit)
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    record(running.pop(future), _outcome(future.result))
                for unit in itertools.islice(queue, len(finished)):
                    submit(unit)
        except BaseException:
            _stop_workers(pool)
            raise


def run_dask(units: list[Unit], address: str, breakevens: bool, record: Record) -> None:
    """On the Dask distributed scheduler at ``address`` (InputError if none answers)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("command line", "--scheduler", address,
                         "the optional Dask dependency: pip install 'fleetcalc[distributed]'"
                         ) from None
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as error:
        raise InputError("command line", "--scheduler", address,
                         f"the address of a running Dask scheduler ({error})") from None
    try:
        futures = {
            client.submit(evaluate_unit, unit.plan_file.plan, unit.variant, breakevens,
                          key=f"fleetcalc-unit-{unit.key}", pure=False): unit
            for unit in units
        }
        for future in as_completed(futures):
            record(futures[future], _outcome(future.result))
            future.release()
    finally:
        client.close()
