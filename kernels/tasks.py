"""A kernel's independent tasks on a thread pool: no Numba threading layer, the same bits on
any number of threads.

A kernel split into tasks that each write only their own slices of the outputs (or scratch) is
a jitted ``nogil`` function ``task(first, last, *args)`` running tasks ``first .. last - 1``;
``run_tasks`` runs all of them on a plain ``ThreadPoolExecutor`` (the calling thread one of the
workers), each thread taking the next task not yet taken. No ``prange`` parfor: one compile for
every thread count, and no Numba threading layer (whose default, workqueue, is not
thread-safe). The rig-day kernel (``kernels.rigdays``) and the responsive network
(``kernels.responsive``) run this way.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import numba


def default_threads() -> int:
    """Threads a large workload runs on: ``NUMBA_NUM_THREADS`` if set, else the CPUs this
    process may use (Numba reads both into its config once, at import)."""
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


# The pool that runs tasks besides the calling thread, made on first use, and remade for more
# workers or after a fork (a forked child inherits the executor but not its threads, and would
# wait forever): (executor, workers, process id).
_POOL: tuple[ThreadPoolExecutor, int, int] | None = None
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[1] < workers or _POOL[2] != os.getpid():
            if _POOL is not None and _POOL[2] == os.getpid():
                _POOL[0].shutdown(wait=False)  # its queued work still runs
            _POOL = (ThreadPoolExecutor(workers, thread_name_prefix="kernel-tasks"), workers,
                     os.getpid())
        return _POOL[0]


def run_tasks(
    task: Callable[..., Any], n_tasks: int, threads: int, args: tuple[Any, ...]
) -> None:
    """Run every task on ``threads`` threads (the caller one of them), each taking the next
    task not yet taken until none is left. Which thread runs which task never changes a bit:
    tasks write only their own slices."""
    if threads <= 1 or n_tasks <= 1:
        task(0, n_tasks, *args)
        return
    taken = itertools.count()
    take_lock = threading.Lock()

    def work() -> None:
        while True:
            with take_lock:
                index = next(taken)
            if index >= n_tasks:
                return
            task(index, index + 1, *args)  # nogil: the threads run in parallel

    helpers = [_pool(threads - 1).submit(work) for _ in range(min(threads, n_tasks) - 1)]
    try:
        work()
    finally:
        # Before returning or raising, every helper must be done writing its slices.
        wait(helpers)
    for helper in helpers:
        helper.result()  # re-raises a helper's error
