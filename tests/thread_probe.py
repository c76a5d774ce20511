"""Run the rig-day kernel on ``NUMBA_NUM_THREADS`` threads and print, as JSON, the thread count,
how many threads ran its tasks and a digest of its outputs.

``tests/test_kernel.py`` runs this in fresh processes (Numba reads ``NUMBA_NUM_THREADS`` once, at
import). Each thread waits for all the others on its first task, so a run that uses fewer
threads than configured fails here instead of passing a bit-identity check by accident.
"""

from __future__ import annotations

import json
import threading

from kernels import rigdays
from tests.kernel_cases import digest, run_kernel, thread_test_fleet

BARRIER_TIMEOUT_S = 60.0


def main() -> None:
    threads = rigdays.default_threads()
    barrier = threading.Barrier(threads, timeout=BARRIER_TIMEOUT_S)
    ran_on: set[int] = set()
    lock = threading.Lock()
    jitted = rigdays.simulate_tasks_nb

    def recording(*args: object) -> None:
        with lock:
            first = threading.get_ident() not in ran_on
            ran_on.add(threading.get_ident())
        if first:
            barrier.wait()
        jitted(*args)

    rigdays.simulate_tasks_nb = recording
    daily, groups = run_kernel(thread_test_fleet(), 3)
    print(json.dumps({"threads": threads, "ran_on": len(ran_on),
                      "digest": digest(daily, groups)}))


if __name__ == "__main__":
    main()
