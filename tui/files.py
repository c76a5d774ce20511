"""Saving plans, scenarios and the comparison: every write is atomic.

A file is written to a temporary file in the same folder and moved over the target with
``os.replace``, so a crash or a full disk never leaves a half-written plan behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import tomli_w

from fleetcalc.errors import InputError
from fleetcalc.plan import Plan, plan_to_toml
from fleetcalc.scenario import Scenario, scenario_to_toml

EXPORT_FORMATS = (".csv", ".parquet")


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temp_path)`` then move the temporary file onto ``path``."""
    target = Path(path).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(str(target), "", str(folder), "an existing folder")
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` as TOML (the format ``load_plan`` reads)."""
    text = tomli_w.dumps(plan_to_toml(plan))
    return write_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))


def save_scenario(scenario: Scenario, path: str | Path) -> Path:
    """Write ``scenario`` as TOML (the format ``load_scenario`` reads)."""
    text = tomli_w.dumps(scenario_to_toml(scenario))
    return write_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))


def export_summary(summary: pl.DataFrame, path: str | Path) -> Path:
    """Write the comparison table as CSV or Parquet, chosen by the file extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise InputError(str(path), "", suffix or "(no extension)",
                         "a file name ending in .csv or .parquet")
    if suffix == ".csv":
        return write_atomically(path, lambda temp: summary.write_csv(temp))
    return write_atomically(path, lambda temp: summary.write_parquet(temp))
