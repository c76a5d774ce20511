"""Issue 15's kernel promise with every power feature at once: hourly prices, several modes,
sell-back and 4CP forced-off peak hours in one fleet (``tests/test_hourly.py`` draws each of
them at random, so a draw may leave some out). Kernel == the hour-by-hour NumPy reference
(1e-9), and the same bits on 1 and 2 threads for fleets of distinct rigs, not only the runs of
alike rigs ``test_hourly`` checks the bits on.

The shared strategy draws magnitudes no input reaches (prices of 1e-294 USD/kWh, failure
rates of 1e-307 a day); here they are set to 0 (``_realistic``). At such a price two modes'
energy costs differ by less than the revenue's rounding: the reference's hour-by-hour margins
tie (the tie goes to the more power-hungry mode) while the kernel's exact price thresholds
still rank them (``test_modes_that_tie_only_in_rounding`` records it); at such a rate the
reference's time to failure overflows to inf with a warning.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kernels import hourly
from kernels.reference import simulate_rigdays_reference
from tests import test_hourly
from tests.kernel_cases import PowerCase, power_fleets, run_kernel

TINY = 1e-12  # USD/kWh for prices, per day for failure rates


def _realistic(case: PowerCase) -> PowerCase:
    """``case`` with prices within 1e-12 USD/kWh of 0, and daily failure rates under 1e-12,
    set to 0 (see the module docstring)."""
    def snap(values: np.ndarray) -> np.ndarray:
        return np.where(np.abs(values) < TINY, 0.0, values)

    r = case.raw
    raw = hourly.RawHours(snap(r.decision), snap(r.paid), snap(r.credit), r.forced_off, r.peak)
    p = case.power
    power = hourly.PowerInputs(hourly.prepare_site_hours(raw), p.site_of, p.mode_first,
                               p.mode_count, p.mode_hashrate_th, p.mode_power_w, p.mode_slot,
                               p.n_slots)
    arrays = dict(case.case.arrays, failure_per_day=snap(case.case.arrays["failure_per_day"]))
    return PowerCase(dataclasses.replace(case.case, arrays=arrays), power, raw)


def _everything_on(case: PowerCase) -> PowerCase:
    """The realistic ``case``; skips draws that leave a feature out: some rig on an hourly site
    with 2+ modes, some hour forced off (4CP) and some contracted energy that sells back."""
    case = _realistic(case)
    hourly_rigs = case.power.site_of >= 0
    assume(hourly_rigs.any())
    assume((case.power.mode_count[hourly_rigs] >= 2).any())
    assume(case.raw.forced_off.any())
    assume((case.raw.credit > 0).any())
    return case


@given(power_fleets(sell_back=True, alike=False), st.integers(1, 8), st.integers(1, 2))
def test_kernel_equals_reference_with_hourly_prices_modes_sell_back_and_4cp_together(
        case: PowerCase, block_rigs: int, threads: int) -> None:
    case = _everything_on(case)
    # test_hourly's check (its body, without its own draws) on these fleets.
    test_hourly.test_hourly_kernel_equals_hour_by_hour_reference.hypothesis.inner_test(
        case, block_rigs, threads)


@given(power_fleets(sell_back=True, alike=False), st.integers(1, 8))
def test_distinct_rigs_with_every_power_feature_give_the_same_bits_on_1_and_2_threads(
        case: PowerCase, block_rigs: int) -> None:
    case = _everything_on(case)
    test_hourly.test_hourly_kernel_gives_the_same_bits_on_any_thread_count.hypothesis.inner_test(
        case, block_rigs)


@pytest.mark.xfail(strict=True, reason="a price of 1e-294 USD/kWh: the reference's margins of "
                   "two modes tie in rounding (it runs the 100 W mode), the kernel's thresholds "
                   "rank the 50 W mode first; found by the test above on the raw draws")
def test_modes_that_tie_only_in_rounding() -> None:
    # One unit, one day, two modes of 1 TH/s at 100 W and 50 W, every hour at 1e-294 USD/kWh.
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
