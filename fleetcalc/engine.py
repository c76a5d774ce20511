"""evaluate(plans, scenario) -> Results: the one module that calls the jitted kernels.

It validates, turns the order table into contiguous arrays once, allocates the kernel's output
and scratch buffers, calls it, and wraps the outputs in polars frames with declared schemas.
Kernel calls need no lock: each writes only the buffers it was given, and the kernels use no
Numba threading layer (the rig-day kernel runs its tasks on its own thread pool).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fleetcalc import finance, metrics
from fleetcalc.errors import InputError
from fleetcalc.fleet import RigArrays, orders_frame, rig_arrays
from fleetcalc.network import MarketPaths, market_paths
from fleetcalc.plan import Plan, check_plan_against_scenario, default_plans, load_plan
from fleetcalc.scenario import Scenario, load_scenario

BRACKET_DOUBLINGS = 40
MIN_ENERGY_USD_PER_KWH = 1e-9
BREAKEVEN_NPV_TOLERANCE = 1e-6

DAILY_SCHEMA: dict[str, pl.DataType] = {
    "plan": pl.String(), "day": pl.Int64(), "date": pl.Date(), "hashrate_th": pl.Float64(),
    "power_w": pl.Float64(), "btc": pl.Float64(), "revenue_usd": pl.Float64(),
    "energy_cost_usd": pl.Float64(), "repair_cost_usd": pl.Float64(),
    "running_units": pl.Float64(), "capex_usd": pl.Float64(), "cash_flow_usd": pl.Float64(),
    "cumulative_cash_usd": pl.Float64(), "price_usd": pl.Float64(),
    "hashprice_usd_per_ph_day": pl.Float64(),
}


@dataclass(frozen=True, eq=False)
class Results:
    """Everything an evaluation produced, as polars frames (means over paths where relevant)."""

    summary: pl.DataFrame  # one row per plan
    daily: pl.DataFrame  # one row per plan and day
    orders: pl.DataFrame  # one row per order: landed cost breakdown and totals
    tariff_lines: pl.DataFrame  # one row per order and tariff program in force
    paths: pl.DataFrame  # one row per plan and Monte Carlo path
    market: pl.DataFrame  # one row per day: the scenario's market (mean over paths)
    scenario: Scenario

    def records(self) -> list[dict[str, Any]]:
        """The summary as JSON-ready dicts: NaN becomes None (a metric that does not exist)."""
        return [metrics.json_record(row) for row in self.summary.iter_rows(named=True)]


def _run_kernel(
    rigs: RigArrays, btc_per_th_day: np.ndarray, price_usd: np.ndarray, pool_fee: float,
    sampled: bool, seed: int, n_groups: int, energy_usd_per_kwh: np.ndarray | None = None,
    buffers: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the rig-day kernel; ``buffers`` (empty, or filled by an earlier call of the same
    shapes) lends the output and scratch arrays, so repeated calls do not page in fresh memory."""
    from kernels.rigdays import N_DAILY, N_GROUP, kernel_for, scratch_shapes

    n_paths, n_days = btc_per_th_day.shape
    # One thread for small workloads (cohort plans are a handful of rows), the pool otherwise;
    # the same bits either way.
    kernel = kernel_for(rigs.n_rigs, n_paths, n_days)
    if not buffers:
        day_shape, group_shape = scratch_shapes(rigs.n_rigs, n_paths, n_days, n_groups)
        allocated = [np.empty((n_paths, N_DAILY, n_days)), np.empty((n_paths, n_groups, N_GROUP)),
                     np.empty(day_shape), np.empty(group_shape)]
        if buffers is not None:
            buffers.extend(allocated)
        buffers = allocated
    daily, groups, day_acc, group_acc = buffers
    energy = rigs.energy_usd_per_kwh if energy_usd_per_kwh is None else energy_usd_per_kwh
    kernel(
        rigs.hashrate_th, rigs.power_w, rigs.weight, rigs.delivery_day, rigs.retire_day,
        rigs.decay_per_day, rigs.uptime, rigs.failure_per_day, rigs.repair_days,
        rigs.repair_cost_usd, energy, rigs.curtail, rigs.rig_key, rigs.group,
        np.ascontiguousarray(btc_per_th_day), np.ascontiguousarray(price_usd),
        float(pool_fee), bool(sampled), int(seed), daily, groups, day_acc, group_acc,
    )
    return daily, groups


