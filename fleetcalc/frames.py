"""The evaluation's last step: the frames of ``Results``, each with its schema declared here
and checked when it is made (a column missing, extra or of another type is an error).

``summary`` takes its schema from the metric catalogue (``fleetcalc.metrics``); ``orders`` and
``tariff_lines`` extend the schemas of the steps that priced the orders (``fleetcalc.fleet``,
``fleetcalc.tariffs``). Daily and per-order values are means over Monte Carlo paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from fleetcalc import metrics
from fleetcalc.cashflows import ORDER_TOTAL_COLUMNS, FleetArrays, KernelFlows
from fleetcalc.financing import FinancedFlows
from fleetcalc.fleet import ORDERS_SCHEMA
from fleetcalc.network import MarketPaths
from fleetcalc.plan import Site
from fleetcalc.scenario import Scenario
from fleetcalc.schedule import PAYMENT_SCHEMA
from fleetcalc.tariffs import LANDED_COST_SCHEMA, TARIFF_LINE_SCHEMA, LandedCosts
from kernels.protocol import HALVING_BLOCKS

Schema = dict[str, pl.DataType]
HOURS_PER_DAY = 24.0

# The plan's name in every frame: categorical, so it is stored once, not once per day or path
# (a name repeated in 1,826 daily rows made a 1 MB name a 2 GB frame). It compares, filters and
# joins like text; ``.cast(pl.String)`` makes it plain text.
PLAN_DTYPE = pl.Categorical()

DAILY_SCHEMA: Schema = {
    "plan": PLAN_DTYPE, "day": pl.Int64(), "date": pl.Date(), "hashrate_th": pl.Float64(),
    "power_w": pl.Float64(), "btc": pl.Float64(), "revenue_usd": pl.Float64(),
    "energy_cost_usd": pl.Float64(), "repair_cost_usd": pl.Float64(),
    "running_units": pl.Float64(), "capex_usd": pl.Float64(),
    "site_fixed_cost_usd": pl.Float64(), "cash_flow_usd": pl.Float64(),
    "cumulative_cash_usd": pl.Float64(), "price_usd": pl.Float64(),
    "hashprice_usd_per_ph_day": pl.Float64(),
    # The financing step's views (``fleetcalc.financing``): the unlevered project's income tax,
    # the equity's cash flow before and after its tax.
    "tax_usd": pl.Float64(), "equity_cash_flow_usd": pl.Float64(),
    "equity_cash_flow_after_tax_usd": pl.Float64(),
    # Power markets (0 for a plan on the daily path): their own cash-flow lines, the load drawn
    # in the day's 4CP peak hour and the hours run (a unit running 12 h counts 12).
    "sell_back_credit_usd": pl.Float64(), "transmission_usd": pl.Float64(),
    "peak_hour_load_w": pl.Float64(), "unit_hours_run": pl.Float64(),
}
# The daily columns that are levels (the day's state: a month shows their mean), not flows
# (a month shows their sum); ``CUMULATIVE_CASH`` is a running total (a month shows its last
# day). The report's monthly cash and the TUI's monthly table read this one list.
DAILY_LEVEL_COLUMNS = ("hashrate_th", "power_w", "running_units", "price_usd",
                       "hashprice_usd_per_ph_day", "peak_hour_load_w")
CUMULATIVE_CASH = "cumulative_cash_usd"
# Then one column of unit-days per operating mode the evaluation's orders run or allow
# (``mode_columns``), 0 for a plan that does not: a unit running 12 h in eco counts half a day.
UNIT_DAYS_PREFIX = "unit_days_"
# Per-order totals over the horizon (cashflows.ORDER_TOTAL_COLUMNS), means over paths.
ORDER_TOTALS_SCHEMA: Schema = {
    "btc_mined": pl.Float64(), "revenue_usd": pl.Float64(), "energy_cost_usd": pl.Float64(),
    "repairs_usd": pl.Float64(), "running_unit_days": pl.Float64(), "failures": pl.Float64(),
}
ORDERS_RESULT_SCHEMA: Schema = {
    **ORDERS_SCHEMA, **LANDED_COST_SCHEMA, **PAYMENT_SCHEMA, **ORDER_TOTALS_SCHEMA,
    "sell_back_credit_usd": pl.Float64(), "unit_hours_run": pl.Float64(), "plan": PLAN_DTYPE,
}  # then ``mode_columns``, as ``.daily``
TARIFF_LINES_SCHEMA: Schema = {**TARIFF_LINE_SCHEMA, "plan": PLAN_DTYPE}
PATHS_SCHEMA: Schema = {
    "plan": PLAN_DTYPE, "path": pl.Int64(),
    **{metric.name: pl.Float64() for metric in metrics.PATH_METRICS},
}
# One row per plan and site: the site's power price and capacity, then its own value of every
# metric the catalogue lists in its sites view (a per-path one summarised as in the summary).
SITE_METRICS: tuple[metrics.Metric, ...] = metrics.in_view(metrics.SITES)
SITES_SCHEMA: Schema = {
    "plan": pl.String(), "site": pl.String(), "energy_usd_per_kwh": pl.Float64(),
    "capacity_mw": pl.Float64(),
    **{metric.name: metrics.summary_schema(1)[metric.name] for metric in SITE_METRICS},
}
MARKET_SCHEMA: Schema = {
    "day": pl.Int64(), "date": pl.Date(), "price_usd": pl.Float64(),
    "hashrate_ehs": pl.Float64(), "difficulty": pl.Float64(), "blocks": pl.Float64(),
    "height": pl.Float64(), "subsidy_btc": pl.Float64(), "btc_per_th_day": pl.Float64(),
    "hashprice_usd_per_ph_day": pl.Float64(),
}

# One row per Monte Carlo path: the first halving within the horizon (null: none).
HALVINGS_SCHEMA: Schema = {
    "path": pl.Int64(), "halving_height": pl.Int64(), "halving_day": pl.Int64(),
    "halving_date": pl.Date(),
}


def mode_columns(mode_names: Sequence[str]) -> Schema:
    """The unit-days columns of ``.daily`` and ``.orders`` for these operating modes."""
    return {f"{UNIT_DAYS_PREFIX}{name}": pl.Float64() for name in mode_names}


def result_schemas(n_paths: int, mode_names: Sequence[str] = ("stock",)) -> dict[str, Schema]:
    """The schema of every frame of ``Results`` for an evaluation of ``n_paths`` paths whose
    orders run or allow ``mode_names`` (in order of first appearance)."""
    modes = mode_columns(mode_names)
    return {
        "summary": metrics.summary_schema(n_paths), "daily": {**DAILY_SCHEMA, **modes},
        "orders": {**ORDERS_RESULT_SCHEMA, **modes}, "tariff_lines": TARIFF_LINES_SCHEMA,
        "paths": PATHS_SCHEMA, "market": MARKET_SCHEMA, "halvings": HALVINGS_SCHEMA,
        "sites": SITES_SCHEMA,
    }


def conform(frame: pl.DataFrame, schema: Schema, name: str) -> pl.DataFrame:
    """``frame`` with its columns in the schema's order; an error if they differ from it."""
    if dict(frame.schema) != schema:
        got, want = dict(frame.schema), schema
        diff = sorted(set(got.items()) ^ set(want.items()), key=str)
        raise TypeError(f"the {name} frame does not match its declared schema: {diff}")
    names = list(schema)
    return frame if frame.columns == names else frame.select(names)


