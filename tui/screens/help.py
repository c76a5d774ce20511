"""The help screen: keys, tabs and what the numbers mean."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP_MARKDOWN = """\
# fleetcalc help

fleetcalc compares ASIC purchase plans: what each fleet costs landed in the US (with import
tariffs by country of origin), what it mines under the scenario, and what it is worth.

## Tabs (the underlined letter opens each)
- `c` **Compare**: plans side by side, best value per row highlighted; cumulative cash
  flow (payback where a line crosses zero); the scenario's BTC price and hashprice; the
  assumptions behind them.
- `e` **Edit plan**: model (by maker), quantity, origin, unit price, import and delivery
  dates, site power price and capacity. Press **Enter** (or leave the field) to apply; the
  results update at once. A bad value is explained under the field and changes nothing.
- `s` **Scenario**: BTC price, drift, volatility, network hashrate and growth, fees, pool
  fee, tariff overrides ("MY reciprocal 40% from 2027-01-01"), Monte Carlo paths and seed.
- `o` **Orders**: landed-cost breakdown per order, every tariff program with its rate and
  source, and the plan's daily series.
- `d` **Distribution**: with Monte Carlo paths > 1, the NPV histogram, P10/P50/P90 and the
  probability of payback within the horizon.
- `t` **Sensitivity**: a tornado per plan (NPV at the low and high end of every input, largest
  swing first) and, for the selected plan, a heat table of two inputs you choose.

## Screens
- `r` **Rank machines**: every catalog model and mode at a power price and origin: profit per
  day, shutdown power and BTC prices, landed USD/TH, payback and NPV per unit.
- `p` **Optimise**: a candidates file with the budget, megawatts and excluded origins you set,
  solved for the best plan; *Open the plan* adds it to the comparison.
- `escape` on either screen comes back.

## Keys
| Key | Action |
|-----|--------|
| `[` / `]` | Previous / next plan (editor and order detail) |
| `ctrl+o` / `ctrl+s` | Open a plan / save the selected plan (TOML) |
| `ctrl+e` | Export the comparison (.csv or .parquet) |
| `ctrl+t` | Dark / light theme |
| `f2` | Save a screenshot (SVG) |
| `ctrl+p` | Command palette: every action, including open/save scenario and remove plan |
| `escape` | Leave a field (then the letter keys work) / close a dialog |
| `f1`, `?` | This help |
| `q`, `ctrl+q` | Quit |

## What the numbers mean
- **Capex landed**: units x (customs value x (1 + tariff rates in force for the origin on the
  import date) + freight + install). *of which tariffs* is the duty part.
- **NPV** at the plan's discount rate; **IRR** per year; **payback** in days after the first
  delivery ("never" within the horizon).
- **Cost to mine 1 BTC, all-in**: energy + repairs + capex - residual value, per BTC mined.
- **Breakeven BTC price / power price**: the price that makes NPV zero. Solved for single-path
  scenarios only (Monte Carlo shows n/a).
- With Monte Carlo the table shows means over paths; the Distribution tab shows the spread.
- Figures marked as **assumptions** (scenario and tariff schedule) are not observed facts.

Press `escape` to close.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP_MARKDOWN)
