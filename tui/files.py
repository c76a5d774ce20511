"""Saving plans, scenarios, the comparison and screenshots through fleetcalc's one atomic writer.

``fleetcalc.io.write_atomically`` writes a temporary file in the same folder, fsyncs it and
moves it over the target, so a crash or a full disk never leaves a half-written plan behind, and
a saved file gets the user's umask like any other new file.

The app's own files (screenshots) live in one folder, ``app_dir()``: ``$FLEETCALC_HOME`` if
set, else the platform's user data folder (``~/.local/share/fleetcalc`` on Linux, honouring
``$XDG_DATA_HOME``). Plans, scenarios and exports go where the user types.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polars as pl
import tomli_w

from fleetcalc.errors import InputError
from fleetcalc.io import read_only_mode, write_bytes_atomic, write_table_atomic
from fleetcalc.plan import Plan, plan_to_toml
from fleetcalc.scenario import Scenario, scenario_to_toml

EXPORT_FORMATS = (".csv", ".parquet")
APP_DIR_VARIABLE = "FLEETCALC_HOME"


def app_dir() -> Path:
    """The folder of the app's own files (see the module docstring); not created here."""
    chosen = os.environ.get(APP_DIR_VARIABLE)
    if chosen:
        return Path(chosen).expanduser()
    from platformdirs import user_data_path

    return user_data_path("fleetcalc", appauthor=False)


def screenshot_dir() -> Path:
    """Where screenshots go unless a path is given: ``app_dir()/screenshots``."""
    return app_dir() / "screenshots"


def save_text(text: str, path: str | Path, *, make_parents: bool = False) -> Path:
    """Write ``text`` to ``path`` (``~`` expanded; its folder must exist unless
    ``make_parents``)."""
    return write_bytes_atomic(text.encode("utf-8"), Path(path).expanduser(),
                              make_parents=make_parents)


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` as TOML (the format ``load_plan`` reads); its price series, if any, is
    named relative to the new file's folder."""
    folder = Path(path).expanduser().parent
    return save_text(tomli_w.dumps(plan_to_toml(plan, folder)), path)


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
    existing folder this user may create files in, not a read-only file; InputError otherwise.

    The report is written by a worker after the dialog has closed, so everything that can be
    known about the path is checked here, where the dialog can still show it."""
    from fleetcalc.report import report_format

    target = Path(path).expanduser()
    report_format(target)
    if not target.parent.is_dir():
        raise InputError(str(path), "", str(target.parent), "an existing folder")
    try:
        # What the atomic writer will do first: create a temporary file beside the target.
        with tempfile.TemporaryFile(dir=target.parent):
            pass
    except OSError as error:
        raise InputError(str(path), "", str(target.parent),
                         f"a folder this user may write in ({error.strerror})") from None
    if read_only_mode(target) is not None:
        raise InputError(str(path), "", "(read-only file)", "a file that may be written")
    return target
