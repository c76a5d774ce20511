"""Files that cannot be used: missing, a directory, unreadable, not UTF-8; bad command-line
values; interrupts and internal errors. A clear one-line message, the right exit code, never a
traceback and never a partial output file.

The compare, tariffs and catalog commands write only to stdout; the batch command's output
rules (atomic writes, --force, Ctrl-C and --resume) are tested in ``tests/test_batch.py``, so
only the cases that test leaves out are here.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import fleetcalc.engine
from fleetcalc.errors import InputError
from fleetcalc.plan import load_plan
from fleetcalc.scenario import load_scenario
from fleetcalc.validate import MAX_INPUT_BYTES
from tests.test_plan_errors import ROOT, Case, run_cli

PLAN = "tests/data/inputs/plans/valid.toml"
SCENARIO = "tests/data/inputs/scenarios/valid.toml"
BATCH_OUTPUTS = "tests/data/inputs/batch_outputs"  # an errors table a user keeps


def file_case(label: str, argv: tuple[str, ...], message: str) -> Case:
    return Case(label, argv, f"fleetcalc: error: {message}")


FILE_CASES: tuple[Case, ...] = (
    file_case("Plan file missing", ("compare", "tests/data/inputs/plans/no_such_plan.toml"),
              "tests/data/inputs/plans/no_such_plan.toml: got '(no such file)'; expected an "
              "existing TOML file"),
    file_case("Plan path is a directory", ("compare", "tests/data/inputs/plans"),
              "tests/data/inputs/plans: got '(a directory)'; expected a TOML file, not a "
              "directory"),
    file_case("Plan path is a device, not a file", ("compare", "/dev/null"),
              "/dev/null: got '(not a regular file)'; expected a TOML file"),
    file_case("Scenario file missing", ("compare", "--scenario", "no_such_scenario.toml"),
              "no_such_scenario.toml: got '(no such file)'; expected an existing TOML file"),
    file_case("Scenario path is a directory",
              ("compare", "--scenario", "tests/data/inputs/scenarios"),
              "tests/data/inputs/scenarios: got '(a directory)'; expected a TOML file, not a "
              "directory"),
    file_case("Bad scenario for tariffs",
              ("tariffs", "--scenario", "tests/data/inputs/scenarios/override_rate_negative.toml"),
              "tests/data/inputs/scenarios/override_rate_negative.toml: "
              "tariff_overrides[0].rate: got -0.1; expected a number in [0, 10]"),
    file_case("tariffs --on not a date", ("tariffs", "--on", "2026-13-01"),
              "command line: --on: got '2026-13-01'; expected a date like 2026-03-01"),
    file_case("tariffs --origin not an ISO code", ("tariffs", "--origin", "Malaysia"),
              "command line: --origin: got 'Malaysia'; expected an ISO 3166 alpha-2 country "
              "code like MY"),
    file_case("catalog --maker unknown", ("catalog", "--maker", "Bitmian"),
              "command line: --maker: got 'Bitmian'; expected one of Bitmain, MicroBT, Canaan, "
              "Auradine, Bitdeer, Block"),
    file_case("batch --out with an unknown extension",
              ("batch", PLAN, "--scenario", SCENARIO, "--out", "results.xlsx"),
              "command line: --out: got 'results.xlsx'; expected a file name ending in "
              ".parquet, .csv, .json"),
    file_case("batch --per-path the same file as --out",
              ("batch", PLAN, "--scenario", SCENARIO, "--out", "results.csv",
               "--per-path", "tests/../results.csv"),
              "command line: --per-path: got 'tests/../results.csv'; expected a file other than "
              "--out"),
    file_case("batch --per-path on the errors table of --out",
              ("batch", PLAN, "--scenario", SCENARIO, "--out", "results.csv",
               "--per-path", "results.errors.csv"),
              "command line: --per-path: got 'results.errors.csv'; expected a file other than "
              "the errors table of --out (results.errors.csv)"),
    file_case("batch --per-path inside the checkpoints of --out",
              ("batch", PLAN, "--scenario", SCENARIO, "--out", "results.csv",
               "--per-path", "results.csv.parts/paths.csv"),
              "command line: --per-path: got 'results.csv.parts/paths.csv'; expected a path "
              "outside the checkpoint directory of --out (results.csv.parts, removed at the end "
              "of the run)"),
    file_case("batch --out whose errors table exists (no --force)",
              ("batch", PLAN, "--scenario", SCENARIO, "--out", f"{BATCH_OUTPUTS}/kept.csv"),
              f"command line: --out: got '{BATCH_OUTPUTS}/kept.csv'; expected an --out whose "
              f"errors table does not exist yet ({BATCH_OUTPUTS}/kept.errors.csv is there: "
              "pass --force to overwrite it)"),
)


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.label)
def test_bad_file_or_option_exits_2_with_the_documented_message(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(case.argv, capsys)
    assert (code, err.strip()) == (2, case.message)
    assert out == ""


@pytest.mark.parametrize("loader", [load_plan, load_scenario])
def test_loaders_raise_input_error_for_every_unusable_file(loader, tmp_path: Path) -> None:
    (tmp_path / "latin1.toml").write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    (tmp_path / "folder.toml").mkdir()
    cases = {
        "missing.toml": "got '(no such file)'",
        "folder.toml": "got '(a directory)'",
        "latin1.toml": "line 1: got b'\\xe9\"\\n'; expected UTF-8 text",
    }
    for name, message in cases.items():
        with pytest.raises(InputError, match=re.escape(message)) as raised:
            loader(tmp_path / name)
        assert raised.value.source == str(tmp_path / name)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    with path.open("wb") as handle:  # sparse: no disk space used
        handle.truncate(MAX_INPUT_BYTES + 1)
    with pytest.raises(InputError, match=re.escape("got '(67,108,865 bytes)'; expected a TOML "
                                                   "file of at most 67,108,864 bytes")):
        load_plan(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    shutil.copy(ROOT / PLAN, path)
    path.chmod(0)
    try:
        with pytest.raises(InputError, match=r"got '\(unreadable: Permission denied\)'"):
            load_plan(path)
    finally:
        path.chmod(0o644)


def test_ctrl_c_during_output_exits_130_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fleetcalc.engine, "evaluate", interrupted)
    code, out, err = run_cli(("compare", PLAN, "--scenario", SCENARIO, "--json"), capsys)
    assert (code, out, err) == (130, "", "fleetcalc: interrupted\n")


def test_internal_error_exits_1_with_one_line_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.delenv("FLEETCALC_DEBUG", raising=False)
    monkeypatch.setattr(fleetcalc.engine, "evaluate", broken)
    code, out, err = run_cli(("compare", PLAN, "--json"), capsys)
    assert code == 1 and out == ""
    assert err == ("fleetcalc: internal error: ZeroDivisionError: float division by zero "
                   "(set FLEETCALC_DEBUG=1 for a traceback)\n")


def test_existing_batch_output_is_left_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.csv"
    out.write_text("keep me\n")
    code, _, err = run_cli(("batch", PLAN, "--scenario", SCENARIO, "--out", str(out),
                            "--quiet", "--no-breakevens"), capsys)
    assert code == 2
    assert err.strip() == (f"fleetcalc: error: command line: --out: got '{out}'; expected a "
                           "path that does not exist yet (pass --force to overwrite it)")
    assert out.read_text() == "keep me\n"


def test_batch_output_under_a_file_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    code, _, err = run_cli(("batch", PLAN, "--scenario", SCENARIO, "--out",
                            str(tmp_path / "file" / "results.csv"), "--quiet"), capsys)
    assert code == 2 and "--out" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
