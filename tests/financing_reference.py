"""Plain-loop reference of ``fleetcalc.financing``: debt and tax as an analyst would write them
in a spreadsheet, one loan, one month, one day, one tax year at a time. The tests compare the
vectorised code with it; nothing here is fast or clever on purpose.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

MACRS5 = [0.20, 0.32, 0.192, 0.1152, 0.1152, 0.0576]


def loan_reference(
    draws: list[tuple[int, float]], annual_rate: float, term_years: float, length: int,
) -> tuple[list[float], list[float]]:
    """(payments, interest) per day 0 .. length - 1 of loans drawn (day, USD), each repaid in
    level monthly payments every 365/12 days (rounded half up), and in full on the last day."""
    payments = [0.0] * length
    interest = [0.0] * length
    months = max(1, round(term_years * 12))
    i = annual_rate / 12
    for day, amount in draws:
        # The annuity formula amount * i / (1 - (1 + i) ** -months), written so that a tiny
        # rate does not cancel to 0 / 0.
        level = amount / months if i == 0 else amount * i / -math.expm1(-months * math.log1p(i))
        balance = amount
        last_paid = day
        for k in range(1, months + 1):
            due = day + math.floor(k * 365 / 12 + 0.5)
            if due > length - 1:
                break
            owed_interest = balance * i
            payments[due] += level
            interest[due] += owed_interest
            balance = balance + owed_interest - level
            last_paid = due
            if k == months:
                balance = 0.0  # the last level payment clears the loan
        accrued = balance * i * (length - 1 - last_paid) / (365 / 12)
        payments[length - 1] += balance + accrued
        interest[length - 1] += accrued
    return payments, interest


@dataclass
class AssetRef:
    basis_usd: float
    order_date: dt.date
    delivery_date: dt.date
    retire_date: dt.date  # first day out of service, or the day after the horizon


def bonus_reference(order_date: dt.date, delivery_date: dt.date) -> float:
    if order_date >= dt.date(2025, 1, 20):
        return 1.0
    return {2023: 0.8, 2024: 0.6, 2025: 0.4, 2026: 0.2}.get(
        delivery_date.year, 1.0 if delivery_date.year <= 2022 else 0.0)


def depreciation_reference(
    assets: list[AssetRef], method: str, years: int, bonus: float | None,
    start: dt.date, end: dt.date,
) -> dict[int, float]:
    """Deduction per calendar year: bonus, then the method's table, the rest on disposal."""
    if method == "macrs5":
        table = MACRS5
    else:
        table = [0.5 / years] + [1.0 / years] * (years - 1) + [0.5 / years]
    last_day = end - dt.timedelta(days=1)
    out: dict[int, float] = {}
    for asset in assets:
        share = bonus_reference(asset.order_date, asset.delivery_date) if bonus is None else bonus
        disposal_year = min(asset.retire_date, last_day).year
        left = asset.basis_usd
        year = asset.delivery_date.year
        k = 0
        while year < disposal_year:
            amount = asset.basis_usd * (1 - share) * (table[k] if k < len(table) else 0.0)
            if k == 0:
                amount += asset.basis_usd * share
            out[year] = out.get(year, 0.0) + amount
            left -= amount
            year += 1
            k += 1
        out[disposal_year] = out.get(disposal_year, 0.0) + left
    return out


def tax_reference(
    income_by_day: list[float], deductions_by_year: dict[int, float],
    interest_by_day: list[float], residual_usd: float, rate: float, start: dt.date,
) -> list[float]:
    """Tax paid per day of one path: each calendar year's taxable income (income less
    deductions and interest, the residual in the last year), losses carried forward and
    offsetting at most 80% of a later year's income, paid on the year's last day."""
    n_days = len(income_by_day)
    taxable: dict[int, float] = {}
    pay_day: dict[int, int] = {}
    for t in range(n_days):
        year = (start + dt.timedelta(days=t)).year
        taxable[year] = taxable.get(year, 0.0) + income_by_day[t] - interest_by_day[t]
        pay_day[year] = t
    years = sorted(taxable)
    taxable[years[-1]] += residual_usd
    tax = [0.0] * n_days
    carried = 0.0
    for year in years:
        income = taxable[year] - deductions_by_year.get(year, 0.0)
        if income <= 0:
            carried += -income
            continue
        used = min(carried, 0.8 * income)
        carried -= used
        tax[pay_day[year]] = rate * (income - used)
    return tax


def carried_to_start(amounts_before: list[tuple[int, float]], annual_rate: float) -> float:
    """Day-0 value of amounts paid ``d`` days before the start (d > 0)."""
    return sum(amount * (1 + annual_rate) ** (d / 365) for d, amount in amounts_before)


def equity_delta_reference(
    capex_by_day: dict[int, float], debt_share: float, annual_rate: float, term_years: float,
    n_days: int, discount_rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(equity cash flow less the project's, interest paid) per day 0 .. n_days - 1, for
    capital payments by day (negative days: before the start, carried to day 0)."""
    first = min(0, *capex_by_day)
    length = n_days - first
    draws = [(day - first, debt_share * usd) for day, usd in sorted(capex_by_day.items())
             if usd != 0.0]
    payments, interest = loan_reference(draws, annual_rate, term_years, length)
    delta = np.zeros(n_days)
    paid_interest = np.zeros(n_days)
    before: list[tuple[int, float]] = []
    for index in range(length):
        day = index + first
        draw = sum(usd for d, usd in draws if d == index)
        flow = draw - payments[index]
        if day < 0:
            before.append((-day, flow))
            paid_interest[0] += interest[index]
        else:
            delta[day] += flow
            paid_interest[day] += interest[index]
    delta[0] += carried_to_start(before, discount_rate)
    return delta, paid_interest
