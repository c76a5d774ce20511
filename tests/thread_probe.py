"""Run the rig-day kernel on ``NUMBA_NUM_THREADS`` threads and print, as JSON, the thread count,
how many threads ran its tasks and a digest of its outputs.

``tests/test_kernel.py`` runs this in fresh processes (Numba reads ``NUMBA_NUM_THREADS`` once, at
import). Each thread waits for all the others on its first task, so a run that uses fewer
threads than configured fails here instead of passing a bit-identity check by accident.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from kernels import rigdays
from tests.kernel_cases import digest, run_kernel, thread_test_fleet

BARRIER_TIMEOUT_S = 60.0


def recording_threads(
    task: Callable[..., None], threads: int
) -> tuple[Callable[..., None], set[int]]:
    """``task`` wrapped to record the threads that run it (the set, filled as they do); each
    waits for ``threads`` threads in all on its first call, so a run on fewer fails (at the
    barrier's timeout) instead of passing a bit-identity check by accident."""
    barrier = threading.Barrier(threads, timeout=BARRIER_TIMEOUT_S)
    ran_on: set[int] = set()
    lock = threading.Lock()

    def recording(*args: object) -> None:
        with lock:
            first = threading.get_ident() not in ran_on
            ran_on.add(threading.get_ident())
        if first:
            barrier.wait()
        task(*args)

    return recording, ran_on


def main() -> None:
    threads = rigdays.default_threads()
    # The fleet has no rig on hourly prices: the daily-only task body runs it.
    rigdays.simulate_tasks_daily_nb, ran_on = recording_threads(rigdays.simulate_tasks_daily_nb,
                                                                threads)
    daily, groups = run_kernel(thread_test_fleet(), 3)
    print(json.dumps({"threads": threads, "ran_on": len(ran_on),
                      "digest": digest(daily, groups)}))


if __name__ == "__main__":
    main()
