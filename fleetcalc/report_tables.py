"""The report's tables, built once from ``Results`` and the metric catalogue for both
``fleetcalc.report_excel`` (xlsxwriter) and ``fleetcalc.report_html`` (Altair charts
rendered to inline SVG).

Optional sections (sensitivity, optimiser) are given as frames in ``Extras``; a section whose
frame is None is left out of the report with a note saying how to get it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from fleetcalc import metrics
from fleetcalc.errors import InputError
from fleetcalc.frames import CUMULATIVE_CASH, DAILY_LEVEL_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fleetcalc.engine import Results
    from fleetcalc.sensitivity import Tornado

REPORT_FORMATS = (".xlsx", ".html")
# Daily columns that are levels (a state on the day), not flows: a month shows their mean (or,
# for the running total, the month's last value) instead of their sum.
MISSING_SECTION = {
    "sensitivity": ("Sensitivity not in this report: `fleetcalc report --sensitivity` adds "
                    "each plan's tornado."),
    "optimiser": ("Optimiser not run: `fleetcalc report --optimize CANDIDATES.toml` adds what "
                  "the optimum buys; `fleetcalc optimize --out` writes its plan."),
}


@dataclass(frozen=True)
class Extras:
    """Sections computed outside the evaluation; None leaves the section out with a note."""

    sensitivity: pl.DataFrame | None = None  # ``sensitivity_table``: a row per plan and input
    optimiser: pl.DataFrame | None = None  # ``optimiser_table``: a row per candidate bought


def report_format(path: str | Path) -> str:
    """'.xlsx' or '.html' from ``path``'s extension; InputError for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in REPORT_FORMATS:
        raise InputError("command line", "--out", str(path),
                         "a file name ending in " + " or ".join(REPORT_FORMATS))
    return suffix


@dataclass(frozen=True)
class SummaryRow:
    """One row of the summary: label, the metric's format code, the plans' values as in
    ``compare --json`` (None: does not exist) and which plan is best (None: no ranking)."""

    label: str
    fmt: str
    values: tuple[Any, ...]
    best: int | None


def summary_rows(results: Results) -> list[SummaryRow]:
    """The compare table's rows (P10/P50/P90 with Monte Carlo), values from the JSON records,
    so that every number in a report equals ``compare --json``."""
    records = results.records()
    rows = []
    for row in metrics.compare_rows(results.scenario.paths):
        values = tuple(record[row.column] for record in records)
        fmt = row.metric.fmt or "usd"
        rows.append(SummaryRow(row.label, fmt, values, metrics.best_index(values,
                                                                         row.metric.better)))
    return rows


def plan_names(results: Results) -> list[str]:
    return results.summary["plan"].to_list()


def orders_table(results: Results) -> pl.DataFrame:
    """One row per order and tariff program in force: landed cost, rate, legal basis, source."""
    from fleetcalc.tariffs import apply_overrides, load_schedule

    schedule = apply_overrides(load_schedule(), results.scenario.tariff_overrides)
    basis = schedule.select("program", "legal_basis").unique("program", keep="first")
    orders = results.orders.select(
        "plan", "order_index", "model", "quantity", "origin", "tariff_origin", "import_date",
        "customs_value_usd", "landed_cost_usd", "tariffs_usd")
    lines = results.tariff_lines.select(
        "plan", "order_index", "program", "rate", "status", "tariff_usd", "source")
    return (orders.join(lines, on=["plan", "order_index"], how="left")
            .join(basis, on="program", how="left")
            .select("plan", "order_index", "model", "quantity", "origin", "tariff_origin",
                    "import_date", "customs_value_usd", "landed_cost_usd", "tariffs_usd",
                    "program", "rate", "tariff_usd", "status", "legal_basis", "source")
            .sort("plan", "order_index", maintain_order=True))


def monthly_cash(results: Results) -> pl.DataFrame:
    """Per plan and month: every flow column of ``daily`` summed (revenue, energy, repairs,
    capex and payments, and debt and tax where the engine models them), the cumulative cash
    at the month's end."""
    daily = results.daily
    flows = [name for name, dtype in daily.schema.items() if dtype == pl.Float64
             and name not in DAILY_LEVEL_COLUMNS and name != CUMULATIVE_CASH]
    return (daily.with_columns(month=pl.col("date").dt.truncate("1mo"))
            .group_by("plan", "month", maintain_order=True)
            .agg(*(pl.col(name).sum() for name in flows), pl.col(CUMULATIVE_CASH).last()))


