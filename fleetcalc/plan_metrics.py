"""The evaluation's metric steps: a plan's fixed metrics, its per-path metrics from the cash
flows, and the breakevens (each re-runs the simulation through an NPV function).

Every value is keyed by its name in the metric catalogue (``fleetcalc.metrics``), which says
what it means, its unit and how Monte Carlo paths summarise it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fleetcalc import finance
from fleetcalc.cashflows import FleetArrays, KernelFlows
from fleetcalc.metrics import PATH_METRICS
from fleetcalc.network import MarketPaths
from fleetcalc.plan import Finance, Plan
from fleetcalc.resale import Resale
from fleetcalc.scenario import Scenario
from fleetcalc.tariffs import ASSUMPTION_CAVEAT, LandedCosts

# Breakevens are reported to 0.1%: a search stops when its next step would move the value by
# less than that, and takes that step (a secant step's error is far below the step: measured
# within 1.9e-4 of searches to 1e-9 on the default plans with 200 paths, within 6e-6 on a
# sampled Monte Carlo).
BREAKEVEN_REL_TOLERANCE = 1e-3
BREAKEVEN_STEP_TOLERANCE = BREAKEVEN_REL_TOLERANCE
# NPV within a millionth of the capex (USD 10 on USD 10M) also ends a search: it moves a
# breakeven far less than 0.1%.
BREAKEVEN_NPV_TOLERANCE = 1e-6
# Rounds of the seeded refinement before its open rows fall back to a bracketed search.
REFINE_ROUNDS = 6
# Where the first-order step from the plan's run leaves the positive numbers (NPV bends:
# curtailment saves more energy the dearer power is), the secant steps start from this share
# of the run's price instead.
FIRST_STEP_FLOOR = 0.5
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
    (the scenario's, the tariff caveat, the plan's, then ``extra_assumptions``: what the plan
    adds follows the scenario's and the caveat, ``added_assumptions``)."""
    orders = landed.per_order
    hashrate_th = float((orders["hashrate_th"] * orders["quantity"]).sum())
    power_w = float((orders["power_w"] * orders["quantity"]).sum())
    tariff_assumption = bool(orders["tariff_assumption"].any())
    assumptions = [*scenario.assumptions, *([ASSUMPTION_CAVEAT] if tariff_assumption else []),
                   *plan.assumptions, *extra_assumptions]
    site = fleet.site
    return {
        "plan": plan.name, "units": int(orders["quantity"].sum()), "hashrate_th": hashrate_th,
        "power_kw": power_w / 1000.0, "efficiency_j_per_th": power_w / hashrate_th,
        "mw_used": site.mw_used, "capex_usd": fleet.capex_usd,
        "capex_per_mw_usd": fleet.capex_usd / site.mw_used, "site_build_usd": site.build_usd,
        "site_fixed_cost_usd": site.fixed_usd,
        "tariffs_usd": float(orders["tariffs_usd"].sum()),
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
        # Above a take-or-pay floor only the avoidable share of the energy counts (the share
        # is 1 without take-or-pay, leaving the power as it is).
        "shutdown_power_usd_per_kwh": finance.shutdown_energy_usd_per_kwh(
            float((rigs.power_w * rigs.weight * rigs.energy_share).sum()) / 1000.0,
            float(market.price_usd[0, 0]), hashrate_th, btc_per_th_day, pool_fee),
    }


