"""The payment schedule (``fleetcalc.schedule``) and US customs fees (``fleetcalc.customs_fees``):
who is paid what on which day, and the property the issue asks for: moving a payment earlier
changes NPV by exactly its discounting, before the scenario's start as after it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fleetcalc.customs_fees import add_customs_fees, load_fee_table
from fleetcalc.engine import evaluate
from fleetcalc.errors import InputError
from fleetcalc.plan import Plan, default_plans, parse_plan, plan_to_toml
from fleetcalc.scenario import Scenario, load_scenario
from fleetcalc.schedule import (
    DEFAULT_BALANCE_DAYS_BEFORE_IMPORT,
    DEFAULT_DEPOSIT_SHARE,
    TERMS_ASSUMPTION,
    fold_to_start,
)

D = dt.date


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(None).with_changes(horizon_days=800)


def _orders(plan: Plan, scenario: Scenario) -> dict:
    return evaluate([plan], scenario, breakevens=False).orders.row(0, named=True)


# --- customs fees ---------------------------------------------------------------------------


def _fees(origin: str, on: dt.date, value_usd: float, shipped_by: str = "sea") -> dict:
    orders = pl.DataFrame({"tariff_origin": [origin], "import_date": [on], "quantity": [1],
                           "customs_value_usd": [value_usd], "shipped_by": [shipped_by]})
    return add_customs_fees(orders).row(0, named=True)


@pytest.mark.parametrize(("value_usd", "mpf_usd"), [
    (1_000.0, 33.58),  # 3.46 -> the FY2026 minimum per entry
    (100_000.0, 346.4),  # 0.3464%
    (10_000_000.0, 651.50),  # the FY2026 maximum per entry
])
def test_the_merchandise_processing_fee_is_ad_valorem_between_its_minimum_and_cap(
    value_usd: float, mpf_usd: float,
) -> None:
    fees = _fees("MY", D(2026, 3, 1), value_usd)
    assert fees["mpf_usd"] == pytest.approx(mpf_usd, rel=1e-12)
    assert fees["hmf_usd"] == pytest.approx(0.00125 * value_usd, rel=1e-12)
    assert fees["customs_fees_usd"] == pytest.approx(mpf_usd + 0.00125 * value_usd, rel=1e-12)
    assert not fees["customs_fee_assumption"]


def test_fee_limits_follow_the_fiscal_year_of_the_import_date() -> None:
    big = 1e8
    assert _fees("MY", D(2024, 9, 30), big)["mpf_usd"] == 614.35  # FY2024
    assert _fees("MY", D(2024, 10, 1), big)["mpf_usd"] == 634.62  # FY2025
    assert _fees("MY", D(2025, 10, 1), big)["mpf_usd"] == 651.50  # FY2026
    assumed = _fees("MY", D(2026, 10, 1), big)
    assert assumed["mpf_usd"] == 651.50 and assumed["customs_fee_assumption"]
    before = _fees("CN", D(2019, 1, 1), big)  # before the table: its first row, flagged
    assert before["mpf_usd"] == 575.35 and before["customs_fee_assumption"]


def test_air_cargo_pays_no_harbor_fee_and_us_built_units_no_fee_at_all() -> None:
    air = _fees("TH", D(2026, 3, 1), 1e6, "air")
    assert air["hmf_usd"] == 0.0 and air["mpf_usd"] == 651.50
    us = _fees("US", D(2026, 12, 1), 1e6)
    assert (us["mpf_usd"], us["hmf_usd"], us["customs_fee_assumption"]) == (0.0, 0.0, False)


def test_the_fee_table_has_a_source_on_every_row_and_sorted_dates() -> None:
    table = load_fee_table()
    assert table["effective_from"].is_sorted()
    assert (table["source"].str.len_chars() > 20).all()
    assert set(table["status"]) == {"in_force", "assumption"}


# --- the schedule ---------------------------------------------------------------------------


def test_default_terms_pay_deposit_and_balance_on_the_start_date(scenario: Scenario) -> None:
    plan = default_plans()[0]  # imports 2026-12-15, delivers 2027-01-05; start 2026-12-01
    row = _orders(plan, scenario)
    price = row["customs_value_usd"] * row["quantity"]
    assert row["payment_terms_assumed"]
    assert row["order_date"] == row["deposit_date"] == scenario.start_date
    assert row["deposit_usd"] == pytest.approx(DEFAULT_DEPOSIT_SHARE * price, rel=1e-15)
    # The balance would fall 30 days before import, before the order: paid with the order.
    assert DEFAULT_BALANCE_DAYS_BEFORE_IMPORT == 30
    assert row["balance_date"] == scenario.start_date
    assert row["import_payment_usd"] == pytest.approx(
        row["tariffs_usd"] + row["customs_fees_usd"], rel=1e-15)
    paid = (row["deposit_usd"] + row["balance_usd"] + row["import_payment_usd"]
            + row["delivery_payment_usd"])
    assert paid == pytest.approx(row["landed_cost_usd"], rel=1e-12)
    summary = evaluate([plan], scenario, breakevens=False).summary.row(0, named=True)
    assert TERMS_ASSUMPTION in summary["assumptions"]


def test_given_terms_set_every_payment_day(scenario: Scenario) -> None:
    plan = default_plans()[0].with_order(
        0, order_date=D(2026, 6, 1), deposit_share=0.25, balance_days_before_import=40,
        shipped_by="air")
    results = evaluate([plan], scenario, breakevens=False)
    row = results.orders.row(0, named=True)
    assert not row["payment_terms_assumed"]
    assert (row["deposit_date"], row["balance_date"]) == (D(2026, 6, 1), D(2026, 11, 5))
    assert row["hmf_usd"] == 0.0  # by air
    daily = results.daily
    capex = dict(zip(daily["date"].to_list(), daily["capex_usd"].to_list(), strict=True))
    # Deposit and balance, both paid before the start, are booked at face value on day 0.
    assert capex[scenario.start_date] == pytest.approx(row["deposit_usd"] + row["balance_usd"],
                                                       rel=1e-15)
    assert capex[D(2026, 12, 15)] == pytest.approx(row["import_payment_usd"], rel=1e-15)
    # Capex is the order's landed cost and the site's build (paid on the first delivery day).
    site_build_usd = results.summary["site_build_usd"][0]
    assert capex[D(2027, 1, 5)] >= site_build_usd > 0
    assert daily["capex_usd"].sum() == pytest.approx(row["landed_cost_usd"] + site_build_usd,
                                                     rel=1e-12)
    assert TERMS_ASSUMPTION not in results.summary["assumptions"][0]


def test_the_carry_of_payments_before_the_start_is_their_compounding() -> None:
    extended = np.array([100.0, 0.0, 50.0, 7.0, 1.0])  # days -3 .. 1
    folded = fold_to_start(extended, 3, 0.15)
    assert folded.tolist() == pytest.approx(
        [100.0 * 1.15 ** (3 / 365) + 50.0 * 1.15 ** (1 / 365) + 7.0, 1.0], rel=1e-15)
    assert fold_to_start(extended, 3, None).tolist() == [157.0, 1.0]


def test_an_order_date_after_import_is_an_error() -> None:
    doc = plan_to_toml(default_plans()[0])
    doc["orders"][0]["order_date"] = D(2026, 12, 16)
    with pytest.raises(InputError, match=r"orders\[0\]\.order_date: got '2026-12-16'; expected a "
                                         r"date on or before import_date \(2026-12-15\)"):
        parse_plan(doc, "plan.toml")


@settings(max_examples=30)
@given(first=st.integers(-700, 14), earlier_by=st.integers(1, 400),
       deposit=st.floats(0.01, 1.0), rate=st.floats(0.0, 0.5))
@example(first=14, earlier_by=1, deposit=1.0, rate=0.15)  # the order on the import date
@example(first=0, earlier_by=1, deposit=0.3, rate=0.15)  # from day 0 to before the start
def test_moving_a_payment_earlier_changes_npv_by_exactly_its_discounting(
    scenario: Scenario, first: int, earlier_by: int, deposit: float, rate: float,
) -> None:
    """The deposit moves from day ``first`` to ``first - earlier_by`` (the import is day 14);
    the balance stays on the import date."""
    base = default_plans()[0]
    base = dataclasses.replace(base, finance=dataclasses.replace(base.finance,
                                                                 discount_rate=rate))

    def plan_on(day: int) -> Plan:
        return dataclasses.replace(base.with_order(
            0, order_date=scenario.start_date + dt.timedelta(days=day), deposit_share=deposit,
            balance_days_before_import=0), name=f"deposit on day {day}")

    later, earlier = plan_on(first), plan_on(first - earlier_by)
    summary = evaluate([later, earlier], scenario, breakevens=False).summary
    npv_later, npv_earlier = summary["npv_usd"].to_list()
    deposit_usd = evaluate([later], scenario, breakevens=False).orders["deposit_usd"].item()

    def discounted(day: int) -> float:
        return (1 + rate) ** (-day / 365)

    expected = -deposit_usd * (discounted(first - earlier_by) - discounted(first))
    capex = summary["capex_usd"][0]
    assert npv_earlier - npv_later == pytest.approx(expected, abs=1e-9 * capex)


def test_the_readme_quotes_the_financed_example_as_compare_computes_it() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    record = evaluate([root / "docs/examples/auradine-financed.toml"]).records()[0]
    for name in ("npv_usd", "equity_npv_usd", "npv_after_tax_usd", "equity_npv_after_tax_usd"):
        assert f"| `{name}`" in readme and f"| {record[name]:,.0f} |" in readme, name
    for name in ("irr", "equity_irr", "equity_irr_after_tax"):
        assert f"| {record[name]:.1%} |" in readme, name


def test_compare_names_the_assumptions_the_plans_add(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from fleetcalc.cli import main

    monkeypatch.setenv("COLUMNS", "4000")  # one line each (the network's assumptions are long)
    assert main(["compare"]) == 0
    out = capsys.readouterr().out
    line = next(text for text in out.splitlines() if text.startswith("Plan assumptions:"))
    assert TERMS_ASSUMPTION in line