@dataclass(frozen=True)
class PlanFrames:
    """One plan's rows of the result frames (the summary as one row's values)."""

    summary: dict[str, Any]
    daily: pl.DataFrame
    orders: pl.DataFrame
    tariff_lines: pl.DataFrame
    paths: pl.DataFrame
    sites: pl.DataFrame
    mode_names: tuple[str, ...] = ("stock",)  # the modes of its unit-days columns


def _plan_column(plan_name: str, n_rows: int) -> pl.Series:
    """The plan's name as ``n_rows`` rows of a categorical column (one copy of the text)."""
    return pl.Series("plan", [plan_name], dtype=PLAN_DTYPE).new_from_index(0, n_rows)


def _dates(scenario: Scenario) -> pl.Series:
    return pl.date_range(scenario.start_date, scenario.end_date, "1d", eager=True, closed="left")


def summary_row(
    fixed: Mapping[str, Any], path_values: Mapping[str, np.ndarray], n_paths: int,
    breakevens: bool, percentiles: bool = True,
) -> dict[str, Any]:
    """The plan's summary: fixed metrics, the per-path metrics summarised as the catalogue
    declares, the probability of payback and the reason for every missing value."""
    row = {**fixed, **metrics.summarise(path_values, n_paths, percentiles)}
    row["payback_probability"] = float(np.isfinite(path_values["payback_days"]).mean())
    row["missing_metrics"] = metrics.missing_metrics(row, n_paths, breakevens, path_values,
                                                     percentiles)
    return row


