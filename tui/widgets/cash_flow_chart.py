"""Cumulative cash flow per plan over time: payback is where a line crosses zero."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from fleetcalc.engine import Results
from tui.format import (
    decimal_years,
    legend_markup,
    plan_color,
    plan_short_label,
    thinned,
    year_ticks,
)
from tui.widgets.deferred import DeferredRedraw


class CashFlowChart(DeferredRedraw, PlotextPlot):
    def on_mount(self) -> None:
        self.border_title = "Cumulative cash, USD M (0 = payback)"
        self.follow_app("results")

    def redraw(self) -> None:
        results: Results | None = self.app.results  # type: ignore[attr-defined]
        if results is None:
            return
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        scenario = results.scenario
        legend = []
        for i, name in enumerate(results.summary["plan"].to_list()):
            rows = thinned(results.daily.filter(results.daily["plan"] == name))
            # The legend goes in the border: inside the plot it would hide the curves.
            plt.plot(decimal_years(rows["date"]), (rows["cumulative_cash_usd"] / 1e6).to_list(),
                     marker="braille", color=plan_color(i))
            legend.append((plan_short_label(i, name), plan_color(i)))
        self.border_subtitle = legend_markup(legend, self.size.width - 6)
        plt.horizontal_line(0.0, color="gray")
        ticks = year_ticks(scenario.start_date, scenario.end_date)
        plt.xticks(ticks, [str(t) for t in ticks])
        plt.ylabel("USD M")
        self.refresh()
