"""evaluate(plans, scenario) -> Results: the evaluation as named steps, and the one module
that calls the jitted kernels.

Per plan: orders -> landed costs -> payment schedule -> fleet arrays -> site hours -> kernel
flows -> cash flows (per site, the sites' put together: ``fleetcalc.sites``) -> financing
(debt and tax) -> metrics -> breakevens -> frames, on the scenario's market (computed once for
all plans). Each step is a function with typed inputs and outputs in the module that owns it
(``fleet``, ``tariffs``, ``network``, ``schedule``, ``power_market``, ``cashflows``,
``financing``, ``plan_metrics``, ``frames``); the kernel steps are here: they turn
arrays into contiguous inputs once, allocate the kernel's output and scratch buffers, and call
it. Kernel calls need no lock: each writes only the buffers it was given, and the kernels use
no Numba threading layer (the rig-day kernel runs its tasks on its own thread pool).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fleetcalc import compile_ahead, finance, financing, metrics
from fleetcalc.cashflows import FleetArrays, KernelFlows, PowerFlows, cash_flows, fleet_arrays
from fleetcalc.errors import InputError
from fleetcalc.fleet import RigArrays, orders_frame, plan_rig_keys
from fleetcalc.frames import (
    PlanFrames,
    daily_frame,
    orders_result,
    paths_frame,
    result_frames,
    sites_frame,
    summary_row,
    tariff_lines_frame,
)
from fleetcalc.local_models import DAY_FIELDS, Candidates, CohortDays, LocalModels, thresholds
from fleetcalc.network import (
    MarketPaths,
    MarketRows,
    check_fleet_share,
    fleet_btc_per_th_day,
    market_paths,
    market_rows,
)
from fleetcalc.plan import (
    Finance,
    Plan,
    Site,
    check_plan_against_scenario,
    default_plans,
    load_plan,
    site_prices,
)
from fleetcalc.plan_metrics import (
    NpvFunction,
    PriceResponse,
    breakeven_metrics,
    breakeven_start,
    fixed_metrics,
    no_breakevens,
    path_metrics,
    shutdown_metrics,
)
from fleetcalc.plausibility import warnings_for
from fleetcalc.power_market import SitePower, site_power, transmission_usd
from fleetcalc.power_prices import HourlyPrices
from fleetcalc.scenario import Scenario, load_scenario
from fleetcalc.schedule import with_payments
from fleetcalc.sites import SiteRun, combine_runs
from fleetcalc.tariffs import LandedCosts, apply_overrides, load_schedule, price_orders

# A free power price in a breakeven search stands as 1e-9 USD/kWh (the kernel runs at 1 USD/kWh
# with the BTC price divided by it): its energy cost is below any tolerance a breakeven is
# solved to.
MIN_ENERGY_USD_PER_KWH = 1e-9


class EvaluationCancelled(Exception):
    """``evaluate``'s ``cancelled`` hook returned True: nobody wants these results any more
    (the app's next edit came in while breakevens were being solved)."""


@dataclass(frozen=True, eq=False)
class Results:
    """Everything an evaluation produced, as polars frames (means over paths where relevant);
    the schemas are declared in ``fleetcalc.frames``."""

    summary: pl.DataFrame  # one row per plan
    daily: pl.DataFrame  # one row per plan and day
    orders: pl.DataFrame  # one row per order: landed cost breakdown and totals
    tariff_lines: pl.DataFrame  # one row per order and tariff program in force
    paths: pl.DataFrame  # one row per plan and Monte Carlo path
    market: pl.DataFrame  # one row per day: the scenario's market (mean over paths)
    halvings: pl.DataFrame  # one row per path: the next halving's height, day and date
    sites: pl.DataFrame  # one row per plan and site: the site's own metrics
    scenario: Scenario

    def assumption_list(self) -> list[str]:
        """The scenario's assumptions, then each plan's and any the evaluation added (such as
        unverified tariffs), each once, in order."""
        from fleetcalc.plan_metrics import added_assumptions

        items = list(self.scenario.assumptions)
        for text in self.summary["assumptions"].to_list():
            items += [item for item in added_assumptions(text or "", self.scenario).split("; ")
                      if item and item not in items]
        return items

    def records(self) -> list[dict[str, Any]]:
        """The summary as JSON-ready dicts: NaN becomes None (a metric that does not exist)."""
        return [metrics.json_record(row) for row in self.summary.iter_rows(named=True)]

    def site_records(self) -> dict[str, list[dict[str, Any]]]:
        """Each plan's sites as JSON-ready dicts (the rows of ``sites`` without ``plan``)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for row in self.sites.iter_rows(named=True):
            record = metrics.json_record(row)
            out.setdefault(record.pop("plan"), []).append(record)
        return out


def evaluate(
    plans: Sequence[Plan | str | Path] | Plan | str | Path | None = None,
    scenario: Scenario | str | Path | None = None,
    *,
    breakevens: bool = True,
    percentiles: bool = True,
    cancelled: Callable[[], bool] | None = None,
    cache: PlanCache | None = None,
) -> Results:
    """Evaluate purchase plans under a scenario.

    ``plans``: Plan objects or TOML paths (or one of them); None or empty: the built-in
    default plans. ``scenario``: a Scenario or a TOML path; None: the built-in default
    scenario. Plans and scenarios made in memory are checked as the parsers check a file.
    ``breakevens``: solve breakeven BTC and power prices (3-4 rounds on every open path's
    candidates, most answered by exact models of the flows instead of the kernel:
    ``fleetcalc.local_models``; ~2x an evaluation without them).
    ``percentiles``: with several paths, solve every path's IRRs (~80 passes over its cash
    flows each) and summarise the paths' P10/P50/P90; False leaves those missing (IRR
    headlines are medians over paths) and gives the means at once: the app's first stage.
    ``cancelled``: asked between plans, between a plan's long steps and before each breakeven
    re-run; when it returns True the evaluation stops with ``EvaluationCancelled``.
    ``cache``: each plan's rows of an earlier evaluation of the same inputs are taken from it
    (and new ones put in), the same bits as computing them (``PlanCache``): the app
    re-evaluates every plan after an edit of one.
    Raises ``InputError`` on bad input, ``TypeError`` for arguments of the wrong type.
    """
    scenario = _as_scenario(scenario)
    plan_list = checked_plans(plans, scenario)
    helper = _start_compile_ahead(scenario)
    try:
        market = scenario_market(scenario)
    except BaseException:
        compile_ahead.stop(helper)
        raise
    compile_ahead.wait(helper)
    schedule = apply_overrides(load_schedule(), scenario.tariff_overrides)
    stop = cancelled or _never
    stages = Stages(breakevens, percentiles, stop)
    parts = []
    for plan in plan_list:
        _check_cancelled(stop)
        key = None if cache is None else plan_key(plan, scenario, stages)
        part = None if cache is None else cache.get(key)
        if part is None:
            part = _evaluate_plan(plan, scenario, market, schedule, stages,
                                  None if cache is None else cache.priced_sites)
            if cache is not None:
                cache.put(key, part)
        parts.append(part)
    return Results(**result_frames(parts, scenario, market), scenario=scenario)


class _LruCache:
    """Values by key, the most recently used ``max_entries`` kept; safe to share between
    threads (two computing the same key at once compute the same value, the later is kept)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class PlanCache(_LruCache):
    """One plan's rows of the result frames (``frames.PlanFrames``) by everything that
    determines them (``plan_key``), the most recently used ``max_entries`` kept.

    A plan's rows depend on the plan, the scenario and the steps run, never on the other
    plans evaluated beside it (the market is the scenario's, the tariff schedule the shipped
    one with the scenario's overrides), so rows from the cache are the bits the evaluation
    would compute. The app keeps one: after an edit of one plan, only that plan is evaluated
    again. An edit of the scenario changes every key, but rarely what comes before the
    kernel: ``priced_sites`` keeps each site's landed costs and fleet arrays by the plan and
    the scenario without its market (``pricing_scenario``), so an edit of the BTC price, the
    network or the paths skips them (~30 ms of the default plans' ~170). Safe to share
    between threads."""

    def __init__(self, max_entries: int = 64) -> None:
        super().__init__(max_entries)
        self.priced_sites = _LruCache(max_entries)

    def get(self, key: Hashable) -> PlanFrames | None:
        return super().get(key)  # type: ignore[no-any-return]


