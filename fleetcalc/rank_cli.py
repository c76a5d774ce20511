"""``fleetcalc rank [--power USD_PER_KWH] [--on DATE] [--origin CC] [--scenario S] [--sort KEY]
[--json]``: every catalog machine on one table (``fleetcalc.rank``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fleetcalc.errors import InputError

if TYPE_CHECKING:
    from rich.table import Table

    from fleetcalc.metrics import Metric
    from fleetcalc.rank import Ranking

# Below each terminal width the table leaves out columns (the others imply them).
NARROW_LEAVES_OUT = (
    (150, ("power_w", "revenue_usd_per_day", "energy_usd_per_day")),
    (110, ("hashrate_th",)),
)
# Below this width a row's mode and plant go under its model, in the model's column: at 80
# columns the ten columns cut numbers short ("9.…", "-2,43").
STACKED_BELOW = 100
EPILOG = """\
Per unit, on the date's market at full uptime: revenue, energy cost and profit per day; the
power price and the BTC price at which the day's revenue equals its energy cost (shutdown
prices); landed USD/TH (duty for the origin on the date); simple payback at the day's
hashprice; and the NPV of one unit delivered on the date over the scenario's horizon. Without
--origin each model comes from its lowest-duty plant.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``rank`` subcommand's arguments on ``parser``."""
    from fleetcalc.rank import DEFAULT_POWER_USD_PER_KWH, SORT_KEYS

    parser.description = "Every catalog model and mode ranked: profit per day, shutdown prices, "
    parser.description += "landed USD/TH, payback and NPV per unit."
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--power", metavar="USD_PER_KWH",
                        help=f"all-in power price (default {DEFAULT_POWER_USD_PER_KWH})")
    parser.add_argument("--on", metavar="DATE",
                        help="import and delivery date, and the market day (default: the "
                             "scenario's start)")
    parser.add_argument("--origin", metavar="CC",
                        help="country of manufacture (default: each model's lowest-duty plant)")
    parser.add_argument("--scenario", help="scenario TOML (default: built-in)")
    parser.add_argument("--sort", metavar="KEY", default="profit_usd_per_day",
                        help="column to sort by, best first: " + ", ".join(SORT_KEYS))
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace) -> int:
    """The ``rank`` subcommand; InputError propagates to the CLI (exit 2)."""
    from fleetcalc.plan import SITE_FIELDS
    from fleetcalc.plausibility import (
        command_line_power_warnings,
        print_warnings,
        scenario_warnings,
    )
    from fleetcalc.rank import DEFAULT_POWER_USD_PER_KWH, rank, records
    from fleetcalc.scenario import load_scenario
    from fleetcalc.validate import command_line_date, command_line_value, is_origin

    power = DEFAULT_POWER_USD_PER_KWH
    if args.power is not None:
        field = next(f for f in SITE_FIELDS if f.name == "power_usd_per_kwh")
        power = command_line_value(field, args.power, "--power")
    origin = args.origin
    if origin is not None and not is_origin(origin):
        raise InputError("command line", "--origin", origin,
                         "an ISO 3166 alpha-2 country code like MY (uppercase)")
    on = command_line_date(args.on, "--on") if args.on else None
    scenario = load_scenario(args.scenario)
    print_warnings([*scenario_warnings(scenario), *command_line_power_warnings(power)])
    ranking = rank(scenario, power, on, origin, args.sort)
    if args.json:
        print(json.dumps(records(ranking), indent=2))
    else:
        _print(ranking)
    return 0


def _rank_table(ranking: Ranking, shown: Sequence[Metric], width: int) -> Table:
    """The ranking's rows under the ``shown`` columns, laid out for ``width`` cells."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from fleetcalc.compare_text import wrap_name
    from fleetcalc.text import printable

    origin = ranking.origin or "lowest-duty plant"
    hashprice = ranking.table["hashprice_usd_per_ph_day"][0]
    scenario_name = printable(ranking.scenario.name)
    table = Table(title=Text(f"fleetcalc rank - power USD {ranking.power_usd_per_kwh:g}/kWh, "
                             f"{ranking.on}, origin {origin}, hashprice USD "
                             f"{hashprice:,.2f}/PH/day (scenario: {scenario_name})"),
                  title_justify="left",
                  box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    cells = {c.name: [c.text(v) for v in ranking.table[c.name]] for c in shown}
    # Each number column is never narrower than its widest number: the model gives way.
    widths = [max(len(c.label.split(" ", 1)[0]), *map(len, cells[c.name])) for c in shown]
    stacked = width < STACKED_BELOW
    # What the number columns, the 2-cell gaps and the table's edges leave the model (ids
    # wrap after hyphens).
    model_width = max(12, width - sum(widths) - 2 * (len(shown) + 2))
    if stacked:
        table.add_column("Model\nmode · from", overflow="fold", min_width=model_width,
                         max_width=model_width)
    else:
        table.add_column("Model", overflow="ellipsis", no_wrap=True, max_width=20)
        table.add_column("Mode", no_wrap=True)
        table.add_column("From", no_wrap=True, min_width=4)
    for column, column_width in zip(shown, widths, strict=True):
        # "Shutdown USD/kWh" in two lines: ten columns of numbers fit.
        table.add_column(column.label.replace(" ", "\n", 1), justify="right", no_wrap=True,
                         min_width=column_width)
    for i, row in enumerate(ranking.table.iter_rows(named=True)):
        loses = row["profit_usd_per_day"] < 0
        # textwrap breaks no hyphen next to a digit ("s23-hyd"): a space after each hyphen
        # lets it, taken out again (a line may end a cell short of the width: never over).
        model = "\n".join(line.replace("- ", "-") for line in wrap_name(
            row["model_id"].replace("-", "- "), model_width))
        where = ([Text(f"{model}\n{row['mode']} · {row['origin']}")] if stacked
                 else [Text(row["model_id"]), Text(row["mode"]), row["origin"]])
        table.add_row(*where, *(cells[c.name][i] for c in shown),
                      style="dim" if loses else None)
    return table


def _print(ranking: Ranking) -> None:
    from rich.console import Console
    from rich.text import Text

    from fleetcalc.rank import RANK_COLUMNS
    from fleetcalc.text import printable

    scenario = ranking.scenario
    console = Console()
    # The day's hashprice is one number for every row: in the title, not in a column. A
    # terminal too narrow for every column leaves out those the others imply.
    left_out = {"hashprice_usd_per_ph_day"}
    narrow = [names for width, names in NARROW_LEAVES_OUT if console.width < width]
    left_out |= {name for names in narrow for name in names}
    shown = [c for c in RANK_COLUMNS if c.name not in left_out]
    table = _rank_table(ranking, shown, console.width)
    console.print(table)
    if narrow:
        console.print(f"({', '.join(sorted(left_out - {'hashprice_usd_per_ph_day'}))} left "
                      "out on a terminal this narrow; --json has every column.)",
                      highlight=False)
    console.print(f"Market of {ranking.on}: pool fee {scenario.network.pool_fee:.1%}; per unit "
                  "at full uptime. NPV: one unit delivered that day, site uptime 97%, default "
                  f"finance, {scenario.horizon_days} days from {scenario.start_date}. Dim rows "
                  "lose money at this power price.", highlight=False)
    for note in ranking.notes:
        console.print(Text.assemble(("Note: ", "yellow"), printable(note)))
