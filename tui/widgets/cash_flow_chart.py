"""Cumulative cash flow per plan over time: payback is where a line crosses zero."""

from __future__ import annotations

from fleetcalc.engine import Results
from tui.format import decimal_years, legend, plan_color, plan_short_label, thinned
from tui.widgets.results_chart import ResultsChart


class CashFlowChart(ResultsChart):
    TITLE = "Cumulative cash, USD M (0 = payback)"

    def plot(self, results: Results) -> None:
        entries = []
        for i, name in enumerate(results.summary["plan"].to_list()):
            rows = thinned(results.daily.filter(results.daily["plan"] == name))
            # The legend goes in the border: inside the plot it would hide the curves.
            self.plt.plot(decimal_years(rows["date"]),
                          (rows["cumulative_cash_usd"] / 1e6).to_list(),
                          marker="braille", color=plan_color(i))
            entries.append((plan_short_label(i, name), plan_color(i)))
        self.border_subtitle = legend(entries, self.size.width - 6)
        self.plt.horizontal_line(0.0, color="gray")
        self.plt.ylabel("USD M")
