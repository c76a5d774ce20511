"""The selected plan's key results and its model's catalog specs, beside the editor."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from textual.widgets import Static

from fleetcalc.cli import COMPARE_ROWS, format_value
from tui.widgets.compare_table import row_label


class PlanResults(Static):
    def on_mount(self) -> None:
        self.border_title = "Results of this plan (USD)"
        for name in ("results", "selected", "plans"):
            self.watch(self.app, name, self._show)

    def _show(self, _value: Any = None) -> None:
        app: Any = self.app
        results = app.results
        if results is None or app.selected >= results.summary.height:
            self.update("Computing…")
            return
        record = results.records()[app.selected]
        table = Table.grid(padding=(0, 1))
        table.add_column()
        table.add_column(justify="right")
        for key, label, fmt, _better in COMPARE_ROWS:
            table.add_row(row_label(label), format_value(record[key], fmt))
        self.update(table)
