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
# The mean over all paths: amounts that add up (BTC, USD flows, NPV) and exist on every path.
MEAN = "mean"
# The median over all paths, a path where the metric does not exist standing at the metric's
# natural end (``undefined_end``); null when the median lands on such a path. A mean over the
# paths where it exists would describe the survivors (a payback averaged over the 16% of paths
# that pay back), and a mean with the others left out has no value at all.
MEDIAN = "median"
SUMMARY_KINDS = (FIXED, MEAN, MEDIAN)
_PERCENTILES_WORDS = "also `_p10`, `_p50`, `_p90` (pessimistic to optimistic, see below)"
SUMMARY_WORDS = {
    FIXED: "one value per plan",
    MEAN: f"mean over all paths; {_PERCENTILES_WORDS}",
    MEDIAN: "median over all paths, a path where it is missing ranked {end} (null when the "
            f"median is such a path); {_PERCENTILES_WORDS}",
}

# Where a path on which a metric does not exist stands among the paths where it does.
ABOVE_ALL = "above"  # later or dearer than any value: payback never, a price no path reaches
BELOW_ALL = "below"  # below any value: a breakeven power price under zero (a loss at free power)
# IRR: NPV has the same sign at both ends of the search range. Usually it keeps that sign
# throughout, so the rate is below -99% a year where NPV < 0 (the usual case: the fleet never
# earns its capex back) and above +100,000% a year where NPV > 0 (no capex to speak of); the
# path's NPV says which. Where the cash flows change sign twice NPV may cross zero twice (no
# single rate): the path's NPV at the plan's own rate ranks it all the same.
BY_NPV_SIGN = "npv_sign"
UNDEFINED_ENDS = (ABOVE_ALL, BELOW_ALL, BY_NPV_SIGN)
UNDEFINED_END_WORDS = {
    ABOVE_ALL: "after (above) every value", BELOW_ALL: "below every value",
    BY_NPV_SIGN: "below every rate where NPV < 0, above every rate where NPV > 0",
}
# P10 is always the pessimistic decile (90% of paths do at least as well), P90 the optimistic
# one: for a metric where lower is better (payback, costs, breakeven prices) P10 is the 90th
# percentile of its value. One rule, so P10 -> P90 reads worst -> best on every row.
PERCENTILE_WORDS = {10: "pessimistic", 50: "median", 90: "optimistic"}

# What a view of the results lists.
COMPARE = "compare"  # the compare table (CLI and TUI) and the editor's results panel
DISTRIBUTION = "distribution"  # the TUI's Monte Carlo view: P10/P50/P90 per plan
SITES = "sites"  # a plan's per-site rows (``Results.sites``, compare's sites table)


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
    "th": NumberFormat(",.1f"),
    "w": NumberFormat(",.0f"),
    "th_as_ehs": NumberFormat(",.3f", divide_by=1e6),
    "th_as_phs": NumberFormat(",.1f", divide_by=1e3),
    "kw_as_mw": NumberFormat(",.2f", divide_by=1e3),
    "megawatts": NumberFormat(",.2f"),
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


# A metric's ``dtype`` and how the README's schema table names it.
_DTYPE_WORDS = {"float": "number", "int": "integer", "bool": "boolean", "str": "string",
                "category": "string", "list": "list of strings"}


