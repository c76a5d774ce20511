"""The ``fleetcalc batch`` subcommand: its options, and a run from options to exit code.

A run: check the options and output paths; take the lock on ``--out``; expand the grid; read
every plan file once into units (plan x variant) keyed by what determines them; hand the units
without a sound checkpoint to a runner; write the tables from the parts in plan-file order then
variant order; remove the parts and the lock.

Ctrl-C and SIGTERM stop the run alike (exit 130 and 143): workers stopped, checkpoints kept for
``--resume``, no partial output. A full disk, another OS error or a lost worker end it with
exit code 1 and a sentence saying what happened and that ``--resume`` finishes the run.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetcalc.batch.grid import expand_grid
from fleetcalc.batch.outputs import (
    UnreadableCheckpoints,
    check_output_paths,
    errors_path,
    parts_path,
    stale_temp_files,
    write_outputs,
)
from fleetcalc.batch.progress import Progress
from fleetcalc.batch.runners import Outcome, run_dask, run_local
from fleetcalc.batch.store import PartStore, scenario_inputs, unit_key
from fleetcalc.batch.units import Unit, error_record, plan_files, read_plan_file
from fleetcalc.errors import InputError

if TYPE_CHECKING:
    from fleetcalc.batch.grid import Variant
    from fleetcalc.scenario import Scenario

# 1: the run stopped on a full disk, an OS error or a lost worker (it can be resumed).
EXIT_OK, EXIT_STOPPED, EXIT_FAILED = 0, 1, 2

BATCH_EPILOG = """\
Output: one row per plan x grid variant (plan_file, variant, grid_<key>..., then every field
of `compare --json`); --per-path: one row per plan x variant x Monte Carlo path. Plans that
fail go to <out stem>.errors<out ext> and stderr (exit code 2); the others are still evaluated.
Finished units are checkpointed in <out>.parts/ so --resume after a crash, Ctrl-C (exit 130)
or SIGTERM (exit 143) redoes only the missing ones (and any found damaged); the directory is
removed after the final table is written. <out>.lock keeps a second run off the same --out.

Grid file (TOML), every value a list; the cartesian product is evaluated:
  power_usd_per_kwh = [0.04, 0.06]      # site field, applied to every plan
  btc.price_usd = [60000, 90000]        # also btc.annual_drift, btc.annual_volatility
  network.monthly_growth = [0.0, 0.02]  # also network.hashrate_ehs, .fees_btc_per_block
  [[tariff]]                            # a tariff override per rate
  origin = "MY"
  program = "reciprocal"
  rate = [0.0, 0.19, 0.40]
  effective_from = 2027-01-01
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``batch`` subcommand's arguments on ``parser``."""
    parser.description = "Evaluate many plans under a grid of scenario variants."
    parser.epilog = BATCH_EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("inputs", nargs="+", metavar="PLAN_OR_DIR",
                        help="plan TOML files, or directories (every *.toml in them, sorted)")
    parser.add_argument("--scenario", help="scenario TOML (default: built-in)")
    parser.add_argument("--grid", help="grid TOML: list-valued scenario fields to sweep")
    parser.add_argument("--paths", type=int, help="Monte Carlo paths (overrides the scenario)")
    parser.add_argument("--seed", type=int, help="random seed (overrides the scenario)")
    parser.add_argument("--out", required=True, help="output table: .parquet, .csv or .json")
    parser.add_argument("--per-path", metavar="FILE",
                        help="also write one row per plan x variant x path (.parquet/.csv/.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing --out and discard old checkpoints")
    parser.add_argument("--resume", action="store_true",
                        help="finish an interrupted run: redo only the units not checkpointed "
                             "(an existing --out is replaced)")
    parser.add_argument("--no-breakevens", dest="breakevens", action="store_false",
                        help="skip breakeven prices (they take ~2-3x the unit's time)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the units on this Dask distributed scheduler")
    parser.add_argument("--workers", type=int, default=1,
                        help="local processes evaluating units at once (default 1: in this "
                             "process); e.g. the number of cores")


