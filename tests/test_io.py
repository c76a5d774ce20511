"""The one atomic writer (``fleetcalc.io``): umask modes, fsync before rename, nothing left on
failure, and no other code writing output files itself."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

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
