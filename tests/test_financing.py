"""Debt and tax (``fleetcalc.financing``): worked examples, the vectorised code against the
plain-loop reference (``tests/financing_reference.py``), and the properties the issue asks
for: all of it off changes nothing, zero tax changes nothing, debt at 0% interest changes the
equity's flows by exactly the draws and repayments."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fleetcalc import financing
from fleetcalc.cashflows import cash_flows, fleet_arrays
from fleetcalc.engine import _simulate_chain, evaluate, kernel_flows
from fleetcalc.fleet import orders_frame
from fleetcalc.network import market_paths
from fleetcalc.plan import Finance, Plan, default_plans
from fleetcalc.scenario import Scenario, load_scenario
from fleetcalc.schedule import fold_to_start, with_payments
from fleetcalc.tariffs import apply_overrides, load_schedule, price_orders
from tests import financing_reference as ref

D = dt.date


# --- worked examples ------------------------------------------------------------------------


def test_a_one_year_loan_at_12_percent_pays_the_textbook_level_payment() -> None:
    # USD 1,000 at 1% a month over 12 months: 88.8488 a month (annuity formula), 10.00 of
    # interest in the first payment, 30 days after the draw (365/12 rounded).
    unit = financing.unit_loan(0.12, 1.0, 400)
    days = np.flatnonzero(unit.payment_usd)
    assert days.tolist() == [30, 61, 91, 122, 152, 183, 213, 243, 274, 304, 335, 365]
    assert 1000 * unit.payment_usd[30] == pytest.approx(88.848788655, rel=1e-9)
    assert 1000 * unit.interest_usd[30] == pytest.approx(10.0, rel=1e-12)
    assert 1000 * unit.payment_usd.sum() == pytest.approx(12 * 88.848788655, rel=1e-9)
    assert unit.owed_usd[365] == 0.0 and unit.owed_usd[29] == 1.0


def test_a_loan_still_running_at_the_horizon_is_repaid_with_its_accrued_interest() -> None:
    draws = np.zeros(100)
    draws[10] = 1000.0
    loans = financing.loan_flows(draws, 0.12, 2.0)
    # Payments on days 40 and 71 (30 and 61 days after the draw), then on day 99 the balance
    # and 28 days' interest on it.
    level = 1000 * 0.01 / (1 - 1.01 ** -24)
    after_first = 1000 * 1.01 - level
    balance = after_first * 1.01 - level
    accrued = balance * 0.01 * 28 / (365 / 12)
    assert loans.payments_usd[40] == pytest.approx(level, rel=1e-12)
    assert loans.payments_usd[71] == pytest.approx(level, rel=1e-12)
    assert loans.payments_usd[99] == pytest.approx(balance + accrued, rel=1e-12)
    assert loans.interest_usd.sum() == pytest.approx(
        10.0 + after_first * 0.01 + accrued, rel=1e-12)
    principal = loans.payments_usd.sum() - loans.interest_usd.sum()
    assert principal == pytest.approx(1000.0, rel=1e-12)


def test_losses_carry_forward_and_offset_at_most_80_percent_of_a_later_year() -> None:
    taxable = np.array([[-100.0, 100.0, 100.0, 50.0]])
    # Year 2 uses 80 of the 100 carried (tax on 20), year 3 the last 20 (tax on 80).
    np.testing.assert_allclose(financing.tax_by_year(taxable, 0.25),
                               [[0.0, 5.0, 20.0, 12.5]], rtol=1e-15)


def test_macrs_and_straight_line_shares_depreciate_the_whole_basis() -> None:
    assert financing.depreciation_shares("macrs5", 5).tolist() == [
        0.20, 0.32, 0.192, 0.1152, 0.1152, 0.0576]
    assert financing.depreciation_shares("macrs5", 5).sum() == pytest.approx(1.0, abs=1e-15)
    line = financing.depreciation_shares("straight_line", 4)
    assert line.tolist() == [0.125, 0.25, 0.25, 0.25, 0.125]  # half-year convention


@pytest.mark.parametrize(("ordered", "delivered", "share"), [
    (D(2025, 1, 20), D(2025, 3, 1), 1.0),  # OBBBA: acquired after 2025-01-19
    (D(2026, 12, 1), D(2031, 1, 1), 1.0),
    (D(2025, 1, 19), D(2025, 3, 1), 0.4),  # TCJA phase-down by year placed in service
    (D(2024, 6, 1), D(2026, 2, 1), 0.2),
    (D(2024, 6, 1), D(2024, 9, 1), 0.6),
    (D(2022, 6, 1), D(2023, 1, 2), 0.8),
    (D(2021, 6, 1), D(2022, 12, 31), 1.0),
    (D(2024, 6, 1), D(2027, 1, 5), 0.0),
])
def test_bonus_depreciation_follows_the_us_rules(ordered, delivered, share) -> None:
    assert financing.us_bonus_share(ordered, delivered) == share
    assert ref.bonus_reference(ordered, delivered) == share


# --- the vectorised code against the reference ----------------------------------------------


@st.composite
def draw_lists(draw: st.DrawFn) -> tuple[int, list[tuple[int, float]]]:
    length = draw(st.integers(1, 1500))
    days = draw(st.lists(st.integers(0, length - 1), min_size=1, max_size=6, unique=True))
    return length, [(day, draw(st.floats(0.01, 1e8))) for day in sorted(days)]


@given(drawn=draw_lists(), rate=st.floats(0.0, 0.5), term=st.floats(0.01, 30.0))
@example(drawn=(400, [(0, 1000.0)]), rate=0.12, term=1.0)
@example(drawn=(1, [(0, 5.0)]), rate=0.0, term=3.0)
def test_loans_equal_the_reference(drawn, rate: float, term: float) -> None:
    length, draws = drawn
    draws_usd = np.zeros(length)
    for day, usd in draws:
        draws_usd[day] = usd
    loans = financing.loan_flows(draws_usd, rate, term)
    payments, interest = ref.loan_reference(draws, rate, term, length)
    scale = draws_usd.sum() * (1 + rate) ** 30
    np.testing.assert_allclose(loans.payments_usd, payments, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(loans.interest_usd, interest, rtol=1e-9, atol=1e-12 * scale)
    # Every loan is repaid by the last day: principal paid = principal drawn.
    assert loans.payments_usd.sum() - loans.interest_usd.sum() == pytest.approx(
        draws_usd.sum(), rel=1e-9)


@st.composite
def tax_cases(draw: st.DrawFn) -> dict:
    start = draw(st.dates(D(2018, 1, 1), D(2035, 12, 31)))
    n_days = draw(st.integers(1, 2200))
    n_paths = draw(st.integers(1, 3))
    income = np.array(draw(st.lists(st.floats(-1e5, 1e5), min_size=n_days * n_paths,
                                    max_size=n_days * n_paths))).reshape(n_paths, n_days)
    interest = np.array(draw(st.lists(st.floats(0, 1e4), min_size=n_days, max_size=n_days)))
    assets = []
    for _ in range(draw(st.integers(1, 4))):
        delivery = draw(st.integers(0, n_days - 1))
        assets.append({
            "delivery_day": delivery, "retire_day": draw(st.integers(delivery + 1, n_days)),
            "order_date": start + dt.timedelta(days=draw(st.integers(-900, delivery))),
            "landed_cost_usd": draw(st.floats(0.0, 1e7)),
        })
    method = draw(st.sampled_from(("macrs5", "straight_line")))
    terms = Finance(
        tax_rate=draw(st.floats(0.0, 0.5)), depreciation=method,
        depreciation_years=5 if method == "macrs5" else draw(st.integers(1, 12)),
        bonus_depreciation=draw(st.none() | st.floats(0.0, 1.0)),
    )
    return dict(start=start, income=income, interest=interest, assets=assets, terms=terms,
                residual=draw(st.floats(0.0, 1e7)))


@given(case=tax_cases())
def test_tax_equals_the_reference(case: dict) -> None:
    start, income, terms = case["start"], case["income"], case["terms"]
    n_days = income.shape[1]
    assets = case["assets"]
    frame = pl.DataFrame(assets).with_columns(
        delivery_date=pl.lit(start) + pl.duration(days=pl.col("delivery_day")))
    years = financing.tax_years(start, n_days)
    deductions = financing.depreciation_by_year(frame, terms, years)
    interest = np.add.reduceat(case["interest"], years.starts)
    tax = financing._tax(income, deductions + interest, case["residual"], terms.tax_rate, years)

    end = start + dt.timedelta(days=n_days)
    by_year = ref.depreciation_reference(
        [ref.AssetRef(a["landed_cost_usd"], a["order_date"],
                      start + dt.timedelta(days=a["delivery_day"]),
                      start + dt.timedelta(days=a["retire_day"])) for a in assets],
        terms.depreciation, terms.depreciation_years, terms.bonus_depreciation, start, end)
    scale = 1e-9 * (np.abs(income).sum() + sum(a["landed_cost_usd"] for a in assets)
                    + case["residual"] + case["interest"].sum() + 1.0)
    for path in range(income.shape[0]):
        expected = ref.tax_reference(list(income[path]), by_year, list(case["interest"]),
                                     case["residual"], terms.tax_rate, start)
        np.testing.assert_allclose(tax[path], expected, rtol=1e-9, atol=scale)


# --- through the engine ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    # Long enough for several tax years and the end of a three-year loan.
    return load_scenario(None).with_changes(horizon_days=1200)


def _steps(plan: Plan, scenario: Scenario):
    """The engine's steps up to financing, as ``engine._evaluate_plan`` runs them (one site)."""
    market = market_paths(scenario, _simulate_chain)
    schedule = apply_overrides(load_schedule(), scenario.tariff_overrides)
    landed = with_payments(price_orders(orders_frame(plan, scenario), schedule,
                                        scenario.origin_risk))
    fleet = fleet_arrays(landed, plan, scenario)
    flows = kernel_flows(fleet, market, scenario)
    cash = cash_flows(flows, fleet, plan.finance)
    financed = financing.financed_flows(cash, flows, fleet, landed.per_order, plan.finance,
                                        scenario.start_date)
    return fleet, flows, cash, financed, landed.per_order