# The scenario's fields the steps before the kernel never read (the market and its paths,
# and names and notes): ``pricing_scenario`` blanks them.
_MARKET_FIELDS = {"name": "", "seed": 0, "paths": 0, "btc": None, "network": None,
                  "assumptions": (), "source": "", "price_series_usd": None,
                  "hashrate_series_ehs": None}


def pricing_scenario(scenario: Scenario) -> Scenario:
    """``scenario`` as the steps up to the kernel (orders, landed costs, payments, fleet
    arrays) see it: its market and names blanked (None where an object was, so a step that
    starts reading one fails instead of caching stale rows). It is those steps' input and
    their cache key, so the key holds everything that determines them."""
    return replace(scenario, **_MARKET_FIELDS)


def plan_key(plan: Plan, scenario: Scenario, stages: Stages) -> Hashable:
    """What determines a plan's rows: the plan and the scenario (frozen, compared field by
    field), the steps run and, per site on an hourly series, the series' days and a digest of
    its prices (a loaded series is not part of a plan's equality, and its file may change
    between evaluations). The catalog and tariff schedule are shipped data, fixed in a
    process."""
    series = tuple(None if site_plan.site.power_price_series is None
                   else _series_digest(site_prices(site_plan))
                   for site_plan, _ in plan.site_plans())
    return plan, series, scenario, stages.breakevens, stages.percentiles


def _series_digest(prices: HourlyPrices | None) -> tuple[Any, ...] | None:
    if prices is None:
        return None
    values = np.ascontiguousarray(prices.usd_per_mwh)
    return (prices.source, prices.first_day, values.shape,
            hashlib.blake2b(values.tobytes(), digest_size=16).hexdigest())


@dataclass(frozen=True)
class Stages:
    """Which optional steps an evaluation runs (``evaluate``'s keywords) and its stop hook;
    ``network_arrays``: the responsive network's arrays, lent in turn to the probe
    (``price_response``) and to every plan's breakeven searches of the evaluation (one plan
    after the other in one thread: each call uses them only until it returns), so that they
    are faulted in once an evaluation, not once a plan and again for a new scenario's probe
    (~8,000 page faults, ~20 ms of system time, on the default scenario with 200 paths)."""

    breakevens: bool
    percentiles: bool
    cancelled: Callable[[], bool]
    network_arrays: KernelBuffers = field(default_factory=lambda: KernelBuffers(),
                                          compare=False)

    def solve_irr(self, n_paths: int) -> bool:
        """One path's IRR is one solve and its own headline; many are the distribution's."""
        return self.percentiles or n_paths == 1


def _never() -> bool:
    return False


def _check_cancelled(cancelled: Callable[[], bool]) -> None:
    if cancelled():
        raise EvaluationCancelled("evaluation cancelled")


def _cancellable(npv_at: NpvFunction, cancelled: Callable[[], bool]) -> NpvFunction:
    """``npv_at`` that first asks ``cancelled``: a breakeven search is most of an evaluation's
    time, and its re-runs are where a stale one stops."""

    def checked(path_index: np.ndarray, price_factor: np.ndarray,
                energy_usd_per_kwh: np.ndarray) -> np.ndarray:
        _check_cancelled(cancelled)
        return npv_at(path_index, price_factor, energy_usd_per_kwh)

    return checked


def _start_compile_ahead(scenario: Scenario) -> Any:
    """With an empty Numba cache, the rig-day kernel compiles in a second process while this
    one compiles the responsive chain (``fleetcalc.compile_ahead``); the exogenous chain
    compiles in a fraction of a second, so nothing to overlap there."""
    if (scenario.network.model != "responsive"
            or compile_ahead.small(scenario.paths * scenario.horizon_days
                                   * compile_ahead.PYTHON_S_PER_MARKET_DAY)):
        return None  # (a small market runs as Python while cold: nothing to overlap)
    from kernels.responsive import simulate_responsive_tasks_nb
    from kernels.rigdays import simulate_tasks_daily_nb

    return compile_ahead.start(simulate_tasks_daily_nb, simulate_responsive_tasks_nb)