@dataclass(frozen=True)
class Metric:
    """One column of the result summary (and of ``compare --json``)."""

    name: str
    meaning: str  # the README's sentence
    dtype: str = "float"  # a key of _DTYPE_WORDS ("category": text stored once)
    unit: str = ""  # of the stored value (a format may scale it for display)
    label: str = ""  # row label in tables ("" for a column no table shows)
    fmt: str | None = None  # a FORMATS code
    better: str | None = None  # "high", "low" or None (nothing to rank)
    per_path: bool = False  # varies by Monte Carlo path (also in ``Results.paths``)
    summary: str = FIXED  # one of SUMMARY_KINDS
    missing: str | None = None  # why it may be missing (NaN, null in JSON); None: always exists
    undefined_end: str | None = None  # per path: where a missing value stands (UNDEFINED_ENDS)
    npv_of: str = "npv_usd"  # BY_NPV_SIGN: the metric whose sign places a missing value
    needs_breakevens: bool = False  # solved only with ``evaluate(breakevens=True)``
    # A root search per path (an IRR): with several paths, solved only with
    # ``evaluate(percentiles=True)`` (its headline is a median over paths).
    root_search: bool = False
    # (a bool column of the summary, the reason it is missing when that column is true)
    missing_if: tuple[str, str] | None = None
    json_whole: bool = False  # the JSON field is a whole number (rounded)
    # An amount: a plan's value (on every path) is the sum of its sites' (and of plans put
    # side by side); ratios, rates, days and breakevens are not.
    additive: bool = False
    views: tuple[str, ...] = ()
    monte_carlo_only: bool = False  # views list it only with several paths

    def __post_init__(self) -> None:
        if self.summary not in SUMMARY_KINDS:
            raise ValueError(f"{self.name}: summary {self.summary!r} not in {SUMMARY_KINDS}")
        if self.per_path == (self.summary == FIXED):
            raise ValueError(f"{self.name}: a per-path metric needs a summary over paths, "
                             "a fixed one none")
        if self.dtype not in _DTYPE_WORDS:
            raise ValueError(f"{self.name}: dtype {self.dtype!r} not in {tuple(_DTYPE_WORDS)}")
        if self.fmt is not None and self.fmt not in FORMATS:
            raise ValueError(f"{self.name}: unknown format {self.fmt!r}")
        if self.views and not (self.label and self.fmt):
            raise ValueError(f"{self.name}: a metric shown in a view needs a label and format")
        # A mean needs a value on every path; a median needs to know where a missing one stands.
        if self.summary == MEAN and self.missing is not None:
            raise ValueError(f"{self.name}: a metric that may be missing cannot be a mean")
        if (self.summary == MEDIAN) != (self.undefined_end in UNDEFINED_ENDS):
            raise ValueError(f"{self.name}: a median (and only a median) needs an "
                             f"undefined_end from {UNDEFINED_ENDS}")

    def text(self, value: Any) -> str:
        """``value`` as tables show this metric (its format; 'n/a' or 'never' if missing)."""
        if self.fmt is None:
            raise ValueError(f"{self.name} has no number format")
        return format_value(value, self.fmt)


_USD = dict(unit="USD", fmt="usd")
_PER_PATH = dict(per_path=True, summary=MEAN)
_MEDIAN = dict(per_path=True, summary=MEDIAN)
_SUM = dict(additive=True)  # a fixed amount
_AMOUNT = dict(_PER_PATH, additive=True)  # an amount per path
_NO_PROFITABLE_PRICE = "NPV stays negative at any BTC price up to 2**40 x the start"
_ALL_IN = "all-in breakeven (NPV = 0, with capex, discounting, growth and the halving): "
_SHUTDOWN = ("day-0 running-cost shutdown price: the fleet's revenue equals its energy cost at "
             "the scenario's starting difficulty, fees and pool fee, "
             "`power_kw x 24 x energy_usd_per_kwh = hashrate_th x btc_per_th_day x "
             "(1 - pool_fee) x btc_price_usd` solved for ")
_NO_REWARD = "the network pays no reward at the start (no subsidy and no fees)"
# NPV can cross zero twice (capex, income, then a later capex or a loss), so the same sign at
# both ends of the range does not mean one sign throughout.
_NO_IRR = ("NPV has the same sign at -99% and at +100,000% a year: no rate in between makes it "
           "zero, or several do (cash flows that change sign more than once)")

