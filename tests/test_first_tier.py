"""The plain-Python tier of the kernels (``fleetcalc.compile_ahead.tier_for``) gives the bits
the compiled kernels give."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc import compile_ahead
from kernels._jit import interpreted
from tests.kernel_cases import Case, PowerCase, digest, fleets, power_fleets, run_kernel
from tests.pins.cases import CASES, PINS_FILE


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
    """Every kernel call of at most ``INTERPRET_MAX_WORK`` runs as Python (the default plans'
    every call, the Monte Carlo case's market), and the results keep their pins."""
    pinned = json.loads(PINS_FILE.read_text())[case]
    digests = CASES[case]()
    changed = [f"{frame}.{column}" for frame, columns in pinned.items()
               for column, digest_ in columns.items()
               if digests.get(frame, {}).get(column) != digest_]
    assert not changed, f"{case}: these columns changed: {', '.join(changed)}"
    if case == "default_plans":
        assert set(always_cold) == {"simulate_responsive_tasks_nb", "simulate_tasks_nb_daily",
                                    "reduce_tasks_nb"}


def _python(kernel: Any, args: tuple) -> Callable[..., Any]:
    """The Python form alone (no fallback to compiled code), as the first tier runs it."""
    python_form = interpreted(kernel)

    def run(*call_args: Any) -> Any:
        with np.errstate(all="ignore"):
            return python_form(*call_args)

    return run


@given(fleets(max_rigs=12, max_days=40), st.integers(1, 8))
def test_interpreted_kernel_gives_the_compiled_bits(case: Case, block_rigs: int) -> None:
    compiled = run_kernel(case.kwargs(), case.n_groups, threads=1, block_rigs=block_rigs)
    python = run_kernel(case.kwargs(), case.n_groups, threads=1, block_rigs=block_rigs,
                        tier=_python)
    assert digest(*python) == digest(*compiled)


@given(power_fleets(max_rigs=8, max_days=12))
def test_interpreted_hourly_path_gives_the_compiled_bits(power_case: PowerCase) -> None:
    case = power_case.case
    compiled = run_kernel(case.kwargs(), case.n_groups, threads=1, power=power_case.power)
    python = run_kernel(case.kwargs(), case.n_groups, threads=1, power=power_case.power,
                        tier=_python)
    assert digest(*python) == digest(*compiled)
