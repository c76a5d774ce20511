"""What a batch run writes: ``--out``, ``--per-path`` and the errors table beside ``--out``.

Every path is checked before any unit runs (a format, a writable place, no silent overwrite, no
two outputs on one file), so a bad option costs nothing. The errors table follows ``--out``'s
rule: it is replaced or removed only with ``--force`` or ``--resume``. The tables are written at
the end through the one atomic writer (``fleetcalc.io``), all of them in full before the first
is renamed into place, so a reader never sees a partial table, an interrupt leaves none, and a
failure (a full disk) never leaves a new ``--out`` beside an old ``--per-path``.
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


class UnreadableCheckpoints(Exception):
    """The parts could not be assembled into the tables (changed or damaged during the run)."""


def errors_path(out: Path) -> Path:
    """Where the errors table of a run writing ``out`` goes: ``<stem>.errors<ext>`` beside it."""
    return out.with_name(f"{out.stem}.errors{out.suffix}")


def parts_path(out: Path) -> Path:
    """The checkpoint directory of a run writing ``out``: ``<out>.parts`` beside it."""
    return out.with_name(out.name + ".parts")


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


def _check_distinct(out: Path, per_path: Path) -> None:
    """``--per-path`` must not be a file the run writes or removes for ``--out``."""
    from fleetcalc.io import LOCK_SUFFIX

    mine = per_path.resolve()
    others = {
        out.resolve(): "a file other than --out",
        errors_path(out).resolve(): f"a file other than the errors table of --out "
                                    f"({errors_path(out)})",
        out.with_name(out.name + LOCK_SUFFIX).resolve(): "a file other than the lock of --out",
    }
    if mine in others:
        raise InputError("command line", "--per-path", str(per_path), others[mine])
    parts = parts_path(out).resolve()
    if parts in mine.parents:
        raise InputError("command line", "--per-path", str(per_path),
                         f"a path outside the checkpoint directory of --out ({parts_path(out)}, "
                         "removed at the end of the run)")


def _check_replaceable(path: Path, option: str, given: Path, overwrite: bool) -> None:
    """``path`` (``given`` itself or a file written for it) must not exist, unless
    ``overwrite``; and an existing one must be writable."""
    from fleetcalc.io import read_only_mode

    if not (path.exists() or path.is_symlink()):
        return
    if not overwrite:
        expected = ("a path that does not exist yet (pass --force to overwrite it)"
                    if path == given else f"an --out whose errors table does not exist yet "
                    f"({path} is there: pass --force to overwrite it)")
        raise InputError("command line", option, str(given), expected)
    mode = read_only_mode(path)
    if mode is not None:
        raise InputError("command line", option, str(given),
                         f"a writable file ({path} is read-only, mode {mode:04o}: make it "
                         "writable or choose another path)")


def check_output_paths(out: Path, per_path: Path | None, overwrite: bool) -> None:
    """InputError unless ``--out``, ``--per-path`` and the errors table are files that may be
    written: distinct, in a writable place, writable, and new unless ``overwrite`` (--force or
    --resume)."""
    from fleetcalc.io import table_format

    table_format(out, "--out")
    if per_path is not None:
        table_format(per_path, "--per-path")
        _check_distinct(out, per_path)
    check_writable_place(out, "--out")
    _check_replaceable(out, "--out", out, overwrite)
    _check_replaceable(errors_path(out), "--out", out, overwrite)
    if per_path is not None:
        check_writable_place(per_path, "--per-path")
        _check_replaceable(per_path, "--per-path", per_path, overwrite)


def stale_temp_files(out: Path, per_path: Path | None, store: PartStore) -> list[Path]:
    """Temporary files an earlier run writing these outputs left (killed while writing):
    beside each output and in the checkpoint directory. Safe to remove under the run's lock."""
    from fleetcalc.io import TEMP_SUFFIX, temp_files_of

    found = [t for path in (out, errors_path(out), per_path) if path is not None
             for t in temp_files_of(path)]
    if store.directory.is_dir():
        found += sorted(store.directory.glob(f".*{TEMP_SUFFIX}"))
    return found


def _errors_frame(errors: list[dict[str, Any]]) -> Any:
    import polars as pl

    schema = {name: pl.Int64() if name == "variant" else pl.String() for name in ERROR_COLUMNS}
    return pl.DataFrame(errors, schema=schema, orient="row")


def _concat(store: PartStore, keys: list[str], kind: str) -> Any:
    try:
        return store.concat(keys, kind)
    except Exception as error:  # polars raises several types for a damaged Parquet file
        raise UnreadableCheckpoints(
            f"the checkpoints in {store.directory} could not be read ({type(error).__name__}: "
            f"{error}); re-run with --resume: it checks every checkpoint and evaluates the "
            "damaged ones again") from error


def write_outputs(store: PartStore, keys: list[str], errors: list[dict[str, Any]], out: Path,
                  per_path: Path | None) -> None:
    """The parts of ``keys``, in that order, as ``--out`` (and ``--per-path``), and the errors
    table (removed when there is no error): all written, then all renamed into place."""
    from fleetcalc.io import commit_together, stage_table

    staged = []
    try:
        if keys:
            staged.append(stage_table(_concat(store, keys, "summary"), out, "--out"))
            if per_path is not None:
                staged.append(stage_table(_concat(store, keys, "paths"), per_path, "--per-path"))
        else:
            print("fleetcalc: no plan could be evaluated; --out not written", file=sys.stderr)
        target = errors_path(out)
        if errors:
            staged.append(stage_table(_errors_frame(errors), target, "--out"))
        commit_together(staged, remove=() if errors else (target,))
    except BaseException:
        for item in staged:
            item.discard()
        raise
