"""The breakeven searches' start (``plan_metrics.BreakevenStart``): the network's answer to the
price probed per scenario (``engine.price_response``), the resale's answer to the price, the
model's slope, and what the searches give against a tight solve."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc import engine, plan_metrics
from fleetcalc.network import market_rows
from fleetcalc.plan_metrics import PriceResponse
from fleetcalc.resale import Resale
from fleetcalc.scenario import load_scenario

finite = st.floats(-2.0, 2.0, allow_nan=False)


@pytest.fixture(scope="module")
def scenario():
    """The default scenario (responsive network), 24 paths over its five years."""
    return load_scenario(None).with_changes(paths=24)


def test_the_price_response_passes_through_the_probed_networks(scenario) -> None:
    # exp(L(log f)) is the network's own hashprice ratio at each probe factor f, on every
    # path and day (the quadratic's two conditions), and 1 at the start.
    engine.clear_breakeven_caches()
    response = engine.price_response(scenario)
    market = engine.scenario_market(scenario)
    for factor in engine.PROBE_PRICE_FACTORS:
        probe = market_rows(market, scenario, None, np.full(market.n_paths, factor))
        ratio = factor * probe.btc_per_th_day / market.btc_per_th_day
        growth, _ = response.growth(np.full((market.n_paths, 1), np.log(factor)))
        np.testing.assert_allclose(growth, ratio, rtol=1e-12)
    assert (response.growth(np.zeros((market.n_paths, 1)))[0] == 1.0).all()
    assert engine.price_response(scenario) is response  # cached per scenario
    engine.clear_breakeven_caches()
    assert engine.price_response(scenario) is not response


def test_an_exogenous_network_has_no_price_response(scenario) -> None:
    exogenous = dataclasses.replace(scenario.network, model="exogenous")
    assert engine.price_response(scenario.with_changes(network=exogenous)) is None


@given(c1=st.floats(0.0, 1.5), c2=finite, log_factor=st.floats(-3.0, 3.0))
def test_the_response_is_the_quadratic_inside_its_probes_and_its_tangent_outside(
    c1: float, c2: float, log_factor: float,
) -> None:
    top = float(np.log(3.0))
    response = PriceResponse(np.array([c1, c2]), top)
    growth, slope = response.growth(np.array(log_factor))
    end = min(max(log_factor, 0.0), top)  # the nearer end of [0, top], or the point itself
    at_end = c1 * end + c2 * end * end
    tangent = c1 + 2.0 * c2 * end
    assert np.log(growth) == pytest.approx(at_end + tangent * (log_factor - end), abs=1e-12)
    assert slope == pytest.approx(tangent, abs=1e-12)
    # dL/dl is the derivative of log(growth) (a central difference away from the joins).
    if min(abs(log_factor), abs(log_factor - top)) > 1e-3:
        step = 1e-6
        difference = (np.log(response.growth(np.array(log_factor + step))[0])
                      - np.log(response.growth(np.array(log_factor - step))[0])) / (2 * step)
        assert difference == pytest.approx(slope, abs=1e-6)


@given(hashprice=st.floats(1.0, 200.0), units=st.floats(0.0, 1000.0),
       hashrate_th=st.floats(50.0, 500.0), power_w=st.floats(1000.0, 6000.0))
def test_the_resale_slope_is_the_derivative_of_its_value(
    hashprice: float, units: float, hashrate_th: float, power_w: float,
) -> None:
    resale = Resale(True, 0.0, np.array([units, 2.0]), np.array([hashrate_th, 200.0]),
                    np.array([power_w, 3500.0]))
    step = 1e-4
    at = np.array([hashprice])
    value_up, value_down = (resale.value_usd(at + step), resale.value_usd(at - step))
    difference = (value_up - value_down) / (2 * step)
    # Away from a kink (a unit whose buyer's margin crosses zero) the difference is the slope.
    slopes = [resale.hashprice_slope(at + s)[0] for s in (-step, step)]
    if slopes[0] == slopes[1]:
        assert difference[0] == pytest.approx(resale.hashprice_slope(at)[0], rel=1e-6, abs=1e-6)
    fixed = Resale(False, 1234.0, np.zeros(1), np.zeros(1), np.zeros(1))
    assert fixed.hashprice_slope(at)[0] == 0.0


def _starts(scenario, monkeypatch):
    """Each default plan's (start, npv function args) as the engine builds them."""
    starts = []
    build = engine.breakeven_start

    def kept(*args, **kwargs):
        start = build(*args, **kwargs)
        starts.append(start)
        return start

    monkeypatch.setattr(engine, "breakeven_start", kept)
    paths = engine.evaluate(None, scenario).paths
    return starts, paths


def test_the_models_slope_is_its_derivative(scenario, monkeypatch) -> None:
    starts, _ = _starts(scenario, monkeypatch)
    for start in starts:
        for factor in (0.6, 1.3, 2.2, 5.0):  # below, inside and above the probes
            x = np.full(scenario.paths, factor)
            step = 1e-6 * factor
            _, slope = start.model_at_factor(x)
            up, _ = start.model_at_factor(x + step)
            down, _ = start.model_at_factor(x - step)
            difference = (up - down) / (2 * step)
            np.testing.assert_allclose(slope, difference, rtol=1e-4,
                                       atol=1e-6 * np.abs(slope).max())


def test_the_first_points_lie_near_the_roots(scenario, monkeypatch) -> None:
    # The model with the resale and the network's quadratic answer puts the BTC price
    # searches' first points 0.27-0.42% from the breakevens on these paths (median per plan;
    # 0.49-0.88% without the resale, ~5% with a power law through one probe): most searches
    # settle in two rounds.
    starts, paths = _starts(scenario, monkeypatch)
    breakevens = paths["breakeven_btc_price_usd"].to_numpy().reshape(len(starts), -1)
    price = engine.scenario_market(scenario).price_usd[:, 0]
    for start, breakeven in zip(starts, breakevens, strict=True):
        first, _ = plan_metrics._first_point(start, start.npv_usd, power=False)
        assert np.median(np.abs(first * price / breakeven - 1.0)) < 0.006


def test_the_searches_agree_with_a_tight_solve(scenario, monkeypatch) -> None:
    # Reported to 0.1%: within 3e-4 of searches run to 1e-9, every breakeven missing on the
    # same paths (a power search started at 0 settles where NPV is negative even with free
    # power).
    names = ("breakeven_btc_price_usd", "breakeven_power_usd_per_kwh")
    reported = engine.evaluate(None, scenario).paths
    monkeypatch.setattr(plan_metrics, "BREAKEVEN_STEP_TOLERANCE", 1e-9)
    monkeypatch.setattr(plan_metrics, "BREAKEVEN_NPV_TOLERANCE", 1e-13)
    monkeypatch.setattr(plan_metrics, "REFINE_ROUNDS", 40)
    tight = engine.evaluate(None, scenario).paths
    for name in names:
        ours, exact = reported[name].to_numpy(), tight[name].to_numpy()
        assert (np.isnan(ours) == np.isnan(exact)).all()
        found = ~np.isnan(exact)
        np.testing.assert_allclose(ours[found], exact[found], rtol=3e-4)
    assert np.isnan(tight["breakeven_power_usd_per_kwh"].to_numpy()).any()
