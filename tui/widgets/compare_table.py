"""The comparison table: the catalogue's compare rows (with Monte Carlo, each metric's statistic
and its P10/P50/P90), one column per plan."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from fleetcalc.engine import Results
from fleetcalc.metrics import Row, best_index, compare_rows
from tui.format import PENDING, pending_columns, plan_label, wrap_lines
from tui.widgets.deferred import DeferredRedraw

# Amounts are in USD unless a label says otherwise; the title says so once instead of per row.
USD_SUFFIX = " (USD)"
MAX_HEADER_LINES = 5
MIN_COLUMN_WIDTH = 10
MAX_COLUMN_WIDTH = 22


def row_label(label: str) -> str:
    """The label without its USD unit: 'NPV (USD)' -> 'NPV', 'NPV (mean, USD)' -> 'NPV (mean)'."""
    return label.removesuffix(USD_SUFFIX).replace(", USD)", ")")


def rows_of(results: Results) -> tuple[Row, ...]:
    return compare_rows(results.scenario.paths)


class CompareTable(DeferredRedraw, DataTable[Any]):
    """Plans side by side; the best value of each row is bold in the theme's success colour."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=True, fixed_columns=1,
                         show_cursor=False)
        self.border_title = "Plans side by side · amounts in USD · best per row in bold green"
        self._results: Results | None = None
        self._column_width = 0

    def on_mount(self) -> None:
        self.follow_app("results", "details_pending")
        # The highlight colour comes from the theme: redraw when the theme changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._app_changed())

    def on_resize(self, event: events.Resize) -> None:
        # Plan names wrap to the column width, which follows the space the table has.
        if self._results is not None and self._fit_width(self._results) != self._column_width:
            self._show(self._results)

    def redraw(self) -> None:
        self._show(self.app.results)  # type: ignore[attr-defined]

    def _fit_width(self, results: Results) -> int:
        label_width = max(len(row_label(row.label)) for row in rows_of(results)) + 2
        free = self.size.width - label_width - 2
        n_plans = results.summary.height
        return max(MIN_COLUMN_WIDTH, min(MAX_COLUMN_WIDTH, free // max(n_plans, 1) - 2))

    def _show(self, results: Results | None) -> None:
        if results is None:
            return
        self._results = results
        records = results.records()
        rows = rows_of(results)
        width = self._column_width = self._fit_width(results)
        app: Any = self.app
        # Breakevens and percentiles still being computed say so, never show stale values.
        pending = [pending_columns(r, results.scenario.paths) if app.details_pending else set()
                   for r in records]
        cells = {row.column: [PENDING if row.column in waiting else row.metric.text(r[row.column])
                              for r, waiting in zip(records, pending, strict=True)]
                 for row in rows}
        # A column is as wide as its longest value if that is wider than the share of space.
        widths = [max(width, *(len(cells[row.column][i]) for row in rows))
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
        for row in rows:
            best = best_index([r[row.column] for r in records], row.metric.better)
            texts = [Text(value, style=best_style if i == best else "", justify="right")
                     for i, value in enumerate(cells[row.column])]
            self.add_row(Text(row_label(row.label)), *texts, key=row.column)
