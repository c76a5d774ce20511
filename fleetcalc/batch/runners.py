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
    from concurrent.futures import Future

    from fleetcalc.batch.units import Unit

Outcome = UnitRows | InputError
Record = Callable[["Unit", Outcome], None]


def _outcome(result: Callable[[], UnitRows]) -> Outcome:
    try:
        return result()
    except InputError as error:
        return error


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the parent alone handles it (workers finish
    # their unit and exit when the pool shuts down) so no worker prints a traceback.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_local(units: list[Unit], breakevens: bool, workers: int, record: Record) -> None:
    """In this process, or on ``workers`` spawned processes: the engine serialises kernel calls
    within a process, so threads could not use a second core."""
    if workers <= 1:
        for unit in units:
            record(unit, _outcome(partial(evaluate_unit, unit.plan_file.plan, unit.variant,
                                          breakevens)))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    def submit(unit: Unit) -> None:
        running[pool.submit(evaluate_unit, unit.plan_file.plan, unit.variant, breakevens)] = unit

    # At most 2 x workers units in flight, so memory stays bounded by a few units. Spawn, not
    # fork: forking a process that has started Numba's or polars' threads is unsafe.
    queue: Iterator[Unit] = iter(units)
    running: dict[Future[UnitRows], Unit] = {}
    with ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint,
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
            pool.shutdown(wait=False, cancel_futures=True)
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
