"""Order detail of the selected plan: landed cost per order, the modes each order ran (share of
its unit-days), its hours run and sell-back credits, every tariff program in force with its
rate and source, and the plan's daily series."""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Label
from textual_plotext import PlotextPlot

from fleetcalc.engine import Results
from fleetcalc.frames import CUMULATIVE_CASH, DAILY_LEVEL_COLUMNS, UNIT_DAYS_PREFIX
from fleetcalc.metrics import format_value
from fleetcalc.text import printable
from tui.format import decimal_years, legend, thinned, year_ticks
from tui.widgets.deferred import DeferredRedraw
from tui.widgets.plan_picker import PlanPicker

# (column, header, fleetcalc.metrics.FORMATS code, or None for text)
ORDER_COLUMNS = (
    ("order", "#", "index"), ("model", "Model", None), ("origin", "Origin", None),
    ("quantity", "Units", "count"), ("customs_value_usd", "Customs/unit", "usd_cents"),
    ("tariff_rate", "Duty rate", "fraction_as_pct_2dp"),
    ("tariffs_usd_per_unit", "Tariff/unit", "usd_cents"), ("tariffs_usd", "Tariffs", "usd"),
    ("landed_cost_usd_per_unit", "Landed/unit", "usd_cents"),
    ("landed_cost_usd", "Landed cost", "usd"), ("landed_usd_per_th", "USD/TH", "usd_cents"),
    ("unit_hours_run", "Unit-hours run", "count"),
    ("sell_back_credit_usd", "Sell-back credits", "usd"), ("mode_shares", "Modes run", None),
)
TARIFF_COLUMNS = (
    ("order", "#", "index"), ("program", "Program", None),
    ("rate", "Rate", "fraction_as_pct_2dp"), ("status", "Status", None),
    ("tariff_usd_per_unit", "Tariff/unit", "usd_cents"), ("tariff_usd", "Tariff", "usd"),
)
SOURCE_WIDTH = 48
# The daily series is summed by month for the table (1,826 daily rows would take a DataTable
# over a second to lay out on every recompute); the chart below it shows every day.
MONTHLY_COLUMNS = (
    ("month", "Month", None), ("hashrate_th", "PH/s", "th_as_phs"),
    ("power_w", "MW", "w_as_mw"), ("running_units", "Running", "count"),
    ("btc", "BTC", "btc_4dp"), ("revenue_usd", "Revenue", "usd"),
    ("energy_cost_usd", "Energy", "usd"), ("repair_cost_usd", "Repairs", "usd"),
    ("sell_back_credit_usd", "Credits", "usd"), ("transmission_usd", "Transmission", "usd"),
    ("capex_usd", "Capex", "usd"), ("cash_flow_usd", "Cash flow", "usd"),
    ("cumulative_cash_usd", "Cumulative", "usd"), ("price_usd", "BTC price", "usd"),
    ("hashprice_usd_per_ph_day", "USD/PH/day", "usd_cents"),
)
# Levels (``fleetcalc.frames.DAILY_LEVEL_COLUMNS``) by their mean over the month, flows by
# their sum, cumulative cash at the month's end.
MEAN_COLUMNS = tuple(c for c, _, _ in MONTHLY_COLUMNS if c in DAILY_LEVEL_COLUMNS)
SUM_COLUMNS = tuple(c for c, _, _ in MONTHLY_COLUMNS
                    if c not in DAILY_LEVEL_COLUMNS and c not in ("month", CUMULATIVE_CASH))
REVENUE_COLOR, ENERGY_COLOR, CASH_COLOR = (95, 200, 95), (235, 80, 80), (0, 175, 255)


def monthly(daily: pl.DataFrame) -> pl.DataFrame:
    """One row per calendar month: means of levels, sums of flows, cumulative cash at month end."""
    return (
        daily.lazy()
        .with_columns(pl.col("date").dt.truncate("1mo").alias("month_start"))
        .group_by("month_start", maintain_order=True)
        .agg(*(pl.col(c).mean() for c in MEAN_COLUMNS), *(pl.col(c).sum() for c in SUM_COLUMNS),
             pl.col(CUMULATIVE_CASH).last())
        .with_columns(pl.col("month_start").dt.strftime("%Y-%m").alias("month"))
        .collect()
    )


def mode_shares(orders: pl.DataFrame) -> pl.Series:
    """Per order, the modes it ran as shares of its unit-days, largest first ('eco 56% ·
    turbo 31% · stock 13%'); empty for an order that never ran."""
    columns = [c for c in orders.columns if c.startswith(UNIT_DAYS_PREFIX)]
    texts = []
    for row in orders.select(columns).iter_rows():
        total = sum(row)
        shares = sorted(((v / total, c.removeprefix(UNIT_DAYS_PREFIX))
                         for c, v in zip(columns, row, strict=True) if v > 0),
                        reverse=True) if total > 0 else []
        texts.append(" · ".join(f"{name} {share:.0%}" for share, name in shares))
    return pl.Series("mode_shares", texts, dtype=pl.String)


