"""Resale at market (``[finance] residual = "market"``, issue 13): the model, its fit on the
reference price index, and how an evaluation uses it (per Monte Carlo path, at that path's
hashprice on the horizon's last day)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetcalc import resale
from fleetcalc.engine import _simulate_chain, evaluate
from fleetcalc.errors import InputError
from fleetcalc.network import market_paths
from fleetcalc.plan import DEFAULT_RESIDUAL_FRACTION, Finance, load_plan, parse_plan, plan_to_toml
from fleetcalc.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
PLAN = load_plan(ROOT / "tests/data/inputs/plans/valid.toml")  # 10 S21 XP, delivered day 35
MODEL = resale.MARKET

hashrates = st.floats(0.001, 2000.0)
powers = st.floats(1.0, 20_000.0)
hashprices = st.floats(0.0, 1000.0)


def test_the_shipped_parameters_are_the_fit_on_the_shipped_points() -> None:
    result = resale.fit(resale.load_points())
    assert resale.rounded(result.model) == MODEL
    assert result.rms_log_error == pytest.approx(0.67, abs=0.005)


def test_the_fit_is_a_least_squares_minimum() -> None:
    points = resale.load_points().filter(resale.pl.col("use") == "fit")

    def sse(model: resale.ResaleModel) -> float:
        value = model.usd_per_th(points["j_per_th"].to_numpy(), points["unit_th"].to_numpy(),
                                 points["hashprice_usd_per_ph_day"].to_numpy())
        return float((np.log(value / points["usd_per_th"].to_numpy()) ** 2).sum())

    best = resale.fit(resale.load_points()).model
    for field in ("scrap_usd", "margin_days", "buyer_usd_per_kwh"):
        for factor in (0.99, 1.01):
            moved = dataclasses.replace(best, **{field: getattr(best, field) * factor})
            assert sse(moved) > sse(best)


def test_the_readme_and_docstring_tables_are_current() -> None:
    points = resale.load_points()
    block = resale.fit_markdown(points, MODEL)
    for document in resale.DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        assert resale.with_fit_block(text, block) == text, (
            f"{document.name}: the resale fit table is stale: run "
            "`PYTHONPATH=. python -m fleetcalc.resale --write`")


@given(hashrates, powers, powers, hashprices, hashprices)
def test_resale_never_falls_as_efficiency_improves_or_the_hashprice_rises(
    hashrate_th: float, power_a: float, power_b: float, hashprice_a: float, hashprice_b: float,
) -> None:
    efficient, wasteful = sorted((power_a, power_b))
    low, high = sorted((hashprice_a, hashprice_b))

    def value(power_w: float, hashprice: float) -> float:
        return float(MODEL.usd_per_unit(np.array(hashrate_th), np.array(power_w),
                                        np.array(hashprice)))

    for hashprice in (low, high):
        assert value(efficient, hashprice) >= value(wasteful, hashprice)
    for power_w in (efficient, wasteful):
        assert value(power_w, high) >= value(power_w, low) >= MODEL.scrap_usd


def test_an_idle_inefficient_unit_sells_for_scrap_and_a_new_one_near_the_index() -> None:
    # An S19j Pro (104 TH/s, 29.5 J/TH) at the September 2026 hashprice: near scrap.
    s19j = MODEL.usd_per_unit(np.array(104.0), np.array(104 * 29.5), np.array(40.58))
    assert s19j < 1.5 * MODEL.scrap_usd
    # Nothing to earn at any hashprice that does not pay the buyer's power: scrap exactly.
    assert MODEL.usd_per_unit(np.array(200.0), np.array(4000.0), np.array(10.0)) \
        == MODEL.scrap_usd
    # The newest class (13 J/TH) within the fit's factor of two of its index price.
    newest = MODEL.usd_per_th(np.array(13.0), np.array(270.0), np.array(40.58))
    assert 18.38 / 2 < newest < 18.38 * 2


def test_each_monte_carlo_path_resells_at_its_own_final_hashprice() -> None:
    base = load_scenario(None)
    scenario = base.with_changes(horizon_days=500, paths=6, seed=9,
                                 btc=dataclasses.replace(base.btc, annual_volatility=0.8))
    results = evaluate([PLAN], scenario, breakevens=False)
    market = market_paths(scenario, _simulate_chain)
    final_hashprice = market.hashprice_usd_per_ph_day[:, -1]
    age_years = (500 - 35) / 365.0
    hashrate_th = 270.0 * 0.95 ** age_years  # S21 XP, air-cooled degradation 5%/year
    expected = 10 * MODEL.usd_per_unit(np.array(hashrate_th), np.array(3645.0), final_hashprice)
    np.testing.assert_allclose(results.paths["residual_value_usd"].to_numpy(), expected,
                               rtol=1e-12)
    assert len(set(expected.round(6))) > 1  # the paths do differ


def test_units_retired_before_the_horizon_are_not_resold() -> None:
    short_lived = PLAN.with_order(0, service_life_years=0.5)
    results = evaluate([short_lived], load_scenario(None).with_changes(horizon_days=400),
                       breakevens=False)
    assert results.summary["residual_value_usd"][0] == 0.0


@settings(max_examples=20, deadline=None)
@given(st.floats(0.0, 1.0))
def test_fixed_resale_is_the_fraction_of_the_unit_price(fraction: float) -> None:
    plan = dataclasses.replace(PLAN, finance=Finance(residual="fixed", residual_fraction=fraction))
    results = evaluate([plan], load_scenario(None).with_changes(horizon_days=400),
                       breakevens=False)
    assert results.summary["residual_value_usd"][0] == pytest.approx(fraction * 10 * 4590.0)


def test_the_residual_keys_parse_as_documented() -> None:
    doc = plan_to_toml(PLAN)
    doc["finance"] = {}
    assert parse_plan(doc, "t").finance.residual == "market"
    doc["finance"] = {"residual_fraction": 0.2}  # a plan written before market resale
    assert parse_plan(doc, "t").finance == Finance(residual="fixed", residual_fraction=0.2)
    doc["finance"] = {"residual": "fixed"}
    assert parse_plan(doc, "t").finance.residual_fraction == DEFAULT_RESIDUAL_FRACTION
    doc["finance"] = {"residual": "market", "residual_fraction": 0.2}
    with pytest.raises(InputError, match="residual_fraction"):
        parse_plan(doc, "t")
    for finance in (Finance(), Finance(residual="fixed", residual_fraction=0.3)):
        plan = dataclasses.replace(PLAN, finance=finance)
        assert parse_plan(plan_to_toml(plan), PLAN.source) == plan
