"""The one atomic writer: a reader never sees a half-written output file, whoever writes it.

Every output of fleetcalc (batch tables and checkpoints, saved plans and scenarios, exports and
screenshots of the app) goes through ``write_atomically`` (or ``stage`` + ``commit_together``
for outputs that must appear together):

- the content goes to a new temporary file in the destination's directory (same filesystem, so
  the final ``os.replace`` is an atomic rename); the temporary file is created with mode 0666 and
  the kernel applies the user's umask, so a new output gets the permissions a plain ``open()``
  would give it (``tempfile.mkstemp`` would leave it 0600);
- saving over an existing file keeps that file's permission bits; a read-only file is refused
  (``InputError``) rather than silently replaced; a symlink is written through (its target gets
  the new content and the link stays a link);
- it is fsynced before the rename, so after a crash the name holds the old content or the whole
  new content, never an empty or partial file; the directory is fsynced after the rename so the
  rename itself survives a power cut;
- on any failure (including Ctrl-C) the temporary file is removed and the destination is left as
  it was; an OS error (a full disk, a lost permission) comes out as ``OutputError`` naming the
  file, whatever library was writing it.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fleetcalc.errors import InputError
from fleetcalc.text import csv_safe, plain_text_columns

if TYPE_CHECKING:
    import polars as pl

TABLE_FORMATS = (".parquet", ".csv", ".json")
TEMP_SUFFIX = ".tmp"
_TEMP_TOKEN_BYTES = 6
# A fresh random name per attempt; a clash (another writer's temporary file) only retries.
_TEMP_NAME_ATTEMPTS = 100
# Permission bits copied from a file that is saved over: not setuid/setgid, which would give the
# writer's identity to content the file's owner never wrote.
_KEPT_MODE_BITS = 0o777
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)

Writer = Callable[[BinaryIO], None]


class OutputError(OSError):
    """An output file could not be written: the OS error (a full disk, a permission, an I/O
    error) with the file it happened to, whichever library was writing.

    ``errno``, ``strerror`` and ``filename`` are the OS error's; ``str()`` is a plain sentence
    ("disk full writing ...") with what to do.
    """

    def __init__(self, path: str | Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))
        self.path = Path(path)

    @property
    def disk_full(self) -> bool:
        return self.errno in _DISK_FULL

    def __str__(self) -> str:
        if self.disk_full:
            return (f"disk full writing {self.path} ({self.strerror}): free some space or "
                    "write to another disk")
        return f"cannot write {self.path}: {self.strerror}"


def table_format(path: str | Path, option: str = "--out") -> str:
    """The format a table path asks for ('.parquet', '.csv' or '.json'); InputError otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InputError("command line", option, str(path),
                         "a file name ending in " + ", ".join(TABLE_FORMATS))
    return suffix


def _temp_name(name: str) -> str:
    return f".{name}.{secrets.token_hex(_TEMP_TOKEN_BYTES)}{TEMP_SUFFIX}"


def temp_files_of(path: str | Path) -> list[Path]:
    """The temporary files a writer of ``path`` may have left behind (killed between creating
    and renaming one), for a caller that knows no writer of ``path`` is running."""
    target = _destination(Path(path))
    token = f"[0-9a-f]{{{2 * _TEMP_TOKEN_BYTES}}}"
    pattern = re.compile(re.escape(f".{target.name}.") + token + re.escape(TEMP_SUFFIX))
    with contextlib.suppress(OSError):
        return sorted(p for p in target.parent.iterdir() if pattern.fullmatch(p.name))
    return []


