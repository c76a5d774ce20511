"""The rig-day kernel's rig classes (runs of rigs with the same per-day amounts, counted per day
and booked once) against the NumPy reference, on fleets laid out as orders of alike rigs."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kernels.reference import simulate_rigdays_reference
from tests.kernel_cases import Case, fleets, run_kernel

# The inputs that fix what a running rig adds besides hashrate (see _same_amounts_nb).
AMOUNT_FIELDS = ("power_w", "weight", "uptime", "failure_per_day", "repair_days",
                 "repair_cost_usd", "energy_usd_per_kwh")


@given(fleets(), st.lists(st.integers(1, 6), min_size=1, max_size=8), st.integers(1, 40))
def test_runs_of_alike_rigs_equal_reference(case: Case, run_lengths: list[int],
                                            block_rigs: int) -> None:
    # Rig i takes the amounts of rig owner[i]: runs of alike rigs (lengths drawn), singles
    # among them; hashrate, delivery, decay, curtailment and failure streams stay per rig.
    # Blocks of ``block_rigs`` cut some runs at a block's end, where a class must be booked.
    n = case.arrays["hashrate_th"].shape[0]
    owner = np.resize(np.repeat(np.arange(len(run_lengths)), run_lengths), n) % n
    arrays = dict(case.arrays)
    for name in AMOUNT_FIELDS:
        arrays[name] = np.ascontiguousarray(arrays[name][owner])
    daily, groups = run_kernel(arrays, case.n_groups, block_rigs=block_rigs)
    ref_daily, ref_groups = simulate_rigdays_reference(**arrays, n_groups=case.n_groups)
    for actual, expected in ((daily, ref_daily), (groups, ref_groups)):
        np.testing.assert_allclose(actual, expected, rtol=1e-9,
                                   atol=1e-12 * (1 + np.abs(expected).max()))


# The inputs that differ between rigs of one order (see _alike_nb): everything else is shared.
PER_RIG_FIELDS = ("delivery_day", "retire_day", "rig_key")


@given(fleets(max_rigs=60, max_days=80), st.lists(st.integers(1, 20), min_size=1, max_size=5),
       st.integers(1, 4), st.integers(1, 70), st.integers(1, 3))
def test_orders_of_alike_rigs_equal_reference(case: Case, run_lengths: list[int],
                                              delivery_days: int, block_rigs: int,
                                              threads: int) -> None:
    # Runs of rigs alike but for delivery, retirement and failure stream (the class path):
    # delivered on a few days, so several rigs share a delivery day and its running days;
    # the fleets' failure rates (up to 20 a year) and repair days (0-10) give several failures
    # per rig, repairs back to back included.
    n = case.arrays["hashrate_th"].shape[0]
    n_days = case.arrays["btc_per_th_day"].shape[1]
    owner = np.resize(np.repeat(np.arange(len(run_lengths)), run_lengths), n) % n
    arrays = dict(case.arrays)
    for name, values in arrays.items():
        if isinstance(values, np.ndarray) and values.shape == (n,) and name not in PER_RIG_FIELDS:
            arrays[name] = np.ascontiguousarray(values[owner])
    delivery = case.arrays["delivery_day"] % delivery_days
    arrays["delivery_day"] = delivery
    arrays["retire_day"] = np.maximum(case.arrays["retire_day"], delivery + 1).clip(0, n_days)
    daily, groups = run_kernel(arrays, case.n_groups, block_rigs=block_rigs, threads=threads)
    ref_daily, ref_groups = simulate_rigdays_reference(**arrays, n_groups=case.n_groups)
    for actual, expected in ((daily, ref_daily), (groups, ref_groups)):
        np.testing.assert_allclose(actual, expected, rtol=1e-9,
                                   atol=1e-12 * (1 + np.abs(expected).max()))
    one = run_kernel(arrays, case.n_groups, block_rigs=block_rigs, threads=1)
    assert one[0].tobytes() == daily.tobytes() and one[1].tobytes() == groups.tobytes()