def _simulate_chain(
    hashrate_ehs: np.ndarray, difficulty0: float, height0: int, fees_btc: float
) -> dict[str, np.ndarray]:
    """``kernels.reference.simulate_chain_reference`` through the jitted kernel (same outputs), for
    ``market_paths``: a Python loop over days there costs ~0.1 s a scenario."""
    from kernels.chain import CHAIN_FIELDS, simulate_chain_nb

    out = {name: np.empty(hashrate_ehs.shape) for name in CHAIN_FIELDS}
    halving_day = np.empty(hashrate_ehs.shape[0], dtype=np.int64)
    simulate_chain_nb(np.ascontiguousarray(hashrate_ehs, dtype=np.float64),
                      float(difficulty0), int(height0), float(fees_btc), *out.values(),
                      halving_day)
    return {**out, "halving_day": halving_day}


@dataclass
class _PlanRun:
    """Inputs of one plan that stay fixed while breakevens re-run the kernel."""

    plan: Plan
    rigs: RigArrays
    market: MarketPaths
    scenario: Scenario
    capex_by_day: np.ndarray  # [T]
    residual_usd: float
    n_groups: int
    # Kernel buffers reused by the breakeven searches' ~30 runs (their flows live one step).
    search_buffers: list[np.ndarray] = field(default_factory=list)

    def flows(
        self, price_factor: np.ndarray, energy_price: np.ndarray | None = None,
        reuse: bool = False,
    ) -> dict[str, np.ndarray]:
        """Daily flows [P, T] with the BTC price scaled per path and, optionally, the site's
        energy price set per path. ``reuse``: run in ``search_buffers``, so the arrays are
        overwritten by the next reusing call.

        A per-path energy price x is run as energy 1 USD/kWh with the BTC price divided by x:
        every curtailment decision is the same, and every USD flow is x times the kernel's.
        """
        from kernels.rigdays import (
            DAILY_BTC,
            DAILY_ENERGY_USD,
            DAILY_REPAIR_USD,
            DAILY_REVENUE_USD,
        )

        price = self.market.price_usd * price_factor[:, None]
        usd_scale = np.ones_like(price_factor)
        energy_override = None
        if energy_price is not None:
            # A floor of 1e-9 USD/kWh stands for free power without dividing by zero; its
            # energy cost is below any tolerance a breakeven is solved to.
            usd_scale = np.maximum(energy_price, MIN_ENERGY_USD_PER_KWH)
            price = price / usd_scale[:, None]
            energy_override = np.ones(self.rigs.n_rigs)
        daily, groups = _run_kernel(
            self.rigs, self.market.btc_per_th_day, price, self.scenario.network.pool_fee,
            self.scenario.failures == "sampled", self.scenario.seed, self.n_groups,
            energy_override, self.search_buffers if reuse else None,
        )
        return {
            "daily": daily, "groups": groups, "btc": daily[:, DAILY_BTC],
            "revenue_usd": daily[:, DAILY_REVENUE_USD] * usd_scale[:, None],
            "energy_cost_usd": daily[:, DAILY_ENERGY_USD] * usd_scale[:, None],
            "repair_cost_usd": daily[:, DAILY_REPAIR_USD],
            "final_price_usd": self.market.price_usd[:, -1] * price_factor,
        }

    def cash_flow(self, flows: dict[str, np.ndarray]) -> np.ndarray:
        """Cash flow [P, T]: sold BTC less energy, repairs and capex; residual and kept BTC
        (``hodl_fraction``, valued at the horizon's price) on the last day."""
        hodl = self.plan.finance.hodl_fraction
        cash = (
            flows["revenue_usd"] * (1.0 - hodl) - flows["energy_cost_usd"]
            - flows["repair_cost_usd"] - self.capex_by_day[None, :]
        )
        cash[:, -1] += self.residual_usd + hodl * flows["btc"].sum(axis=1) * flows[
            "final_price_usd"]
        return cash

    def npv(self, flows: dict[str, np.ndarray]) -> np.ndarray:
        return finance.npv(self.cash_flow(flows), self.plan.finance.discount_rate)


