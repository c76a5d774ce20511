"""Several sites in one plan: the plan is the sum of its sites, each site as a one-site plan."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetcalc.cli import main
from fleetcalc.engine import evaluate
from fleetcalc.frames import SITE_METRICS
from fleetcalc.metrics import METRICS, PATH_METRICS
from fleetcalc.plan import Plan, load_plan, parse_plan, plan_to_toml
from fleetcalc.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "two-sites.toml"
ADDITIVE = tuple(m.name for m in METRICS if m.additive)
ADDITIVE_PER_PATH = tuple(m.name for m in PATH_METRICS if m.additive)
# Units a drawn order buys: (model, origin, unit price USD).
UNITS = (("antminer-s21-xp", "MY", 4590.0), ("teraflux-at2880", "US", 1682.0),
         ("whatsminer-m70s", "CN", 3224.0), ("antminer-s21-plus", "US", 1397.52))
START = dt.date(2026, 12, 1)


def _scenario(paths: int = 1, failures: str = "expected", horizon_days: int = 500):
    return load_scenario(None).with_changes(paths=paths, failures=failures, seed=5,
                                            horizon_days=horizon_days)


@st.composite
def site_docs(draw: st.DrawFn, name: str) -> dict:
    return {
        "name": name, "capacity_mw": 100.0,
        "power_usd_per_kwh": draw(st.floats(0.0, 0.12)),
        "hosting_usd_per_kwh": draw(st.sampled_from([0.0, 0.01])),
        "uptime": draw(st.floats(0.5, 1.0)),
        "curtail_when_unprofitable": draw(st.booleans()),
        # The megawatt-priced site (issue 13): each site's own.
        "pue": draw(st.floats(1.0, 1.5)), "take_or_pay_share": draw(st.sampled_from([0.0, 0.7])),
        "build": draw(st.sampled_from(["plan", "site"])),
        "build_usd_per_mw": draw(st.sampled_from([0.0, 500_000.0])),
        "fixed_opex_usd_per_mw_month": draw(st.sampled_from([0.0, 7300.0])),
        "hosting_usd_per_kw_month": draw(st.sampled_from([0.0, 5.0])),
    }


@st.composite
def order_docs(draw: st.DrawFn, site: str) -> dict:
    model, origin, price = draw(st.sampled_from(UNITS))
    delivery = START + dt.timedelta(days=draw(st.integers(0, 300)))
    imported = delivery - dt.timedelta(days=draw(st.integers(0, 60)))
    # Orders signed up to a year before the start: the sites' payments begin on other days.
    ordered = min(imported, START - dt.timedelta(days=draw(st.integers(-30, 365))))
    return {"site": site, "model": model, "origin": origin, "unit_price_usd": price,
            "quantity": draw(st.integers(1, 2000)), "delivery_date": delivery,
            "import_date": imported, "order_date": ordered}


@st.composite
def two_site_docs(draw: st.DrawFn) -> dict:
    orders = [draw(order_docs(site)) for site in ("a", "b")]
    orders += draw(st.lists(st.sampled_from(("a", "b")).flatmap(order_docs), max_size=2))
    return {"name": "two sites", "sites": [draw(site_docs("a")), draw(site_docs("b"))],
            "orders": draw(st.permutations(orders)),
            "finance": {"discount_rate": draw(st.floats(0.0, 0.3)),
                        # resale at market, or at a fixed share of the price
                        **draw(st.sampled_from([{}, {"residual_fraction": 0.1}])),
                        "hodl_fraction": draw(st.sampled_from([0.0, 0.5])),
                        "debt_share": draw(st.sampled_from([0.0, 0.6])),
                        "debt_rate": draw(st.floats(0.0, 0.2))}}


def _site_alone(doc: dict, site: str) -> Plan:
    """The plan of one site of ``doc``: its [[sites]] table and its orders only."""
    return parse_plan({**doc, "name": f"only {site}",
                       "sites": [s for s in doc["sites"] if s["name"] == site],
                       "orders": [o for o in doc["orders"] if o["site"] == site]}, "test")


def _close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * scale)


@settings(max_examples=15)
@given(doc=two_site_docs(), paths=st.sampled_from([1, 3]))
def test_a_plan_of_two_sites_is_the_sum_of_the_two_one_site_plans(doc: dict, paths: int) -> None:
    scenario = _scenario(paths).with_changes(
        btc=dataclasses.replace(load_scenario(None).btc, annual_volatility=0.5))
    both = parse_plan(doc, "test")
    results = evaluate([both, _site_alone(doc, "a"), _site_alone(doc, "b")], scenario,
                       breakevens=False)
    plan, alone_a, alone_b = results.summary.to_dicts()
    scale = max(abs(alone_a["capex_usd"]), abs(alone_b["capex_usd"]), 1.0)
    for name in ADDITIVE:
        assert _close(plan[name], alone_a[name] + alone_b[name], scale), name
    # ... on every Monte Carlo path, not only on average.
    by_plan = {name: frame.sort("path") for (name,), frame in results.paths.group_by("plan")}
    for name in ADDITIVE_PER_PATH:
        summed = by_plan["only a"][name].to_numpy() + by_plan["only b"][name].to_numpy()
        np.testing.assert_allclose(by_plan["two sites"][name].to_numpy(), summed,
                                   rtol=1e-9, atol=1e-9 * scale)
    # Each site's row of the sites frame is its one-site plan's summary.
    sites = {row["site"]: row for row in results.sites.filter(plan="two sites").to_dicts()}
    for site, alone in (("a", alone_a), ("b", alone_b)):
        for metric in SITE_METRICS:
            got, want = sites[site][metric.name], alone[metric.name]
            assert (math.isnan(got) and math.isnan(want)) if isinstance(want, float) and (
                math.isnan(want)) else _close(got, want, scale), (site, metric.name)


def test_moving_orders_to_an_identical_second_site_changes_nothing() -> None:
    # Sampled failures: the rigs at the second site keep the random streams they have in the
    # one-site plan, so only the order of additions differs.
    one = load_plan(ROOT / "tests" / "data" / "inputs" / "plans" / "valid.toml")
    one = one.with_site(capacity_mw=10.0)
    one = dataclasses.replace(one, orders=(one.orders[0], dataclasses.replace(
        one.orders[0], quantity=7, model="teraflux-at2880", origin="US")))
    twin = dataclasses.replace(one.site, name="twin")
    two = dataclasses.replace(
        one, name="two sites", sites=(dataclasses.replace(one.site, name="first"), twin),
        orders=(dataclasses.replace(one.orders[0], site="first"),
                dataclasses.replace(one.orders[1], site="twin")))
    results = evaluate([one, two], _scenario(paths=2, failures="sampled", horizon_days=900))
    a, b = results.summary.to_dicts()
    assert a["btc_mined"] > 0 and b["repair_cost_usd"] > 0
    for metric in METRICS:
        if metric.dtype == "float" and metric.name != "plan":
            tolerance = 1e-6 if metric.needs_breakevens else 1e-9
            assert math.isclose(a[metric.name], b[metric.name], rel_tol=tolerance) or (
                math.isnan(a[metric.name]) and math.isnan(b[metric.name])), metric.name


def test_the_example_round_trips_and_reports_each_site(capsys: pytest.CaptureFixture[str]) -> None:
    plan = load_plan(EXAMPLE)
    assert [site.name for site in plan.sites] == ["texas", "ohio"]
    again = parse_plan(plan_to_toml(plan), plan.source)
    assert again == plan
    assert main(["compare", str(EXAMPLE), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)[0]
    assert [site["site"] for site in record["sites"]] == ["texas", "ohio"]
    assert record["units"] == sum(site["units"] for site in record["sites"])
    assert math.isclose(record["npv_usd"], sum(site["npv_usd"] for site in record["sites"]),
                        rel_tol=1e-9)
    assert main(["compare", str(EXAMPLE)]) == 0
    assert "texas" in capsys.readouterr().out


def test_a_one_site_plan_keeps_its_site_table_and_its_site_row_is_the_plan() -> None:
    results = evaluate(None, _scenario())
    for plan, row in zip(results.summary.to_dicts(), results.sites.to_dicts(), strict=True):
        assert row["site"] == "site" and row["plan"] == plan["plan"]
        assert all(row[m.name] == plan[m.name] or math.isnan(plan[m.name])
                   for m in SITE_METRICS)
    doc = plan_to_toml(load_plan(ROOT / "fleetcalc" / "data" / "plans" / "1-bitmain.toml"))
    assert "site" in doc and "sites" not in doc and "name" not in doc["site"]


def test_batch_and_sensitivity_power_changes_reach_every_site() -> None:
    plan = load_plan(EXAMPLE).with_site(power_usd_per_kwh=0.07)
    assert [site.power_usd_per_kwh for site in plan.sites] == [0.07, 0.07]


def test_the_editor_changes_the_site_of_the_selected_order_only() -> None:
    from tui.edits import edit_plan

    plan = load_plan(EXAMPLE)
    at_ohio = next(i for i, order in enumerate(plan.orders) if order.site == "ohio")
    edited = edit_plan(plan, load_scenario(None), "site", "power_usd_per_kwh", "0.06", at_ohio)
    assert [s.power_usd_per_kwh for s in edited.sites] == [0.038, 0.06]
    one = load_plan(ROOT / "fleetcalc" / "data" / "plans" / "1-bitmain.toml")
    assert edit_plan(one, load_scenario(None), "site", "capacity_mw", "30").site.capacity_mw == 30.0


def test_candidates_at_two_sites_fill_each_site_and_price_each_megawatt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    candidates = ROOT / "docs" / "examples" / "candidates-two-sites.toml"
    out = tmp_path / "best.toml"
    assert main(["optimize", str(candidates), "--json", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["shadow_prices"]["mw"]) == {"texas", "ohio"}
    plan = load_plan(out)
    assert [site.name for site in plan.sites] == ["texas", "ohio"]
    assert main(["compare", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)[0]
    assert math.isclose(record["npv_usd"], report["npv_usd"], rel_tol=1e-6)
    for site in record["sites"]:
        limit = next(c for c in report["constraints"] if c["name"] == f"{site['site']}.capacity_mw")
        assert site["power_kw"] / 1000 <= limit["limit"] + 1e-9
        assert math.isclose(site["power_kw"] / 1000, limit["used"], rel_tol=1e-9)
