"""Sites priced by the megawatt (issue 13): build capex per MW, PUE, fixed opex per MW-month,
hosting fees per kW-month and take-or-pay, through ``evaluate`` end to end.

Properties: a plan naming none of the fields evaluates exactly as before; the build adds
exactly MW x rate to the capex (and its discounted value to the NPV); a PUE above 1 never
raises the NPV; take-or-pay never lowers the energy bill nor raises the NPV; a day's bill is
the price times the larger of the energy used and the floor; the rig runs when its revenue
covers the energy above the floor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetcalc import finance
from fleetcalc.engine import evaluate
from fleetcalc.plan import Plan, load_plan, parse_plan
from fleetcalc.scenario import Scenario, load_scenario
from fleetcalc.site_costs import DAYS_PER_MONTH, rig_energy_share

ROOT = Path(__file__).resolve().parents[1]
# 10 S21 XP (3,645 W) on a 1 MW site, delivered on day 35 of the default scenario.
PLAN = load_plan(ROOT / "tests/data/inputs/plans/valid.toml")
SCENARIO = load_scenario(None).with_changes(horizon_days=400)
# Three Monte Carlo paths that swing the price enough for days both sides of the breakeven.
MONTE_CARLO = SCENARIO.with_changes(
    paths=3, seed=5, btc=dataclasses.replace(SCENARIO.btc, annual_volatility=0.9))
ROOMY = 50.0  # MW: room for any PUE the properties draw
PROPERTY = settings(max_examples=25, deadline=None)


def site(plan: Plan = PLAN, label: str = "", **changes: object) -> Plan:
    # Plans are told apart by name: the label and a digest of the changes (names are short).
    digest = hashlib.sha256(repr(sorted(changes.items())).encode()).hexdigest()[:12]
    return dataclasses.replace(plan.with_site(**changes), name=f"{label} {digest}")


def run(plans: list[Plan], scenario: Scenario = SCENARIO):
    return evaluate(plans, scenario, breakevens=False)


def per_path(results, plan: Plan, column: str) -> np.ndarray:
    return results.paths.filter(results.paths["plan"] == plan.name)[column].to_numpy()


def test_neutral_site_fields_change_nothing_bit_for_bit() -> None:
    named = site(pue=1.0, build="plan", build_usd_per_mw=0.0, fixed_opex_usd_per_mw_month=0.0,
                 hosting_usd_per_kw_month=0.0, take_or_pay_share=0.0)
    plain = dataclasses.replace(PLAN, name=named.name)
    for scenario in (SCENARIO, MONTE_CARLO.with_changes(failures="sampled")):
        a, b = evaluate([plain], scenario), evaluate([named], scenario)
        assert a.summary.equals(b.summary) and a.daily.equals(b.daily)


@PROPERTY
@given(rate=st.floats(1.0, 2e6), pue=st.floats(1.0, 2.0), whole=st.booleans(),
       capacity=st.floats(1.0, 30.0))
def test_the_build_adds_exactly_mw_times_rate(
    rate: float, pue: float, whole: bool, capacity: float,
) -> None:
    base = site(pue=pue, capacity_mw=capacity)
    built = site(base, build_usd_per_mw=rate, build="site" if whole else "plan")
    a, b = (run([p]).summary.row(0, named=True) for p in (base, built))
    mw_built = capacity if whole else a["mw_used"]
    assert a["mw_used"] == pytest.approx(10 * 3645 * pue / 1e6, rel=1e-12)
    assert b["site_build_usd"] == pytest.approx(mw_built * rate, rel=1e-12)
    assert b["capex_usd"] - a["capex_usd"] == pytest.approx(mw_built * rate, rel=1e-9)
    # Booked on the delivery day (day 35): the NPV falls by exactly its discounted value.
    discount = finance.discount_factors(SCENARIO.horizon_days, 0.15)[35]
    assert a["npv_usd"] - b["npv_usd"] == pytest.approx(mw_built * rate * discount, rel=1e-9)


@PROPERTY
@given(pue=st.floats(1.0, 3.0), power=st.floats(0.0, 0.2), take_or_pay=st.floats(0.0, 1.0),
       build=st.floats(0.0, 1e6), opex=st.floats(0.0, 2e4), uptime=st.floats(0.5, 1.0),
       curtail=st.booleans())
def test_a_pue_above_one_never_raises_npv(
    pue: float, power: float, take_or_pay: float, build: float, opex: float, uptime: float,
    curtail: bool,
) -> None:
    common = dict(capacity_mw=ROOMY, power_usd_per_kwh=power, take_or_pay_share=take_or_pay,
                  build_usd_per_mw=build, fixed_opex_usd_per_mw_month=opex, uptime=uptime,
                  curtail_when_unprofitable=curtail)
    one, more = site(label="one", pue=1.0, **common), site(label="more", pue=pue, **common)
    results = run([one, more], MONTE_CARLO)
    npv_one, npv_more = per_path(results, one, "npv_usd"), per_path(results, more, "npv_usd")
    assert np.all(npv_more <= npv_one + 1e-9 * np.abs(npv_one).max())


@PROPERTY
@given(share=st.floats(0.0, 1.0), power=st.floats(0.01, 0.2), uptime=st.floats(0.3, 1.0),
       pue=st.floats(1.0, 1.5), hosting=st.floats(0.0, 0.03), curtail=st.booleans())
def test_take_or_pay_never_lowers_cost_nor_raises_npv(
    share: float, power: float, uptime: float, pue: float, hosting: float, curtail: bool,
) -> None:
    common = dict(capacity_mw=ROOMY, power_usd_per_kwh=power, uptime=uptime, pue=pue,
                  hosting_usd_per_kwh=hosting, curtail_when_unprofitable=curtail)
    free, bound = site(label="free", **common), site(take_or_pay_share=share, **common)
    results = run([free, bound], MONTE_CARLO)
    cost_free, cost_bound = (per_path(results, p, "energy_cost_usd") for p in (free, bound))
    npv_free, npv_bound = (per_path(results, p, "npv_usd") for p in (free, bound))
    assert np.all(cost_bound >= cost_free * (1 - 1e-12))
    assert np.all(npv_bound <= npv_free + 1e-9 * np.abs(npv_free).max())


def test_a_days_bill_is_the_price_times_the_larger_of_use_and_floor() -> None:
    # Power dear enough that the rigs stop after the 2028 halving (day ~480) even with 60% of
    # their energy owed anyway.
    share, power, pue, hosting = 0.6, 0.25, 1.1, 0.005
    plan = site(capacity_mw=ROOMY, take_or_pay_share=share, power_usd_per_kwh=power, pue=pue,
                hosting_usd_per_kwh=hosting, uptime=0.9)
    daily = run([plan], SCENARIO.with_changes(horizon_days=1000)).daily
    usd_per_kwh = pue * power + hosting
    contracted_kwh = 10 * 3645 / 1000 * 24  # IT load x 24 h, every day in service
    availability = 1 / (1 + 0.10 / 365 * 14)  # the air-cooled defaults, in expectation
    running = daily["running_units"].to_numpy() > 0
    used_kwh = np.where(running, contracted_kwh * 0.9 * availability, 0.0)
    in_service = daily["day"].to_numpy() >= 35
    expected = np.where(in_service, usd_per_kwh * np.maximum(used_kwh, share * contracted_kwh),
                        0.0)
    assert running.any() and (~running & in_service).any()  # both kinds of day occur
    np.testing.assert_allclose(daily["energy_cost_usd"].to_numpy(), expected, rtol=1e-12,
                               atol=1e-9)


def test_the_rig_runs_when_revenue_covers_the_energy_above_the_floor() -> None:
    # A price at which a day's revenue covers ~70% of the full energy bill: no rig runs
    # without take-or-pay; with half of it owed anyway the rest is covered and all run.
    scenario = SCENARIO.with_changes(horizon_days=60)
    probe = run([site(power_usd_per_kwh=0.0)], scenario).daily
    start = 35
    revenue_per_unit_day = probe["revenue_usd"][start] / probe["running_units"][start]
    full_kwh = 3645 / 1000 * 24 * 0.97
    power = revenue_per_unit_day / full_kwh / 0.7
    without = run([site(power_usd_per_kwh=power)], scenario).daily
    with_floor = run([site(power_usd_per_kwh=power, take_or_pay_share=0.5)], scenario).daily
    assert without["running_units"][start] == 0.0
    assert with_floor["running_units"][start] > 0.0


def test_fixed_costs_are_paid_from_delivery_whether_mining_or_not() -> None:
    opex, hosting = 9000.0, 4.0
    plan = site(power_usd_per_kwh=10.0, fixed_opex_usd_per_mw_month=opex,  # never runs
                hosting_usd_per_kw_month=hosting, pue=1.2, capacity_mw=ROOMY)
    results = run([plan])
    daily = results.daily
    row = results.summary.row(0, named=True)
    mw = 10 * 3645 * 1.2 / 1e6
    per_day = mw * opex / DAYS_PER_MONTH + 10 * 3.645 * hosting / DAYS_PER_MONTH
    fixed = daily["site_fixed_cost_usd"].to_numpy()
    assert daily["running_units"].sum() == 0.0
    np.testing.assert_allclose(fixed[35:], per_day, rtol=1e-12)
    assert not fixed[:35].any()
    assert row["site_fixed_cost_usd"] == pytest.approx(per_day * (SCENARIO.horizon_days - 35))
    # Paid in cash: the cash flow is the fixed cost, the resale (scrap) on the last day.
    np.testing.assert_allclose(daily["cash_flow_usd"].to_numpy()[36:-1], -per_day, rtol=1e-12)


def test_a_site_built_whole_pays_opex_on_its_capacity_from_the_first_delivery() -> None:
    plan = site(build="site", capacity_mw=2.0, build_usd_per_mw=400_000.0,
                fixed_opex_usd_per_mw_month=6000.0)
    row = run([plan]).summary.row(0, named=True)
    assert row["site_build_usd"] == 800_000.0
    assert row["site_fixed_cost_usd"] == pytest.approx(
        2.0 * 6000.0 / DAYS_PER_MONTH * (SCENARIO.horizon_days - 35))
    assert row["capex_per_mw_usd"] == pytest.approx(row["capex_usd"] / row["mw_used"])
    assert row["npv_per_mw_usd"] == pytest.approx(row["npv_usd"] / row["mw_used"])


def test_the_build_is_borrowed_with_the_units_and_depreciated_in_the_tax_view() -> None:
    terms = dict(tax_rate=0.21, depreciation="macrs5", bonus_depreciation=0.0, debt_share=0.5,
                 debt_rate=0.0, debt_term_years=3.0)
    base = site(power_usd_per_kwh=0.02)
    base = dataclasses.replace(base, finance=dataclasses.replace(base.finance, **terms))
    built = site(base, build_usd_per_mw=500_000.0)
    results = run([base, built], SCENARIO.with_changes(horizon_days=1000))
    a, b = (results.summary.filter(results.summary["plan"] == p.name).row(0, named=True)
            for p in (base, built))
    # The loan finances capex: half of the build is borrowed too.
    assert b["debt_usd"] - a["debt_usd"] == pytest.approx(0.5 * b["site_build_usd"], rel=1e-9)
    # Deducted, the build lowers the tax of a profitable plan, by at most the rate x its cost.
    tax = {p.name: results.daily.filter(results.daily["plan"] == p.name)["tax_usd"].sum()
           for p in (base, built)}
    assert 0.0 < tax[base.name] - tax[built.name] <= 0.21 * b["site_build_usd"] * (1 + 1e-12)


@pytest.mark.parametrize(("method", "bonus"), [("macrs5", 0.0), ("straight_line", 0.4),
                                               ("macrs5", 1.0)])
def test_the_builds_whole_basis_is_deducted_from_the_year_it_is_built(
    method: str, bonus: float,
) -> None:
    from fleetcalc.financing import (
        depreciation_shares,
        site_build_depreciation_by_year,
        tax_years,
    )

    terms = dataclasses.replace(PLAN.finance, tax_rate=0.2, depreciation=method,
                                depreciation_years=4, bonus_depreciation=bonus)
    years = tax_years(SCENARIO.start_date, 3000)
    build = np.zeros(3000)
    build[35] = 1e6  # day 35 is in the second tax year of a start on 2026-12-01
    out = site_build_depreciation_by_year(build, terms, years, SCENARIO.start_date)
    assert out.sum() == pytest.approx(1e6, rel=1e-12)
    assert out[0] == 0.0
    first = bonus + (1 - bonus) * depreciation_shares(method, 4)[0]
    assert out[1] == pytest.approx(1e6 * first, rel=1e-12)


@settings(max_examples=8, deadline=None)
@given(usd_per_mwh=st.floats(20.0, 160.0), pue=st.floats(1.0, 1.6),
       hosting=st.floats(0.0, 0.02), adder=st.floats(0.0, 0.01))
def test_a_market_site_charges_and_decides_on_pue_x_power_plus_hosting(
    usd_per_mwh: float, pue: float, hosting: float, adder: float,
) -> None:
    # A flat hourly series at a market site equals the constant price with the same PUE and
    # hosting: the hourly path prices a kWh of IT load at pue x (market + adder) + hosting,
    # both in the bill and in the rig's decision to run (prices span the S21 XP's break-even
    # at the default scenario, so some draws curtail).
    import tempfile

    scenario = SCENARIO.with_changes(horizon_days=120)
    rows = ["timestamp,usd_per_mwh"]
    for day in range(366):
        date = scenario.start_date + dt.timedelta(days=day)
        rows += [f"{date.isoformat()}T{hour:02d}:00:00-06:00,{usd_per_mwh!r}"
                 for hour in range(24)]
    common = dict(capacity_mw=ROOMY, pue=pue, hosting_usd_per_kwh=hosting)
    constant = site(label="constant", power_usd_per_kwh=usd_per_mwh / 1000 + adder, **common)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "prices.csv").write_text("\n".join(rows) + "\n")
        doc = {"name": "market", "site": {
            "power_price_series": "prices.csv", "power_adder_usd_per_kwh": adder, **common},
            "orders": [dataclasses.asdict(PLAN.orders[0])]}
        doc["orders"] = [{k: v for k, v in doc["orders"][0].items() if v is not None}]
        market = parse_plan(doc, str(Path(folder, "plan.toml")))
        results = run([constant, market], scenario)
    for column in ("energy_cost_usd", "npv_usd", "btc_mined"):
        a, b = (per_path(results, p, column) for p in (constant, market))
        np.testing.assert_allclose(b, a, rtol=1e-9)


def test_a_unit_that_may_run_turbo_takes_turbos_megawatts() -> None:
    # MW used (and what is built and charged per MW or kW) counts the most power-hungry mode
    # an order allows, as the capacity check does.
    from fleetcalc.fleet import mode_table

    plain = site(capacity_mw=ROOMY, pue=1.1, build_usd_per_mw=1e5)
    turbo = dataclasses.replace(plain.with_order(0, modes=("stock", "turbo")), name="turbo")
    a, b = (run([p]).summary.row(0, named=True) for p in (plain, turbo))
    max_w = mode_table(turbo).max_power_w[0]
    assert max_w > 3645.0
    assert a["mw_used"] == pytest.approx(10 * 3645.0 * 1.1 / 1e6, rel=1e-12)
    assert b["mw_used"] == pytest.approx(10 * max_w * 1.1 / 1e6, rel=1e-12)
    assert b["site_build_usd"] == pytest.approx(b["mw_used"] * 1e5, rel=1e-12)


def test_the_power_breakeven_under_take_or_pay_with_unlike_orders_gives_npv_zero() -> None:
    # Two orders whose failure rates differ have different avoidable shares of the price
    # (take-or-pay: fleetcalc.site_costs.rig_energy_share), so their rigs' kernel prices
    # differ; the power search must still price every candidate at the site's all-in price
    # (it asserted one price per site and failed with an internal error).
    two = PLAN.with_changes(orders=(PLAN.orders[0], PLAN.orders[0]))
    two = two.with_order(1, annual_failure_rate=0.0)
    plan = site(two, label="tp", take_or_pay_share=0.5, capacity_mw=ROOMY)
    record = evaluate([plan], SCENARIO).records()[0]
    breakeven = record["breakeven_power_usd_per_kwh"]
    assert isinstance(breakeven, float) and breakeven > 0.0
    below, above = (site(two, label=f"tp{k}", take_or_pay_share=0.5, capacity_mw=ROOMY,
                         power_usd_per_kwh=breakeven * factor)
                    for k, factor in enumerate((0.999, 1.001)))
    npv_below, npv_above = (r["npv_usd"] for r in run([below, above]).records())
    assert npv_below > 0.0 > npv_above


def test_a_subnormal_uptime_under_take_or_pay_costs_nothing_above_the_floor_without_warning(
) -> None:
    # Found by the extremes property (dev profile): share / used overflowed to inf with a
    # RuntimeWarning, which the property treats as an error.
    bound = PLAN.with_site(take_or_pay_share=1.0).site
    uptime = np.array([5e-324, 1e-300, 0.5, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        share = rig_energy_share(bound, uptime, np.zeros(4), np.zeros(4), sampled=True)
    assert share.tolist() == [0.0, 0.0, 0.0, 0.0]
    half = PLAN.with_site(take_or_pay_share=0.5).site
    assert rig_energy_share(half, uptime, np.zeros(4), np.zeros(4), sampled=True).tolist() == [
        0.0, 0.0, 0.0, 0.5]
