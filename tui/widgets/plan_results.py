"""The selected plan's key results beside the editor, with the change the last edit made."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import events
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
        # The table shown, and the width and lines it was laid out at (0: not yet).
        self._table: Table | None = None
        self._laid_out_width = self._laid_out_lines = 0
        for name in ("results", "selected"):
            self.watch(self.app, name, self._show)

    def _show(self, _value: Any = None) -> None:
        app: Any = self.app
        results = app.results
        if results is None or app.selected >= results.summary.height:
            self._laid_out_lines = 0
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
        self._table = table
        self._lay_out()

    def on_resize(self, _event: events.Resize) -> None:
        if self._table is not None and self.content_size.width != self._laid_out_width:
            self._lay_out()

    def _lay_out(self) -> None:
        """Show the table as text laid out once at the panel's width: Textual renders a Rich
        table to find its height, then again to paint it, and Rich measures every cell each
        time (~20 ms a render for the 61 rows of a Monte Carlo plan, on every edit); the text,
        the same lines and styles, is cheap to measure and paint. Before the panel has a width,
        the table itself."""
        assert self._table is not None
        width = self.content_size.width
        same_width, self._laid_out_width = width == self._laid_out_width, width
        if width <= 0:
            self._laid_out_lines = 0
            self.update(self._table)
            return
        console = self.app.console
        options = self.app.console_options.update(highlight=False, width=width)
        lines = console.render_lines(self._table, options, pad=False)
        # As many lines at the same width: the panel keeps its size, so the screen needs a
        # repaint of it, not a layout of every widget.
        same_size = same_width and len(lines) == self._laid_out_lines
        self._laid_out_lines = len(lines)
        self.update(Text("\n").join(
            Text.assemble(*((segment.text, segment.style) for segment in line
                            if not segment.control))
            for line in lines), layout=not same_size)
