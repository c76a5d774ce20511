"""``fleetcalc optimize`` end to end: candidates files parsed like plans, per-unit NPVs from the
engine that add up to a plan's NPV, the plan it writes giving (through ``compare``) the NPV it
reported, the shipped candidates' megawatt shadow price against a re-solve, and every bad
candidates file a one-line message with exit code 2.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from fleetcalc.candidates import (
    default_candidates_path,
    load_candidates,
    parse_candidates,
    price_candidates,
)
from fleetcalc.cli import main
from fleetcalc.engine import evaluate
from fleetcalc.optimize_cli import optimize_report
from fleetcalc.plan import load_plan
from fleetcalc.scenario import load_scenario
from tests.test_plan_errors import ROOT, Case

CANDIDATES = "tests/data/inputs/candidates"
VALID = f"{CANDIDATES}/valid.toml"
DEFAULT_SCENARIO = ROOT / "fleetcalc" / "data" / "default_scenario.toml"


def candidates_case(label: str, file: str, message: str) -> Case:
    path = f"{CANDIDATES}/{file}"
    return Case(label, ("optimize", path, "--json"), f"fleetcalc: error: {path}: {message}")


INFEASIBLE = ("expected constraints some plan can meet together: lower a minimum or raise a "
              "limit (no plan meets these, and dropping any one of them makes one)")
CANDIDATE_CASES: tuple[Case, ...] = (
    candidates_case("A quantity in a candidate", "quantity_given.toml",
                    "candidates[0].quantity: got 'quantity'; expected one of the keys "
                    "annual_degradation, annual_failure_rate, balance_days_before_import, "
                    "cooling, delivery_date, deposit_share, freight_usd_per_unit, hashrate_th, "
                    "import_date, install_usd_per_unit, lot, max_units, min_units, mode, model, "
                    "modes, order_date, origin, power_w, repair_cost_usd, repair_days, "
                    "service_life_years, shipped_by, site, unit_price_usd, usd_per_th"),
    candidates_case("Unknown model", "unknown_model.toml",
                    "candidates[0].model: got 'antminer-s21-xpp'; expected a catalog model id "
                    "(see `fleetcalc catalog`); closest: antminer-s21-xp, antminer-s19-xp, "
                    "antminer-s21-pro"),
    candidates_case("Model not built in that origin", "origin_not_built.toml",
                    "candidates[0].origin: got 'CN'; expected an origin Antminer S21 XP is "
                    "built in: MY, ID, TH, US"),
    candidates_case("Delivery after the horizon", "delivery_after_horizon.toml",
                    "candidates[0].delivery_date: got '2032-06-01'; expected a date inside the "
                    "scenario horizon: from 2026-12-01 to 2031-11-30"),
    candidates_case("Lot of zero units", "lot_zero.toml",
                    "candidates[1].lot: got 0; expected an integer in [1, 10000000]"),
    candidates_case("Share cap above 1", "share_over_one.toml",
                    "max_share.maker: got 1.5; expected a number in (0, 1]"),
    candidates_case("Share cap on an unknown key", "share_unknown_key.toml",
                    "max_share.model: got 'model'; expected one of the keys maker, origin"),
    candidates_case("No candidates", "no_candidates.toml",
                    "candidates: got '(missing)'; expected at least one [[candidates]] table"),
    candidates_case("Minimum over the budget", "min_over_budget.toml",
                    "candidates[0].min_units + budget_usd: got 'candidates[0].min_units = 300; "
                    "budget_usd = 1,000,000 (the minimums cost 1,414,523)'; " + INFEASIBLE),
    candidates_case("Minimum over the site's MW", "min_over_capacity.toml",
                    "candidates[1].min_units + site.capacity_mw: got 'candidates[1].min_units = "
                    "600; site.capacity_mw = 2 (the minimums draw 2.009 MW)'; " + INFEASIBLE),
    candidates_case("Minimum over the maximum", "min_over_max.toml",
                    "candidates[0].min_units + candidates[0].max_units: got "
                    "'candidates[0].min_units = 50; candidates[0].max_units = 20'; " + INFEASIBLE),
    candidates_case("Minimum of an excluded origin", "min_excluded.toml",
                    "candidates[1].min_units + exclude_origins (TH): got "
                    "'candidates[1].min_units = 10; exclude_origins (TH)'; " + INFEASIBLE),
    candidates_case("Minimum over a share cap", "min_over_share.toml",
                    "candidates[0].min_units + candidates[1].max_units + max_share.origin (MY): "
                    "got 'candidates[0].min_units = 100; candidates[1].max_units = 0; "
                    "max_share.origin (MY) = 0.6 of capex'; " + INFEASIBLE),
    Case("cvar10 on one path",
         ("optimize", VALID, "--objective", "cvar10", "--scenario",
          "tests/data/inputs/scenarios/series_valid.toml", "--json"),
         "fleetcalc: error: command line: --objective: got 'cvar10'; expected a scenario with "
         "at least 10 Monte Carlo paths for the worst 10% of paths "
         "(tests/data/inputs/scenarios/series_valid.toml has paths = 1)"),
    Case("--out not a TOML file", ("optimize", VALID, "--out", "plan.txt"),
         "fleetcalc: error: command line: --out: got 'plan.txt'; expected a file name ending "
         "in .toml"),
)


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Messages name files as given on the command line: relative to the repository root.
    monkeypatch.chdir(ROOT)


def _run(argv: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The CLI's exit code, stdout and stderr, captured at the file descriptors (a solver
    writing to the C stdout would show up here)."""
    code = main(argv)
    captured = capfd.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", CANDIDATE_CASES, ids=lambda c: f"{c.id}-{c.argv[2]}")
