"""``fleetcalc batch``: evaluate many plans under a grid of scenario variants, one tidy table out.

The work is cut into units, one per (plan file, grid variant). Each unit is evaluated alone
(``engine.evaluate([plan], variant_scenario)``), so its numbers never depend on which other
units ran, in what order, on how many threads or machines: market paths and failures are keyed
by (seed, path, ...) counters. A finished unit is checkpointed at once as Parquet parts in
``<out>.parts/`` (named by a hash of everything that determines it), so memory holds one unit at
a time and ``--resume`` redoes only the units that are missing. The final table is the parts
concatenated lazily in plan-file order then variant order, written atomically; the parts
directory is removed after that.

Output rows carry ``plan_file``, ``variant``, one ``grid_<key>`` column per swept field, then
every field of ``compare --json`` (``Results.records()``). ``--per-path`` adds a table with one
row per plan x variant x Monte Carlo path. Plans that fail (``InputError`` while loading or
evaluating) go to ``<out stem>.errors<out ext>`` next to ``--out`` and to stderr; the exit code
is then 2 while every other unit is still evaluated.

A grid file (TOML) holds list-valued fields whose cartesian product is evaluated::

    power_usd_per_kwh = [0.04, 0.06]        # site field, applied to every plan
    [btc]
    price_usd = [60000.0, 90000.0]          # also annual_drift, annual_volatility
    [network]
    monthly_growth = [0.0, 0.02]            # also hashrate_ehs, fees_btc_per_block
    [[tariff]]                              # -> a TariffOverride per value
    origin = "MY"
    program = "reciprocal"
    rate = [0.0, 0.19, 0.40]
    effective_from = 2027-01-01             # effective_to optional

Axes vary in the file's order, the last one fastest; ``variant`` numbers the combinations.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetcalc.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from fleetcalc.plan import Plan
    from fleetcalc.scenario import Scenario

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 2, 130
# Part files of another format version are never reused by --resume.
PART_FORMAT_VERSION = 1
SCENARIO_AXES = (
    "btc.price_usd", "btc.annual_drift", "btc.annual_volatility", "network.monthly_growth",
    "network.hashrate_ehs", "network.fees_btc_per_block",
)
SITE_AXES = ("power_usd_per_kwh",)
ERROR_COLUMNS = ("plan_file", "variant", "field", "value", "expected", "message")
LOG_EVERY_S = 5.0
CONCAT_BATCH_FILES = 64


BATCH_EPILOG = """\
Output: one row per plan x grid variant (plan_file, variant, grid_<key>..., then every field
of `compare --json`); --per-path: one row per plan x variant x Monte Carlo path. Plans that
fail go to <out stem>.errors<out ext> and stderr (exit code 2); the others are still evaluated.
Finished units are checkpointed in <out>.parts/ so --resume after a crash or Ctrl-C (exit 130)
redoes only the missing ones; the directory is removed after the final table is written.

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
                        help="skip breakeven prices (they re-run the kernel ~30x per unit)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the units on this Dask distributed scheduler")
    parser.add_argument("--workers", type=int, default=1,
                        help="local processes evaluating units at once (default 1: in this "
                             "process); e.g. the number of cores")


# ---------------------------------------------------------------------------------------------
# Grid


@dataclass(frozen=True)
class Variant:
    """One combination of grid values: the scenario it gives and the site power override."""

    index: int
    values: tuple[tuple[str, float], ...]  # (axis name, value), in axis order
    scenario: Scenario
    power_usd_per_kwh: float | None


@dataclass(frozen=True)
class _Axis:
    name: str  # column name without the grid_ prefix
    values: tuple[float, ...]
    tariff: dict[str, Any] | None = None  # origin, program, dates of a tariff axis


def _field(fields: tuple[Any, ...], name: str) -> Any:
    return next(f for f in fields if f.name == name)


def _list_values(raw: Any, field: Any, source: str, where: str) -> tuple[float, ...]:
    from fleetcalc.validate import convert

    if not isinstance(raw, list):
        raise InputError(source, where, raw, f"a list of values, each {field.expected()}")
    if not raw:
        raise InputError(source, where, raw, f"a non-empty list, each {field.expected()}")
    return tuple(
        float(convert(field, item, source, f"{where}[{i}]")) for i, item in enumerate(raw)
    )