def path_metrics(
    flows: KernelFlows, cash_usd: np.ndarray, fleet: FleetArrays, market: MarketPaths,
    terms: Finance, solve_irr: bool = True,
) -> dict[str, np.ndarray]:
    """The per-path metrics ``[paths]`` other than the breakevens. On the hourly path the
    power costs beyond the energy line (transmission less sell-back credits) count as opex.
    ``solve_irr`` False: the IRR is left missing (NaN), most of the time of many paths."""
    capex_usd = fleet.capex_usd
    residual_usd = fleet.resale.value_usd(flows.final_hashprice_usd_per_ph_day)
    btc = flows.btc.sum(axis=1)
    revenue = flows.revenue_usd.sum(axis=1)
    energy = flows.energy_cost_usd.sum(axis=1)
    repair = flows.repair_cost_usd.sum(axis=1)
    # The site's fixed costs are the same on every path (zero without a priced site, which
    # leaves every sum below as it was bit for bit).
    fixed = fleet.site.fixed_usd
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
    # (fixed_by_day_usd is zeros without a priced site: the sum keeps its bits.)
    opex_btc = (opex_usd + fleet.site.fixed_by_day_usd[None, :]) / market.price_usd
    mine_net_btc = btc - opex_btc.sum(axis=1) + residual_usd / final_price
    buy_btc = capex_usd / market.price_usd[:, 0]
    hodl = terms.hodl_fraction
    npv = finance.npv(cash_usd, terms.discount_rate)
    return {
        "btc_mined": btc, "revenue_usd": revenue, "energy_cost_usd": energy,
        "repair_cost_usd": repair, "npv_usd": npv, "npv_per_mw_usd": npv / fleet.site.mw_used,
        "irr": finance.irr(cash_usd) if solve_irr else np.full(market.n_paths, np.nan),
        # Counted from the first delivery: cash that is never negative pays back at once
        # (payback_day 0, before any delivery), so 0 days, never a negative count.
        "payback_days": np.where(
            payback >= 0, np.maximum(payback - fleet.first_delivery_day, 0), np.nan),
        "cost_to_mine_usd_per_btc": finance.safe_ratio(
            cash_opex + fixed + capex_usd - residual_usd, btc),
        "cost_to_mine_cash_usd_per_btc": finance.safe_ratio(cash_opex + fixed, btc),
        "residual_value_usd": residual_usd,
        "buy_btc": buy_btc, "mine_net_btc": mine_net_btc,
        "mine_vs_buy_usd": (mine_net_btc - buy_btc) * final_price,
        "treasury_value_usd": revenue * (1 - hodl) - energy - repair - fixed - capex_usd
        + residual_usd + hodl * btc * final_price - power_net,
        "sell_back_credits_usd": credits, "transmission_usd": transmission,
    }


# The model of NPV behind the searches' first points sums days in blocks of this many (one
# curtailment decision a block): a seed needs no finer, and it is that many times cheaper.
MODEL_BLOCK_DAYS = 7