def compile_rigdays_ahead() -> None:
    """``fleetcalc.compile_ahead``'s helper process: the first default plan on a one-path
    exogenous scenario without breakevens, which compiles (into Numba's cache) the rig-day
    kernel as every plan without hourly prices calls it, and the cheap exogenous chain."""
    scenario = load_scenario(None)
    scenario = replace(scenario, paths=1, network=replace(scenario.network, model="exogenous"))
    evaluate(default_plans()[:1], scenario, breakevens=False)


def scenario_market(scenario: Scenario) -> MarketPaths:
    """The market step: the scenario's daily market arrays through the jitted chains (cached
    per scenario)."""
    return market_paths(scenario, _simulate_chain, _simulate_responsive)


def _evaluate_plan(
    plan: Plan, scenario: Scenario, market: MarketPaths, schedule: pl.DataFrame,
    stages: Stages, priced_sites: _LruCache | None = None,
) -> PlanFrames:
    runs, fleet_th_by_day = _site_runs(plan, scenario, market, schedule, priced_sites)
    # Asked between the long steps too: a stale evaluation's Python work holds the GIL the
    # app's next edit needs (with 200 paths, the IRR searches alone take ~0.1 s).
    _check_cancelled(stages.cancelled)
    run = combine_runs(plan, runs)
    orders = run.landed.per_order
    financed = financing.financed_flows(run.cash_usd, run.flows, run.fleet, orders,
                                        plan.finance, scenario.start_date)
    power_assumptions = tuple(dict.fromkeys(
        a for site_run in runs if site_run.power is not None for a in site_run.power.assumptions))
    fixed = fixed_metrics(plan, scenario, run.landed, run.fleet, market.n_paths,
                          [*power_assumptions,
                           *financing.assumptions(orders, plan.finance, financed)])
    fixed |= financing.fixed_metrics(orders, financed)
    fixed |= shutdown_metrics(run.fleet, market, scenario.network.pool_fee,
                              _day0_energy_usd_per_kwh(runs))
    fixed["warnings"] = warnings_for(plan, scenario)
    solve_irr = stages.solve_irr(market.n_paths)
    values = path_metrics(run.flows, run.cash_usd, run.fleet, market, plan.finance, solve_irr)
    _check_cancelled(stages.cancelled)
    values |= financing.financing_metrics(financed, plan.finance, values["npv_usd"],
                                          values["irr"], solve_irr)
    if stages.breakevens:
        values |= _breakevens(plan, runs, run, scenario, market, fleet_th_by_day,
                              stages.cancelled, stages.network_arrays)
    else:
        values |= no_breakevens(market.n_paths)
    return PlanFrames(
        summary=summary_row(fixed, values, market.n_paths, stages.breakevens,
                            stages.percentiles),
        daily=daily_frame(plan.name, scenario, market, run.fleet, run.flows, run.cash_usd,
                          financed),
        orders=orders_result(plan.name, run.landed, run.flows),
        tariff_lines=tariff_lines_frame(plan.name, run.landed),
        paths=paths_frame(plan.name, values),
        sites=sites_frame(plan.name, [
            (site_run.plan.site, fixed, values) if len(runs) == 1
            else _site_metrics(site_run, scenario, market, solve_irr) for site_run in runs]),
        mode_names=run.flows.mode_names,
    )


def _site_runs(
    plan: Plan, scenario: Scenario, market: MarketPaths, schedule: pl.DataFrame,
    priced_sites: _LruCache | None = None,
) -> tuple[list[SiteRun], np.ndarray]:
    """Each site's run of the plan, and the nameplate TH/s of its whole fleet by day
    (``priced_sites``: sites' steps before the kernel by their inputs, ``PlanCache``)."""
    sites = [(site_plan, np.asarray(indices, dtype=np.int64))
             for site_plan, indices in plan.site_plans()]
    pricing = pricing_scenario(scenario)
    priced = []
    for site_plan, indices in sites:
        # The schedule is the shipped one with the overrides, which are in ``pricing``.
        key = (site_plan, tuple(indices.tolist()), plan, pricing)
        site = None if priced_sites is None else priced_sites.get(key)
        if site is None:
            site = _price_site(site_plan, indices, plan, pricing, schedule)
            if priced_sites is not None:
                priced_sites.put(key, site)
        priced.append(site)
    # The plan's whole fleet counts against the network, at whichever site it mines.
    fleet_th_by_day = sum(fleet.hashrate_th_by_day for _, fleet in priced)
    check_fleet_share(fleet_th_by_day, market, scenario, plan.source)
    return [_run_site(site_plan, indices, landed, fleet, scenario, market, fleet_th_by_day)
            for (site_plan, indices), (landed, fleet) in zip(sites, priced, strict=True)
            ], fleet_th_by_day


def _breakevens(
    plan: Plan, runs: list[SiteRun], run: SiteRun, scenario: Scenario, market: MarketPaths,
    fleet_th_by_day: np.ndarray, cancelled: Callable[[], bool], network_arrays: KernelBuffers,
) -> dict[str, np.ndarray]:
    """The breakevens step: the searches (``plan_metrics.breakeven_metrics``) on the plan's
    sites (``runs``, put together in ``run``), starting from its run (``network_arrays``:
    ``Stages``)."""
    npv_at = _cancellable(_npv_function(runs, market, scenario, plan.finance, fleet_th_by_day,
                                        network_arrays=network_arrays), cancelled)
    # A site on an hourly series has no one power price to solve for.
    series_priced = any(site.power_price_series is not None for site in plan.sites)
    site_prices = {site.energy_usd_per_kwh for site in plan.sites}
    start = breakeven_start(
        run.flows, run.cash_usd, plan.finance, fleet_th_by_day, market.hashprice_usd_per_ph_day,
        None if series_priced or len(site_prices) > 1 else site_prices.pop(),
        run.fleet.resale, price_response(scenario, network_arrays))
    return breakeven_metrics(
        npv_at, run.fleet.capex_usd,
        None if series_priced else max(site.energy_usd_per_kwh for site in plan.sites),
        market, start, _seed_npv_function(runs, market, scenario, plan.finance, fleet_th_by_day,
                                          network_arrays))