def _tariff_axis(item: Any, index: int, source: str) -> _Axis:
    from fleetcalc.scenario import OVERRIDE_FIELDS
    from fleetcalc.validate import read_table

    where = f"tariff[{index}]"
    if not isinstance(item, dict):
        raise InputError(source, where, item, "a [[tariff]] table")
    if "rate" not in item:
        raise InputError(source, f"{where}.rate", "(missing)", "a list of tariff rates")
    fixed = read_table({k: v for k, v in item.items() if k != "rate"},
                       tuple(f for f in OVERRIDE_FIELDS if f.name != "rate"), source, where)
    if fixed["effective_to"] is not None and fixed["effective_to"] < fixed["effective_from"]:
        raise InputError(source, f"{where}.effective_to", fixed["effective_to"].isoformat(),
                         f"a date on or after effective_from ({fixed['effective_from']})")
    rates = _list_values(item["rate"], _field(OVERRIDE_FIELDS, "rate"), source, f"{where}.rate")
    return _Axis(f"tariff.{fixed['origin']}.{fixed['program']}", rates, fixed)


def _grid_axes(data: dict[str, Any], source: str) -> list[_Axis]:
    from fleetcalc.plan import SITE_FIELDS
    from fleetcalc.scenario import BTC_FIELDS, NETWORK_FIELDS

    tables = {"btc": BTC_FIELDS, "network": NETWORK_FIELDS}
    allowed = sorted((*SITE_AXES, *SCENARIO_AXES, "tariff"))
    axes: list[_Axis] = []
    for key, raw in data.items():
        if key in SITE_AXES:
            axes.append(_Axis(key, _list_values(raw, _field(SITE_FIELDS, key), source, key)))
        elif key in tables:
            if not isinstance(raw, dict):
                raise InputError(source, key, raw, f"a [{key}] table of lists")
            for name, values in raw.items():
                axis = f"{key}.{name}"
                if axis not in SCENARIO_AXES:
                    raise InputError(source, axis, name, "one of the grid keys "
                                     + ", ".join(allowed))
                axes.append(_Axis(axis, _list_values(values, _field(tables[key], name),
                                                     source, axis)))
        elif key == "tariff":
            if not isinstance(raw, list):
                raise InputError(source, key, raw, "[[tariff]] tables")
            axes.extend(_tariff_axis(item, i, source) for i, item in enumerate(raw))
        else:
            raise InputError(source, key, key, "one of the grid keys " + ", ".join(allowed))
    seen: set[str] = set()
    for axis in axes:
        if axis.name in seen:
            raise InputError(source, axis.name, "(twice)",
                             "each origin and program swept by one [[tariff]] table only")
        seen.add(axis.name)
    return axes


def _apply(scenario: Scenario, axis: _Axis, value: float) -> Scenario:
    from fleetcalc.tariffs import TariffOverride

    if axis.tariff is not None:
        override = TariffOverride(rate=value, **axis.tariff)
        return scenario.with_changes(tariff_overrides=(*scenario.tariff_overrides, override))
    table, name = axis.name.split(".")
    return scenario.with_changes(**{table: replace(getattr(scenario, table), **{name: value})})


def expand_grid(scenario: Scenario, grid_path: str | Path | None) -> list[Variant]:
    """Every combination of a grid file's values applied to ``scenario`` (one variant if none).

    Raises InputError naming the grid file and key on an unknown key, a value that is not a
    non-empty list, or an element of the wrong type or out of range.
    """
    if grid_path is None:
        return [Variant(0, (), scenario, None)]
    from fleetcalc.validate import load_toml

    data, source = load_toml(grid_path)
    axes = _grid_axes(data, source)
    # A CSV series replaces the generated path, so sweeping what generates it would do nothing.
    series_bound = {
        "btc.price_usd": scenario.price_series_usd, "btc.annual_drift": scenario.price_series_usd,
        "network.hashrate_ehs": scenario.hashrate_series_ehs,
        "network.monthly_growth": scenario.hashrate_series_ehs,
    }
    for axis in axes:
        if series_bound.get(axis.name) is not None:
            raise InputError(source, axis.name, list(axis.values),
                             "no sweep of a field the scenario's CSV series replaces")
    variants = []
    for index, combo in enumerate(itertools.product(*(axis.values for axis in axes))):
        varied, power = scenario, None
        for axis, value in zip(axes, combo, strict=True):
            if axis.name in SITE_AXES:
                power = value
            else:
                varied = _apply(varied, axis, value)
        values = tuple((axis.name, value) for axis, value in zip(axes, combo, strict=True))
        variants.append(Variant(index, values, varied, power))
    return variants


