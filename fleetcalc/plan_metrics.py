"""The evaluation's metric steps: a plan's fixed metrics, its per-path metrics from the cash
flows, and the breakevens (each re-runs the simulation through an NPV function).

Every value is keyed by its name in the metric catalogue (``fleetcalc.metrics``), which says
what it means, its unit and how Monte Carlo paths summarise it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fleetcalc import finance
from fleetcalc.cashflows import FleetArrays, KernelFlows
from fleetcalc.metrics import PATH_METRICS
from fleetcalc.network import MarketPaths
from fleetcalc.plan import Finance, Plan
from fleetcalc.scenario import Scenario
from fleetcalc.tariffs import ASSUMPTION_CAVEAT, LandedCosts

# Breakevens are reported to 0.1%: a search stops when its next step would move the value by
# less than half that (a secant or Newton step from there lands closer to the root than the
# step), and takes that step.
BREAKEVEN_REL_TOLERANCE = 1e-3
BREAKEVEN_STEP_TOLERANCE = BREAKEVEN_REL_TOLERANCE / 2
# NPV within a millionth of the capex (USD 10 on USD 10M) also ends a search: it moves a
# breakeven far less than 0.1%.
BREAKEVEN_NPV_TOLERANCE = 1e-6
# Rounds of the seeded refinement before its open rows fall back to a bracketed search.
REFINE_ROUNDS = 6
# Lowest power price a breakeven search starts its bracket from (USD/kWh).
MIN_POWER_SEARCH_START_USD_PER_KWH = 0.01
BREAKEVEN_METRICS = tuple(metric.name for metric in PATH_METRICS if metric.needs_breakevens)

# NPV per row [rows] of the plan re-run on market path ``path_index[row]`` (the first argument)
# with the BTC price path scaled by the second (and the network that price meets) and, where
# the third is not NaN, that power price (USD/kWh) at every site; NaN: each site's own. All
# rows run in one kernel call.
NpvFunction = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def fixed_metrics(
    plan: Plan, scenario: Scenario, landed: LandedCosts, fleet: FleetArrays, n_paths: int,
    extra_assumptions: Sequence[str] = (),
) -> dict[str, Any]:
    """The metrics that are one value per plan: nameplate totals, capex, duty, assumptions
    (the scenario's, the tariff caveat, then ``extra_assumptions``)."""
    orders = landed.per_order
    hashrate_th = float((orders["hashrate_th"] * orders["quantity"]).sum())
    power_w = float((orders["power_w"] * orders["quantity"]).sum())
    tariff_assumption = bool(orders["tariff_assumption"].any())
    assumptions = [*scenario.assumptions, *([ASSUMPTION_CAVEAT] if tariff_assumption else []),
                   *extra_assumptions]
    return {
        "plan": plan.name, "units": int(orders["quantity"].sum()), "hashrate_th": hashrate_th,
        "power_kw": power_w / 1000.0, "efficiency_j_per_th": power_w / hashrate_th,
        "capex_usd": fleet.capex_usd, "tariffs_usd": float(orders["tariffs_usd"].sum()),
        "origin_risk_tariffs_usd": landed.origin_risk_tariffs_usd,
        "tariff_assumption": tariff_assumption,
        "hourly_power": any(site.power_price_series is not None for site in plan.sites),
        "paths": n_paths,
        "assumptions": "; ".join(assumptions),
    }


def added_assumptions(assumptions: str, scenario: Scenario) -> str:
    """What a plan adds to the scenario's assumptions: its record's ``assumptions`` (the
    scenario's, the tariff caveat, then the plan's own, joined by '; ', as ``fixed_metrics``
    puts them) after the scenario's and the caveat; '' if none. Cut by position, not split at
    '; ': an assumption may hold one itself (the network tiers', 4CP's)."""
    for head in ("; ".join(scenario.assumptions), ASSUMPTION_CAVEAT):
        if head and assumptions.startswith(head):
            assumptions = assumptions[len(head):].removeprefix("; ")
    return assumptions


def shutdown_metrics(
    fleet: FleetArrays, market: MarketPaths, pool_fee: float,
    rig_usd_per_kwh: np.ndarray | None = None,
) -> dict[str, float]:
    """The fleet's day-0 running-cost shutdown prices (BTC price and energy price at which
    revenue equals energy cost), from its nameplate hashrate and power at the sites' prices,
    at the market of day 0 (the same on every path). ``rig_usd_per_kwh``: each rig's energy
    price on day 0 when it is not the rig's kernel price (a site on an hourly series)."""
    rigs = fleet.rigs
    hashrate_th = float((rigs.hashrate_th * rigs.weight).sum())
    power_kw = float((rigs.power_w * rigs.weight).sum()) / 1000.0
    rig_price = rigs.energy_usd_per_kwh if rig_usd_per_kwh is None else rig_usd_per_kwh
    # Sites may price energy differently: the fleet's cost is the power-weighted price.
    energy_usd_per_kwh = float((rigs.power_w * rigs.weight * rig_price).sum()
                               / (rigs.power_w * rigs.weight).sum())
    btc_per_th_day = float(market.btc_per_th_day[0, 0])
    return {
        "shutdown_btc_price_usd": finance.shutdown_btc_price_usd(
            power_kw, energy_usd_per_kwh, hashrate_th, btc_per_th_day, pool_fee),
        "shutdown_power_usd_per_kwh": finance.shutdown_energy_usd_per_kwh(
            power_kw, float(market.price_usd[0, 0]), hashrate_th, btc_per_th_day, pool_fee),
    }


def path_metrics(
    flows: KernelFlows, cash_usd: np.ndarray, fleet: FleetArrays, market: MarketPaths,
    terms: Finance, solve_irr: bool = True,
) -> dict[str, np.ndarray]:
    """The per-path metrics ``[paths]`` other than the breakevens. On the hourly path the
    power costs beyond the energy line (transmission less sell-back credits) count as opex.
    ``solve_irr`` False: the IRR is left missing (NaN), most of the time of many paths."""
    capex_usd, residual_usd = fleet.capex_usd, fleet.residual_usd
    btc = flows.btc.sum(axis=1)
    revenue = flows.revenue_usd.sum(axis=1)
    energy = flows.energy_cost_usd.sum(axis=1)
    repair = flows.repair_cost_usd.sum(axis=1)
    payback = finance.payback_day(cash_usd)
    final_price = flows.final_price_usd
    opex_usd = flows.energy_cost_usd + flows.repair_cost_usd
    credits = transmission = np.zeros(market.n_paths)
    power_net = 0.0
    if flows.power is not None:  # (plans on the daily path keep their bits: no added zeros)
        opex_usd = opex_usd + flows.power.net_usd()
        credits = flows.power.sell_back_credit_usd.sum(axis=1)
        transmission = flows.power.transmission_usd.sum(axis=1)
        power_net = transmission - credits
    cash_opex = energy + repair + power_net
    # Mine vs buy: the BTC left after selling what pays the opex each day, plus the residual.
    opex_btc = opex_usd / market.price_usd
    mine_net_btc = btc - opex_btc.sum(axis=1) + residual_usd / final_price
    buy_btc = capex_usd / market.price_usd[:, 0]
    hodl = terms.hodl_fraction
    return {
        "btc_mined": btc, "revenue_usd": revenue, "energy_cost_usd": energy,
        "repair_cost_usd": repair, "npv_usd": finance.npv(cash_usd, terms.discount_rate),
        "irr": finance.irr(cash_usd) if solve_irr else np.full(market.n_paths, np.nan),
        # Counted from the first delivery: cash that is never negative pays back at once
        # (payback_day 0, before any delivery), so 0 days, never a negative count.
        "payback_days": np.where(
            payback >= 0, np.maximum(payback - fleet.first_delivery_day, 0), np.nan),
        "cost_to_mine_usd_per_btc": finance.safe_ratio(
            cash_opex + capex_usd - residual_usd, btc),
        "cost_to_mine_cash_usd_per_btc": finance.safe_ratio(cash_opex, btc),
        "residual_value_usd": np.full(market.n_paths, residual_usd),
        "buy_btc": buy_btc, "mine_net_btc": mine_net_btc,
        "mine_vs_buy_usd": (mine_net_btc - buy_btc) * final_price,
        "treasury_value_usd": revenue * (1 - hodl) - energy - repair - capex_usd
        + residual_usd + hodl * btc * final_price - power_net,
        "sell_back_credits_usd": credits, "transmission_usd": transmission,
    }


def breakeven_metrics(
    npv_at: NpvFunction, capex_usd: float, site_usd_per_kwh: float | None, market: MarketPaths,
    seed_npv_at: NpvFunction | None = None,
) -> dict[str, np.ndarray]:
    """Day-0 BTC price, hashprice and site power price at which NPV = 0, per path, to 0.1%.

    The BTC price breakeven scales the whole price path, so curtailment responds; the hashprice
    breakeven is the same factor on the day-0 hashprice (one search for both). The BTC price
    and power price searches run together: every round is one simulation whose rows are both
    searches' candidates on every open path. ``seed_npv_at`` (the plan with failures in
    expectation, a handful of cohort rows) seeds the searches: solved there first, each
    breakeven is refined on ``npv_at`` by secant steps from the seed, usually in one round.
    ``site_usd_per_kwh`` None: the site has no one power price (an hourly series), its
    breakeven is missing (NaN) and only the BTC price is searched.
    """
    n_paths = market.n_paths
    searches = 1 if site_usd_per_kwh is None else 2
    n_rows = searches * n_paths
    path_index = np.tile(np.arange(n_paths), searches)
    # Rows [0, P): BTC price factor on each path; rows [P, 2P): power price on each path.
    is_power = np.arange(n_rows) >= n_paths
    start = np.where(is_power, max(site_usd_per_kwh or 0.0, MIN_POWER_SEARCH_START_USD_PER_KWH),
                     1.0)
    npv_tol_usd = BREAKEVEN_NPV_TOLERANCE * max(capex_usd, 1.0)

    def rows_of(npv_function: NpvFunction) -> finance.RowFunction:
        def npv_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
            power = is_power[rows]
            return npv_function(path_index[rows], np.where(power, 1.0, x),
                                np.where(power, x, np.nan))
        return npv_rows

    def solve(npv_function: NpvFunction) -> np.ndarray:
        return finance.breakeven(rows_of(npv_function), n_rows, start, ~is_power,
                                 npv_tol_usd, BREAKEVEN_STEP_TOLERANCE)

    if seed_npv_at is None:
        solution = solve(npv_at)
    else:
        solution = _refined(rows_of(npv_at), rows_of(seed_npv_at), solve(seed_npv_at))
        unsolved = np.flatnonzero(np.isnan(solution))
        if unsolved.size:  # rare: a seed of 0 or none, or a refinement that did not settle
            solution[unsolved] = _solve_rows(rows_of(npv_at), unsolved, start, ~is_power,
                                             npv_tol_usd)
    price_factor = solution[:n_paths]
    power = solution[n_paths:] if searches == 2 else np.full(n_paths, np.nan)
    return {
        "breakeven_btc_price_usd": price_factor * market.price_usd[:, 0],
        "breakeven_power_usd_per_kwh": power,
        "breakeven_hashprice_usd_per_ph_day": (
            price_factor * market.hashprice_usd_per_ph_day[:, 0]),
    }


def _solve_rows(
    npv_rows: finance.RowFunction, rows: np.ndarray, start: np.ndarray, increasing: np.ndarray,
    npv_tol_usd: float,
) -> np.ndarray:
    """The bracketed search on some rows only."""
    return finance.breakeven(lambda x, sub: npv_rows(x, rows[sub]), rows.size, start[rows],
                             increasing[rows], npv_tol_usd, BREAKEVEN_STEP_TOLERANCE)


def _refined(
    npv_rows: finance.RowFunction, seed_rows: finance.RowFunction, seed: np.ndarray,
) -> np.ndarray:
    """Secant steps from ``seed`` on ``npv_rows``, the first with the seed model's slope there
    (the two models differ by sampled failures, which barely change how NPV moves with a
    price); NaN where the seed is 0 or NaN or the steps did not settle in ``REFINE_ROUNDS``.
    A row stops when its step is within ``BREAKEVEN_STEP_TOLERANCE`` of its value."""
    out = np.full(seed.size, np.nan)
    rows = np.flatnonzero(np.isfinite(seed) & (seed > 0.0))
    x = seed[rows]
    dx = x * BREAKEVEN_REL_TOLERANCE
    slope = (seed_rows(x + dx, rows) - seed_rows(x, rows)) / dx
    x_prev = f_prev = None
    for _ in range(REFINE_ROUNDS):
        if rows.size == 0:
            break
        f = npv_rows(x, rows)
        if x_prev is not None:
            secant = (f - f_prev) / np.where(x != x_prev, x - x_prev, np.nan)
            slope = np.where(np.isfinite(secant) & (secant * slope > 0.0), secant, slope)
        step = -f / slope
        x_next = np.maximum(x + step, 0.0)
        settled = np.isfinite(step) & (np.abs(step) <= BREAKEVEN_STEP_TOLERANCE * np.abs(x))
        out[rows[settled]] = x_next[settled]
        keep = ~settled & np.isfinite(x_next) & (x_next > 0.0)
        rows, x_prev, f_prev, x, slope = (rows[keep], x[keep], f[keep], x_next[keep],
                                          slope[keep])
    return out


def no_breakevens(n_paths: int) -> dict[str, np.ndarray]:
    """The breakevens when not solved: missing (NaN) on every path."""
    return {name: np.full(n_paths, np.nan) for name in BREAKEVEN_METRICS}
