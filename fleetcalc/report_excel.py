"""The report as an Excel workbook (xlsxwriter): Summary, Orders, Cash flows, Market,
Assumptions and, where computed, Sensitivity and Optimiser; native line charts of cumulative
cash and hashprice; frozen headers, column widths and number formats.

Numbers are stored unscaled (as ``compare --json`` gives them) and scaled by the cell's
number format where the catalogue's format scales (``#,##0.000,,`` shows TH/s as EH/s), so
a formula on a cell sees the true value.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from fleetcalc import metrics
from fleetcalc.io import write_bytes_atomic
from fleetcalc.report_tables import (
    MISSING_SECTION,
    Extras,
    assumptions_table,
    monthly_cash,
    monthly_market,
    orders_table,
    plan_names,
    summary_rows,
)

if TYPE_CHECKING:
    from fleetcalc.engine import Results

# Excel's number format for each of the catalogue's FORMATS codes (a trailing comma divides
# by 1,000 on display).
EXCEL_FORMATS = {
    "count": "#,##0", "index": "0", "usd": "#,##0", "usd_cents": "#,##0.00",
    "btc": "#,##0.00", "btc_4dp": "0.0000", "j_per_th": "0.00", "usd_per_kwh": "0.0000",
    "th_as_ehs": "#,##0.000,,", "th_as_phs": "#,##0.0,", "kw_as_mw": "#,##0.00,",
    "w_as_mw": "#,##0.00,,", "fraction_as_pct_0dp": "0%", "fraction_as_pct": "0.0%",
    "fraction_as_pct_2dp": "0.00%", "days": "#,##0", "th": "#,##0.0", "w": "#,##0",
    "megawatts": "#,##0.00",
}
DATE_FORMAT = "yyyy-mm-dd"
BEST_FILL = "#C6EFCE"  # Excel's own "good" green
MAX_WIDTH = 60


def column_format(name: str, dtype: pl.DataType) -> str | None:
    """The number format of a table column, read from its name's unit."""
    if dtype == pl.Date:
        return DATE_FORMAT
    if not dtype.is_numeric():
        return None
    if name in ("rate", "irr") or name.startswith("irr_") or name.endswith(
            ("_rate", "_fraction", "_share")):
        return EXCEL_FORMATS["fraction_as_pct"]
    if name == "difficulty":
        return "0.000E+00"
    if name.endswith(("_usd", "_usd_per_btc")) or name in (
            "quantity", "order_index", "units", "candidate"):
        return EXCEL_FORMATS["usd"]
    return "#,##0.00"


class _Book:
    """A workbook with the formats every sheet shares."""

    def __init__(self, handle: io.BytesIO) -> None:
        import xlsxwriter

        self.book = xlsxwriter.Workbook(handle, {"in_memory": True, "nan_inf_to_errors": True})
        self.bold = self.book.add_format({"bold": True, "bottom": 1, "text_wrap": True,
                                          "valign": "top"})
        self.wrap = self.book.add_format({"text_wrap": True, "valign": "top"})
        self._formats: dict[tuple[str, bool], Any] = {}

    def number(self, spec: str | None, best: bool = False) -> Any:
        key = (spec or "", best)
        if key not in self._formats:
            props: dict[str, Any] = {"num_format": spec} if spec else {}
            if best:
                props.update(bg_color=BEST_FILL, bold=True)
            self._formats[key] = self.book.add_format(props)
        return self._formats[key]

    def table(self, name: str, frame: pl.DataFrame, note: str = "") -> Any:
        """A sheet holding ``frame``: header row frozen, widths from the content, each
        column's number format from its unit; ``note`` under the table."""
        sheet = self.book.add_worksheet(name)
        for col, (column, dtype) in enumerate(frame.schema.items()):
            sheet.write_string(0, col, column, self.bold)
            fmt = self.number(column_format(column, dtype))
            for row, value in enumerate(frame[column].to_list(), 1):
                _write(sheet, row, col, value, fmt)
            longest = max([len(column), *(len(str(v)) for v in frame[column].head(200))])
            sheet.set_column(col, col, min(MAX_WIDTH, longest + 2))
        sheet.freeze_panes(1, 0)
        if note:
            sheet.write_string(frame.height + 2, 0, note)
        return sheet


