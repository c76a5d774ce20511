"""The comparison table: one row per metric of the catalogue's compare view, one column per
plan."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from fleetcalc.engine import Results
from fleetcalc.metrics import COMPARE, best_index, in_view
from tui.format import plan_label, wrap_lines
from tui.widgets.deferred import DeferredRedraw

# Amounts are in USD unless a label says otherwise; the title says so once instead of per row.
USD_SUFFIX = " (USD)"
MAX_HEADER_LINES = 5
MIN_COLUMN_WIDTH = 10
MAX_COLUMN_WIDTH = 22
ROWS = in_view(COMPARE)


def row_label(label: str) -> str:
    return label.removesuffix(USD_SUFFIX)


class CompareTable(DeferredRedraw, DataTable[Any]):
    """Plans side by side; the best value of each row is bold in the theme's success colour."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=True, fixed_columns=1,
                         show_cursor=False)
        self.border_title = "Plans side by side · amounts in USD · best per row in bold green"
        self._results: Results | None = None
        self._column_width = 0

    def on_mount(self) -> None:
        self.follow_app("results")
        # The highlight colour comes from the theme: redraw when the theme changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._app_changed())

    def on_resize(self, event: events.Resize) -> None:
        # Plan names wrap to the column width, which follows the space the table has.
        if self._results is not None and self._fit_width(len(self._results.summary)) != (
                self._column_width):
            self._show(self._results)

    def redraw(self) -> None:
        self._show(self.app.results)  # type: ignore[attr-defined]

    def _fit_width(self, n_plans: int) -> int:
        label_width = max(len(row_label(metric.label)) for metric in ROWS) + 2
        free = self.size.width - label_width - 2
        return max(MIN_COLUMN_WIDTH, min(MAX_COLUMN_WIDTH, free // max(n_plans, 1) - 2))

    def _show(self, results: Results | None) -> None:
        if results is None:
            return
        self._results = results
        records = results.records()
        width = self._column_width = self._fit_width(len(records))
        cells = {m.name: [m.text(r[m.name]) for r in records] for m in ROWS}
        # A column is as wide as its longest value if that is wider than the share of space.
        widths = [max(width, *(len(cells[m.name][i]) for m in ROWS))
                  for i in range(len(records))]
        headers = [wrap_lines(plan_label(i, r["plan"]), w, MAX_HEADER_LINES)
                   for i, (r, w) in enumerate(zip(records, widths, strict=True))]
        widths = [max(w, *(len(line) for line in lines))
                  for w, lines in zip(widths, headers, strict=True)]
        best_style = f"bold {self.app.theme_variables.get('success', 'green')}"
        self.clear(columns=True)
        self.header_height = max(len(lines) for lines in headers)
        self.add_column(Text("Metric", style="bold"), key="metric")
        for i, lines in enumerate(headers):
            self.add_column(Text("\n".join(lines), justify="right"), key=f"plan-{i}",
                            width=widths[i])
        for metric in ROWS:
            best = best_index([r[metric.name] for r in records], metric.better)
            row = [Text(value, style=best_style if i == best else "", justify="right")
                   for i, value in enumerate(cells[metric.name])]
            self.add_row(Text(row_label(metric.label)), *row, key=metric.name)