METRICS: tuple[Metric, ...] = (
    # Categorical: the name is stored once however many rows repeat it (as in every frame).
    Metric("plan", "plan name", dtype="category"),
    Metric("units", "number of units", dtype="int", unit="units", label="Units", fmt="count",
           views=(COMPARE, SITES), **_SUM),
    Metric("hashrate_th", "nameplate hashrate of the fleet", unit="TH/s",
           label="Hashrate (EH/s)", fmt="th_as_ehs", better="high", views=(COMPARE, SITES), **_SUM),
    Metric("power_kw", "nameplate power draw of the fleet", unit="kW", label="Power (MW)",
           fmt="kw_as_mw", views=(COMPARE, SITES), **_SUM),
    Metric("efficiency_j_per_th", "nameplate power over nameplate hashrate", unit="J/TH",
           label="Efficiency (J/TH)", fmt="j_per_th", better="low", views=(COMPARE,)),
    Metric("mw_used", "megawatts the fleet draws at the site's wall: nameplate power x PUE",
           unit="MW", label="MW used", fmt="megawatts", views=(COMPARE, SITES), **_SUM),
    Metric("capex_usd",
           "landed capex: customs value, import duty, customs fees, freight and install (paid "
           "on the schedule's days: deposit, balance, import, delivery), plus the site build",
           label="Capex landed (USD)", better="low", views=(COMPARE, SITES), **_USD, **_SUM),
    Metric("tariffs_usd", "import duty, part of `capex_usd`", label="  of which tariffs (USD)",
           better="low", views=(COMPARE, SITES), **_USD, **_SUM),
    Metric("origin_risk_tariffs_usd",
           "origin risk: the duty owed if customs deemed every order of another origin to be "
           "of the scenario's `[origin_risk] deemed` origin (default CN, as claimed against "
           "SE-Asian-assembled units); US-assembled orders keep their origin unless "
           "`us_assembled_deemed = true`",
           label="  tariffs under origin risk", better="low", views=(COMPARE,), **_USD, **_SUM),
    Metric("customs_fees_usd",
           "US customs fees, part of `capex_usd`: merchandise processing (0.3464% of each "
           "order's value, with a minimum and cap per entry) and harbor maintenance (0.125% "
           "by sea)", label="  of which customs fees (USD)", better="low", **_USD, **_SUM),
    Metric("site_build_usd",
           "site build capex, part of `capex_usd`: `build_usd_per_mw` x the MW built (the MW "
           "used, or `capacity_mw` with `build = \"site\"`)",
           label="  of which site build (USD)", better="low", views=(COMPARE, SITES), **_USD,
           **_SUM),
    Metric("capex_per_mw_usd", "`capex_usd` per MW used", unit="USD/MW",
           label="Capex per MW used (USD)", fmt="usd", better="low", views=(COMPARE, SITES)),
    Metric("debt_usd", "loan drawn: `debt_share` of every capital payment, on its day",
           label="Debt drawn (USD)", **_USD, **_SUM),
    Metric("tariff_assumption",
           "true if an order's duty used a row with status `assumption` (every import from "
           "2026-07-24 on, see Data)", dtype="bool"),
    Metric("hourly_power",
           "true if a site of the plan buys at (or sells back to) an hourly "
           "`power_price_series`", dtype="bool"),
    Metric("btc_mined", "BTC mined over the horizon, net of the pool fee", unit="BTC",
           label="BTC mined", fmt="btc", better="high", views=(COMPARE, SITES), **_AMOUNT),
    Metric("revenue_usd", "the BTC mined, sold on the day it is mined",
           label="Revenue (USD)", better="high", views=(COMPARE, SITES), **_USD, **_AMOUNT),
    Metric("energy_cost_usd",
           "energy and per-kWh hosting cost over the horizon (the take-or-pay floor included)",
           label="Energy cost (USD)", better="low", views=(COMPARE, SITES), **_USD, **_AMOUNT),
    Metric("repair_cost_usd", "repair fees over the horizon", label="Repair cost (USD)",
           better="low", **_USD, **_AMOUNT),
    Metric("site_fixed_cost_usd",
           "site costs paid whether mining or curtailed: fixed opex per MW built and hosting "
           "fees per kW, over the horizon", label="Site fixed costs (USD)", better="low",
           views=(COMPARE, SITES), **_USD, **_SUM),
    Metric("npv_usd", "net present value at the plan's discount rate", label="NPV (USD)",
           better="high", views=(COMPARE, DISTRIBUTION, SITES), **_USD, **_AMOUNT),
    Metric("npv_per_mw_usd", "`npv_usd` per MW used", unit="USD/MW",
           label="NPV per MW used (USD)", fmt="usd", better="high",
           views=(COMPARE, DISTRIBUTION, SITES), **_PER_PATH),
    Metric("irr", "internal rate of return, annual", unit="1/year", label="IRR (per year)",
           fmt="fraction_as_pct", better="high", views=(COMPARE, DISTRIBUTION, SITES),
           missing=_NO_IRR, undefined_end=BY_NPV_SIGN, root_search=True, **_MEDIAN),
    Metric("payback_days",
           "days from the first delivery until cumulative cash turns non-negative (0 if it "
           "never goes negative)",
           unit="days", label="Payback (days)", fmt="days", better="low",
           views=(COMPARE, DISTRIBUTION, SITES),
           missing="cumulative cash never turns non-negative within the horizon",
           undefined_end=ABOVE_ALL, json_whole=True, **_MEDIAN),
    Metric("equity_npv_usd",
           "NPV of the equity's cash flows (the project's plus loan draws less loan payments) "
           "at the plan's discount rate; `npv_usd` when there is no debt",
           label="Equity NPV (USD)", better="high", views=(COMPARE,), **_USD, **_AMOUNT),
    Metric("equity_irr", "IRR of the equity's cash flows, annual", unit="1/year",
           label="Equity IRR (per year)", fmt="fraction_as_pct", better="high",
           missing=_NO_IRR, undefined_end=BY_NPV_SIGN, npv_of="equity_npv_usd",
           root_search=True, **_MEDIAN),
    Metric("npv_after_tax_usd",
           "NPV of the project's cash flows after income tax (depreciation, losses carried "
           "forward), without debt; `npv_usd` when `tax_rate` is 0",
           label="NPV after tax (USD)", better="high", views=(COMPARE,), **_USD, **_PER_PATH),
    Metric("equity_npv_after_tax_usd",
           "NPV of the equity's cash flows after income tax (interest deducted)",
           label="Equity NPV after tax (USD)", better="high", views=(COMPARE,), **_USD,
           **_PER_PATH),
    Metric("equity_irr_after_tax", "IRR of the equity's cash flows after tax, annual",
           unit="1/year", label="Equity IRR after tax (per year)", fmt="fraction_as_pct",
           better="high", missing=_NO_IRR, undefined_end=BY_NPV_SIGN,
           npv_of="equity_npv_after_tax_usd", root_search=True, **_MEDIAN),
    Metric("cost_to_mine_usd_per_btc",
           "all-in cost per BTC mined: energy, repairs, site fixed costs, transmission less "
           "sell-back credits, and capex less residual value",
           unit="USD/BTC", label="Cost to mine 1 BTC, all-in (USD)", fmt="usd", better="low",
           views=(COMPARE,), missing="no BTC mined", undefined_end=ABOVE_ALL, **_MEDIAN),
    Metric("cost_to_mine_cash_usd_per_btc",
           "cash cost per BTC mined: energy, repairs, site fixed costs, transmission less "
           "sell-back credits",
           unit="USD/BTC", label="Cost to mine 1 BTC, cash (USD)", fmt="usd", better="low",
           missing="no BTC mined", undefined_end=ABOVE_ALL, **_MEDIAN),
    Metric("shutdown_btc_price_usd", _SHUTDOWN + "the BTC price",
           label="Shutdown BTC price (USD)", better="low", views=(COMPARE,),
           missing=_NO_REWARD, **_USD),
    Metric("breakeven_btc_price_usd",
           _ALL_IN + "the day-0 BTC price (the whole price path scaled) at which NPV = 0",
           label="All-in breakeven BTC price, NPV = 0 (USD)", better="low", views=(COMPARE,),
           missing=_NO_PROFITABLE_PRICE, undefined_end=ABOVE_ALL, needs_breakevens=True,
           **_USD, **_MEDIAN),
    Metric("shutdown_power_usd_per_kwh",
           _SHUTDOWN + "the energy price of a kWh of IT load (PUE x power + hosting; with "
           "take-or-pay, of the energy above the floor)",
           unit="USD/kWh", label="Shutdown power price (USD/kWh)", fmt="usd_per_kwh",
           better="high", views=(COMPARE,),
           missing="take-or-pay owes all the energy the fleet uses: no energy price stops it"),
    Metric("breakeven_power_usd_per_kwh",
           _ALL_IN + "the site's energy price of a kWh of IT load (PUE x power + hosting) at "
           "which NPV = 0",
           unit="USD/kWh", label="All-in breakeven power, NPV = 0 (USD/kWh)",
           fmt="usd_per_kwh", better="high", views=(COMPARE,),
           missing="NPV is negative even with free power", undefined_end=BELOW_ALL,
           missing_if=("hourly_power", "a site buys at (or sells back to) an hourly "
                       "power_price_series: no one power price to solve for"),
           needs_breakevens=True, **_MEDIAN),
    Metric("breakeven_hashprice_usd_per_ph_day", _ALL_IN + "the day-0 hashprice at which NPV = 0",
           unit="USD/PH/day", label="All-in breakeven hashprice, NPV = 0 (USD/PH/day)",
           fmt="usd_cents", better="low", missing=_NO_PROFITABLE_PRICE,
           undefined_end=ABOVE_ALL, needs_breakevens=True, **_MEDIAN),
    Metric("residual_value_usd",
           "resale value at the horizon of units still in service: at market (efficiency and "
           "that day's hashprice) or a fixed share of their price (`[finance] residual`)",
           label="Residual value (USD)", better="high", **_USD, **_AMOUNT),
    Metric("buy_btc", "mine vs buy: the BTC the capex buys on day 0", unit="BTC",
           label="BTC the capex buys", fmt="btc", **_AMOUNT),
    Metric("mine_net_btc",
           "mine vs buy: BTC left after selling what pays the opex, plus the residual value "
           "in BTC at the horizon", unit="BTC", label="BTC mined net of opex", fmt="btc",
           better="high", **_AMOUNT),
    Metric("mine_vs_buy_usd",
           "mine vs buy: `mine_net_btc - buy_btc` valued at the horizon's BTC price",
           label="Mine vs buy (USD)", better="high", **_USD, **_AMOUNT),
    Metric("treasury_value_usd",
           "undiscounted value with `hodl_fraction` of mined BTC kept and valued at the "
           "horizon", label="Treasury value (USD)", better="high", **_USD, **_AMOUNT),
    Metric("sell_back_credits_usd",
           "power sold back: a fixed-price site's curtailed contracted energy sold at the "
           "market price above the contract (`sell_back`); its own cash-flow line",
           label="Sell-back credits (USD)", better="high", **_USD, **_AMOUNT),
    Metric("transmission_usd",
           "4CP transmission charge: `transmission_usd_per_kw_year` on the load drawn in the "
           "previous year's summer peak hours; its own cash-flow line",
           label="Transmission (USD)", better="low", **_USD, **_AMOUNT),
    Metric("payback_probability", "share of paths that pay back within the horizon",
           unit="fraction", label="Paths that pay back", fmt="fraction_as_pct_0dp",
           better="high", views=(COMPARE,), monte_carlo_only=True),
    Metric("paths", "number of Monte Carlo paths", dtype="int", unit="paths"),
    Metric("assumptions",
           "the scenario's assumptions (and tariff assumptions) the numbers rest on",
           dtype="str"),
    Metric("missing_metrics",
           "each missing (null) field with the reason it does not exist; empty if none",
           dtype="str"),
    Metric("warnings",
           "valid but implausible inputs the numbers rest on, each naming its file and key "
           "(also printed on stderr); empty if none", dtype="list"),
)
BY_NAME: dict[str, Metric] = {metric.name: metric for metric in METRICS}
PATH_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS if m.per_path)
NOT_DEFINED = "not defined for this plan"
NOT_COMPUTED = "not computed (breakevens=False)"
NOT_COMPUTED_PERCENTILES = "not computed (percentiles=False)"


