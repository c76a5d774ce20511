"""The one atomic writer: a reader never sees a half-written output file, whoever writes it.

Every output of fleetcalc (batch tables and checkpoints, saved plans and scenarios, exports and
screenshots of the app) goes through ``write_atomically``:

- the content goes to a new temporary file in the destination's directory (same filesystem, so
  the final ``os.replace`` is an atomic rename); the temporary file is created with mode 0666 and
  the kernel applies the user's umask, so the output gets the permissions a plain ``open()``
  would give it (``tempfile.mkstemp`` would leave it 0600);
- it is fsynced before the rename, so after a crash the name holds the old content or the whole
  new content, never an empty or partial file; the directory is fsynced after the rename so the
  rename itself survives a power cut;
- on any failure (including Ctrl-C) the temporary file is removed and the destination is left as
  it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fleetcalc.errors import InputError

if TYPE_CHECKING:
    import polars as pl

TABLE_FORMATS = (".parquet", ".csv", ".json")
TEMP_SUFFIX = ".tmp"
# A fresh random name per attempt; a clash (another writer's temporary file) only retries.
_TEMP_NAME_ATTEMPTS = 100

Writer = Callable[[BinaryIO], None]


def table_format(path: str | Path, option: str = "--out") -> str:
    """The format a table path asks for ('.parquet', '.csv' or '.json'); InputError otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InputError("command line", option, str(path),
                         "a file name ending in " + ", ".join(TABLE_FORMATS))
    return suffix


def _create_temp(directory: Path, name: str) -> tuple[Path, int]:
    """A new, empty temporary file beside ``name``: its path and an open descriptor.

    ``os.open`` with mode 0666 lets the kernel apply the process's umask, as for any new file
    (reading the umask would mean setting it, a race with other threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_TEMP_NAME_ATTEMPTS):
        temp = directory / f".{name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name beside {directory / name}")


def _fsync_dir(directory: Path) -> None:
    # Not every platform lets a directory be opened for fsync; the rename is atomic regardless.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomically(path: str | Path, write: Writer, *, make_parents: bool = False) -> Path:
    """Call ``write(handle)`` on a binary file, then put that file at ``path``; return the path.

    ``make_parents``: create missing parent directories; otherwise a missing folder is an
    InputError naming it.
    """
    target = Path(path)
    directory = target.parent
    if make_parents:
        directory.mkdir(parents=True, exist_ok=True)
    elif not directory.is_dir():
        raise InputError(str(target), "", str(directory), "an existing folder")
    temp, fd = _create_temp(directory, target.name)
    try:
        with open(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)
    return target


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (its folder must exist)."""
    data = text.encode("utf-8")

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return write_atomically(path, write)


def _table_writer(frame: pl.DataFrame, suffix: str) -> Writer:
    def write(handle: BinaryIO) -> None:
        if suffix == ".parquet":
            frame.write_parquet(handle)
        elif suffix == ".csv":
            frame.write_csv(handle)
        else:
            frame.write_json(handle)

    return write


def write_table_atomic(frame: pl.DataFrame, path: str | Path, option: str = "--out", *,
                       make_parents: bool = True) -> Path:
    """Write ``frame`` to ``path`` (format by extension) atomically; return the path.

    ``option`` names the command-line option the path came from, for the error message.
    """
    suffix = table_format(path, option)
    return write_atomically(path, _table_writer(frame, suffix), make_parents=make_parents)


def read_table(path: str | Path) -> pl.DataFrame:
    """Read a table written by ``write_table_atomic`` (format by extension)."""
    import polars as pl

    suffix = table_format(path, "path")
    if suffix == ".parquet":
        return pl.read_parquet(path)
    if suffix == ".csv":
        return pl.read_csv(path, infer_schema_length=None)
    # pl.read_json may reorder the columns; the file's objects keep the table's order.
    with open(path, encoding="utf-8") as handle:
        records = json.load(handle)
    return pl.DataFrame(records, infer_schema_length=None, orient="row")