def _capex_by_day(fleet) -> dict[int, float]:
    payments = fleet.payments
    return {i - payments.offset_days: float(usd)
            for i, usd in enumerate(payments.capex_usd) if usd != 0.0}


finance_terms = st.builds(
    dict,
    debt_share=st.floats(0.0, 1.0), debt_rate=st.floats(0.0, 0.3),
    debt_term_years=st.floats(0.05, 8.0), tax_rate=st.floats(0.0, 0.5),
    depreciation=st.sampled_from(("macrs5", "straight_line")),
    depreciation_years=st.integers(1, 8), bonus_depreciation=st.none() | st.floats(0.0, 1.0),
)
order_terms = st.builds(
    dict, order_days_before_start=st.integers(-10, 500), deposit_share=st.floats(0.0, 1.0),
    balance_days_before_import=st.integers(0, 400),
)


def _plan(finance: dict, terms: dict, scenario: Scenario, which: int = 0) -> Plan:
    plan = default_plans()[which]
    if finance["depreciation"] == "macrs5":
        finance = {**finance, "depreciation_years": 5}
    order_date = scenario.start_date - dt.timedelta(days=terms["order_days_before_start"])
    order = plan.orders[0]
    plan = plan.with_order(0, order_date=min(order_date, order.import_date),
                           deposit_share=terms["deposit_share"],
                           balance_days_before_import=terms["balance_days_before_import"])
    return dataclasses.replace(plan, finance=dataclasses.replace(plan.finance, **finance))