def _price_site(
    site_plan: Plan, order_indices: np.ndarray, plan: Plan, scenario: Scenario,
    schedule: pl.DataFrame,
) -> tuple[LandedCosts, FleetArrays]:
    """One site's steps up to the kernel: orders -> landed costs -> payment schedule -> fleet
    arrays (``site_plan``: the plan as if it held only that site; its orders are
    ``order_indices`` of ``plan``)."""
    orders = orders_frame(site_plan, scenario)
    landed = with_payments(price_orders(orders, schedule, scenario.origin_risk))
    fleet = fleet_arrays(landed, site_plan, scenario)
    if site_plan is not plan:  # the rigs' random streams as in the whole plan (fleetcalc.sites)
        quantities = np.array([order.quantity for order in plan.orders], dtype=np.int64)
        keys = plan_rig_keys(quantities, order_indices, scenario.failures == "sampled")
        fleet = replace(fleet, rigs=replace(fleet.rigs, rig_key=keys))
    return landed, fleet


def _run_site(
    site_plan: Plan, order_indices: np.ndarray, landed: LandedCosts, fleet: FleetArrays,
    scenario: Scenario, market: MarketPaths, fleet_th_by_day: np.ndarray,
) -> SiteRun:
    """One site's site hours, kernel flows and cash flows (``fleet_th_by_day``: the whole
    plan's fleet)."""
    power = site_power(site_plan, scenario, landed.per_order, fleet.rigs)
    flows = kernel_flows(fleet, market, scenario, fleet_th_by_day=fleet_th_by_day, power=power)
    return SiteRun(site_plan, order_indices, landed, fleet, flows,
                   cash_flows(flows, fleet, site_plan.finance), power)


def _day0_energy_usd_per_kwh(runs: list[SiteRun]) -> np.ndarray:
    """Per rig of the plan (in ``combine_runs`` order), the energy price of day 0 for the
    shutdown prices: the rig's price, times its site's mean paid price that day when the site
    gives hours (1 for a site without a series, whose price the rig carries)."""
    return np.concatenate([
        run.fleet.rigs.energy_usd_per_kwh * (1.0 if run.power is None
                                             else run.power.day0_paid_usd_per_kwh)
        for run in runs])


# The BTC price factors at which the breakevens' first step probes the responsive network's
# answer to the price (most breakevens lie within 0.5-7x of the start on the default
# scenario's paths; a quadratic through these two and the start put the searches' first
# points ~0.3% from the roots, median, on the default plans, against ~5% with a power law
# through 1.5x alone).
PROBE_PRICE_FACTORS = (1.5, 3.0)


# (Four scenarios: each holds two arrays of paths x days, as eight held one before.)
_PRICE_RESPONSES = _LruCache(4)


def price_response(scenario: Scenario,
                   network_arrays: KernelBuffers | None = None) -> PriceResponse | None:
    """How the scenario's hashprice moves with a BTC price factor, per path and day
    (``plan_metrics.PriceResponse``): the quadratic in log(factor) through the start and runs
    of its responsive network at ``PROBE_PRICE_FACTORS`` (cached per scenario: every plan's
    breakevens start from it; ``clear_breakeven_caches``); None on the exogenous network,
    whose hashprice is the price times a fixed BTC rate. ``network_arrays``: the arrays the
    probe runs in (``Stages``; None: fresh ones)."""
    if scenario.network.model != "responsive":
        return None
    response = _PRICE_RESPONSES.get(scenario)
    if response is None:
        response = _probe(scenario, KernelBuffers() if network_arrays is None
                          else network_arrays)
        _PRICE_RESPONSES.put(scenario, response)
    return response


def _probe(scenario: Scenario, network_arrays: KernelBuffers) -> PriceResponse:
    """``price_response`` computed: the scenario's responsive network at the probes."""
    market = scenario_market(scenario)
    # Each probe's chord slope from the start, y / l (l = log factor, y = log hashprice ratio),
    # one probe after the other in the same lent arrays (a call's fresh outputs cost more in
    # page faults than the network itself).
    responsive = _lent_responsive(network_arrays)
    log_a, log_b = np.log(PROBE_PRICE_FACTORS)
    # A day mining nothing (no subsidy, no fees) gives NaN coefficients: the model then gives
    # no first point on that path, whose rows take the bracketed search.
    with np.errstate(all="ignore"):
        slope_a, slope_b = (
            np.log(factor * market_rows(market, scenario, None, np.full(market.n_paths, factor),
                                        responsive, network_arrays.array).btc_per_th_day
                   / market.btc_per_th_day) / log_factor
            for factor, log_factor in zip(PROBE_PRICE_FACTORS, (log_a, log_b), strict=True))
        c2 = (slope_b - slope_a) / (log_b - log_a)
    return PriceResponse(np.stack([slope_a - c2 * log_a, c2]), float(log_b))


def clear_breakeven_caches() -> None:
    """Forget what the breakevens cache per scenario (``price_response``): the next
    evaluation with breakevens pays for it again (``benchmarks.breakevens`` counts it)."""
    _PRICE_RESPONSES.clear()


def _site_metrics(
    run: SiteRun, scenario: Scenario, market: MarketPaths, solve_irr: bool,
) -> tuple[Site, dict[str, Any], dict[str, np.ndarray]]:
    """A site's own fixed and per-path metrics (its row of the sites frame)."""
    fixed = fixed_metrics(run.plan, scenario, run.landed, run.fleet, market.n_paths)
    return run.plan.site, fixed, path_metrics(run.flows, run.cash_usd, run.fleet, market,
                                              run.plan.finance, solve_irr)


