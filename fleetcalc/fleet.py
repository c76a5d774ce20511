"""Plan -> polars order table -> contiguous NumPy arrays for the rig-day kernel.

Each order's unit is resolved by ``fleetcalc.units`` (catalog model and mode, or a custom unit,
with its cooling type's figures unless the order overrides them). With
``failures = "expected"`` an order is one cohort (weight = quantity), simulated once and scaled;
with ``"sampled"`` every unit is its own rig with its own failure stream.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from fleetcalc.plan import Plan
from fleetcalc.scenario import Scenario
from fleetcalc.schedule import resolve_terms
from fleetcalc.site_costs import rig_energy_share
from fleetcalc.units import resolve_unit

DAYS_PER_YEAR = 365.0

ORDERS_SCHEMA: dict[str, pl.DataType] = {
    "order_index": pl.Int64(),
    "site": pl.String(),
    "model_id": pl.String(),
    "maker": pl.String(),
    "model": pl.String(),
    "mode": pl.String(),
    "modes": pl.String(),  # the modes it may switch between, comma-separated
    "cooling": pl.String(),
    "origin": pl.String(),
    "tariff_origin": pl.String(),
    "quantity": pl.Int64(),
    "hashrate_th": pl.Float64(),
    "power_w": pl.Float64(),
    "customs_value_usd": pl.Float64(),
    "freight_usd": pl.Float64(),
    "install_usd": pl.Float64(),
    "import_date": pl.Date(),
    "delivery_date": pl.Date(),
    "delivery_day": pl.Int64(),
    "retire_day": pl.Int64(),
    "annual_degradation": pl.Float64(),
    "annual_failure_rate": pl.Float64(),
    "repair_days": pl.Int64(),
    "repair_cost_usd": pl.Float64(),
    "service_life_years": pl.Float64(),
    # The payment terms (``fleetcalc.schedule``), defaults filled in.
    "order_date": pl.Date(),
    "deposit_share": pl.Float64(),
    "balance_days_before_import": pl.Int64(),
    "shipped_by": pl.String(),
    "payment_terms_assumed": pl.Boolean(),  # a term was left out and took its default
}


def orders_frame(plan: Plan, scenario: Scenario) -> pl.DataFrame:
    """One row per order of a one-site plan with resolved unit, day indices, the origin used
    for duty and the payment terms."""
    rows = []
    site_name = plan.site.name
    for i, order in enumerate(plan.orders):
        unit = resolve_unit(order)
        figures = unit.figures
        delivery_day = scenario.day_of(order.delivery_date)
        life_days = round(figures.service_life_years * DAYS_PER_YEAR)
        rows.append({
            "order_index": i, "site": site_name, "model_id": unit.model_id, "maker": unit.maker,
            "model": unit.model, "mode": order.mode,
            "modes": ",".join(order.modes or (order.mode,)), "cooling": unit.cooling,
            "origin": order.origin, "tariff_origin": scenario.tariff_origin(order.origin),
            "quantity": order.quantity, "hashrate_th": unit.hashrate_th,
            "power_w": unit.power_w, "customs_value_usd": unit.unit_price_usd,
            "freight_usd": figures.freight_usd_per_unit,
            "install_usd": figures.install_usd_per_unit,
            "import_date": order.import_date, "delivery_date": order.delivery_date,
            "delivery_day": delivery_day,
            "retire_day": min(scenario.horizon_days, delivery_day + life_days),
            "annual_degradation": figures.annual_degradation,
            "annual_failure_rate": figures.annual_failure_rate,
            "repair_days": figures.repair_days, "repair_cost_usd": figures.repair_cost_usd,
            "service_life_years": figures.service_life_years,
            **resolve_terms(order, scenario.start_date),
        })
    return pl.DataFrame(rows, schema=ORDERS_SCHEMA)


@dataclass(frozen=True)
class RigArrays:
    """Kernel inputs, one entry per rig (sampled) or per cohort (expected), contiguous."""

    hashrate_th: np.ndarray
    power_w: np.ndarray
    weight: np.ndarray
    delivery_day: np.ndarray
    retire_day: np.ndarray
    decay_per_day: np.ndarray
    uptime: np.ndarray
    failure_per_day: np.ndarray
    repair_days: np.ndarray
    repair_cost_usd: np.ndarray
    energy_usd_per_kwh: np.ndarray  # the avoidable price of a kWh of IT load (take-or-pay)
    curtail: np.ndarray
    rig_key: np.ndarray
    group: np.ndarray
    # Operating modes and hourly prices (``kernels.hourly.PowerInputs``): per rig, its site in
    # the hourly tables (-1: the daily path, one mode at a constant price) and its mode rows.
    site_of: np.ndarray
    mode_first: np.ndarray  # into the rows of ``mode_table(plan)``
    mode_count: np.ndarray
    # Not a kernel input: energy_usd_per_kwh over the site's all-in price per kWh of IT load
    # (1 without take-or-pay), for runs at another power price (the breakeven search).
    energy_share: np.ndarray

    @property
    def n_rigs(self) -> int:
        return self.hashrate_th.shape[0]

    @property
    def hourly(self) -> bool:
        return bool((self.site_of >= 0).any())


@dataclass(frozen=True)
class ModeTable:
    """The operating points the plan's orders may run, one row per order and allowed mode;
    ``names[slot]`` is the mode of each output slot (unit-days per mode)."""

    hashrate_th: np.ndarray
    power_w: np.ndarray
    slot: np.ndarray
    names: tuple[str, ...]
    order_first: np.ndarray  # [orders] first row of each order
    order_count: np.ndarray  # [orders]
    max_power_w: np.ndarray  # [orders] the most a unit of the order can draw


def mode_table(plan: Plan) -> ModeTable:
    """Rows of every order's allowed modes (its ``mode`` alone when it allows no others)."""
    names: list[str] = []
    hashrate, power, slot, first, count = [], [], [], [], []
    for order in plan.orders:
        modes = order.modes or (order.mode,)
        first.append(len(hashrate))
        count.append(len(modes))
        for mode in modes:
            unit = resolve_unit(replace(order, mode=mode))
            if mode not in names:
                names.append(mode)
            hashrate.append(unit.hashrate_th)
            power.append(unit.power_w)
            slot.append(names.index(mode))
    power_w = np.array(power, dtype=np.float64)
    return ModeTable(np.array(hashrate, dtype=np.float64), power_w,
                     np.array(slot, dtype=np.int64), tuple(names),
                     np.array(first, dtype=np.int64), np.array(count, dtype=np.int64),
                     np.array([power_w[f:f + c].max() for f, c in zip(first, count, strict=True)]))


