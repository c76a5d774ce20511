"""Monte Carlo distribution: NPV histogram per plan, P10/P50/P90, probability of payback."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from fleetcalc.engine import Results
from fleetcalc.metrics import (
    BY_NAME,
    DISTRIBUTION,
    PERCENTILE_WORDS,
    PERCENTILES,
    in_view,
    percentile_column,
)
from tui.format import (
    PENDING,
    legend,
    pending_columns,
    plan_color,
    plan_label,
    plan_short_label,
    wrap_lines,
)
from tui.widgets.deferred import DeferredRedraw

HISTOGRAM_BINS = 30
HEADER_WIDTH = 20


class DistributionView(DeferredRedraw, Widget):
    def compose(self) -> ComposeResult:
        yield Static("", id="distribution-note", classes="hint")
        with Vertical(id="distribution-body"):
            yield PlotextPlot(id="npv-histogram")
            yield DataTable(id="percentile-table", cursor_type="none", zebra_stripes=True,
                            show_cursor=False)

    def on_mount(self) -> None:
        self.query_one("#npv-histogram").border_title = (
            "NPV across Monte Carlo paths: number of paths per NPV bin")
        self.follow_app("results", "details_pending")

    def redraw(self) -> None:
        results: Results | None = self.app.results  # type: ignore[attr-defined]
        if results is None:
            return
        note = self.query_one("#distribution-note", Static)
        body = self.query_one("#distribution-body")
        scenario = results.scenario
        if scenario.paths == 1:
            note.update(
                "The scenario has a single path, so there is no distribution to show. Set "
                "'Monte Carlo paths' above 1 in the Scenario tab (s): BTC price and network "
                "hashrate then follow random paths with the scenario's volatility and drift."
            )
            body.display = False
            return
        # The responsive network reads no hashrate volatility: its paths vary by their orders.
        network = (f"responsive network, order volatility "
                   f"{scenario.network.order_volatility:.0%}"
                   if scenario.network.model == "responsive" else
                   f"network volatility {scenario.network.annual_volatility:.0%}/yr")
        note.update(
            f"{scenario.paths:,} Monte Carlo paths, seed {scenario.seed}: BTC volatility "
            f"{scenario.btc.annual_volatility:.0%}/yr, drift {scenario.btc.annual_drift:.0%}/yr; "
            f"{network}. P10 is the pessimistic tenth of paths for every row (the long "
            "payback), P90 the optimistic."
        )
        body.display = True
        self._histogram(results)
        self._percentiles(results)

    def _histogram(self, results: Results) -> None:
        """One line per plan over shared bins (overlaid bars would hide each other)."""
        plot: Any = self.query_one("#npv-histogram", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        names = results.summary["plan"].to_list()
        npv_musd = {name: results.paths.filter(results.paths["plan"] == name)["npv_usd"]
                    .drop_nans().drop_nulls().to_numpy() / 1e6 for name in names}
        finite = [values for values in npv_musd.values() if values.size]
        if not finite:
            return
        # Bins span the 1st..99th percentiles so one extreme path does not squash the rest;
        # paths outside fall into the end bins.
        low = min(float(np.percentile(v, 1)) for v in finite)
        high = max(float(np.percentile(v, 99)) for v in finite)
        edges = np.linspace(low, high if high > low else low + 1.0, HISTOGRAM_BINS + 1)
        centers = ((edges[:-1] + edges[1:]) / 2).tolist()
        entries = []
        for i, name in enumerate(names):
            counts, _ = np.histogram(np.clip(npv_musd[name], edges[0], edges[-1]), edges)
            plt.plot(centers, counts.tolist(), marker="braille", color=plan_color(i))
            entries.append((plan_short_label(i, name), plan_color(i)))
        if low < 0.0 < high:
            plt.vertical_line(0.0, color="gray")
        plt.xlabel("NPV, USD M (left of 0: loses money; 1st-99th percentile range)")
        plot.border_subtitle = legend(entries, plot.size.width - 6)
        plot.refresh()

    def _percentiles(self, results: Results) -> None:
        table = self.query_one("#percentile-table", DataTable)
        table.clear(columns=True)
        records = results.records()
        pending = [pending_columns(r, results.scenario.paths)
                   if self.app.details_pending else set()  # type: ignore[attr-defined]
                   for r in records]
        headers = [wrap_lines(plan_label(i, r["plan"]), HEADER_WIDTH, 3)
                   for i, r in enumerate(records)]
        table.header_height = max(len(lines) for lines in headers)
        table.add_column(Text("Across paths", style="bold"))
        for lines in headers:
            table.add_column(Text("\n".join(lines), justify="right"))
        for metric in in_view(DISTRIBUTION):
            for q in PERCENTILES:
                column = percentile_column(metric, q)
                table.add_row(Text(f"{metric.label} P{q} {PERCENTILE_WORDS[q]}"), *(
                    Text(PENDING if column in waiting else metric.text(r[column]),
                         justify="right") for r, waiting in zip(records, pending, strict=True)))
        probability = BY_NAME["payback_probability"]
        table.add_row(Text(probability.label), *(
            Text(probability.text(r[probability.name]), justify="right") for r in records))
