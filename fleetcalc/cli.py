"""The command line (all but the TUI, which ``tui.cli`` opens): compare, batch, catalog, tariffs,
optimize (``fleetcalc.optimize_cli``).

Exit codes: 0 ok, 2 bad input (one clear line naming file, field and value), 1 internal error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence

from fleetcalc import optimize_cli
from fleetcalc.errors import InputError
from fleetcalc.io import OutputError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2

def _compare(args: argparse.Namespace) -> int:
    from fleetcalc.engine import evaluate
    from fleetcalc.metrics import COMPARE, best_index, in_view

    results = evaluate(args.plans or None, args.scenario)
    records = results.records()
    if args.json:
        print(json.dumps(records, indent=2, default=str))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    scenario = results.scenario
    table = Table(title=f"fleetcalc compare - {scenario.name}", title_justify="left")
    table.add_column("Metric")
    for record in records:
        table.add_column(record["plan"], justify="right", overflow="fold")
    for metric in in_view(COMPARE):
        values = [r[metric.name] for r in records]
        best = best_index(values, metric.better)
        texts = [metric.text(v) for v in values]
        table.add_row(metric.label, *(f"[bold green]{text}[/]" if i == best else text
                                      for i, text in enumerate(texts)))
    console = Console()
    console.print(table)
    console.print(
        f"Horizon {scenario.start_date} + {scenario.horizon_days} days, "
        f"{scenario.paths} path(s), failures {scenario.failures}. Best value per row in green."
    )
    if scenario.assumptions:
        console.print("[yellow]Assumptions:[/] " + "; ".join(scenario.assumptions))
    if any(r["tariff_assumption"] for r in records):
        console.print("[yellow]Tariff schedule uses unverified programs for some imports.[/]")
    return EXIT_OK


def _catalog(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

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
    table = Table(title="ASIC catalog (fleetcalc/data/catalog.csv; sources per row there)")
    columns = ("model_id", "maker", "hashrate_th", "power_w", "efficiency_j_per_th", "cooling",
               "origins", "price_usd", "price_date", "price_basis")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in frame.select(columns).iter_rows():
        table.add_row(*(
            "" if v is None else ", ".join(v) if isinstance(v, list) else str(v) for v in row
        ))
    Console().print(table)
    return EXIT_OK


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError("command line", "--on", text, "a date like 2026-03-01") from None


def _tariffs(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from fleetcalc.scenario import load_scenario
    from fleetcalc.tariffs import apply_overrides, load_schedule, stack_on
    from fleetcalc.validate import is_origin

    on = _parse_date(args.on) if args.on else dt.date.today()
    schedule = load_schedule()
    if args.scenario:
        schedule = apply_overrides(schedule, load_scenario(args.scenario).tariff_overrides)
    origins = [args.origin.upper()] if args.origin else ["CN", "MY", "ID", "TH", "VN", "KZ", "US"]
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
            console.print(f"  [{number}] {row['source']}", style="dim", highlight=False)
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
    optimize_cli.add_arguments(sub.add_parser("optimize", help="the best plan from candidates"))
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
                "optimize": optimize_cli.run}
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
        print(f"fleetcalc: error: {error}", file=sys.stderr)
        return EXIT_INTERNAL
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # the last line of defence: no traceback for the user
        if os.environ.get("FLEETCALC_DEBUG"):
            raise
        print(f"fleetcalc: internal error: {type(error).__name__}: {error} "
              "(set FLEETCALC_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_INTERNAL