@dataclass(frozen=True)
class PriceResponse:
    """How a responsive network's hashprice answers a BTC price factor f:
    ``log(hashprice(f) / hashprice(1)) = L(log f)``, ``L(l) = c1 l + c2 l**2`` for ``0 <= l <=
    log_factor_max`` (the quadratic through the start and probes of the network, the highest
    at ``exp(log_factor_max)``), continued outside that range along its tangent at the nearer
    end (a quadratic would turn over there, the hashprice falling as the price rises).
    ``coefficients[2, ...]``: (c1, c2) per path and day, or per path and block of days."""

    coefficients: np.ndarray
    log_factor_max: float

    def growth(self, log_factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``exp(L(l))`` and ``dL/dl`` at ``l = log_factor`` (broadcast against the
        coefficients)."""
        c1, c2 = self.coefficients
        within = np.clip(log_factor, 0.0, self.log_factor_max)
        return (np.exp(c1 * log_factor + c2 * (2.0 * log_factor - within) * within),
                c1 + 2.0 * c2 * within)


def _growth(response: PriceResponse | None,
            log_factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``PriceResponse.growth``; None (an exogenous network): ``L(l) = l``, the price alone."""
    if response is None:
        return np.exp(log_factor), np.ones_like(log_factor)
    return response.growth(log_factor)


@dataclass(frozen=True)
class BreakevenStart:
    """Where the breakeven searches start, from the plan's own run: its NPV per path at the
    scenario's prices and a model of how NPV moves with the prices: per block of days b, the
    fleet's revenue R_b, energy cost C_b and repairs M_b if it ran (present values), and
    ``sum_b (R_b(f) - s C_b - M_b)`` over the blocks where ``R_b(f) > s C_b`` at BTC price
    factor f and power price scale s (the one site price times s): curtailment bends it, and
    a curtailed fleet pays no repairs; plus the resale at the horizon's hashprice, which moves
    with f. ``R_b(f) = R_b exp(L_b(log f))``, ``L_b(l) = c1_b l + c2_b l**2`` the
    network's answer to the price (c1 = 1, c2 = 0 on an exogenous network: R_b f).
    ``energy_usd_per_kwh`` is the one power price of every site (None when the sites' prices
    differ or one follows an hourly series: the run is then no point of the power search)."""

    npv_usd: np.ndarray  # [P]
    revenue_usd: np.ndarray  # [P, B] R_b: PV of the block's sold and kept BTC if it ran
    energy_usd: np.ndarray  # [P, B] C_b: PV of the block's energy cost if it ran
    repair_usd: np.ndarray  # [P, B] PV of the block's repairs if it ran
    at_run_usd: np.ndarray  # [P] the model at the run's prices
    # c1, c2 [P, B] of the network's answer to the price, revenue-weighted over each block;
    # None: an exogenous network.
    price_response: PriceResponse | None
    energy_usd_per_kwh: float | None
    resale: Resale
    final_hashprice_usd_per_ph_day: np.ndarray  # [P] the run's, which the resale is valued at
    # c1, c2 [P] of the horizon's last day; None: an exogenous network.
    final_price_response: PriceResponse | None
    resale_discount: float  # the horizon's discount factor

    def model_at_factor(self, factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The model at BTC price factors ``factor[P]`` (power at the run's prices), less
        its value at the run's prices, and its derivative in the factor."""
        log_factor = np.log(factor)
        growth, d_log_growth = _growth(self.price_response, log_factor[:, None])
        revenue = self.revenue_usd * growth
        change, slope = self._change(revenue - self.energy_usd,
                                     revenue * d_log_growth / factor[:, None])
        # The resale: its value at the horizon's hashprice, which moves with the factor.
        growth, d_log_growth = _growth(self.final_price_response, log_factor)
        hashprice = self.final_hashprice_usd_per_ph_day * growth
        resale_change = self.resale.value_usd(hashprice) - self.resale.value_usd(
            self.final_hashprice_usd_per_ph_day)
        resale_slope = self.resale.hashprice_slope(hashprice) * hashprice * d_log_growth / factor
        return (change + self.resale_discount * resale_change,
                slope + self.resale_discount * resale_slope)

    def model_at_scale(self, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The model at power price scales ``scale[P]`` (BTC at the run's prices), less its
        value at the run's prices, and its derivative in the scale."""
        return self._change(self.revenue_usd - self.energy_usd * scale[:, None],
                            -self.energy_usd)

    def _change(self, margin: np.ndarray, d_margin: np.ndarray) -> tuple[np.ndarray, ...]:
        # The fleet runs a block where revenue covers energy (the kernel's rule) and pays its
        # repairs only then.
        runs = margin > 0.0
        return (np.where(runs, margin - self.repair_usd, 0.0).sum(axis=1) - self.at_run_usd,
                np.where(runs, d_margin, 0.0).sum(axis=1))


def breakeven_start(
    flows: KernelFlows, cash_usd: np.ndarray, terms: Finance, fleet_th_by_day: np.ndarray,
    hashprice: np.ndarray, energy_usd_per_kwh: float | None, resale: Resale,
    price_response: PriceResponse | None = None,
) -> BreakevenStart:
    """The searches' start from the plan's run (flows and cash flows ``[P, T]``), its fleet's
    nameplate TH/s in service by day, the market's hashprice ``[P, T]``, the fleet's resale
    and the network's answer to the BTC price (per path and day; None: an exogenous network).
    On a day the fleet ran, its revenue and energy cost are the run's; on a day it was
    curtailed they are what it would have made and spent, from the days it ran: revenue per
    nameplate TH/s and unit of hashprice, and energy cost per nameplate TH/s, each
    interpolated over the days (a fleet's efficiency and decay change slowly)."""
    discount = finance.discount_factors(cash_usd.shape[1], terms.discount_rate)
    hodl = terms.hodl_fraction
    revenue = flows.revenue_usd * (discount * (1.0 - hodl))
    # Kept BTC is valued at the horizon's price, which scales with the factor too.
    revenue += flows.btc * (hodl * discount[-1] * flows.final_price_usd)[:, None]
    energy = flows.energy_cost_usd * discount
    # Repairs where the fleet ran, per USD of energy there (a path's days alike; idle days'
    # energy is still 0 here).
    repair_share = finance.safe_ratio(
        finance.present_value_unthreaded(flows.repair_cost_usd, discount), energy.sum(axis=1))
    in_service = fleet_th_by_day > 0.0
    unit = fleet_th_by_day * discount  # per nameplate TH/s, discounted
    # Extreme inputs (a zero hashprice, a subnormal price) can make a ratio non-finite: the
    # model then gives no first point there, and those rows take the bracketed search.
    with np.errstate(all="ignore"):
        for path in range(revenue.shape[0]):  # (np.interp is one path's days)
            ran = np.flatnonzero((energy[path] > 0.0) & in_service)
            idle = np.flatnonzero((energy[path] <= 0.0) & in_service)
            if ran.size == 0 or idle.size == 0:
                continue
            energy[path, idle] = (np.interp(idle, ran, energy[path, ran] / unit[ran])
                                  * unit[idle])
            per_hashprice = unit * hashprice[path]
            revenue[path, idle] = (np.interp(idle, ran, revenue[path, ran] / per_hashprice[ran])
                                   * per_hashprice[idle])
        weighted = (None if price_response is None
                    else [_blocks(revenue * by_day) for by_day in price_response.coefficients])
        revenue, energy = _blocks(revenue), _blocks(energy)
    by_block = final = None
    if price_response is not None:  # the blocks' revenue-weighted coefficients
        with np.errstate(all="ignore"):
            by_block = replace(price_response, coefficients=np.stack([
                np.where(revenue > 0.0, weighted[0] / revenue, 1.0),
                np.where(revenue > 0.0, weighted[1] / revenue, 0.0)]))
        final = replace(price_response, coefficients=price_response.coefficients[:, :, -1])
    repair = energy * np.nan_to_num(repair_share)[:, None]
    margin = revenue - energy
    return BreakevenStart(
        npv_usd=finance.npv(cash_usd, terms.discount_rate), revenue_usd=revenue,
        energy_usd=energy, repair_usd=repair,
        at_run_usd=np.where(margin > 0.0, margin - repair, 0.0).sum(axis=1),
        price_response=by_block, energy_usd_per_kwh=energy_usd_per_kwh,
        resale=resale, final_hashprice_usd_per_ph_day=flows.final_hashprice_usd_per_ph_day,
        final_price_response=final, resale_discount=float(discount[-1]))


def _blocks(by_day: np.ndarray) -> np.ndarray:
    """``[P, T]`` summed over blocks of ``MODEL_BLOCK_DAYS`` days (the last one shorter)."""
    starts = np.arange(0, by_day.shape[1], MODEL_BLOCK_DAYS)
    return np.add.reduceat(by_day, starts, axis=1)


# Newton steps on the model of NPV (``BreakevenStart``) for a first point, at most; they stop
# once every path's step is below this share of its value.
FIRST_STEP_ITERATIONS = 8
FIRST_STEP_SETTLED = 1e-4


def _first_point(
    start: BreakevenStart, npv_usd: np.ndarray, power: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Where the model of NPV from ``npv_usd`` at the run's prices is zero, in the BTC price
    factor (``power`` False) or in the power price scale (True), by Newton steps from the
    run's prices (never below ``FIRST_STEP_FLOOR`` of the last point: the model is flat where
    the fleet never runs), and the model's slope there. A path on which the fleet never runs
    has no slope, and extreme inputs can overflow: NaN or infinite, left to the bracketed
    search. A power price search whose model loses money even with free power starts at 0
    (most paths of a plan whose power breakeven is missing): NPV there settles it in one round
    (no root), or, if the model was wrong, brackets the root."""
    model = start.model_at_scale if power else start.model_at_factor
    x = np.ones(npv_usd.shape[0])
    slope = np.full_like(x, np.nan)
    with np.errstate(all="ignore"):
        for _ in range(FIRST_STEP_ITERATIONS):
            change, slope = model(x)
            x_next = np.maximum(x - (npv_usd + change) / slope, FIRST_STEP_FLOOR * x)
            settled = ~(np.abs(x_next - x) > FIRST_STEP_SETTLED * x)  # (NaN: settled too)
            x = x_next
            if settled.all():
                break
        if power:
            free = np.zeros_like(x)
            change, free_slope = model(free)
            no_root = npv_usd + change < 0.0
            x, slope = np.where(no_root, free, x), np.where(no_root, free_slope, slope)
    return x, slope


@dataclass(frozen=True)
class _SearchRows:
    """The rows of the breakeven searches: rows [0, P) the BTC price factor on each path, rows
    [P, 2P) (with a power search) the power price on each path. ``x0`` is each row's value at
    the plan's run: factor 1, the sites' one power price (NaN when they have none)."""

    start: BreakevenStart
    n_paths: int
    searches: int  # 1: BTC price only; 2: and power price

    @property
    def n_rows(self) -> int:
        return self.searches * self.n_paths

    @property
    def is_power(self) -> np.ndarray:
        return np.arange(self.n_rows) >= self.n_paths

    @property
    def x0(self) -> np.ndarray:
        return np.where(self.is_power, self.start.energy_usd_per_kwh or np.nan, 1.0)

    def npv_rows(self, npv_function: NpvFunction) -> finance.RowFunction:
        """``npv_function`` as a function of the rows' values (``finance.RowFunction``)."""
        path_index = np.tile(np.arange(self.n_paths), self.searches)
        is_power = self.is_power

        def npv_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
            power = is_power[rows]
            return npv_function(path_index[rows], np.where(power, 1.0, x),
                                np.where(power, x, np.nan))
        return npv_rows

    def first_step(self, f_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's first point and slope from the model of NPV (``BreakevenStart``) with
        ``f_start``, the NPV per row at the run's prices; in USD/kWh for the power rows."""
        n = self.n_paths
        factor, factor_slope = _first_point(self.start, f_start[:n], power=False)
        if self.searches == 1:
            return factor, factor_slope
        scale, scale_slope = _first_point(self.start, f_start[n:], power=True)
        site = self.start.energy_usd_per_kwh or np.nan
        with np.errstate(all="ignore"):  # a subnormal price: infinite, bracketed search
            return (np.concatenate([factor, scale * site]),
                    np.concatenate([factor_slope, scale_slope / site]))


def breakeven_metrics(
    npv_at: NpvFunction, capex_usd: float, site_usd_per_kwh: float | None, market: MarketPaths,
    start: BreakevenStart, seed_npv_at: NpvFunction | None = None,
) -> dict[str, np.ndarray]:
    """Day-0 BTC price, hashprice and site power price at which NPV = 0, per path, to 0.1%.

    The BTC price breakeven scales the whole price path, so curtailment and a responsive
    network respond; the hashprice breakeven is the same factor on the day-0 hashprice (one
    search for both: day 0's difficulty is the scenario's at any price). The BTC price and
    power price searches run together: every round is one simulation whose rows are both
    searches' candidates on every open path (``_SearchRows``). Each starts from a model of NPV
    built from the plan's run (``start``), then takes secant steps, usually settled in two
    rounds. With sampled failures, ``seed_npv_at`` (the plan with failures in expectation, a
    handful of cohort rows) is solved first that way, nearly free, and its breakeven, shifted
    by the two models' difference at the scenario's prices, seeds the secant steps on
    ``npv_at``, usually settled in one round. Rows that do not settle fall back to a bracketed
    search. ``site_usd_per_kwh`` (the highest site price, where the bracket starts) None: the
    site has no one power price (an hourly series), its breakeven is missing (NaN) and only
    the BTC price is searched. The power price is the all-in price of a kWh of IT load
    (``Site.energy_usd_per_kwh``: PUE x power + per-kWh hosting).
    """
    n_paths = market.n_paths
    search = _SearchRows(start, n_paths, 1 if site_usd_per_kwh is None else 2)
    is_power, x0, rows = search.is_power, search.x0, np.arange(search.n_rows)
    npv_tol_usd = BREAKEVEN_NPV_TOLERANCE * max(capex_usd, 1.0)
    f0 = np.tile(start.npv_usd, search.searches)
    if seed_npv_at is None:
        solution, _, done = _refined(search.npv_rows(npv_at), rows, *search.first_step(f0),
                                     ~is_power, npv_tol_usd=npv_tol_usd)
    else:
        seed_rows = search.npv_rows(seed_npv_at)
        # The expected-failure model at the run's prices: its difference to the run shifts
        # its breakeven (a Newton step with its own slope there).
        based = np.flatnonzero(np.isfinite(x0))
        f0_seed = np.full(search.n_rows, np.nan)
        f0_seed[based] = seed_rows(x0[based], based)
        seed, seed_slope, _ = _refined(seed_rows, rows, *search.first_step(f0_seed), ~is_power,
                                       npv_tol_usd=npv_tol_usd)
        with np.errstate(all="ignore"):  # NaN: the bracketed search
            seed -= (f0 - f0_seed) / seed_slope
        solution, _, done = _refined(search.npv_rows(npv_at), rows, seed, seed_slope,
                                     ~is_power, npv_tol_usd=npv_tol_usd)
    unsolved = np.flatnonzero(~done)
    if unsolved.size:  # a breakeven of 0 or none, a kinked NPV, or no first point
        bracket_start = np.where(
            is_power, max(site_usd_per_kwh or 0.0, MIN_POWER_SEARCH_START_USD_PER_KWH), 1.0)
        solution[unsolved] = _solve_rows(search.npv_rows(npv_at), unsolved, bracket_start,
                                         ~is_power, npv_tol_usd)
    price_factor = solution[:n_paths]
    power = solution[n_paths:] if search.searches == 2 else np.full(n_paths, np.nan)
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
    npv_rows: finance.RowFunction, rows: np.ndarray, x: np.ndarray, slope: np.ndarray,
    increasing: np.ndarray, npv_tol_usd: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Secant steps on ``npv_rows`` for ``rows`` from ``x``, each round one call on the rows
    still open: the first step with ``slope`` (the first point's model slope: the secant
    through the plan's run, far from the root, would be the cruder one, and a row that
    settles at once takes a step with it), the others along the secant through the last two
    points; a secant of the wrong sign (NPV is monotone,
    rising in x where ``increasing``) keeps the slope before. A row settles, and takes its
    step, when the step is within ``BREAKEVEN_STEP_TOLERANCE`` of its value or its last two
    points bracket the root within that (the step then stays inside the bracket); or at
    its value when NPV there is within ``npv_tol_usd`` of zero. A step below zero goes to 0,
    where NPV settles it as ``finance.breakeven`` does (0: a rising NPV already >= 0; NaN: a
    falling one < 0, no root) or brackets the root. Returns the values, their last slopes
    and which rows settled (NaN and not settled: ``x`` negative or NaN, or no settling in
    ``REFINE_ROUNDS``)."""
    out = np.full(rows.size, np.nan)
    out_slope = np.full(rows.size, np.nan)
    done = np.zeros(rows.size, dtype=bool)
    open_rows = np.flatnonzero(np.isfinite(x) & (x >= 0.0) & np.isfinite(slope))
    x, slope = x[open_rows], slope[open_rows]
    x_prev = f_prev = np.full(open_rows.size, np.nan)  # no point before the first
    for _ in range(REFINE_ROUNDS):
        if open_rows.size == 0:
            break
        f = npv_rows(x, rows[open_rows])
        with np.errstate(all="ignore"):  # a flat NPV or extreme inputs: left open
            secant = (f - f_prev) / np.where(x != x_prev, x - x_prev, np.nan)
            slope = np.where(np.isfinite(secant) & (secant * slope > 0.0), secant, slope)
            step = np.where(np.abs(f) <= npv_tol_usd, 0.0, -f / slope)
            x_next = np.maximum(x + step, 0.0)
            tolerance = BREAKEVEN_STEP_TOLERANCE * np.abs(x)
            bracketed = (np.sign(f) != np.sign(f_prev)) & (np.abs(x - x_prev) <= tolerance)
        settled = np.isfinite(step) & ((np.abs(step) <= tolerance) | bracketed)
        # At x = 0 (a step went below): settled there, or a bracket [0, x_prev].
        sign = np.where(increasing[rows[open_rows]], 1.0, -1.0)
        at_zero = (x == 0.0) & (sign * f >= 0.0)
        x_next = np.where(at_zero, np.where(f == 0.0, 0.0, np.where(sign > 0, 0.0, np.nan)),
                          x_next)
        settled |= at_zero
        out[open_rows[settled]] = x_next[settled]
        out_slope[open_rows[settled]] = slope[settled]
        done[open_rows[settled]] = True
        keep = ~settled & np.isfinite(x_next)
        open_rows, x_prev, f_prev, x, slope = (open_rows[keep], x[keep], f[keep], x_next[keep],
                                               slope[keep])
    return out, out_slope, done


def no_breakevens(n_paths: int) -> dict[str, np.ndarray]:
    """The breakevens when not solved: missing (NaN) on every path."""
    return {name: np.full(n_paths, np.nan) for name in BREAKEVEN_METRICS}
