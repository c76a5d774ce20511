"""The command line (all but the TUI, which ``tui.cli`` opens): compare, batch, catalog, tariffs,
optimize (``fleetcalc.optimize_cli``), rank (``fleetcalc.rank_cli``), sensitivity
(``fleetcalc.sensitivity_cli``).

Exit codes: 0 ok, 2 bad input (one clear line naming file, field and value), 1 internal error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from fleetcalc import optimize_cli, rank_cli, sensitivity_cli
from fleetcalc.errors import InputError
from fleetcalc.io import OutputError
from fleetcalc.text import printable

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2

def _compare(args: argparse.Namespace) -> int:
    from fleetcalc.engine import evaluate
    from fleetcalc.plausibility import print_warnings

    results = evaluate(args.plans or None, args.scenario)
    records = results.records()
    print_warnings(w for record in records for w in record["warnings"])
    if args.json:
        sites = results.site_records()
        print(json.dumps([{**record, "sites": sites[record["plan"]]} for record in records],
                         indent=2, default=str))
        return EXIT_OK
    from rich.console import Console

    from fleetcalc.compare_text import print_compare

    print_compare(results, Console())
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from fleetcalc.candidates import load_candidates
    from fleetcalc.engine import checked_plans, evaluate
    from fleetcalc.io import read_only_mode
    from fleetcalc.plausibility import print_warnings
    from fleetcalc.report import (
        Extras,
        optimiser_extras,
        report_format,
        sensitivity_extras,
        write_report,
    )
    from fleetcalc.scenario import load_scenario
    from fleetcalc.variation import read_ranges

    # Check the destination and the ranges before the evaluation, which takes a while.
    report_format(args.out)
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise InputError("command line", "--out", args.out, "a file in an existing folder")
    if read_only_mode(args.out) is not None:
        raise InputError("command line", "--out", args.out, "a file that may be written")
    if args.ranges and not args.sensitivity:
        raise InputError("command line", "--ranges", args.ranges,
                         "--ranges only with --sensitivity (it sets the tornado's ranges)")
    ranges = read_ranges(args.ranges) if args.ranges else None
    candidates = load_candidates(args.optimize) if args.optimize else None
    scenario = load_scenario(args.scenario)
    plans = checked_plans(args.plans or None, scenario)
    results = evaluate(plans, scenario)
    print_warnings(w for record in results.records() for w in record["warnings"])
    extras = sensitivity_extras(plans, scenario, ranges) if args.sensitivity else Extras()
    if candidates is not None:
        extras = optimiser_extras(candidates, scenario, extras)
    written = write_report(results, args.out, extras)
    print(f"wrote {written}", file=sys.stderr)
    return EXIT_OK


def _catalog(args: argparse.Namespace) -> int:
    from rich.console import Console

    from fleetcalc.catalog import load_catalog

    frame = load_catalog()
    if args.maker:
        frame = frame.filter(frame["maker"].str.to_lowercase() == args.maker.lower())
        if frame.height == 0:
            from fleetcalc.catalog import makers

            raise InputError("command line", "--maker", args.maker, "one of " + ", ".join(makers()))
    if args.json:
        print(frame.write_json())
        return EXIT_OK
    console = Console()
    console.print(catalog_table(frame, console.width))
    return EXIT_OK


# (header, column, number format or None for text): short headers so the table reads at 80
# columns; numbers right-aligned; text wraps only at spaces (origins "MY, ID, TH, US").
CATALOG_COLUMNS = (
    ("model", "model_id", None), ("TH/s", "hashrate_th", "{:,.0f}"), ("W", "power_w", "{:,.0f}"),
    ("J/TH", "efficiency_j_per_th", "{:.1f}"), ("cooling", "cooling", None),
    ("built in", "origins", None), ("USD", "price_usd", "{:,.0f}"),
    ("priced", "price_date", None),
)


def _catalog_cell(row: dict[str, Any], column: str, number: str | None) -> str:
    value = row[column]
    if value is None:
        return ""
    if column == "price_date":
        return f"{value} {row['price_basis']}"
    if isinstance(value, list):
        return ", ".join(value)
    return number.format(value) if number else str(value)


def fit_widths(natural: Sequence[int], minimum: Sequence[int], width: int) -> list[int]:
    """Column widths within ``width`` cells (one-cell gaps): every column its natural width if
    they fit; else each its minimum and what is left shared out towards the natural widths,
    left to right (a column never gets less than its minimum: its longest word)."""
    free = width - (len(natural) - 1) - sum(natural)
    if free >= 0:
        return list(natural)
    widths = list(minimum)
    left = width - (len(natural) - 1) - sum(widths)
    for i, want in enumerate(natural):
        extra = max(0, min(want - widths[i], left))
        widths[i] += extra
        left -= extra
    return widths


def catalog_table(frame: Any, width: int) -> Any:
    """The catalog as a rich Table ``width`` cells wide where it fits: one row per model, its
    default price with date and basis."""
    from rich import box
    from rich.table import Table

    rows = [[_catalog_cell(row, column, number) for _, column, number in CATALOG_COLUMNS]
            for row in frame.iter_rows(named=True)]
    columns = [[header, *(cells[i] for cells in rows)]
               for i, (header, _, _) in enumerate(CATALOG_COLUMNS)]
    natural = [max(len(text) for text in texts) for texts in columns]
    # Numbers and model ids never wrap; other text wraps at spaces, never inside a word.
    minimum = [n if number is not None or column == "model_id"
               else max(len(word) for text in texts for word in text.split())
               for n, texts, (_, column, number) in zip(natural, columns, CATALOG_COLUMNS,
                                                         strict=True)]
    table = Table(title="ASIC catalog (fleetcalc/data/catalog.csv; sources per row there)",
                  title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, padding=0)
    for (header, _, number), fitted in zip(CATALOG_COLUMNS,
                                           fit_widths(natural, minimum, width), strict=True):
        table.add_column(header, justify="right" if number else "left", width=fitted)
    for cells in rows:
        table.add_row(*cells)
    return table


def _tariffs(args: argparse.Namespace) -> int:
    import polars as pl
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from fleetcalc.scenario import load_scenario
    from fleetcalc.tariffs import ANY_ORIGIN, apply_overrides, load_schedule, stack_on
    from fleetcalc.validate import command_line_date, is_origin

    on = command_line_date(args.on, "--on") if args.on else dt.date.today()
    schedule = load_schedule()
    if args.scenario:
        from fleetcalc.plausibility import print_warnings, scenario_warnings

        scenario = load_scenario(args.scenario)
        print_warnings(scenario_warnings(scenario))
        schedule = apply_overrides(schedule, scenario.tariff_overrides)
    # Without --origin: every origin the schedule (with the scenario's overrides) names.
    named = schedule.filter(pl.col("origin") != ANY_ORIGIN)["origin"].unique(maintain_order=True)
    origins = [args.origin.upper()] if args.origin else named.to_list()
    if args.origin and not is_origin(origins[0]):
        raise InputError("command line", "--origin", args.origin,
                         "an ISO 3166 alpha-2 country code like MY")
    payload = []
    for origin in origins:
        stack = stack_on(schedule, origin, on)
        total = float(stack["rate"].sum()) if stack.height else 0.0
        payload.append({"origin": origin, "on": on.isoformat(), "total_rate": total,
                        "programs": stack.to_dicts()})
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
        return EXIT_OK
    console = Console()
    for item in payload:
        table = Table(title=f"US duty on ASIC miners (HTS 8543.70.99) from {item['origin']} "
                            f"imported {item['on']}: total {item['total_rate'] * 100:.1f}%",
                      title_justify="left")
        for column in ("program", "rate", "from", "to", "status", "legal basis", "src"):
            table.add_column(column, overflow="fold")
        for number, row in enumerate(item["programs"], 1):
            table.add_row(row["program"], f"{row['rate'] * 100:.1f}%", str(row["effective_from"]),
                          str(row["effective_to"] or "open"), row["status"], row["legal_basis"],
                          f"[{number}]")
        console.print(table)
        for number, row in enumerate(item["programs"], 1):
            console.print(Text(f"  [{number}] {row['source']}", style="dim"))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleetcalc", description="ASIC fleet economics: compare purchase plans.")
    sub = parser.add_subparsers(dest="command")
    tui = sub.add_parser("tui", help="open the interactive app (the default)")
    tui.add_argument("plans", nargs="*")
    tui.add_argument("--scenario")
    compare = sub.add_parser("compare", help="compare plans side by side")
    compare.add_argument("plans", nargs="*", help="plan TOML files (default: the built-in four)")
    compare.add_argument("--scenario", help="scenario TOML (default: built-in)")
    compare.add_argument("--json", action="store_true", help="print the documented JSON schema")
    catalog = sub.add_parser("catalog", help="list the ASIC catalog")
    catalog.add_argument("--maker")
    catalog.add_argument("--json", action="store_true")
    tariffs = sub.add_parser("tariffs", help="show the tariff stack in force")
    tariffs.add_argument("--origin")
    tariffs.add_argument("--on", help="import date (default: today)")
    tariffs.add_argument("--scenario", help="apply this scenario's tariff_overrides")
    tariffs.add_argument("--json", action="store_true")
    batch = sub.add_parser("batch", help="evaluate many plans under many scenarios")
    from fleetcalc.batch import add_arguments

    add_arguments(batch)
    report = sub.add_parser("report", help="write an Excel workbook or an HTML report")
    report.add_argument("plans", nargs="*", help="plan TOML files (default: the built-in four)")
    report.add_argument("--scenario", help="scenario TOML (default: built-in)")
    report.add_argument("--sensitivity", action="store_true",
                        help="add each plan's tornado (as `fleetcalc sensitivity` computes it)")
    report.add_argument("--ranges", metavar="FILE",
                        help="with --sensitivity: TOML of input ranges (as `sensitivity`)")
    report.add_argument("--optimize", metavar="CANDIDATES.toml",
                        help="add the optimum of these candidates (as `fleetcalc optimize`, "
                             "NPV objective, under --scenario)")
    report.add_argument("--out", required=True, help="FILE.xlsx or FILE.html")
    optimize_cli.add_arguments(sub.add_parser("optimize", help="the best plan from candidates"))
    rank_cli.add_arguments(sub.add_parser("rank", help="every catalog machine ranked"))
    sensitivity_cli.add_arguments(sub.add_parser(
        "sensitivity", help="which input moves NPV most: tornado or grid"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; return its exit code (never raises for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_BAD_INPUT if exit_.code not in (0, None) else EXIT_OK
    handlers = {"compare": _compare, "catalog": _catalog, "tariffs": _tariffs,
                "optimize": optimize_cli.run, "rank": rank_cli.run,
                "sensitivity": sensitivity_cli.run, "report": _report}
    try:
        if args.command == "batch":
            from fleetcalc.batch import run_batch

            return run_batch(args)
        if args.command not in handlers:
            parser.print_help()
            return EXIT_BAD_INPUT
        return handlers[args.command](args)
    except InputError as error:
        print(f"fleetcalc: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("fleetcalc: interrupted", file=sys.stderr)
        return 130
    except OutputError as error:  # a full disk, a lost permission: named, no traceback
        print(f"fleetcalc: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_INTERNAL
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # the last line of defence: no traceback for the user
        if os.environ.get("FLEETCALC_DEBUG"):
            raise
        # The message may quote user text (a file name): one line, escaped like InputError's.
        print(f"fleetcalc: internal error: {type(error).__name__}: {printable(str(error))} "
              "(set FLEETCALC_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_INTERNAL