def monthly_market(results: Results) -> pl.DataFrame:
    """The scenario's market per month (means over the month and over paths)."""
    return (results.market.with_columns(month=pl.col("date").dt.truncate("1mo"))
            .group_by("month", maintain_order=True)
            .agg(pl.col("price_usd", "hashrate_ehs", "difficulty",
                        "hashprice_usd_per_ph_day").mean()))


def assumptions_table(results: Results) -> pl.DataFrame:
    """Every assumption, unverified input and warning the numbers rest on, one per row."""
    from fleetcalc.plan_metrics import added_assumptions
    from fleetcalc.tariffs import ASSUMPTION_CAVEAT

    rows = [("scenario assumption", "all", text) for text in results.scenario.assumptions]
    for record in results.records():
        # What the plan adds to the scenario's (payment terms left out, customs fees, power
        # prices repeated by calendar year, 4CP peaks, ...), as `compare` prints it.
        added = added_assumptions(record["assumptions"], results.scenario)
        if added:
            rows.append(("plan assumption", record["plan"], added))
        if record["tariff_assumption"]:
            rows.append(("tariff assumption", record["plan"], ASSUMPTION_CAVEAT))
        rows += [("warning", record["plan"], text) for text in record["warnings"] or ()]
        if record["missing_metrics"]:
            rows.append(("missing metric", record["plan"], record["missing_metrics"]))
    rows.append(("scenario", "all", f"{results.scenario.name}: start "
                 f"{results.scenario.start_date}, {results.scenario.horizon_days:,} days, "
                 f"{results.scenario.paths:,} path(s), seed {results.scenario.seed}"))
    return pl.DataFrame(rows, schema={"kind": pl.String(), "plan": pl.String(),
                                      "text": pl.String()}, orient="row")


# The sensitivity table's numeric columns and the catalogue format each is shown in.
SENSITIVITY_FORMATS = {"base_npv_usd": "usd", "npv_low_usd": "usd", "npv_high_usd": "usd",
                       "swing_usd": "usd", "irr_low": "fraction_as_pct",
                       "irr_high": "fraction_as_pct"}


def sensitivity_table(tornadoes: Sequence[Tornado]) -> pl.DataFrame:
    """Every bar of every plan's tornado (``fleetcalc sensitivity``), largest swing first
    within a plan. NPVs, IRRs and swings are the numbers ``sensitivity --json`` prints; an
    input's low and high values are text in the input's own format (a price, a rate, a
    count), since one column holds inputs of different units."""
    from fleetcalc.metrics import format_value

    rows = [{"plan": result.plan, "input": bar.input, "label": bar.label,
             "low": format_value(bar.low, bar.fmt), "high": format_value(bar.high, bar.fmt),
             "low_change": bar.low_change, "high_change": bar.high_change,
             "base_npv_usd": result.base_npv_usd, "npv_low_usd": bar.npv_low_usd,
             "npv_high_usd": bar.npv_high_usd, "swing_usd": bar.swing_usd,
             "irr_low": bar.irr_low, "irr_high": bar.irr_high}
            for result in tornadoes for bar in result.bars]
    schema = {name: pl.String() for name in ("plan", "input", "label", "low", "high",
                                             "low_change", "high_change")}
    schema |= {name: pl.Float64() for name in SENSITIVITY_FORMATS}
    return pl.DataFrame(rows, schema=schema, orient="row")


# The optimiser table's columns (``optimize --json``'s quantities) and their formats.
OPTIMISER_FORMATS = {"candidate": "index", "units": "count", "landed_cost_usd_per_unit": "usd",
                     "npv_usd_per_unit": "usd", "power_kw_per_unit": "usd_cents",
                     "landed_cost_usd": "usd"}


def optimiser_table(report: dict[str, Any]) -> pl.DataFrame:
    """The candidates the optimum buys (``fleetcalc optimize --json``'s ``quantities`` with
    units > 0): units, per-unit landed cost, mean NPV and power, and the landed cost of all
    its units."""
    rows = [{**q, "landed_cost_usd": q["units"] * q["landed_cost_usd_per_unit"]}
            for q in report["quantities"] if q["units"] > 0]
    schema = {"candidate": pl.Int64(), "model_id": pl.String(), "origin": pl.String(),
              "units": pl.Int64(), "landed_cost_usd_per_unit": pl.Float64(),
              "npv_usd_per_unit": pl.Float64(), "power_kw_per_unit": pl.Float64(),
              "landed_cost_usd": pl.Float64()}
    return pl.DataFrame([{name: row[name] for name in schema} for row in rows],
                        schema=schema, orient="row")
