"""``fleetcalc sensitivity``: tornado swings are compare runs, grid cells are batch cells, and
variants go through few ``evaluate`` calls."""

from __future__ import annotations

import dataclasses
import io
import json
import math
from pathlib import Path

import polars as pl
import pytest
import tomli_w

from fleetcalc import engine
from fleetcalc.cli import main
from fleetcalc.plan import load_plan
from fleetcalc.scenario import load_scenario, scenario_to_toml
from fleetcalc.sensitivity import grid, tornado
from fleetcalc.variation import INPUTS, Change, apply, parse_axis, read_ranges

ROOT = Path(__file__).resolve().parents[1]
BITMAIN = str(ROOT / "fleetcalc" / "data" / "plans" / "1-bitmain.toml")
TWO_SITES = str(ROOT / "docs" / "examples" / "two-sites.toml")
BAR_KEYS = {"input", "low", "high", "npv_low_usd", "npv_high_usd", "swing_usd"}


def _scenario_file(tmp_path: Path, name: str, **btc: float) -> Path:
    base = load_scenario(None).with_changes(horizon_days=600)
    scenario = base.with_changes(btc=dataclasses.replace(base.btc, **btc))
    path = tmp_path / f"{name}.toml"
    path.write_text(tomli_w.dumps(scenario_to_toml(scenario)))
    return path


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> object:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_the_btc_price_swing_is_two_compare_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    base = _scenario_file(tmp_path, "base")
    result = _json(["sensitivity", BITMAIN, TWO_SITES, "--scenario", str(base), "--json"], capsys)
    assert [r["plan"] for r in result] == [load_plan(BITMAIN).name, load_plan(TWO_SITES).name]
    for plan_file, plan in zip((BITMAIN, TWO_SITES), result, strict=True):
        assert all(set(bar) >= BAR_KEYS for bar in plan["tornado"])
        swings = [bar["swing_usd"] for bar in plan["tornado"]]
        assert swings == sorted(swings, reverse=True)
        bar = next(b for b in plan["tornado"] if b["input"] == "btc.price_usd")
        npvs = []
        for end in ("low", "high"):
            at = _scenario_file(tmp_path, end, price_usd=bar[end])
            npvs.append(_json(["compare", plan_file, "--scenario", str(at), "--json"],
                              capsys)[0]["npv_usd"])
        assert (bar["npv_low_usd"], bar["npv_high_usd"]) == (npvs[0], npvs[1])
        assert bar["swing_usd"] == abs(npvs[1] - npvs[0])
        compared = _json(["compare", plan_file, "--scenario", str(base), "--json"], capsys)
        assert plan["base_npv_usd"] == compared[0]["npv_usd"]


def test_grid_cells_equal_batch_results_for_the_same_variants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = _scenario_file(tmp_path, "base")
    out = tmp_path / "grid.parquet"
    assert main(["sensitivity", BITMAIN, TWO_SITES, "--scenario", str(scenario), "--grid",
                 "btc.price_usd=60000:140000:3", "site.power_usd_per_kwh=0.03,0.06",
                 "--metric", "irr", "--out", str(out)]) == 0
    assert "site.power_usd_per_kwh" in capsys.readouterr().out
    cells = pl.read_parquet(out)
    assert cells.height == 2 * 3 * 2
    (tmp_path / "grid.toml").write_text(
        "power_usd_per_kwh = [0.03, 0.06]\n[btc]\nprice_usd = [60000.0, 100000.0, 140000.0]\n")
    batch_out = tmp_path / "batch.parquet"
    assert main(["batch", BITMAIN, TWO_SITES, "--scenario", str(scenario), "--grid",
                 str(tmp_path / "grid.toml"), "--no-breakevens", "--quiet",
                 "--out", str(batch_out)]) == 0
    batch = pl.read_parquet(batch_out).rename(
        {"grid_btc.price_usd": "btc.price_usd", "grid_power_usd_per_kwh": "site.power_usd_per_kwh"})
    joined = cells.join(batch, on=["plan", "btc.price_usd", "site.power_usd_per_kwh"],
                        suffix="_batch")
    assert joined.height == cells.height
    for metric in ("npv_usd", "irr", "payback_days"):
        assert joined[metric].to_list() == joined[f"{metric}_batch"].to_list(), metric