def in_view(view: str, n_paths: int = 1) -> tuple[Metric, ...]:
    """The metrics a view lists for an evaluation of ``n_paths`` paths, in catalogue order."""
    return tuple(metric for metric in METRICS if view in metric.views
                 and (n_paths > 1 or not metric.monte_carlo_only))


def percentile_column(metric: Metric, q: int) -> str:
    return f"{metric.name}_p{q}"


# Every summary column's metric, a percentile column's (``payback_days_p90``) included: a
# percentile of a whole-number metric is as whole as its plain field in JSON and batch tables.
BY_COLUMN: dict[str, Metric] = {
    **BY_NAME, **{percentile_column(m, q): m for m in PATH_METRICS for q in PERCENTILES}}


def summary_columns(n_paths: int) -> list[tuple[str, Metric]]:
    """Every summary column with the metric it belongs to: the catalogue, then with several
    paths each per-path metric's percentiles."""
    columns = [(metric.name, metric) for metric in METRICS]
    if n_paths > 1:
        columns += [(percentile_column(m, q), m) for m in PATH_METRICS for q in PERCENTILES]
    return columns


_DTYPES = {"float": pl.Float64(), "int": pl.Int64(), "bool": pl.Boolean(), "str": pl.String(),
           "category": pl.Categorical(), "list": pl.List(pl.String())}


