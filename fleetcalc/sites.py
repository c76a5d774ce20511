"""Several sites in one plan: each site runs the evaluation's steps on its own, the plan is
their sum.

A plan of several ``[[sites]]`` is evaluated site by site (``Plan.site_plans``): each site's
orders are priced, simulated and turned into cash flows as a one-site plan, so every step that
reads a site (power price, uptime, curtailment, site costs) sees exactly one. The plan's
orders, kernel flows and cash flows are then the sites' put together (``combine_runs``):
amounts add up day by day, each order keeps its index in the plan. Rigs keep the random
streams they have when the whole plan runs as one fleet (``fleet.plan_rig_keys``), so two
sites never share failure draws, and moving orders between two identical sites changes no
number beyond rounding. A plan of one site is its only run, untouched.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np
import polars as pl

from fleetcalc.cashflows import FleetArrays, KernelFlows, PowerFlows, power_view
from fleetcalc.fleet import RigArrays
from fleetcalc.plan import Plan
from fleetcalc.power_market import SitePower
from fleetcalc.schedule import combine_payments
from fleetcalc.tariffs import LandedCosts

_T = TypeVar("_T")


@dataclass(frozen=True)
class SiteRun:
    """One site's (or, combined, the whole plan's) steps up to the cash flows."""

    plan: Plan  # the one-site plan (combined: the whole plan)
    order_indices: np.ndarray  # [orders of the run] int64: their indices in the whole plan
    landed: LandedCosts
    fleet: FleetArrays
    flows: KernelFlows
    cash_usd: np.ndarray  # [paths, days]
    power: SitePower | None = None  # the site's hours (None: on the daily path, or combined)


def _field_by_field(items: Sequence[_T], rules: dict[str, Callable[[list[Any]], Any]]) -> _T:
    """One dataclass from ``items`` of its type: each field by its rule in ``rules``; every
    other field is an amount (a number or an array of one shape) and the sites' add up."""
    values = {}
    for field in fields(items[0]):  # type: ignore[arg-type]
        parts = [getattr(item, field.name) for item in items]
        rule = rules.get(field.name, lambda xs: functools.reduce(operator.add, xs))
        values[field.name] = rule(parts)
    return type(items[0])(**values)


def _in_plan_order(frame: pl.DataFrame, order_indices: np.ndarray) -> pl.DataFrame:
    """A run's per-order frame with ``order_index`` the order's index in the whole plan."""
    return frame.with_columns(
        order_index=pl.Series(order_indices, dtype=pl.Int64).gather(frame["order_index"]))


def _combined_power(
    flows: Sequence[KernelFlows], order: np.ndarray, mode_names: tuple[str, ...],
) -> PowerFlows | None:
    """The sites' power lines put together on the plan's modes (days add up; orders in plan
    order); None when every site is on the daily path with the one mode."""
    if all(f.power is None for f in flows) and len(mode_names) == 1:
        return None
    views = [power_view(f, mode_names) for f in flows]
    return _field_by_field(views, {
        "order_credit_usd": lambda parts: np.ascontiguousarray(
            np.concatenate(parts, axis=1)[:, order]),
        "order_unit_days_by_mode": lambda parts: np.ascontiguousarray(
            np.concatenate(parts, axis=1)[:, order]),
    })


def combine_runs(plan: Plan, runs: Sequence[SiteRun]) -> SiteRun:
    """The whole plan's run from its sites' runs (``plan.site_plans()`` order)."""
    if len(runs) == 1:
        return runs[0]
    indices = [run.order_indices for run in runs]
    order = np.argsort(np.concatenate(indices), kind="stable")
    landed = LandedCosts(
        per_order=pl.concat([_in_plan_order(run.landed.per_order, run.order_indices)
                             for run in runs]).sort("order_index"),
        per_program=pl.concat([_in_plan_order(run.landed.per_program, run.order_indices)
                               for run in runs]).sort("order_index", "program"),
        origin_risk_tariffs_usd=sum(run.landed.origin_risk_tariffs_usd for run in runs),
    )
    rigs = _field_by_field([run.fleet.rigs for run in runs], {
        field.name: np.concatenate for field in fields(RigArrays)} | {
        "group": lambda groups: np.concatenate(
            [run.order_indices[group] for run, group in zip(runs, groups, strict=True)])})
    fleet = _field_by_field([run.fleet for run in runs], {
        "rigs": lambda _: rigs, "first_delivery_day": min, "payments": combine_payments,
        "mode_names": lambda names: tuple(dict.fromkeys(n for ns in names for n in ns)),
        # Site costs are amounts (they add up); the units resold are each site's together.
        "site": lambda costs: _field_by_field(costs, {}),
        "resale": lambda resales: _field_by_field(resales, {
            "market": lambda flags: flags[0],  # the plan's finance terms: one for all sites
            **{name: np.concatenate for name in ("units", "hashrate_th", "power_w")}}),
    })
    mode_names = tuple(dict.fromkeys(name for run in runs for name in run.flows.mode_names))
    power = _combined_power([run.flows for run in runs], order, mode_names)
    flows = _field_by_field([run.flows for run in runs], {
        "final_price_usd": lambda prices: prices[0],  # the market's: the same at every site
        "final_hashprice_usd_per_ph_day": lambda prices: prices[0],
        "order_totals": lambda totals: np.ascontiguousarray(
            np.concatenate(totals, axis=1)[:, order]),
        "mode_names": lambda _: mode_names, "power": lambda _: power,
    })
    cash_usd = functools.reduce(operator.add, [run.cash_usd for run in runs])
    return SiteRun(plan, np.arange(len(plan.orders)), landed, fleet, flows, cash_usd)
