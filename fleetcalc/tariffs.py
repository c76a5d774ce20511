"""Dated US tariff schedule for ASIC miners (HTS 8543.70.99) and the landed cost of orders.

The schedule is data (``fleetcalc/data/tariffs.csv``): rows of (origin, program, rate,
effective_from, effective_to inclusive, legal_basis, status, source). Programs in force on the
import date stack: the duty rate of an order is the sum of the rates of every row of its origin
that covers that date. Origin ``*`` holds the rows of every origin that has no rows of its own
(MFN and the all-country programs), so a listed origin repeats those programs in its own rows.

Status is ``in_force`` (sourced), ``assumption`` (the reference marks it uncertain) or
``override`` (added by a scenario); results flag any order priced with an assumption
(``tariff_assumption``) and carry ``ASSUMPTION_CAVEAT``. Every imported origin's rows in force
from ``ASSUMED_FROM`` (2026-07-24, the day after Section 122 expired) are assumptions: the
reference rates that regime low confidence while a Section 301 forced-labor action is pending.
Its proposed rates ship as an optional scenario fragment, ``SECTION_301_FORCED_LABOR``, read with
``fleetcalc.scenario.load_tariff_overrides``.

``price_orders`` is the evaluation's landed-cost step: per-order landed cost (with the customs
fees of ``fleetcalc.customs_fees``), the programs in force per order, and the origin-risk duty
(the scenario's ``OriginRisk`` rule).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import polars as pl

from fleetcalc.catalog import DataFileError, read_data_csv
from fleetcalc.customs_fees import CUSTOMS_FEE_SCHEMA, add_customs_fees
from fleetcalc.validate import ISO_3166_ALPHA2, checked

ANY_ORIGIN = "*"
# The schedule is US import duty: a unit built in the US is not imported.
IMPORTING_COUNTRY = "US"
SHIPPED_STATUSES = ("in_force", "assumption")
ASSUMPTION_STATUS = "assumption"
OVERRIDE_STATUS = "override"

# Section 122 ended with entries of 2026-07-23; from the next day the reference has no verified
# regime ("low confidence, treat as scenario input"), so every shipped row for an imported origin
# in force from this date on has status ASSUMPTION_STATUS (a US-made rig is no import: its row
# stays in force).
ASSUMED_FROM = dt.date(2026, 7, 24)
# Shown with every result that used an assumption row. Both assumption windows of the shipped
# schedule are named (tests check them against the data); no "; " inside, as the assumption
# lists of results are joined with it.
ASSUMPTION_CAVEAT = (
    "tariff rates are assumptions for imports from 2026-07-24 on (Section 122 expired "
    "2026-07-23 and the Section 301 forced-labor duties of 10-12.5% proposed on 2026-06-02 are "
    "pending, not in the shipped rates: add them with "
    "fleetcalc/data/overrides/section301_forced_labor.toml) and for origins without their own "
    "rows from 2025-08-07 to 2026-02-23 (10% reciprocal baseline assumed)"
)
# Optional scenario fragment with the proposed forced-labor rates
# (read by fleetcalc.scenario.load_tariff_overrides).
SECTION_301_FORCED_LABOR = "section301_forced_labor.toml"

TARIFF_SCHEMA: dict[str, pl.DataType] = {
    "origin": pl.String(),  # ISO 3166 alpha-2, or ANY_ORIGIN
    "program": pl.String(),
    "rate": pl.Float64(),  # fraction of customs value: 0.026 is 2.6 %
    "effective_from": pl.Date(),
    "effective_to": pl.Date(),  # inclusive; null = open-ended
    "legal_basis": pl.String(),
    "status": pl.String(),
    "source": pl.String(),
}

# Columns landed_costs reads from an order; values are per unit except quantity.
ORDER_TARIFF_SCHEMA: dict[str, pl.DataType] = {
    "order_index": pl.Int64(),
    "tariff_origin": pl.String(),
    "import_date": pl.Date(),
    "quantity": pl.Int64(),
    "customs_value_usd": pl.Float64(),
    "freight_usd": pl.Float64(),
    "install_usd": pl.Float64(),
    "hashrate_th": pl.Float64(),
}

# Columns price_orders adds to each order (landed_costs all but the customs fees).
LANDED_COST_SCHEMA: dict[str, pl.DataType] = {
    **CUSTOMS_FEE_SCHEMA,
    "tariff_rate": pl.Float64(),  # sum of the rates in force, fraction of customs value
    "tariff_assumption": pl.Boolean(),  # a row used has status ``assumption``
    "tariffs_usd_per_unit": pl.Float64(),
    "tariffs_usd": pl.Float64(),
    "landed_cost_usd_per_unit": pl.Float64(),
    "landed_cost_usd": pl.Float64(),
    "landed_usd_per_th": pl.Float64(),
}
# One row per order and program in force (``landed_costs``' second frame).
TARIFF_LINE_SCHEMA: dict[str, pl.DataType] = {
    "order_index": pl.Int64(),
    "program": pl.String(),
    "rate": pl.Float64(),
    "status": pl.String(),
    "source": pl.String(),
    "tariff_usd_per_unit": pl.Float64(),
    "tariff_usd": pl.Float64(),
}

# A program name, in the shipped schedule and in a scenario's tariff_overrides alike.
_PROGRAM = re.compile(r"^[a-z0-9_]+$")


def _fail_if(frame: pl.DataFrame, bad: pl.Expr, rule: str) -> None:
    offenders = frame.filter(bad.fill_null(True))
    if offenders.height:
        rows = offenders.select("origin", "program", "effective_from").rows()
        raise DataFileError(f"tariffs.csv: {rule}; offending (origin, program, from): {rows}")


def _validate_schedule(frame: pl.DataFrame) -> None:
    _fail_if(frame, ~pl.col("origin").is_in([*ISO_3166_ALPHA2, ANY_ORIGIN]),
             "origin must be an ISO alpha-2 code or '*'")
    _fail_if(frame, ~pl.col("program").str.contains(_PROGRAM.pattern),
             "program must be a snake_case name")
    _fail_if(frame, pl.col("rate") < 0, "rate must be >= 0")
    _fail_if(frame, pl.col("effective_from").is_null(), "effective_from is required")
    # A null effective_to is open-ended, not an error.
    _fail_if(frame, (pl.col("effective_to") < pl.col("effective_from")).fill_null(False),
             "effective_to must be on or after effective_from")
    _fail_if(frame, ~pl.col("status").is_in(SHIPPED_STATUSES),
             f"status must be one of {SHIPPED_STATUSES}")
    _fail_if(frame, pl.col("source").str.strip_chars().str.len_chars() == 0,
             "source must be non-empty")
    # Rows of one (origin, program) must not overlap, or a program would be charged twice.
    ordered = frame.sort("origin", "program", "effective_from")
    previous_to = pl.col("effective_to").shift(1).over("origin", "program")
    is_first = pl.col("effective_from").cum_count().over("origin", "program") == 1
    overlaps = ~is_first & (previous_to.is_null() | (previous_to >= pl.col("effective_from")))
    overlaps = overlaps.fill_null(False)
    _fail_if(ordered, overlaps, "rows of one (origin, program) must not overlap")


@functools.cache
def load_schedule() -> pl.DataFrame:
    """The shipped tariff schedule, schema ``TARIFF_SCHEMA``, validated."""
    frame = read_data_csv("tariffs.csv", TARIFF_SCHEMA)
    _validate_schedule(frame)
    return frame


@dataclass(frozen=True)
class TariffOverride:
    """A scenario's tariff row.

    It replaces, from ``effective_from`` on, every row of the same (origin, program) whose
    interval overlaps its own (that row's ``effective_to`` becomes ``effective_from - 1 day``; a
    row with nothing left is dropped); with no such row it simply stacks on the others.
    """

    origin: str = checked("origin")
    program: str = checked("str", pattern=_PROGRAM,
                           pattern_words="a snake_case program name like 'reciprocal' or "
                                         "'section_301'")
    rate: float = checked("float", lo=0.0, hi=10.0)
    effective_from: dt.date = checked("date")
    effective_to: dt.date | None = checked("date", None)


def _override_row(override: TariffOverride) -> pl.DataFrame:
    return pl.DataFrame(
        [{
            "origin": override.origin, "program": override.program, "rate": override.rate,
            "effective_from": override.effective_from, "effective_to": override.effective_to,
            "legal_basis": "scenario override", "status": OVERRIDE_STATUS,
            "source": "scenario tariff_overrides",
        }],
        schema=TARIFF_SCHEMA,
    )


def apply_overrides(schedule: pl.DataFrame, overrides: Sequence[TariffOverride]) -> pl.DataFrame:
    """``schedule`` with ``overrides`` applied in order (a later one wins where they overlap).

    An override for an origin that has no rows of its own first copies the ``*`` rows to that
    origin: otherwise its single row would hide MFN and the all-country programs that origin
    was paying, and "add 15 % on DE" would lower DE's duty.
    """
    result = schedule.select(pl.col(name).cast(dtype) for name, dtype in TARIFF_SCHEMA.items())
    # Overrides are a handful of scenario lines, so one vectorised pass per override is cheap.
    for override in overrides:
        if override.rate < 0:
            raise ValueError(f"tariff override rate must be >= 0, got {override.rate}")
        if override.effective_to is not None and override.effective_to < override.effective_from:
            raise ValueError(f"tariff override ends {override.effective_to} before it starts "
                             f"{override.effective_from}")
        has_own_rows = (result["origin"] == override.origin).any()
        if override.origin != ANY_ORIGIN and not has_own_rows:
            inherited = result.filter(pl.col("origin") == ANY_ORIGIN)
            result = pl.concat([result, inherited.with_columns(origin=pl.lit(override.origin))])
        overlaps = (
            (pl.col("origin") == override.origin)
            & (pl.col("program") == override.program)
            & (pl.col("effective_to").is_null()
               | (pl.col("effective_to") >= override.effective_from))
        )
        if override.effective_to is not None:
            overlaps &= pl.col("effective_from") <= override.effective_to
        cut_to = override.effective_from - dt.timedelta(days=1)
        result = (
            result.with_columns(
                effective_to=pl.when(overlaps).then(pl.lit(cut_to)).otherwise("effective_to")
            )
            .filter(pl.col("effective_to").is_null()
                    | (pl.col("effective_to") >= pl.col("effective_from")))
        )
        result = pl.concat([result, _override_row(override)])
    return result


def shipped_overrides_path(name: str = SECTION_301_FORCED_LABOR) -> Path:
    """Where the shipped overrides file ``name`` (in ``fleetcalc/data/overrides``) lives."""
    return Path(str(files("fleetcalc").joinpath("data", "overrides", name)))


def _in_force_on(on: pl.Expr) -> pl.Expr:
    return (pl.col("effective_from") <= on) & (
        pl.col("effective_to").is_null() | (pl.col("effective_to") >= on)
    )


def _with_duty_origin(keys: pl.LazyFrame, schedule: pl.DataFrame) -> pl.LazyFrame:
    """Add ``_duty_origin``: ``tariff_origin`` if it has rows of its own, else ``*``."""
    own = (
        schedule.lazy()
        .filter(pl.col("origin") != ANY_ORIGIN)
        .select(pl.col("origin").unique().alias("tariff_origin"), _own=pl.lit(True))
    )
    return keys.join(own, on="tariff_origin", how="left", maintain_order="left").with_columns(
        _duty_origin=pl.when(pl.col("_own")).then("tariff_origin").otherwise(pl.lit(ANY_ORIGIN))
    ).drop("_own")


def _rows_in_force(keys: pl.LazyFrame, schedule: pl.DataFrame) -> pl.LazyFrame:
    """Every schedule row in force for each key row (``tariff_origin`` on ``import_date``)."""
    return (
        keys.pipe(_with_duty_origin, schedule)
        .join(schedule.lazy(), left_on="_duty_origin", right_on="origin", how="inner")
        .rename({"_duty_origin": "origin"})
        .filter(_in_force_on(pl.col("import_date")))
    )


def stack_on(schedule: pl.DataFrame, origin: str, on: dt.date) -> pl.DataFrame:
    """The rows in force for ``origin`` on ``on`` (its own rows, or the ``*`` rows if it has
    none), sorted by program, with the ``TARIFF_SCHEMA`` columns."""
    key = pl.LazyFrame({"tariff_origin": [origin], "import_date": [on]},
                       schema={"tariff_origin": pl.String(), "import_date": pl.Date()})
    return (
        _rows_in_force(key, schedule)
        .select(list(TARIFF_SCHEMA))
        .sort("program", "effective_from")
        .collect()
    )


def _checked_orders(orders: pl.LazyFrame) -> pl.LazyFrame:
    missing = [name for name in ORDER_TARIFF_SCHEMA if name not in orders.collect_schema()]
    if missing:
        raise ValueError(f"landed_costs: orders lack columns {missing}")
    return orders.with_columns(
        pl.col(name).cast(dtype, strict=True) for name, dtype in ORDER_TARIFF_SCHEMA.items()
    )


def landed_costs(
    orders: pl.LazyFrame, schedule: pl.DataFrame
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Duty and landed cost of each order; returns ``(per_order, per_program)``.

    ``orders`` needs the ``ORDER_TARIFF_SCHEMA`` columns (one row per ``order_index``; money
    per unit). ``per_program`` has one row per program in force for an order's
    ``tariff_origin`` on its ``import_date``; ``per_order`` keeps every input column and order
    (an order with no program in force pays no duty) and adds ``tariff_rate``,
    ``tariffs_usd_per_unit``, ``tariffs_usd``, ``landed_cost_usd_per_unit`` (customs value x
    (1 + tariff_rate) + freight + install), ``landed_cost_usd``, ``landed_usd_per_th`` and
    ``tariff_assumption`` (a row used has status ``assumption``).
    """
    orders = _checked_orders(orders)
    keys = orders.select("order_index", "tariff_origin", "import_date", "quantity",
                         "customs_value_usd")
    tariff_usd_per_unit = pl.col("customs_value_usd") * pl.col("rate")
    per_program = (
        _rows_in_force(keys, schedule)
        .select(
            "order_index", "program", "rate", "status", "source",
            tariff_usd_per_unit=tariff_usd_per_unit,
            tariff_usd=tariff_usd_per_unit * pl.col("quantity"),
        )
        .sort("order_index", "program")
    )
    totals = per_program.group_by("order_index").agg(
        tariff_rate=pl.col("rate").sum(),
        tariff_assumption=(pl.col("status") == ASSUMPTION_STATUS).any(),
    )
    tariffs_usd_per_unit = pl.col("customs_value_usd") * pl.col("tariff_rate")
    landed_usd_per_unit = (
        pl.col("customs_value_usd") + pl.col("tariffs_usd_per_unit")
        + pl.col("freight_usd") + pl.col("install_usd")
    )
    per_order = (
        orders.join(totals, on="order_index", how="left", maintain_order="left")
        .with_columns(
            pl.col("tariff_rate").fill_null(0.0),
            pl.col("tariff_assumption").fill_null(False),
        )
        .with_columns(tariffs_usd_per_unit=tariffs_usd_per_unit)
        .with_columns(
            tariffs_usd=pl.col("tariffs_usd_per_unit") * pl.col("quantity"),
            landed_cost_usd_per_unit=landed_usd_per_unit,
        )
        .with_columns(
            landed_cost_usd=pl.col("landed_cost_usd_per_unit") * pl.col("quantity"),
            landed_usd_per_th=pl.col("landed_cost_usd_per_unit") / pl.col("hashrate_th"),
        )
    )
    return per_order, per_program


