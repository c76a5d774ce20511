"""``fleetcalc rank``: shutdown prices are the closed forms, NPV per unit is the engine's."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc.cli import main
from fleetcalc.engine import evaluate
from fleetcalc.network import btc_per_th_day, difficulty_from_hashrate
from fleetcalc.plan import Order, Plan, Site
from fleetcalc.rank import RANK_COLUMNS, per_day, rank
from fleetcalc.scenario import load_scenario

JSON_KEYS = (
    "model_id", "mode", "hashrate_th", "power_w", "efficiency_j_per_th", "landed_usd_per_th",
    "hashprice_usd_per_ph_day", "revenue_usd_per_day", "energy_usd_per_day",
    "profit_usd_per_day", "shutdown_power_usd_per_kwh", "shutdown_btc_price_usd",
    "payback_days_simple", "npv_per_unit_usd",
)


def _scenario(price_usd: float = 84714.0, fees: float = 0.02, pool_fee: float = 0.02):
    base = load_scenario(None)
    return base.with_changes(
        horizon_days=400, btc=dataclasses.replace(base.btc, price_usd=price_usd),
        network=dataclasses.replace(base.network, fees_btc_per_block=fees, pool_fee=pool_fee))


@pytest.mark.parametrize(("price_usd", "fees", "pool_fee", "power"), [
    (84714.0, 0.02, 0.02, 0.05), (120000.0, 0.3, 0.0, 0.08), (40000.0, 0.0, 0.04, 0.02)])
def test_shutdown_prices_are_the_closed_form_and_its_power_inverse(
    price_usd: float, fees: float, pool_fee: float, power: float,
) -> None:
    scenario = _scenario(price_usd, fees, pool_fee)
    net = scenario.network
    # BTC per TH/s per day on day 0, from the protocol's formula (not from the engine's market).
    subsidy_btc = 50.0 / 2 ** (net.block_height // 210_000)
    b = btc_per_th_day(difficulty_from_hashrate(net.hashrate_ehs), subsidy_btc, fees)
    table = rank(scenario, power).table
    assert table.height > 50
    for row in table.iter_rows(named=True):
        h, w = row["hashrate_th"], row["power_w"]
        shutdown_btc = w / 1000 * 24 * power / (h * b * (1 - pool_fee))
        assert math.isclose(row["shutdown_btc_price_usd"], shutdown_btc, rel_tol=1e-9)
        shutdown_power = h * b * (1 - pool_fee) * price_usd / (w / 1000 * 24)
        assert math.isclose(row["shutdown_power_usd_per_kwh"], shutdown_power, rel_tol=1e-9)
        # The two are inverse in the power price: shutdown BTC price / BTC price equals
        # power price / shutdown power price.
        assert math.isclose(row["shutdown_btc_price_usd"] / price_usd,
                            power / row["shutdown_power_usd_per_kwh"], rel_tol=1e-9)
        assert math.isclose(row["hashprice_usd_per_ph_day"], b * price_usd * 1000, rel_tol=1e-9)


@given(hashrate_th=st.floats(1.0, 2000.0), power_w=st.floats(50.0, 20000.0),
       b=st.floats(1e-8, 1e-5), price=st.floats(1e3, 1e6), power=st.floats(0.001, 1.0),
       pool_fee=st.floats(0.0, 0.1))
def test_a_unit_at_its_shutdown_prices_earns_exactly_its_energy(
    hashrate_th: float, power_w: float, b: float, price: float, power: float, pool_fee: float,
) -> None:
    row = per_day(hashrate_th, power_w, 1000.0, b, price, power, pool_fee)
    at_power = per_day(hashrate_th, power_w, 1000.0, b, price,
                       row["shutdown_power_usd_per_kwh"], pool_fee)
    at_price = per_day(hashrate_th, power_w, 1000.0, b, row["shutdown_btc_price_usd"], power,
                       pool_fee)
    for day in (at_power, at_price):
        assert math.isclose(day["revenue_usd_per_day"], day["energy_usd_per_day"], rel_tol=1e-9)
    # Inverse of each other: the shutdown power price at the shutdown BTC price is the power
    # price the ranking ran at.
    assert math.isclose(at_price["shutdown_power_usd_per_kwh"], power, rel_tol=1e-9)
    assert (row["profit_usd_per_day"] > 0) == (price > row["shutdown_btc_price_usd"]) or (
        math.isclose(price, row["shutdown_btc_price_usd"], rel_tol=1e-12))


def test_npv_per_unit_is_the_engine_on_a_one_unit_plan_and_sorting_is_best_first() -> None:
    scenario = _scenario()
    ranking = rank(scenario, 0.04, origin="US", sort="npv_per_unit_usd")
    npvs = [v for v in ranking.table["npv_per_unit_usd"].to_list() if v is not None]
    assert npvs == sorted(npvs, reverse=True)
    assert set(ranking.table["origin"]) == {"US"}
    # The stock mode's row (the plan below runs stock; with resale at market eco ranks first).
    row = ranking.table.filter(model_id="teraflux-at2880", mode="stock").row(0, named=True)
    plan = Plan(name="one AT2880", sites=(Site(power_usd_per_kwh=0.04, capacity_mw=1.0),),
                orders=(Order(model="teraflux-at2880", quantity=10,
                              unit_price_usd=row["unit_price_usd"], origin="US",
                              import_date=scenario.start_date,
                              delivery_date=scenario.start_date),))
    summary = evaluate([plan], scenario, breakevens=False).summary.row(0, named=True)
    assert math.isclose(summary["npv_usd"], 10 * row["npv_per_unit_usd"], rel_tol=1e-9)
    assert math.isclose(summary["capex_usd"], 10 * row["landed_cost_usd_per_unit"],
                        rel_tol=1e-12)


def test_china_origin_pays_more_duty_than_the_lowest_duty_plant() -> None:
    scenario = _scenario()
    cn = rank(scenario, origin="CN").table.filter(mode="stock")
    best = rank(scenario).table.filter(mode="stock")
    joined = cn.join(best, on="model_id", suffix="_best")
    assert joined.height >= 3
    assert (joined["landed_usd_per_th"] > joined["landed_usd_per_th_best"]).all()


def test_rank_json_has_the_documented_keys(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["rank", "--json", "--power", "0.06", "--on", "2026-12-01"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(set(JSON_KEYS) <= set(row) for row in rows)
    assert {c.name for c in RANK_COLUMNS} <= set(JSON_KEYS)
    profits = [row["profit_usd_per_day"] for row in rows]
    assert profits == sorted(profits, reverse=True)
    assert main(["rank"]) == 0
    assert "Shutdown" in capsys.readouterr().out


def test_rank_at_80_columns_cuts_no_number(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ten columns at 80 cut numbers to "9.…" and "-2,43" and model ids to "antminer-s21e-xp-…".
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["rank", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert main(["rank"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in "".join(lines)
    text = " ".join(lines)
    # Model ids wrap over lines after their hyphens, at the start of each line.
    firsts = "".join(line.split()[0] for line in lines if line.startswith(" ") and line.split())
    for row in rows:
        assert row["model_id"] in firsts, row["model_id"]
        for key in ("shutdown_power_usd_per_kwh", "payback_days_simple", "npv_per_unit_usd"):
            column = next(c for c in RANK_COLUMNS if c.name == key)
            assert f" {column.text(row[key])} " in f" {text} ", (row["model_id"], key)


@pytest.mark.parametrize(("argv", "message"), [
    (["--power", "cheap"], "--power: got 'cheap'; expected a number in [0, 10]"),
    (["--on", "2040-01-01"], "--on: got '2040-01-01'; expected a date inside the scenario "
                             "horizon: from 2026-12-01 to 2031-11-30"),
    (["--on", "tomorrow"], "--on: got 'tomorrow'; expected a date like 2026-03-01"),
    (["--origin", "DE"], "--origin: got 'DE'; expected an origin some catalog model is built in "
                         "(see `fleetcalc catalog`)"),
    (["--origin", "my"], "--origin: got 'my'; expected an ISO 3166 alpha-2 country code like "
                         "MY (uppercase)"),
    (["--sort", "profit"], "--sort: got 'profit'; expected one of hashrate_th, power_w, "),
])
def test_bad_rank_options_exit_2_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rank", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fleetcalc: error: command line: {message}"), err


def test_an_imported_units_figures_are_per_unit_of_a_large_order() -> None:
    """The merchandise processing fee is per customs entry (minimum and cap), not per unit:
    a one-unit order's minimum is left out, and N units cost N x the unit plus one fee."""
    scenario = _scenario()
    row = rank(scenario, 0.04, origin="MY").table.filter(
        model_id="antminer-s21-xp", mode="stock").row(0, named=True)
    plan = Plan(name="100 S21 XP", sites=(Site(power_usd_per_kwh=0.04, capacity_mw=1.0),),
                orders=(Order(model="antminer-s21-xp", quantity=100,
                              unit_price_usd=row["unit_price_usd"], origin="MY",
                              import_date=scenario.start_date,
                              delivery_date=scenario.start_date),))
    results = evaluate([plan], scenario, breakevens=False)
    summary, order = results.summary.row(0, named=True), results.orders.row(0, named=True)
    assert order["mpf_usd"] == 651.50  # the FY2026 cap: 0.3464% of USD 459,000 is more
    assert math.isclose(summary["capex_usd"], 100 * row["landed_cost_usd_per_unit"] + 651.50,
                        rel_tol=1e-12)
    # Paid on day 0 (imported on the start date): at face value.
    assert math.isclose(summary["npv_usd"], 100 * row["npv_per_unit_usd"] - 651.50,
                        rel_tol=1e-9)