def kernel_flows(
    fleet: FleetArrays, market: MarketPaths, scenario: Scenario,
    energy_usd_per_kwh: np.ndarray | None = None, buffers: KernelBuffers | None = None,
    fleet_th_by_day: np.ndarray | None = None, *, power: SitePower | None = None,
    rows: MarketRows | None = None,
) -> KernelFlows:
    """The kernel-flows step: the rig-day kernel on the plan's fleet (on the hourly path with
    the site hours ``power``, None: every rig on the daily path) and the market, or the rows
    ``rows`` of it (``network.market_rows``: a breakeven search's candidates, each a path at a
    BTC price factor with the network that price meets; each row keeps its path's random
    failures), with, optionally, the site's power price set per row. ``buffers`` lends the
    kernel's arrays (see ``_run_kernel``): flows made in lent buffers are overwritten by the
    next call that lends them. ``fleet_th_by_day``: the nameplate hashrate of the plan's whole
    fleet (default this fleet's), which finds no more blocks than its network
    (``network.fleet_btc_per_th_day``).

    A per-path energy price x (USD per kWh of IT load, all-in) is run as energy 1 USD/kWh
    (times each rig's avoidable share, see ``fleetcalc.site_costs``) with the BTC price divided
    by x: every curtailment decision is the same, and every USD flow is x times the kernel's (a
    site without a series gives its hours at 1 USD/kWh and its price as the rigs' factor, so
    this holds on the hourly path too). The take-or-pay floor, owed whether the units run or
    not, is added to the energy cost.
    """
    from kernels import rigdays as k

    if power is None and fleet.rigs.hourly:
        raise ValueError("this fleet runs on the hourly path: pass its site hours "
                         "(power_market.site_power)")
    if rows is None:
        rows = market_rows(market, scenario)
    price = rows.price_usd
    btc_per_th_day = fleet_btc_per_th_day(
        rows.btc_per_th_day, rows.hashrate_ehs,
        fleet.hashrate_th_by_day if fleet_th_by_day is None else fleet_th_by_day)
    usd_scale = np.ones(price.shape[0])
    energy_override = None
    if energy_usd_per_kwh is not None:
        usd_scale = np.maximum(energy_usd_per_kwh, MIN_ENERGY_USD_PER_KWH)
        price = price / usd_scale[:, None]
        energy_override = fleet.rigs.energy_share
    daily, groups, power_out = _run_kernel(
        fleet.rigs, btc_per_th_day, price, scenario.network.pool_fee,
        scenario.failures == "sampled", scenario.seed, fleet.n_orders, energy_override, buffers,
        power, rows.path_index,
    )
    # In the order of cashflows.ORDER_TOTAL_COLUMNS.
    order_columns = [k.GROUP_BTC, k.GROUP_REVENUE_USD, k.GROUP_ENERGY_USD, k.GROUP_REPAIR_USD,
                     k.GROUP_RUNNING_UNIT_DAYS, k.GROUP_FAILURES]
    energy_cost_usd = daily[:, k.DAILY_ENERGY_USD] * usd_scale[:, None]
    final_price_usd = rows.price_usd[:, -1]
    floor_usd = fleet.site.take_or_pay_usd(None if energy_usd_per_kwh is None else usd_scale)
    if floor_usd is not None:
        energy_cost_usd = energy_cost_usd + floor_usd
    return KernelFlows(
        btc=daily[:, k.DAILY_BTC],
        revenue_usd=daily[:, k.DAILY_REVENUE_USD] * usd_scale[:, None],
        energy_cost_usd=energy_cost_usd,
        repair_cost_usd=daily[:, k.DAILY_REPAIR_USD],
        hashrate_th=daily[:, k.DAILY_HASHRATE_TH], power_w=daily[:, k.DAILY_POWER_W],
        running_units=daily[:, k.DAILY_RUNNING_UNITS],
        final_price_usd=final_price_usd,
        # The hashprice of the run's own market (a responsive network answers the price).
        final_hashprice_usd_per_ph_day=btc_per_th_day[:, -1] * final_price_usd * 1000.0,
        # C-ordered like the kernel's output (a handful of numbers per order): numpy sums the
        # mean over paths path by path there, but pairwise over a layout with paths innermost,
        # which changes the last bits.
        order_totals=np.ascontiguousarray(groups[:, :, order_columns]),
        mode_names=fleet.mode_names,
        power=None if power is None else _power_flows(power_out, power, scenario, usd_scale),
    )


def _power_flows(
    out: Any, power: SitePower, scenario: Scenario, usd_scale: np.ndarray,
) -> PowerFlows:
    """The hourly path's outputs (``kernels.hourly.PowerBuffers``) as flows: credits (USD,
    scaled like the energy line), the transmission charge on the peak hours' load, unit-days
    per mode."""
    from kernels.layout import (
        N_POWER_DAILY,
        N_POWER_GROUP,
        POWER_CREDIT_USD,
        POWER_GROUP_CREDIT_USD,
        POWER_PEAK_LOAD_W,
    )

    peak_load_w = out.daily_out[:, POWER_PEAK_LOAD_W]
    return PowerFlows(
        sell_back_credit_usd=out.daily_out[:, POWER_CREDIT_USD] * usd_scale[:, None],
        transmission_usd=transmission_usd(power.site, scenario, peak_load_w, power.peak_days,
                                          power.full_load_w),
        peak_hour_load_w=peak_load_w,
        unit_days_by_mode=out.daily_out[:, N_POWER_DAILY:],
        order_credit_usd=out.group_out[:, :, POWER_GROUP_CREDIT_USD] * usd_scale[:, None],
        order_unit_days_by_mode=out.group_out[:, :, N_POWER_GROUP:],
    )