def _breakeven(
    npv_of: Any, n_paths: int, start: float, increasing: bool, npv_tol_usd: float
) -> np.ndarray:
    """Root of a monotone NPV(x) per path on x >= 0; NaN where none exists in range.

    A rising NPV(x) already >= 0 at x = 0 gives 0 (breakeven price 0: profitable at any
    price); a falling one already < 0 at x = 0 (a loss even with free power) gives NaN.
    """
    zero = np.zeros(n_paths)
    f_zero = npv_of(zero)
    sign = 1.0 if increasing else -1.0
    at_zero = sign * f_zero >= 0.0
    no_root = np.zeros(n_paths, dtype=bool) if increasing else f_zero < 0.0
    hi = np.full(n_paths, max(start, 1e-9))
    f_hi = npv_of(hi)
    for _ in range(BRACKET_DOUBLINGS):
        short = (sign * f_hi < 0.0) & ~at_zero
        if not short.any():
            break
        hi = np.where(short, hi * 2.0, hi)
        f_hi = np.where(short, npv_of(hi), f_hi)
    bracketed = (sign * f_hi >= 0.0) & ~at_zero
    if not bracketed.any():
        return np.where(at_zero & ~no_root, 0.0, np.nan)
    root = finance.illinois_root(npv_of, zero, hi, f_zero, f_hi, f_tol=npv_tol_usd)
    return np.where(at_zero & ~no_root, 0.0, np.where(bracketed, root, np.nan))


