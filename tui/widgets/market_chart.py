"""The scenario's market path: BTC price (left axis) and hashprice (right axis)."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from fleetcalc.engine import Results
from tui.format import decimal_years, legend_markup, thinned, year_ticks
from tui.widgets.deferred import DeferredRedraw

PRICE_COLOR = (255, 150, 0)
HASHPRICE_COLOR = (0, 175, 255)


class MarketChart(DeferredRedraw, PlotextPlot):
    def on_mount(self) -> None:
        self.border_title = "Scenario: BTC price and hashprice"
        self.follow_app("results")

    def redraw(self) -> None:
        results: Results | None = self.app.results  # type: ignore[attr-defined]
        if results is None:
            return
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        market = thinned(results.market)
        years = decimal_years(market["date"])
        mean = ", mean of paths" if results.scenario.paths > 1 else ""
        self.border_title = f"Scenario: BTC price and hashprice{mean}"
        plt.plot(years, (market["price_usd"] / 1e3).to_list(), marker="braille", yside="left",
                 color=PRICE_COLOR)
        plt.plot(years, market["hashprice_usd_per_ph_day"].to_list(), marker="braille",
                 yside="right", color=HASHPRICE_COLOR)
        self.border_subtitle = legend_markup([
            ("BTC, USD k (L)", PRICE_COLOR), ("USD/PH/day (R)", HASHPRICE_COLOR)])
        ticks = year_ticks(results.scenario.start_date, results.scenario.end_date)
        plt.xticks(ticks, [str(t) for t in ticks])
        self.refresh()
