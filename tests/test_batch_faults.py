"""``fleetcalc batch`` under faults: stale or damaged checkpoints, outputs that collide, a second
run on the same output, a full disk, signals and killed processes (issue 12, findings 1, 2, 3,
9, 10, 11, 12).

Process tests run the batch in a subprocess of its own session whose units block
(``tests/stuck_worker.py``): they poll for readiness markers and for the session to empty,
never sleep a fixed time, and their timeouts only bound the waiting.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fleetcalc import io
from fleetcalc.batch import PartStore, errors_path, evaluate_unit, expand_grid, unit_key
from fleetcalc.batch.units import read_plan_file
from fleetcalc.cli import main
from fleetcalc.scenario import load_scenario
from tests.stuck_worker import MARKERS_ENV, STUCK_CLI, STUCK_PLAN_ENV

DATA = Path(__file__).parent / "data" / "batch"
PLANS = DATA / "plans"
PLAN_FILES = sorted(PLANS.glob("*.toml"))
SCENARIO = DATA / "scenario.toml"
SERIES_SCENARIO = Path(__file__).parent / "data" / "inputs" / "scenarios" / "series_valid.toml"
REPO = Path(__file__).resolve().parents[1]
FAST = ("--scenario", SCENARIO, "--no-breakevens")
# Bounds on waiting only: the events come within a second or so on any machine.
WAIT_S = 60.0


def batch(*argv: str | Path) -> int:
    return main(["batch", *(str(a) for a in argv), "--quiet"])


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob(f"*{io.TEMP_SUFFIX}"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An uninterrupted run of the three plans (one variant, no breakevens)."""
    folder = tmp_path_factory.mktemp("reference")
    out, per_path = folder / "out.parquet", folder / "paths.parquet"
    assert batch(PLANS, *FAST, "--out", out, "--per-path", per_path) == 0
    return pl.read_parquet(out), pl.read_parquet(per_path)


def checkpoint_units(out: Path, plans: list[Path], scenario: Path) -> dict[Path, str]:
    """Checkpoint every unit (one variant, no breakevens) as a run interrupted at the very end
    would have: the unit key of each plan file."""
    (variant,) = expand_grid(load_scenario(scenario), None)
    store = PartStore(Path(f"{out}.parts"))
    keys = {}
    for plan in plans:
        plan_file = read_plan_file(plan)
        keys[plan] = unit_key(plan_file, variant, False)
        rows = evaluate_unit(plan_file.plan, variant, False)
        store.save(keys[plan], rows.summary, rows.paths)
    return keys


# --- finding 1: the unit key covers the series files ------------------------------------------


def _series_scenario(folder: Path) -> Path:
    """A copy of the 90-day series scenario with its two CSV files, in ``folder``."""
    series = SERIES_SCENARIO.parent.parent / "series"
    (folder / "series").mkdir()
    for name in ("prices_valid.csv", "hashrate_valid.csv"):
        shutil.copy(series / name, folder / "series" / name)
    (folder / "scenarios").mkdir()
    scenario = folder / "scenarios" / "scenario.toml"
    shutil.copy(SERIES_SCENARIO, scenario)
    return scenario


def test_resume_after_a_series_file_is_edited_recomputes(tmp_path: Path) -> None:
    scenario = _series_scenario(tmp_path)
    plan = PLAN_FILES[2]
    out = tmp_path / "out.parquet"
    checkpoint_units(out, [plan], scenario)  # a run interrupted under the old prices
    prices = tmp_path / "series" / "prices_valid.csv"
    lines = prices.read_text().splitlines()
    # Every price from day 30 on halves; the first rows (and so the TOML) stay the same.
    lines[31:] = [f"{d},{float(p) / 2}" for d, p in (line.split(",") for line in lines[31:])]
    prices.write_text("\n".join(lines) + "\n")
    assert batch(plan, "--scenario", scenario, "--no-breakevens", "--out", out,
                 "--resume") == 0
    fresh = tmp_path / "fresh.parquet"
    assert batch(plan, "--scenario", scenario, "--no-breakevens", "--out", fresh) == 0
    assert_frame_equal(pl.read_parquet(out), pl.read_parquet(fresh), check_exact=True)