# ---------------------------------------------------------------------------------------------
# Units and their evaluation


@dataclass(frozen=True)
class PlanInput:
    """A plan file as read once: its text travels to remote workers, its hash keys the parts."""

    file: str
    text: str
    digest: str


@dataclass(frozen=True)
class Unit:
    plan_index: int
    plan: PlanInput
    variant: Variant
    key: str


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


def _read_plan(file: Path) -> tuple[PlanInput, Plan]:
    """Read and check a plan file once; InputError (as ``load_plan`` raises) when it is bad."""
    from fleetcalc.plan import parse_plan
    from fleetcalc.validate import load_toml

    data, source = load_toml(file)  # every file-level failure (missing, bytes, TOML) as InputError
    text = file.read_text(encoding="utf-8")
    plan = parse_plan(data, source)
    return PlanInput(source, text, hashlib.sha256(text.encode()).hexdigest()), plan


def unit_key(plan: PlanInput, variant: Variant, breakevens: bool) -> str:
    """Hash of everything a unit's rows depend on: the plan file's name (it is in the rows) and
    content, the variant's scenario (paths, seed and grid values included), the site power
    override and the breakeven flag."""
    from fleetcalc.scenario import scenario_to_toml

    document = {
        "format": PART_FORMAT_VERSION, "file": plan.file, "plan": plan.digest,
        "variant": [variant.index, variant.values],
        "scenario": scenario_to_toml(variant.scenario), "power": variant.power_usd_per_kwh,
        "breakevens": breakevens,
    }
    text = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _summary_schema(summary: pl.DataFrame) -> dict[str, Any]:
    import polars as pl

    # records() turns payback_days into whole days; everything else keeps the summary's type.
    return {name: pl.Int64() if name == "payback_days" else dtype
            for name, dtype in summary.schema.items()}


def _prefix(frame: pl.DataFrame, plan_file: str, variant: Variant) -> pl.DataFrame:
    import polars as pl

    columns = [pl.lit(plan_file, pl.String).alias("plan_file"),
               pl.lit(variant.index, pl.Int64).alias("variant")]
    columns += [pl.lit(value, pl.Float64).alias(f"grid_{name}") for name, value in variant.values]
    return frame.select(*columns, pl.all())