def summary_schema(n_paths: int) -> dict[str, pl.DataType]:
    """The summary frame's schema for an evaluation of ``n_paths`` paths."""
    return {name: _DTYPES["float" if name != metric.name else metric.dtype]
            for name, metric in summary_columns(n_paths)}


def record_schema(n_paths: int) -> dict[str, pl.DataType]:
    """The schema of ``json_record`` rows (``Results.records()``, a batch's summary table):
    the summary's, with whole-number fields as integers and text as plain text (one row per
    plan: nothing to store once)."""
    schema = summary_schema(n_paths)
    return {name: pl.Int64() if name in BY_COLUMN and BY_COLUMN[name].json_whole
            else pl.String() if dtype == pl.Categorical else dtype
            for name, dtype in schema.items()}


def ordered(metric: Metric, values_by_metric: Mapping[str, np.ndarray]) -> np.ndarray:
    """The metric's values over paths with each missing one at its natural end (+-inf), so
    that every path takes part in the order statistics."""
    values = values_by_metric[metric.name]
    if metric.undefined_end is None:
        return values
    end = {ABOVE_ALL: np.inf, BELOW_ALL: -np.inf}.get(metric.undefined_end)
    if end is None:  # BY_NPV_SIGN
        end = np.where(values_by_metric[metric.npv_of] < 0.0, -np.inf, np.inf)
    return np.where(np.isnan(values), end, values)