def test_the_unit_key_changes_with_every_input(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from fleetcalc import version

    scenario = _series_scenario(tmp_path)
    plan = tmp_path / "plan.toml"
    shutil.copy(PLAN_FILES[2], plan)

    def key() -> str:
        (variant,) = expand_grid(load_scenario(scenario), None)
        return unit_key(read_plan_file(plan), variant, False)

    seen = {key()}
    runtime = version.runtime()
    edits = {
        "plan": lambda: plan.write_text(plan.read_text() + "\n"),
        "hashrate series": lambda: (tmp_path / "series" / "hashrate_valid.csv").write_text(
            (tmp_path / "series" / "hashrate_valid.csv").read_text() + "\n"),
        "numba version": lambda: monkeypatch.setattr(
            version, "runtime", lambda: {**runtime, "numba": "0.0"}),
        "code": lambda: monkeypatch.setattr(version, "code_digest", lambda: "other"),
    }
    for name, edit in edits.items():
        edit()
        assert key() not in seen, name
        seen.add(key())


# --- finding 11: damaged or swapped checkpoints -------------------------------------------------


def test_damaged_or_swapped_checkpoints_are_recomputed_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
    reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    out, per_path = tmp_path / "out.parquet", tmp_path / "paths.parquet"
    keys = checkpoint_units(out, PLAN_FILES, SCENARIO)
    store = PartStore(Path(f"{out}.parts"))
    a, b, c = (keys[p] for p in PLAN_FILES)
    shutil.copy(store.summary(a), store.summary(b))  # a part copied over another
    damaged = bytearray(store.paths(c).read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte in the middle of the data
    store.paths(c).write_bytes(bytes(damaged))
    assert batch(PLANS, *FAST, "--out", out, "--per-path", per_path, "--resume") == 0
    err = capsys.readouterr().err
    assert f"warning: checkpoint {store.summary(b)}" in err
    assert f"warning: checkpoint {store.paths(c)}" in err
    assert err.count("warning: checkpoint") == 2
    assert_frame_equal(pl.read_parquet(out), reference[0], check_exact=True)
    assert_frame_equal(pl.read_parquet(per_path), reference[1], check_exact=True)


def test_a_checkpoint_with_its_receipt_copied_over_another_is_recomputed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
    reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    out = tmp_path / "out.parquet"
    keys = checkpoint_units(out, PLAN_FILES, SCENARIO)
    store = PartStore(Path(f"{out}.parts"))
    a, b = keys[PLAN_FILES[0]], keys[PLAN_FILES[1]]
    for source, target in zip(store.files(a), store.files(b), strict=True):
        shutil.copy(source, target)  # unit a's whole checkpoint under unit b's names
    assert batch(PLANS, *FAST, "--out", out, "--resume") == 0
    assert f"warning: checkpoint {store.receipt(b)}" in capsys.readouterr().err
    assert_frame_equal(pl.read_parquet(out), reference[0], check_exact=True)


def test_a_checkpoint_that_fails_at_assembly_is_named_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """Damage that slips past the check (a part changed during the run): exit 1 naming the
    checkpoint directory and --resume, not an internal error."""
    out = tmp_path / "out.parquet"
    keys = checkpoint_units(out, PLAN_FILES, SCENARIO)
    store = PartStore(Path(f"{out}.parts"))
    store.summary(keys[PLAN_FILES[1]]).write_bytes(b"not parquet")
    monkeypatch.setattr(PartStore, "problem", lambda self, key: None)
    assert batch(PLANS, *FAST, "--out", out, "--resume") == 1
    err = capsys.readouterr().err
    assert f"the checkpoints in {store.directory} could not be read" in err
    assert "re-run with --resume" in err and "internal error" not in err
    assert not out.exists()


# --- finding 2: outputs that collide, the errors table under --force ----------------------------


@pytest.mark.parametrize("per_path_name", ["out.csv", "out.errors.csv", "out.csv.parts/p.csv",
                                           "out.csv.lock"])
def test_per_path_on_a_file_of_out_is_refused_up_front(
    tmp_path: Path, per_path_name: str, capsys: pytest.CaptureFixture[str],
) -> None:
    out, per_path = tmp_path / "out.csv", tmp_path / per_path_name
    assert batch(PLAN_FILES[2], *FAST, "--out", out, "--per-path", per_path) == 2
    assert "--per-path" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_errors_table_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "s.csv"
    mine = errors_path(out)
    mine.write_text("the user's own file\n")
    assert batch(PLAN_FILES[2], *FAST, "--out", out) == 2
    assert f"errors table does not exist yet ({mine} is there" in capsys.readouterr().err
    assert mine.read_text() == "the user's own file\n" and not out.exists()
    # With --force a run without errors removes the errors table of an earlier run.
    assert batch(PLAN_FILES[2], *FAST, "--out", out, "--force") == 0
    assert out.exists() and not mine.exists()


def test_outputs_in_new_folders_leave_only_the_tables(tmp_path: Path) -> None:
    out, per_path = tmp_path / "new" / "deeper" / "out.csv", tmp_path / "other" / "p.parquet"
    assert batch(PLAN_FILES[2], *FAST, "--out", out, "--per-path", per_path) == 0
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "new/deeper/out.csv", "other/p.parquet"]


# --- finding 10: a full disk --------------------------------------------------------------------


def _fill_disk_for(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Writes to a temporary file of ``name`` fail with ENOSPC, as on a full disk."""
    real = getattr(io, "_write_fd", os.write)

    def write(fd: int, data: bytes) -> int:
        if name in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    monkeypatch.setattr(io, "_write_fd", write, raising=False)


def test_full_disk_at_the_final_write_changes_no_output_and_resume_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    out, per_path = tmp_path / "out.parquet", tmp_path / "paths.parquet"
    for old in (out, per_path):
        old.write_bytes(b"an older run's table")
    argv = (PLANS, *FAST, "--out", out, "--per-path", per_path)
    with monkeypatch.context() as full:
        _fill_disk_for(full, f"/.{per_path.name}.")  # its temporary file, not a part
        assert batch(*argv, "--force") == 1
    err = capsys.readouterr().err
    assert f"disk full writing {per_path}" in err and "--resume" in err
    # --out was written in full but not put in place without --per-path: both are the old ones.
    assert out.read_bytes() == per_path.read_bytes() == b"an older run's table"
    assert temp_files(tmp_path) == []
    assert batch(*argv, "--resume") == 0
    assert_frame_equal(pl.read_parquet(out), reference[0], check_exact=True)
    assert_frame_equal(pl.read_parquet(per_path), reference[1], check_exact=True)


def test_full_disk_while_checkpointing_is_named_and_resumable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out.csv"
    with monkeypatch.context() as full:
        _fill_disk_for(full, ".parts/")
        assert batch(PLAN_FILES[2], *FAST, "--out", out) == 1
    err = capsys.readouterr().err
    assert f"disk full writing {out}.parts/" in err and "re-run with --resume" in err
    assert "thrift" not in err and "internal error" not in err
    assert not out.exists() and temp_files(tmp_path) == []


def test_a_real_write_error_is_named_with_its_file(tmp_path: Path) -> None:
    """A file-size limit (RLIMIT_FSIZE; Python ignores SIGXFSZ) makes the kernel refuse the
    writes themselves, as a full disk does: the message names the file and the way on."""
    run = ("import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096)); "
           "from fleetcalc.cli import main; sys.exit(main(sys.argv[1:]))")
    out = tmp_path / "out.parquet"
    result = subprocess.run(
        [sys.executable, "-c", run, "batch", str(PLANS), *map(str, FAST), "--quiet",
         "--out", str(out)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert f"fleetcalc: error: cannot write {out}.parts/" in result.stderr
    assert ": File too large; finished units are kept in" in result.stderr
    assert "re-run with --resume" in result.stderr and "internal error" not in result.stderr
    assert temp_files(tmp_path) == []


# --- finding 9: temporary files -----------------------------------------------------------------


def test_resume_removes_the_temporary_files_of_a_killed_run(tmp_path: Path) -> None:
    out, per_path = tmp_path / "out.parquet", tmp_path / "paths.parquet"
    checkpoint_units(out, PLAN_FILES[2:], SCENARIO)
    left = [tmp_path / ".out.parquet.0123456789ab.tmp",
            tmp_path / ".paths.parquet.ba9876543210.tmp",
            Path(f"{out}.parts") / ".abc.summary.parquet.00aa00aa00aa.tmp"]
    kept = [tmp_path / ".out.parquet.notours.tmp", tmp_path / "notes.tmp"]
    for path in (*left, *kept):
        path.write_bytes(b"x" * 100)
    assert batch(PLAN_FILES[2], *FAST, "--out", out, "--per-path", per_path, "--resume") == 0
    assert not any(path.exists() for path in left)
    assert all(path.exists() for path in kept)


def test_sigint_at_any_write_leaves_no_temporary_file_20_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C lands during the k-th write of a run, for k = 1..20 (the run makes about 20:
    three files per checkpointed unit, then the two tables): exit 130, no temporary file, no
    partial output; the last interrupted run then resumes to the full table."""
    grid = tmp_path / "grid.toml"
    grid.write_text("[btc]\nprice_usd = [60000.0, 90000.0]\n")
    real = getattr(io, "_write_fd", os.write)
    writes = {"count": 0, "interrupt_at": 0}

    def write(fd: int, data: bytes) -> int:
        writes["count"] += 1
        if writes["count"] == writes["interrupt_at"]:
            os.kill(os.getpid(), signal.SIGINT)
        return real(fd, data)

    monkeypatch.setattr(io, "_write_fd", write, raising=False)
    codes = []
    for k in range(1, 21):
        folder = tmp_path / f"run{k}"
        folder.mkdir()
        out, per_path = folder / "out.csv", folder / "paths.parquet"
        writes.update(count=0, interrupt_at=k)
        codes.append(batch(PLANS, *FAST, "--grid", grid, "--out", out, "--per-path", per_path))
        assert temp_files(folder) == [], k
        assert out.exists() == per_path.exists(), k  # both tables or neither
    assert codes.count(130) >= 18, codes  # all but (at most) the renames at the very end
    writes["interrupt_at"] = 0
    assert batch(PLANS, *FAST, "--grid", grid, "--out", out, "--per-path", per_path,
                 "--resume") == 0
    assert pl.read_parquet(per_path).height == 2 * 3 * 6  # variants x plans x paths


# --- findings 3 and 12: processes, signals, the lock on --out -----------------------------------


def _session_processes(session: int) -> list[str]:
    """Live processes (not zombies) of ``session``, as 'pid command'."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        state, _ppid, _pgrp, sid = rest.split()[:4]
        if int(sid) == session and state not in "ZX":
            found.append(f"{entry.name} {command}")
    return found


@pytest.fixture
def stuck_run(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start a batch whose units block, in a session of its own; on teardown, kill whatever
    of that session is left (so a failing test leaves nothing running)."""
    started: list[subprocess.Popen[bytes]] = []
    markers = tmp_path / "markers"
    markers.mkdir()

    def start(*argv: str | Path, stuck_plan: str = "") -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(REPO), MARKERS_ENV: str(markers),
               STUCK_PLAN_ENV: stuck_plan}
        process = subprocess.Popen(
            [sys.executable, "-c", STUCK_CLI, *(str(a) for a in argv)], cwd=REPO, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        for line in _session_processes(process.pid):
            os.kill(int(line.split()[0]), signal.SIGKILL)
        process.kill()
        process.communicate()


def _wait_for_markers(folder: Path, count: int, process: subprocess.Popen[bytes]) -> list[int]:
    def ready() -> bool:
        assert process.poll() is None, process.communicate()[1].decode()
        return len(list(folder.glob("*.started"))) >= count

    wait_until(ready, f"{count} unit(s) to start")
    return [int(p.name.split(".")[0]) for p in folder.glob("*.started")]


def _assert_session_empties(process: subprocess.Popen[bytes]) -> None:
    process.wait()
    wait_until(lambda: not _session_processes(process.pid),
               f"the run's processes to end: {_session_processes(process.pid)}")


@pytest.mark.parametrize("death_signal", [True, False], ids=["pdeathsig", "watchdog"])
def test_workers_end_when_the_parent_alone_is_killed(
    tmp_path: Path, stuck_run: Callable[..., subprocess.Popen[bytes]], death_signal: bool,
) -> None:
    flag = () if death_signal else ("--no-death-signal",)
    process = stuck_run(*flag, "batch", PLANS, *FAST, "--workers", "2",
                        "--out", tmp_path / "out.csv", "--quiet")
    workers = _wait_for_markers(tmp_path / "markers", 2, process)
    assert process.pid not in workers  # the units block in the two worker processes
    process.send_signal(signal.SIGKILL)  # the parent only
    _assert_session_empties(process)
    assert process.returncode == -signal.SIGKILL


def test_sigterm_stops_the_run_and_its_workers_with_exit_143(
    tmp_path: Path, stuck_run: Callable[..., subprocess.Popen[bytes]],
) -> None:
    out = tmp_path / "out.csv"
    process = stuck_run("batch", PLANS, *FAST, "--workers", "2", "--out", out, "--quiet")
    _wait_for_markers(tmp_path / "markers", 2, process)
    process.send_signal(signal.SIGTERM)
    _assert_session_empties(process)
    stderr = process.communicate()[1].decode()
    assert process.returncode == 143, stderr
    assert "interrupted (SIGTERM)" in stderr and "--resume" in stderr
    assert not out.exists() and temp_files(tmp_path) == []


def test_a_lost_worker_is_reported_with_resume(
    tmp_path: Path, stuck_run: Callable[..., subprocess.Popen[bytes]],
) -> None:
    process = stuck_run("batch", PLANS, *FAST, "--workers", "2",
                        "--out", tmp_path / "out.csv", "--quiet")
    worker, _ = _wait_for_markers(tmp_path / "markers", 2, process)
    os.kill(worker, signal.SIGKILL)  # as the OOM killer would
    _assert_session_empties(process)
    stderr = process.communicate()[1].decode()
    assert process.returncode == 1, stderr
    assert "a worker process was lost" in stderr and "re-run with --resume" in stderr


def test_a_second_run_on_the_same_out_is_refused_and_the_first_finishes(
    tmp_path: Path, stuck_run: Callable[..., subprocess.Popen[bytes]],
    capsys: pytest.CaptureFixture[str], reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    out = tmp_path / "out.parquet"
    parts = Path(f"{out}.parts")
    # One process, whose third plan blocks once the first two are checkpointed.
    first = stuck_run("batch", PLANS, *FAST, "--out", out, "--quiet", stuck_plan="c-custom")
    _wait_for_markers(tmp_path / "markers", 1, first)
    before = sorted(parts.iterdir())
    for extra in ((), ("--force",), ("--resume",)):
        assert batch(PLANS, *FAST, "--out", out, *extra) == 2
        err = capsys.readouterr().err
        assert f"{out}.lock is held by process {first.pid}" in err, err
        assert sorted(parts.iterdir()) == before  # the first run's checkpoints untouched
    first.send_signal(signal.SIGTERM)
    assert first.wait() == 143
    assert batch(PLANS, *FAST, "--out", out, "--resume") == 0
    assert_frame_equal(pl.read_parquet(out), reference[0], check_exact=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["markers", "out.parquet"]


def test_a_worker_asks_linux_to_kill_it_with_its_parent() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    # In a child process: the setting would outlive the test in this one.
    check = ("import ctypes, signal; from fleetcalc.batch import runners; "
             "runners._die_with_parent(); got = ctypes.c_int(); "
             "ctypes.CDLL(None).prctl(2, ctypes.byref(got), 0, 0, 0); "  # PR_GET_PDEATHSIG
             "print(got.value == signal.SIGKILL)")
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, text=True)
    assert result.stdout.strip() == "True", result.stderr


def test_the_unit_key_follows_the_bytes_of_the_plans_price_series(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "docs/examples"
    plan = tmp_path / "plan.toml"
    plan.write_text((example / "texas-market-4cp-SYNTHETIC.toml").read_text().replace(
        "../../fleetcalc/data/prices/ercot_hub_2024_SYNTHETIC.csv", "prices.csv"))
    prices = tmp_path / "prices.csv"
    shutil.copy(example.parents[1] / "fleetcalc/data/prices/ercot_hub_2024_SYNTHETIC.csv",
                prices)

    def key() -> str:
        (variant,) = expand_grid(load_scenario(SCENARIO), None)
        return unit_key(read_plan_file(plan), variant, False)

    before = key()
    prices.write_text(prices.read_text() + "\n")  # the same hours, other bytes
    assert key() != before


def test_a_power_price_grid_on_a_market_site_is_an_error_of_that_unit(tmp_path: Path) -> None:
    from fleetcalc.batch.grid import Variant
    from fleetcalc.errors import InputError

    example = Path(__file__).resolve().parents[1] / "docs/examples"
    plan = read_plan_file(example / "texas-market-4cp-SYNTHETIC.toml").plan
    variant = Variant(0, (("power_usd_per_kwh", 0.05),), load_scenario(SCENARIO), 0.05)
    with pytest.raises(InputError, match=r"site\.power_usd_per_kwh.*hourly power_price_series"):
        evaluate_unit(plan, variant, False)
