"""The shipped default plans answer the operator's question (issue 13): the same 25 MW site
filled with each maker's best current air-cooled machine, every machine priced on one basis."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from fleetcalc.catalog import get_model, index_price, load_catalog
from fleetcalc.engine import evaluate
from fleetcalc.plan import default_plans
from fleetcalc.units import resolve_unit

PLANS = default_plans(include_cn=True)


def test_four_makers_and_the_china_origin_comparison() -> None:
    makers = [get_model(plan.orders[0].model).maker for plan in PLANS]
    assert makers == ["Bitmain", "MicroBT", "Canaan", "Auradine", "MicroBT"]
    assert [plan.orders[0].origin for plan in PLANS][-1] == "CN"
    assert PLANS[4].orders[0] == dataclasses.replace(PLANS[1].orders[0], origin="CN")


def test_every_plan_has_the_same_site_and_terms() -> None:
    assert len({plan.site for plan in PLANS}) == 1
    assert len({plan.finance for plan in PLANS}) == 1
    site = PLANS[0].site
    assert (site.capacity_mw, site.build) == (25.0, "site")
    assert site.build_usd_per_mw > 0 and site.fixed_opex_usd_per_mw_month > 0
    assert PLANS[0].finance.residual == "market"


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.name)
def test_each_fills_the_site_within_one_units_power(plan) -> None:
    (order,) = plan.orders
    unit_mw = resolve_unit(order).power_w * plan.site.pue / 1e6
    used_mw = order.quantity * unit_mw
    assert plan.site.capacity_mw - unit_mw < used_mw <= plan.site.capacity_mw


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.name)
def test_each_machine_is_priced_on_the_one_index_basis(plan) -> None:
    (order,) = plan.orders
    price = index_price(order.model, order.delivery_date)
    assert price is not None and price.basis == "tier_index"
    assert price.price_date == dt.date(2026, 9, 27)
    assert order.unit_price_usd == price.price_usd


@pytest.mark.parametrize("plan", PLANS[:4], ids=lambda p: p.name)
def test_each_is_its_makers_most_efficient_air_cooled_model(plan) -> None:
    spec = get_model(plan.orders[0].model)
    catalog = load_catalog()
    air = catalog.filter((catalog["maker"] == spec.maker) & (catalog["cooling"] == "air")
                         & (catalog["hashrate_th"] >= 100.0))  # not the home units
    assert spec.efficiency_j_per_th == air["efficiency_j_per_th"].min()


def test_compare_shows_mw_and_npv_per_mw() -> None:
    summary = evaluate(None, None, breakevens=False).summary
    assert summary["mw_used"].to_list() == pytest.approx([25.0] * 4, abs=0.01)
    for row in summary.iter_rows(named=True):
        assert row["npv_per_mw_usd"] == pytest.approx(row["npv_usd"] / row["mw_used"])
        assert row["capex_per_mw_usd"] == pytest.approx(row["capex_usd"] / row["mw_used"])
        assert row["site_build_usd"] == 25.0 * 550_000.0
