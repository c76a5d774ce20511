"""Debt and tax: the financing step, from the project's pre-tax cash flows to equity and
after-tax cash flows. Arrays are ``[paths, days]`` unless noted; loan flows are the same on
every path.

**Debt** (``[finance] debt_share``, ``debt_rate``, ``debt_term_years``): ``debt_share`` of every
capital payment (``fleetcalc.schedule``) is borrowed on the day it is paid, each draw an
amortising loan of its own: level monthly payments, due every 365/12 days rounded to the day,
over the term, at ``debt_rate / 12`` a month (an annual rate compounded monthly, as US lenders
quote it). What a draw still owes on the horizon's last day (its balance and the interest
accrued since its last payment) is repaid that day. Equity cash flows are the project's plus
the draws less the loan payments; flows before the scenario's start are carried forward to
day 0 at the discount rate, as ``fleetcalc.schedule`` does with capex.

**Tax** (``tax_rate``, ``depreciation``, ``depreciation_years``, ``bonus_depreciation``): US
federal rules on calendar tax years, the tax paid on the last day of each (the horizon's last
day for the last one).

- Taxable income: the BTC mined, valued on the day it is mined (kept BTC too: mining income is
  taxed on receipt), less every operating cost of the cash flows (energy, repairs and whatever
  else ``cashflows.cash_flows`` charges), less depreciation and, for equity, interest. The
  units still in service at the horizon are sold at their residual value: income of the last
  year. Kept BTC's value at the horizon is not taxed (an unrealised gain).
- Depreciation: each order's landed cost (price, duty, customs fees, freight, install) from the
  tax year it is delivered (placed in service): ``bonus_depreciation`` of it at once, the rest by
  MACRS 5-year with the half-year convention (20, 32, 19.2, 11.52, 11.52, 5.76%: IRS Publication
  946, Table A-1) or straight line over ``depreciation_years`` with the half-year convention.
  Whatever is left when the units leave service (at the end of their service life, or sold at
  the horizon) is deducted that year. The site build (``build_usd_per_mw``, part of capex) is
  depreciated the same way from the day it is built, its basis left at the horizon deducted
  in the last year (``site_build_depreciation_by_year``). The mid-quarter convention (over
  40% of a year's property placed in service in its last quarter) is not applied.
- Bonus depreciation left out (None): the US rule for each order (``us_bonus_share``).
- Losses carry forward without time limit and offset at most 80% of a later year's taxable
  income (26 U.S.C. 172(a)(2), losses of tax years from 2021; no carryback). The project stands
  alone: a tax loss is never refunded (a parent with other taxable income would use it at
  once), and losses unused at the horizon are lost.

``tests/financing_reference.py`` implements the same rules with plain loops, and the tests
compare the two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from fleetcalc import finance
from fleetcalc.cashflows import FleetArrays, KernelFlows
from fleetcalc.plan import Finance
from fleetcalc.schedule import fold_to_start

MONTHS_PER_YEAR = 12
DAYS_PER_YEAR = 365
# IRS Publication 946, Table A-1: 5-year property, 200% declining balance, half-year convention.
MACRS5_SHARES = (0.20, 0.32, 0.192, 0.1152, 0.1152, 0.0576)
# 26 U.S.C. 172(a)(2): losses of tax years beginning after 2020 offset at most 80% of income.
NOL_LIMIT_SHARE = 0.80
# Bonus depreciation (26 U.S.C. 168(k)): property acquired (a written binding contract signed)
# after 2025-01-19 gets 100% (One Big Beautiful Bill Act, P.L. 119-21, s. 70301, permanent);
# property acquired earlier follows the Tax Cuts and Jobs Act phase-down by the year it is
# placed in service: 100% up to 2022, then 80, 60, 40, 20%, none from 2027.
OBBBA_ACQUIRED_AFTER = dt.date(2025, 1, 19)
TCJA_PHASE_DOWN = {2023: 0.8, 2024: 0.6, 2025: 0.4, 2026: 0.2}
TCJA_FULL_UNTIL_YEAR = 2022
BONUS_ASSUMPTION = (
    "bonus depreciation by US rule: 100% for orders signed after 2025-01-19 (One Big "
    "Beautiful Bill Act), the Tax Cuts and Jobs Act phase-down for earlier ones"
)


def us_bonus_share(order_date: dt.date, delivery_date: dt.date) -> float:
    """The bonus depreciation share of an order under US rules: acquired on its order date,
    placed in service on its delivery date."""
    if order_date > OBBBA_ACQUIRED_AFTER:
        return 1.0
    year = delivery_date.year
    if year <= TCJA_FULL_UNTIL_YEAR:
        return 1.0
    return TCJA_PHASE_DOWN.get(year, 0.0)


def depreciation_shares(method: str, years: int) -> np.ndarray:
    """Share of the basis left after bonus depreciated in each tax year from the first."""
    if method == "macrs5":
        return np.array(MACRS5_SHARES)
    half = 0.5 / years
    return np.array([half, *([1.0 / years] * (years - 1)), half])


# --- debt -------------------------------------------------------------------------------------


def payment_days(n_months: int) -> np.ndarray:
    """[n_months]: the day of each monthly payment after a draw on day 0 (365/12 days apart,
    rounded half up)."""
    k = np.arange(1, n_months + 1)
    return (730 * k + 12) // 24  # round(k * 365 / 12), halves up, in integers


def loan_months(term_years: float) -> int:
    return max(1, round(term_years * MONTHS_PER_YEAR))


@dataclass(frozen=True)
class UnitLoan:
    """USD 1 drawn on day 0, followed for ``length`` days: ``[length]`` arrays."""

    payment_usd: np.ndarray  # paid on each day (principal and interest)
    interest_usd: np.ndarray  # the interest part of it
    owed_usd: np.ndarray  # balance after the day's payment
    accrued_usd: np.ndarray  # interest accrued on that balance since the last payment


def unit_loan(annual_rate: float, term_years: float, length: int) -> UnitLoan:
    """The schedule of USD 1 borrowed on day 0, for days 0 .. length - 1."""
    n = loan_months(term_years)
    i = annual_rate / MONTHS_PER_YEAR
    level = 1.0 / n if i == 0.0 else i / -np.expm1(-n * np.log1p(i))
    months = np.arange(n)
    # Balance before payment k (k = 1..n) of a level-payment loan, closed form:
    # (1 + i)**m - level * ((1 + i)**m - 1) / i, with (1 + i)**m - 1 by expm1 so that a tiny
    # rate does not cancel.
    grown = np.expm1(months * np.log1p(i))
    before = 1.0 + grown - (level * grown / i if i else level * months)
    interest = before * i
    after = np.append(before[1:], 0.0)
    days = payment_days(n)
    on_time = days < length
    payment = np.zeros(length)
    interest_by_day = np.zeros(length)
    payment[days[on_time]] = level
    interest_by_day[days[on_time]] = interest[on_time]
    # Each day's balance is the one after the last payment made on or before it.
    paid = np.searchsorted(days, np.arange(length), side="right")  # payments made by day t
    balance = np.where(paid == 0, 1.0, after[np.maximum(paid - 1, 0)])
    last_day = np.where(paid == 0, 0, days[np.maximum(paid - 1, 0)])
    accrued = balance * i * (np.arange(length) - last_day) / (DAYS_PER_YEAR / MONTHS_PER_YEAR)
    return UnitLoan(payment, interest_by_day, balance, accrued)


@dataclass(frozen=True)
class LoanFlows:
    """The plan's loans on the extended day axis of its payments (``[offset + days]``)."""

    draws_usd: np.ndarray
    payments_usd: np.ndarray  # loan payments, the repayment on the last day included
    interest_usd: np.ndarray  # the interest in them


