"""A plotext chart over time drawn from the app's results (the cash-flow and market charts)."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from fleetcalc.engine import Results
from tui.format import year_ticks
from tui.widgets.deferred import DeferredRedraw


class ResultsChart(DeferredRedraw, PlotextPlot):
    """Redraws from ``app.results`` while on screen: subclasses set ``TITLE`` and implement
    ``plot(results)``; the years axis and the refresh are shared."""

    TITLE = ""

    def on_mount(self) -> None:
        self.border_title = self.TITLE
        self.follow_app("results")

    def redraw(self) -> None:
        results: Results | None = self.app.results  # type: ignore[attr-defined]
        if results is None:
            return
        self.plt.clear_data()
        self.plt.clear_figure()
        self.plot(results)
        ticks = year_ticks(results.scenario.start_date, results.scenario.end_date)
        self.plt.xticks(ticks, [str(t) for t in ticks])
        self.refresh()

    def plot(self, results: Results) -> None:
        raise NotImplementedError