def daily_frame(
    plan_name: str, scenario: Scenario, market: MarketPaths, fleet: FleetArrays,
    flows: KernelFlows, cash_usd: np.ndarray, financed: FinancedFlows,
) -> pl.DataFrame:
    n_days = scenario.horizon_days
    cash_mean = cash_usd.mean(axis=0)
    running_units = flows.running_units.mean(axis=0)
    power = flows.power
    zeros = np.zeros(n_days)
    unit_days = flows.unit_days_by_mode().mean(axis=0)
    schema = {**DAILY_SCHEMA, **mode_columns(flows.mode_names)}
    frame = pl.DataFrame({
        "plan": _plan_column(plan_name, n_days), "day": np.arange(n_days),
        "date": _dates(scenario),
        "hashrate_th": flows.hashrate_th.mean(axis=0), "power_w": flows.power_w.mean(axis=0),
        "btc": flows.btc.mean(axis=0), "revenue_usd": flows.revenue_usd.mean(axis=0),
        "energy_cost_usd": flows.energy_cost_usd.mean(axis=0),
        "repair_cost_usd": flows.repair_cost_usd.mean(axis=0),
        "running_units": running_units, "capex_usd": fleet.capex_by_day_usd,
        "site_fixed_cost_usd": fleet.site.fixed_by_day_usd,
        "cash_flow_usd": cash_mean, "cumulative_cash_usd": np.cumsum(cash_mean),
        "price_usd": market.price_usd.mean(axis=0),
        "hashprice_usd_per_ph_day": market.hashprice_usd_per_ph_day.mean(axis=0),
        "tax_usd": financed.tax_usd.mean(axis=0),
        "equity_cash_flow_usd": financed.equity_usd.mean(axis=0),
        "equity_cash_flow_after_tax_usd": financed.equity_after_tax_usd.mean(axis=0),
        "sell_back_credit_usd": zeros if power is None else power.sell_back_credit_usd.mean(0),
        "transmission_usd": zeros if power is None else power.transmission_usd.mean(axis=0),
        "peak_hour_load_w": zeros if power is None else power.peak_hour_load_w.mean(axis=0),
        "unit_hours_run": running_units * HOURS_PER_DAY,
        **{name: unit_days[i] for i, name in enumerate(mode_columns(flows.mode_names))},
    }, schema=schema)
    return conform(frame, schema, "daily")


def orders_result(plan_name: str, landed: LandedCosts, flows: KernelFlows) -> pl.DataFrame:
    """The priced orders with their payments (``fleetcalc.schedule.with_payments``), their
    totals over the horizon, sell-back credits, hours run and unit-days per mode."""
    means = flows.order_totals.mean(axis=0)
    n_orders = landed.per_order.height
    unit_days = flows.order_unit_days_by_mode().mean(axis=0)
    credits = (np.zeros(n_orders) if flows.power is None
               else flows.power.order_credit_usd.mean(axis=0))
    modes = mode_columns(flows.mode_names)
    totals = pl.DataFrame({
        "order_index": np.arange(n_orders),
        **{name: means[:, i] for i, name in enumerate(ORDER_TOTAL_COLUMNS)},
        "sell_back_credit_usd": credits,
        "unit_hours_run": means[:, ORDER_TOTAL_COLUMNS.index("running_unit_days")]
        * HOURS_PER_DAY,
        **{name: unit_days[:, i] for i, name in enumerate(modes)},
    })
    frame = (landed.per_order.join(totals, on="order_index", how="left")
             .with_columns(pl.lit(plan_name, PLAN_DTYPE).alias("plan")))
    return conform(frame, {**ORDERS_RESULT_SCHEMA, **modes}, "orders")


