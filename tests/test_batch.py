"""``fleetcalc batch``: grid expansion and validation, table formats, faults, checkpoints and
--resume after SIGKILL / Ctrl-C, determinism across order and chunking, Dask == local.

Fixtures in tests/data/batch: a 90-day Monte Carlo scenario, a 2x2x2 grid, three small plans
and one malformed plan.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fleetcalc import version
from fleetcalc.batch import (
    ERROR_COLUMNS,
    PartStore,
    errors_path,
    expand_grid,
    unit_key,
)
from fleetcalc.batch.store import RECEIPT_SUFFIX
from fleetcalc.cli import main
from fleetcalc.errors import InputError
from fleetcalc.io import flat_lists, read_table, write_table_atomic
from fleetcalc.scenario import load_scenario

DATA = Path(__file__).parent / "data" / "batch"
PLANS = DATA / "plans"
SCENARIO = DATA / "scenario.toml"
GRID = DATA / "grid.toml"
REPO = Path(__file__).resolve().parents[1]
PLAN_FILES = sorted(PLANS.glob("*.toml"))
RUN_CLI = "import sys; from fleetcalc.cli import main; sys.exit(main(sys.argv[1:]))"


def batch(*argv: str | Path) -> int:
    return main(["batch", *(str(a) for a in argv), "--quiet"])


def cli_process(*argv: str | Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "batch", *(str(a) for a in argv)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An uninterrupted single-machine run of the three plans over the grid (with breakevens)."""
    folder = tmp_path_factory.mktemp("reference")
    out, per_path = folder / "out.parquet", folder / "paths.parquet"
    assert batch(PLANS, "--scenario", SCENARIO, "--grid", GRID, "--out", out,
                 "--per-path", per_path) == 0
    return pl.read_parquet(out), pl.read_parquet(per_path)


# --- grid --------------------------------------------------------------------------------------