def loan_flows(draws_usd: np.ndarray, annual_rate: float, term_years: float) -> LoanFlows:
    """Every draw as its own amortising loan, repaid in full on the last day of the axis.

    Draws fall on few days (four payments per order), so each is the unit loan scaled and
    shifted: one slice per draw day.
    """
    length = draws_usd.shape[0]
    unit = unit_loan(annual_rate, term_years, length)
    payments = np.zeros(length)
    interest = np.zeros(length)
    last = length - 1
    for day in np.flatnonzero(draws_usd):
        amount = draws_usd[day]
        span = length - day
        payments[day:] += amount * unit.payment_usd[:span]
        interest[day:] += amount * unit.interest_usd[:span]
        owed, accrued = unit.owed_usd[last - day], unit.accrued_usd[last - day]
        payments[last] += amount * (owed + accrued)
        interest[last] += amount * accrued
    return LoanFlows(draws_usd.copy(), payments, interest)


# --- tax --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxYears:
    """Calendar tax years over the horizon."""

    starts: np.ndarray  # [years]: day index of each year's first day in the horizon
    tax_days: np.ndarray  # [years]: day the year's tax is paid (its last day in the horizon)
    year_of_day: np.ndarray  # [days]: index of each day's tax year
    first_year: int  # calendar year of day 0

    @property
    def n_years(self) -> int:
        return int(self.starts.shape[0])


