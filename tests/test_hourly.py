"""Hourly prices, sell-back, forced-off peak hours and operating modes in the rig-day kernel:
against the hour-by-hour NumPy reference, and the properties the model promises."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kernels import hourly
from kernels.layout import (
    DAILY_ENERGY_USD,
    DAILY_REPAIR_USD,
    DAILY_REVENUE_USD,
    DAILY_RUNNING_UNITS,
    POWER_CREDIT_USD,
)
from kernels.reference import simulate_rigdays_reference
from tests.kernel_cases import PowerCase, digest, power_fleets, run_kernel
from tests.test_kernel import assert_close


@given(power_fleets(), st.integers(1, 8), st.integers(1, 3))
def test_hourly_kernel_equals_hour_by_hour_reference(case: PowerCase, block_rigs: int,
                                                      threads: int) -> None:
    kernel = run_kernel(case.case.kwargs(), case.case.n_groups, threads=threads,
                        block_rigs=block_rigs, power=case.power)
    reference = simulate_rigdays_reference(**case.case.kwargs(), n_groups=case.case.n_groups,
                                           power=case.power, raw_hours=case.raw)
    for actual, expected in zip(kernel, reference, strict=True):
        assert_close(actual, expected)


@given(power_fleets(alike=True), st.integers(1, 8))
def test_hourly_kernel_gives_the_same_bits_on_any_thread_count(case: PowerCase,
                                                               block_rigs: int) -> None:
    one = run_kernel(case.case.kwargs(), case.case.n_groups, threads=1, block_rigs=block_rigs,
                     power=case.power)
    two = run_kernel(case.case.kwargs(), case.case.n_groups, threads=2, block_rigs=block_rigs,
                     power=case.power)
    assert digest(*one) == digest(*two)


def _on_hours(case: PowerCase, raw: hourly.RawHours) -> hourly.PowerInputs:
    p = case.power
    return hourly.PowerInputs(hourly.prepare_site_hours(raw), p.site_of, p.mode_first,
                              p.mode_count, p.mode_hashrate_th, p.mode_power_w, p.mode_slot,
                              p.n_slots)


@given(power_fleets(max_modes=1, sell_back=False))
def test_a_flat_hourly_series_gives_the_constant_price_results(case: PowerCase) -> None:
    # Every hourly rig's one mode is its own unit; at a flat price equal to the daily path's
    # constant price (and no hour forced off) both paths give the same results.
    arrays = case.case.kwargs()
    hourly_rig = case.power.site_of >= 0
    price = float(case.raw.paid.mean()) if case.raw.paid.size else 0.05
    shape = case.raw.paid.shape
    flat = hourly.RawHours(np.full(shape, price), np.full(shape, price), np.zeros(shape),
                           np.zeros(shape, bool), np.zeros(shape, bool))
    arrays["energy_usd_per_kwh"] = np.where(hourly_rig, 1.0, price)
    daily_path = dict(arrays, energy_usd_per_kwh=np.full(hourly_rig.shape, price))
    on_hours = run_kernel(arrays, case.case.n_groups, power=_on_hours(case, flat))
    constant = run_kernel(daily_path, case.case.n_groups)
    assert_close(on_hours[0], constant[0])
    assert_close(on_hours[1], constant[1])


@given(st.lists(st.sampled_from([0.0625, 0.0625 - 2**-20, 0.0625 + 2**-20, -0.01, 0.2, 0.03]),
                min_size=24, max_size=24), st.integers(1, 5))
def test_the_hours_run_are_exactly_those_at_or_below_the_threshold(prices: list[float],
                                                                   n_days: int) -> None:
    # 1 TH/s at 1 kW earning USD 1.5 a day: revenue per kWh 1.5 / 24 = 0.0625 exactly.
    market = np.tile(np.array(prices), (1, n_days, 1))
    raw = hourly.RawHours(market, market, np.zeros_like(market),
                          np.zeros(market.shape, bool), np.zeros(market.shape, bool))
    power = hourly.PowerInputs(hourly.prepare_site_hours(raw), np.zeros(1, np.int64),
                               np.zeros(1, np.int64), np.ones(1, np.int64), np.array([1.0]),
                               np.array([1000.0]), np.zeros(1, np.int64), 1)
    arrays = {
        "hashrate_th": np.array([1.0]), "power_w": np.array([1000.0]), "weight": np.ones(1),
        "delivery_day": np.zeros(1, np.int64), "retire_day": np.array([n_days]),
        "decay_per_day": np.ones(1), "uptime": np.ones(1), "failure_per_day": np.zeros(1),
        "repair_days": np.zeros(1, np.int64), "repair_cost_usd": np.zeros(1),
        "energy_usd_per_kwh": np.ones(1), "curtail": np.ones(1, np.int64),
        "rig_key": np.zeros(1, np.int64), "group": np.zeros(1, np.int64),
        "btc_per_th_day": np.full((1, n_days), 2.0**-20),
        "price_usd": np.full((1, n_days), 1.5 * 2.0**20), "pool_fee": 0.0, "sampled": False,
        "seed": 1,
    }
    daily, _, _, _ = run_kernel(arrays, 1, power=power)
    at_or_below = [p for p in prices if p <= 0.0625]
    assert (daily[0, DAILY_RUNNING_UNITS] * 24 == len(at_or_below)).all()
    assert np.allclose(daily[0, DAILY_ENERGY_USD], sum(at_or_below), rtol=1e-12, atol=1e-15)


def _margin(kernel_out: tuple) -> np.ndarray:
    """Revenue less energy and repairs plus sell-back credits, per path."""
    daily, _, power_daily, _ = kernel_out
    return (daily[:, DAILY_REVENUE_USD] - daily[:, DAILY_ENERGY_USD]
            - daily[:, DAILY_REPAIR_USD] + power_daily[:, POWER_CREDIT_USD]).sum(axis=1)


def _no_wear(case: PowerCase) -> dict:
    # Expected failures at zero rate: a running hour costs only its energy, so each hour's
    # choice maximises the day's margin and the totals can be compared exactly.
    n = case.case.arrays["hashrate_th"].shape[0]
    return case.case.kwargs(sampled=False, failure_per_day=np.zeros(n))


@given(power_fleets(max_modes=3))
def test_allowing_one_more_mode_never_lowers_the_margin(case: PowerCase) -> None:
    p = case.power
    if p.mode_count[0] < 2:
        return
    fewer = hourly.PowerInputs(p.hours, p.site_of, p.mode_first, p.mode_count - 1,
                               p.mode_hashrate_th, p.mode_power_w, p.mode_slot, p.n_slots)
    arrays = _no_wear(case)
    more = _margin(run_kernel(arrays, case.case.n_groups, power=p))
    less = _margin(run_kernel(arrays, case.case.n_groups, power=fewer))
    assert (more >= less - 1e-9 * (1 + np.abs(less))).all()


@given(power_fleets(sell_back=True))
def test_sell_back_never_lowers_the_margin(case: PowerCase) -> None:
    raw = case.raw
    contract = raw.paid  # the fixed price; without sell-back it is also the decision price
    without = hourly.RawHours(contract, contract, np.zeros_like(contract), raw.forced_off,
                              raw.peak)
    arrays = _no_wear(case)
    with_credits = _margin(run_kernel(arrays, case.case.n_groups, power=case.power))
    plain = _margin(run_kernel(arrays, case.case.n_groups, power=_on_hours(case, without)))
    assert (with_credits >= plain - 1e-9 * (1 + np.abs(plain))).all()
