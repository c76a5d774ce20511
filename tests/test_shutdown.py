"""Shutdown prices: the day-0 BTC price and energy price at which a fleet's revenue equals its
energy cost, beside the all-in breakevens (NPV = 0)."""

from __future__ import annotations

import dataclasses

import pytest

from fleetcalc import finance
from fleetcalc.engine import evaluate
from fleetcalc.plan import default_plans
from fleetcalc.scenario import load_scenario


@pytest.fixture(scope="module")
def flat_start():
    """The default scenario over 30 days with no growth, and the S21 XP plan delivering on day
    0: the day-0 market is the one its rigs are judged on."""
    scenario = load_scenario(None)
    scenario = scenario.with_changes(
        horizon_days=30, network=dataclasses.replace(scenario.network, monthly_growth=0.0))
    plan = default_plans()[0].with_order(0, import_date=scenario.start_date,
                                         delivery_date=scenario.start_date)
    return scenario, plan


def test_shutdown_prices_equal_the_closed_form(flat_start) -> None:
    scenario, plan = flat_start
    results = evaluate([plan], scenario, breakevens=False)
    row = results.summary.row(0, named=True)
    order = results.orders.row(0, named=True)
    hashrate_th = order["hashrate_th"] * order["quantity"]
    power_w = order["power_w"] * order["quantity"]
    day0 = results.market.row(0, named=True)
    pool_fee = scenario.network.pool_fee
    energy = plan.site.energy_usd_per_kwh  # a kWh of IT load: PUE x power + hosting
    shutdown_btc = (power_w / 1000 * 24 * energy
                    / (hashrate_th * day0["btc_per_th_day"] * (1 - pool_fee)))
    assert row["shutdown_btc_price_usd"] == pytest.approx(shutdown_btc, rel=1e-12)
    # The power price is its inverse at the scenario's BTC price.
    shutdown_power = (hashrate_th * day0["btc_per_th_day"] * (1 - pool_fee)
                      * day0["price_usd"] / (power_w / 1000 * 24))
    assert row["shutdown_power_usd_per_kwh"] == pytest.approx(shutdown_power, rel=1e-12)
    assert row["shutdown_power_usd_per_kwh"] / energy == pytest.approx(
        day0["price_usd"] / row["shutdown_btc_price_usd"], rel=1e-12)


def test_a_hand_computed_shutdown_price() -> None:
    # 100 TH/s at 2,000 W and USD 0.05/kWh costs USD 2.40 a day. At D = 1e14, 3.125 BTC a block
    # and no fees, 1 TH/s earns 86400e12 x 3.125 / (1e14 x 2**32) = 6.2864e-7 BTC a day (the
    # design's test vector: USD 62.864/PH/day at USD 100,000), 98% of it after the pool fee:
    # 2.40 / (100 x 6.2864e-7 x 0.98) = USD 38,956.6.
    btc_per_th_day = 86400e12 * 3.125 / (1e14 * 2**32)
    price = finance.shutdown_btc_price_usd(2.0, 0.05, 100.0, btc_per_th_day, 0.02)
    assert price == pytest.approx(2.4 / (100.0 * btc_per_th_day * 0.98), rel=1e-15)
    assert price == pytest.approx(38_956.6, rel=1e-5)
    assert finance.shutdown_energy_usd_per_kwh(2.0, price, 100.0, btc_per_th_day, 0.02) == (
        pytest.approx(0.05, rel=1e-15))


@pytest.mark.parametrize("side", [-1, 1])
def test_the_kernel_runs_the_fleet_above_its_shutdown_price_and_curtails_it_below(
    flat_start, side: int,
) -> None:
    scenario, plan = flat_start
    price = evaluate([plan], scenario, breakevens=False).summary["shutdown_btc_price_usd"][0]
    at = scenario.with_changes(btc=dataclasses.replace(scenario.btc, price_usd=price
                                                       * (1 + side * 1e-9)))
    running = evaluate([plan], at, breakevens=False).daily["running_units"][0]
    assert (running > 0) == (side > 0)


def test_shutdown_power_is_far_above_the_all_in_breakeven_for_the_defaults() -> None:
    # The issue: "breakeven power" (NPV = 0, 0.015-0.05) was read as the running-cost
    # shutdown price (~0.10-0.13 USD/kWh in October 2026); both are now reported, labelled.
    summary = evaluate(None, None).summary
    for row in summary.iter_rows(named=True):
        assert 0.08 < row["shutdown_power_usd_per_kwh"] < 0.15, row["plan"]
        # A missing breakeven (NPV < 0 even with free power) is below any shutdown price too.
        assert not row["breakeven_power_usd_per_kwh"] >= row["shutdown_power_usd_per_kwh"]
        assert row["shutdown_btc_price_usd"] < row["breakeven_btc_price_usd"]