@settings(max_examples=25)
@given(finance=finance_terms, terms=order_terms, which=st.sampled_from((0, 3)))
def test_equity_and_after_tax_flows_equal_the_reference(
    scenario: Scenario, finance: dict, terms: dict, which: int,
) -> None:
    plan = _plan(finance, terms, scenario, which)
    fleet, flows, cash, financed, orders = _steps(plan, scenario)
    t = plan.finance
    n_days = scenario.horizon_days
    delta, interest = ref.equity_delta_reference(
        _capex_by_day(fleet), t.debt_share, t.debt_rate, t.debt_term_years, n_days,
        t.discount_rate)
    scale = 1e-9 * fleet.capex_usd * (1 + t.debt_rate) ** 10
    np.testing.assert_allclose(financed.equity_usd - cash, delta[None, :], rtol=1e-9, atol=scale)
    # The reference's taxable income is built from the kernel's flows, not read back from the
    # cash flows as the engine does.
    income = (flows.revenue_usd - flows.energy_cost_usd - flows.repair_cost_usd
              - fleet.site.fixed_by_day_usd[None, :])[0]
    resale_usd = float(fleet.resale.value_usd(flows.final_hashprice_usd_per_ph_day)[0])
    # The site build (the default plans build their site) is an asset too, placed in service
    # on its day and off the books at the horizon.
    built = [scenario.start_date + dt.timedelta(days=int(day))
             for day in np.flatnonzero(fleet.site.build_by_day_usd)]
    by_year = ref.depreciation_reference(
        [*(ref.AssetRef(row["landed_cost_usd"], row["order_date"], row["delivery_date"],
                        scenario.start_date + dt.timedelta(days=row["retire_day"]))
           for row in orders.iter_rows(named=True)),
         *(ref.AssetRef(float(fleet.site.build_by_day_usd[(day - scenario.start_date).days]),
                        day, day, scenario.end_date) for day in built)],
        t.depreciation, t.depreciation_years, t.bonus_depreciation, scenario.start_date,
        scenario.end_date)
    for levered, view, base in ((False, financed.after_tax_usd, cash),
                                (True, financed.equity_after_tax_usd, financed.equity_usd)):
        tax = ref.tax_reference(list(income), by_year,
                                list(interest if levered else np.zeros(n_days)),
                                resale_usd, t.tax_rate, scenario.start_date)
        np.testing.assert_allclose(base - view, np.array(tax)[None, :], rtol=1e-9,
                                   atol=scale)