def _evaluate_plan(
    plan: Plan, scenario: Scenario, market: MarketPaths, schedule: pl.DataFrame,
    breakevens: bool,
) -> dict[str, Any]:
    from fleetcalc.tariffs import ASSUMPTION_CAVEAT, price_orders
    from kernels.rigdays import (
        DAILY_HASHRATE_TH,
        DAILY_POWER_W,
        DAILY_RUNNING_UNITS,
        GROUP_BTC,
        GROUP_ENERGY_USD,
        GROUP_FAILURES,
        GROUP_REPAIR_USD,
        GROUP_REVENUE_USD,
        GROUP_RUNNING_UNIT_DAYS,
    )

    check_plan_against_scenario(plan, scenario.start_date, scenario.end_date)
    orders = orders_frame(plan, scenario)
    landed = price_orders(orders, schedule, scenario.origin_risk)
    per_order, per_program = landed.per_order, landed.per_program
    origin_risk_tariffs_usd = landed.origin_risk_tariffs_usd
    n_days, n_paths = scenario.horizon_days, market.n_paths
    sampled = scenario.failures == "sampled"
    rigs = rig_arrays(orders, plan, sampled)
    capex_by_day = np.bincount(
        per_order["delivery_day"].to_numpy(), weights=per_order["landed_cost_usd"].to_numpy(),
        minlength=n_days,
    )[:n_days]
    in_service_at_end = per_order["retire_day"].to_numpy() >= n_days
    residual_usd = float(
        plan.finance.residual_fraction
        * (per_order["customs_value_usd"].to_numpy() * per_order["quantity"].to_numpy())[
            in_service_at_end].sum()
    )
    run = _PlanRun(plan, rigs, market, scenario, capex_by_day, residual_usd, orders.height)
    ones = np.ones(n_paths)
    flows = run.flows(ones)
    cash = run.cash_flow(flows)
    capex_usd = float(capex_by_day.sum())
    btc = flows["btc"].sum(axis=1)
    revenue = flows["revenue_usd"].sum(axis=1)
    energy = flows["energy_cost_usd"].sum(axis=1)
    repair = flows["repair_cost_usd"].sum(axis=1)
    first_delivery = int(per_order["delivery_day"].min())
    payback = finance.payback_day(cash)
    price0 = market.price_usd[:, 0]
    final_price = flows["final_price_usd"]
    opex_btc = (flows["energy_cost_usd"] + flows["repair_cost_usd"]) / market.price_usd
    mine_net_btc = btc - opex_btc.sum(axis=1) + residual_usd / final_price
    buy_btc = capex_usd / price0
    hodl = plan.finance.hodl_fraction
    path_values: dict[str, np.ndarray] = {
        "btc_mined": btc, "revenue_usd": revenue, "energy_cost_usd": energy,
        "repair_cost_usd": repair, "npv_usd": finance.npv(cash, plan.finance.discount_rate),
        "irr": finance.irr(cash),
        "payback_days": np.where(payback >= 0, payback - first_delivery, np.nan),
        "cost_to_mine_usd_per_btc": finance.safe_ratio(
            energy + repair + capex_usd - residual_usd, btc),
        "cost_to_mine_cash_usd_per_btc": finance.safe_ratio(energy + repair, btc),
        "residual_value_usd": np.full(n_paths, residual_usd),
        "buy_btc": buy_btc, "mine_net_btc": mine_net_btc,
        "mine_vs_buy_usd": (mine_net_btc - buy_btc) * final_price,
        "treasury_value_usd": revenue * (1 - hodl) - energy - repair - capex_usd
        + residual_usd + hodl * btc * final_price,
    }
    if breakevens:
        # NPV within a millionth of the capex (USD 10 on USD 10M) moves a breakeven far less
        # than the 0.1% it is reported to.
        npv_tol_usd = BREAKEVEN_NPV_TOLERANCE * max(capex_usd, 1.0)
        k = _breakeven(lambda f: run.npv(run.flows(f, reuse=True)), n_paths, 1.0, increasing=True,
                       npv_tol_usd=npv_tol_usd)
        site_price = plan.site.energy_usd_per_kwh
        x = _breakeven(lambda e: run.npv(run.flows(ones, e, reuse=True)), n_paths,
                       max(site_price, 0.01), increasing=False, npv_tol_usd=npv_tol_usd)
        path_values["breakeven_btc_price_usd"] = k * price0
        path_values["breakeven_hashprice_usd_per_ph_day"] = (
            k * market.hashprice_usd_per_ph_day[:, 0])
        path_values["breakeven_power_usd_per_kwh"] = x
    else:
        for name in ("breakeven_btc_price_usd", "breakeven_hashprice_usd_per_ph_day",
                     "breakeven_power_usd_per_kwh"):
            path_values[name] = np.full(n_paths, np.nan)

    units = int(per_order["quantity"].sum())
    hashrate_th = float((per_order["hashrate_th"] * per_order["quantity"]).sum())
    power_w = float((per_order["power_w"] * per_order["quantity"]).sum())
    tariff_assumption = bool(per_order["tariff_assumption"].any())
    assumptions = list(scenario.assumptions)
    if tariff_assumption:
        assumptions.append(ASSUMPTION_CAVEAT)
    fixed = {
        "plan": plan.name, "units": units, "hashrate_th": hashrate_th,
        "power_kw": power_w / 1000.0, "efficiency_j_per_th": power_w / hashrate_th,
        "capex_usd": capex_usd, "tariffs_usd": float(per_order["tariffs_usd"].sum()),
        "origin_risk_tariffs_usd": origin_risk_tariffs_usd,
        "tariff_assumption": tariff_assumption, "paths": n_paths,
        "assumptions": "; ".join(assumptions),
    }
    summary = dict(fixed)
    summary.update(metrics.summarise(path_values, n_paths))
    summary["payback_probability"] = float((payback >= 0).mean())
    summary["missing_metrics"] = metrics.missing_metrics(summary, n_paths, breakevens)

    mean_daily = flows["daily"].mean(axis=0)
    dates = pl.date_range(scenario.start_date, scenario.end_date, "1d", eager=True,
                          closed="left")
    cash_mean = cash.mean(axis=0)
    daily = pl.DataFrame({
        "plan": [plan.name] * n_days, "day": np.arange(n_days), "date": dates,
        "hashrate_th": mean_daily[DAILY_HASHRATE_TH], "power_w": mean_daily[DAILY_POWER_W],
        "btc": flows["btc"].mean(axis=0), "revenue_usd": flows["revenue_usd"].mean(axis=0),
        "energy_cost_usd": flows["energy_cost_usd"].mean(axis=0),
        "repair_cost_usd": flows["repair_cost_usd"].mean(axis=0),
        "running_units": mean_daily[DAILY_RUNNING_UNITS], "capex_usd": capex_by_day,
        "cash_flow_usd": cash_mean, "cumulative_cash_usd": np.cumsum(cash_mean),
        "price_usd": market.price_usd.mean(axis=0),
        "hashprice_usd_per_ph_day": market.hashprice_usd_per_ph_day.mean(axis=0),
    }, schema=DAILY_SCHEMA)
    group_mean = flows["groups"].mean(axis=0)
    order_totals = pl.DataFrame({
        "order_index": np.arange(orders.height), "btc_mined": group_mean[:, GROUP_BTC],
        "revenue_usd": group_mean[:, GROUP_REVENUE_USD],
        "energy_cost_usd": group_mean[:, GROUP_ENERGY_USD],
        "repairs_usd": group_mean[:, GROUP_REPAIR_USD],
        "running_unit_days": group_mean[:, GROUP_RUNNING_UNIT_DAYS],
        "failures": group_mean[:, GROUP_FAILURES],
    })
    orders_out = (
        per_order.join(order_totals, on="order_index", how="left")
        .with_columns(pl.lit(plan.name).alias("plan"))
    )
    paths_out = pl.DataFrame({
        "plan": [plan.name] * n_paths, "path": np.arange(n_paths),
        **{metric.name: path_values[metric.name] for metric in metrics.PATH_METRICS},
    })
    return {
        "summary": summary, "daily": daily, "orders": orders_out,
        "tariff_lines": per_program.with_columns(pl.lit(plan.name).alias("plan")),
        "paths": paths_out,
    }


