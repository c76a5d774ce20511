"""Issue 15's kernel promise with every power feature at once: hourly prices, several modes,
sell-back and 4CP forced-off peak hours in one fleet (``tests/test_hourly.py`` draws each of
them at random, so a draw may leave some out). Kernel == the hour-by-hour NumPy reference
(1e-9), and the same bits on 1 and 2 threads for fleets of distinct rigs, not only the runs of
alike rigs ``test_hourly`` checks the bits on.

The shared strategy's extreme draws stay: tiny prices (1e-294 USD/kWh), at which the reference
ranks two modes by the difference of their energy costs and so agrees with the kernel's
thresholds (``test_modes_that_tie_only_in_rounding_rank_as_exact_arithmetic``), and tiny
failure rates (1e-307 a day), whose time to failure is inf in both.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernels import hourly
from kernels.layout import DAILY_POWER_W
from kernels.reference import simulate_rigdays_reference
from tests import test_hourly
from tests.kernel_cases import PowerCase, power_fleets, run_kernel


def _assert_every_feature(case: PowerCase) -> None:
    """The draw has every feature (the strategy builds them in): some rig on an hourly site
    with 2+ modes, some hour forced off (4CP) and some contracted energy that sells back."""
    hourly_rigs = case.power.site_of >= 0
    assert (case.power.mode_count[hourly_rigs] >= 2).any()
    assert case.raw.forced_off.any()
    assert (case.raw.credit > 0).any()


@given(power_fleets(alike=False, every_feature=True), st.integers(1, 8), st.integers(1, 2))
def test_kernel_equals_reference_with_hourly_prices_modes_sell_back_and_4cp_together(
        case: PowerCase, block_rigs: int, threads: int) -> None:
    _assert_every_feature(case)
    # test_hourly's check (its body, without its own draws) on these fleets.
    test_hourly.test_hourly_kernel_equals_hour_by_hour_reference.hypothesis.inner_test(
        case, block_rigs, threads)


@given(power_fleets(alike=False, every_feature=True), st.integers(1, 8))
def test_distinct_rigs_with_every_power_feature_give_the_same_bits_on_1_and_2_threads(
        case: PowerCase, block_rigs: int) -> None:
    _assert_every_feature(case)
    test_hourly.test_hourly_kernel_gives_the_same_bits_on_any_thread_count.hypothesis.inner_test(
        case, block_rigs)


def test_modes_that_tie_only_in_rounding_rank_as_exact_arithmetic() -> None:
    # One unit, one day, two modes of 1 TH/s at 100 W and 50 W, every hour at 1e-294 USD/kWh:
    # the margins differ by less than the revenue's rounding, yet at any positive price the
    # 50 W mode earns more. Both run it (the reference once ran the 100 W mode: found by
    # test_hourly's reference test on its raw draws, which failed on some runs only).
    shape = (1, 1, 24)
    price = np.full(shape, 1e-294)
    raw = hourly.RawHours(price, price, np.zeros(shape), np.zeros(shape, bool),
                          np.zeros(shape, bool))
    power = hourly.PowerInputs(hourly.prepare_site_hours(raw), np.zeros(1, np.int64),
                               np.zeros(1, np.int64), np.array([2]), np.array([1.0, 1.0]),
                               np.array([100.0, 50.0]), np.array([0, 1]), 2)
    one = {"hashrate_th": np.ones(1), "power_w": np.array([100.0]), "weight": np.ones(1),
           "delivery_day": np.zeros(1, np.int64), "retire_day": np.ones(1, np.int64),
           "decay_per_day": np.ones(1), "uptime": np.ones(1), "failure_per_day": np.zeros(1),
           "repair_days": np.zeros(1, np.int64), "repair_cost_usd": np.zeros(1),
           "energy_usd_per_kwh": np.ones(1), "curtail": np.ones(1, np.int64),
           "rig_key": np.zeros(1, np.int64), "group": np.zeros(1, np.int64),
           "btc_per_th_day": np.full((1, 1), 1e-8), "price_usd": np.ones((1, 1)),
           "pool_fee": 0.0, "sampled": False, "seed": 0}
    kernel = run_kernel(one, 1, power=power)
    reference = simulate_rigdays_reference(**one, n_groups=1, power=power, raw_hours=raw)
    np.testing.assert_allclose(kernel[0], reference[0], rtol=1e-9)
    assert kernel[0][0, DAILY_POWER_W, 0] == pytest.approx(50.0)