def tax_years(start_date: dt.date, n_days: int) -> TaxYears:
    dates = np.datetime64(start_date, "D") + np.arange(n_days)
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    index = years - years[0]
    starts = np.flatnonzero(np.diff(index, prepend=-1))
    tax_days = np.append(starts[1:] - 1, n_days - 1)
    return TaxYears(starts, tax_days, index, int(years[0]))


def depreciation_by_year(orders: pl.DataFrame, terms: Finance, years: TaxYears) -> np.ndarray:
    """[years]: the deduction for the plan's units (depreciation and the basis left when they
    leave service). ``orders`` are priced orders with their payment terms."""
    shares = depreciation_shares(terms.depreciation, terms.depreciation_years)
    n_days = years.year_of_day.shape[0]
    out = np.zeros(years.n_years)
    for row in orders.iter_rows(named=True):
        bonus = (us_bonus_share(row["order_date"], row["delivery_date"])
                 if terms.bonus_depreciation is None else terms.bonus_depreciation)
        # Out of service on its retirement day, or sold on the horizon's last day.
        _depreciate(out, row["landed_cost_usd"], years.year_of_day[row["delivery_day"]],
                    years.year_of_day[min(row["retire_day"], n_days - 1)], bonus, shares)
    return out


def site_build_depreciation_by_year(
    build_by_day_usd: np.ndarray, terms: Finance, years: TaxYears, start_date: dt.date,
) -> np.ndarray:
    """[years]: the deduction for the site build (``build_by_day_usd[days]``, the capex of
    ``fleetcalc.site_costs``): depreciated like the units, by the plan's ``depreciation`` and
    bonus share (the US rule with the build day as acquisition and service date), from the
    year it is built; the basis left at the horizon is deducted in the last year (the model
    gives the site no value after the horizon, so it leaves the books then)."""
    shares = depreciation_shares(terms.depreciation, terms.depreciation_years)
    out = np.zeros(years.n_years)
    last_year = years.n_years - 1
    for day in np.flatnonzero(build_by_day_usd):
        built = start_date + dt.timedelta(days=int(day))
        bonus = (us_bonus_share(built, built) if terms.bonus_depreciation is None
                 else terms.bonus_depreciation)
        _depreciate(out, float(build_by_day_usd[day]), years.year_of_day[day], last_year,
                    bonus, shares)
    return out