def _as_plans(plans: Sequence[Plan | str | Path] | None) -> list[Plan]:
    if not plans:
        return default_plans()
    return [p if isinstance(p, Plan) else load_plan(p) for p in plans]


def _as_scenario(scenario: Scenario | str | Path | None) -> Scenario:
    if scenario is None or isinstance(scenario, str | Path):
        return load_scenario(scenario)
    return scenario


def market_frame(scenario: Scenario, market: MarketPaths) -> pl.DataFrame:
    """The scenario's market per day (mean over paths)."""
    return pl.DataFrame({
        "day": np.arange(market.n_days),
        "date": pl.date_range(scenario.start_date, scenario.end_date, "1d", eager=True,
                              closed="left"),
        "price_usd": market.price_usd.mean(axis=0),
        "hashrate_ehs": market.hashrate_ehs.mean(axis=0),
        "difficulty": market.difficulty.mean(axis=0),
        "blocks": market.blocks.mean(axis=0),
        "height": market.height.mean(axis=0),
        "subsidy_btc": market.subsidy_btc.mean(axis=0),
        "btc_per_th_day": market.btc_per_th_day.mean(axis=0),
        "hashprice_usd_per_ph_day": market.hashprice_usd_per_ph_day.mean(axis=0),
    })


def evaluate(
    plans: Sequence[Plan | str | Path] | None = None,
    scenario: Scenario | str | Path | None = None,
    *,
    breakevens: bool = True,
) -> Results:
    """Evaluate purchase plans under a scenario.

    ``plans``: Plan objects or TOML paths; None or empty: the built-in default plans.
    ``scenario``: a Scenario or a TOML path; None: the built-in default scenario.
    ``breakevens``: solve breakeven BTC and power prices (re-runs the kernel ~30 times).
    Raises ``InputError`` on bad input.
    """
    from fleetcalc.tariffs import apply_overrides, load_schedule

    scenario = _as_scenario(scenario)
    plan_list = _as_plans(plans)
    seen: dict[str, str] = {}
    for plan in plan_list:
        if plan.name in seen:
            # Results are keyed by plan name: two plans of one name would mix their rows.
            raise InputError(plan.source, "name", plan.name,
                             f"a plan name not already used by {seen[plan.name]}")
        seen[plan.name] = plan.source
    market = market_paths(scenario, _simulate_chain)
    schedule = apply_overrides(load_schedule(), scenario.tariff_overrides)
    parts = [_evaluate_plan(p, scenario, market, schedule, breakevens) for p in plan_list]
    return Results(
        summary=pl.DataFrame([part["summary"] for part in parts],
                             schema=metrics.summary_schema(market.n_paths)),
        daily=pl.concat([part["daily"] for part in parts]),
        orders=pl.concat([part["orders"] for part in parts], how="diagonal_relaxed"),
        tariff_lines=pl.concat([part["tariff_lines"] for part in parts], how="diagonal_relaxed"),
        paths=pl.concat([part["paths"] for part in parts]),
        market=market_frame(scenario, market),
        scenario=scenario,
    )
