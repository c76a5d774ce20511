"""evaluate() end to end: defaults, the JSON schema, procurement properties, breakevens."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from fleetcalc.cli import main
from fleetcalc.engine import evaluate
from fleetcalc.plan import default_plans, load_plan
from fleetcalc.scenario import BtcMarket, load_scenario

JSON_FIELDS = (
    "plan", "units", "hashrate_th", "power_kw", "efficiency_j_per_th", "capex_usd",
    "tariffs_usd", "btc_mined", "revenue_usd", "energy_cost_usd", "npv_usd", "irr",
    "payback_days", "cost_to_mine_usd_per_btc", "breakeven_btc_price_usd",
    "breakeven_power_usd_per_kwh",
)


@pytest.fixture(scope="module")
def short_scenario():
    return load_scenario(None).with_changes(horizon_days=730)


@pytest.fixture(scope="module")
def exogenous_scenario():
    """Two years of the test scenario's exogenous network (its hashrate is an input)."""
    valid = Path(__file__).parent / "data/inputs/scenarios/valid.toml"
    return load_scenario(valid).with_changes(horizon_days=730)


def test_compare_json_has_every_schema_field_for_the_four_defaults(capsys) -> None:
    assert main(["compare", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 4
    assert {r["plan"].split()[0] for r in records} == {"Bitmain", "MicroBT", "Canaan", "Auradine"}
    for record in records:
        assert set(JSON_FIELDS) <= set(record)
        assert record["units"] > 0 and record["btc_mined"] > 0


def test_monte_carlo_json_has_percentiles_and_payback_probability(capsys, tmp_path) -> None:
    scenario_toml = tmp_path / "mc.toml"
    scenario_toml.write_text(
        'start_date = 2026-12-01\nhorizon_days = 400\npaths = 16\nseed = 3\n'
        '[btc]\nprice_usd = 90000.0\nannual_volatility = 0.6\n'
        '[network]\nhashrate_ehs = 964.0\nblock_height = 978200\npool_fee = 0.02\n'
    )
    assert main(["compare", "--scenario", str(scenario_toml), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)[0]
    for suffix in ("_p10", "_p50", "_p90"):
        assert "npv_usd" + suffix in record
    assert record["npv_usd_p10"] <= record["npv_usd_p50"] <= record["npv_usd_p90"]
    assert 0.0 <= record["payback_probability"] <= 1.0


def test_same_order_from_cn_and_us_differs_by_exactly_the_tariff_and_customs_fees(
    short_scenario,
) -> None:
    plan = default_plans()[1]  # MicroBT M70S, built in CN and US
    from_cn = dataclasses.replace(plan.with_order(0, origin="CN"), name="from CN")
    from_us = dataclasses.replace(plan.with_order(0, origin="US"), name="from US")
    summary = evaluate([from_cn, from_us], short_scenario).summary
    cn, us = summary.row(0, named=True), summary.row(1, named=True)
    assert us["tariffs_usd"] == 0.0 and us["customs_fees_usd"] == 0.0  # not imported
    assert cn["tariffs_usd"] > 0 and cn["customs_fees_usd"] > 0
    assert cn["capex_usd"] - us["capex_usd"] == pytest.approx(
        cn["tariffs_usd"] + cn["customs_fees_usd"], rel=1e-12)


def test_breakeven_btc_price_gives_zero_npv_when_plugged_back(short_scenario) -> None:
    plan = default_plans()[0]
    first = evaluate([plan], short_scenario).records()[0]
    price = first["breakeven_btc_price_usd"]
    again = short_scenario.with_changes(btc=BtcMarket(price))
    npv = evaluate([plan], again, breakevens=False).records()[0]["npv_usd"]
    assert abs(npv) <= 1e-3 * first["capex_usd"]


def test_breakeven_power_price_gives_zero_npv_when_plugged_back(short_scenario) -> None:
    plan = default_plans()[3]
    first = evaluate([plan], short_scenario).records()[0]
    usd_per_it_kwh = first["breakeven_power_usd_per_kwh"]
    assert usd_per_it_kwh > 0
    # The breakeven is per kWh of IT load: the meter's price is what is left after hosting,
    # over the site's PUE.
    site = plan.site
    power = (usd_per_it_kwh - site.hosting_usd_per_kwh) / site.pue
    again = plan.with_site(power_usd_per_kwh=power)
    npv = evaluate([again], short_scenario, breakevens=False).records()[0]["npv_usd"]
    assert abs(npv) <= 1e-3 * first["capex_usd"]


def test_more_units_mine_more_and_cost_more(short_scenario) -> None:
    bigger = default_plans()[2]  # fills its site: the smaller plan is the edit that fits
    plan = dataclasses.replace(
        bigger.with_order(0, quantity=bigger.orders[0].quantity - 100), name="smaller")
    base, more = evaluate([plan, bigger], short_scenario, breakevens=False).records()
    assert more["btc_mined"] > base["btc_mined"]
    assert more["capex_usd"] > base["capex_usd"]


def test_origin_risk_reassignment_charges_china_duty(short_scenario) -> None:
    plan = default_plans()[0]  # Bitmain, Malaysia-built
    risky = short_scenario.with_changes(tariff_origin_as=(("MY", "CN"),))
    normal = evaluate([plan], short_scenario, breakevens=False).records()[0]
    treated = evaluate([plan], risky, breakevens=False).records()[0]
    assert treated["tariffs_usd"] > normal["tariffs_usd"]


def test_sampled_failures_are_deterministic_for_a_seed(short_scenario) -> None:
    plan = default_plans()[0]
    small = plan.with_order(0, quantity=300)
    sampled = short_scenario.with_changes(failures="sampled", seed=9)
    one = evaluate([small], sampled, breakevens=False).daily
    two = evaluate([small], sampled, breakevens=False).daily
    assert one.equals(two)
    other_seed = evaluate([small], sampled.with_changes(seed=10), breakevens=False).daily
    assert not one.equals(other_seed)


def test_daily_frame_matches_summary(short_scenario) -> None:
    results = evaluate(default_plans()[:1], short_scenario, breakevens=False)
    record = results.records()[0]
    assert results.daily["btc"].sum() == pytest.approx(record["btc_mined"], rel=1e-12)
    assert results.daily.height == short_scenario.horizon_days
    assert results.daily["date"][0] == short_scenario.start_date
    assert results.orders["btc_mined"].sum() == pytest.approx(record["btc_mined"], rel=1e-9)


def test_delivery_outside_the_horizon_is_an_input_error(short_scenario) -> None:
    from fleetcalc.errors import InputError

    plan = default_plans()[0]
    late = plan.with_order(0, import_date=dt.date(2030, 1, 1), delivery_date=dt.date(2030, 1, 2))
    with pytest.raises(InputError, match=r"orders\[0\]\.delivery_date"):
        evaluate([late], short_scenario)


def test_tariffs_command_shows_the_sourced_cn_stacks(capsys) -> None:
    assert main(["tariffs", "--origin", "CN", "--on", "2025-06-01", "--json"]) == 0
    june = json.loads(capsys.readouterr().out)[0]
    assert main(["tariffs", "--origin", "CN", "--on", "2026-03-01", "--json"]) == 0
    march = json.loads(capsys.readouterr().out)[0]
    assert june["total_rate"] == pytest.approx(0.576)
    assert march["total_rate"] == pytest.approx(0.376)
    june_programs = {p["program"] for p in june["programs"]}
    march_programs = {p["program"] for p in march["programs"]}
    assert "fentanyl" in june_programs and "fentanyl" not in march_programs
    assert "section_122" in march_programs


def test_origin_risk_exposure_is_the_cn_duty_for_imported_orders(short_scenario) -> None:
    plans = default_plans(include_cn=True)
    records = {r["plan"]: r for r in evaluate(plans, short_scenario, breakevens=False).records()}
    china = next(r for name, r in records.items() if "China" in name)
    thai = next(r for name, r in records.items() if "Thailand" in name)
    us = next(r for name, r in records.items() if "US-built" in name)
    assert thai["origin_risk_tariffs_usd"] == pytest.approx(china["tariffs_usd"])
    assert china["origin_risk_tariffs_usd"] == pytest.approx(china["tariffs_usd"])
    assert us["origin_risk_tariffs_usd"] == 0.0


def test_origin_risk_deems_the_scenarios_origin_and_us_units_only_when_asked(
    short_scenario,
) -> None:
    from fleetcalc.tariffs import OriginRisk

    thai = default_plans()[1]  # MicroBT M70S, built in CN, MY, TH and US

    def built_in(origin: str):
        return dataclasses.replace(thai.with_order(0, origin=origin), name=f"{origin}-built")

    def run(plans, **risk):
        scenario = short_scenario.with_changes(origin_risk=OriginRisk(**risk))
        return evaluate(plans, scenario, breakevens=False).records()

    duty_my, duty_cn = (r["tariffs_usd"] for r in run([built_in("MY"), built_in("CN")]))
    assert 0 < duty_my < duty_cn  # so the deemed origin shows in the number
    as_my = run([thai, built_in("US")], deemed="MY")
    assert as_my[0]["origin_risk_tariffs_usd"] == pytest.approx(duty_my, rel=1e-12)
    assert as_my[1]["origin_risk_tariffs_usd"] == 0.0
    us_deemed = run([built_in("US")], us_assembled_deemed=True)[0]
    assert us_deemed["origin_risk_tariffs_usd"] == pytest.approx(duty_cn, rel=1e-12)


def test_two_plans_of_one_name_are_an_input_error(short_scenario) -> None:
    from fleetcalc.errors import InputError

    plan = default_plans()[0]
    with pytest.raises(InputError, match="name"):
        evaluate([plan, plan.with_order(0, quantity=10)], short_scenario)


def custom_unit(delivery: dt.date, **order: object) -> dict[str, object]:
    """An order of one 200 TH/s custom unit delivered on ``delivery``, costing a cent landed
    unless ``order`` says otherwise, and paid in full on that day (US-built: no customs)."""
    return {"quantity": 1, "origin": "US", "import_date": delivery, "delivery_date": delivery,
            "order_date": delivery, "deposit_share": 0.0, "balance_days_before_import": 0,
            "hashrate_th": 200.0, "power_w": 3500.0, "unit_price_usd": 0.01,
            "freight_usd_per_unit": 0.0, "install_usd_per_unit": 0.0, **order}


def custom_plan(*orders: dict[str, object], **finance: float):
    """A plan of these orders on a site with free power."""
    from fleetcalc.plan import parse_plan

    return parse_plan({"name": "custom", "site": {"power_usd_per_kwh": 0.0, "capacity_mw": 1.0},
                       "finance": finance, "orders": list(orders)}, "custom.toml")


def test_payback_is_zero_days_when_cash_never_goes_negative(short_scenario) -> None:
    # Issue 12, finding 7: payback was counted from day 0, not from the delivery, so cash that
    # is never negative gave minus the days before the first delivery (-35).
    delivery = short_scenario.start_date + dt.timedelta(days=35)
    # A unit costing a cent, ordered and paid for on its delivery day (no deposit ahead of the
    # delivery): its first day's revenue already exceeds its capex.
    results = evaluate([custom_plan(custom_unit(delivery, order_date=delivery))], short_scenario,
                       breakevens=False)
    assert (results.daily["cumulative_cash_usd"] >= 0).all()
    record = results.records()[0]
    assert record["payback_days"] == 0
    assert results.paths["payback_days"].to_list() == [0.0]


def test_irr_reason_holds_when_npv_changes_sign_twice(short_scenario) -> None:
    # Issue 12, finding 15: capex, income, then a later capex: NPV is negative at both ends of
    # the IRR range and positive between, so "NPV keeps one sign" was wrong.
    from fleetcalc import finance
    from fleetcalc.metrics import BY_NAME

    start = short_scenario.start_date
    late = start + dt.timedelta(days=700)
    # Each order paid on its delivery day (the default terms would pay a deposit at the start).
    plan = custom_plan(custom_unit(start, unit_price_usd=600.0, order_date=start),
                       custom_unit(late, unit_price_usd=10_000.0, order_date=late),
                       residual_fraction=0.0)
    results = evaluate([plan], short_scenario, breakevens=False)
    cash = results.daily["cash_flow_usd"].to_numpy()
    rates = np.expm1(np.linspace(*finance.IRR_LOG_RANGE, 200))
    signs = np.sign([finance.npv(cash, rate) for rate in rates])
    assert signs[0] == signs[-1] == -1 and (signs > 0).any()
    record = results.records()[0]
    assert record["irr"] is None
    reason = BY_NAME["irr"].missing
    assert f"irr: {reason}" in record["missing_metrics"]
    assert "same sign at -99% and at +100,000%" in reason and "or several do" in reason


def test_the_plan_name_is_stored_once_not_per_row(short_scenario) -> None:
    # Issue 12, finding 5: the name was repeated in every daily row (a 1 MB name peaked at
    # 2.1 GB); now a categorical column holds it once, and names are at most 200 characters.
    from fleetcalc.frames import PLAN_DTYPE
    from fleetcalc.validate import MAX_NAME_CHARS

    plan = default_plans()[0]
    short, long = (plan.with_changes(name=name) for name in ("x", "y" * MAX_NAME_CHARS))
    sizes = {}
    for named in (short, long):
        results = evaluate([named], short_scenario, breakevens=False)
        for frame in ("summary", "daily", "orders", "tariff_lines", "paths"):
            assert getattr(results, frame).schema["plan"] == PLAN_DTYPE
        assert results.daily.filter(pl.col("plan") == named.name).height == 730
        sizes[named.name] = results.daily.estimated_size()
    assert abs(sizes["x"] - sizes["y" * MAX_NAME_CHARS]) < 4 * MAX_NAME_CHARS
    # The frames still join on the name.
    joined = results.daily.join(results.summary.select("plan", "npv_usd"), on="plan")
    assert joined.height == 730


def _network(scenario, **changes):
    return scenario.with_changes(network=dataclasses.replace(scenario.network, **changes))


def test_a_fleet_above_a_tenth_of_the_network_is_an_input_error(exogenous_scenario) -> None:
    # Issue 12, finding 8: a 27 PH/s fleet on a 1 TH/s "network" mined 9.4e9 BTC. The
    # scenario's network includes the fleet, so a fleet of more than 10% of it is refused.
    from fleetcalc.errors import InputError
    from fleetcalc.network import MAX_FLEET_SHARE

    start = exogenous_scenario.start_date
    fleet = custom_plan(custom_unit(start, quantity=135))  # 135 x 200 TH/s = 27 PH/s
    tiny_network = _network(exogenous_scenario, hashrate_ehs=1e-6, difficulty=None)
    with pytest.raises(InputError) as raised:
        evaluate([fleet], tiny_network)
    assert raised.value.where == "orders"
    assert raised.value.value == f"27 PH/s in service on {start}"
    assert "at most 10% of the network's hashrate, which includes it" in str(raised.value)
    # The limit itself: 10% of the network passes, a unit more does not.
    network_ehs = 0.027 / MAX_FLEET_SHARE  # the fleet is 27 PH/s = 0.027 EH/s
    at_limit = _network(exogenous_scenario, hashrate_ehs=network_ehs * (1 + 1e-9))
    evaluate([fleet], at_limit, breakevens=False)
    with pytest.raises(InputError, match="at most 10%"):
        evaluate([fleet.with_order(0, quantity=136)], at_limit, breakevens=False)


def test_no_monte_carlo_path_mines_more_than_its_network_finds(exogenous_scenario) -> None:
    # A network of 20x the fleet whose paths crash (volatility 200%/year): on the paths where
    # it falls below the fleet, the fleet finds every block and no more.
    from fleetcalc.network import market_paths

    start = exogenous_scenario.start_date
    fleet = custom_plan(custom_unit(start, quantity=135))
    scenario = _network(exogenous_scenario.with_changes(paths=32, seed=4),
                        hashrate_ehs=0.027 * 20, difficulty=None, annual_volatility=2.0)
    results = evaluate([fleet], scenario, breakevens=False)
    market = market_paths(scenario)
    network_btc = (market.blocks * (market.subsidy_btc + market.fees_btc)).sum(axis=1)
    mined = results.paths["btc_mined"].to_numpy()
    assert (mined <= network_btc * (1 + 1e-9)).all()
    # The crash is real: on some path the network falls below the fleet's 27 PH/s.
    assert (market.hashrate_ehs < 0.027).any()


def _btc_scaled(scenario, factor: float):
    """The scenario with its whole BTC price path scaled by ``factor`` (drift and volatility
    kept, so every Monte Carlo path is its own path times the factor)."""
    return scenario.with_changes(
        btc=dataclasses.replace(scenario.btc, price_usd=scenario.btc.price_usd * factor))


@pytest.mark.parametrize("model", ["responsive", "exogenous"])
@pytest.mark.parametrize("failures", ["expected", "sampled"])
def test_breakevens_plugged_back_bracket_npv_zero_within_their_precision(
    short_scenario, exogenous_scenario, model, failures,
) -> None:
    # Reported to 0.1%: on every path, NPV changes sign between the breakeven 0.1% lower and
    # 0.1% higher, the BTC price plugged back into the scenario (the responsive network then
    # answers the new price, as the search's own rows must) and the power price into the plan.
    base = short_scenario if model == "responsive" else exogenous_scenario
    scenario = base.with_changes(failures=failures, paths=3, seed=5, horizon_days=500,
                                 btc=dataclasses.replace(base.btc, annual_volatility=0.5))
    # The Auradine plan as shipped before issue 13 (PUE 1: the power price plugged back is the
    # breakeven's price of a kWh of IT load; the re-based plan loses money even with free
    # power on some paths, so it has no power breakeven there).
    plan = load_plan(Path(__file__).parent / "pins" / "legacy_plans" / "4-auradine.toml")
    if failures == "sampled":  # a few hundred rigs: each its own failures
        plan = plan.with_order(0, quantity=300)
    paths = evaluate([plan], scenario).paths
    factors = paths["breakeven_btc_price_usd"].to_numpy() / scenario.btc.price_usd
    power = paths["breakeven_power_usd_per_kwh"].to_numpy()
    assert (factors > 0).all() and (power > 0).all()

    def npv(path: int, factor: float = 1.0, usd_per_kwh: float | None = None) -> float:
        priced = plan if usd_per_kwh is None else plan.with_site(power_usd_per_kwh=usd_per_kwh)
        again = evaluate([priced], _btc_scaled(scenario, factor), breakevens=False)
        return again.paths["npv_usd"][path]

    for path in range(3):
        assert npv(path, factors[path] * 0.999) < 0 < npv(path, factors[path] * 1.001)
        assert npv(path, usd_per_kwh=power[path] * 0.999) > 0
        assert npv(path, usd_per_kwh=power[path] * 1.001) < 0