def _depreciate(out: np.ndarray, basis_usd: float, first: int, gone: int, bonus: float,
                shares: np.ndarray) -> None:
    """Add to ``out[years]`` the deductions of ``basis_usd`` placed in service in year
    ``first`` and leaving service in year ``gone``: the bonus share at once, the rest on the
    schedule ``shares`` for the full years held, and what is left in the year it leaves."""
    schedule = (1.0 - bonus) * shares
    schedule[0] += bonus
    held = gone - first  # full schedule years before the disposal year
    taken = schedule[:held]
    out[first:first + taken.shape[0]] += basis_usd * taken
    out[gone] += basis_usd * (1.0 - taken.sum())


def tax_by_year(taxable_usd: np.ndarray, tax_rate: float) -> np.ndarray:
    """[paths, years]: tax on each year's taxable income, losses carried forward and limited
    to ``NOL_LIMIT_SHARE`` of a later year's income; never negative."""
    carried = np.zeros(taxable_usd.shape[0])
    tax = np.zeros_like(taxable_usd)
    for year in range(taxable_usd.shape[1]):
        income = taxable_usd[:, year]
        used = np.minimum(carried, NOL_LIMIT_SHARE * np.maximum(income, 0.0))
        tax[:, year] = tax_rate * np.maximum(income - used, 0.0)
        carried = carried - used + np.maximum(-income, 0.0)
    return tax


# --- the step ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinancedFlows:
    """The financing step's output: daily cash flows ``[paths, days]`` of each view."""

    equity_usd: np.ndarray  # pre-tax, after debt
    after_tax_usd: np.ndarray  # the project's, unlevered, after tax
    equity_after_tax_usd: np.ndarray
    tax_usd: np.ndarray  # the unlevered project's tax
    debt_usd: float  # drawn in all
    levered: bool  # some debt: equity flows differ from the project's
    taxed: bool  # a tax rate above 0


def operating_income_usd(
    cash_usd: np.ndarray, flows: KernelFlows, fleet: FleetArrays, terms: Finance,
) -> np.ndarray:
    """[paths, days]: the cash flows less their capital items (capex and its carry, the
    residual value, kept BTC at the horizon), with the kept BTC counted as income when mined.

    Read back from the cash flows rather than rebuilt, so every operating cost the cash-flow
    step charges is deducted here too.
    """
    income = cash_usd + fleet.capex_by_day_usd[None, :] + terms.hodl_fraction * flows.revenue_usd
    income[:, 0] += fleet.capex_carry_usd
    income[:, -1] -= fleet.resale.value_usd(flows.final_hashprice_usd_per_ph_day) + (
        terms.hodl_fraction * flows.btc.sum(axis=1) * flows.final_price_usd)
    return income


def _tax(
    income_usd: np.ndarray, deductions_usd: np.ndarray, residual_usd: np.ndarray, rate: float,
    years: TaxYears,
) -> np.ndarray:
    """[paths, days]: tax paid, on each tax year's last day."""
    taxable = np.add.reduceat(income_usd, years.starts, axis=1) - deductions_usd[None, :]
    taxable[:, -1] += residual_usd
    tax = np.zeros_like(income_usd)
    tax[:, years.tax_days] = tax_by_year(taxable, rate)
    return tax