def test_the_default_power_price_is_the_default_plans() -> None:
    # rank's default is documented as the default plans' site price: a second declaration of
    # that fact, held to the plans here so that a change to them cannot leave it behind.
    from fleetcalc.plan import default_plans
    from fleetcalc.rank import DEFAULT_POWER_USD_PER_KWH

    # Since issue 13 the plans' site price is power at the meter (USD 0.04) with a PUE and a
    # fixed opex per MW-month; rank's one-unit plans have neither, so its default is the
    # plans' all-in cost of a kWh of IT load (README, "Rank"), to the half cent it is given in.
    all_in = {round(site.pue * (site.power_usd_per_kwh or 0.0) + site.hosting_usd_per_kwh
                    + site.pue * site.fixed_opex_usd_per_mw_month / (365 / 12 * 24 * 1000), 6)
              for plan in default_plans() for site in plan.sites}
    assert len(all_in) == 1
    assert abs(all_in.pop() - DEFAULT_POWER_USD_PER_KWH) < 0.005


def test_the_readme_lists_every_rank_json_key_in_order() -> None:
    import re
    from pathlib import Path

    from fleetcalc.rank import RANK_SCHEMA

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    sentence = readme[readme.index("`--json` prints every field: a list of objects with"):]
    sentence = sentence[:sentence.index(".\n")]
    assert re.findall(r"`(\w+)`", sentence) == list(RANK_SCHEMA)
