"""Order detail of the selected plan: landed cost per order, every tariff program in force with
its rate and source, and the plan's daily series."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Label

from fleetcalc.engine import Results
from tui.widgets.plan_picker import PlanPicker

ORDER_COLUMNS = (
    # (column, header, format)
    ("order_index", "#", "{:.0f}"), ("model", "Model", "{}"), ("origin", "Origin", "{}"),
    ("quantity", "Units", "{:,.0f}"), ("customs_value_usd", "Customs value/unit", "{:,.2f}"),
    ("tariff_rate", "Tariff rate", "pct"), ("tariffs_usd_per_unit", "Tariffs/unit", "{:,.2f}"),
    ("tariffs_usd", "Tariffs", "{:,.0f}"),
    ("landed_cost_usd_per_unit", "Landed/unit", "{:,.2f}"),
    ("landed_cost_usd", "Landed cost", "{:,.0f}"), ("landed_usd_per_th", "USD/TH", "{:,.2f}"),
)
TARIFF_COLUMNS = (
    ("order_index", "#", "{:.0f}"), ("program", "Program", "{}"), ("rate", "Rate", "pct"),
    ("status", "Status", "{}"), ("tariff_usd_per_unit", "Tariff/unit", "{:,.2f}"),
    ("tariff_usd", "Tariff", "{:,.0f}"),
)
SOURCE_WIDTH = 48
DAILY_COLUMNS = (
    ("date", "Date", "{}"), ("hashrate_th", "PH/s", "ph"), ("power_w", "MW", "mw"),
    ("running_units", "Running", "{:,.0f}"), ("btc", "BTC", "{:.5f}"),
    ("revenue_usd", "Revenue", "{:,.0f}"), ("energy_cost_usd", "Energy", "{:,.0f}"),
    ("repair_cost_usd", "Repairs", "{:,.0f}"), ("capex_usd", "Capex", "{:,.0f}"),
    ("cash_flow_usd", "Cash flow", "{:,.0f}"), ("cumulative_cash_usd", "Cumulative", "{:,.0f}"),
    ("price_usd", "BTC price", "{:,.0f}"),
    ("hashprice_usd_per_ph_day", "Hashprice/PH/day", "{:,.2f}"),
)


def cell(value: Any, fmt: str) -> Text:
    if value is None:
        return Text("", justify="right")
    if fmt == "pct":
        text = f"{value * 100:.2f}%"
    elif fmt == "ph":
        text = f"{value / 1000:,.1f}"
    elif fmt == "mw":
        text = f"{value / 1e6:,.2f}"
    else:
        text = fmt.format(value)
    return Text(text, justify="right" if fmt != "{}" else "left")


class OrderDetail(Widget):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="order-scroll"):
            with Horizontal(classes="field"):
                yield Label("Plan", classes="field-label")
                yield PlanPicker(id="orders-plan")
            yield Label("Landed cost per order (USD; duty on the customs value, by origin and "
                        "import date)", classes="section")
            yield DataTable(id="orders-table", cursor_type="row", zebra_stripes=True)
            yield Label("Tariff programs in force per order (they stack)", classes="section")
            yield DataTable(id="tariff-table", cursor_type="row", zebra_stripes=True)
            yield Label("Daily series of this plan (USD; means over paths)", classes="section")
            yield DataTable(id="daily-table", cursor_type="row", zebra_stripes=True,
                            fixed_columns=1)

    def on_mount(self) -> None:
        for table_id, columns in (("#orders-table", ORDER_COLUMNS),
                                  ("#tariff-table", TARIFF_COLUMNS),
                                  ("#daily-table", DAILY_COLUMNS)):
            table = self.query_one(table_id, DataTable)
            for key, header, _fmt in columns:
                table.add_column(header, key=key)
        self.query_one("#tariff-table", DataTable).add_column(
            "Source", key="source", width=SOURCE_WIDTH)
        self.watch(self.app, "results", self._show)
        self.watch(self.app, "selected", self._show)

    def _show(self, _value: Any = None) -> None:
        app: Any = self.app
        results: Results | None = app.results
        if results is None or app.selected >= results.summary.height:
            return
        name = results.summary["plan"][app.selected]
        orders = results.orders.filter(results.orders["plan"] == name).sort("order_index")
        table = self.query_one("#orders-table", DataTable)
        table.clear()
        for row in orders.iter_rows(named=True):
            table.add_row(*(cell(row[key], fmt) for key, _, fmt in ORDER_COLUMNS))
        lines = results.tariff_lines.filter(results.tariff_lines["plan"] == name).sort(
            "order_index")
        table = self.query_one("#tariff-table", DataTable)
        table.clear()
        for row in lines.iter_rows(named=True):
            table.add_row(*(cell(row[key], fmt) for key, _, fmt in TARIFF_COLUMNS),
                          Text(row["source"] or "", overflow="fold"), height=None)
        daily = results.daily.filter(results.daily["plan"] == name)
        table = self.query_one("#daily-table", DataTable)
        table.clear()
        keys = [key for key, _, _ in DAILY_COLUMNS]
        formats = [fmt for _, _, fmt in DAILY_COLUMNS]
        table.add_rows(
            [cell(v, f) for v, f in zip(row, formats, strict=True)]
            for row in daily.select(keys).iter_rows()
        )
