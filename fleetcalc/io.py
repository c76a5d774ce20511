"""Atomic table writers: a reader never sees a half-written output file.

The frame goes to a temporary file in the destination's directory (same filesystem, so the
final ``os.replace`` is an atomic rename), is fsynced, then renamed over the destination; the
directory is fsynced too so the rename survives a power cut.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

from fleetcalc.errors import InputError

TABLE_FORMATS = (".parquet", ".csv", ".json")


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once at import, before any writer thread.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def table_format(path: str | Path, option: str = "--out") -> str:
    """The format a table path asks for ('.parquet', '.csv' or '.json'); InputError otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InputError("command line", option, str(path),
                         "a file name ending in " + ", ".join(TABLE_FORMATS))
    return suffix


def _write(frame: pl.DataFrame, file: Path, suffix: str) -> None:
    if suffix == ".parquet":
        frame.write_parquet(file)
    elif suffix == ".csv":
        frame.write_csv(file)
    else:
        frame.write_json(file)


def _fsync_dir(directory: Path) -> None:
    # Not every platform lets a directory be opened for fsync; the rename is atomic regardless.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replace_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(temp)`` on a temporary file beside ``target``, fsync it, rename it over
    ``target`` and fsync the directory; on any failure the temporary file is removed."""
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    temp = Path(temp_name)
    try:
        # mkstemp creates the file 0600; give the output the permissions a plain open() would.
        os.chmod(temp, 0o666 & ~_UMASK)
        write(temp)
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)
    return target


def write_table_atomic(frame: pl.DataFrame, path: str | Path, option: str = "--out") -> Path:
    """Write ``frame`` to ``path`` (format by extension) atomically; return the path.

    ``option`` names the command-line option the path came from, for the error message.
    """
    target = Path(path)
    suffix = table_format(target, option)
    return _replace_atomically(target, lambda temp: _write(frame, temp, suffix))


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    return _replace_atomically(Path(path), lambda temp: temp.write_text(text, encoding="utf-8"))


def read_table(path: str | Path) -> pl.DataFrame:
    """Read a table written by ``write_table_atomic`` (format by extension)."""
    suffix = table_format(path, "path")
    if suffix == ".parquet":
        return pl.read_parquet(path)
    if suffix == ".csv":
        return pl.read_csv(path, infer_schema_length=None)
    # pl.read_json may reorder the columns; the file's objects keep the table's order.
    with open(path, encoding="utf-8") as handle:
        records = json.load(handle)
    return pl.DataFrame(records, infer_schema_length=None, orient="row")
