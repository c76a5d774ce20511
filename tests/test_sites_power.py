"""Several sites with power markets in one plan (issues 14 and 15 together): each site keeps
its own contract, series, sell-back and 4CP charge, so the plan is still the sum of its sites
as one-site plans, for every additive metric (credits and transmission included), on every
Monte Carlo path. With expected failures: with sampled ones a site's rigs keep the random
streams they have in the whole plan (``fleetcalc.fleet.plan_rig_keys``), which a one-site
plan, numbering its rigs from its own first order, does not reproduce; there the plan is the
sum of its own sites' rows."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from fleetcalc.engine import evaluate
from fleetcalc.frames import SITE_METRICS
from fleetcalc.plan import parse_plan
from fleetcalc.scenario import load_scenario
from fleetcalc.synthetic_prices import SHIPPED
from tests.test_sites import ADDITIVE, ADDITIVE_PER_PATH, _close, _site_alone

START = dt.date(2026, 12, 1)


def _order(site: str, model: str, quantity: int, price: float, **extra: object) -> dict:
    delivery = START + dt.timedelta(days=20)
    return {"site": site, "model": model, "origin": "US", "unit_price_usd": price,
            "quantity": quantity, "import_date": delivery, "delivery_date": delivery, **extra}


def _doc() -> dict:
    series = str(SHIPPED)
    return {
        "name": "two power sites",
        "sites": [
            {"name": "hub", "capacity_mw": 40.0, "power_price_series": series,
             "power_adder_usd_per_kwh": 0.008, "four_cp": True,
             "transmission_usd_per_kw_year": 55.0},
            {"name": "ppa", "capacity_mw": 40.0, "power_usd_per_kwh": 0.04,
             "power_price_series": series, "power_contract": "fixed", "sell_back": True,
             "transmission_usd_per_kw_year": 30.0},
        ],
        "orders": [_order("hub", "teraflux-at2880", 900, 1682.0, modes="all"),
                   _order("ppa", "antminer-s21-xp", 700, 4590.0, modes=["stock", "eco"]),
                   _order("hub", "antminer-s21-xp", 300, 4590.0)],
    }


def _scenario(failures: str):
    base = load_scenario(None)
    return base.with_changes(paths=3, failures=failures, seed=5, horizon_days=600,
                             btc=dataclasses.replace(base.btc, annual_volatility=0.5))


def test_two_power_market_sites_are_the_sum_of_their_one_site_plans() -> None:
    doc = _doc()
    scenario = _scenario("expected")
    both = parse_plan(doc, "test")
    results = evaluate([both, _site_alone(doc, "hub"), _site_alone(doc, "ppa")], scenario,
                       breakevens=False)
    plan, hub, ppa = results.summary.to_dicts()
    assert hub["transmission_usd"] > 0 and ppa["sell_back_credits_usd"] > 0
    scale = max(hub["capex_usd"], ppa["capex_usd"])
    for name in ADDITIVE:
        assert _close(plan[name], hub[name] + ppa[name], scale), name
    # ... on every Monte Carlo path, every additive metric at once.
    paths = results.paths.with_columns(results.paths["plan"].cast(str))

    def per_path(name: str) -> np.ndarray:
        return paths.filter(plan=name).sort("path").select(ADDITIVE_PER_PATH).to_numpy()

    np.testing.assert_allclose(per_path("two power sites"),
                               per_path("only hub") + per_path("only ppa"),
                               rtol=1e-9, atol=1e-9 * scale)


def test_with_sampled_failures_the_plan_is_the_sum_of_its_site_rows() -> None:
    results = evaluate([parse_plan(_doc(), "test")], _scenario("sampled"), breakevens=False)
    plan = results.summary.to_dicts()[0]
    sites = results.sites.to_dicts()
    assert [site["site"] for site in sites] == ["hub", "ppa"]
    for metric in SITE_METRICS:
        if metric.additive:
            assert _close(plan[metric.name], sum(site[metric.name] for site in sites),
                          plan["capex_usd"]), metric.name
