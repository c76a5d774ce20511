"""Power markets at the level of a plan's NPV: allowing one more operating mode never lowers
NPV, nor does selling curtailed contracted energy back, under the conditions the README states
(see "Power markets and operating modes"); and a case outside them where an extra mode does
lower NPV, so the conditions are not decoration.

Each mode decision is taken hour by hour on the hour's margin (revenue less the energy the
hour's decision price charges); NPV discounts those margins with positive factors. What the
decision does not see can reverse a comparison: repairs that follow running hours, a failure
clock in running hours (sampled failures), BTC kept and valued at another day's price
(``hodl_fraction``), and a transmission charge on a unit's most power-hungry mode.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import fleetcalc
from fleetcalc.network import market_paths
from fleetcalc.plan import parse_plan
from fleetcalc.scenario import Scenario, load_scenario

MODEL = "antminer-s21-xp"  # stock, eco and turbo (eco/turbo are labelled assumptions)
MODES = ("stock", "eco", "turbo")
OFFSET = "-06:00"  # Texas standard time
# NPVs of a few million USD agree to a millionth of a dollar per dollar of capex between the
# daily and hourly paths; a larger gap is a real loss.
RELATIVE_TOLERANCE = 1e-9


def _scenario(days: int, failures: str) -> Scenario:
    base = load_scenario(None)
    return base.with_changes(horizon_days=days, failures=failures, paths=1)


def _series_csv(start: dt.date, usd_per_mwh: list[float]) -> str:
    lines = ["timestamp,usd_per_mwh"]
    for i, price in enumerate(usd_per_mwh):
        stamp = dt.datetime.combine(start + dt.timedelta(days=i // 24), dt.time(i % 24))
        lines.append(f"{stamp.isoformat()}{OFFSET},{price!r}")
    return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class PowerCase:
    """A one-order plan at a site that buys at (or sells back to) an hourly market."""

    days: int
    usd_per_mwh: list[float]
    contract: str  # "market" or "fixed"
    contract_usd_per_kwh: float
    sell_back: bool
    four_cp: bool
    transmission_usd_per_kw_year: float
    modes: tuple[str, ...]
    quantity: int
    delivery_offset_days: int
    failures: str  # "expected" or "sampled"
    annual_failure_rate: float
    repair_cost_usd: float
    curtail: bool

    def doc(self, start: dt.date, **changes: Any) -> dict[str, Any]:
        case = dataclasses.replace(self, **changes)
        site: dict[str, Any] = {
            "power_price_series": "prices.csv", "power_contract": case.contract,
            "capacity_mw": 1000.0, "uptime": 0.97,
            "curtail_when_unprofitable": case.curtail, "sell_back": case.sell_back,
            "four_cp": case.four_cp,
            "transmission_usd_per_kw_year": case.transmission_usd_per_kw_year,
        }
        if case.contract == "fixed":
            site["power_usd_per_kwh"] = case.contract_usd_per_kwh
        delivery = start + dt.timedelta(days=case.delivery_offset_days)
        order = {
            "model": MODEL, "quantity": case.quantity, "unit_price_usd": 4000.0, "origin": "US",
            "import_date": delivery, "delivery_date": delivery, "mode": "stock",
            "modes": list(case.modes), "annual_failure_rate": case.annual_failure_rate,
            "repair_cost_usd": case.repair_cost_usd,
        }
        return {"name": "power case", "site": site, "orders": [order],
                "finance": {"discount_rate": 0.15, "hodl_fraction": 0.0}}

    def npv_usd(self, **changes: Any) -> tuple[float, float]:
        """NPV and capex of the plan with ``changes`` (one path)."""
        scenario = _scenario(self.days, self.failures)
        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "prices.csv").write_text(
                _series_csv(scenario.start_date, self.usd_per_mwh))
            plan = parse_plan(self.doc(scenario.start_date, **changes),
                              str(Path(folder, "plan.toml")))
            row = fleetcalc.evaluate([plan], scenario, breakevens=False).summary.row(
                0, named=True)
        return row["npv_usd"], row["capex_usd"]


@st.composite
def power_cases(draw: st.DrawFn, *, sell_back_site: bool) -> PowerCase:
    """Plans inside the conditions: no wear per running hour (no failures, or expected
    failures with free repairs; any failures for sell-back, whose fleet runs fewer hours),
    no BTC kept, transmission only where it cannot grow with a mode (see the tests)."""
    days = draw(st.integers(2, 12))
    # USD/MWh around the S21 XP's break-even (~100-150 at the default scenario's hashprice),
    # negative hours and scarcity spikes included.
    usd_per_mwh = draw(st.lists(st.one_of(st.floats(-60.0, 400.0), st.sampled_from([0.0, 2500.0])),
                                min_size=24 * days, max_size=24 * days))
    contract = "fixed" if sell_back_site else draw(st.sampled_from(["market", "fixed"]))
    sell_back = sell_back_site or (contract == "fixed" and draw(st.booleans()))
    failures = draw(st.sampled_from(["expected", "sampled"]))
    afr = draw(st.sampled_from([0.0, 0.05, 2.0]))
    repair = draw(st.sampled_from([0.0, 300.0]))
    if not sell_back_site:
        # One more mode can add running hours: they must not cost wear.
        if failures == "sampled":
            afr = 0.0
        else:
            repair = 0.0
    elif failures == "sampled":
        afr = 0.0  # running hours move the sampled failures, in either direction
    return PowerCase(
        days=days, usd_per_mwh=usd_per_mwh, contract=contract,
        contract_usd_per_kwh=draw(st.sampled_from([0.0, 0.03, 0.08, 0.2])),
        sell_back=sell_back, four_cp=draw(st.booleans()),
        transmission_usd_per_kw_year=draw(st.sampled_from([0.0, 60.0])) if sell_back_site
        else 0.0,
        modes=tuple(draw(st.sampled_from([("stock",), ("stock", "eco"), ("stock", "turbo"),
                                          ("stock", "eco", "turbo")]))),
        quantity=draw(st.integers(1, 40)), delivery_offset_days=draw(st.integers(0, days - 1)),
        failures=failures, annual_failure_rate=afr, repair_cost_usd=repair,
        curtail=draw(st.booleans()),
    )


def _assert_not_lower(more: tuple[float, float], fewer: tuple[float, float]) -> None:
    (npv_more, capex), (npv_fewer, _) = more, fewer
    assert npv_more >= npv_fewer - RELATIVE_TOLERANCE * max(capex, 1.0), (npv_more, npv_fewer)


@given(power_cases(sell_back_site=False), st.sampled_from(MODES))
def test_allowing_one_more_mode_never_lowers_npv(case: PowerCase, extra: str) -> None:
    # Holds with no transmission charge (a unit's full load is its most power-hungry mode, so
    # turbo raises the charge of a year without a previous summer) and sell-back on or off.
    more = tuple(dict.fromkeys((*case.modes, extra)))
    _assert_not_lower(case.npv_usd(modes=more), case.npv_usd())


@given(power_cases(sell_back_site=True))
def test_selling_curtailed_energy_back_never_lowers_npv(case: PowerCase) -> None:
    _assert_not_lower(case.npv_usd(), case.npv_usd(sell_back=False))


def test_an_extra_mode_can_lower_npv_when_running_hours_cost_repairs() -> None:
    # Outside the conditions: eco runs in hours where stock is off (its margin is thinner
    # but positive), and each running hour brings expected repairs the hour's decision does
    # not see. At a constant price between eco's and stock's break-evens, and repairs far
    # above eco's margin, allowing eco costs money.
    scenario = _scenario(30, "expected")
    usd_per_th_day = market_paths(scenario).hashprice_usd_per_ph_day[0, 0] / 1000.0 * (
        1.0 - scenario.network.pool_fee)
    stock_usd_per_kwh = usd_per_th_day * 270.0 / (3.645 * 24.0)
    eco_usd_per_kwh = usd_per_th_day * 229.5 / (2.734 * 24.0)
    price = (stock_usd_per_kwh + eco_usd_per_kwh) / 2.0

    def npv(modes: list[str]) -> float:
        doc = PowerCase(
            days=30, usd_per_mwh=[], contract="fixed", contract_usd_per_kwh=price,
            sell_back=False, four_cp=False, transmission_usd_per_kw_year=0.0, modes=(),
            quantity=10, delivery_offset_days=0, failures="expected",
            annual_failure_rate=3.0, repair_cost_usd=2000.0, curtail=True,
        ).doc(scenario.start_date, modes=tuple(modes))
        del doc["site"]["power_price_series"]
        plan = parse_plan(doc, "memory.toml")
        return fleetcalc.evaluate([plan], scenario, breakevens=False).summary["npv_usd"][0]

    assert npv(["stock", "eco"]) < npv(["stock"]) - 1.0
    assert np.isfinite(npv(["stock"]))