@dataclass(frozen=True)
class OriginRisk:
    """Origin risk: customs has claimed Chinese origin for SE-Asian-assembled units.

    Besides its duty, a plan reports the duty it would owe if every order were deemed of
    origin ``deemed`` on its import date; US-assembled orders are not imported and keep their
    origin unless ``us_assembled_deemed``. The defaults are the rule fleetcalc has always used.
    """

    deemed: str = checked("origin", "CN")
    us_assembled_deemed: bool = checked("bool", False)


def deemed_origin(risk: OriginRisk) -> pl.Expr:
    """The origin customs would claim for each order (from its ``origin``) under ``risk``."""
    if risk.us_assembled_deemed:
        return pl.lit(risk.deemed)
    return (pl.when(pl.col("origin") == IMPORTING_COUNTRY).then(pl.lit(IMPORTING_COUNTRY))
            .otherwise(pl.lit(risk.deemed)))


@dataclass(frozen=True)
class LandedCosts:
    """The landed-cost step's output for one plan."""

    per_order: pl.DataFrame  # the orders with the LANDED_COST_SCHEMA columns added
    per_program: pl.DataFrame  # TARIFF_LINE_SCHEMA: every program in force per order
    origin_risk_tariffs_usd: float  # the plan's duty with every order's origin deemed


