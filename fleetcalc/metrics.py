"""The metric catalogue: every column of the result summary, declared once.

Each ``Metric`` says what the column is (name, label, unit, type), how it is shown (number
format, which of higher or lower is better, the views that list it), whether it varies by
Monte Carlo path and how the paths are summarised, and why it may be missing. The engine's
summary row and schema, ``compare``'s table and ``--json``, the TUI's tables and distribution
view and the README's schema table are all read from ``METRICS``; number formats are read
from ``FORMATS`` by the CLI and the TUI alike.

``python -m fleetcalc.metrics --readme`` rewrites the README's schema table from the catalogue
(a test checks the two agree).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

PERCENTILES = (10, 50, 90)

# How Monte Carlo paths summarise into the summary's plain column. Read in one place only
# (``headline``), so a change of rule is a change of a metric's declared ``summary`` kind.
FIXED = "fixed"  # one value per plan (nameplate, capex, counts, text): no summary over paths
MEAN_WHERE_FINITE = "mean_where_finite"  # mean over the paths where the metric exists
SUMMARY_KINDS = (FIXED, MEAN_WHERE_FINITE)
SUMMARY_WORDS = {
    FIXED: "one value per plan",
    MEAN_WHERE_FINITE: "mean over the paths where it exists; also `_p10`, `_p50`, `_p90`",
}

# What a view of the results lists.
COMPARE = "compare"  # the compare table (CLI and TUI) and the editor's results panel
DISTRIBUTION = "distribution"  # the TUI's Monte Carlo view: P10/P50/P90 per plan


@dataclass(frozen=True)
class NumberFormat:
    """How a number reads: ``format(value / divide_by, spec)``; ``missing`` for NaN/None."""

    spec: str
    divide_by: float = 1.0
    missing: str = "n/a"
    whole: bool = False  # a count: a change is exact, never "too small to show"


# The one table of number formats; each code names the unit shown where it scales.
FORMATS: dict[str, NumberFormat] = {
    "count": NumberFormat(",.0f", whole=True),
    "index": NumberFormat(".0f", whole=True),
    "usd": NumberFormat(",.0f"),
    "usd_cents": NumberFormat(",.2f"),
    "btc": NumberFormat(",.2f"),
    "btc_4dp": NumberFormat(".4f"),
    "j_per_th": NumberFormat(".2f"),
    "usd_per_kwh": NumberFormat(".4f"),
    "th_as_ehs": NumberFormat(",.3f", divide_by=1e6),
    "th_as_phs": NumberFormat(",.1f", divide_by=1e3),
    "kw_as_mw": NumberFormat(",.2f", divide_by=1e3),
    "w_as_mw": NumberFormat(",.2f", divide_by=1e6),
    "fraction_as_pct_0dp": NumberFormat(".0%"),
    "fraction_as_pct": NumberFormat(".1%"),
    "fraction_as_pct_2dp": NumberFormat(".2%"),
    "days": NumberFormat(",.0f", missing="never"),
}


def format_value(value: Any, code: str) -> str:
    """Human text of a number in the format ``code`` of ``FORMATS``; a number that does not
    exist (None, NaN) reads as the format's ``missing`` text ('n/a', or 'never' for days)."""
    fmt = FORMATS[code]
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return fmt.missing
    return format(value / fmt.divide_by if fmt.divide_by != 1.0 else value, fmt.spec)


@dataclass(frozen=True)
class Metric:
    """One column of the result summary (and of ``compare --json``)."""

    name: str
    meaning: str  # the README's sentence
    dtype: str = "float"  # "float", "int", "bool" or "str"
    unit: str = ""  # of the stored value (a format may scale it for display)
    label: str = ""  # row label in tables ("" for a column no table shows)
    fmt: str | None = None  # a FORMATS code
    better: str | None = None  # "high", "low" or None (nothing to rank)
    per_path: bool = False  # varies by Monte Carlo path (also in ``Results.paths``)
    summary: str = FIXED  # one of SUMMARY_KINDS
    missing: str | None = None  # why it may be missing (NaN, null in JSON); None: always exists
    missing_is_never: bool = False  # missing means "not within the horizon": sorts last
    needs_breakevens: bool = False  # solved only with ``evaluate(breakevens=True)``
    json_whole: bool = False  # the JSON field is a whole number (rounded)
    views: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.summary not in SUMMARY_KINDS:
            raise ValueError(f"{self.name}: summary {self.summary!r} not in {SUMMARY_KINDS}")
        if self.per_path == (self.summary == FIXED):
            raise ValueError(f"{self.name}: a per-path metric needs a summary over paths, "
                             "a fixed one none")
        if self.fmt is not None and self.fmt not in FORMATS:
            raise ValueError(f"{self.name}: unknown format {self.fmt!r}")
        if self.views and not (self.label and self.fmt):
            raise ValueError(f"{self.name}: a metric shown in a view needs a label and format")

    def text(self, value: Any) -> str:
        """``value`` as tables show this metric (its format; 'n/a' or 'never' if missing)."""
        if self.fmt is None:
            raise ValueError(f"{self.name} has no number format")
        return format_value(value, self.fmt)


