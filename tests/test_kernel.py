"""The Numba rig-day kernel against the NumPy reference, hand-computed cases and properties."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kernels.reference import simulate_rigdays_reference
from kernels.rigdays import (
    DAILY_BTC,
    DAILY_ENERGY_USD,
    DAILY_REPAIR_USD,
    DAILY_REVENUE_USD,
    GROUP_BTC,
    GROUP_ENERGY_USD,
    GROUP_REVENUE_USD,
)
from tests.kernel_cases import Case, digest, fleets, run_kernel, thread_test_fleet

REL = 1e-9
ROOT = Path(__file__).resolve().parents[1]


def assert_close(actual: np.ndarray, expected: np.ndarray, rel: float = REL) -> None:
    atol = 1e-12 * (1 + np.abs(expected).max())
    np.testing.assert_allclose(actual, expected, rtol=rel, atol=atol)


def _one_rig(**changes) -> dict:
    arrays = {
        "hashrate_th": np.array([100.0]), "power_w": np.array([1500.0]),
        "weight": np.array([1.0]), "delivery_day": np.array([0]), "retire_day": np.array([1]),
        "decay_per_day": np.array([1.0]), "uptime": np.array([1.0]),
        "failure_per_day": np.array([0.0]), "repair_days": np.array([0]),
        "repair_cost_usd": np.array([0.0]), "energy_usd_per_kwh": np.array([0.05]),
        "curtail": np.array([1]), "rig_key": np.array([0]), "group": np.array([0]),
        "btc_per_th_day": np.array([[1e12 * 86400 * 3.125 / (1e14 * 2**32)]]),
        "price_usd": np.array([[100_000.0]]), "pool_fee": 0.0, "sampled": False, "seed": 1,
    }
    arrays.update(changes)
    return arrays


# Three paths, five rigs in blocks of two (three blocks per path), sampled failures, a rig
# curtailed by its power price, two groups.
SEVERAL_BLOCKS = Case(_one_rig(
    hashrate_th=np.array([100.0, 120.0, 90.0, 200.0, 150.0]), power_w=np.full(5, 3000.0),
    weight=np.ones(5), delivery_day=np.array([0, 1, 0, 2, 3]), retire_day=np.full(5, 6),
    decay_per_day=np.full(5, 0.9999), uptime=np.full(5, 0.95),
    failure_per_day=np.full(5, 30 / 365), repair_days=np.full(5, 2),
    repair_cost_usd=np.full(5, 200.0), energy_usd_per_kwh=np.array([0.05, 0.05, 0.3, 0.05, 0.05]),
    curtail=np.ones(5, dtype=np.int64), rig_key=np.arange(5), group=np.array([0, 0, 1, 1, 0]),
    btc_per_th_day=np.full((3, 6), 6e-7), price_usd=np.full((3, 6), 9e4), sampled=True, seed=5,
), 2)


@given(fleets(), st.integers(1, 8), st.integers(1, 3))
@example(SEVERAL_BLOCKS, 2, 2)
def test_kernel_equals_reference(case: Case, block_rigs: int, threads: int) -> None:
    # Small blocks split even a few rigs into several tasks per path, so the reduction over
    # blocks and paths is checked on fleets small enough for the reference.
    daily, groups = run_kernel(case.kwargs(), case.n_groups, threads=threads,
                               block_rigs=block_rigs)
    ref_daily, ref_groups = simulate_rigdays_reference(**case.kwargs(), n_groups=case.n_groups)
    assert_close(daily, ref_daily)
    assert_close(groups, ref_groups)


@given(fleets(), st.integers(1, 8))
def test_any_thread_count_gives_the_same_bits(case: Case, block_rigs: int) -> None:
    one = run_kernel(case.kwargs(), case.n_groups, threads=1, block_rigs=block_rigs)
    three = run_kernel(case.kwargs(), case.n_groups, threads=3, block_rigs=block_rigs)
    assert one[0].tobytes() == three[0].tobytes()
    assert one[1].tobytes() == three[1].tobytes()


@given(fleets(sampled=True), st.lists(st.integers(0, 2), min_size=1, max_size=5))
def test_rows_on_a_paths_random_stream_are_that_path(case: Case, picks: list[int]) -> None:
    # A breakeven search runs its candidates as extra paths, row i on path rng_path[i]'s
    # random stream: with that path's market, a row is the path itself (sampled failures
    # and all), whichever rows run beside it.
    n_paths = case.arrays["btc_per_th_day"].shape[0]
    index = np.array([pick % n_paths for pick in picks], dtype=np.int64)
    base = run_kernel(case.kwargs(), case.n_groups)
    rows = run_kernel(case.kwargs(btc_per_th_day=case.arrays["btc_per_th_day"][index],
                                  price_usd=case.arrays["price_usd"][index], rng_path=index),
                      case.n_groups)
    assert_close(rows[0], base[0][index])
    assert_close(rows[1], base[1][index])


@given(fleets())
def test_group_totals_equal_daily_totals_and_are_non_negative(case: Case) -> None:
    daily, groups = run_kernel(case.kwargs(), case.n_groups)
    assert (daily >= 0).all() and (groups >= 0).all()
    assert_close(groups[:, :, GROUP_BTC].sum(axis=1), daily[:, DAILY_BTC].sum(axis=1))
    assert_close(groups[:, :, GROUP_REVENUE_USD].sum(axis=1),
                 daily[:, DAILY_REVENUE_USD].sum(axis=1))
    assert_close(groups[:, :, GROUP_ENERGY_USD].sum(axis=1),
                 daily[:, DAILY_ENERGY_USD].sum(axis=1))


@given(fleets(sampled=False), st.integers(2, 50))
def test_revenue_scales_linearly_with_fleet_size(case: Case, k: int) -> None:
    base, _ = run_kernel(case.kwargs(), case.n_groups)
    scaled, _ = run_kernel(case.kwargs(weight=case.arrays["weight"] * k), case.n_groups)
    assert_close(scaled, base * k)


@given(fleets(), st.floats(0.1, 10.0))
def test_revenue_scales_linearly_with_btc_price_without_curtailment(case: Case, k: float) -> None:
    off = np.zeros_like(case.arrays["curtail"])
    base, _ = run_kernel(case.kwargs(curtail=off), case.n_groups)
    scaled, _ = run_kernel(
        case.kwargs(curtail=off, price_usd=case.arrays["price_usd"] * k), case.n_groups)
    assert_close(scaled[:, DAILY_REVENUE_USD], base[:, DAILY_REVENUE_USD] * k)
    assert_close(scaled[:, DAILY_BTC], base[:, DAILY_BTC])


@given(fleets(), st.floats(0.0, 1.0))
def test_energy_cost_never_rises_when_power_price_falls(case: Case, cut: float) -> None:
    # Without curtailment the running days are fixed, so a lower price costs no more. (With
    # curtailment a lower price can turn idle days into running ones: more energy, more profit.)
    off = np.zeros_like(case.arrays["curtail"])
    base, _ = run_kernel(case.kwargs(curtail=off), case.n_groups)
    cheaper = case.arrays["energy_usd_per_kwh"] * cut
    low, _ = run_kernel(case.kwargs(curtail=off, energy_usd_per_kwh=cheaper), case.n_groups)
    assert (low[:, DAILY_ENERGY_USD] <= base[:, DAILY_ENERGY_USD] * (1 + 1e-12)).all()


@given(fleets())
def test_a_fully_curtailed_fleet_costs_nothing(case: Case) -> None:
    on = np.ones_like(case.arrays["curtail"])
    priced = np.maximum(case.arrays["energy_usd_per_kwh"], 0.01)
    zero_price = np.zeros_like(case.arrays["price_usd"])
    daily, groups = run_kernel(
        case.kwargs(curtail=on, energy_usd_per_kwh=priced, price_usd=zero_price), case.n_groups)
    assert not daily.any()
    assert not groups.any()


@given(fleets(max_rigs=20))
def test_permuting_rigs_changes_nothing(case: Case) -> None:
    n = case.arrays["hashrate_th"].shape[0]
    order = np.random.default_rng(n).permutation(n)
    permuted = {k: (v[order] if isinstance(v, np.ndarray) and v.shape == (n,) else v)
                for k, v in case.arrays.items()}
    base, base_groups = run_kernel(case.kwargs(), case.n_groups)
    other, other_groups = run_kernel(permuted, case.n_groups)
    assert_close(other, base, 1e-12)
    assert_close(other_groups, base_groups, 1e-12)


def test_one_rig_one_day_by_hand() -> None:
    # D = 1e14, 3.125 BTC, USD 100,000: 62.864 USD per PH/s per day, so 6.2864 USD for 100 TH/s.
    daily, _ = run_kernel(_one_rig(), 1)
    btc = 100 * 1e12 * 86400 * 3.125 / (1e14 * 2**32)
    assert daily[0, DAILY_BTC, 0] == pytest.approx(btc, rel=1e-15)
    assert daily[0, DAILY_REVENUE_USD, 0] == pytest.approx(6.28642738, rel=1e-8)
    assert daily[0, DAILY_ENERGY_USD, 0] == pytest.approx(1.5 * 24 * 0.05, rel=1e-15)


def test_a_curtailed_day_costs_no_energy() -> None:
    # 6.29 USD revenue against 1.5 kW * 24 h * 0.2 USD = 7.20 USD of power: off for the day.
    daily, groups = run_kernel(_one_rig(energy_usd_per_kwh=np.array([0.2])), 1)
    assert not groups.any()
    assert daily[0, DAILY_ENERGY_USD, 0] == 0.0
    assert daily[0, DAILY_BTC, 0] == 0.0
    running, _ = run_kernel(_one_rig(energy_usd_per_kwh=np.array([0.2]),
                                     curtail=np.array([0])), 1)
    assert running[0, DAILY_ENERGY_USD, 0] == pytest.approx(7.2)


def test_expected_failures_enter_as_availability_and_repair_cost() -> None:
    afr, repair_days, cost = 0.1, 14, 300.0
    daily, _ = run_kernel(_one_rig(
        failure_per_day=np.array([afr / 365]), repair_days=np.array([repair_days]),
        repair_cost_usd=np.array([cost])), 1)
    availability = 1 / (1 + afr / 365 * repair_days)
    assert daily[0, DAILY_BTC, 0] == pytest.approx(
        100 * 1e12 * 86400 * 3.125 / (1e14 * 2**32) * availability, rel=1e-14)
    assert daily[0, DAILY_REPAIR_USD, 0] == pytest.approx(afr / 365 * availability * cost)


def test_sampled_failures_match_expected_in_the_mean() -> None:
    n, days = 4000, 365
    rig = _one_rig(retire_day=np.array([days]),
                   btc_per_th_day=np.full((1, days), 6e-7), price_usd=np.full((1, days), 1e5))
    many = {k: (np.repeat(v, n) if isinstance(v, np.ndarray) and v.ndim == 1 else v)
            for k, v in rig.items()}
    many.update(failure_per_day=np.full(n, 2.0 / 365), repair_days=np.full(n, 10),
                rig_key=np.arange(n))
    sampled, _ = run_kernel({**many, "sampled": True}, 1)
    expected, _ = run_kernel({**many, "sampled": False}, 1)
    assert sampled[0, DAILY_BTC].sum() == pytest.approx(expected[0, DAILY_BTC].sum(), rel=0.01)


def _probe(threads: int) -> dict:
    """``tests.thread_probe`` in a fresh process with ``NUMBA_NUM_THREADS=threads``."""
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "tests.thread_probe"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_bit_identical_on_one_and_two_threads_in_fresh_processes() -> None:
    # NUMBA_NUM_THREADS is read once, at import: each count needs its own process. The probe
    # reports how many threads ran tasks, so the test cannot pass by running on one thread.
    one, two = _probe(1), _probe(2)
    assert one["threads"] == one["ran_on"] == 1
    assert two["threads"] == two["ran_on"] == 2
    assert one["digest"] == two["digest"]
    assert digest(*run_kernel(thread_test_fleet(), 3, threads=1)) == one["digest"]


def test_calls_from_several_threads_at_once_need_no_lock() -> None:
    # The engine holds no lock around the kernel: the TUI's worker and a batch may call it
    # while another call runs, each with its own buffers, all sharing the one thread pool.
    arrays = thread_test_fleet()
    expected = digest(*run_kernel(arrays, 3, threads=1))
    with ThreadPoolExecutor(4) as callers:
        runs = list(callers.map(lambda _: digest(*run_kernel(arrays, 3, threads=2)), range(8)))
    assert runs == [expected] * 8