def plan_rig_keys(quantities: np.ndarray, order_indices: np.ndarray, sampled: bool) -> np.ndarray:
    """The rig keys (random streams) of the rigs of orders ``order_indices`` of a plan whose
    orders have ``quantities``: the keys those rigs have when the plan's orders all run in one
    fleet (``rig_arrays`` numbers rigs order by order from 0), so a site's rigs draw the
    failures they would draw beside the plan's other sites, never another site's."""
    reps = quantities if sampled else np.ones_like(quantities)
    first = np.concatenate(([0], np.cumsum(reps)[:-1]))
    return np.concatenate([first[i] + np.arange(reps[i]) for i in order_indices]).astype(np.int64)


def rig_arrays(orders: pl.DataFrame, plan: Plan, sampled: bool) -> RigArrays:
    """Expand the orders of a one-site plan to rigs (sampled) or keep one cohort per order
    (expected)."""
    quantity = orders["quantity"].to_numpy()
    repeats = quantity if sampled else np.ones_like(quantity)

    def column(name: str, dtype: type) -> np.ndarray:
        values = orders[name].to_numpy().astype(dtype)
        return np.ascontiguousarray(np.repeat(values, repeats))

    n = int(repeats.sum())
    site = plan.site
    uptime = np.full(n, site.uptime)
    failure_per_day = np.ascontiguousarray(
        np.repeat(orders["annual_failure_rate"].to_numpy() / DAYS_PER_YEAR, repeats))
    repair_days = column("repair_days", np.int64)
    energy_share = rig_energy_share(site, uptime, failure_per_day, repair_days, sampled)
    modes = mode_table(plan)
    # Every rig of a plan runs on the hourly path when its site prices hours or its orders
    # allow more than one mode between them (so a plan on the daily path runs one mode, and
    # its unit-days per mode are its running units). There a site without a series is 24
    # equal hours at 1 USD/kWh and the rig's price factor is the site's price, as on the
    # daily path; a series carries its prices itself (factor 1).
    hourly = site.hourly or len(modes.names) > 1
    factor = 1.0 if site.power_price_series is not None else site.energy_usd_per_kwh
    return RigArrays(
        hashrate_th=column("hashrate_th", np.float64),
        power_w=column("power_w", np.float64),
        weight=np.ones(n) if sampled else quantity.astype(np.float64),
        delivery_day=column("delivery_day", np.int64),
        retire_day=column("retire_day", np.int64),
        decay_per_day=np.ascontiguousarray(
            np.repeat((1.0 - orders["annual_degradation"].to_numpy()) ** (1.0 / DAYS_PER_YEAR),
                      repeats)
        ),
        uptime=uptime,
        failure_per_day=failure_per_day,
        repair_days=repair_days,
        repair_cost_usd=column("repair_cost_usd", np.float64),
        energy_usd_per_kwh=np.ascontiguousarray(factor * energy_share),
        curtail=np.full(n, int(site.curtail_when_unprofitable), dtype=np.int64),
        rig_key=np.arange(n, dtype=np.int64),
        group=column("order_index", np.int64),
        site_of=np.full(n, 0 if hourly else -1, dtype=np.int64),
        mode_first=np.ascontiguousarray(np.repeat(modes.order_first, repeats)),
        mode_count=np.ascontiguousarray(np.repeat(modes.order_count, repeats)),
        energy_share=energy_share,
    )
