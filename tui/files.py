"""Saving plans, scenarios, the comparison and screenshots through fleetcalc's one atomic writer.

``fleetcalc.io.write_atomically`` writes a temporary file in the same folder, fsyncs it and
moves it over the target, so a crash or a full disk never leaves a half-written plan behind, and
a saved file gets the user's umask like any other new file.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import tomli_w

from fleetcalc.errors import InputError
from fleetcalc.io import write_table_atomic, write_text_atomic
from fleetcalc.plan import Plan, plan_to_toml
from fleetcalc.scenario import Scenario, scenario_to_toml

EXPORT_FORMATS = (".csv", ".parquet")


def save_text(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` (``~`` expanded; its folder must exist)."""
    return write_text_atomic(text, Path(path).expanduser())


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` as TOML (the format ``load_plan`` reads)."""
    return save_text(tomli_w.dumps(plan_to_toml(plan)), path)


def save_scenario(scenario: Scenario, path: str | Path) -> Path:
    """Write ``scenario`` as TOML (the format ``load_scenario`` reads)."""
    return save_text(tomli_w.dumps(scenario_to_toml(scenario)), path)


def export_summary(summary: pl.DataFrame, path: str | Path) -> Path:
    """Write the comparison table as CSV or Parquet, chosen by the file extension."""
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise InputError(str(path), "", suffix or "(no extension)",
                         "a file name ending in .csv or .parquet")
    return write_table_atomic(summary, target, str(path), make_parents=False)


def report_target(path: str | Path) -> Path:
    """``path`` (``~`` expanded) if a report can be written there: .xlsx or .html in an
    existing folder; InputError otherwise."""
    from fleetcalc.report import report_format

    target = Path(path).expanduser()
    report_format(target)
    if not target.parent.is_dir():
        raise InputError(str(path), "", str(target.parent), "an existing folder")
    return target