def _check_options(args: argparse.Namespace) -> tuple[Path, Path | None]:
    out = Path(args.out)
    per_path = Path(args.per_path) if args.per_path else None
    check_output_paths(out, per_path, overwrite=args.force or args.resume)
    if args.paths is not None and not 1 <= args.paths <= 100_000:
        raise InputError("command line", "--paths", args.paths, "an integer in [1, 100000]")
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise InputError("command line", "--seed", args.seed, "an integer in [0, 2**63 - 1]")
    if args.workers < 1:
        raise InputError("command line", "--workers", args.workers, "an integer >= 1")
    if args.scheduler and args.workers != 1:
        raise InputError("command line", "--workers", args.workers,
                         "no --workers with --scheduler (the cluster has its own workers)")
    return out, per_path


def _scenario(args: argparse.Namespace) -> Scenario:
    """The scenario file (or the built-in one) with the --paths and --seed overrides."""
    from fleetcalc.scenario import MAX_PATH_DAYS, load_scenario

    scenario = load_scenario(args.scenario)
    changes = {k: v for k, v in (("paths", args.paths), ("seed", args.seed)) if v is not None}
    scenario = scenario.with_changes(**changes)
    if scenario.paths * scenario.horizon_days > MAX_PATH_DAYS:
        # The same memory bound a scenario file is held to (its parser checks it there).
        raise InputError("command line", "--paths", scenario.paths,
                         f"at most {MAX_PATH_DAYS // scenario.horizon_days:,} paths over "
                         f"{scenario.horizon_days} days ({MAX_PATH_DAYS:,} path-days)")
    return scenario


def _part_store(out: Path, args: argparse.Namespace) -> PartStore:
    """The checkpoints of this run: kept with --resume, discarded with --force."""
    store = PartStore(parts_path(out))
    if store.directory.exists() and not args.resume:
        if not args.force:
            raise InputError("command line", "--out", str(out),
                             f"no checkpoints of an interrupted run in {store.directory} "
                             "(pass --resume to finish that run or --force to start over)")
        shutil.rmtree(store.directory)
    return store


@dataclass
class _Tally:
    """What the run learns as it goes, in this process: errors (to stderr at once and to the
    errors table at the end), the keys of units that failed, progress."""

    store: PartStore
    errors: list[dict[str, Any]] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    progress: Progress | None = None
    warned: set[str] = field(default_factory=set)

    def report(self, error: dict[str, Any]) -> None:
        print(f"fleetcalc: error: {error['message']}", file=sys.stderr)
        self.errors.append(error)

    def warn(self, warnings: list[str]) -> None:
        """Each warning on stderr the first time a unit reports it (grid variants repeat)."""
        from fleetcalc.plausibility import print_warnings

        print_warnings(w for w in warnings if w not in self.warned)
        self.warned.update(warnings)

    def record(self, unit: Unit, outcome: Outcome) -> None:
        """A runner's report of a finished unit: its rows are checkpointed, or its error kept."""
        if isinstance(outcome, InputError):
            self.report(error_record(outcome, unit.plan_file.source, unit.variant.index))
            self.failed.add(unit.key)
        else:
            self.store.save(unit.key, outcome.summary, outcome.paths)
            self.warn(outcome.summary["warnings"].explode().drop_nulls().to_list())
        if self.progress is not None:
            self.progress.advance()

    def sorted_errors(self, files: list[Path]) -> list[dict[str, Any]]:
        """Errors in plan-file order then variant, like the results, whatever finished first."""
        order = {str(file): i for i, file in enumerate(files)}
        return sorted(self.errors, key=lambda e: (order.get(e["plan_file"], -1),
                                                  e["variant"] is not None, e["variant"] or 0))


def _read_units(files: list[Path], variants: list[Variant], breakevens: bool,
                tally: _Tally) -> list[Unit]:
    """Every plan file read once, times every variant: units in plan-file then variant order.
    A file that fails to load is reported and contributes no unit."""
    # The series files are read (and their digests taken) once: a grid never changes them.
    inputs = scenario_inputs(variants[0].scenario)
    units: list[Unit] = []
    for plan_index, file in enumerate(files):
        try:
            plan_file = read_plan_file(file)
        except InputError as error:
            tally.report(error_record(error, str(file), None))
            continue
        units += [Unit(plan_index, plan_file, v, unit_key(plan_file, v, breakevens, inputs))
                  for v in variants]
    return units