def _create_temp(directory: Path, name: str) -> tuple[Path, int]:
    """A new, empty temporary file beside ``name``: its path and an open descriptor.

    ``os.open`` with mode 0666 lets the kernel apply the process's umask, as for any new file
    (reading the umask would mean setting it, a race with other threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_TEMP_NAME_ATTEMPTS):
        temp = directory / _temp_name(name)
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


def _write_fd(fd: int, data: bytes | memoryview) -> int:
    """One ``write(2)``: the single place bytes reach a temporary file (tests replace it to
    simulate a full disk)."""
    return os.write(fd, data)


class _TempFile(io.RawIOBase):
    """The temporary file as the writer sees it (under a BufferedWriter, which retries short
    writes). It keeps the first OS error a write raised: polars reports a failed write as its
    own error ("File out of specification: underlying IO error", "Invalid thrift: transport
    error"), which would otherwise hide that the disk is full."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self.error: OSError | None = None

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        # Hidden: given a descriptor, polars writes to it directly from its own threads, so a
        # failed write reaches us only as polars' own error and the writes are out of our
        # control. Without one it writes through ``write`` below.
        raise io.UnsupportedOperation("fileno")

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            return _write_fd(self.fd, memoryview(data))
        except OSError as error:
            if self.error is None:
                self.error = error
            raise

    def close(self) -> None:
        if not self.closed:
            os.close(self.fd)
        super().close()


def _destination(target: Path) -> Path:
    """Where the bytes for ``target`` go: a symlink's final target, so the link stays a link
    (a dangling link gets its target created)."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def read_only_mode(path: str | Path) -> int | None:
    """The permission bits of the existing file at ``path`` (through a symlink) when this user
    may not write it, else None (writable, or no file yet)."""
    destination = _destination(Path(path))
    try:
        mode = stat.S_IMODE(destination.stat().st_mode)
    except FileNotFoundError:
        return None
    # No write bit at all, or none for this user: the owner marked it read-only (root bypasses
    # the permission check, so the bits are read too).
    if not mode & 0o222 or not os.access(destination, os.W_OK):
        return mode
    return None


def _kept_mode(destination: Path, shown: Path) -> int | None:
    """The permission bits to give the new file: the existing file's, or None for a new file
    (then the umask decides). InputError when the existing file is read-only."""
    try:
        existing = stat.S_IMODE(destination.stat().st_mode)
        read_only = read_only_mode(destination)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise OutputError(shown, error) from error
    if read_only is not None:
        raise InputError(str(shown), "", f"read-only (mode {read_only:04o})",
                         "a writable file: make it writable (chmod u+w) or write to another "
                         "name")
    return existing & _KEPT_MODE_BITS


@dataclass
class StagedFile:
    """A file written in full beside its destination, waiting for ``commit_together``."""

    target: Path  # the path as the caller gave it
    destination: Path  # where the content lands: ``target`` or a symlink's target
    temp: Path
    durable: bool = True  # fsynced, and its folder fsynced after the rename

    def discard(self) -> None:
        """Remove the temporary file (nothing else changes)."""
        self.temp.unlink(missing_ok=True)


def _prepare_folder(target: Path, destination: Path, make_parents: bool) -> None:
    directory = destination.parent
    if make_parents:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(target, error) from error
    elif not directory.is_dir():
        raise InputError(str(target), "", str(directory), "an existing folder")


def _fill(raw: _TempFile, write: Writer, mode: int | None, durable: bool) -> None:
    """Write and flush the temporary file (with the kept mode, if any); fsync it if
    ``durable``."""
    with io.BufferedWriter(raw) as handle:
        write(handle)
        handle.flush()
        if mode is not None:
            os.fchmod(raw.fd, mode)
        if durable:
            os.fsync(raw.fd)


def stage(path: str | Path, write: Writer, *, make_parents: bool = False,
          durable: bool = True) -> StagedFile:
    """Call ``write(handle)`` on a new temporary file beside ``path``'s destination and fsync
    it; ``commit_together`` then puts it in place. Nothing is left behind if this fails.

    ``make_parents``: create missing parent directories; otherwise a missing folder is an
    InputError naming it. A read-only destination is an InputError; an OS error while writing
    is an ``OutputError`` naming ``path``. ``durable=False`` skips the fsyncs, for files whose
    reader verifies them (batch checkpoints): the rename stays atomic, but after a power cut the
    file may hold nothing.
    """
    target = Path(path)
    destination = _destination(target)
    _prepare_folder(target, destination, make_parents)
    mode = _kept_mode(destination, target)
    try:
        temp, fd = _create_temp(destination.parent, destination.name)
    except OSError as error:
        raise OutputError(target, error) from error
    raw = _TempFile(fd)
    failure: BaseException | None = None
    try:
        _fill(raw, write, mode, durable)
    except BaseException as error:
        failure = error
    # Polars' streaming writers deliver a Ctrl-C once more as they stop. A cleanup called as a
    # function would meet it on entry, before any guard of its own, and leave the temporary
    # file (as nearly every interrupted Parquet write did): so the guard is here, around the
    # very call that removes it.
    while failure is not None:
        try:
            os.unlink(temp)
            break
        except FileNotFoundError:
            break
        except KeyboardInterrupt:
            continue
    if failure is None:
        return StagedFile(target, destination, temp, durable)
    cause = raw.error or failure
    if isinstance(cause, OSError) and not isinstance(cause, OutputError):
        raise OutputError(target, cause) from failure
    raise failure


def commit_together(staged: Sequence[StagedFile], remove: Sequence[Path] = ()) -> None:
    """Rename every staged file into place, then remove the files of ``remove`` (stale outputs
    the new ones would contradict). Every file was written in full before the first rename, and
    a Ctrl-C meanwhile is held back until all renames are done, so an interrupt never leaves one
    new output beside an old one."""
    interrupted: KeyboardInterrupt | None = None
    try:
        for item in staged:
            while True:
                try:
                    if item.temp.exists():
                        os.replace(item.temp, item.destination)
                    break
                except KeyboardInterrupt as error:
                    interrupted = interrupted or error
                except OSError as error:
                    raise OutputError(item.target, error) from error
        for path in remove:
            path.unlink(missing_ok=True)
    finally:
        for item in staged:
            item.discard()  # only a temporary file a failed rename left
    for directory in dict.fromkeys(item.destination.parent for item in staged if item.durable):
        _fsync_dir(directory)
    if interrupted is not None:
        raise interrupted


LOCK_SUFFIX = ".lock"
_LOCK_ATTEMPTS = 100


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode().strip())
        return f"process {pid}"
    return "another process"


def _open_locked(lock: Path, path: Path, option: str) -> int:
    """An open descriptor of ``lock``, exclusively flocked; InputError if another holds it."""
    import fcntl

    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_LOCK_ATTEMPTS):
        try:
            fd = os.open(lock, flags, 0o666)
        except OSError as error:
            raise OutputError(lock, error) from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise InputError("command line", option, str(path),
                             f"an output no other run is writing ({lock} is held by {holder}: "
                             f"wait for that run to end, or choose another {option})") from None
        # The previous holder removes the file as it ends; a lock taken on the removed file
        # protects nothing, so take the one now at that name.
        with contextlib.suppress(FileNotFoundError):
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                return fd
        os.close(fd)
    raise InputError("command line", option, str(path), f"a lock file {lock} that stays put")


@contextlib.contextmanager
def output_lock(path: str | Path, option: str = "--out") -> Iterator[Path]:
    """Hold an exclusive lock on ``<path>.lock`` (``fcntl.flock``) for the block, so two runs
    never write ``path`` (and what belongs to it) at once: the second gets an InputError naming
    the process that holds it. The kernel releases the lock if the holder dies, so a crashed
    run never blocks the next; the file is removed when the block ends. No lock where the
    platform has no ``fcntl`` (Windows)."""
    target = Path(path)
    lock = target.with_name(target.name + LOCK_SUFFIX)
    try:
        import fcntl  # noqa: F401
    except ImportError:
        yield lock
        return
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)  # the outputs will be written there
    except OSError as error:
        raise OutputError(lock, error) from error
    fd = _open_locked(lock, target, option)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield lock
    finally:
        # Removed while still held: a run that opened it meanwhile sees it was removed.
        lock.unlink(missing_ok=True)
        os.close(fd)


def write_atomically(path: str | Path, write: Writer, *, make_parents: bool = False,
                     durable: bool = True) -> Path:
    """Call ``write(handle)`` on a binary file, then put that file at ``path``; return the path.

    ``make_parents`` and ``durable`` as for ``stage``.
    """
    staged = stage(path, write, make_parents=make_parents, durable=durable)
    commit_together([staged])
    return staged.target


def write_bytes_atomic(data: bytes, path: str | Path, *, make_parents: bool = False,
                       durable: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (``make_parents`` and ``durable`` as for
    ``stage``)."""

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return write_atomically(path, write, make_parents=make_parents, durable=durable)


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (its folder must exist)."""
    return write_bytes_atomic(text.encode("utf-8"), path)


# Joins the items of a list cell in CSV; '; ' is taken: it separates clauses inside a warning.
CSV_LIST_SEPARATOR = " | "


def flat_lists(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as CSV holds it: CSV has no lists, so a list-of-strings column (a plan's
    ``warnings``) becomes one cell of its items joined by ``CSV_LIST_SEPARATOR``."""
    import polars as pl

    lists = [name for name, dtype in frame.schema.items() if dtype == pl.List(pl.String)]
    return frame.with_columns(pl.col(lists).list.join(CSV_LIST_SEPARATOR)) if lists else frame


def _table_writer(frame: pl.DataFrame, suffix: str) -> Writer:
    frame = plain_text_columns(frame)

    def write(handle: BinaryIO) -> None:
        if suffix == ".parquet":
            frame.write_parquet(handle)
        elif suffix == ".csv":
            csv_safe(flat_lists(frame)).write_csv(handle)
        else:
            frame.write_json(handle)

    return write


def stage_table(frame: pl.DataFrame, path: str | Path, option: str = "--out") -> StagedFile:
    """``stage`` ``frame`` as a table at ``path`` (format by extension; parents made)."""
    return stage(path, _table_writer(frame, table_format(path, option)), make_parents=True)


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