def value_percentile(data: np.ndarray, q: float) -> float:
    """The q-th percentile of ``data`` (numpy's linear interpolation between order
    statistics); NaN (null) when it lands on or next to an infinite value, a path where the
    metric does not exist."""
    if data.size == 0:
        return math.nan
    if np.isfinite(data).all():
        return float(np.percentile(data, q))
    ranked = np.sort(data)
    position = (q / 100.0) * (ranked.size - 1)  # numpy's own formula, so the same neighbours
    if not np.isfinite(ranked[[math.floor(position), math.ceil(position)]]).all():
        return math.nan
    finite = ranked[np.isfinite(ranked)]
    # Infinities moved to the nearest finite extreme keep the order, and the neighbours the
    # interpolation reads are finite already: numpy gives the same bits as on finite data.
    return float(np.percentile(np.clip(ranked, finite[0], finite[-1]), q))


def pessimistic_percentile(metric: Metric, data: np.ndarray, q: int) -> float:
    """``P{q}`` of the metric: P10 is the pessimistic decile (90% of paths do at least as
    well), so for a metric where lower is better it is the value's 90th percentile."""
    return value_percentile(data, 100 - q if metric.better == "low" else q)


def headline(metric: Metric, values_by_metric: Mapping[str, np.ndarray]) -> float:
    """The summary's plain value of a per-path metric: the metric's declared summary rule."""
    if metric.summary == MEAN:
        return float(values_by_metric[metric.name].mean())
    if metric.summary == MEDIAN:
        return value_percentile(ordered(metric, values_by_metric), 50)
    raise ValueError(f"{metric.name}: no summary over paths for kind {metric.summary!r}")


def summarise(
    values_by_metric: Mapping[str, np.ndarray], n_paths: int, percentiles: bool = True,
) -> dict[str, float]:
    """The summary columns of the per-path metrics: each metric's headline and, with several
    paths, its percentiles (NaN with ``percentiles`` False: not computed)."""
    out: dict[str, float] = {}
    for metric in PATH_METRICS:
        out[metric.name] = headline(metric, values_by_metric)
        if n_paths > 1 and not percentiles:
            out |= {percentile_column(metric, q): math.nan for q in PERCENTILES}
        elif n_paths > 1:
            data = ordered(metric, values_by_metric)
            for q in PERCENTILES:
                out[percentile_column(metric, q)] = pessimistic_percentile(metric, data, q)
    return out


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def missing_reasons(
    row: Mapping[str, Any], n_paths: int, breakevens: bool,
    path_values: Mapping[str, np.ndarray] | None = None, percentiles: bool = True,
) -> dict[str, str]:
    """Each missing (NaN or None) column of a summary row or JSON record with the reason it
    does not exist; with ``path_values`` (per path) the reason says on how many paths."""
    reasons = {}
    for name, metric in summary_columns(n_paths):
        if name not in row or not _is_missing(row[name]):
            continue
        reason = (NOT_COMPUTED if metric.needs_breakevens and not breakevens
                  else NOT_COMPUTED_PERCENTILES if not percentiles and n_paths > 1 and (
                      name != metric.name or metric.root_search)
                  else metric.missing_if[1] if metric.missing_if and row.get(
                      metric.missing_if[0]) else metric.missing or NOT_DEFINED)
        if n_paths > 1 and path_values is not None and metric.per_path and reason not in (
                NOT_COMPUTED, NOT_COMPUTED_PERCENTILES):
            share = float(np.isnan(path_values[metric.name]).mean())
            reason += f" (on {share:.0%} of paths)"
        reasons[name] = reason
    return reasons


