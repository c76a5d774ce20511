"""The help screen: keys, tabs and what the numbers mean."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from tui.edits import new_plan_site_text

HELP_MARKDOWN = f"""\
# fleetcalc help

fleetcalc compares ASIC purchase plans: what each fleet costs landed in the US (with import
tariffs by country of origin), what it mines under the scenario, and what it is worth.

## Tabs (the underlined letter opens each)
- `c` **Compare**: plans side by side, best value per row highlighted; cumulative cash
  flow (payback where a line crosses zero); the scenario's BTC price and hashprice; the
  assumptions behind them.
- `e` **Edit plan**: every key of a plan file: name, excluded origins, site (power price,
  hosting, capacity, uptime, curtailment, its name; with several sites, the selected order's),
  finance (discount rate, residual value, BTC kept, debt, tax, depreciation) and per order the
  maker and model, origin, operating mode, quantity, unit price or USD/TH, import and delivery
  dates, payment terms and the unit figures (degradation, failures, repairs, service life,
  freight, install). A blank field takes the default shown in grey in it. Orders: **Add order**
  / **Remove** (a site goes with its last order), **New site** (the order moves to a copy of its
  site, to rename and edit); **New plan** (one unit on {new_plan_site_text()}: placeholders to
  edit), **Copy**, **Remove**. A plan name must differ from the other plans'. Changing the model
  replaces the unit price by the catalog's when it has one, and says so with the price's basis
  and date under the price. Press **Enter** (or leave the field) to apply; the results update at
  once. A bad value is explained under the field and changes nothing.
- `s` **Scenario**: every key of a scenario file: name, start date, horizon, seed, Monte Carlo
  paths, failures, its assumptions (items separated by `; `), BTC price, drift, volatility or a
  price series, the network model and its keys (hashrate, difficulty, block height, fees, pool
  fee; growth, volatility and correlation with the price for the exogenous model, the miners'
  economics for the responsive one: the other model's keys are greyed out), origin risk, and
  tariff overrides ("MY reciprocal 40% from 2027-01-01"). Drift and growth move every path, the
  single one too; volatility and correlation need paths > 1. An edited scenario is titled
  "(edited)" and its changes head its assumptions; **Save scenario** writes them.
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
| `ctrl+r` | Export a report: Excel workbook (.xlsx) or self-contained HTML (.html) |
| `ctrl+t` | Dark / light theme |
| `f2` | Save a screenshot (SVG) in the app's folder (below) |
| `ctrl+p` | Command palette: every action (open/save scenario; new, copy, remove plan) |
| `tab` / `shift+tab` | Next / previous field |
| `escape` | Leave a field (then the letter keys work) / close a dialog |
| `f1`, `?` | This help |
| `q`, `ctrl+q` | Quit |

## What the numbers mean
- **Capex landed**: units x (customs value x (1 + tariff rates in force for the origin on the
  import date) + freight + install). *of which tariffs* is the duty part.
- **NPV** at the plan's discount rate; **IRR** per year; **payback** in days after the first
  delivery ("never" within the horizon).
- **Cost to mine 1 BTC, all-in**: energy, repairs, site fixed costs and capex less residual
  value, per BTC mined.
- **All-in breakeven BTC price / power price** (NPV = 0): the price that makes NPV zero, with
  capex, discounting, growth and the halving, solved by re-running the simulation (with Monte
  Carlo on every path: the row shows their median; n/a where none exists, the reason in the
  note). **Shutdown** power / BTC price: where day-0 revenue equals the energy cost, the price
  at which a running machine is switched off.
- With Monte Carlo each row says its statistic: amounts are means over all paths, metrics a
  path may lack (IRR, payback, costs per BTC, breakevens) medians over all paths; a row naming
  none is the same on every path (nameplate, capex, day-0 shutdown prices). P10 is always
  the pessimistic tenth of paths and P90 the optimistic (for payback P10 is the long one); the
  Distribution tab shows the spread.
- Figures marked as **assumptions** (scenario and tariff schedule) are not observed facts.

## Files
Plans, scenarios and exports go where you type (relative paths start in the working
directory). Screenshots go to the app's folder: `$FLEETCALC_HOME/screenshots` if that
variable is set, else the user data folder (`~/.local/share/fleetcalc/screenshots` on Linux).
A file that cannot be read or written keeps its dialog open with the reason, which the status
line repeats; nothing changes.

Press `escape` to close.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP_MARKDOWN)
