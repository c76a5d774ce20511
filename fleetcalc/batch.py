"""``fleetcalc batch``: evaluate many plans under a scenario, writing one tidy table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from fleetcalc.errors import InputError

EXIT_OK, EXIT_FAILED = 0, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``batch`` subcommand's arguments on ``parser``."""
    parser.add_argument("inputs", nargs="+", metavar="PLAN_OR_DIR",
                        help="plan TOML files, or directories (every *.toml in them, sorted)")
    parser.add_argument("--scenario", help="scenario TOML (default: built-in)")
    parser.add_argument("--grid", help="grid TOML: list-valued scenario fields to sweep")
    parser.add_argument("--paths", type=int, help="Monte Carlo paths (overrides the scenario)")
    parser.add_argument("--seed", type=int, help="random seed (overrides the scenario)")
    parser.add_argument("--out", required=True, help="output table: .parquet, .csv or .json")
    parser.add_argument("--per-path", help="also write one row per plan x variant x path")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run from its checkpoints")
    parser.add_argument("--no-breakevens", dest="breakevens", action="store_false",
                        help="skip breakeven solving (re-runs the kernel ~30x per unit)")
    parser.add_argument("--scheduler", help="Dask distributed scheduler address")
    parser.add_argument("--workers", type=int, help="local worker threads")


def plan_files(inputs: list[str]) -> list[Path]:
    """Expand plan arguments: a directory means every *.toml in it, sorted by name."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise InputError(item, "", "(no *.toml files)", "a directory of plan files")
            files.extend(found)
        else:
            files.append(path)
    return files


def run_batch(args: argparse.Namespace) -> int:
    """Run the batch subcommand; returns 0, or 2 when any plan failed."""
    from fleetcalc.engine import evaluate
    from fleetcalc.io import table_format, write_table_atomic
    from fleetcalc.plan import load_plan
    from fleetcalc.scenario import load_scenario

    table_format(args.out)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise InputError("command line", "--out", str(out),
                         "a path that does not exist yet (or pass --force)")
    scenario = load_scenario(args.scenario)
    changes = {k: v for k, v in (("paths", args.paths), ("seed", args.seed)) if v is not None}
    scenario = scenario.with_changes(**changes)
    rows: list[dict[str, object]] = []
    errors: list[dict[str, object]] = []
    for file in plan_files(args.inputs):
        try:
            results = evaluate([load_plan(file)], scenario, breakevens=args.breakevens)
        except InputError as error:
            print(f"fleetcalc: error: {error}", file=sys.stderr)
            errors.append({"file": str(file), "field": error.where, "reason": str(error)})
            continue
        for record in results.records():
            rows.append({"plan_file": str(file), **record})
    if rows:
        write_table_atomic(pl.DataFrame(rows, infer_schema_length=None), out)
    if errors:
        stem_out = out.with_name(f"{out.stem}.errors{out.suffix}")
        write_table_atomic(pl.DataFrame(errors), stem_out)
    return EXIT_FAILED if errors else EXIT_OK