def _write(sheet: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt)
    elif isinstance(value, list):
        sheet.write_string(row, col, "; ".join(map(str, value)))
    else:
        sheet.write(row, col, value, fmt)


def _summary_sheet(book: _Book, results: Results) -> None:
    """Plans side by side, one metric per row; the best plan of each row filled green; a
    metric that does not exist reads as its format's missing text ('n/a', 'never')."""
    sheet = book.book.add_worksheet("Summary")
    plans = plan_names(results)
    sheet.write_string(0, 0, "Metric", book.bold)
    for col, plan in enumerate(plans, 1):
        sheet.write_string(0, col, plan, book.bold)
    for r, row in enumerate(summary_rows(results), 1):
        sheet.write_string(r, 0, row.label)
        spec = EXCEL_FORMATS[row.fmt]
        for col, value in enumerate(row.values, 1):
            fmt = book.number(spec, best=(col - 1) == row.best)
            if value is None:
                sheet.write_string(r, col, metrics.FORMATS[row.fmt].missing, fmt)
            else:
                sheet.write_number(r, col, value, fmt)
    from fleetcalc.compare_text import statistics_note

    note_row = len(summary_rows(results)) + 2
    sheet.write_string(note_row, 0, "Best value per row filled green. "
                       + statistics_note(results.scenario.paths))
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, len(plans), 18)
    sheet.freeze_panes(1, 1)


def _line_chart(book: _Book, sheet_name: str, title: str, y_title: str,
                series: list[tuple[str, int, int, int]], x_col: int, number_format: str) -> Any:
    """A line chart of ``series`` (name, value column, first row, last row) against the dates
    in ``x_col`` of the same rows."""
    chart = book.book.add_chart({"type": "line"})
    for name, col, first, last in series:
        chart.add_series({
            "name": name, "categories": [sheet_name, first, x_col, last, x_col],
            "values": [sheet_name, first, col, last, col], "line": {"width": 1.5},
        })
    chart.set_title({"name": title})
    chart.set_x_axis({"date_axis": True, "num_format": "yyyy-mm"})
    chart.set_y_axis({"name": y_title, "num_format": number_format})
    chart.set_size({"width": 900, "height": 420})
    return chart


def _cash_sheet(book: _Book, results: Results) -> None:
    cash = monthly_cash(results)
    sheet = book.table("Cash flows", cash, "Monthly sums of the daily flows (means over paths); "
                       "cumulative cash at each month's end.")
    value_col = cash.columns.index("cumulative_cash_usd")
    series = []
    row = 1
    for plan, part in cash.group_by("plan", maintain_order=True):
        series.append((str(plan[0]), value_col, row, row + part.height - 1))
        row += part.height
    chart = _line_chart(book, "Cash flows", "Cumulative cash per plan", "USD", series,
                        cash.columns.index("month"), "#,##0")
    sheet.insert_chart(1, cash.width + 1, chart)


def _market_sheet(book: _Book, results: Results) -> None:
    market = monthly_market(results)
    sheet = book.table("Market", market, "Monthly means (over the month and over paths).")
    column = market.columns.index("hashprice_usd_per_ph_day")
    chart = _line_chart(book, "Market", "Hashprice", "USD/PH/day",
                        [("hashprice", column, 1, market.height)],
                        market.columns.index("month"), "#,##0.00")
    sheet.insert_chart(1, market.width + 1, chart)


def workbook_bytes(results: Results, extras: Extras) -> bytes:
    """The whole workbook in memory (written to disk in one atomic step by the caller)."""
    handle = io.BytesIO()
    book = _Book(handle)
    _summary_sheet(book, results)
    book.table("Orders", orders_table(results),
               "One row per order and tariff program in force; rate is of customs value.")
    _cash_sheet(book, results)
    _market_sheet(book, results)
    notes = [text for name, text in MISSING_SECTION.items() if getattr(extras, name) is None]
    book.table("Assumptions", assumptions_table(results), " ".join(notes))
    if extras.sensitivity is not None:
        book.table("Sensitivity", extras.sensitivity)
    if extras.optimiser is not None:
        book.table("Optimiser", extras.optimiser)
    book.book.close()
    return handle.getvalue()


def write_workbook(results: Results, path: str | Path, extras: Extras) -> Path:
    """Write the workbook to ``path`` atomically (built in memory first)."""
    return write_bytes_atomic(workbook_bytes(results, extras), path)