def test_bad_candidates_exit_2_with_the_documented_message(
    case: Case, capfd: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(list(case.argv), capfd)
    assert (code, out, err) == (2, "", case.message + "\n")


def _scenario_file(tmp_path: Path, **changes: object) -> str:
    """The default scenario with some keys changed (a dict value updates that table)."""
    doc = tomllib.loads(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if isinstance(value, dict):
            doc[key].update(value)
        else:
            doc[key] = value
    path = tmp_path / "scenario.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("objective", "paths"), [("npv", 1), ("cvar10", 20)])
def test_the_written_plan_gives_the_reported_npv_through_compare(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], objective: str, paths: int
) -> None:
    # Calmer markets than the default's: at 55% price volatility (and, with capex paid from
    # the order date, at 15%) the worst tenth of paths loses money on every mix, and the CVaR
    # optimum buys nothing.
    scenario = _scenario_file(tmp_path, paths=paths, btc={"annual_volatility": 0.10},
                              network={"order_volatility": 0.05})
    plan_path = tmp_path / "best.toml"
    code, out, err = _run(["optimize", VALID, "--scenario", scenario, "--objective", objective,
                           "--out", str(plan_path), "--json"], capfd)
    assert (code, err) == (0, "")
    report = json.loads(out)  # the whole of stdout is the one object: no solver banner
    assert plan_path.read_text(encoding="utf-8") == report["plan_toml"]
    assert [q["candidate"] for q in report["quantities"]] == [0, 1, 2]
    assert {"model_id", "origin", "units"} <= set(report["quantities"][0])
    assert set(report["shadow_prices"]) == {"budget_usd", "mw"}
    assert set(report["shadow_prices"]["mw"]) == {"site"}
    plan = load_plan(plan_path)
    bought = [q for q in report["quantities"] if q["units"] > 0]
    assert [o.quantity for o in plan.orders] == [q["units"] for q in bought]
    code, out, err = _run(["compare", str(plan_path), "--scenario", scenario, "--json"], capfd)
    assert (code, err) == (0, "")
    compared = json.loads(out)[0]["npv_usd"]
    assert compared == pytest.approx(report["npv_usd"], rel=1e-6)
    assert report["metrics"]["npv_usd"] == pytest.approx(report["npv_usd"], rel=1e-6)
    if objective == "npv":
        assert compared == pytest.approx(report["objective_usd"], rel=1e-6)
    else:
        assert report["objective_usd"] <= report["npv_usd"]  # the worst tenth is below the mean


def test_shipped_candidates_price_a_megawatt_like_a_resolve(tmp_path: Path) -> None:
    """The shipped candidates fill the 25 MW site before the budget: the MW shadow price
    predicts the optimum's change with 26 MW within 1%."""
    base = optimize_report(None, None, "npv")
    mw_price = base["shadow_prices"]["mw"]["site"]
    assert mw_price > 0
    doc = tomllib.loads(default_candidates_path().read_text(encoding="utf-8"))
    doc["site"]["capacity_mw"] += 1.0
    bigger = tmp_path / "candidates.toml"
    bigger.write_text(tomli_w.dumps(doc), encoding="utf-8")
    more = optimize_report(bigger, None, "npv")
    assert more["objective_usd"] - base["objective_usd"] == pytest.approx(mw_price, rel=0.01)


def test_unit_npvs_add_up_to_the_engines_plan_npv_on_every_path() -> None:
    cset = load_candidates(VALID)
    scenario = replace(load_scenario(), paths=8)
    priced = price_candidates(cset, scenario)
    units = np.array([123, 40, 77])
    plan = cset.plan(units, "mix")
    assert plan is not None
    engine_npv = evaluate([plan], scenario, breakevens=False).paths["npv_usd"].to_numpy()
    # Less the merchandise processing fee, paid per order (entry), not per unit.
    fees_usd = priced.entry_fees_usd(units)
    assert 0 < fees_usd <= 3 * 651.50
    np.testing.assert_allclose(units @ priced.problem.unit_npv_usd - fees_usd, engine_npv,
                               rtol=1e-9)


def test_sampled_failures_price_candidates_in_expectation(tmp_path: Path) -> None:
    scenario = _scenario_file(tmp_path, failures="sampled")
    report = optimize_report(VALID, scenario, "npv")
    expected = optimize_report(VALID, None, "npv")
    assert report["objective_usd"] == expected["objective_usd"]
    assert any("expected failures" in note for note in report["notes"])


def test_excluded_origins_are_never_bought_and_stay_excluded_in_the_plan(
    tmp_path: Path,
) -> None:
    doc = tomllib.loads((ROOT / VALID).read_text(encoding="utf-8"))
    doc["exclude_origins"] = ["US"]
    path = tmp_path / "no_us.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    report = optimize_report(path, None, "npv")
    assert [q["units"] for q in report["quantities"] if q["origin"] == "US"] == [0]
    assert tomllib.loads(report["plan_toml"])["exclude_origins"] == ["US"]


def test_a_plan_that_buys_nothing_is_not_written(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    plan_path = tmp_path / "nothing.toml"
    code, out, err = _run(["optimize", str(_unprofitable(tmp_path)), "--out", str(plan_path),
                           "--json"], capfd)
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["plan_toml"] is None and not plan_path.exists()
    assert any("buys nothing" in note for note in report["notes"])


def _unprofitable(tmp_path: Path) -> Path:
    """The valid candidates with power at USD 0.50/kWh: nothing earns its keep."""
    doc = tomllib.loads((ROOT / VALID).read_text(encoding="utf-8"))
    doc["site"]["power_usd_per_kwh"] = 0.5
    path = tmp_path / "expensive_power.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


def test_the_shipped_candidates_cover_the_four_makers_with_prices() -> None:
    cset = load_candidates()
    models = {c.order.model for c in cset.candidates}
    assert {m.split("-")[0] for m in models} == {"antminer", "whatsminer", "avalon", "teraflux"}
    assert all(c.order.unit_price_usd or c.order.usd_per_th for c in cset.candidates)
    assert (cset.site.capacity_mw, cset.budget_usd) == (25.0, 15e6)


def test_candidates_parse_like_plans_with_their_own_fields() -> None:
    doc = tomllib.loads((ROOT / VALID).read_text(encoding="utf-8"))
    cset = parse_candidates(doc, "x.toml")
    assert [(c.min_units, c.max_units, c.lot) for c in cset.candidates] == [
        (0, 300, 1), (0, None, 10), (0, None, 1)]
    assert dict(cset.max_share) == {"maker": 0.7}
    assert cset.plan(np.zeros(3, dtype=int), "none") is None


def test_the_plan_header_escapes_what_would_end_a_comment(tmp_path: Path) -> None:
    from fleetcalc.candidates import plan_toml_text
    from fleetcalc.io import write_text_atomic

    plan = load_candidates(VALID).plan(np.array([1, 0, 2]), "best")
    assert plan is not None
    text = plan_toml_text(plan, ['scenario "x"\nname = "injected"'])
    target = write_text_atomic(text, tmp_path / "plan.toml")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.toml"]  # no temporary file left
    assert tomllib.loads(target.read_text(encoding="utf-8"))["name"] == "best"


def test_the_readme_quotes_real_optimize_results() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = optimize_report("docs/examples/candidates-no-cn.toml", None, "npv")
    assert f"Objective (npv): USD {example['objective_usd']:,.0f}" in readme
    assert f"one more MW is worth USD {example['shadow_prices']['mw']['site']:,.0f}" in readme
    shipped = optimize_report(None, None, "npv")
    units = sum(q["units"] for q in shipped["quantities"])
    assert (f"({units:,} units, NPV USD {shipped['objective_usd']:,.0f}, one\nmore MW worth "
            f"USD {shipped['shadow_prices']['mw']['site']:,.0f})") in readme


def test_the_table_names_the_binding_constraints_and_the_plan(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "120")  # wide enough that no name folds
    code, out, err = _run(["optimize", VALID], capfd)
    assert (code, err) == (0, "")
    report = optimize_report(VALID, None, "npv")
    assert f"Objective (npv): USD {report['objective_usd']:,.0f}" in out
    binding = [c for c in report["constraints"] if c["binding"]]
    assert binding and all(c["name"] in out for c in binding)
    assert f"NPV USD {report['metrics']['npv_usd']:,.0f}" in out
