"""Units of batch work: one plan file (read once) under one grid variant, and its evaluation.

Each unit is evaluated alone (``engine.evaluate([plan], variant_scenario)``), so its numbers
never depend on which other units ran, in what order, on how many threads or machines: market
paths and failures are keyed by (seed, path, ...) counters.

A plan file is read once: the text whose digest keys the unit's checkpoints is the text that was
validated into the ``Plan`` the unit evaluates. The parsed ``Plan`` (a small frozen dataclass)
is what travels to worker processes and Dask workers, so they need no shared filesystem and
never re-read a file that may have changed since.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from fleetcalc.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from fleetcalc.batch.grid import Variant
    from fleetcalc.plan import Plan

ERROR_COLUMNS = ("plan_file", "variant", "field", "value", "expected", "message")


@dataclass(frozen=True)
class PlanFile:
    """A plan file as read once: its name (as given), the SHA-256 of its text, the plan."""

    source: str
    digest: str
    plan: Plan


@dataclass(frozen=True)
class Unit:
    """One plan file under one grid variant; ``key`` names its checkpoint parts."""

    plan_index: int
    plan_file: PlanFile
    variant: Variant
    key: str


class UnitRows(NamedTuple):
    """A unit's rows: the summary (as ``compare --json``) and one row per Monte Carlo path."""

    summary: pl.DataFrame
    paths: pl.DataFrame


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


def read_plan_file(file: Path) -> PlanFile:
    """Read and check a plan file once; InputError (as ``load_plan`` raises) when it is bad."""
    from fleetcalc.plan import parse_plan
    from fleetcalc.validate import parse_toml_text, read_text

    source = str(file)
    text = read_text(file, "TOML file")  # every file-level failure (missing, bytes) as InputError
    plan = parse_plan(parse_toml_text(text, source), source)
    return PlanFile(source, hashlib.sha256(text.encode()).hexdigest(), plan)


def _prefix(frame: pl.DataFrame, plan_file: str, variant: Variant) -> pl.DataFrame:
    import polars as pl

    columns = [pl.lit(plan_file, pl.String).alias("plan_file"),
               pl.lit(variant.index, pl.Int64).alias("variant")]
    columns += [pl.lit(value, pl.Float64).alias(f"grid_{name}") for name, value in variant.values]
    return frame.select(*columns, pl.all())


def evaluate_unit(plan: Plan, variant: Variant, breakevens: bool) -> UnitRows:
    """One unit's rows; InputError when the plan does not fit the variant (e.g. a delivery
    outside the horizon). Runs in this process, a worker process or on a Dask worker.

    NaN (a metric that does not exist) becomes null in both, as in ``Results.records()``.
    """
    import polars as pl

    from fleetcalc.engine import evaluate
    from fleetcalc.metrics import record_schema

    if variant.power_usd_per_kwh is not None:
        if any(site.contract == "market" for site in plan.sites):
            raise InputError(plan.source, "site.power_usd_per_kwh", variant.power_usd_per_kwh,
                             "sites with one power price to vary: a site of this plan buys "
                             "at its hourly power_price_series (power_contract = \"market\")")
        plan = plan.with_site(power_usd_per_kwh=variant.power_usd_per_kwh)
    results = evaluate([plan], variant.scenario, breakevens=breakevens)
    summary = pl.DataFrame(results.records(), schema=record_schema(results.scenario.paths),
                           orient="row")
    paths = results.paths.with_columns(pl.col(pl.Float64).fill_nan(None))
    return UnitRows(_prefix(summary, plan.source, variant), _prefix(paths, plan.source, variant))


def error_record(error: InputError, plan_file: str, variant: int | None) -> dict[str, Any]:
    """A row of the errors table (``ERROR_COLUMNS``): a plan file, or one unit, that failed."""
    return {"plan_file": plan_file, "variant": variant, "field": error.where,
            "value": str(error.value), "expected": error.expected, "message": str(error)}
