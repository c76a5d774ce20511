"""When an order's money is paid: the payment-schedule step.

Per order (keys of ``[[orders]]``, see ``fleetcalc.plan.Order``):

- the deposit, ``deposit_share`` of the order's customs value (unit price x quantity), on its
  ``order_date``;
- the balance, the rest of the customs value, ``balance_days_before_import`` days before the
  import date (on the order date if that is later);
- duty and customs fees (``fleetcalc.customs_fees``) on the import date;
- freight and install on the delivery date.

A key left out takes its default, an ASSUMPTION named in the results (``TERMS_ASSUMPTION``):
ordered on the scenario's start date (on the import date if that is earlier), a 30% deposit
and the balance 30 days before import (makers and resellers publish no terms; 25-50% down with
the balance before shipment is the pattern of futures batches, and a ship from South-East Asia
takes two to four weeks), shipped by sea.

A payment before the scenario's start (an ``order_date`` before ``start_date``) is carried
forward to day 0 at the plan's discount rate: A paid d days before the start is worth
A x (1 + r) ** (d / 365) on day 0. So moving any payment earlier changes NPV by exactly its
discounting, before the start as after it. Its nominal amount is booked on day 0
(``capex_by_day_usd``) and the carry apart (``Payments.carry_usd``), so capex stays nominal.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from fleetcalc.customs_fees import NOT_IMPORTED
from fleetcalc.tariffs import LandedCosts

DAYS_PER_YEAR = 365.0
DEFAULT_DEPOSIT_SHARE = 0.30
DEFAULT_BALANCE_DAYS_BEFORE_IMPORT = 30
DEFAULT_SHIPPED_BY = "sea"
# No "; " inside: assumption lists are joined with it.
TERMS_ASSUMPTION = (
    "payment terms an order leaves out are assumed: ordered on the scenario's start date, "
    "30% deposit then, the balance 30 days before import, shipped by sea (duty and customs "
    "fees on the import date, freight and install on delivery)"
)

# Columns ``payment_schedule`` adds to each priced order: what is paid when.
PAYMENT_SCHEMA: dict[str, pl.DataType] = {
    "deposit_date": pl.Date(),
    "deposit_usd": pl.Float64(),
    "balance_date": pl.Date(),
    "balance_usd": pl.Float64(),
    "import_payment_usd": pl.Float64(),  # duty and customs fees, on the import date
    "delivery_payment_usd": pl.Float64(),  # freight and install, on the delivery date
}


def resolve_terms(order: Any, start_date: dt.date) -> dict[str, Any]:
    """An order's payment terms with the defaults filled in, and whether any was a default.

    ``order`` is a ``fleetcalc.plan.Order`` (read by attribute: this module sits below it).
    """
    given = [order.order_date, order.deposit_share, order.balance_days_before_import]
    if order.origin != NOT_IMPORTED:  # how a US-built unit travels changes no fee
        given.append(order.shipped_by)
    order_date = order.order_date
    if order_date is None:
        order_date = min(start_date, order.import_date)
    return {
        "order_date": order_date,
        "deposit_share": (DEFAULT_DEPOSIT_SHARE if order.deposit_share is None
                          else order.deposit_share),
        "balance_days_before_import": (
            DEFAULT_BALANCE_DAYS_BEFORE_IMPORT if order.balance_days_before_import is None
            else order.balance_days_before_import),
        "shipped_by": DEFAULT_SHIPPED_BY if order.shipped_by is None else order.shipped_by,
        "payment_terms_assumed": any(value is None for value in given),
    }


@dataclass(frozen=True)
class Payments:
    """One plan's (or site's) capital payments by day, from ``offset_days`` days before day 0."""

    offset_days: int  # days before the start the first payment falls (0 if none does)
    capex_usd: np.ndarray  # [offset_days + days]: entry i is day i - offset_days

    def nominal_by_day(self) -> np.ndarray:
        """[days]: each day's payments, those before the start counted on day 0 at face value."""
        return fold_to_start(self.capex_usd, self.offset_days, None)

    def carry_usd(self, annual_rate: float) -> float:
        """What carrying the payments made before the start forward to day 0 adds to them."""
        pre = self.capex_usd[: self.offset_days]
        return float((pre * (growth_to_start(self.offset_days, annual_rate) - 1.0)).sum())


def combine_payments(parts: Sequence[Payments]) -> Payments:
    """The payments of several sites as one plan's: each day's amounts added up."""
    offset_days = max(part.offset_days for part in parts)
    capex_usd = functools.reduce(operator.add, [
        np.pad(part.capex_usd, (offset_days - part.offset_days, 0)) for part in parts])
    return Payments(offset_days, capex_usd)


def growth_to_start(offset_days: int, annual_rate: float) -> np.ndarray:
    """[offset_days]: what 1 USD paid on day i - offset_days is worth on day 0."""
    return (1.0 + annual_rate) ** (np.arange(offset_days, 0, -1) / DAYS_PER_YEAR)


def fold_to_start(extended: np.ndarray, offset_days: int,
                  annual_rate: float | None) -> np.ndarray:
    """``extended`` (``[..., offset_days + days]``, day -offset_days first) as ``[..., days]``:
    the days before the start added to day 0, carried forward at ``annual_rate`` (None: at
    face value)."""
    out = extended[..., offset_days:].copy()
    if offset_days:
        pre = extended[..., :offset_days]
        if annual_rate is not None:
            pre = pre * growth_to_start(offset_days, annual_rate)
        out[..., 0] += pre.sum(axis=-1)
    return out


def _day(column: str, start: dt.date) -> pl.Expr:
    return (pl.col(column) - pl.lit(start)).dt.total_days()


def with_payments(landed: LandedCosts) -> LandedCosts:
    """The payment-schedule step: every priced order with what it pays when
    (``PAYMENT_SCHEMA``), from its resolved terms (``resolve_terms``)."""
    balance_date = pl.max_horizontal(
        pl.col("order_date"),
        pl.col("import_date") - pl.duration(days=pl.col("balance_days_before_import")))
    price_usd = pl.col("customs_value_usd") * pl.col("quantity")
    per_order = landed.per_order.with_columns(
        deposit_date=pl.col("order_date"),
        deposit_usd=price_usd * pl.col("deposit_share"),
        balance_date=balance_date,
        balance_usd=price_usd * (1.0 - pl.col("deposit_share")),
        import_payment_usd=pl.col("tariffs_usd") + pl.col("customs_fees_usd"),
        delivery_payment_usd=(pl.col("freight_usd") + pl.col("install_usd"))
        * pl.col("quantity"),
    )
    return replace(landed, per_order=per_order)


def payment_schedule(orders: pl.DataFrame, start_date: dt.date, n_days: int) -> Payments:
    """The plan's capital payments by day, from its orders' payments (``with_payments``)."""
    # Four payments per order (order by order, in this order): their days from the start and
    # amounts, into a daily array.
    days = orders.select(_day(column, start_date) for column in (
        "deposit_date", "balance_date", "import_date", "delivery_date")).to_numpy().ravel()
    amounts = orders.select("deposit_usd", "balance_usd", "import_payment_usd",
                            "delivery_payment_usd").to_numpy().ravel()
    offset_days = max(0, -int(days.min()))
    capex_usd = np.bincount(days + offset_days, weights=amounts,
                            minlength=offset_days + n_days)
    return Payments(offset_days, capex_usd[: offset_days + n_days])