def test_operating_income_is_revenue_less_operating_costs(scenario: Scenario) -> None:
    """The tax base read back from the cash flows is the kernel's operating flows: a capital
    item added to the cash flows must be taken out in ``operating_income_usd`` too."""
    plan = default_plans()[0]
    plan = dataclasses.replace(plan, finance=dataclasses.replace(plan.finance, hodl_fraction=0.3))
    plan = plan.with_order(0, order_date=scenario.start_date - dt.timedelta(days=90))
    fleet, flows, cash, _, _ = _steps(plan, scenario)
    income = financing.operating_income_usd(cash, flows, fleet, plan.finance)
    # The site's fixed opex (the default plans pay it) is an operating cost too.
    expected = (flows.revenue_usd - flows.energy_cost_usd - flows.repair_cost_usd
                - fleet.site.fixed_by_day_usd[None, :])
    np.testing.assert_allclose(income, expected, rtol=0, atol=1e-6 * fleet.capex_usd)


# --- properties ------------------------------------------------------------------------------


def test_with_debt_and_tax_off_every_view_is_the_projects_exactly(scenario: Scenario) -> None:
    results = evaluate(None, scenario, breakevens=False)
    summary, daily = results.summary, results.daily
    for view in ("equity_npv_usd", "npv_after_tax_usd", "equity_npv_after_tax_usd"):
        assert summary[view].to_list() == summary["npv_usd"].to_list()
    for view in ("equity_irr", "equity_irr_after_tax"):
        assert summary[view].to_list() == summary["irr"].to_list()
    assert daily["equity_cash_flow_usd"].to_list() == daily["cash_flow_usd"].to_list()
    assert daily["equity_cash_flow_after_tax_usd"].to_list() == daily["cash_flow_usd"].to_list()
    assert (daily["tax_usd"] == 0.0).all() and (summary["debt_usd"] == 0.0).all()


