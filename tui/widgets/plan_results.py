"""The selected plan's key results beside the editor, with the change the last edit made."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fleetcalc.metrics import FORMATS, Metric
from tui.format import PENDING, pending_columns
from tui.widgets.compare_table import row_label, rows_of


def change_text(old: Any, new: Any, metric: Metric) -> Text:
    """``+1,234`` / ``-0.5 pp``: green if the change is an improvement, red if not."""
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (old, new)):
        return Text("")
    diff = new - old
    whole = metric.fmt is not None and FORMATS[metric.fmt].whole
    if diff == 0 or (not whole and math.isclose(new, old, rel_tol=1e-12)):
        return Text("")
    magnitude = metric.text(abs(diff))
    if magnitude.endswith("%"):  # a change of a percentage is in percentage points
        magnitude = magnitude.replace("%", " pp")
    style = ""
    if metric.better is not None:
        style = "green" if (diff > 0) == (metric.better == "high") else "red"
    return Text(("+" if diff > 0 else "-") + magnitude, style=style, justify="right")


class PlanResults(Static):
    def on_mount(self) -> None:
        self.border_title = "Results of this plan (USD)"
        self.border_subtitle = "right: change from the previous result"
        # The last result per plan name, and the one before it changed: what an edit did.
        self._shown: dict[str, dict[str, Any]] = {}
        self._changes: dict[str, dict[str, Any]] = {}
        # The shown records are main numbers whose breakevens and percentiles are on their way.
        self._main_stage = False
        for name in ("results", "selected"):
            self.watch(self.app, name, self._show)

    def _show(self, _value: Any = None) -> None:
        app: Any = self.app
        results = app.results
        if results is None or app.selected >= results.summary.height:
            self.update("Computing…")
            return
        records = results.records()
        # The second stage completes the records the first showed: that is not an edit.
        completing = self._main_stage and not app.details_pending
        self._main_stage = app.details_pending
        for item in records:
            previous = self._shown.get(item["plan"])
            if previous is not None and previous != item and not completing:
                self._changes[item["plan"]] = previous
            self._shown[item["plan"]] = item
        record = records[app.selected]
        pending = pending_columns(record, results.scenario.paths) if app.details_pending else ()
        before = self._changes.get(record["plan"])
        table = Table.grid(padding=(0, 1))
        table.add_column()
        table.add_column(justify="right")
        table.add_column(justify="right")
        for row in rows_of(results):
            key, metric = row.column, row.metric
            # A row the previous result had not (percentiles once paths > 1) shows no change.
            change = change_text(before.get(key), record[key], metric) if before else Text("")
            table.add_row(row_label(row.label),
                          PENDING if key in pending else metric.text(record[key]), change)
        self.update(table)
