"""Warnings for valid but implausible inputs: each raised on its input, absent on the defaults,
never an error; on stderr from every command that reads plans or scenarios, and in
``compare --json`` on every plan object."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from fleetcalc import plausibility
from fleetcalc.catalog import PRICE_MAX_AGE_MONTHS, add_months, default_price
from fleetcalc.cli import main
from fleetcalc.plan import default_plans, load_plan, plan_to_toml
from fleetcalc.scenario import load_scenario, parse_scenario, scenario_to_toml
from fleetcalc.validate import parse_toml_text

ROOT = Path(__file__).resolve().parents[1]
# The Bitmain default plan before issue 13 re-based it: S21 XP at the catalog's USD 4,590 shop
# price of 2026-10 (the re-based plans are priced at the index, which is no shop quote).
SHOP_PRICED_S21_XP = load_plan(ROOT / "tests/pins/legacy_plans/1-bitmain.toml")


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(None)


def _btc(scenario, **changes):
    return scenario.with_changes(btc=dataclasses.replace(scenario.btc, **changes))


def _network(scenario, **changes):
    return scenario.with_changes(network=dataclasses.replace(scenario.network, **changes))


def test_the_defaults_raise_no_warning(scenario) -> None:
    assert plausibility.scenario_warnings(scenario) == ()
    for plan in default_plans(include_cn=True):
        assert plausibility.plan_warnings(plan) == [], plan.name


@pytest.mark.parametrize(("change", "key"), [
    (lambda s: _btc(s, price_usd=84.714), "btc.price_usd"),  # thousands typed as units
    (lambda s: _btc(s, price_usd=2e6), "btc.price_usd"),
    (lambda s: _network(s, hashrate_ehs=964_000.0), "network.hashrate_ehs"),  # the issue's
    (lambda s: _network(s, hashrate_ehs=0.964), "network.hashrate_ehs"),
    # The README's old example: 925,000 on 2026-12-01 moved the 2028 halving to 2029.
    (lambda s: _network(s, block_height=925_000), "network.block_height"),
])
def test_each_scenario_warning_names_its_key(scenario, change, key: str) -> None:
    warnings = plausibility.scenario_warnings(change(scenario))
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{scenario.source}: {key}: ")


@pytest.mark.parametrize(("price", "warned"), [
    (5_700.0, True), (5_900.0, False), (1_260_000.0, False), (1_262_000.0, True),
])
def test_a_btc_price_is_far_only_beyond_ten_times_the_observed_range(
        scenario, price: float, warned: bool) -> None:
    # Observed USD 58,000 to 126,173: far is below 5,800 or above 1,261,730.
    assert bool(plausibility.scenario_warnings(_btc(scenario, price_usd=price))) == warned


def test_the_block_height_is_checked_against_the_nearest_dated_anchor(scenario) -> None:
    # 941,472 on 2026-03-21 plus 144 a day: 978,192 on 2026-12-01 (the default says 978,200).
    expected, anchor, _ = plausibility.expected_block_height(scenario.start_date)
    assert (expected, anchor) == (978_192, dt.date(2026, 3, 21))
    # The 2024 halving anchors a 2024 start: 840,000 + 144 x 30 on 2024-05-20.
    assert plausibility.expected_block_height(dt.date(2024, 5, 20))[0] == 844_320
    within = _network(scenario, block_height=round(expected * 1.0099))
    beyond = _network(scenario, block_height=round(expected * 1.0101))
    assert plausibility.scenario_warnings(within) == ()
    assert "+1.0% from the 978,192 expected" in plausibility.scenario_warnings(beyond)[0]


def test_the_readme_example_scenario_raises_no_warning() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(# scenario\.toml\n.*?)```", readme, re.S)
    assert block is not None
    example = parse_scenario(parse_toml_text(block.group(1), "README"), "README")
    assert plausibility.scenario_warnings(example) == ()


def test_a_power_price_above_half_a_dollar_warns_naming_the_key() -> None:
    plan = default_plans()[0]  # PUE 1.05: the typed price is what is checked
    assert plausibility.plan_warnings(plan.with_site(power_usd_per_kwh=0.5)) == []
    cents = plausibility.plan_warnings(plan.with_site(power_usd_per_kwh=6.0))
    assert len(cents) == 1 and cents[0].startswith(f"{plan.source}: site.power_usd_per_kwh: 6 ")
    hosted = plausibility.plan_warnings(plan.with_site(power_usd_per_kwh=0.3,
                                                       hosting_usd_per_kwh=0.3))
    assert "site.power_usd_per_kwh + site.hosting_usd_per_kwh: 0.6 USD/kWh" in hosted[0]


@pytest.mark.parametrize(("factor", "warned"), [(0.3, True), (0.34, False), (2.9, False),
                                                (3.1, True)])
def test_a_unit_price_far_from_the_catalogs_warns(factor: float, warned: bool) -> None:
    plan = SHOP_PRICED_S21_XP
    order = plan.orders[0]
    changed = plan.with_order(0, unit_price_usd=order.unit_price_usd * factor)
    warnings = plausibility.plan_warnings(changed)
    assert bool(warnings) == warned
    if warned:
        assert warnings[0].startswith(f"{plan.source}: orders[0].unit_price_usd: USD ")
        assert "USD 17.00/TH for Antminer S21 XP" in warnings[0]


def test_a_custom_unit_is_compared_with_its_efficiency_tiers_index_price() -> None:
    plan = SHOP_PRICED_S21_XP.with_order(0, model=None, hashrate_th=200.0, power_w=3500.0,
                                         unit_price_usd=None, usd_per_th=14.0)
    warnings = plausibility.plan_warnings(plan)
    assert len(warnings) == 1 and "orders[0].usd_per_th: USD 14.00/TH is 3.9x" in warnings[0]
    assert "price index of its 17.5 J/TH tier" in warnings[0]


def test_a_stale_catalog_price_used_as_the_price_warns() -> None:
    plan = SHOP_PRICED_S21_XP
    catalog_price = default_price("antminer-s21-xp", plan.orders[0].import_date)
    assert catalog_price is not None and plan.orders[0].unit_price_usd == catalog_price.price_usd
    stale_day = add_months(catalog_price.price_date, PRICE_MAX_AGE_MONTHS) + dt.timedelta(days=1)
    late = plan.with_order(0, import_date=stale_day, delivery_date=stale_day)
    warnings = plausibility.plan_warnings(late)
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{plan.source}: orders[0].unit_price_usd: the catalog's ")
    assert f"dated 2026-10, more than {PRICE_MAX_AGE_MONTHS} months old" in warnings[0]
    # The same day with a price of one's own (not the catalog's) is not a stale default.
    own = late.with_order(0, unit_price_usd=4_400.0)
    assert plausibility.plan_warnings(own) == []


def _write(tmp_path: Path, name: str, document: dict) -> str:
    import tomli_w

    path = tmp_path / name
    path.write_text(tomli_w.dumps(document))
    return str(path)


@pytest.fixture()
def implausible(tmp_path: Path, scenario) -> tuple[str, str]:
    """A plan with power typed in cents and a scenario with hashrate typed in PH/s, short. On
    the exogenous network: the responsive one refuses such a hashrate outright (next to none of
    its installed base would run at the hashprice it implies)."""
    plan = default_plans()[0].with_site(power_usd_per_kwh=6.0).with_order(0, quantity=10)
    bad = _network(scenario, model="exogenous",
                   hashrate_ehs=964_000.0).with_changes(horizon_days=120)
    return (_write(tmp_path, "plan.toml", plan_to_toml(plan)),
            _write(tmp_path, "scenario.toml", scenario_to_toml(bad)))


def test_compare_json_lists_the_warnings_on_every_plan_and_prints_them(
        implausible, capsys) -> None:
    plan, scenario = implausible
    assert main(["compare", plan, "--scenario", scenario, "--json"]) == 0
    out, err = capsys.readouterr()
    (record,) = json.loads(out)
    assert [w.split(": ")[1] for w in record["warnings"]] == [
        "network.hashrate_ehs", "site.power_usd_per_kwh"]
    assert err.splitlines() == [f"fleetcalc: warning: {w}" for w in record["warnings"]]


def test_every_plan_object_carries_the_scenarios_warnings(tmp_path: Path, scenario,
                                                          capsys) -> None:
    bad = _network(scenario, block_height=925_000).with_changes(horizon_days=60)
    path = _write(tmp_path, "scenario.toml", scenario_to_toml(bad))
    assert main(["compare", "--scenario", path, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 4
    assert all(len(r["warnings"]) == 1 and "network.block_height" in r["warnings"][0]
               for r in records)


def test_the_text_commands_print_warnings_on_stderr_and_succeed(implausible, tmp_path: Path,
                                                                 capsys) -> None:
    plan, scenario = implausible
    commands = [
        ["compare", plan, "--scenario", scenario],
        ["tariffs", "--origin", "MY", "--on", "2026-12-15", "--scenario", scenario],
        ["batch", plan, "--scenario", scenario, "--no-breakevens", "--quiet",
         "--out", str(tmp_path / "out.parquet")],
    ]
    for command in commands:
        assert main(command) == 0, command
        err = capsys.readouterr().err
        assert "fleetcalc: warning: " in err and "network.hashrate_ehs" in err, command
        if command[0] != "tariffs":  # tariffs reads no plan
            assert "site.power_usd_per_kwh" in err, command


def test_optimize_prints_the_scenarios_warnings(implausible, capsys) -> None:
    _, scenario = implausible
    assert main(["optimize", "--scenario", scenario, "--json"]) == 0
    out, err = capsys.readouterr()
    assert "fleetcalc: warning: " in err and "network.hashrate_ehs" in err
    assert any("network.hashrate_ehs" in w for w in json.loads(out)["warnings"])


@pytest.mark.parametrize("command", ["rank", "sensitivity"])
def test_rank_and_sensitivity_print_the_warnings_too(command: str, implausible, capsys) -> None:
    # Issue 11: warnings "printed on stderr by every command"; these two printed none.
    plan, scenario = implausible
    argv = (["rank", "--scenario", scenario, "--power", "6", "--json"] if command == "rank"
            else ["sensitivity", plan, "--scenario", scenario, "--json"])
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "fleetcalc: warning: " in err and "network.hashrate_ehs" in err
    assert ("--power: 6 USD/kWh" if command == "rank" else "site.power_usd_per_kwh") in err