def _npv_function(
    runs: list[SiteRun], market: MarketPaths, scenario: Scenario, terms: Finance,
    fleet_th_by_day: np.ndarray, own_runs: bool = True, modelled: bool = True,
    network_arrays: KernelBuffers | None = None,
) -> NpvFunction:
    """NPV per row of the plan (the sum over its sites), row ``i`` re-run on market path
    ``path_index[i]`` with the BTC price scaled by ``price_factor[i]`` (and the network that
    price meets: ``network.market_rows``) and, where ``energy_usd_per_kwh[i]`` is not NaN,
    that power price at every site: the breakeven searches run all their candidates, BTC
    price and power price alike, as rows of one kernel call per site. A site's rigs share one
    all-in power price (``fleet.fleet_arrays``; take-or-pay scales it per rig), so in a call
    with power price rows a BTC price row runs, like them, at energy 1 USD/kWh with the price
    divided by the site's. Each site keeps one set of buffers for every round (each run's
    flows are used once, before the next run).

    A plan whose days ``fleetcalc.local_models`` models (one site on the daily path, no
    take-or-pay) answers rows from its model, exact (the flows the kernel would give, up to
    the order of a day's sums): with failures in expectation every row, with sampled failures
    a row whose prices turn no rig on or off on any day against a run made so far; the other
    rows run on the kernel. The runs held start with the plan's own (``runs[0].flows``;
    ``own_runs`` False: those flows are another fleet's, as the seed search's expected-failure
    fleet has the sampled run's);
    ``modelled`` False: every row on the kernel (tests compare the two). ``network_arrays``:
    where the responsive network's runs and rows are written (``Stages``; None: arrays of
    this function's own)."""
    network_arrays = KernelBuffers() if network_arrays is None else network_arrays
    model = (_flow_model(runs, market, scenario, fleet_th_by_day, own_runs) if modelled
             else None)
    if model is not None:
        return _modelled_npv_function(runs[0], model, market, scenario, terms, fleet_th_by_day,
                                      network_arrays)
    buffers = [KernelBuffers() for _ in runs]
    responsive = _lent_responsive(network_arrays)

    def npv_at(path_index: np.ndarray, price_factor: np.ndarray,
               energy_usd_per_kwh: np.ndarray) -> np.ndarray:
        rows = market_rows(market, scenario, path_index, price_factor, responsive)
        own = np.isnan(energy_usd_per_kwh)
        npv = np.zeros(path_index.shape[0])
        for run, lent in zip(runs, buffers, strict=True):
            energy = None
            if not own.all():
                # The site's all-in price per kWh of IT load: the kernel scales it per rig by
                # the rig's avoidable share, which take-or-pay makes differ between rigs.
                site_price = run.plan.site.energy_usd_per_kwh
                energy = np.where(own, site_price, energy_usd_per_kwh)
            flows = kernel_flows(run.fleet, market, scenario, energy, lent, fleet_th_by_day,
                                 power=run.power, rows=rows)
            npv += finance.npv_unthreaded(cash_flows(flows, run.fleet, terms),
                                          terms.discount_rate)
        return npv

    return npv_at


def _flow_model(
    runs: list[SiteRun], market: MarketPaths, scenario: Scenario,
    fleet_th_by_day: np.ndarray, own_runs: bool,
) -> CohortDays | LocalModels | None:
    """The model of a one-site plan's flows at a search's candidates
    (``fleetcalc.local_models``; None when its days are not modelled): with sampled failures,
    local models holding its own run when ``own_runs``."""
    if len(runs) != 1 or runs[0].power is not None:
        return None
    run = runs[0]
    site_price = run.plan.site.energy_usd_per_kwh
    if not site_price >= MIN_ENERGY_USD_PER_KWH:
        # (Candidates' energy scales with their price over the site's, which a free or
        # subnormal site price would make infinite: the kernel runs them.)
        return None
    sampled = scenario.failures == "sampled"
    limits = thresholds(run.fleet, market.n_days, per_rig=not sampled)
    if limits is None:
        return None
    pool_fee = scenario.network.pool_fee
    if not sampled:
        return CohortDays(limits, site_price, pool_fee,
                          _cohort_days(run.fleet, scenario, market.n_days))
    models = LocalModels(limits, site_price, pool_fee, market.n_paths)
    if own_runs:
        models.add(Candidates(np.arange(market.n_paths),
                              fleet_btc_per_th_day(market.btc_per_th_day, market.hashrate_ehs,
                                                   fleet_th_by_day),
                              market.price_usd, np.full(market.n_paths, site_price)),
                   run.flows)
    return models


def _cohort_days(fleet: FleetArrays, scenario: Scenario, n_days: int) -> dict[str, np.ndarray]:
    """Per cohort of ``fleet`` (failures in expectation), its daily totals (``DAY_FIELDS``,
    ``[K, T]``) when it runs on every day in service: the kernel on the cohort alone, never
    curtailed (the market then matters to none of them)."""
    from kernels import rigdays as k

    rigs = fleet.rigs
    field_of = {"hashrate_th": k.DAILY_HASHRATE_TH, "energy_cost_usd": k.DAILY_ENERGY_USD,
                "repair_cost_usd": k.DAILY_REPAIR_USD}
    out = {name: np.empty((rigs.n_rigs, n_days)) for name in DAY_FIELDS}
    market = np.ones((1, n_days))
    for cohort in range(rigs.n_rigs):
        alone = RigArrays(**{field.name: getattr(rigs, field.name)[cohort:cohort + 1]
                             for field in dataclasses.fields(RigArrays)})
        alone = replace(alone, curtail=np.zeros_like(alone.curtail))
        daily, _, _ = _run_kernel(alone, market, market, scenario.network.pool_fee, False,
                                  scenario.seed, fleet.n_orders)
        for name, index in field_of.items():
            out[name][cohort] = daily[0, index]
    return out


# Rows a round models at a time: a block's market, flows and cash flows stay in the CPU's caches
# and in memory already mapped, where a round's hundreds of rows at once would fault in fresh
# pages for every temporary (measured: four elementwise steps on 400 rows x 5 years took 6.5 ms
# at once, 1.1 ms in blocks of 32 rows).
ROW_BLOCK = 32