_USD = dict(unit="USD", fmt="usd")
_PER_PATH = dict(per_path=True, summary=MEAN_WHERE_FINITE)
_NO_PROFITABLE_PRICE = "NPV stays negative at any BTC price up to 2**40 x the start"

METRICS: tuple[Metric, ...] = (
    Metric("plan", "plan name", dtype="str"),
    Metric("units", "number of units", dtype="int", unit="units", label="Units", fmt="count",
           views=(COMPARE,)),
    Metric("hashrate_th", "nameplate hashrate of the fleet", unit="TH/s",
           label="Hashrate (EH/s)", fmt="th_as_ehs", better="high", views=(COMPARE,)),
    Metric("power_kw", "nameplate power draw of the fleet", unit="kW", label="Power (MW)",
           fmt="kw_as_mw", views=(COMPARE,)),
    Metric("efficiency_j_per_th", "nameplate power over nameplate hashrate", unit="J/TH",
           label="Efficiency (J/TH)", fmt="j_per_th", better="low", views=(COMPARE,)),
    Metric("capex_usd", "landed capex: customs value, import duty, freight and install",
           label="Capex landed (USD)", better="low", views=(COMPARE,), **_USD),
    Metric("tariffs_usd", "import duty, part of `capex_usd`", label="  of which tariffs (USD)",
           better="low", views=(COMPARE,), **_USD),
    Metric("origin_risk_tariffs_usd",
           "origin risk: the duty owed if customs deemed every order of another origin to be "
           "of the scenario's `[origin_risk] deemed` origin (default CN, as claimed against "
           "SE-Asian-assembled units); US-assembled orders keep their origin unless "
           "`us_assembled_deemed = true`",
           label="  tariffs under origin risk", better="low", views=(COMPARE,), **_USD),
    Metric("tariff_assumption",
           "true if an order's duty used a row with status `assumption` (every import from "
           "2026-07-24 on, see Data)", dtype="bool"),
    Metric("btc_mined", "BTC mined over the horizon, net of the pool fee", unit="BTC",
           label="BTC mined", fmt="btc", better="high", views=(COMPARE,), **_PER_PATH),
    Metric("revenue_usd", "the BTC mined, sold on the day it is mined",
           label="Revenue (USD)", better="high", views=(COMPARE,), **_USD, **_PER_PATH),
    Metric("energy_cost_usd", "energy (and hosting) cost over the horizon",
           label="Energy cost (USD)", better="low", views=(COMPARE,), **_USD, **_PER_PATH),
    Metric("repair_cost_usd", "repair fees over the horizon", label="Repair cost (USD)",
           better="low", **_USD, **_PER_PATH),
    Metric("npv_usd", "net present value at the plan's discount rate", label="NPV (USD)",
           better="high", views=(COMPARE, DISTRIBUTION), **_USD, **_PER_PATH),
    Metric("irr", "internal rate of return, annual", unit="1/year", label="IRR (per year)",
           fmt="fraction_as_pct", better="high", views=(COMPARE, DISTRIBUTION),
           missing="NPV keeps one sign for every rate from -99% to +100,000% a year",
           **_PER_PATH),
    Metric("payback_days",
           "days from the first delivery until cumulative cash turns non-negative",
           unit="days", label="Payback (days)", fmt="days", better="low",
           views=(COMPARE, DISTRIBUTION),
           missing="cumulative cash never turns non-negative within the horizon",
           missing_is_never=True, json_whole=True, **_PER_PATH),
    Metric("cost_to_mine_usd_per_btc",
           "all-in cost per BTC mined: energy, repairs and capex less residual value",
           unit="USD/BTC", label="Cost to mine 1 BTC, all-in (USD)", fmt="usd", better="low",
           views=(COMPARE,), missing="no BTC mined", **_PER_PATH),
    Metric("cost_to_mine_cash_usd_per_btc", "cash cost per BTC mined: energy and repairs",
           unit="USD/BTC", label="Cost to mine 1 BTC, cash (USD)", fmt="usd", better="low",
           missing="no BTC mined", **_PER_PATH),
    Metric("breakeven_btc_price_usd",
           "day-0 BTC price (the whole price path scaled) at which NPV = 0",
           label="Breakeven BTC price (USD)", better="low", views=(COMPARE,),
           missing=_NO_PROFITABLE_PRICE, needs_breakevens=True, **_USD, **_PER_PATH),
    Metric("breakeven_power_usd_per_kwh", "site power price at which NPV = 0",
           unit="USD/kWh", label="Breakeven power (USD/kWh)", fmt="usd_per_kwh",
           better="high", views=(COMPARE,), missing="NPV is negative even with free power",
           needs_breakevens=True, **_PER_PATH),
    Metric("breakeven_hashprice_usd_per_ph_day", "day-0 hashprice at which NPV = 0",
           unit="USD/PH/day", label="Breakeven hashprice (USD/PH/day)", fmt="usd_cents",
           better="low", missing=_NO_PROFITABLE_PRICE, needs_breakevens=True, **_PER_PATH),
    Metric("residual_value_usd", "resale value at the horizon of units still in service",
           label="Residual value (USD)", better="high", **_USD, **_PER_PATH),
    Metric("buy_btc", "mine vs buy: the BTC the capex buys on day 0", unit="BTC",
           label="BTC the capex buys", fmt="btc", **_PER_PATH),
    Metric("mine_net_btc",
           "mine vs buy: BTC left after selling what pays the opex, plus the residual value "
           "in BTC at the horizon", unit="BTC", label="BTC mined net of opex", fmt="btc",
           better="high", **_PER_PATH),
    Metric("mine_vs_buy_usd",
           "mine vs buy: `mine_net_btc - buy_btc` valued at the horizon's BTC price",
           label="Mine vs buy (USD)", better="high", **_USD, **_PER_PATH),
    Metric("treasury_value_usd",
           "undiscounted value with `hodl_fraction` of mined BTC kept and valued at the "
           "horizon", label="Treasury value (USD)", better="high", **_USD, **_PER_PATH),
    Metric("payback_probability", "share of paths that pay back within the horizon",
           unit="fraction", label="Probability of payback in horizon",
           fmt="fraction_as_pct_0dp", better="high"),
    Metric("paths", "number of Monte Carlo paths", dtype="int", unit="paths"),
    Metric("assumptions",
           "the scenario's assumptions (and tariff assumptions) the numbers rest on",
           dtype="str"),
    Metric("missing_metrics",
           "each missing (null) field with the reason it does not exist; empty if none",
           dtype="str"),
)
BY_NAME: dict[str, Metric] = {metric.name: metric for metric in METRICS}
PATH_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS if m.per_path)
NOT_DEFINED = "not defined for this plan"
NOT_COMPUTED = "not computed (breakevens=False)"


