"""``fleetcalc sensitivity [PLAN...] [--scenario S] [--ranges FILE] [--json] [--out FILE]`` and
``... --grid AXIS [AXIS] [--metric npv_usd|irr|payback_days]``: a tornado per plan, or a grid of
one or two inputs (``fleetcalc.sensitivity``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from fleetcalc.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from fleetcalc.plan import Plan
    from fleetcalc.sensitivity import Tornado
    from fleetcalc.variation import Axis

EPILOG = """\
Tornado (default): each plan's NPV and IRR at the low and high end of every input - BTC price
and drift, network hashrate, growth, fees and pool fee, power price, uptime, unit prices,
degradation, failure rate, discount rate, residual value and each tariff program in force -
sorted by swing. Default ranges are in the README; --ranges FILE gives others by TOML path
([btc] price_usd = [60000.0, 140000.0]; "+0.01" adds, "-20%" scales, false leaves an input out).

Grid: --grid "btc.price_usd=60000:140000:9" "site.power_usd_per_kwh=0.03:0.09:7" (from, to,
points; or comma-separated values; or changes: "orders.unit_price_usd=-20%:+20%:5") shows
--metric per plan as a coloured table; --out writes every cell's NPV, IRR and payback as
.csv, .json or .parquet.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``sensitivity`` subcommand's arguments on ``parser``."""
    from fleetcalc.sensitivity import GRID_METRICS

    parser.description = "Which input moves the answer most: a tornado per plan, or a grid."
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("plans", nargs="*", help="plan TOML files (default: the built-in four)")
    parser.add_argument("--scenario", help="scenario TOML (default: built-in)")
    parser.add_argument("--ranges", metavar="FILE", help="TOML of input ranges (tornado)")
    parser.add_argument("--grid", nargs="+", metavar="AXIS",
                        help="one or two inputs NAME=FROM:TO:POINTS (or NAME=V1,V2,...)")
    parser.add_argument("--metric", choices=GRID_METRICS, default="npv_usd",
                        help="what the grid shows (default npv_usd)")
    parser.add_argument("--out", metavar="FILE", help="write the table (.csv, .json, .parquet)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _axes(texts: list[str]) -> list[Axis]:
    from fleetcalc.variation import parse_axis

    if len(texts) > 2:
        raise InputError("command line", "--grid", " ".join(texts), "one or two axes")
    axes = [parse_axis(text) for text in texts]
    if len(axes) == 2 and axes[0].item.name == axes[1].item.name:
        raise InputError("command line", "--grid", axes[1].item.name, "two different inputs")
    return axes


def tornado_frame(results: list[Tornado]) -> pl.DataFrame:
    """Every bar of every plan as one table (what ``--out`` writes)."""
    import polars as pl

    rows = [{"plan": t.plan, "base_npv_usd": t.base_npv_usd, **bar.record()}
            for t in results for bar in t.bars]
    return pl.DataFrame(rows, infer_schema_length=None)


def run(args: argparse.Namespace) -> int:
    """The ``sensitivity`` subcommand; InputError propagates to the CLI (exit 2)."""
    from fleetcalc.engine import checked_plans
    from fleetcalc.io import table_format, write_table_atomic
    from fleetcalc.plausibility import print_warnings, warnings_for
    from fleetcalc.scenario import load_scenario
    from fleetcalc.sensitivity import grid, tornado
    from fleetcalc.variation import read_ranges

    out = None if args.out is None else Path(args.out)
    if out is not None:
        table_format(out)
    if args.grid and args.ranges:
        raise InputError("command line", "--ranges", args.ranges,
                         "no ranges file with --grid (the grid gives its own values)")
    axes = _axes(args.grid) if args.grid else []
    ranges = read_ranges(args.ranges) if args.ranges else None
    scenario = load_scenario(args.scenario)
    plans = checked_plans(args.plans or None, scenario)
    print_warnings(w for plan in plans for w in warnings_for(plan, scenario))
    if axes:
        frame = grid(plans, scenario, axes)
        if out is not None:
            write_table_atomic(frame, out)
        if args.json:
            print(json.dumps(frame.to_dicts(), indent=2))
        else:
            _print_grid(frame, plans, axes, args.metric, out)
        return 0
    results = tornado(plans, scenario, ranges)
    if out is not None:
        write_table_atomic(tornado_frame(results), out)
    if args.json:
        print(json.dumps([t.record() for t in results], indent=2))
    else:
        _print_tornado(results, scenario.name, out)
    return 0


def _print_tornado(results: list[Tornado], scenario_name: str, out: Path | None) -> None:
    from rich.console import Console
    from rich.text import Text

    from fleetcalc.sensitivity_view import tornado_table
    from fleetcalc.text import printable

    # Names, notes and file names are user text: Text objects, never markup (fleetcalc.text).
    console = Console()
    console.print(Text(f"fleetcalc sensitivity - scenario: {printable(scenario_name)}"))
    for result in results:
        console.print(tornado_table(result, console.width))
        for note in result.notes:
            console.print(Text.assemble(("Note: ", "yellow"), printable(note)))
    console.print("Low/high: the input's value at each end of its range (README: Sensitivity). "
                  "Bars: NPV below (red) and above (green) the base, one scale per plan.",
                  highlight=False)
    if out is not None:
        console.print(Text(f"Written to {printable(str(out))}."))


def _print_grid(frame: pl.DataFrame, plans: list[Plan], axes: list[Axis], metric: str,
                out: Path | None) -> None:
    from rich.console import Console
    from rich.text import Text

    from fleetcalc.sensitivity_view import heat_table
    from fleetcalc.text import printable

    console = Console()
    for plan in plans:
        pivot = plan.finance.discount_rate if metric == "irr" else 0.0
        console.print(heat_table(frame, plan.name, axes, metric, pivot))
    console.print("Green is better, red worse" + (
        " (IRR against the plan's discount rate)" if metric == "irr" else "") + ".",
        highlight=False)
    if out is not None:
        console.print(Text(f"Every cell's NPV, IRR and payback written to "
                           f"{printable(str(out))}."))