def _modelled_npv_function(
    run: SiteRun, model: CohortDays | LocalModels, market: MarketPaths, scenario: Scenario,
    terms: Finance, fleet_th_by_day: np.ndarray, network_arrays: KernelBuffers,
) -> NpvFunction:
    """``_npv_function`` of a one-site plan with a model of its flows: rows the model gives
    are answered from it, block by block (``ROW_BLOCK``); the others run on the kernel, in one
    call, and are held in turn."""
    lent = KernelBuffers()
    responsive = _lent_responsive(network_arrays)
    site_price = run.plan.site.energy_usd_per_kwh
    discount = finance.discount_factors(market.n_days, terms.discount_rate)

    def npv_at(path_index: np.ndarray, price_factor: np.ndarray,
               energy_usd_per_kwh: np.ndarray) -> np.ndarray:
        # (As kernel_flows floors it: a free power price stands as MIN_ENERGY_USD_PER_KWH.)
        usd_per_kwh = np.maximum(np.where(np.isnan(energy_usd_per_kwh), site_price,
                                          energy_usd_per_kwh), MIN_ENERGY_USD_PER_KWH)
        # The responsive network for every row at another price in one call (its paths run
        # in lock step, a few dozen to a block: fewer rows a call would run it less
        # efficiently); the rows themselves are made block by block, from it and the market.
        moved = np.flatnonzero(price_factor != 1.0)
        networks = None
        if scenario.network.model == "responsive" and moved.size:
            networks = market_rows(market, scenario, path_index[moved], price_factor[moved],
                                   responsive, network_arrays.array)
        network_of = np.full(path_index.shape[0], -1)
        network_of[moved] = np.arange(moved.size)

        def rows_of(index: np.ndarray) -> tuple[MarketRows, Candidates]:
            rows = _market_rows_from(market, networks, network_of[index], path_index[index],
                                     price_factor[index])
            return rows, Candidates(rows.path_index, fleet_btc_per_th_day(
                rows.btc_per_th_day, rows.hashrate_ehs, fleet_th_by_day), rows.price_usd,
                usd_per_kwh[index])

        npv = np.empty(path_index.shape[0])
        unanswered = np.ones(path_index.shape[0], dtype=bool)  # rows left for the kernel
        for first in range(0, path_index.shape[0], ROW_BLOCK):
            block = np.arange(first, min(first + ROW_BLOCK, path_index.shape[0]))
            modelled, flows = model.flows(rows_of(block)[1], run.flows)
            if flows is not None:
                npv[block[modelled]] = finance.present_value_unthreaded(
                    cash_flows(flows, run.fleet, terms), discount)
                unanswered[block[modelled]] = False
        rest = np.flatnonzero(unanswered)
        if rest.size:
            rows, candidates = rows_of(rest)
            own = np.isnan(energy_usd_per_kwh[rest])
            flows = kernel_flows(run.fleet, market, scenario,
                                 None if own.all() else usd_per_kwh[rest], lent,
                                 fleet_th_by_day, rows=rows)
            npv[rest] = finance.npv_unthreaded(cash_flows(flows, run.fleet, terms),
                                               terms.discount_rate)
            model.add(candidates, flows)
        return npv

    return npv_at


def _market_rows_from(
    market: MarketPaths, networks: MarketRows | None, network_of: np.ndarray,
    path_index: np.ndarray, price_factor: np.ndarray,
) -> MarketRows:
    """Rows of ``market`` as ``network.market_rows`` makes them (the same bits), the network
    of a row ``i`` with ``network_of[i] >= 0`` being row ``network_of[i]`` of ``networks``
    (those rows' own responsive networks)."""
    price = market.price_usd[path_index] * price_factor[:, None]
    if networks is None:
        return MarketRows(path_index, price_factor, price, market.btc_per_th_day[path_index],
                          market.hashrate_ehs[path_index])
    # Each row gathered once, from its own network or from its path (a BTC price row would
    # otherwise be copied from the path first and then written over).
    own = network_of >= 0
    btc_per_th_day, hashrate_ehs = np.empty_like(price), np.empty_like(price)
    for out, rows, paths in ((btc_per_th_day, networks.btc_per_th_day, market.btc_per_th_day),
                             (hashrate_ehs, networks.hashrate_ehs, market.hashrate_ehs)):
        out[own] = rows[network_of[own]]
        out[~own] = paths[path_index[~own]]
    return MarketRows(path_index, price_factor, price, btc_per_th_day, hashrate_ehs)


def _seed_npv_function(
    runs: list[SiteRun], market: MarketPaths, scenario: Scenario, terms: Finance,
    fleet_th_by_day: np.ndarray, network_arrays: KernelBuffers,
) -> NpvFunction | None:
    """With sampled failures, the NPV function of the same plan with failures in expectation
    (a few cohort rows instead of a row per rig: nearly free), whose breakevens seed the
    searches on the sampled fleet; None when failures are already in expectation."""
    if scenario.failures != "sampled":
        return None
    expected = scenario.with_changes(failures="expected")
    seed_runs = []
    for run in runs:
        fleet = fleet_arrays(run.landed, run.plan, expected)
        power = (None if run.power is None
                 else site_power(run.plan, expected, run.landed.per_order, fleet.rigs))
        seed_runs.append(replace(run, fleet=fleet, power=power))
    return _npv_function(seed_runs, market, expected, terms, fleet_th_by_day,
                         own_runs=False, network_arrays=network_arrays)


class KernelBuffers:
    """The kernel's output and scratch arrays, lent to repeated calls (a breakeven search's
    rounds): each array is the leading part of one flat block grown to the largest call so
    far, so later calls, whose row counts shrink as rows settle, page in no fresh memory (a
    fresh 400-row output is tens of MB of page faults). Every output is fully overwritten by
    each call, and scratch contents do not matter, so any leading part serves."""

    def __init__(self) -> None:
        self._blocks: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A C-contiguous float64 array of ``shape`` (contents unspecified) in block ``name``."""
        size = int(np.prod(shape))
        block = self._blocks.get(name)
        if block is None or block.size < size:
            block = self._blocks[name] = np.empty(size)
        return block[:size].reshape(shape)


def _run_kernel(
    rigs: RigArrays, btc_per_th_day: np.ndarray, price_usd: np.ndarray, pool_fee: float,
    sampled: bool, seed: int, n_groups: int, energy_usd_per_kwh: np.ndarray | None = None,
    buffers: KernelBuffers | None = None, power: SitePower | None = None,
    rng_path: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Run the rig-day kernel; ``buffers`` lends the output and scratch arrays (None: fresh
    ones). ``power``: the site hours of a plan on the hourly path. Returns the daily and group
    totals and the hourly path's outputs (``kernels.hourly.PowerBuffers``; empty without
    ``power``). ``rng_path``: the random stream of each row
    (``kernels.rigdays.simulate_rigdays``)."""
    from kernels.hourly import PowerBuffers, power_buffers
    from kernels.rigdays import N_DAILY, N_GROUP, kernel_for, scratch_shapes

    n_paths, n_days = btc_per_th_day.shape
    # One thread for small workloads (cohort plans are a handful of rows), the pool otherwise;
    # the same bits either way.
    kernel = kernel_for(rigs.n_rigs, n_paths, n_days)
    lent = KernelBuffers() if buffers is None else buffers
    day_shape, group_shape = scratch_shapes(rigs.n_rigs, n_paths, n_days, n_groups)
    daily = lent.array("daily", (n_paths, N_DAILY, n_days))
    groups = lent.array("groups", (n_paths, n_groups, N_GROUP))
    day_acc, group_acc = lent.array("day_acc", day_shape), lent.array("group_acc", group_shape)
    power_out = power_buffers(None if power is None else power.inputs, day_shape[0], n_paths,
                              n_days, n_groups)
    if power is not None:  # the hourly path's arrays from the blocks too (by their shapes)
        power_out = PowerBuffers(**{name: lent.array(f"power_{name}", array.shape)
                                    for name, array in vars(power_out).items()})
    energy = rigs.energy_usd_per_kwh if energy_usd_per_kwh is None else energy_usd_per_kwh
    kernel(
        rigs.hashrate_th, rigs.power_w, rigs.weight, rigs.delivery_day, rigs.retire_day,
        rigs.decay_per_day, rigs.uptime, rigs.failure_per_day, rigs.repair_days,
        rigs.repair_cost_usd, energy, rigs.curtail, rigs.rig_key, rigs.group,
        np.ascontiguousarray(btc_per_th_day), np.ascontiguousarray(price_usd),
        float(pool_fee), bool(sampled), int(seed), daily, groups, day_acc, group_acc,
        power=None if power is None else power.inputs, power_buffers=power_out,
        rng_path=rng_path, tier=compile_ahead.tier_for(rigs.n_rigs * n_paths * n_days * (
            compile_ahead.PYTHON_S_PER_RIG_DAY if power is None
            else compile_ahead.PYTHON_S_PER_HOURLY_RIG_DAY)),
    )
    return daily, groups, power_out