def test_a_tornado_evaluates_plan_side_variants_together(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = engine.evaluate

    def counting(plans, scenario=None, **kwargs):
        calls.append(len(plans))
        return real(plans, scenario, **kwargs)

    monkeypatch.setattr(engine, "evaluate", counting)
    scenario = load_scenario(None).with_changes(horizon_days=400)
    plans = [load_plan(BITMAIN), load_plan(TWO_SITES)]
    results = tornado(plans, scenario)
    scenario_side = {bar.input for t in results for bar in t.bars
                     if bar.input.split(".")[0] in ("btc", "network", "tariff")}
    # One call for the base and every plan-side variant of both plans, one per scenario end.
    assert len(calls) == 1 + 2 * len(scenario_side)
    plan_side = sum(1 for bar in results[0].bars if bar.input not in scenario_side)
    assert calls[0] == 2 + 2 * (plan_side + sum(
        1 for bar in results[1].bars if bar.input not in scenario_side))


def test_changes_reach_every_site_and_order_and_clip_to_the_file_bounds() -> None:
    scenario = load_scenario(None)
    plan = load_plan(TWO_SITES)
    by_name = {item.name: item for item in INPUTS}
    moved, _, value = apply(plan, scenario, by_name["site.uptime"], Change("shift", 0.05))
    assert [site.uptime for site in moved.sites] == [1.0, 1.0] and value == 1.0
    moved, _, _ = apply(plan, scenario, by_name["orders.unit_price_usd"], Change("scale", 2.0))
    assert [o.unit_price_usd for o in moved.orders] == [2 * 6.47 * 260, 2 * 1397.52]
    assert all(o.usd_per_th is None for o in moved.orders)
    _, changed, rate = apply(plan, scenario, INPUTS[0], Change("set", 1e12))
    assert changed.btc.price_usd == rate == 1e9  # the scenario file's bound


def test_a_ranges_file_replaces_and_drops_ranges(tmp_path: Path) -> None:
    path = tmp_path / "ranges.toml"
    path.write_text('[btc]\nprice_usd = [50000.0, 150000.0]\nannual_drift = false\n'
                    '[network]\nmonthly_growth = ["-0.02", "+1.5%"]\n'
                    '[tariff.MY]\nreciprocal = [0.0, 0.4]\n')
    ranges = read_ranges(path)
    assert ranges["btc.price_usd"] == (Change("set", 50000.0), Change("set", 150000.0))
    assert ranges["btc.annual_drift"] is None
    assert ranges["network.monthly_growth"] == (Change("shift", -0.02), Change("scale", 1.015))
    scenario = load_scenario(None).with_changes(horizon_days=400)
    result = tornado([load_plan(BITMAIN)], scenario, ranges)[0]
    bars = {bar.input: bar for bar in result.bars}
    assert "btc.annual_drift" not in bars
    assert (bars["btc.price_usd"].low, bars["btc.price_usd"].high) == (50000.0, 150000.0)
    assert bars["tariff.MY.reciprocal"].high == 0.4


@pytest.mark.parametrize(("text", "message"), [
    ('[btc]\nprice = [1.0, 2.0]\n', "btc.price: got 'btc.price'; expected an input named by "
                                    "its TOML path: btc.price_usd, "),
    ('[btc]\nprice_usd = 90000.0\n', "btc.price_usd: got 90000.0; expected [low, high] (two "
                                     "values), or false to leave the input out"),
    ('[site]\nuptime = [0.9, 1.5]\n', "site.uptime[1]: got 1.5; expected a number in [0, 1], "
                                      "or a change of the input's value"),
    ('[site]\nuptime = ["x", "+1%"]\n', "site.uptime[0]: got 'x'; expected a number in [0, 1]"),
])
def test_a_bad_ranges_file_names_the_input(
    tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "ranges.toml"
    path.write_text(text)
    assert main(["sensitivity", BITMAIN, "--ranges", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"fleetcalc: error: {path}: {message}")


@pytest.mark.parametrize(("argv", "message"), [
    (["--grid", "btc.price_usd"], "--grid: got 'btc.price_usd'; expected NAME=FROM:TO:POINTS"),
    (["--grid", "btc.price_usd=-10%:90000:3"], "--grid: got 'btc.price_usd=-10%:90000:3'; "
                                               "expected both ends values, or both percentages"),
    (["--grid", "btc.price=1:2:3"], "--grid: got 'btc.price'; expected an input named by"),
    (["--grid", "btc.price_usd=1:2:1"], "--grid: got 'btc.price_usd=1:2:1'; expected from 2 "
                                        "to 101 points"),
    (["--grid", "site.uptime=0.5,2"], "--grid site.uptime: got 2.0; expected a number in [0, "
                                      "1]"),
    (["--grid", "site.uptime=0.5,1", "site.uptime=0.6,1"], "--grid: got 'site.uptime'; "
                                                           "expected two different inputs"),
    (["--grid", "a=1,2", "b=1,2", "c=1,2"], "--grid: got 'a=1,2 b=1,2 c=1,2'; expected one or "
                                            "two axes"),
    (["--out", "tornado.xlsx"], "--out: got 'tornado.xlsx'; expected a file name ending in"),
])
def test_bad_grid_options_exit_2_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sensitivity", BITMAIN, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fleetcalc: error: command line: {message}"), err


def test_a_one_axis_grid_and_a_tornado_table_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    scenario = str(_scenario_file(tmp_path, "short"))
    assert main(["sensitivity", BITMAIN, "--scenario", scenario, "--grid",
                 "tariff.MY.mfn=0,0.25", "--metric", "payback_days"]) == 0
    assert "Payback" in capsys.readouterr().out
    out = tmp_path / "tornado.csv"
    assert main(["sensitivity", BITMAIN, "--scenario", scenario, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "BTC price" in printed and "Swing" in printed
    assert set(pl.read_csv(out)["input"]) >= {"btc.price_usd", "site.power_usd_per_kwh"}


def test_the_tornado_at_80_columns_cuts_no_number(tmp_path: Path) -> None:
    # At 80 columns the framed seven-column table cut "-16,979,657" to "-16,979,…" and gave
    # the input's label no room at all.
    from rich.console import Console

    from fleetcalc.sensitivity_view import tornado_table

    scenario = load_scenario(str(_scenario_file(tmp_path, "short")))
    [result] = tornado([load_plan(BITMAIN)], scenario)
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(tornado_table(result, console.width))
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in text
    for bar in result.bars:
        assert f" {bar.npv_low_usd:,.0f} " in text and f" {bar.npv_high_usd:,.0f} " in text
        assert bar.label.split()[0] in text


def test_grid_of_a_tariff_rate_changes_only_the_duty() -> None:
    scenario = load_scenario(None).with_changes(horizon_days=400)
    cells = grid([load_plan(BITMAIN)], scenario, [parse_axis("tariff.MY.mfn=0,0.5")])
    npv = cells["npv_usd"].to_list()
    plan = load_plan(BITMAIN)
    customs_usd = plan.orders[0].unit_price_usd * plan.orders[0].quantity
    # Duty is paid on the import day (fleetcalc.schedule), discounted to day 0: the duty's 50
    # points of customs value.
    from fleetcalc.finance import discount_factors

    day = scenario.day_of(plan.orders[0].import_date)
    factor = discount_factors(day + 1, plan.finance.discount_rate)[day]
    assert math.isclose(npv[0] - npv[1], 0.5 * customs_usd * factor, rel_tol=1e-9)


def test_a_grid_in_percentages_scales_every_order_and_its_middle_is_the_plan() -> None:
    scenario = load_scenario(None).with_changes(horizon_days=400)
    plan = load_plan(TWO_SITES)
    cells = grid([plan], scenario, [parse_axis("orders.unit_price_usd=-20%:+20%:3")])
    assert cells.columns[1] == "orders.unit_price_usd (scale)"
    assert cells[cells.columns[1]].to_list() == [0.8, 1.0, 1.2]
    base = engine.evaluate([plan], scenario, breakevens=False).records()[0]
    assert cells["npv_usd"][1] == base["npv_usd"]
    npv = cells["npv_usd"].to_list()
    assert npv[0] > npv[1] > npv[2]


def test_the_readme_lists_the_default_ranges_of_the_input_table() -> None:
    from fleetcalc.variation import ranges_markdown

    assert ranges_markdown() in (ROOT / "README.md").read_text(encoding="utf-8"), (
        "README.md's default ranges are stale: paste fleetcalc.variation.ranges_markdown()")
