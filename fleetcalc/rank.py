"""Every catalog machine on one table: what one unit earns today, when it stops paying for its
power, and what it is worth over the scenario's horizon (``fleetcalc rank``).

For each catalog model and each of its operating modes, bought from one origin on one date
(``on``, the scenario's start unless given) and run at one power price:

- landed USD/TH: the unit's landed cost (price, US duty in force for the origin on ``on``,
  freight, install) over its hashrate, priced by the engine's landed-cost step;
- the day ``on`` of the scenario's market: hashprice (gross, USD/PH/day), and per unit at full
  uptime revenue ``hashrate x btc_per_th_day x (1 - pool_fee) x price``, energy
  ``power_w / 1000 x 24 x power price`` and their difference, the profit;
- shutdown prices: the power price and the BTC price at which the day's revenue equals its
  energy cost (``fleetcalc.finance.shutdown_energy_usd_per_kwh`` and
  ``shutdown_btc_price_usd``, the closed forms the summary's shutdown prices use, at the day's
  difficulty, fees and pool fee);
- simple payback: landed cost over the day's profit (none when the unit loses money);
- NPV per unit: the unit as a one-unit plan delivered on ``on`` at a site of that power price
  (default uptime and curtailment) with default finance terms, through the engine over the
  scenario's whole horizon. All units are evaluated in one ``evaluate`` call.

A unit's price is the catalog's dated default price, or the price index of its efficiency tier
when the catalog has none (the ``price_basis`` column says which); a mode other than ``stock``
is priced at the model's USD/TH times the mode's hashrate (a bin sells by its TH/s). Without an
``origin`` each model comes from the plant whose duty on ``on`` is lowest (catalog order breaks
ties); with one, only the models built there are ranked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from fleetcalc import finance
from fleetcalc.catalog import STOCK_MODE, ModelSpec, default_price, get_model, index_price
from fleetcalc.customs_fees import import_discount
from fleetcalc.errors import InputError
from fleetcalc.metrics import Metric
from fleetcalc.plan import Finance, Order, Plan, Site
from fleetcalc.scenario import Scenario

# The default plans' all-in cost of a kWh of IT load (fleetcalc/data/plans: power USD 0.04 x
# PUE 1.05 plus ~0.0105 of fixed opex per kWh, to the half cent): what a ranking runs at unless
# told.
DEFAULT_POWER_USD_PER_KWH = 0.05
HOURS_PER_DAY = 24.0
SOURCE = "fleetcalc rank"


# Each number of the ranking as a catalogue ``Metric`` (its JSON key, meaning, unit, table label,
# format, and which way is better: what ``--sort`` puts first), so its format code and direction
# are checked like the summary's. They are per unit and per day, not summary columns: they are
# listed here, not in ``metrics.METRICS``.
_ONE_UNIT = "of one unit at full uptime"
_SHUTDOWN = "at which the day's revenue equals its energy cost"
RANK_COLUMNS: tuple[Metric, ...] = (
    Metric("hashrate_th", "hashrate of the unit in this mode", unit="TH/s", label="TH/s",
           fmt="th", better="high"),
    Metric("power_w", "power draw of the unit in this mode", unit="W", label="W", fmt="w",
           better="low"),
    Metric("efficiency_j_per_th", "power over hashrate", unit="J/TH", label="J/TH",
           fmt="j_per_th", better="low"),
    Metric("landed_usd_per_th", "landed cost (price, duty, freight, install) per TH/s",
           unit="USD/TH", label="Landed USD/TH", fmt="usd_cents", better="low"),
    Metric("hashprice_usd_per_ph_day", "the day's gross hashprice (before the pool fee)",
           unit="USD/PH/day", label="Hashprice USD/PH/d", fmt="usd_cents"),
    Metric("revenue_usd_per_day", f"the day's revenue {_ONE_UNIT}, net of the pool fee",
           unit="USD/day", label="Revenue USD/d", fmt="usd_cents", better="high"),
    Metric("energy_usd_per_day", f"the day's energy cost {_ONE_UNIT}", unit="USD/day",
           label="Energy USD/d", fmt="usd_cents", better="low"),
    Metric("profit_usd_per_day", "revenue less energy cost", unit="USD/day",
           label="Profit USD/d", fmt="usd_cents", better="high"),
    Metric("shutdown_power_usd_per_kwh", f"power price {_SHUTDOWN}", unit="USD/kWh",
           label="Shutdown USD/kWh", fmt="usd_per_kwh", better="high"),
    Metric("shutdown_btc_price_usd", f"BTC price {_SHUTDOWN}", unit="USD",
           label="Shutdown BTC USD", fmt="usd", better="low"),
    Metric("payback_days_simple",
           "landed cost over the day's profit (null: the unit loses money)", unit="days",
           label="Payback days", fmt="days", better="low"),
    Metric("npv_per_unit_usd",
           "NPV of one unit delivered on the date, over the scenario's horizon", unit="USD",
           label="NPV/unit USD", fmt="usd", better="high"),
)
RANK_SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String(), "mode": pl.String(), "maker": pl.String(), "model": pl.String(),
    "origin": pl.String(), "unit_price_usd": pl.Float64(), "price_basis": pl.String(),
    "landed_cost_usd_per_unit": pl.Float64(),
    **{column.name: pl.Float64() for column in RANK_COLUMNS},
}
SORT_KEYS = tuple(column.name for column in RANK_COLUMNS)


@dataclass(frozen=True)
class Ranking:
    table: pl.DataFrame  # RANK_SCHEMA, one row per model and mode, sorted
    on: dt.date
    power_usd_per_kwh: float
    origin: str | None
    scenario: Scenario
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Unit:
    spec: ModelSpec
    mode: str
    origin: str
    price_usd: float | None
    price_basis: str | None

    @property
    def name(self) -> str:
        return f"{self.spec.model_id} {self.mode}"


def _duty_rate(schedule: pl.DataFrame, scenario: Scenario, origin: str, on: dt.date) -> float:
    from fleetcalc.tariffs import stack_on

    return float(stack_on(schedule, scenario.tariff_origin(origin), on)["rate"].sum())


def _units(scenario: Scenario, on: dt.date, origin: str | None) -> list[_Unit]:
    """Every model and mode to rank, with the origin and price it is ranked at."""
    from fleetcalc.catalog import model_ids
    from fleetcalc.tariffs import apply_overrides, load_schedule

    schedule = apply_overrides(load_schedule(), scenario.tariff_overrides)
    units = []
    for model_id in model_ids():
        spec = get_model(model_id)
        if origin is not None and origin not in spec.origins:
            continue
        plant = origin or min(spec.origins,
                              key=lambda o: _duty_rate(schedule, scenario, o, on))
        price = default_price(model_id, on) or index_price(model_id, on)
        for mode, (hashrate_th, _) in spec.modes.items():
            usd = None if price is None else (
                price.price_usd if mode == STOCK_MODE else price.price_usd_per_th * hashrate_th)
            units.append(_Unit(spec, mode, plant, usd, None if price is None else price.basis))
    return units


def _one_unit_plan(unit: _Unit, power_usd_per_kwh: float, on: dt.date) -> Plan:
    power_w = unit.spec.modes[unit.mode][1]
    order = Order(model=unit.spec.model_id, mode=unit.mode, quantity=1,
                  unit_price_usd=unit.price_usd, origin=unit.origin, import_date=on,
                  delivery_date=on)
    site = Site(power_usd_per_kwh=power_usd_per_kwh, capacity_mw=power_w / 1e6)
    return Plan(name=unit.name, sites=(site,), orders=(order,), source=SOURCE)


def _sorted(table: pl.DataFrame, key: str) -> pl.DataFrame:
    better = next(column.better for column in RANK_COLUMNS if column.name == key)
    return table.sort(key, descending=better == "high", nulls_last=True, maintain_order=True)


def rank(
    scenario: Scenario, power_usd_per_kwh: float = DEFAULT_POWER_USD_PER_KWH,
    on: dt.date | None = None, origin: str | None = None, sort: str = "profit_usd_per_day",
) -> Ranking:
    """Rank every catalog model and mode (see the module docstring); InputError on a date
    outside the scenario's horizon or an origin no model is built in."""
    from fleetcalc.engine import evaluate

    on = scenario.start_date if on is None else on
    if not scenario.start_date <= on < scenario.end_date:
        raise InputError("command line", "--on", on.isoformat(),
                         f"a date inside the scenario horizon: from {scenario.start_date} to "
                         f"{scenario.end_date - dt.timedelta(days=1)}")
    if sort not in SORT_KEYS:
        raise InputError("command line", "--sort", sort, "one of " + ", ".join(SORT_KEYS))
    units = _units(scenario, on, origin)
    if not units:
        raise InputError("command line", "--origin", origin,
                         "an origin some catalog model is built in (see `fleetcalc catalog`)")
    priced = [unit for unit in units if unit.price_usd is not None]
    landed: dict[str, float] = {}
    npv: dict[str, float] = {}
    if priced:
        results = evaluate([_one_unit_plan(u, power_usd_per_kwh, on) for u in priced],
                           scenario, breakevens=False)
        # Per unit of a large order: a one-unit order pays the merchandise processing fee's
        # minimum, a fee per customs entry, not per unit (fleetcalc.customs_fees).
        orders = results.orders
        fee_usd = orders["mpf_usd"].to_numpy()
        fee_at_start_usd = fee_usd * import_discount(orders, scenario.start_date,
                                                     Finance().discount_rate)
        landed = dict(zip(orders["plan"], orders["landed_cost_usd_per_unit"].to_numpy() - fee_usd,
                          strict=True))
        summary = results.summary  # one order per plan: its rows in the orders' order
        assert summary["plan"].to_list() == orders["plan"].to_list()
        npv = dict(zip(summary["plan"], summary["npv_usd"].to_numpy() + fee_at_start_usd,
                       strict=True))
        market = results.market
    else:  # evaluate([]) would mean the default plans
        from fleetcalc.frames import market_frame
        from fleetcalc.network import market_paths

        market = market_frame(scenario, market_paths(scenario))
    day = market.row(scenario.day_of(on), named=True)
    rows = []
    for unit in units:
        hashrate_th, power_w = unit.spec.modes[unit.mode]
        rows.append({
            "model_id": unit.spec.model_id, "mode": unit.mode, "maker": unit.spec.maker,
            "model": unit.spec.model, "origin": unit.origin, "unit_price_usd": unit.price_usd,
            "price_basis": unit.price_basis, "landed_cost_usd_per_unit": landed.get(unit.name),
            "npv_per_unit_usd": npv.get(unit.name),
            **per_day(hashrate_th, power_w, landed.get(unit.name), day["btc_per_th_day"],
                      day["price_usd"], power_usd_per_kwh, scenario.network.pool_fee),
        })
    table = _sorted(pl.DataFrame(rows, schema=RANK_SCHEMA), sort)
    notes = [f"{len(units) - len(priced)} unit(s) without a catalog or index price: no landed "
             "cost, payback or NPV"] if len(priced) < len(units) else []
    return Ranking(table, on, power_usd_per_kwh, origin, scenario, tuple(notes))