def price_orders(orders: pl.DataFrame, schedule: pl.DataFrame, risk: OriginRisk) -> LandedCosts:
    """Landed cost and tariff lines of every order, and the duty under origin risk.

    The landed cost includes the order's customs fees (MPF and HMF, paid per entry: see
    ``fleetcalc.customs_fees``); ``orders`` also needs ``shipped_by`` for them.
    """
    per_order, per_program = landed_costs(orders.lazy(), schedule)
    deemed = orders.lazy().with_columns(deemed_origin(risk).alias("tariff_origin"))
    risk_total = landed_costs(deemed, schedule)[0].select(pl.col("tariffs_usd").sum())
    # One collect_all: polars plans the three queries together instead of three round trips.
    per_order_frame, per_program_frame, risk_frame = pl.collect_all(
        [per_order, per_program, risk_total])
    per_order_frame = add_customs_fees(per_order_frame).with_columns(
        landed_cost_usd=pl.col("landed_cost_usd") + pl.col("customs_fees_usd"),
        # Spread per unit as fee / quantity, so a fee-free order keeps its per-unit cost exactly.
        landed_cost_usd_per_unit=pl.col("landed_cost_usd_per_unit")
        + pl.col("customs_fees_usd") / pl.col("quantity"),
    ).with_columns(landed_usd_per_th=pl.col("landed_cost_usd_per_unit") / pl.col("hashrate_th"))
    return LandedCosts(per_order_frame, per_program_frame, float(risk_frame.item()))