def cell(value: Any, fmt: str | None) -> Text:
    """A table cell: text left-aligned, numbers right-aligned in their format."""
    if value is None:
        return Text("", justify="right")
    if fmt is None:
        return Text(printable(str(value)), justify="left")
    return Text(format_value(value, fmt), justify="right")


class OrderDetail(DeferredRedraw, Widget):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="order-scroll"):
            with Horizontal(classes="field"):
                yield Label("Plan", classes="field-label")
                yield PlanPicker(id="orders-plan")
            yield Label("Per order: landed cost (USD; duty on the customs value, by origin "
                        "and import date), hours run, sell-back credits, modes run (share of "
                        "unit-days)", classes="section")
            yield DataTable(id="orders-table", cursor_type="row", zebra_stripes=True)
            yield Label("Tariff programs in force per order (they stack)", classes="section")
            yield DataTable(id="tariff-table", cursor_type="row", zebra_stripes=True)
            yield Label("Daily series of this plan (USD; means over paths)", classes="section")
            yield PlotextPlot(id="daily-chart")
            yield Label("By month (flows summed, levels averaged, cumulative at month end)",
                        classes="section")
            yield DataTable(id="monthly-table", cursor_type="row", zebra_stripes=True,
                            fixed_columns=1)

    def on_mount(self) -> None:
        for table_id, columns in (("#orders-table", ORDER_COLUMNS),
                                  ("#tariff-table", TARIFF_COLUMNS),
                                  ("#monthly-table", MONTHLY_COLUMNS)):
            table = self.query_one(table_id, DataTable)
            for key, header, _fmt in columns:
                table.add_column(header, key=key)
        self.query_one("#tariff-table", DataTable).add_column(
            "Source", key="source", width=SOURCE_WIDTH)
        self.follow_app("results", "selected")

    def redraw(self) -> None:
        app: Any = self.app
        results: Results | None = app.results
        if results is None or app.selected >= results.summary.height:
            return
        name = results.summary["plan"][app.selected]
        # Orders are numbered from 1, as in the editor.
        number = (pl.col("order_index") + 1).alias("order")
        orders = results.orders.filter(results.orders["plan"] == name).sort(
            "order_index").with_columns(number)
        orders = orders.with_columns(mode_shares(orders))
        table = self.query_one("#orders-table", DataTable)
        table.clear()
        for row in orders.iter_rows(named=True):
            table.add_row(*(cell(row[key], fmt) for key, _, fmt in ORDER_COLUMNS))
        lines = results.tariff_lines.filter(results.tariff_lines["plan"] == name).sort(
            "order_index").with_columns(number)
        table = self.query_one("#tariff-table", DataTable)
        table.clear()
        for row in lines.iter_rows(named=True):
            table.add_row(*(cell(row[key], fmt) for key, _, fmt in TARIFF_COLUMNS),
                          Text(printable(row["source"] or ""), overflow="fold"), height=None)
        daily = results.daily.filter(results.daily["plan"] == name)
        self._daily_chart(daily)
        table = self.query_one("#monthly-table", DataTable)
        table.clear()
        keys = [key for key, _, _ in MONTHLY_COLUMNS]
        formats = [fmt for _, _, fmt in MONTHLY_COLUMNS]
        table.add_rows(
            [cell(v, f) for v, f in zip(row, formats, strict=True)]
            for row in monthly(daily).select(keys).iter_rows()
        )

    def _daily_chart(self, daily: pl.DataFrame) -> None:
        plot = self.query_one("#daily-chart", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        daily = thinned(daily)
        years = decimal_years(daily["date"])
        plt.plot(years, (daily["revenue_usd"] / 1e3).to_list(), marker="braille",
                 color=REVENUE_COLOR)
        plt.plot(years, (daily["energy_cost_usd"] / 1e3).to_list(), marker="braille",
                 color=ENERGY_COLOR)
        plt.plot(years, (daily["cumulative_cash_usd"] / 1e6).to_list(), marker="braille",
                 color=CASH_COLOR, yside="right")
        ticks = year_ticks(daily["date"][0], daily["date"][-1])
        plt.xticks(ticks, [str(t) for t in ticks])
        plot.border_title = (
            "Per day: revenue and energy cost (USD k, left); cumulative cash (USD M, right)")
        plot.border_subtitle = legend([
            ("revenue/day", REVENUE_COLOR), ("energy cost/day", ENERGY_COLOR),
            ("cumulative cash", CASH_COLOR)])
        plot.refresh()