def missing_metrics(
    row: Mapping[str, Any], n_paths: int, breakevens: bool,
    path_values: Mapping[str, np.ndarray] | None = None, percentiles: bool = True,
) -> str:
    """'irr, irr_p10: reason; ...' for the missing columns of a summary row, one entry per
    metric ('' if none)."""
    metric_of = dict(summary_columns(n_paths))
    columns_by_metric: dict[tuple[str, str], list[str]] = {}
    for name, reason in missing_reasons(row, n_paths, breakevens, path_values,
                                        percentiles).items():
        columns_by_metric.setdefault((metric_of[name].name, reason), []).append(name)
    return "; ".join(f"{', '.join(columns)}: {reason}"
                     for (_, reason), columns in columns_by_metric.items())


@dataclass(frozen=True)
class Row:
    """A row of the compare table: its label, the summary column it shows, and the metric."""

    label: str
    column: str
    metric: Metric


def statistic_label(metric: Metric, n_paths: int) -> str:
    """The metric's label saying which statistic over paths it shows: 'NPV (mean, USD)',
    'IRR (median, per year)'; the plain label with one path or for a fixed metric."""
    if n_paths == 1 or not metric.per_path:
        return metric.label
    head, paren, unit = metric.label.rpartition(" (")
    if not paren:
        return f"{metric.label} ({metric.summary})"
    return f"{head} ({metric.summary}, {unit}"


def compare_rows(n_paths: int) -> tuple[Row, ...]:
    """The compare table's rows (CLI and TUI): each metric of the compare view under a label
    naming its statistic, then with several paths its P10/P50/P90 (a median's P50 is the row
    itself)."""
    rows = []
    for metric in in_view(COMPARE, n_paths):
        rows.append(Row(statistic_label(metric, n_paths), metric.name, metric))
        if n_paths > 1 and metric.per_path:
            rows += [Row(f"  P{q} {PERCENTILE_WORDS[q]}", percentile_column(metric, q), metric)
                     for q in PERCENTILES if not (q == 50 and metric.summary == MEDIAN)]
    return tuple(rows)


def json_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A summary row as JSON-ready values: NaN becomes None (a metric that does not exist);
    a whole-number field is rounded."""
    record = {}
    for key, value in row.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        metric = BY_COLUMN.get(key)
        if value is not None and metric is not None and metric.json_whole:
            value = round(value)
        record[key] = value
    return record


def best_index(values: Sequence[Any], better: str | None) -> int | None:
    """Index of the best finite value in a row, or None when there is nothing to compare
    (fewer than two values, or all equal: a cost every plan shares is nobody's best)."""
    finite = [(v, i) for i, v in enumerate(values)
              if v is not None and isinstance(v, int | float) and math.isfinite(v)]
    if better is None or len(finite) < 2 or len({v for v, _ in finite}) == 1:
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
        dtype = _DTYPE_WORDS["int" if metric.json_whole else metric.dtype]
        meaning = metric.meaning
        if metric.missing is not None:
            dtype += " or null"
            meaning += f" (null: {metric.missing})"
        summary = SUMMARY_WORDS[metric.summary].format(
            end=UNDEFINED_END_WORDS.get(metric.undefined_end or ""))
        lines.append(f"| `{metric.name}` | {unit} | {dtype} | {summary} | {meaning} |")
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
