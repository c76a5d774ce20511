"""The scenario's market path: BTC price (left axis) and hashprice (right axis)."""

from __future__ import annotations

from fleetcalc.engine import Results
from tui.format import decimal_years, legend, thinned
from tui.widgets.results_chart import ResultsChart

PRICE_COLOR = (255, 150, 0)
HASHPRICE_COLOR = (0, 175, 255)


class MarketChart(ResultsChart):
    TITLE = "Scenario: BTC price and hashprice"

    def plot(self, results: Results) -> None:
        market = thinned(results.market)
        years = decimal_years(market["date"])
        mean = ", mean of paths" if results.scenario.paths > 1 else ""
        self.border_title = f"{self.TITLE}{mean}"
        self.plt.plot(years, (market["price_usd"] / 1e3).to_list(), marker="braille",
                      yside="left", color=PRICE_COLOR)
        self.plt.plot(years, market["hashprice_usd_per_ph_day"].to_list(), marker="braille",
                      yside="right", color=HASHPRICE_COLOR)
        self.border_subtitle = legend([
            ("BTC, USD k (L)", PRICE_COLOR), ("USD/PH/day (R)", HASHPRICE_COLOR)])
