"""The responsive network inside a scenario: the model switch, the installed base and its
retirement, the market arrays (jitted == NumPy), Monte Carlo keying, and the default scenario's
answer to the 2028 halving."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from fleetcalc.engine import scenario_market
from fleetcalc.errors import InputError
from fleetcalc.network import market_paths, responsive_inputs
from fleetcalc.scenario import load_scenario, parse_scenario, scenario_to_toml
from fleetcalc.tiers import (
    MIN_START_ONLINE_SHARE,
    check_start_date,
    cohorts,
    default_frontier_j_per_th,
    load_network_tiers,
    order_noise,
    remaining_share,
    snapshot_dates,
    start_capacity,
    tier_snapshot,
)

HALVING_2028 = 1_050_000


def _doc(**network) -> dict:
    doc = {"start_date": dt.date(2026, 12, 1), "horizon_days": 120, "seed": 3,
           "btc": {"price_usd": 84_714.0, "annual_volatility": 0.55},
           "network": {"model": "responsive", "hashrate_ehs": 964.0, "block_height": 978_200,
                       "fees_btc_per_block": 0.02, "pool_fee": 0.02}}
    doc["network"].update(network)
    return doc


def _scenario(paths: int = 1, **network):
    return parse_scenario({**_doc(**network), "paths": paths}, "test")


def _jitted(scenario):
    return scenario_market(scenario)


# --- the installed base -------------------------------------------------------------------

def test_shipped_tier_snapshots_load_and_each_sums_to_one() -> None:
    tiers = load_network_tiers()
    for as_of in snapshot_dates():
        shares = tiers.filter(tiers["as_of"] == as_of)["share"]
        assert shares.sum() == pytest.approx(1.0, abs=1e-3)
    assert set(tiers["status"]) <= {"observed", "derived", "assumption"}


def test_a_scenario_uses_the_latest_snapshot_on_or_before_its_start() -> None:
    first, *_, last = snapshot_dates()
    assert tier_snapshot(first - dt.timedelta(days=1)) is None
    assert tier_snapshot(first).as_of == first
    assert tier_snapshot(last + dt.timedelta(days=400)).as_of == last
    with pytest.raises(InputError, match="start_date"):
        check_start_date(first - dt.timedelta(days=1), "x.toml")


def test_machines_installed_evenly_retire_evenly_after_their_life() -> None:
    first, last = dt.date(2020, 1, 1), dt.date(2021, 1, 1)  # 366 days
    life = 1000.0
    days = np.array([0.0, 999.0, 1000.0, 1183.0, 1366.0, 1400.0])
    np.testing.assert_allclose(remaining_share(first, last, life, days),
                               [1.0, 1.0, 1.0, 0.5, 0.0, 0.0])
    # One installation day: a step at its end of life.
    np.testing.assert_array_equal(remaining_share(first, first, life, np.array([999.0, 1000.0])),
                                  [1.0, 0.0])


def test_start_capacity_is_the_snapshot_less_retirements_since() -> None:
    snapshot = tier_snapshot(dt.date(2026, 12, 1))
    capacity = start_capacity(snapshot, snapshot.as_of, 3000, 6.0)
    np.testing.assert_allclose(capacity[0], snapshot.share, rtol=1e-12)
    assert np.all(np.diff(capacity, axis=0) <= 0.0)  # nothing but retirement
    assert capacity[-1].sum() < 0.5 * capacity[0].sum()
    # A tier already past its service life on the snapshot date is gone.
    short = start_capacity(snapshot, snapshot.as_of, 10, 1.0)
    assert np.all(short[:, snapshot.j_per_th > 20.0] == 0.0)


def test_orders_fall_in_yearly_cohorts_of_an_improving_frontier() -> None:
    cohort_of_order, cohort_j_per_th = cohorts(800, 90, 12.0, 0.1)
    assert cohort_of_order[:91].tolist() == [0] * 91  # in flight at the start, then year 0
    assert cohort_of_order[90 + 365] == 1 and cohort_of_order[-1] == 2
    np.testing.assert_allclose(cohort_j_per_th, [12.0, 10.8, 9.72])
    assert default_frontier_j_per_th(dt.date(2024, 1, 1), 0.1) == 17.5


def test_day_zero_runs_exactly_the_scenario_hashrate() -> None:
    market = market_paths(_scenario())
    assert market.hashrate_ehs[0, 0] == pytest.approx(964.0, rel=1e-12)


def test_a_base_almost_all_offline_at_the_start_is_refused() -> None:
    with pytest.raises(InputError, match="power_median_usd_per_kwh") as info:
        market_paths(_scenario(power_median_usd_per_kwh=1.0, power_price_log_sd=0.2))
    assert f"at least {MIN_START_ONLINE_SHARE:.0%}" in str(info.value)


@pytest.mark.parametrize("table, slip, key", [
    ("network", {"hashrate_ehs": 964_000.0}, "network.hashrate_ehs"),  # PH/s typed as EH/s
    ("btc", {"price_usd": 84.714}, "btc.price_usd"),                   # thousands typed as units
])
def test_a_refused_start_names_the_implausible_input_not_the_power_median(
    table: str, slip: dict, key: str,
) -> None:
    # Issue 11: `hashrate_ehs = 964000` on the default network named
    # network.power_median_usd_per_kwh, a key the user never typed.
    doc = _doc()
    doc[table].update(slip)
    with pytest.raises(InputError, match="installed base") as info:
        market_paths(parse_scenario(doc, "test"))
    assert info.value.where == key


# --- the model switch -----------------------------------------------------------------------

def test_a_file_naming_no_model_is_the_exogenous_model_exactly() -> None:
    doc = _doc(monthly_growth=0.01)
    del doc["network"]["model"]
    unnamed = market_paths(parse_scenario({**doc, "paths": 3}, "test"))
    doc["network"]["model"] = "exogenous"
    named = market_paths(parse_scenario({**doc, "paths": 3}, "test"))
    for field in ("price_usd", "hashrate_ehs", "difficulty", "btc_per_th_day", "height"):
        np.testing.assert_array_equal(getattr(unnamed, field), getattr(named, field))


def test_both_models_share_the_price_paths() -> None:
    responsive = market_paths(_scenario(paths=4))
    doc = _doc(monthly_growth=0.01)
    doc["network"]["model"] = "exogenous"
    exogenous = market_paths(parse_scenario({**doc, "paths": 4}, "test"))
    np.testing.assert_array_equal(responsive.price_usd, exogenous.price_usd)


@pytest.mark.parametrize("paths", [1, 3])
def test_a_responsive_scenario_round_trips_through_toml(paths: int) -> None:
    scenario = _scenario(paths=paths, supply_ehs_per_month=20.0, frontier_j_per_th=11.0)
    doc = scenario_to_toml(scenario)
    assert "monthly_growth" not in doc["network"]
    assert parse_scenario(doc, "test") == scenario
    exogenous = replace(scenario, network=replace(scenario.network, model="exogenous"))
    assert "power_median_usd_per_kwh" not in scenario_to_toml(exogenous)["network"]


# --- the market arrays ----------------------------------------------------------------------

def test_jitted_market_equals_the_numpy_market() -> None:
    scenario = _scenario(paths=3)
    numpy_market, jitted = market_paths(scenario), _jitted(scenario)
    for field in ("hashrate_ehs", "difficulty", "blocks", "height", "subsidy_btc",
                  "btc_per_th_day"):
        np.testing.assert_allclose(getattr(jitted, field), getattr(numpy_market, field),
                                   rtol=1e-9, atol=0.0, err_msg=field)


def test_each_price_path_drives_its_own_network() -> None:
    # A path's network is the same whatever the number of paths beside it (prices and order
    # noise keyed by seed and path), and paths with different prices differ.
    small, large = _jitted(_scenario(paths=3)), _jitted(_scenario(paths=7))
    np.testing.assert_array_equal(small.hashrate_ehs, large.hashrate_ehs[:3])
    np.testing.assert_array_equal(small.difficulty, large.difficulty[:3])
    assert not np.array_equal(large.hashrate_ehs[0], large.hashrate_ehs[1])
    # The network answers its own path: the path that ends richest ends with more hashrate.
    richest = int(np.argmax(large.price_usd[:, -1]))
    poorest = int(np.argmin(large.price_usd[:, -1]))
    assert large.hashrate_ehs[richest, -1] > large.hashrate_ehs[poorest, -1]


def test_market_rows_give_each_scaled_price_its_own_network() -> None:
    # A breakeven search's rows: row i is path path_index[i] with its BTC price scaled; under
    # the responsive network each such row is the network the scaled price drives (the same
    # bits as the market of a scenario whose price is scaled), a row at factor 1 is its path.
    from fleetcalc.engine import _simulate_responsive
    from fleetcalc.network import market_rows

    scenario = _scenario(paths=3)
    market = _jitted(scenario)
    path_index = np.array([2, 0, 2, 1])
    factor = np.array([1.0, 1.3, 0.8, 1.0])
    rows = market_rows(market, scenario, path_index, factor, _simulate_responsive)
    np.testing.assert_array_equal(rows.price_usd, market.price_usd[path_index] * factor[:, None])
    for i in (0, 3):
        np.testing.assert_array_equal(rows.btc_per_th_day[i], market.btc_per_th_day[path_index[i]])
    for i, scale in ((1, 1.3), (2, 0.8)):
        btc = replace(scenario.btc, price_usd=scenario.btc.price_usd * scale)
        scaled = _jitted(scenario.with_changes(btc=btc))
        np.testing.assert_allclose(rows.price_usd[i], scaled.price_usd[path_index[i]],
                                   rtol=1e-15)
        np.testing.assert_allclose(rows.hashrate_ehs[i], scaled.hashrate_ehs[path_index[i]],
                                   rtol=1e-12)
        np.testing.assert_allclose(rows.btc_per_th_day[i],
                                   scaled.btc_per_th_day[path_index[i]], rtol=1e-12)
        assert not np.allclose(rows.hashrate_ehs[i], market.hashrate_ehs[path_index[i]])
        # Day 0's difficulty is the scenario's at any price, so the day-0 hashprice scales
        # with the price: the hashprice breakeven is the BTC price factor on it.
        assert rows.btc_per_th_day[i, 0] == market.btc_per_th_day[path_index[i], 0]


def test_order_noise_is_keyed_mean_one_and_off_for_one_path() -> None:
    noise = order_noise(7, 400, 120, 0.25)
    np.testing.assert_array_equal(order_noise(7, 5, 120, 0.25), noise[:5])
    assert not np.array_equal(order_noise(8, 5, 120, 0.25), noise[:5])
    np.testing.assert_array_equal(noise[:, 0], noise[:, 29])  # one factor a month
    assert noise.mean() == pytest.approx(1.0, abs=0.03)
    np.testing.assert_array_equal(order_noise(7, 1, 120, 0.25), 1.0)
    np.testing.assert_array_equal(order_noise(7, 5, 120, 0.0), 1.0)


def test_a_grid_cannot_sweep_what_the_model_does_not_read(tmp_path) -> None:
    from fleetcalc.batch.grid import expand_grid

    grid = tmp_path / "grid.toml"
    grid.write_text("[network]\nmonthly_growth = [0.0, 0.02]\n")
    with pytest.raises(InputError, match="does not read"):
        expand_grid(_scenario(), grid)
    grid.write_text("[network]\npower_median_usd_per_kwh = [0.04, 0.06]\n")
    variants = expand_grid(_scenario(), grid)
    assert [v.scenario.network.power_median_usd_per_kwh for v in variants] == [0.04, 0.06]


# --- the default scenario -------------------------------------------------------------------

def test_the_default_scenario_names_the_responsive_model_and_its_assumptions() -> None:
    scenario = load_scenario()
    assert scenario.network.model == "responsive"
    text = " ".join(scenario.assumptions)
    assert "responsive" in text and "power price" in text


def test_after_the_2028_halving_the_network_sheds_and_hashprice_settles_higher() -> None:
    scenario = load_scenario()
    responsive = _jitted(scenario)
    exogenous_network = replace(scenario.network, model="exogenous", monthly_growth=0.01)
    exogenous = _jitted(replace(scenario, network=exogenous_network))
    halving = int(responsive.halving_day[0])
    assert 0 < halving < scenario.horizon_days - 365
    hashrate = responsive.hashrate_ehs[0]
    assert hashrate[halving + 90] < 0.85 * hashrate[halving - 1]
    later = slice(halving + 180, None)
    assert np.all(responsive.hashprice_usd_per_ph_day[0, later]
                  > 1.3 * exogenous.hashprice_usd_per_ph_day[0, later])


def test_the_default_current_generation_fleets_keep_mining_after_the_halving() -> None:
    """The network's marginal tier settles where a machine at the median power price breaks
    even; the default plans' current machines (<= 14 J/TH at 5 c/kWh, 5%/yr degradation) stay
    better than it through the horizon, so they mine every day after the 2028 halving, where
    the exogenous network (1%/month growth) curtails them for good before the horizon ends
    (the S23, at 11 J/TH and USD 0.042/kWh, two years after the halving)."""
    from fleetcalc.engine import evaluate

    scenario = load_scenario()
    halving = int(_jitted(scenario).halving_day[0])
    exogenous_network = replace(scenario.network, model="exogenous", monthly_growth=0.01)
    exogenous = replace(scenario, network=exogenous_network)
    for which, expect_mining in ((scenario, True), (exogenous, False)):
        results = evaluate(None, which, breakevens=False)
        current = results.summary.filter(results.summary["efficiency_j_per_th"] <= 14.0)
        assert current.height == 3
        for plan in current["plan"].to_list():
            btc = results.daily.filter(results.daily["plan"] == plan)["btc"].to_numpy()
            if expect_mining:
                assert btc[halving + 30:].min() > 0.0, plan
            else:
                assert btc[-180:].max() == 0.0, plan


def test_the_network_is_the_same_bits_on_one_thread_and_on_two(monkeypatch) -> None:
    """Two threads each run a task (each waits at a barrier for the other on its first one,
    so a run on one thread fails instead of passing by accident), and the bits match one
    thread's."""
    from fleetcalc.tiers import order_noise
    from kernels import responsive as kernel
    from tests.test_responsive import run_nb
    from tests.thread_probe import recording_threads

    scenario = _scenario(paths=9)
    args = {"price_usd": np.ascontiguousarray(_jitted(scenario).price_usd),
            "order_noise": order_noise(scenario.seed, 9, scenario.horizon_days, 0.25),
            "fees_btc": np.full(scenario.horizon_days, 0.02), **responsive_inputs(scenario)}
    one = run_nb(args, threads=1)
    recording, ran_on = recording_threads(kernel.simulate_responsive_tasks_nb, 2)
    monkeypatch.setattr(kernel, "simulate_responsive_tasks_nb", recording)
    two = run_nb(args, threads=2)
    assert len(ran_on) == 2
    for name in one:
        np.testing.assert_array_equal(two[name], one[name], err_msg=name)


def test_the_readme_quotes_the_backtest_command_output() -> None:
    from pathlib import Path

    from benchmarks.backtest_network import FIT_ON_2024, IN_SAMPLE, backtest_table, load_history

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert backtest_table(load_history(), IN_SAMPLE, FIT_ON_2024) in readme


def test_a_tornado_varies_the_inputs_its_network_model_reads() -> None:
    from fleetcalc.plan import default_plans
    from fleetcalc.sensitivity import plan_inputs

    plan, scenario = default_plans()[0], load_scenario()
    names = {item.name for item, _, _ in plan_inputs(plan, scenario)[0]}
    notes = plan_inputs(plan, scenario)[1]
    assert {"network.power_median_usd_per_kwh", "network.supply_ehs_per_month"} <= names
    assert "network.monthly_growth" not in names
    assert any(n.startswith("network.monthly_growth left out") for n in notes)
    exogenous = replace(scenario, network=replace(scenario.network, model="exogenous"))
    names = {item.name for item, _, _ in plan_inputs(plan, exogenous)[0]}
    assert "network.monthly_growth" in names and "network.power_median_usd_per_kwh" not in names
