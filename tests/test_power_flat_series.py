"""Issue 15's first property at the level of a plan: a site buying at a flat hourly series
equal to a constant price gives the constant-price plan's results (``tests/test_hourly.py``
checks it on the kernel's arrays; this goes through the price file, the site-hours step and
the engine). It holds with one operating mode and no 4CP hours: more modes, or hours forced
off, change what the fleet does, which is their point."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fleetcalc
from fleetcalc.plan import parse_plan
from fleetcalc.scenario import load_scenario

COMPARED = ("btc_mined", "revenue_usd", "energy_cost_usd", "repair_cost_usd", "npv_usd",
            "capex_usd", "cost_to_mine_cash_usd_per_btc")


def _flat_series(folder: Path, start: dt.date, days: int, usd_per_mwh: float) -> str:
    lines = ["timestamp,usd_per_mwh"]
    for day in range(days):
        date = start + dt.timedelta(days=day)
        lines += [f"{date}T{hour:02d}:00:00-06:00,{usd_per_mwh!r}" for hour in range(24)]
    (folder / "flat.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "flat.csv"


@settings(max_examples=15)
@given(st.sampled_from([0.0, 0.02, 0.05, 0.11, 0.3]), st.sampled_from(["expected", "sampled"]),
       st.booleans(), st.integers(0, 20))
def test_a_flat_series_plan_gives_the_constant_price_plans_results(
        tmp_path_factory: pytest.TempPathFactory, usd_per_kwh: float, failures: str,
        curtail: bool, delivery_offset: int) -> None:
    folder = tmp_path_factory.mktemp("flat")
    scenario = load_scenario(None).with_changes(horizon_days=40, failures=failures, paths=2)
    start = scenario.start_date
    delivery = start + dt.timedelta(days=delivery_offset)
    order = {"model": "antminer-s21-xp", "quantity": 50, "unit_price_usd": 4000.0,
             "origin": "US", "import_date": delivery, "delivery_date": delivery}
    site = {"capacity_mw": 5.0, "curtail_when_unprofitable": curtail}
    constant = parse_plan({"name": "constant", "orders": [order],
                           "site": {**site, "power_usd_per_kwh": usd_per_kwh}},
                          str(folder / "constant.toml"))
    series = _flat_series(folder, start, scenario.horizon_days, usd_per_kwh * 1000.0)
    hourly = parse_plan({"name": "hourly", "orders": [order],
                         "site": {**site, "power_price_series": series}},
                        str(folder / "hourly.toml"))
    assert hourly.site.contract == "market"
    rows = fleetcalc.evaluate([constant, hourly], scenario, breakevens=False).records()
    for key in COMPARED:
        a, b = rows[0][key], rows[1][key]
        if a is None or b is None:
            assert a is b is None, key
        else:
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6), (key, a, b)
    assert rows[1]["hourly_power"] and not rows[0]["hourly_power"]