def _with_modes(frame: pl.DataFrame, schema: Schema, name: str) -> pl.DataFrame:
    """A plan's rows with 0 unit-days in the evaluation's modes the plan does not run."""
    absent = [pl.lit(0.0).alias(column) for column in schema if column not in frame.columns]
    return conform(frame.with_columns(absent) if absent else frame, schema, name)


def tariff_lines_frame(plan_name: str, landed: LandedCosts) -> pl.DataFrame:
    frame = landed.per_program.with_columns(pl.lit(plan_name, PLAN_DTYPE).alias("plan"))
    return conform(frame, TARIFF_LINES_SCHEMA, "tariff_lines")


def paths_frame(plan_name: str, path_values: Mapping[str, np.ndarray]) -> pl.DataFrame:
    n_paths = len(path_values["npv_usd"])
    frame = pl.DataFrame({
        "plan": _plan_column(plan_name, n_paths), "path": np.arange(n_paths),
        **{metric.name: path_values[metric.name] for metric in metrics.PATH_METRICS},
    })
    return conform(frame, PATHS_SCHEMA, "paths")


def sites_frame(
    plan_name: str, sites: Sequence[tuple[Site, Mapping[str, Any], Mapping[str, np.ndarray]]],
) -> pl.DataFrame:
    """One row per site from each site's fixed and per-path metrics (``fixed_metrics``,
    ``path_metrics`` of the site as a one-site plan)."""
    rows = []
    for site, fixed, path_values in sites:
        values = {**fixed, **{m.name: metrics.headline(m, path_values)
                              for m in SITE_METRICS if m.per_path}}
        rows.append({"plan": plan_name, "site": site.name,
                     "energy_usd_per_kwh": site.energy_usd_per_kwh,
                     "capacity_mw": site.capacity_mw,
                     **{m.name: values[m.name] for m in SITE_METRICS}})
    return conform(pl.DataFrame(rows, schema=SITES_SCHEMA), SITES_SCHEMA, "sites")


def market_frame(scenario: Scenario, market: MarketPaths) -> pl.DataFrame:
    """The scenario's market per day (mean over paths)."""
    frame = pl.DataFrame({
        "day": np.arange(market.n_days), "date": _dates(scenario),
        **{name: getattr(market, name).mean(axis=0) for name in MARKET_SCHEMA
           if name not in ("day", "date")},
    })
    return conform(frame, MARKET_SCHEMA, "market")


def halvings_frame(scenario: Scenario, market: MarketPaths) -> pl.DataFrame:
    """Per path, the next halving after the start height and the day it falls on."""
    height = (scenario.network.block_height // HALVING_BLOCKS + 1) * HALVING_BLOCKS
    day = pl.Series("halving_day", market.halving_day, pl.Int64)
    day = pl.when(day >= 0).then(day)
    frame = pl.DataFrame({"path": np.arange(market.n_paths)}).with_columns(
        halving_height=pl.lit(height, pl.Int64), halving_day=day,
        halving_date=pl.lit(scenario.start_date) + pl.duration(days=day),
    )
    return conform(frame, HALVINGS_SCHEMA, "halvings")


def result_frames(
    parts: Sequence[PlanFrames], scenario: Scenario, market: MarketPaths,
) -> dict[str, pl.DataFrame]:
    """Every plan's rows stacked into the frames of ``Results``, each checked."""
    schema = metrics.summary_schema(market.n_paths)
    for part in parts:
        if set(part.summary) != set(schema):
            diff = sorted(set(part.summary) ^ set(schema))
            raise TypeError(f"the summary row does not match its declared schema: {diff}")
    modes = tuple(dict.fromkeys(name for part in parts for name in part.mode_names))
    frames = result_schemas(market.n_paths, modes)
    return {
        "summary": pl.DataFrame([part.summary for part in parts], schema=schema),
        "daily": pl.concat([_with_modes(part.daily, frames["daily"], "daily")
                            for part in parts]),
        "orders": pl.concat([_with_modes(part.orders, frames["orders"], "orders")
                             for part in parts]),
        "tariff_lines": pl.concat([part.tariff_lines for part in parts]),
        "paths": pl.concat([part.paths for part in parts]),
        "market": market_frame(scenario, market),
        "halvings": halvings_frame(scenario, market),
        "sites": pl.concat([part.sites for part in parts]),
    }
