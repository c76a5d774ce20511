"""``evaluate(..., cache=PlanCache())``: rows of unchanged plans are reused, and the results are
the bits a fresh evaluation gives (the app keeps a cache; every number it shows must be
``evaluate()``'s for the inputs shown)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fleetcalc.engine
from fleetcalc.engine import PlanCache, Results, Stages, evaluate, plan_key
from fleetcalc.plan import Plan, default_plans, parse_plan
from fleetcalc.scenario import Scenario, load_scenario
from tests.pins.cases import frame_digests

RESULT_FRAMES = tuple(f.name for f in dataclasses.fields(Results) if f.name != "scenario")


def _scenario(paths: int = 3) -> Scenario:
    return load_scenario(None).with_changes(horizon_days=400, paths=paths)


def _digests(results: Results) -> dict[str, dict[str, str]]:
    return {name: frame_digests(getattr(results, name)) for name in RESULT_FRAMES}


class Counting:
    """Counts the plans ``evaluate`` computes (instead of taking from the cache)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.plans: list[str] = []
        real = fleetcalc.engine._evaluate_plan

        def counted(plan: Plan, *args: Any) -> Any:
            self.plans.append(plan.name)
            return real(plan, *args)

        monkeypatch.setattr(fleetcalc.engine, "_evaluate_plan", counted)


def _with_quantity(plans: list[Plan], index: int, quantity: int) -> list[Plan]:
    edited = list(plans)
    edited[index] = plans[index].with_order(0, quantity=quantity)
    return edited


@settings(max_examples=6, deadline=None)
@given(index=st.integers(0, 3), fewer=st.integers(1, 500), breakevens=st.booleans(),
       percentiles=st.booleans(), paths=st.sampled_from([1, 3]))
def test_after_one_plan_changed_only_it_is_computed_and_the_results_are_the_fresh_bits(
    index: int, fewer: int, breakevens: bool, percentiles: bool, paths: int,
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        scenario = _scenario(paths)
        plans = default_plans()
        cache = PlanCache()
        stages = {"breakevens": breakevens, "percentiles": percentiles}
        evaluate(plans, scenario, cache=cache, **stages)
        # Fewer units: the default plans fill their 25 MW site.
        edited = _with_quantity(plans, index, plans[index].orders[0].quantity - fewer)
        counting = Counting(monkeypatch)
        cached = evaluate(edited, scenario, cache=cache, **stages)
        assert counting.plans == [edited[index].name]
        fresh = evaluate(edited, scenario, **stages)
        assert _digests(cached) == _digests(fresh)


def test_a_scenario_edit_or_other_stages_compute_every_plan_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = _scenario()
    plans = default_plans()
    cache = PlanCache()
    evaluate(plans, scenario, breakevens=False, percentiles=False, cache=cache)
    counting = Counting(monkeypatch)
    evaluate(plans, scenario, breakevens=False, percentiles=False, cache=cache)
    assert counting.plans == []
    evaluate(plans, scenario, breakevens=False, percentiles=True, cache=cache)
    assert len(counting.plans) == 4
    moved = scenario.with_changes(btc=dataclasses.replace(scenario.btc, price_usd=123_456.0))
    cached = evaluate(plans, moved, breakevens=False, percentiles=False, cache=cache)
    assert len(counting.plans) == 8
    fresh = evaluate(plans, moved, breakevens=False, percentiles=False)
    assert _digests(cached) == _digests(fresh)


def _market_edits(scenario: Scenario) -> list[Scenario]:
    return [
        scenario.with_changes(btc=dataclasses.replace(scenario.btc, price_usd=123_456.0)),
        scenario.with_changes(network=dataclasses.replace(scenario.network,
                                                          fees_btc_per_block=0.5)),
        scenario.with_changes(paths=2, seed=7, name="edited"),
    ]


def _pricing_edits(scenario: Scenario) -> list[Scenario]:
    return [
        scenario.with_changes(failures="sampled"),
        scenario.with_changes(horizon_days=scenario.horizon_days + 30),
        scenario.with_changes(tariff_origin_as=(("US", "CN"),)),
    ]


@pytest.mark.parametrize("market", [True, False])
def test_a_scenario_edit_prices_the_sites_again_only_if_it_changes_their_inputs(
    monkeypatch: pytest.MonkeyPatch, market: bool,
) -> None:
    scenario = _scenario()
    plans = default_plans()
    cache = PlanCache()
    evaluate(plans, scenario, breakevens=False, percentiles=False, cache=cache)
    priced: list[str] = []
    real = fleetcalc.engine._price_site

    def counted(site_plan: Plan, *args: Any) -> Any:
        priced.append(site_plan.name)
        return real(site_plan, *args)

    monkeypatch.setattr(fleetcalc.engine, "_price_site", counted)
    for edited in (_market_edits if market else _pricing_edits)(scenario):
        priced.clear()
        cached = evaluate(plans, edited, breakevens=False, percentiles=False, cache=cache)
        assert len(priced) == (0 if market else len(plans))
        fresh = evaluate(plans, edited, breakevens=False, percentiles=False)
        assert _digests(cached) == _digests(fresh)


def _series(folder: Path, start: dt.date, usd_per_mwh: float) -> str:
    lines = ["timestamp,usd_per_mwh"]
    for day in range(3):
        date = start + dt.timedelta(days=day)
        lines += [f"{date}T{hour:02d}:00:00-06:00,{usd_per_mwh!r}" for hour in range(24)]
    (folder / "prices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "prices.csv"


def test_a_plan_on_an_hourly_series_is_keyed_by_the_prices_it_runs_on(tmp_path: Path) -> None:
    scenario = _scenario()
    order = {"model": "antminer-s21-xp", "quantity": 5, "unit_price_usd": 4000.0,
             "origin": "US", "import_date": scenario.start_date,
             "delivery_date": scenario.start_date}

    def plan() -> Plan:
        return parse_plan({"name": "hourly", "orders": [order],
                           "site": {"capacity_mw": 1.0, "power_price_series": series}},
                          str(tmp_path / "hourly.toml"))

    stages = Stages(breakevens=False, percentiles=False, cancelled=lambda: False)
    series = _series(tmp_path, scenario.start_date, 40.0)
    before = plan()
    _series(tmp_path, scenario.start_date, 90.0)  # the file changes; the plan's keys do not
    after = plan()
    assert before == after
    assert plan_key(before, scenario, stages) != plan_key(after, scenario, stages)
    # A site made in memory (its series not loaded) is keyed by the file's prices.
    unloaded = dataclasses.replace(after, sites=(dataclasses.replace(after.site, prices=None),))
    assert plan_key(unloaded, scenario, stages) == plan_key(after, scenario, stages)


def test_the_cache_keeps_the_most_recently_used_entries() -> None:
    cache = PlanCache(max_entries=2)
    frames: Any = [object() for _ in range(3)]
    cache.put("a", frames[0])
    cache.put("b", frames[1])
    assert cache.get("a") is frames[0]  # "a" is now the most recent
    cache.put("c", frames[2])
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is frames[0] and cache.get("c") is frames[2]