def in_view(view: str) -> tuple[Metric, ...]:
    """The metrics a view lists, in catalogue order."""
    return tuple(metric for metric in METRICS if view in metric.views)


def percentile_column(metric: Metric, q: int) -> str:
    return f"{metric.name}_p{q}"


def summary_columns(n_paths: int) -> list[tuple[str, Metric]]:
    """Every summary column with the metric it belongs to: the catalogue, then with several
    paths each per-path metric's percentiles."""
    columns = [(metric.name, metric) for metric in METRICS]
    if n_paths > 1:
        columns += [(percentile_column(m, q), m) for m in PATH_METRICS for q in PERCENTILES]
    return columns


_DTYPES = {"float": pl.Float64, "int": pl.Int64, "bool": pl.Boolean, "str": pl.String}


def summary_schema(n_paths: int) -> dict[str, pl.DataType]:
    """The summary frame's schema for an evaluation of ``n_paths`` paths."""
    return {name: _DTYPES["float" if name != metric.name else metric.dtype]()
            for name, metric in summary_columns(n_paths)}


def record_schema(n_paths: int) -> dict[str, pl.DataType]:
    """The schema of ``json_record`` rows (``Results.records()``, a batch's summary table):
    the summary's, with whole-number fields as integers."""
    schema = summary_schema(n_paths)
    return {name: pl.Int64() if name in BY_NAME and BY_NAME[name].json_whole else dtype
            for name, dtype in schema.items()}


