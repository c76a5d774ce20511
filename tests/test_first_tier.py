"""The plain-Python tier of the kernels (``fleetcalc.compile_ahead.tier_for``) gives the bits
the compiled kernels give."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc import compile_ahead
from kernels._jit import interpreted
from tests import test_pins
from tests.kernel_cases import Case, PowerCase, digest, fleets, power_fleets, run_kernel
from tests.pins.cases import CASES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def always_cold(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every kernel counts as missing from the cache; the background compiles are recorded,
    not started."""
    queued: list = []
    monkeypatch.setattr(compile_ahead, "is_cold", lambda kernel: True)
    monkeypatch.setattr(compile_ahead, "_compile_in_background",
                        lambda kernel, args: queued.append(kernel.py_func.__qualname__))
    monkeypatch.delenv(compile_ahead.ENV_SWITCH, raising=False)
    return queued


@pytest.mark.parametrize("case", sorted(CASES))
def test_pinned_results_with_every_kernel_cold(always_cold: list, case: str) -> None:
    """Every kernel call of at most ``INTERPRET_MAX_S`` runs as Python (the default plans'
    every call, the Monte Carlo case's market), and the results keep their pins."""
    test_pins.test_results_equal_their_pins(case)
    if case == "default_plans":
        assert set(always_cold) == {"simulate_responsive_tasks_nb", "simulate_tasks_nb_daily",
                                    "reduce_tasks_nb"}


def test_tier_runs_python_only_for_a_small_call_of_a_cold_kernel(
        always_cold: list, monkeypatch: pytest.MonkeyPatch) -> None:
    from kernels.rng import uniform_nb

    small = compile_ahead.tier_for(compile_ahead.INTERPRET_MAX_S)
    assert small(uniform_nb, (1, 2, 3, 4, 5)) is not uniform_nb
    assert small(uniform_nb, (1, 2, 3, 4, 5))(1, 2, 3, 4, 5) == uniform_nb(1, 2, 3, 4, 5)
    assert always_cold == ["uniform_nb", "uniform_nb"]
    monkeypatch.setattr(compile_ahead, "_wait_for_background", lambda kernel: None)
    large = compile_ahead.tier_for(compile_ahead.INTERPRET_MAX_S * 1.01)
    assert large(uniform_nb, (1, 2, 3, 4, 5)) is uniform_nb
    monkeypatch.setenv(compile_ahead.ENV_SWITCH, "0")
    assert small(uniform_nb, (1, 2, 3, 4, 5)) is uniform_nb
    monkeypatch.delenv(compile_ahead.ENV_SWITCH)
    monkeypatch.setattr(compile_ahead, "is_cold", lambda kernel: False)
    assert small(uniform_nb, (1, 2, 3, 4, 5)) is uniform_nb


def test_a_python_run_leaves_the_kernel_compiled_in_the_cache(tmp_path: Path) -> None:
    """A process that runs a cold kernel as Python ends at once; its background process
    compiles the kernel with the call's argument types into the cache, holding the lock
    until done and writing its CPU seconds there."""
    cache, lock = tmp_path / "cache", tmp_path / "background.lock"
    code = ("from fleetcalc import compile_ahead as c; from kernels.rng import uniform_nb; "
            "print(float(c.tier_for(0.0)(uniform_nb, (7, 1, 2, 3, 4))(7, 1, 2, 3, 4)))")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), compile_ahead.LOCK_ENV: str(lock),
           "PYTHONPATH": str(ROOT)}
    env.pop(compile_ahead.ENV_SWITCH, None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    with lock.open() as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the background process has ended
        assert float(held.read()) > 0.0
    assert list(cache.rglob("rng.uniform_nb-*.nbi"))
    from kernels.rng import uniform_nb

    assert float(done.stdout) == uniform_nb(7, 1, 2, 3, 4)


def test_a_large_call_waits_for_its_kernel_in_the_background_not_for_the_cache_index(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Where the cache index never fills (an unwritable cache folder; here ``is_cold`` always
    True), a large call of a kernel the background process has queued goes on once that
    process acknowledges the kernel's record. It waited on the index before: forever, the
    background process idle and alive (this hung CI's first-tier test on an empty cache)."""
    from kernels.rng import uniform_nb

    monkeypatch.setattr(compile_ahead, "is_cold", lambda kernel: True)
    monkeypatch.setattr(compile_ahead, "_BACKGROUND", None)
    monkeypatch.setattr(compile_ahead, "_QUEUED", set())
    monkeypatch.delenv(compile_ahead.ENV_SWITCH, raising=False)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))  # the background process's cache
    args = (7, 1, 2, 3, 4)
    assert compile_ahead.tier_for(0.0)(uniform_nb, args) is not uniform_nb  # queued
    chosen: list = []
    waiter = threading.Thread(
        target=lambda: chosen.append(compile_ahead.tier_for(2.0)(uniform_nb, args)),
        daemon=True)
    waiter.start()
    waiter.join(timeout=600)  # a bound that only a hang reaches (the compile takes seconds)
    try:
        assert chosen == [uniform_nb]
        process = compile_ahead._BACKGROUND.process
        assert process.poll() is None  # still alive and idle: the old wait never ended
    finally:
        compile_ahead._let_go()  # close its queue: it ends on its own
    assert process.wait(timeout=600) == 0


def _python(kernel: Any, args: tuple) -> Callable[..., Any]:
    """The Python form alone (no fallback to compiled code), as the first tier runs it."""
    python_form = interpreted(kernel)

    def run(*call_args: Any) -> Any:
        with np.errstate(all="ignore"):
            return python_form(*call_args)

    return run


@given(fleets(max_rigs=12, max_days=40), st.integers(1, 8), st.integers(1, 2))
def test_interpreted_kernel_gives_the_compiled_bits(case: Case, block_rigs: int,
                                                    threads: int) -> None:
    compiled = run_kernel(case.kwargs(), case.n_groups, threads=1, block_rigs=block_rigs)
    python = run_kernel(case.kwargs(), case.n_groups, threads=threads, block_rigs=block_rigs,
                        tier=_python)
    assert digest(*python) == digest(*compiled)


@given(power_fleets(max_rigs=8, max_days=12))
def test_interpreted_hourly_path_gives_the_compiled_bits(power_case: PowerCase) -> None:
    case = power_case.case
    compiled = run_kernel(case.kwargs(), case.n_groups, threads=1, power=power_case.power)
    python = run_kernel(case.kwargs(), case.n_groups, threads=1, power=power_case.power,
                        tier=_python)
    assert digest(*python) == digest(*compiled)
