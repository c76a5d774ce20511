"""The one atomic writer (``fleetcalc.io``): umask modes, fsync before rename, nothing left on
failure, and no other code writing output files itself."""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from fleetcalc import io
from fleetcalc.cli import main
from fleetcalc.errors import InputError
from fleetcalc.plan import default_plans
from tui import files

ROOT = Path(__file__).resolve().parents[1]
BATCH = Path(__file__).parent / "data" / "batch"


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under a umask; the process's own umask is restored afterwards."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_batch_outputs_get_the_users_umask(tmp_path: Path, umask: int) -> None:
    out, per_path = tmp_path / "out.csv", tmp_path / "paths.parquet"
    bad = tmp_path / "bad.toml"
    bad.write_text((BATCH / "bad_plan.toml").read_text())
    os.chmod(bad, 0o644)
    code = main(["batch", str(BATCH / "plans" / "c-custom.toml"), str(bad), "--scenario",
                 str(BATCH / "scenario.toml"), "--no-breakevens", "--quiet", "--out", str(out),
                 "--per-path", str(per_path)])
    assert code == 2  # the bad plan: an errors table is written too
    for written in (out, per_path, tmp_path / "out.errors.csv"):
        assert mode(written) == 0o666 & ~umask, written.name


def test_tui_saves_get_the_users_umask(tmp_path: Path, umask: int) -> None:
    plan = files.save_plan(default_plans()[0], tmp_path / "plan.toml")
    export = files.export_summary(pl.DataFrame({"plan": ["a"]}), tmp_path / "summary.csv")
    text = files.save_text("<svg/>", tmp_path / "screen.svg")
    for written in (plan, export, text):
        assert mode(written) == 0o666 & ~umask, written.name