def test_grid_expansion_count_columns_and_values(
    reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    summary, per_path = reference
    grid_columns = ["grid_power_usd_per_kwh", "grid_btc.price_usd", "grid_tariff.MY.reciprocal"]
    assert summary.columns[:5] == ["plan_file", "variant", *grid_columns]
    assert summary.height == len(PLAN_FILES) * 8
    assert per_path.height == len(PLAN_FILES) * 8 * 6
    # Rows: plan file order, then variant; the last axis varies fastest.
    assert summary["plan_file"].to_list() == [str(f) for f in PLAN_FILES for _ in range(8)]
    assert summary["variant"].to_list() == list(range(8)) * len(PLAN_FILES)
    first = summary.filter(pl.col("plan_file") == str(PLAN_FILES[0]))
    assert first["grid_tariff.MY.reciprocal"].to_list() == [0.0, 0.4] * 4
    assert first["grid_btc.price_usd"].to_list() == [60000.0, 60000.0, 90000.0, 90000.0] * 2
    assert first["grid_power_usd_per_kwh"].to_list() == [0.04] * 4 + [0.07] * 4
    # Every compare --json field is there, with percentiles for Monte Carlo.
    for column in ("npv_usd", "irr", "payback_days", "breakeven_btc_price_usd",
                   "breakeven_power_usd_per_kwh", "payback_probability", "npv_usd_p10",
                   "npv_usd_p50", "npv_usd_p90"):
        assert column in summary.columns
    assert summary["paths"].unique().to_list() == [6]


def test_grid_values_reach_the_evaluation(reference: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    summary, _ = reference
    s21 = summary.filter(pl.col("plan_file") == str(PLANS / "a-small-s21.toml"))
    # Malaysian units pay the swept reciprocal tariff; the Thai and US plans do not.
    by_rate = s21.group_by("grid_tariff.MY.reciprocal").agg(pl.col("tariffs_usd").min())
    rates = dict(by_rate.iter_rows())
    assert rates[0.4] > rates[0.0]
    # Dearer power costs more energy, a higher BTC price earns more, all else equal.
    low, high = (s21.filter(pl.col("variant") == v).row(0, named=True) for v in (0, 4))
    assert high["energy_cost_usd"] > low["energy_cost_usd"]
    cheap, dear = (s21.filter(pl.col("variant") == v).row(0, named=True) for v in (0, 2))
    assert dear["revenue_usd"] > cheap["revenue_usd"]


def test_expand_grid_without_file_is_one_plain_variant() -> None:
    scenario = load_scenario(SCENARIO)
    (variant,) = expand_grid(scenario, None)
    assert (variant.index, variant.values, variant.scenario) == (0, (), scenario)


def test_expand_grid_network_and_tariff_axes(tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(
        "network.monthly_growth = [0.0, 0.02, 0.04]\n"
        "network.hashrate_ehs = [900, 1100]\n"
        "[[tariff]]\norigin = 'CN'\nprogram = 'section301'\nrate = [0.25]\n"
        "effective_from = 2027-01-01\neffective_to = 2027-12-31\n"
    )
    scenario = load_scenario(SCENARIO)
    variants = expand_grid(scenario, grid)
    assert len(variants) == 6
    last = variants[-1]
    assert dict(last.values) == {"network.monthly_growth": 0.04, "network.hashrate_ehs": 1100.0,
                                 "tariff.CN.section301": 0.25}
    assert last.scenario.network.monthly_growth == 0.04
    assert last.scenario.network.hashrate_ehs == 1100.0
    override = last.scenario.tariff_overrides[-1]
    assert (override.origin, override.program, override.rate) == ("CN", "section301", 0.25)
    assert last.power_usd_per_kwh is None


@pytest.mark.parametrize(("text", "where", "expected"), [
    ("btc.price = [1.0]\n", "btc.price", "one of the grid keys"),
    ("colour = [1]\n", "colour", "one of the grid keys"),
    ("btc.price_usd = 90000.0\n", "btc.price_usd", "a list of values"),
    ("btc.price_usd = []\n", "btc.price_usd", "a non-empty list"),
    ("network.monthly_growth = [0.01, 'fast']\n", "network.monthly_growth[1]", "a number"),
    ("power_usd_per_kwh = [0.05, -1.0]\n", "power_usd_per_kwh[1]", "a number in"),
    ("btc = 3\n", "btc", "a [btc] table"),
    ("[[tariff]]\norigin = 'MY'\nprogram = 'x'\neffective_from = 2027-01-01\n",
     "tariff[0].rate", "a list of tariff rates"),
    ("[[tariff]]\norigin = 'Malaysia'\nprogram = 'x'\nrate = [0.1]\n"
     "effective_from = 2027-01-01\n", "tariff[0].origin", "ISO 3166"),
    ("[[tariff]]\norigin = 'MY'\nprogram = 'x'\nrate = 0.1\neffective_from = 2027-01-01\n",
     "tariff[0].rate", "a list of values"),
])
def test_grid_validation_names_file_and_key(
    tmp_path: Path, text: str, where: str, expected: str
) -> None:
    grid = tmp_path / "bad-grid.toml"
    grid.write_text(text)
    with pytest.raises(InputError) as caught:
        expand_grid(load_scenario(SCENARIO), grid)
    assert caught.value.source == str(grid)
    assert caught.value.where == where
    assert expected in caught.value.expected


def test_bad_grid_exits_2_with_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text("btc.price_usd = 'high'\n")
    out = tmp_path / "out.csv"
    assert batch(PLAN_FILES[0], "--scenario", SCENARIO, "--grid", grid, "--out", out) == 2
    assert f"{grid}: btc.price_usd" in capsys.readouterr().err
    assert not out.exists()


# --- formats and atomic writes ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".json"])
def test_table_round_trip(tmp_path: Path, suffix: str,
                          reference: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    summary, _ = reference
    path = write_table_atomic(summary, tmp_path / f"table{suffix}")
    back = read_table(path)
    assert back.columns == summary.columns
    assert back.height == summary.height
    # Text formats print floats in their shortest round-tripping form: values come back exact.
    # CSV has no lists: the warnings come back as one joined string.
    expected = flat_lists(summary) if suffix == ".csv" else summary
    assert_frame_equal(back, expected, check_dtypes=False)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_batch_writes_every_format(tmp_path: Path, suffix: str,
                                   reference: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    out = tmp_path / f"out{suffix}"
    per_path = tmp_path / f"paths{suffix}"
    assert batch(PLANS, "--scenario", SCENARIO, "--grid", GRID, "--out", out,
                 "--per-path", per_path) == 0
    expected = flat_lists(reference[0]) if suffix == ".csv" else reference[0]
    assert_frame_equal(read_table(out), expected, check_dtypes=False)
    assert_frame_equal(read_table(per_path), reference[1], check_dtypes=False)


def test_unknown_extension_is_input_error_naming_out(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--out"):
        write_table_atomic(pl.DataFrame({"a": [1]}), tmp_path / "out.xlsx")
    assert batch(PLAN_FILES[0], "--scenario", SCENARIO, "--out", tmp_path / "out.txt") == 2
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_neither_output_nor_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("previous,complete\n1,2\n")
    nested = pl.DataFrame({"a": [[1, 2]]})  # CSV cannot hold a list column: the write fails
    with pytest.raises(pl.exceptions.PolarsError):
        write_table_atomic(nested, target)
    assert target.read_text() == "previous,complete\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


# --- existing outputs, bad plans ----------------------------------------------------------------


def test_existing_output_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.csv"
    out.write_text("keep me\n")
    assert batch(PLAN_FILES[2], "--scenario", SCENARIO, "--no-breakevens", "--out", out) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == "keep me\n"
    assert batch(PLAN_FILES[2], "--scenario", SCENARIO, "--no-breakevens", "--out", out,
                 "--force") == 0
    assert read_table(out).height == 1


@pytest.mark.parametrize("workers", ["1", "2"])
def test_malformed_plan_is_reported_and_the_rest_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str,
    reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    folder = tmp_path / "plans"
    shutil.copytree(PLANS, folder)
    shutil.copy(DATA / "bad_plan.toml", folder / "b2-broken.toml")
    # A plan that loads but whose delivery falls outside the 90-day horizon fails per unit.
    late = (PLANS / "c-custom.toml").read_text().replace("2026-12-08", "2027-06-01")
    (folder / "d-late.toml").write_text(late)
    out = tmp_path / "out.parquet"
    assert batch(folder, "--scenario", SCENARIO, "--grid", GRID, "--out", out,
                 "--workers", workers) == 2
    stderr = capsys.readouterr().err
    assert "b2-broken.toml: orders[0].model: got 'antminer-s99'" in stderr
    errors = pl.read_parquet(errors_path(out))
    assert errors.columns == list(ERROR_COLUMNS)
    broken, *late_rows = errors.iter_rows(named=True)
    assert broken["plan_file"] == str(folder / "b2-broken.toml")
    assert (broken["variant"], broken["field"]) == (None, "orders[0].model")
    assert [r["variant"] for r in late_rows] == list(range(8))
    assert {r["field"] for r in late_rows} == {"orders[0].delivery_date"}
    summary = pl.read_parquet(out)
    assert summary["plan_file"].unique(maintain_order=True).to_list() == [
        str(folder / p.name) for p in PLAN_FILES]
    expected = reference[0].with_columns(
        pl.col("plan_file").str.replace(str(PLANS), str(folder), literal=True),
        pl.col("warnings").list.eval(  # a warning names its plan's file
            pl.element().str.replace(str(PLANS), str(folder), literal=True)))
    assert_frame_equal(summary, expected)
    assert not Path(str(out) + ".parts").exists()


def test_missing_plan_file_is_an_error_entry(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    assert batch(tmp_path / "nope.toml", PLAN_FILES[2], "--scenario", SCENARIO,
                 "--no-breakevens", "--out", out) == 2
    assert read_table(out).height == 1
    assert read_table(errors_path(out))["value"].to_list() == ["(no such file)"]


# --- determinism --------------------------------------------------------------------------------


def test_same_seed_same_table_whatever_order_and_processes(
    tmp_path: Path, reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    reordered = [PLAN_FILES[2], PLAN_FILES[0], PLAN_FILES[1]]
    out, per_path = tmp_path / "out.parquet", tmp_path / "paths.parquet"
    assert batch(*reordered, "--scenario", SCENARIO, "--grid", GRID, "--workers", "2",
                 "--out", out, "--per-path", per_path) == 0
    summary = pl.read_parquet(out)
    # Rows follow the order the plans were given in; sorted, the tables are identical.
    assert summary["plan_file"][0] == str(PLAN_FILES[2])
    keys = ["plan_file", "variant"]
    assert_frame_equal(summary.sort(keys), reference[0].sort(keys), check_exact=True)
    assert_frame_equal(pl.read_parquet(per_path).sort([*keys, "path"]),
                       reference[1].sort([*keys, "path"]), check_exact=True)


def test_seed_changes_the_paths(tmp_path: Path,
                                reference: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    out = tmp_path / "out.parquet"
    assert batch(PLAN_FILES[0], "--scenario", SCENARIO, "--seed", "12", "--paths", "6",
                 "--no-breakevens", "--out", out) == 0
    other = pl.read_parquet(out)
    assert other["npv_usd"][0] != reference[0]["npv_usd"][0]


# --- interruption and resume --------------------------------------------------------------------


def _receipts(parts: Path) -> list[Path]:
    """The receipts of the checkpointed units (each written after its unit's parts)."""
    return list(parts.glob(f"*{RECEIPT_SUFFIX}"))


def _wait_for_parts(parts: Path, process: subprocess.Popen[bytes], at_least: int) -> None:
    """Poll until ``at_least`` units are checkpointed (fails if the run ends first)."""
    while len(_receipts(parts)) < at_least:
        assert process.poll() is None, process.communicate()[1].decode()
        time.sleep(0.01)


def _interrupted_then_resumed(tmp_path: Path, sig: signal.Signals,
                              reference: tuple[pl.DataFrame, pl.DataFrame]) -> bytes:
    out, per_path = tmp_path / "out.parquet", tmp_path / "paths.parquet"
    parts = Path(str(out) + ".parts")
    argv = [PLANS, "--scenario", SCENARIO, "--grid", GRID, "--out", out, "--per-path", per_path,
            "--quiet"]
    process = cli_process(*argv)
    _wait_for_parts(parts, process, at_least=2)
    process.send_signal(sig)
    _, stderr = process.communicate()
    assert process.returncode == (130 if sig == signal.SIGINT else -sig), stderr.decode()
    done = len(_receipts(parts))
    assert 2 <= done < 24, "the signal must land mid-run"
    assert not out.exists() and not per_path.exists()  # never a partial output
    if sig == signal.SIGINT:  # a clean stop leaves no temporary file (a SIGKILL may)
        assert not list(tmp_path.rglob("*.tmp"))
    resumed = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "batch", *map(str, argv[:-1]), "--resume"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    # Only the missing units were evaluated again.
    assert f"resuming, {done}/24 units already checkpointed".encode() in resumed.stderr
    assert_frame_equal(pl.read_parquet(out), reference[0], check_exact=True)
    assert_frame_equal(pl.read_parquet(per_path), reference[1], check_exact=True)
    assert not parts.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet", "paths.parquet"]
    return stderr


def test_sigkill_then_resume_equals_uninterrupted_run(
    tmp_path: Path, reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    _interrupted_then_resumed(tmp_path, signal.SIGKILL, reference)


def test_ctrl_c_exits_130_keeps_checkpoints_then_resumes(
    tmp_path: Path, reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    stderr = _interrupted_then_resumed(tmp_path, signal.SIGINT, reference)
    assert b"--resume" in stderr


def test_interrupted_checkpoints_need_resume_or_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out.csv"
    store = PartStore(Path(str(out) + ".parts"))
    store.directory.mkdir()
    assert batch(PLAN_FILES[2], "--scenario", SCENARIO, "--no-breakevens", "--out", out) == 2
    assert "--resume" in capsys.readouterr().err
    assert batch(PLAN_FILES[2], "--scenario", SCENARIO, "--no-breakevens", "--out", out,
                 "--force") == 0
    assert out.exists() and not store.directory.exists()


def test_output_is_absent_or_complete_while_running(
    tmp_path: Path, reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    out = tmp_path / "out.csv"
    process = cli_process(PLANS, "--scenario", SCENARIO, "--grid", GRID, "--out", out,
                          "--quiet")
    seen_complete = False
    while process.poll() is None or not seen_complete:
        if out.exists():
            # Once the name exists it holds the whole table, never a prefix of it.
            assert read_table(out).height == reference[0].height
            seen_complete = True
        elif process.poll() is not None:
            break
        time.sleep(0.01)
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert_frame_equal(read_table(out), flat_lists(reference[0]), check_dtypes=False)


# --- Dask ---------------------------------------------------------------------------------------


def test_local_cluster_equals_single_machine(
    tmp_path: Path, reference: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    distributed = pytest.importorskip("distributed")
    # Every port is picked free by the system: dashboard_address=None would still bind 8787
    # (and fail the run, warnings being errors, when something else holds it).
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster:
        assert ":8787/" not in cluster.dashboard_link
        out, per_path = tmp_path / "out.parquet", tmp_path / "paths.parquet"
        assert batch(PLANS, "--scenario", SCENARIO, "--grid", GRID, "--out", out,
                     "--per-path", per_path, "--scheduler", cluster.scheduler_address) == 0
    assert_frame_equal(pl.read_parquet(out), reference[0], check_exact=True)
    assert_frame_equal(pl.read_parquet(per_path), reference[1], check_exact=True)


def test_identical_plan_files_keep_their_own_names(tmp_path: Path) -> None:
    for name in ("x.toml", "y.toml"):
        shutil.copy(PLAN_FILES[2], tmp_path / name)
    out = tmp_path / "out.parquet"
    assert batch(tmp_path, "--scenario", SCENARIO, "--no-breakevens", "--out", out) == 0
    summary = pl.read_parquet(out)
    assert summary["plan_file"].to_list() == [str(tmp_path / "x.toml"), str(tmp_path / "y.toml")]
    assert summary["npv_usd"][0] == summary["npv_usd"][1]


def test_parts_concatenate_in_key_order_not_name_order(tmp_path: Path) -> None:
    store = PartStore(tmp_path / "parts")
    keys = [f"{letter}{i}" for i, letter in enumerate("zyxwvutsrq" * 10)]
    for i, key in enumerate(keys):
        row = pl.DataFrame({"i": [i]})
        store.save(key, row, row)
    table = store.concat(keys, "summary")
    assert table["i"].to_list() == list(range(len(keys)))
    assert table.n_chunks() == 1


@pytest.mark.parametrize("where", ["a-file/out.csv", "a-file/deeper/out.csv", "a-dir"])
def test_unusable_output_place_is_input_error(
    tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-dir").mkdir()
    out = tmp_path / where
    if where == "a-dir":
        out = tmp_path / "a-dir.csv"
        out.mkdir()
    assert batch(PLAN_FILES[2], "--scenario", SCENARIO, "--out", out) == 2
    assert "--out" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["a-file", "a-dir", *(["a-dir.csv"] if where == "a-dir" else [])])


def test_paths_override_is_held_to_the_path_days_bound(tmp_path) -> None:
    from fleetcalc.cli import main as cli_main

    plans = Path(__file__).parent.parent / "fleetcalc/data/plans"
    plan = sorted(plans.glob("*.toml"))[0]
    code = cli_main(["batch", str(plan), "--paths", "100000", "--out", str(tmp_path / "o.csv")])
    assert code == 2
    assert not (tmp_path / "o.csv").exists()


def test_grid_sweeping_a_field_a_csv_series_replaces_is_an_input_error(tmp_path) -> None:
    from fleetcalc.batch import expand_grid
    from fleetcalc.errors import InputError
    from fleetcalc.scenario import load_scenario

    base = load_scenario(None)
    with_series = base.with_changes(price_series_usd=(80_000.0,) * base.horizon_days)
    grid = tmp_path / "grid.toml"
    grid.write_text("[btc]\nprice_usd = [60000.0, 90000.0]\n")
    assert len(expand_grid(base, grid)) == 2
    with pytest.raises(InputError, match=r"btc\.price_usd"):
        expand_grid(with_series, grid)


# --- errors across processes, code versions -----------------------------------------------------


@given(st.text(max_size=20), st.text(max_size=20),
       st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=False), st.dates(),
                 st.lists(st.integers(), max_size=3), st.none()),
       st.text(max_size=20))
def test_input_error_survives_pickling(source: str, where: str, value: object,
                                       expected: str) -> None:
    # Worker processes and Dask workers send a unit's InputError back pickled.
    error = InputError(source, where, value, expected)
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is InputError
    assert (back.source, back.where, back.value, back.expected) == (source, where, value, expected)
    assert str(back) == str(error)


def test_each_plan_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 10: the text whose digest keys a unit's checkpoints is the text that was checked
    # and evaluated; reading the file again could hash one version and evaluate another.
    import builtins
    import io as std_io

    plan = tmp_path / "plan.toml"
    shutil.copy(PLAN_FILES[0], plan)
    opened: list[str] = []
    real_open = builtins.open

    def counting_open(file, *args, **kwargs):  # every Path read ends here (io.open)
        if isinstance(file, str | Path) and Path(file) == plan:
            opened.append(str(args[:1] or kwargs.get("mode", "r")))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(std_io, "open", counting_open)
    assert batch(plan, "--scenario", SCENARIO, "--grid", GRID, "--no-breakevens",
                 "--out", tmp_path / "out.csv", "--workers", "1") == 0
    assert len(opened) == 1, opened


def _stale_parts(out: Path, plan: Path, breakevens: bool) -> None:
    """Checkpoints of ``plan``'s one unit as this code would name them, holding other rows."""
    from fleetcalc.batch.units import read_plan_file

    (variant,) = expand_grid(load_scenario(SCENARIO), None)
    key = unit_key(read_plan_file(plan), variant, breakevens)
    stale = pl.DataFrame({"plan_file": [str(plan)], "npv_usd": ["from older code"]})
    PartStore(Path(str(out) + ".parts")).save(key, stale, stale)


def test_resume_across_code_versions_recomputes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, argv = PLAN_FILES[2], ["--scenario", SCENARIO, "--no-breakevens"]
    fresh = tmp_path / "fresh.parquet"
    assert batch(plan, *argv, "--out", fresh) == 0
    # Parts left by an older version of the code (other numbers, another schema) ...
    with monkeypatch.context() as older:
        older.setattr(version, "RESULTS_VERSION", version.RESULTS_VERSION - 1)
        out = tmp_path / "out.parquet"
        _stale_parts(out, plan, breakevens=False)
        # ... are what that version resumes from (the check below can fail):
        control = tmp_path / "control.parquet"
        _stale_parts(control, plan, breakevens=False)
        assert batch(plan, *argv, "--out", control, "--resume") == 0
        assert pl.read_parquet(control)["npv_usd"].to_list() == ["from older code"]
    # This version does not see them: the unit is evaluated again.
    assert batch(plan, *argv, "--out", out, "--resume") == 0
    assert_frame_equal(pl.read_parquet(out), pl.read_parquet(fresh), check_exact=True)


def test_code_digest_covers_source_and_data_not_caches(tmp_path: Path) -> None:
    (tmp_path / "fleetcalc" / "data").mkdir(parents=True)
    (tmp_path / "kernels" / "__pycache__").mkdir(parents=True)
    files = {"fleetcalc/engine.py": "x = 1\n", "fleetcalc/data/catalog.csv": "id\na\n",
             "kernels/rigdays.py": "y = 2\n", "kernels/__pycache__/rigdays.nbi": "cache"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    before = version.tree_digest(tmp_path)
    (tmp_path / "kernels" / "__pycache__" / "rigdays.nbi").write_text("other cache")
    assert version.tree_digest(tmp_path) == before
    for name in ("fleetcalc/engine.py", "fleetcalc/data/catalog.csv", "kernels/rigdays.py"):
        original = (tmp_path / name).read_text()
        (tmp_path / name).write_text(original + "#")
        assert version.tree_digest(tmp_path) != before, name
        (tmp_path / name).write_text(original)
    assert version.tree_digest(tmp_path) == before
