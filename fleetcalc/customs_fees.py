"""US customs user fees on an order's import entry, from a dated table with a source per row
(``fleetcalc/data/customs_fees.csv``):

- merchandise processing fee (MPF), 19 CFR 24.23(b)(1)(i): 0.3464% of the entered value of a
  formal entry, at least the fiscal year's minimum and at most its maximum per entry (CBP
  adjusts both for inflation every 1 October; FY2026: USD 33.58 and 651.50);
- harbor maintenance fee (HMF), 19 CFR 24.24(a): 0.125% of the value of commercial cargo
  unloaded from a vessel at a US port, with no minimum or maximum; air cargo pays none.

Each order is one formal entry whose entered value is its customs value (an ASSUMPTION: an
order shipped in several entries pays the minimum and the cap per entry). A US-built order is
not imported and pays neither fee. Both are paid with the duty on the import date and are part
of the order's landed cost. The limits in force from 2026-10-01 are assumptions (the FY2027
notice was not found), and so are an import's before the table's first row (it uses that row):
such orders carry ``customs_fee_assumption``.

The MPF's cap makes a large order's fee a fixed amount: it is the one cost of an order that
is not proportional to its quantity (``fleetcalc.candidates`` prices candidates without it).
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import polars as pl

from fleetcalc.catalog import DataFileError, read_data_csv

SHIPPED_BY = ("sea", "air")
# Cargo of these modes is unloaded from a vessel at a US port and pays the HMF.
HMF_MODES = ("sea",)
# The origin whose units are not imported (``fleetcalc.tariffs.IMPORTING_COUNTRY``; repeated
# here because tariffs imports this module).
NOT_IMPORTED = "US"
IN_FORCE_STATUS = "in_force"
ASSUMPTION_STATUS = "assumption"

FEE_TABLE_SCHEMA: dict[str, pl.DataType] = {
    "effective_from": pl.Date(),  # in force from this import date until the next row's
    "mpf_rate": pl.Float64(),  # fraction of the entered value
    "mpf_min_usd": pl.Float64(),  # per entry
    "mpf_max_usd": pl.Float64(),  # per entry
    "hmf_rate": pl.Float64(),  # fraction of the cargo's value
    "status": pl.String(),  # in_force (sourced) or assumption
    "source": pl.String(),
}
# Columns ``add_customs_fees`` adds to an order (amounts for the whole order).
CUSTOMS_FEE_SCHEMA: dict[str, pl.DataType] = {
    "mpf_usd": pl.Float64(),
    "hmf_usd": pl.Float64(),
    "customs_fees_usd": pl.Float64(),
    "customs_fee_assumption": pl.Boolean(),
}
# What results say when an order's fees rest on an assumed row (no "; ": assumption lists are
# joined with it).
FEE_ASSUMPTION_TEXT = (
    "US customs fees (MPF 0.3464% with a minimum and cap per entry, HMF 0.125% by sea) use "
    "the FY2026 limits for imports from 2026-10-01, the FY2027 notice not being found"
)


def _fail_if(frame: pl.DataFrame, bad: pl.Expr, rule: str) -> None:
    offenders = frame.filter(bad.fill_null(True))
    if offenders.height:
        raise DataFileError(f"customs_fees.csv: {rule}; offending effective_from: "
                            f"{offenders['effective_from'].to_list()}")


@functools.cache
def load_fee_table() -> pl.DataFrame:
    """The shipped fee table, schema ``FEE_TABLE_SCHEMA``, validated, sorted by date."""
    frame = read_data_csv("customs_fees.csv", FEE_TABLE_SCHEMA)
    _fail_if(frame, pl.col("effective_from").is_null(), "effective_from is required")
    _fail_if(frame, pl.col("effective_from").is_duplicated(), "effective_from must be unique")
    _fail_if(frame, (pl.col("mpf_rate") < 0) | (pl.col("hmf_rate") < 0)
             | (pl.col("mpf_rate") > 0.01) | (pl.col("hmf_rate") > 0.01),
             "rates must be fractions in [0, 0.01]")
    _fail_if(frame, (pl.col("mpf_min_usd") < 0) | (pl.col("mpf_min_usd") > pl.col("mpf_max_usd")),
             "0 <= mpf_min_usd <= mpf_max_usd")
    _fail_if(frame, ~pl.col("status").is_in([IN_FORCE_STATUS, ASSUMPTION_STATUS]),
             f"status must be {IN_FORCE_STATUS} or {ASSUMPTION_STATUS}")
    _fail_if(frame, pl.col("source").str.strip_chars().str.len_chars() == 0,
             "source must be non-empty")
    return frame.sort("effective_from")


def add_customs_fees(orders: pl.DataFrame, table: pl.DataFrame | None = None) -> pl.DataFrame:
    """``orders`` with the ``CUSTOMS_FEE_SCHEMA`` columns, in the same row order; ``table``
    defaults to the shipped one.

    ``orders`` needs ``tariff_origin``, ``import_date``, ``quantity``, ``customs_value_usd``
    (per unit) and ``shipped_by``. The row in force is the last one dated on or before the
    import date (the first row before it, flagged as an assumption). A plan has a handful of
    orders: plain arrays, no query to plan.
    """
    table = load_fee_table() if table is None else table
    row = np.searchsorted(table["effective_from"].to_numpy(), orders["import_date"].to_numpy(),
                          side="right") - 1
    before_table = row < 0
    row = np.maximum(row, 0)

    def in_force(name: str) -> np.ndarray:
        return table[name].to_numpy()[row]

    entered_usd = orders["customs_value_usd"].to_numpy() * orders["quantity"].to_numpy()
    imported = orders["tariff_origin"].to_numpy() != NOT_IMPORTED
    by_sea = np.isin(orders["shipped_by"].to_numpy(), HMF_MODES)
    mpf_usd = np.where(imported, np.clip(entered_usd * in_force("mpf_rate"),
                                         in_force("mpf_min_usd"), in_force("mpf_max_usd")), 0.0)
    hmf_usd = np.where(imported & by_sea, entered_usd * in_force("hmf_rate"), 0.0)
    assumed = imported & ((in_force("status") == ASSUMPTION_STATUS) | before_table)
    return orders.with_columns(
        mpf_usd=pl.Series(mpf_usd, dtype=pl.Float64),
        hmf_usd=pl.Series(hmf_usd, dtype=pl.Float64),
        customs_fees_usd=pl.Series(mpf_usd + hmf_usd, dtype=pl.Float64),
        customs_fee_assumption=pl.Series(assumed, dtype=pl.Boolean),
    )


def import_discount(orders: pl.DataFrame, start_date: dt.date, annual_rate: float) -> np.ndarray:
    """[orders]: what USD 1 paid on each order's import date is worth on day 0 (discounted, or
    carried forward before the start, as the payment schedule does). Per-unit figures read a
    one-unit order's merchandise processing fee, paid per entry rather than per unit, back
    out with it (``fleetcalc.candidates``, ``fleetcalc.rank``)."""
    days = (orders["import_date"] - start_date).dt.total_days().to_numpy()
    return (1.0 + annual_rate) ** (-days / 365.0)