def evaluate_unit(
    plan: Plan, variant: Variant, breakevens: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One unit's rows: (summary as ``compare --json``, one row per Monte Carlo path).

    NaN (a metric that does not exist) becomes null in both, as in ``Results.records()``.
    """
    import polars as pl

    from fleetcalc.engine import evaluate

    if variant.power_usd_per_kwh is not None:
        plan = plan.with_site(power_usd_per_kwh=variant.power_usd_per_kwh)
    results = evaluate([plan], variant.scenario, breakevens=breakevens)
    summary = pl.DataFrame(results.records(), schema=_summary_schema(results.summary),
                           orient="row")
    paths = results.paths.with_columns(pl.col(pl.Float64).fill_nan(None))
    return _prefix(summary, plan.source, variant), _prefix(paths, plan.source, variant)


def _error_record(error: InputError, plan_file: str, variant: int | None) -> dict[str, Any]:
    return {"plan_file": plan_file, "variant": variant, "field": error.where,
            "value": str(error.value), "expected": error.expected, "message": str(error)}


def evaluate_unit_text(
    plan_text: str, plan_source: str, variant: Variant, breakevens: bool
) -> tuple[pl.DataFrame, pl.DataFrame] | dict[str, Any]:
    """``evaluate_unit`` for a remote worker: the plan arrives as TOML text plus its source
    name (workers need not share a filesystem). Bad input comes back as an error record,
    because InputError does not survive pickling with its fields."""
    import tomllib

    from fleetcalc.plan import parse_plan

    try:
        plan = parse_plan(tomllib.loads(plan_text), plan_source)
        return evaluate_unit(plan, variant, breakevens)
    except InputError as error:
        return _error_record(error, plan_source, variant.index)


# ---------------------------------------------------------------------------------------------
# Checkpoints


@dataclass(frozen=True)
class PartStore:
    """``<out>.parts/``: per unit ``<key>.paths.parquet`` then ``<key>.summary.parquet``, each
    written atomically; the summary part, written last, marks the unit done."""

    directory: Path

    def summary(self, key: str) -> Path:
        return self.directory / f"{key}.summary.parquet"

    def paths(self, key: str) -> Path:
        return self.directory / f"{key}.paths.parquet"

    def done(self, key: str) -> bool:
        return self.summary(key).is_file() and self.paths(key).is_file()

    def save(self, key: str, summary: pl.DataFrame, paths: pl.DataFrame) -> None:
        from fleetcalc.io import write_table_atomic

        self.directory.mkdir(parents=True, exist_ok=True)
        write_table_atomic(paths, self.paths(key), "--out")
        write_table_atomic(summary, self.summary(key), "--out")

    def concat(self, keys: list[str], kind: str) -> pl.DataFrame:
        """The parts of ``keys`` in that order, scanned lazily a batch of files at a time.

        One scan over thousands of small files (or a concat of thousands of scans) holds
        hundreds of MB of per-file buffers; batches keep that to a few MB and each batch is
        rechunked so the result is not thousands of one-row chunks.
        """
        import polars as pl

        files = [self.summary(k) if kind == "summary" else self.paths(k) for k in keys]
        batches = [
            pl.scan_parquet(files[i : i + CONCAT_BATCH_FILES]).collect().rechunk()
            for i in range(0, len(files), CONCAT_BATCH_FILES)
        ]
        return pl.concat(batches, how="vertical", rechunk=True)


# ---------------------------------------------------------------------------------------------
# Progress


class Progress:
    """A rich progress bar on a terminal, a log line every few seconds otherwise, or nothing."""

    def __init__(self, total: int, done: int, n_variants: int, quiet: bool) -> None:
        self.total, self.done, self.n_variants = total, done, n_variants
        self.started_done = done
        self.start_s = time.monotonic()
        self.last_log_s = self.start_s
        self.mode = "none" if quiet else ("bar" if sys.stderr.isatty() else "log")
        self._bar: Any = None
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                TimeRemainingColumn(), console=Console(stderr=True),
            )
            self._bar.start()
            self._task = self._bar.add_task("batch", total=total, completed=done, rate="")
        elif self.mode == "log" and done:
            print(f"fleetcalc batch: resuming, {done}/{total} units already checkpointed",
                  file=sys.stderr, flush=True)

    def _plans_per_s(self) -> float:
        elapsed_s = max(time.monotonic() - self.start_s, 1e-9)
        return (self.done - self.started_done) / elapsed_s / self.n_variants

    def _log(self) -> None:
        rate = self._plans_per_s()
        left = self.total - self.done
        eta = f"{left / (rate * self.n_variants):,.0f} s" if rate > 0 else "unknown"
        print(f"fleetcalc batch: {self.done}/{self.total} units (plan x variant), "
              f"{rate:.2f} plans/s, ETA {eta}", file=sys.stderr, flush=True)

    def advance(self) -> None:
        self.done += 1
        if self.mode == "bar":
            self._bar.update(self._task, advance=1, rate=f"{self._plans_per_s():.2f} plans/s")
        elif self.mode == "log":
            now = time.monotonic()
            if now - self.last_log_s >= LOG_EVERY_S or self.done == self.total:
                self.last_log_s = now
                self._log()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


# ---------------------------------------------------------------------------------------------
# Runners: each calls ``record(unit, outcome)`` as units finish, in any order.

Outcome = tuple["pl.DataFrame", "pl.DataFrame"] | dict[str, Any]
Record = Callable[[Unit, Outcome], None]


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the parent alone handles it (workers finish
    # their unit and exit when the pool shuts down) so no worker prints a traceback.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_local(units: list[Unit], plans: dict[int, Plan], breakevens: bool, workers: int,
               record: Record) -> None:
    """In this process, or on ``workers`` spawned processes: the engine serialises kernel calls
    within a process, so threads could not use a second core."""
    if workers <= 1:
        for unit in units:
            try:
                outcome: Outcome = evaluate_unit(plans[unit.plan_index], unit.variant,
                                                 breakevens)
            except InputError as error:
                outcome = _error_record(error, unit.plan.file, unit.variant.index)
            record(unit, outcome)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    def submit(unit: Unit) -> None:
        running[pool.submit(evaluate_unit_text, unit.plan.text, unit.plan.file, unit.variant,
                            breakevens)] = unit

    # At most 2 x workers units in flight, so memory stays bounded by a few units. Spawn, not
    # fork: forking a process that has started Numba's or polars' threads is unsafe.
    queue: Iterator[Unit] = iter(units)
    running: dict[Future[Outcome], Unit] = {}
    with ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            for unit in itertools.islice(queue, 2 * workers):
                submit(unit)
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    record(running.pop(future), future.result())
                for unit in itertools.islice(queue, len(finished)):
                    submit(unit)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _run_dask(units: list[Unit], address: str, breakevens: bool, record: Record) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("command line", "--scheduler", address,
                         "the optional Dask dependency: pip install 'fleetcalc[distributed]'"
                         ) from None
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as error:
        raise InputError("command line", "--scheduler", address,
                         f"the address of a running Dask scheduler ({error})") from None
    try:
        futures = {
            client.submit(evaluate_unit_text, unit.plan.text, unit.plan.file, unit.variant,
                          breakevens, key=f"fleetcalc-unit-{unit.key}", pure=False): unit
            for unit in units
        }
        for future in as_completed(futures):
            record(futures[future], future.result())
            future.release()
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# The subcommand


def _check_writable_place(path: Path, option: str) -> None:
    """The output's directory must be, or be creatable as, a writable directory: found now
    rather than as an OSError after every unit has been evaluated."""
    import os

    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError("command line", option, str(path),
                         f"a path inside a directory ({ancestor} is a file)")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError("command line", option, str(path),
                         f"a path in a writable directory ({ancestor} is not writable)")
    if path.is_dir():
        raise InputError("command line", option, str(path), "a file name, not a directory")


def _check_options(args: argparse.Namespace) -> tuple[Path, Path | None]:
    from fleetcalc.io import table_format

    table_format(args.out, "--out")
    out = Path(args.out)
    per_path = Path(args.per_path) if args.per_path else None
    if per_path is not None:
        table_format(per_path, "--per-path")
        if per_path.resolve() == out.resolve():
            raise InputError("command line", "--per-path", args.per_path, "a file other than --out")
    if args.paths is not None and not 1 <= args.paths <= 100_000:
        raise InputError("command line", "--paths", args.paths, "an integer in [1, 100000]")
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise InputError("command line", "--seed", args.seed, "an integer in [0, 2**63 - 1]")
    if args.workers < 1:
        raise InputError("command line", "--workers", args.workers, "an integer >= 1")
    if args.scheduler and args.workers != 1:
        raise InputError("command line", "--workers", args.workers,
                         "no --workers with --scheduler (the cluster has its own workers)")
    for option, path in (("--out", out), ("--per-path", per_path)):
        if path is not None:
            _check_writable_place(path, option)
        if path is not None and path.exists() and not (args.force or args.resume):
            raise InputError("command line", option, str(path),
                             "a path that does not exist yet (pass --force to overwrite it)")
    return out, per_path


def errors_path(out: Path) -> Path:
    """Where the errors table of a run writing ``out`` goes: ``<stem>.errors<ext>`` beside it."""
    return out.with_name(f"{out.stem}.errors{out.suffix}")


def _write_errors(errors: list[dict[str, Any]], out: Path) -> None:
    import polars as pl

    from fleetcalc.io import write_table_atomic

    target = errors_path(out)
    if not errors:
        target.unlink(missing_ok=True)  # a stale table from an earlier run would mislead
        return
    schema = {name: pl.Int64() if name == "variant" else pl.String() for name in ERROR_COLUMNS}
    write_table_atomic(pl.DataFrame(errors, schema=schema, orient="row"), target, "--out")


def run_batch(args: argparse.Namespace) -> int:
    """Run the batch subcommand: 0 when every unit succeeded, 2 when any plan failed, 130 on
    Ctrl-C (checkpoints kept for --resume; no partial output). Bad options raise InputError."""
    from fleetcalc.io import write_table_atomic
    from fleetcalc.scenario import MAX_PATH_DAYS, load_scenario

    out, per_path = _check_options(args)
    scenario = load_scenario(args.scenario)
    changes = {k: v for k, v in (("paths", args.paths), ("seed", args.seed)) if v is not None}
    scenario = scenario.with_changes(**changes)
    if scenario.paths * scenario.horizon_days > MAX_PATH_DAYS:
        # The same memory bound a scenario file is held to (its parser checks it there).
        raise InputError("command line", "--paths", scenario.paths,
                         f"at most {MAX_PATH_DAYS // scenario.horizon_days:,} paths over "
                         f"{scenario.horizon_days} days ({MAX_PATH_DAYS:,} path-days)")
    variants = expand_grid(scenario, args.grid)
    store = PartStore(out.with_name(out.name + ".parts"))
    if store.directory.exists() and not args.resume:
        if not args.force:
            raise InputError("command line", "--out", str(out),
                             f"no checkpoints of an interrupted run in {store.directory} "
                             "(pass --resume to finish that run or --force to start over)")
        shutil.rmtree(store.directory)

    errors: list[dict[str, Any]] = []
    plans: dict[int, Plan] = {}
    units: list[Unit] = []
    files = plan_files(args.inputs)
    for plan_index, file in enumerate(files):
        try:
            plan_input, plans[plan_index] = _read_plan(file)
        except InputError as error:
            print(f"fleetcalc: error: {error}", file=sys.stderr)
            errors.append(_error_record(error, str(file), None))
            continue
        units += [Unit(plan_index, plan_input, v, unit_key(plan_input, v, args.breakevens))
                  for v in variants]

    # Schedule variant by variant: consecutive units share a scenario, so its market paths
    # are computed once and stay cached. Output order does not depend on it.
    pending: dict[str, Unit] = {}
    for unit in sorted(units, key=lambda u: (u.variant.index, u.plan_index)):
        if not store.done(unit.key):
            pending.setdefault(unit.key, unit)
    failed: set[str] = set()
    progress = Progress(len({u.key for u in units}), len({u.key for u in units}) - len(pending),
                        len(variants), args.quiet)

    def record(unit: Unit, outcome: Outcome) -> None:
        if isinstance(outcome, dict):
            print(f"fleetcalc: error: {outcome['message']}", file=sys.stderr)
            errors.append(outcome)
            failed.add(unit.key)
        else:
            store.save(unit.key, *outcome)
        progress.advance()

    try:
        try:
            if args.scheduler:
                _run_dask(list(pending.values()), args.scheduler, args.breakevens, record)
            else:
                _run_local(list(pending.values()), plans, args.breakevens, args.workers, record)
        finally:
            progress.close()
        keys = [u.key for u in units if u.key not in failed]
        if keys:
            write_table_atomic(store.concat(keys, "summary"), out, "--out")
            if per_path is not None:
                write_table_atomic(store.concat(keys, "paths"), per_path, "--per-path")
        else:
            print("fleetcalc: no plan could be evaluated; --out not written", file=sys.stderr)
        # Errors in plan-file order then variant, like the results, whatever finished first.
        order = {str(file): i for i, file in enumerate(files)}
        errors.sort(key=lambda e: (order.get(e["plan_file"], -1), e["variant"] is not None,
                                   e["variant"] or 0))
        _write_errors(errors, out)
    except KeyboardInterrupt:
        print(f"fleetcalc: interrupted; finished units are kept in {store.directory}: "
              "rerun with --resume to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    shutil.rmtree(store.directory, ignore_errors=True)
    if errors:
        print(f"fleetcalc: {len(errors)} plan evaluation(s) failed; see {errors_path(out)}",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