def headline(metric: Metric, values: np.ndarray) -> float:
    """The summary's plain value of a per-path metric: the metric's declared summary rule."""
    if metric.summary == MEAN_WHERE_FINITE:
        finite = values[np.isfinite(values)]
        return float(finite.mean()) if finite.size else math.nan
    raise ValueError(f"{metric.name}: no summary over paths for kind {metric.summary!r}")


def percentile(values: np.ndarray, q: int, missing_is_never: bool) -> float:
    """Percentile over paths. Where missing means "never" (payback), a missing path counts
    as +inf, and a percentile that lands on it is NaN (reported as null)."""
    data = np.where(np.isnan(values), np.inf, values) if missing_is_never else values
    data = data[~np.isnan(data)]
    if data.size == 0:
        return math.nan
    value = float(np.percentile(data, q, method="linear")) if np.isfinite(data).all() else float(
        np.percentile(data, q, method="lower"))
    return value if math.isfinite(value) else math.nan


def summarise(values_by_metric: Mapping[str, np.ndarray], n_paths: int) -> dict[str, float]:
    """The summary columns of the per-path metrics: each metric's headline and, with several
    paths, its percentiles."""
    out: dict[str, float] = {}
    for metric in PATH_METRICS:
        values = values_by_metric[metric.name]
        out[metric.name] = headline(metric, values)
        if n_paths > 1:
            for q in PERCENTILES:
                out[percentile_column(metric, q)] = percentile(values, q,
                                                               metric.missing_is_never)
    return out


def missing_metrics(row: Mapping[str, Any], n_paths: int, breakevens: bool) -> str:
    """'irr, irr_p10: reason; ...' for the NaN columns of a summary row ('' if none)."""
    notes = []
    for metric in METRICS:
        names = [metric.name]
        if metric.per_path and n_paths > 1:
            names += [percentile_column(metric, q) for q in PERCENTILES]
        columns = [name for name in names
                   if isinstance(row.get(name), float) and math.isnan(row[name])]
        if not columns:
            continue
        reason = (NOT_COMPUTED if metric.needs_breakevens and not breakevens
                  else metric.missing or NOT_DEFINED)
        notes.append(f"{', '.join(columns)}: {reason}")
    return "; ".join(notes)


def json_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A summary row as JSON-ready values: NaN becomes None (a metric that does not exist);
    a whole-number field is rounded."""
    record = {}
    for key, value in row.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        metric = BY_NAME.get(key)
        if value is not None and metric is not None and metric.json_whole:
            value = round(value)
        record[key] = value
    return record


def best_index(values: Sequence[Any], better: str | None) -> int | None:
    """Index of the best finite value in a row, or None when there is nothing to compare."""
    finite = [(v, i) for i, v in enumerate(values)
              if v is not None and isinstance(v, int | float) and math.isfinite(v)]
    if better is None or len(finite) < 2:
        return None
    return (max if better == "high" else min)(finite)[1]


# The README's ``compare --json`` schema table sits between these markers.
README_BEGIN = "<!-- metrics table: generated by `python -m fleetcalc.metrics --readme` -->"
README_END = "<!-- end of metrics table -->"
README = Path(__file__).resolve().parents[1] / "README.md"


def schema_markdown() -> str:
    """The ``compare --json`` schema as a markdown table, one row per field."""
    lines = ["| field | unit | type | Monte Carlo | meaning |", "|---|---|---|---|---|"]
    for metric in METRICS:
        unit = metric.unit or ""
        dtype = {"float": "number", "int": "integer", "bool": "boolean",
                 "str": "string"}["int" if metric.json_whole else metric.dtype]
        meaning = metric.meaning
        if metric.missing is not None:
            dtype += " or null"
            meaning += f" (null: {metric.missing})"
        lines.append(f"| `{metric.name}` | {unit} | {dtype} | {SUMMARY_WORDS[metric.summary]} "
                     f"| {meaning} |")
    return "\n".join(lines) + "\n"


def readme_with_schema(text: str) -> str:
    """``text`` (the README) with the block between the markers replaced by the table."""
    start = text.index(README_BEGIN) + len(README_BEGIN)
    end = text.index(README_END)
    return text[:start] + "\n" + schema_markdown() + text[end:]


def main(argv: Sequence[str]) -> int:
    if list(argv) != ["--readme"]:
        print("usage: python -m fleetcalc.metrics --readme  (rewrite README.md's schema table)",
              file=sys.stderr)
        return 2
    from fleetcalc.io import write_text_atomic

    write_text_atomic(readme_with_schema(README.read_text(encoding="utf-8")), README)
    print(f"wrote the metrics table into {README}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