def per_day(
    hashrate_th: float, power_w: float, landed_usd: float | None, btc_per_th_day: float,
    price_usd: float, power_usd_per_kwh: float, pool_fee: float,
) -> dict[str, float | None]:
    """One unit's figures on one day of the market, at full uptime (the ranking's columns
    other than NPV)."""
    power_kw = power_w / 1000.0
    revenue = hashrate_th * btc_per_th_day * (1.0 - pool_fee) * price_usd
    energy = power_kw * HOURS_PER_DAY * power_usd_per_kwh
    profit = revenue - energy
    return {
        "hashrate_th": hashrate_th, "power_w": power_w,
        "efficiency_j_per_th": power_w / hashrate_th,
        "landed_usd_per_th": None if landed_usd is None else landed_usd / hashrate_th,
        "hashprice_usd_per_ph_day": btc_per_th_day * price_usd * 1000.0,
        "revenue_usd_per_day": revenue, "energy_usd_per_day": energy,
        "profit_usd_per_day": profit,
        "shutdown_power_usd_per_kwh": finance.shutdown_energy_usd_per_kwh(
            power_kw, price_usd, hashrate_th, btc_per_th_day, pool_fee),
        "shutdown_btc_price_usd": finance.shutdown_btc_price_usd(
            power_kw, power_usd_per_kwh, hashrate_th, btc_per_th_day, pool_fee),
        "payback_days_simple": (landed_usd / profit if landed_usd is not None and profit > 0
                                else None),
    }


def records(ranking: Ranking) -> list[dict[str, object]]:
    """The ranking as ``rank --json`` prints it: NaN as None."""
    return [{key: None if isinstance(value, float) and not np.isfinite(value) else value
             for key, value in row.items()} for row in ranking.table.iter_rows(named=True)]