def test_fsync_comes_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    def replace(source: str | Path, target: str | Path) -> None:
        calls.append("rename")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    io.write_text_atomic("content", tmp_path / "out.txt")
    assert calls == ["file", "rename", "dir"]
    assert (tmp_path / "out.txt").read_text() == "content"


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.toml"
    target.write_text("old")

    def fail(handle: object) -> None:
        handle.write(b"half")  # type: ignore[attr-defined]
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        io.write_atomically(target, fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.toml"]


def test_a_missing_folder_is_an_input_error_unless_parents_are_made(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "out.csv"
    with pytest.raises(InputError, match="an existing folder"):
        files.save_text("x", target)
    assert not (tmp_path / "new").exists()
    io.write_table_atomic(pl.DataFrame({"a": [1]}), target)
    assert io.read_table(target)["a"].to_list() == [1]


# Calls that write a file (a polars writer given a destination, Path.write_*, an open() for
# writing, os.replace/rename, Textual's in-place screenshot): only fleetcalc/io.py makes them.
DIRECT_WRITE = re.compile(
    r"\.write_(parquet|csv|json|ipc|excel|text|bytes)\(\s*[^)\s]"
    r"|\bopen\([^)]*['\"][wax]b?\+?['\"]"
    r"|\bos\.(replace|rename)\("
    r"|\.save_screenshot\("
    r"|\.sink_(parquet|csv|ipc|ndjson)\("
)


def test_no_code_but_the_writer_writes_output_files() -> None:
    offenders = []
    for package in ("fleetcalc", "tui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "fleetcalc" / "io.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if DIRECT_WRITE.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "write through fleetcalc.io instead:\n" + "\n".join(offenders)


def test_the_check_finds_a_direct_write() -> None:
    for line in ('frame.write_csv(path)', 'Path(p).write_text("x")', 'open(p, "wb")',
                 'os.replace(a, b)', 'self.save_screenshot(filename=f)'):
        assert DIRECT_WRITE.search(line), line
    for line in ('print(frame.write_json())', 'open(p, encoding="utf-8")', 'open(p, "rb")'):
        assert not DIRECT_WRITE.search(line), line


# --- saving over files: read-only, symlinks, modes (issue 12, finding 13) ---------------------


SAVES = ["tui save", "batch --force"]


def _save(how: str, target: Path) -> int:
    """Write a table to ``target`` by a TUI export or a batch --force: 0, or 2 for an input
    error (printed on stderr, as the CLI does)."""
    if how == "batch --force":
        return main(["batch", str(BATCH / "plans" / "c-custom.toml"), "--scenario",
                     str(BATCH / "scenario.toml"), "--no-breakevens", "--quiet", "--force",
                     "--out", str(target)])
    try:
        files.export_summary(pl.DataFrame({"plan": ["new"]}), target)
    except InputError as error:
        print(f"fleetcalc: error: {error}", file=sys.stderr)
        return 2
    return 0


@pytest.mark.parametrize("how", SAVES)
def test_saving_over_a_read_only_file_is_refused(tmp_path: Path, how: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.csv"
    target.write_text("keep me\n")
    target.chmod(0o444)
    assert _save(how, target) == 2
    assert "read-only" in capsys.readouterr().err
    assert target.read_text() == "keep me\n" and mode(target) == 0o444
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


@pytest.mark.parametrize("how", SAVES)
def test_a_symlink_is_written_through(tmp_path: Path, how: str) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "table.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert _save(how, link) == 0
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text() != "old\n" and io.read_table(link).height == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["link.csv", "real", "table.csv"]


@pytest.mark.parametrize("how", SAVES)
@pytest.mark.parametrize("old_mode", [0o640, 0o600, 0o4755])
def test_saving_over_a_file_keeps_its_mode(tmp_path: Path, how: str, old_mode: int) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    target.chmod(old_mode)
    assert _save(how, target) == 0
    assert target.read_text() != "old\n"
    assert mode(target) == old_mode & 0o777  # the permissions; never setuid on new content


def test_a_tui_save_over_a_read_only_plan_shows_why(tmp_path: Path) -> None:
    target = tmp_path / "plan.toml"
    target.write_text("name = 'mine'\n")
    target.chmod(0o444)
    with pytest.raises(InputError) as refused:
        files.save_plan(default_plans()[0], target)
    assert str(refused.value) == (
        f"{target}: got 'read-only (mode 0444)'; expected a writable file: make it writable "
        "(chmod u+w) or write to another name")


# --- a full disk, interrupts (issue 12, findings 9 and 10) --------------------------------------


def _full_disk(fd: int, data: bytes) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".json"])
def test_a_full_disk_is_named_whatever_writes_the_table(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / f"out{suffix}"
    target.write_text("old")
    monkeypatch.setattr(io, "_write_fd", _full_disk, raising=False)
    frame = pl.DataFrame({"a": np.arange(100_000.0)})
    with pytest.raises(OSError) as failed:
        io.write_table_atomic(frame, target)
    assert str(failed.value).startswith(f"disk full writing {target} (No space left on device)")
    assert failed.value.errno == errno.ENOSPC and failed.value.filename == str(target)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_full_disk_is_an_exit_1_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(io, "_write_fd", _full_disk, raising=False)
    out = tmp_path / "plan.toml"
    candidates = ROOT / "tests" / "data" / "inputs" / "candidates" / "valid.toml"
    code = main(["optimize", str(candidates), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(f"fleetcalc: error: disk full writing {out}"), err


def test_an_os_error_is_named_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int, data: bytes) -> int:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(io, "_write_fd", broken, raising=False)
    with pytest.raises(OSError, match=r"^cannot write .*out\.txt: Input/output error$"):
        io.write_text_atomic("x", tmp_path / "out.txt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_ctrl_c_during_a_table_write_leaves_no_file_20_times(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGINT arrives while polars writes (sent from inside the write, so it lands mid-write
    on any machine): the old file stays, no temporary file is left, every time."""
    target = tmp_path / f"out{suffix}"
    target.write_text("old")
    frame = pl.DataFrame({f"c{i}": np.arange(200_000.0) * i for i in range(4)})
    table_writer = io._table_writer

    class Interrupting:
        """The file polars writes to: sends SIGINT to this process at its n-th write."""

        def __init__(self, handle: Any, n: int) -> None:
            self.handle, self.n = handle, n

        def write(self, data: bytes) -> int:
            self.n -= 1
            if self.n == 0:
                os.kill(os.getpid(), signal.SIGINT)
            return self.handle.write(data)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.handle, name)

    for attempt in range(20):
        def writer(frame: pl.DataFrame, suffix: str, n: int = 1 + attempt % 3) -> Any:
            write = table_writer(frame, suffix)
            return lambda handle: write(Interrupting(handle, n))

        monkeypatch.setattr(io, "_table_writer", writer)
        with pytest.raises(KeyboardInterrupt):
            io.write_table_atomic(frame, target)
        assert [p.name for p in tmp_path.iterdir()] == [target.name], attempt
        assert target.read_text() == "old"