def _pending(units: list[Unit], store: PartStore) -> list[Unit]:
    """The units without a sound checkpoint, each key once. A checkpoint found damaged or
    swapped is reported, removed and its unit evaluated again. Scheduled variant by variant:
    consecutive units share a scenario, so its market paths are computed once and stay cached.
    Output order does not depend on it."""
    pending: dict[str, Unit] = {}
    for unit in sorted(units, key=lambda u: (u.variant.index, u.plan_index)):
        if unit.key in pending:
            continue
        if store.done(unit.key):
            problem = store.problem(unit.key)
            if problem is None:
                continue
            print(f"fleetcalc: warning: checkpoint {problem}; evaluating that unit again "
                  f"({unit.plan_file.source}, variant {unit.variant.index})", file=sys.stderr)
            store.discard(unit.key)
        pending[unit.key] = unit
    return list(pending.values())


def _evaluate(units: list[Unit], args: argparse.Namespace, tally: _Tally) -> None:
    try:
        if args.scheduler:
            run_dask(units, args.scheduler, args.breakevens, tally.record)
        else:
            run_local(units, args.breakevens, args.workers, tally.record)
    finally:
        if tally.progress is not None:
            tally.progress.close()


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the run stops where it is, keeps its checkpoints and exits with
    128 + the signal's number, as a shell reports a process the signal ended."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """For the block, SIGINT and SIGTERM raise ``Interrupted`` in this (main) thread, so a
    SIGTERM (a service manager, a job scheduler, ``kill``) gets the same clean stop as Ctrl-C
    instead of killing the process mid-write. Signals can only be handled in the main thread:
    elsewhere the defaults stay."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _remove_stale_temps(out: Path, per_path: Path | None, store: PartStore, quiet: bool) -> None:
    stale = stale_temp_files(out, per_path, store)
    for temp in stale:
        temp.unlink(missing_ok=True)
    if stale and not quiet:
        print(f"fleetcalc batch: removed {len(stale)} temporary file(s) an interrupted run "
              "left behind", file=sys.stderr)


def _run_locked(args: argparse.Namespace, out: Path, per_path: Path | None,
                variants: list[Variant]) -> int:
    """The run, once it holds the lock on ``out``: checkpoints, units, outputs."""
    store = _part_store(out, args)
    _remove_stale_temps(out, per_path, store, args.quiet)
    files = plan_files(args.inputs)
    tally = _Tally(store)
    units = _read_units(files, variants, args.breakevens, tally)
    pending = _pending(units, store)
    total = len({u.key for u in units})
    tally.progress = Progress(total, total - len(pending), len(variants), args.quiet)
    _evaluate(pending, args, tally)
    keys = [u.key for u in units if u.key not in tally.failed]
    write_outputs(store, keys, tally.sorted_errors(files), out, per_path)
    shutil.rmtree(store.directory, ignore_errors=True)
    if tally.errors:
        print(f"fleetcalc: {len(tally.errors)} plan evaluation(s) failed; see {errors_path(out)}",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def run_batch(args: argparse.Namespace) -> int:
    """Run the batch subcommand: 0 when every unit succeeded, 2 when any plan failed, 130 on
    Ctrl-C and 143 on SIGTERM (checkpoints kept for --resume; no partial output), 1 when the
    disk is full, an output cannot be written or a worker process was lost (also resumable).
    Bad options, and an ``--out`` another run is writing, raise InputError."""
    from concurrent.futures.process import BrokenProcessPool

    from fleetcalc.io import OutputError, output_lock

    out, per_path = _check_options(args)
    variants = expand_grid(_scenario(args), args.grid)
    kept = f"finished units are kept in {parts_path(out)}: re-run with --resume to finish"
    with _signals_interrupt():
        try:
            with output_lock(out, "--out"):
                return _run_locked(args, out, per_path, variants)
        except KeyboardInterrupt as interrupt:
            signum = getattr(interrupt, "signum", signal.SIGINT)
            print(f"fleetcalc: interrupted ({signal.Signals(signum).name}); {kept}",
                  file=sys.stderr)
            return 128 + signum
        except OutputError as error:
            print(f"fleetcalc: error: {error}; {kept}", file=sys.stderr)
            return EXIT_STOPPED
        except BrokenProcessPool:
            print("fleetcalc: error: a worker process was lost (killed, or out of memory); "
                  f"{kept}", file=sys.stderr)
            return EXIT_STOPPED
        except UnreadableCheckpoints as error:
            print(f"fleetcalc: error: {error}", file=sys.stderr)
            return EXIT_STOPPED