def financed_flows(
    cash_usd: np.ndarray, flows: KernelFlows, fleet: FleetArrays, orders: pl.DataFrame,
    terms: Finance, start_date: dt.date,
) -> FinancedFlows:
    """The financing step: equity (debt) and after-tax cash flows from the project's.
    ``orders`` are the plan's priced orders with their payment terms (what is depreciated).
    A plan of several sites is one borrower and one taxpayer: this runs on the sites' sum."""
    payments = fleet.payments
    n_days = cash_usd.shape[1]
    levered = terms.debt_share > 0.0
    taxed = terms.tax_rate > 0.0
    equity = after_tax = equity_after_tax = cash_usd
    tax = np.zeros_like(cash_usd)
    interest_by_day = np.zeros(n_days)
    debt_usd = 0.0
    if levered:
        assert terms.debt_rate is not None  # the plan parser requires it with debt
        loans = loan_flows(terms.debt_share * payments.capex_usd, terms.debt_rate,
                           terms.debt_term_years)
        debt_usd = float(loans.draws_usd.sum())
        delta = fold_to_start(loans.draws_usd - loans.payments_usd, payments.offset_days,
                              terms.discount_rate)
        equity = equity_after_tax = cash_usd + delta[None, :]
        interest_by_day = fold_to_start(loans.interest_usd, payments.offset_days, None)
    if taxed:
        years = tax_years(start_date, n_days)
        income = operating_income_usd(cash_usd, flows, fleet, terms)
        deductions = depreciation_by_year(orders, terms, years)
        if fleet.site.build_usd > 0.0:  # (no added zeros without a build: the same bits)
            deductions = deductions + site_build_depreciation_by_year(
                fleet.site.build_by_day_usd, terms, years, start_date)
        # The units resold at the horizon: at each path's price when resold at market.
        resale_usd = fleet.resale.value_usd(flows.final_hashprice_usd_per_ph_day)
        tax = _tax(income, deductions, resale_usd, terms.tax_rate, years)
        after_tax = cash_usd - tax
        equity_after_tax = equity - tax
        if levered:
            interest = np.add.reduceat(interest_by_day, years.starts)
            equity_after_tax = equity - _tax(income, deductions + interest, resale_usd,
                                             terms.tax_rate, years)
    return FinancedFlows(equity, after_tax, equity_after_tax, tax, debt_usd, levered, taxed)


def fixed_metrics(orders: pl.DataFrame, financed: FinancedFlows) -> dict[str, float]:
    """The plan's customs fees and debt drawn (``orders``: its priced orders)."""
    return {"customs_fees_usd": float(orders["customs_fees_usd"].sum()),
            "debt_usd": financed.debt_usd}


def assumptions(orders: pl.DataFrame, terms: Finance, financed: FinancedFlows) -> list[str]:
    """The assumptions the plan's payment terms, customs fees and tax rest on."""
    from fleetcalc.customs_fees import FEE_ASSUMPTION_TEXT
    from fleetcalc.schedule import TERMS_ASSUMPTION

    return [text for text, used in (
        (TERMS_ASSUMPTION, orders["payment_terms_assumed"].any()),
        (FEE_ASSUMPTION_TEXT, orders["customs_fee_assumption"].any()),
        (BONUS_ASSUMPTION, financed.taxed and terms.bonus_depreciation is None),
    ) if used]


def _no_irr(cash_usd: np.ndarray) -> np.ndarray:
    return np.full(cash_usd.shape[0], np.nan)


def financing_metrics(
    financed: FinancedFlows, terms: Finance, project_npv_usd: np.ndarray,
    project_irr: np.ndarray, solve_irr: bool = True,
) -> dict[str, np.ndarray]:
    """The per-path metrics of the equity and after-tax views. A view whose flows are those
    of another (no debt: equity's are the project's; no tax: after-tax are pre-tax) takes
    that view's NPV and IRR as they are (an IRR costs ~80 passes over the flows).
    ``solve_irr`` False: IRRs left missing (NaN), as the project's."""
    rate = terms.discount_rate
    irr = finance.irr if solve_irr else _no_irr
    equity_npv, equity_irr = project_npv_usd, project_irr
    if financed.levered:
        equity_npv = finance.npv(financed.equity_usd, rate)
        equity_irr = irr(financed.equity_usd)
    after_tax_npv, equity_after_tax_npv, equity_after_tax_irr = (
        project_npv_usd, equity_npv, equity_irr)
    if financed.taxed:
        after_tax_npv = finance.npv(financed.after_tax_usd, rate)
        equity_after_tax_npv = finance.npv(financed.equity_after_tax_usd, rate)
        equity_after_tax_irr = irr(financed.equity_after_tax_usd)
    return {
        "equity_npv_usd": equity_npv, "equity_irr": equity_irr,
        "npv_after_tax_usd": after_tax_npv, "equity_npv_after_tax_usd": equity_after_tax_npv,
        "equity_irr_after_tax": equity_after_tax_irr,
    }
