"""What a batch run writes: ``--out``, ``--per-path`` and the errors table beside ``--out``.

Every path is checked before any unit runs (a format, a writable place, no silent overwrite),
so a bad option costs nothing; the tables are written at the end through the one atomic writer
(``fleetcalc.io``), so a reader never sees a partial table and an interrupt leaves none.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetcalc.batch.units import ERROR_COLUMNS
from fleetcalc.errors import InputError

if TYPE_CHECKING:
    from fleetcalc.batch.store import PartStore


def errors_path(out: Path) -> Path:
    """Where the errors table of a run writing ``out`` goes: ``<stem>.errors<ext>`` beside it."""
    return out.with_name(f"{out.stem}.errors{out.suffix}")


def check_writable_place(path: Path, option: str) -> None:
    """The output's directory must be, or be creatable as, a writable directory: found now
    rather than as an OSError after every unit has been evaluated."""
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


def check_output_paths(out: Path, per_path: Path | None, overwrite: bool) -> None:
    """InputError unless ``--out`` and ``--per-path`` are table files that may be written:
    distinct, in a writable place, and new unless ``overwrite`` (--force or --resume)."""
    from fleetcalc.io import table_format

    table_format(out, "--out")
    if per_path is not None:
        table_format(per_path, "--per-path")
        if per_path.resolve() == out.resolve():
            raise InputError("command line", "--per-path", str(per_path),
                             "a file other than --out")
    for option, path in (("--out", out), ("--per-path", per_path)):
        if path is None:
            continue
        check_writable_place(path, option)
        if path.exists() and not overwrite:
            raise InputError("command line", option, str(path),
                             "a path that does not exist yet (pass --force to overwrite it)")


def write_results(store: PartStore, keys: list[str], out: Path, per_path: Path | None) -> None:
    """The parts of ``keys``, in that order, as ``--out`` (and ``--per-path``)."""
    from fleetcalc.io import write_table_atomic

    if not keys:
        print("fleetcalc: no plan could be evaluated; --out not written", file=sys.stderr)
        return
    write_table_atomic(store.concat(keys, "summary"), out, "--out")
    if per_path is not None:
        write_table_atomic(store.concat(keys, "paths"), per_path, "--per-path")


def write_errors(errors: list[dict[str, Any]], out: Path) -> None:
    """The errors table beside ``out``; with no error, a stale one of an earlier run is removed
    (it would mislead)."""
    import polars as pl

    from fleetcalc.io import write_table_atomic

    target = errors_path(out)
    if not errors:
        target.unlink(missing_ok=True)
        return
    schema = {name: pl.Int64() if name == "variant" else pl.String() for name in ERROR_COLUMNS}
    write_table_atomic(pl.DataFrame(errors, schema=schema, orient="row"), target, "--out")