def _simulate_chain(
    hashrate_ehs: np.ndarray, difficulty0: float, height0: int, fees_btc: float
) -> dict[str, np.ndarray]:
    """``kernels.reference.simulate_chain_reference`` through the jitted kernel (same outputs), for
    ``market_paths``: a Python loop over days there costs ~0.1 s a scenario."""
    from kernels.chain import CHAIN_FIELDS, simulate_chain_nb

    out = {name: np.empty(hashrate_ehs.shape) for name in CHAIN_FIELDS}
    halving_day = np.empty(hashrate_ehs.shape[0], dtype=np.int64)
    args = (np.ascontiguousarray(hashrate_ehs, dtype=np.float64), float(difficulty0),
            int(height0), float(fees_btc), *out.values(), halving_day)
    compile_ahead.tier_for_market(hashrate_ehs.size)(simulate_chain_nb, args)(*args)
    return {**out, "halving_day": halving_day}


def _lent_responsive(buffers: KernelBuffers) -> Callable[..., dict[str, np.ndarray]]:
    """``_simulate_responsive`` with outputs lent from ``buffers`` for repeated calls
    (``market_rows`` copies what it keeps of them)."""
    return functools.partial(_simulate_responsive, buffers=buffers)


def _simulate_responsive(
    price_usd: np.ndarray, order_noise: np.ndarray, fees_btc: np.ndarray, *,
    buffers: KernelBuffers | None = None, **inputs: Any,
) -> dict[str, np.ndarray]:
    """``kernels.responsive_reference.simulate_responsive_reference`` through the jitted
    kernel (same outputs), for ``market_paths`` with ``network.model = "responsive"``: on the
    kernel's thread pool from a few dozen paths (``kernels.responsive.threads_for``).
    ``buffers`` lends the outputs (``KernelBuffers``; None: fresh arrays), which the next call
    lending them overwrites: a breakeven search's rounds re-run the network on hundreds of
    rows, and fresh outputs (8 arrays of rows x days) cost more in page faults than the
    network itself (measured: 30 ms against 13 ms of CPU for 200 rows x 5 years)."""
    from kernels.responsive import simulate_responsive
    from kernels.responsive_reference import RESPONSIVE_FIELDS

    lent = KernelBuffers() if buffers is None else buffers
    out = {name: lent.array(name, price_usd.shape) for name in RESPONSIVE_FIELDS}
    halving_day = np.empty(price_usd.shape[0], dtype=np.int64)
    simulate_responsive(price_usd, order_noise, fees_btc, **inputs, **out,
                        halving_day=halving_day,
                        tier=compile_ahead.tier_for_market(price_usd.size))
    return {**out, "halving_day": halving_day}


def checked_plans(plans: Sequence[Plan | str | Path] | Plan | str | Path | None,
                  scenario: Scenario) -> list[Plan]:
    """The plans ``evaluate`` would evaluate (None or empty: the default plans; one plan or
    path stands for a list of one), read or, made in memory, checked as the parser checks a
    file: distinct names, every delivery inside the scenario's horizon (InputError); a
    ``TypeError`` for anything else."""
    if isinstance(plans, Plan | str | Path):
        plans = [plans]
    if plans is not None and not isinstance(plans, Sequence):
        raise TypeError("plans must be a list of fleetcalc Plan objects or TOML paths, or "
                        f"one of them, or None; not {type(plans).__name__}")
    plan_list = []
    for i, plan in enumerate(plans or ()):
        if isinstance(plan, Plan):
            plan_list.append(plan.validate())
        elif isinstance(plan, str | Path):
            plan_list.append(load_plan(plan))
        else:
            raise TypeError(f"plans[{i}] must be a fleetcalc Plan or a path to a plan TOML "
                            f"file, not {type(plan).__name__}")
    plan_list = _distinct_names(plan_list or default_plans())
    for plan in plan_list:
        check_plan_against_scenario(plan, scenario.start_date, scenario.end_date)
    return plan_list


def _as_scenario(scenario: Scenario | str | Path | None) -> Scenario:
    if scenario is None or isinstance(scenario, str | Path):
        return load_scenario(scenario)
    if not isinstance(scenario, Scenario):
        raise TypeError("scenario must be a fleetcalc Scenario, a path to a scenario TOML "
                        f"file or None, not {type(scenario).__name__}")
    return scenario.validate()


def _distinct_names(plans: list[Plan]) -> list[Plan]:
    seen: dict[str, str] = {}
    for plan in plans:
        if plan.name in seen:
            # Results are keyed by plan name: two plans of one name would mix their rows.
            raise InputError(plan.source, "name", plan.name,
                             f"a plan name not already used by {seen[plan.name]}")
        seen[plan.name] = plan.source
    return plans
