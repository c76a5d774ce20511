"""The library API under bad in-memory input (issue 12, finding 14): changes made in Python are
checked as a file is, and ``evaluate`` takes one path or says clearly what it wanted.

Before, ``with_site(uptime=2.0)`` doubled the BTC mined, ``quantity=-5`` was reported, NaN power
gave a NaN NPV, ``failures="random"`` ran as expected failures, ``paths=0`` gave NaN with
RuntimeWarnings, ``horizon_days=-5`` an IndexError, ``paths=10**6`` the OOM killer,
``evaluate("plan.toml")`` iterated over the characters of the path and a dict as the scenario
gave "unhashable type".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import pytest

from fleetcalc.engine import evaluate
from fleetcalc.errors import InputError
from fleetcalc.plan import Plan, default_plans, load_plan
from fleetcalc.scenario import MAX_PATH_DAYS, Scenario, load_scenario, scenario_to_toml

PLAN_FILE = "tests/data/inputs/plans/valid.toml"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return default_plans()[0]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(None).with_changes(horizon_days=400)


PLAN_CHANGES: list[tuple[str, Callable[[Plan], Plan], str]] = [
    ("uptime_2", lambda p: p.with_site(uptime=2.0), "site.uptime: got 2.0"),
    ("nan_power_price", lambda p: p.with_site(power_usd_per_kwh=math.nan),
     "site.power_usd_per_kwh: got nan"),
    ("capacity_string", lambda p: p.with_site(capacity_mw="10"), "site.capacity_mw: got '10'"),
    ("quantity_negative", lambda p: p.with_order(0, quantity=-5), "orders[0].quantity: got -5"),
    ("quantity_float", lambda p: p.with_order(0, quantity=2.5), "orders[0].quantity: got 2.5"),
    ("origin_not_built", lambda p: p.with_order(0, origin="CN"), "orders[0].origin: got 'CN'"),
    ("delivery_before_import", lambda p: p.with_order(
        0, delivery_date=p.orders[0].import_date.replace(year=2020)),
     "orders[0].delivery_date"),
    ("over_capacity", lambda p: p.with_order(0, quantity=10_000_000), "site.capacity_mw"),
    ("discount_rate", lambda p: p.with_changes(
        finance=dataclasses.replace(p.finance, discount_rate=-1.0)), "finance.discount_rate"),
    ("name_too_long", lambda p: p.with_changes(name="x" * 201), "name: got 'xxxx"),
    ("no_orders", lambda p: p.with_changes(orders=()), "orders: got '(none)'"),
]


@pytest.mark.parametrize("change,where", [(c, w) for _, c, w in PLAN_CHANGES],
                         ids=[i for i, _, _ in PLAN_CHANGES])
def test_plan_changes_are_checked_like_a_file(plan: Plan, change, where: str) -> None:
    with pytest.raises(InputError) as raised:
        change(plan)
    assert where in str(raised.value)
    assert str(raised.value).startswith(plan.source)


def test_a_custom_unit_with_nan_power_is_an_input_error(plan: Plan) -> None:
    with pytest.raises(InputError, match=r"orders\[0\]\.power_w: got nan"):
        plan.with_order(0, model=None, hashrate_th=200.0, power_w=math.nan)


SCENARIO_CHANGES: list[tuple[dict[str, Any], str]] = [
    ({"failures": "random"}, "failures: got 'random'"),
    ({"paths": 0}, "paths: got 0"),
    ({"horizon_days": -5}, "horizon_days: got -5"),
    ({"paths": 10**6}, "paths: got 1000000"),
    ({"paths": 60_000}, f"at most {MAX_PATH_DAYS:,} path-days"),
    ({"seed": -1}, "seed: got -1"),
    ({"name": ""}, "name: got ''"),
    ({"assumptions": ("fine", "")}, "assumptions[1]: got ''"),
    ({"tariff_origin_as": (("MY", "Malaysia"),)}, "tariff_origin_as.MY: got 'Malaysia'"),
]


@pytest.mark.parametrize("changes,where", SCENARIO_CHANGES,
                         ids=[next(iter(c)) + str(i) for i, (c, _) in enumerate(SCENARIO_CHANGES)])
def test_scenario_changes_are_checked_like_a_file(
    scenario: Scenario, changes: dict[str, Any], where: str,
) -> None:
    with pytest.raises(InputError) as raised:
        scenario.with_changes(**changes)
    assert where in str(raised.value)


def test_nested_scenario_parts_are_checked(scenario: Scenario) -> None:
    btc = dataclasses.replace(scenario.btc, price_usd=math.inf)
    with pytest.raises(InputError, match=r"btc\.price_usd: got inf"):
        scenario.with_changes(btc=btc)
    network = dataclasses.replace(scenario.network, pool_fee=1.5)
    with pytest.raises(InputError, match=r"network\.pool_fee: got 1\.5"):
        scenario.with_changes(network=network)
    with pytest.raises(TypeError, match=r"Scenario\.btc must be a fleetcalc BtcMarket, not dict"):
        scenario.with_changes(btc={"price_usd": 1.0})


def test_valid_changes_still_work(plan: Plan, scenario: Scenario) -> None:
    assert plan.with_site(uptime=0.9).site.uptime == 0.9
    assert plan.with_order(0, quantity=7).orders[0].quantity == 7
    assert scenario.with_changes(paths=3).paths == 3


def test_evaluate_checks_objects_built_around_the_checks(plan: Plan, scenario: Scenario) -> None:
    # dataclasses.replace skips with_site's check: evaluate makes it.
    bad_plan = dataclasses.replace(plan, sites=(dataclasses.replace(plan.site, uptime=2.0),))
    with pytest.raises(InputError, match=r"site\.uptime: got 2\.0"):
        evaluate([bad_plan], scenario)
    bad_scenario = dataclasses.replace(scenario, paths=0)
    with pytest.raises(InputError, match="paths: got 0"):
        evaluate([plan], bad_scenario)


def test_evaluate_takes_one_path_or_one_plan(scenario: Scenario) -> None:
    one = evaluate(PLAN_FILE, scenario, breakevens=False)
    listed = evaluate([PLAN_FILE], scenario, breakevens=False)
    assert one.summary.equals(listed.summary)
    assert evaluate(load_plan(PLAN_FILE), scenario, breakevens=False).summary.equals(
        listed.summary)


@pytest.mark.parametrize("plans,scenario_arg,message", [
    ([{"name": "x"}], None, "plans[0] must be a fleetcalc Plan or a path to a plan TOML file, "
                            "not dict"),
    (42, None, "plans must be a list of fleetcalc Plan objects or TOML paths"),
    (None, {"start_date": "2026-12-01"}, "scenario must be a fleetcalc Scenario, a path to a "
                                         "scenario TOML file or None, not dict"),
])
def test_wrong_types_are_a_clear_type_error(plans, scenario_arg, message: str) -> None:
    with pytest.raises(TypeError) as raised:
        evaluate(plans, scenario_arg)
    assert message in str(raised.value)


def test_a_scenario_round_trips_and_validates(scenario: Scenario) -> None:
    from fleetcalc.scenario import parse_scenario

    assert parse_scenario(scenario_to_toml(scenario), scenario.source) == scenario.validate()


def test_several_sites_are_checked_like_a_file(plan: Plan) -> None:
    site = plan.site
    two = plan.with_changes(
        sites=(dataclasses.replace(site, name="north"), dataclasses.replace(site, name="south")),
        orders=(dataclasses.replace(plan.orders[0], site="north"),
                dataclasses.replace(plan.orders[0], site="south")))
    assert [s.name for s in two.sites] == ["north", "south"]
    with pytest.raises(InputError, match=r"sites\[1\]\.name: got 'north'"):
        two.with_changes(sites=(two.sites[0], dataclasses.replace(site, name="north")))
    with pytest.raises(InputError, match=r"sites\[1\]\.name: got 'south\[/\]'"):
        two.with_changes(sites=(two.sites[0], dataclasses.replace(site, name="south[/]")))
    with pytest.raises(InputError, match=r"orders\[1\]\.site: got 'west'"):
        two.with_order(1, site="west")
    with pytest.raises(InputError, match=r"sites\[0\]\.uptime: got 2\.0"):
        two.with_site(uptime=2.0)