@settings(max_examples=15)
@given(finance=finance_terms, terms=order_terms)
def test_zero_tax_changes_nothing(scenario: Scenario, finance: dict, terms: dict) -> None:
    plan = _plan({**finance, "tax_rate": 0.0}, terms, scenario)
    _, _, cash, financed, _ = _steps(plan, scenario)
    assert np.array_equal(financed.after_tax_usd, cash)
    assert np.array_equal(financed.equity_after_tax_usd, financed.equity_usd)
    assert not financed.tax_usd.any()


@settings(max_examples=15)
@given(share=st.floats(0.0, 1.0), term=st.floats(0.05, 8.0), terms=order_terms)
@example(share=0.6, term=3.0, terms=dict(order_days_before_start=0, deposit_share=0.3,
                                         balance_days_before_import=30))
def test_debt_at_zero_interest_changes_equity_by_exactly_the_draws_and_repayments(
    scenario: Scenario, share: float, term: float, terms: dict,
) -> None:
    finance = dict(debt_share=share, debt_rate=0.0, debt_term_years=term, tax_rate=0.0,
                   depreciation="macrs5", depreciation_years=5, bonus_depreciation=None)
    plan = _plan(finance, terms, scenario)
    fleet, _, cash, financed, _ = _steps(plan, scenario)
    payments = fleet.payments
    draws = share * payments.capex_usd
    n_months = financing.loan_months(term)
    # At 0% a draw is repaid in n equal parts a month apart, the rest on the last day.
    repaid = np.zeros_like(draws)
    last = draws.shape[0] - 1
    for day in np.flatnonzero(draws):
        due = [day + d for d in financing.payment_days(n_months) if day + d <= last]
        for d in due:
            repaid[d] += draws[day] / n_months
        repaid[last] += draws[day] * (1 - len(due) / n_months)
    expected = fold_to_start(draws - repaid, payments.offset_days, plan.finance.discount_rate)
    np.testing.assert_allclose(financed.equity_usd - cash, expected[None, :], rtol=1e-12,
                               atol=1e-9 * fleet.capex_usd)
    if payments.offset_days == 0:  # nothing carried: what is drawn is repaid, to the cent
        assert abs((financed.equity_usd - cash).sum()) <= 1e-9 * fleet.capex_usd


def test_debt_and_tax_never_change_the_projects_pre_tax_numbers(scenario: Scenario) -> None:
    plan = default_plans()[3]
    financed = dataclasses.replace(plan, name="financed", finance=dataclasses.replace(
        plan.finance, debt_share=0.7, debt_rate=0.11, debt_term_years=2.0, tax_rate=0.26,
        depreciation="straight_line", depreciation_years=4, bonus_depreciation=0.5))
    summary = evaluate([plan, financed], scenario.with_changes(paths=3)).summary
    views = {"equity_npv_usd", "equity_irr", "npv_after_tax_usd", "equity_npv_after_tax_usd",
             "equity_irr_after_tax", "debt_usd"}
    plain, levered = summary.row(0, named=True), summary.row(1, named=True)
    changed = [name for name in summary.columns
               if name not in {"plan", *views} and not any(name.startswith(f"{v}_") for v in views)
               and plain[name] != levered[name]
               and not (_is_nan(plain[name]) and _is_nan(levered[name]))]
    assert changed == []
    assert levered["debt_usd"] == pytest.approx(0.7 * levered["capex_usd"], rel=1e-12)
    assert levered["equity_npv_usd"] != levered["npv_usd"]
    assert levered["npv_after_tax_usd"] < levered["npv_usd"]


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and value != value


def test_a_missing_equity_irr_ranks_by_the_sign_of_the_equitys_npv() -> None:
    from fleetcalc import metrics

    for name, npv_name in (("equity_irr", "equity_npv_usd"),
                           ("equity_irr_after_tax", "equity_npv_after_tax_usd")):
        values = {name: np.array([np.nan, 0.1, np.nan]), npv_name: np.array([-1.0, 5.0, 2.0]),
                  "npv_usd": np.array([1.0, 1.0, -1.0])}
        ordered = metrics.ordered(metrics.BY_NAME[name], values)
        assert ordered.tolist() == [-np.inf, 0.1, np.inf]
