"""Scenario -> daily market arrays: BTC price, network hashrate, difficulty, subsidy, BTC per TH/s.

Every array is ``[paths, days]``. The chain is simulated in expectation: on a day with network
hashrate H the network finds ``86400 * H / (D * 2**32)`` blocks; every 2016 blocks difficulty
retargets by ``1,209,600 s / (time the epoch took)``, clamped to x0.25..x4; the subsidy of height
h is ``(50 * 10**8) >> (h // 210000)`` satoshis. A day is cut into segments at every retarget
and halving boundary, so a day that holds the 2028 halving mixes both subsidies by the blocks
mined on each side, and BTC per TH/s per day is the exact sum over its segments. The chain
itself lives in ``kernels`` (``chain.py`` jitted, ``reference.py`` in NumPy), its constants in
``kernels.protocol``.

Monte Carlo paths (``paths > 1``) draw their shocks from the counter-based generator keyed by
(seed, path, day): a path is the same whatever the number of paths or the batch it runs in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from fleetcalc.errors import InputError
from fleetcalc.scenario import Scenario

if TYPE_CHECKING:
    from fleetcalc.tiers import TierSnapshot
from kernels.protocol import (
    HASHES_PER_DIFFICULTY,
    HASHES_PER_S_PER_EH_S,
    HASHES_PER_S_PER_TH_S,
    SECONDS_PER_DAY,
    TARGET_BLOCK_SPACING_S,
)


def difficulty_from_hashrate(hashrate_ehs: float) -> float:
    """Difficulty at which a network of this hashrate finds one block per 600 s."""
    return hashrate_ehs * HASHES_PER_S_PER_EH_S * TARGET_BLOCK_SPACING_S / HASHES_PER_DIFFICULTY


def hashrate_from_difficulty(difficulty: float) -> float:
    """EH/s that finds one block per 600 s at this difficulty (``difficulty_from_hashrate``'s
    inverse)."""
    return difficulty * HASHES_PER_DIFFICULTY / TARGET_BLOCK_SPACING_S / HASHES_PER_S_PER_EH_S


def btc_per_th_day(difficulty: float, subsidy_btc: float, fees_btc: float) -> float:
    """Expected gross BTC per TH/s per day at one difficulty (the pools' 2**32 convention)."""
    return (HASHES_PER_S_PER_TH_S * SECONDS_PER_DAY * (subsidy_btc + fees_btc)
            / (difficulty * HASHES_PER_DIFFICULTY))


# The chain's daily outputs (kernels.chain.CHAIN_FIELDS), both models.
CHAIN_OUTPUTS = ("difficulty", "blocks", "height", "subsidy_btc", "btc_per_th_day")


@dataclass(frozen=True)
class MarketPaths:
    """Daily market arrays, each ``[paths, days]`` float64 (read-only)."""

    price_usd: np.ndarray
    hashrate_ehs: np.ndarray
    difficulty: np.ndarray  # at the start of the day
    blocks: np.ndarray  # expected blocks found that day
    height: np.ndarray  # block height at the start of the day
    subsidy_btc: np.ndarray  # mean subsidy over the blocks of the day
    fees_btc: np.ndarray  # fees per block
    btc_per_th_day: np.ndarray  # gross, before pool fee
    halving_day: np.ndarray  # [paths] int: day holding height 1,050,000-style boundaries; -1

    @cached_property
    def hashprice_usd_per_ph_day(self) -> np.ndarray:
        # (Computed once: a market is cached per scenario, and each plan's breakevens and
        # daily frame read it.)
        hashprice = self.btc_per_th_day * self.price_usd * 1000.0
        hashprice.flags.writeable = False
        return hashprice

    @property
    def n_paths(self) -> int:
        return self.price_usd.shape[0]

    @property
    def n_days(self) -> int:
        return self.price_usd.shape[1]


def _log_paths(
    start: float, annual_growth: float, annual_volatility: float, shocks: np.ndarray | None,
    n_days: int,
) -> np.ndarray:
    """``start`` grown at ``annual_growth`` (mean of the level), with daily lognormal shocks."""
    days = np.arange(n_days, dtype=np.float64)
    log_growth = math.log1p(annual_growth) / 365.0
    if shocks is None:
        return (start * np.exp(log_growth * days))[None, :]
    sigma = annual_volatility / math.sqrt(365.0)
    steps = (log_growth - 0.5 * sigma * sigma) + sigma * shocks
    steps[:, 0] = 0.0
    return start * np.exp(np.cumsum(steps, axis=1))


def _price_shocks(scenario: Scenario) -> np.ndarray | None:
    """The price paths' daily standard normal shocks, keyed (seed, path, day); None for one
    path."""
    if scenario.paths == 1:
        return None
    return _standard_normal_price_shocks(scenario.seed, scenario.paths, scenario.horizon_days)


@lru_cache(maxsize=4)
def _standard_normal_price_shocks(seed: int, n_paths: int, n_days: int) -> np.ndarray:
    """``_price_shocks`` by all they depend on, cached: an edit of the BTC price or the network
    draws them again otherwise (~10 ms for 200 paths x 5 years). Shared, so read-only (they
    never reach jitted code, which would compile again for a read-only array)."""
    from kernels.rng import STREAM_PRICE, STREAM_PRICE_AUX, standard_normal_np

    path = np.arange(n_paths)[:, None]
    day = np.arange(n_days)[None, :]
    shocks = standard_normal_np(seed, STREAM_PRICE, STREAM_PRICE_AUX, path, day)
    shocks.flags.writeable = False
    return shocks


def _price_paths(scenario: Scenario, price_shocks: np.ndarray | None) -> np.ndarray:
    """``[paths, days]`` BTC price: the drift path or the CSV series, with the shocks."""
    from fleetcalc.series import PRICE_SERIES, series_paths

    n_days, btc = scenario.horizon_days, scenario.btc
    if scenario.price_series_usd is None:
        price = _log_paths(
            btc.price_usd, btc.annual_drift, btc.annual_volatility, price_shocks, n_days)
    else:  # a CSV series replaces the generated path (fleetcalc.series)
        price = series_paths(scenario.price_series_usd, n_days, btc.annual_volatility,
                             price_shocks, scenario.source, PRICE_SERIES)
    if scenario.paths > 1:
        price = np.broadcast_to(price, (scenario.paths, n_days)).copy()
    return price


def _exogenous_hashrate(scenario: Scenario, price_shocks: np.ndarray | None) -> np.ndarray:
    """``[paths, days]`` network hashrate of the exogenous model: growth or a CSV series, with
    shocks correlated to the price's."""
    from fleetcalc.series import HASHRATE_SERIES, series_paths
    from kernels.rng import STREAM_HASHRATE, STREAM_HASHRATE_AUX, standard_normal_np

    n_days, net = scenario.horizon_days, scenario.network
    annual_hash_growth = (1.0 + net.monthly_growth) ** 12 - 1.0
    hash_shocks = None
    if price_shocks is not None:
        path = np.arange(scenario.paths)[:, None]
        day = np.arange(n_days)[None, :]
        z_own = standard_normal_np(scenario.seed, STREAM_HASHRATE, STREAM_HASHRATE_AUX, path, day)
        rho = net.price_correlation
        hash_shocks = rho * price_shocks + math.sqrt(1.0 - rho * rho) * z_own
    if scenario.hashrate_series_ehs is None:
        hashrate = _log_paths(
            net.hashrate_ehs, annual_hash_growth, net.annual_volatility, hash_shocks, n_days
        )
    else:
        hashrate = series_paths(scenario.hashrate_series_ehs, n_days, net.annual_volatility,
                                hash_shocks, scenario.source, HASHRATE_SERIES)
    if scenario.paths > 1:
        hashrate = np.broadcast_to(hashrate, (scenario.paths, n_days)).copy()
    return hashrate


ChainFunction = Callable[[np.ndarray, float, int, float], dict[str, np.ndarray]]
ResponsiveFunction = Callable[..., dict[str, np.ndarray]]


def responsive_start(scenario: Scenario) -> tuple[TierSnapshot, np.ndarray, float]:
    """What a responsive scenario's start check reads: the installed-base snapshot it uses,
    each tier's share of that base on each day (``[n_days, K]``, retirements applied) and
    day 0's net hashprice (USD per TH/s-day at ``btc.price_usd``). InputError on
    ``start_date`` when no snapshot precedes it. Test strategies bound the power price with
    it, so they draw what the check accepts."""
    from fleetcalc.tiers import check_start_date, start_capacity
    from kernels.reference import subsidy_sats_reference

    net = scenario.network
    snapshot = check_start_date(scenario.start_date, scenario.source)
    difficulty0 = net.difficulty or difficulty_from_hashrate(net.hashrate_ehs)
    subsidy0 = float(subsidy_sats_reference(net.block_height)) / 1e8
    hashprice0 = (scenario.btc.price_usd
                  * btc_per_th_day(difficulty0, subsidy0, net.fees_btc_per_block)
                  * (1.0 - net.pool_fee))
    capacity = start_capacity(snapshot, scenario.start_date, scenario.horizon_days,
                              net.service_life_years)
    return snapshot, capacity, hashprice0


def _start_share_error(scenario: Scenario, hashprice0: float, share: float) -> InputError:
    """Almost none of the installed base would run at the start: the error names the input
    most likely wrong. A network hashrate or BTC price far outside any observed level (a unit
    slip: ``hashrate_ehs = 964000``, PH/s typed as EH/s, drives the hashprice to nothing) is
    named before the miners' median power price, which the user may never have typed."""
    from fleetcalc.plausibility import OBSERVED_BTC_PRICE_USD, OBSERVED_HASHRATE_EHS, far_outside
    from fleetcalc.tiers import MIN_START_ONLINE_SHARE

    net, btc = scenario.network, scenario.btc
    runs = (f"at least {MIN_START_ONLINE_SHARE:.0%} of the installed base runs at the start's "
            f"hashprice ({hashprice0 * 1000:.3g} USD per PH/s-day; {share:.2%} would)")
    if far_outside(net.hashrate_ehs, OBSERVED_HASHRATE_EHS):
        return InputError(scenario.source, "network.hashrate_ehs", net.hashrate_ehs,
                          f"a network hashrate in EH/s at which {runs}: EH/s typed as PH/s?")
    if far_outside(btc.price_usd, OBSERVED_BTC_PRICE_USD):
        key = "btc.price_series (first value)" if btc.price_series else "btc.price_usd"
        return InputError(scenario.source, key, btc.price_usd,
                          f"a BTC price at which {runs}")
    return InputError(scenario.source, "network.power_median_usd_per_kwh",
                      net.power_median_usd_per_kwh, f"a median power price at which {runs}")


@lru_cache(maxsize=32)
def responsive_inputs(scenario: Scenario) -> dict[str, Any]:
    """The responsive chain's arrays and parameters for a scenario (keyword arguments of
    ``kernels.responsive_reference.simulate_responsive_reference`` other than the price, the
    order noise and the fees). InputError when almost none of the installed base would run at
    the start (at ``btc.price_usd``), which ``network.hashrate_ehs`` online then contradicts.
    Cached per scenario (breakeven searches re-run the network every round): the arrays are
    shared, and no caller writes to them."""
    from fleetcalc.tiers import (
        DAYS_PER_YEAR,
        MIN_START_ONLINE_SHARE,
        cohorts,
        default_frontier_j_per_th,
        months_to_days,
        start_online_share,
    )

    net, n_days = scenario.network, scenario.horizon_days
    snapshot, capacity, hashprice0 = responsive_start(scenario)
    difficulty0 = net.difficulty or difficulty_from_hashrate(net.hashrate_ehs)
    share = start_online_share(capacity, snapshot.j_per_th, hashprice0,
                               net.power_median_usd_per_kwh, net.power_price_log_sd)
    if not share >= MIN_START_ONLINE_SHARE:
        raise _start_share_error(scenario, hashprice0, share)
    improvement = net.frontier_improvement_per_year
    frontier = net.frontier_j_per_th or default_frontier_j_per_th(scenario.start_date,
                                                                  improvement)
    cohort_of_order, cohort_j_per_th = cohorts(n_days, net.order_lag_days, frontier, improvement)
    return {
        "start_share": np.ascontiguousarray(capacity),
        "start_j_per_th": np.ascontiguousarray(snapshot.j_per_th),
        "hashrate0_ehs": float(net.hashrate_ehs),
        "cohort_of_order": cohort_of_order, "cohort_j_per_th": cohort_j_per_th,
        "difficulty0": float(difficulty0), "height0": int(net.block_height),
        "pool_fee": float(net.pool_fee),
        "power_median_usd_per_kwh": float(net.power_median_usd_per_kwh),
        "power_sigma": float(net.power_price_log_sd),
        "response_days": float(net.online_response_days),
        "capex_usd_per_th": float(net.capex_usd_per_th),
        "target_payback_days": float(net.target_payback_days),
        "supply_ehs_per_day": months_to_days(net.supply_ehs_per_month),
        "lag_days": int(net.order_lag_days),
        "life_days": round(net.service_life_years * DAYS_PER_YEAR),
    }


def _order_noise(scenario: Scenario) -> np.ndarray:
    """The scenario's order noise ``[paths, days]`` (``tiers.order_noise``), cached by all it
    depends on: a breakeven search's rounds re-run the network with it, and an edit of the
    BTC price keeps it. Shared: no caller writes to it (not flagged read-only, which the
    jitted chain would compile again for)."""
    return _cached_order_noise(scenario.seed, scenario.paths, scenario.horizon_days,
                               scenario.network.order_volatility)


@lru_cache(maxsize=32)
def _cached_order_noise(
    seed: int, n_paths: int, n_days: int, order_volatility: float,
) -> np.ndarray:
    from fleetcalc.tiers import order_noise

    return order_noise(seed, n_paths, n_days, order_volatility)


def _responsive_chain(
    scenario: Scenario, price: np.ndarray, responsive: ResponsiveFunction,
    path_index: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The responsive network's arrays: each price path drives its own network. Row ``i`` of
    ``price`` is a price path of the scenario's path ``path_index[i]`` (default ``i``), whose
    order noise it draws."""
    net = scenario.network
    noise = _order_noise(scenario)
    if path_index is not None:
        noise = noise[path_index]
    fees = np.full(scenario.horizon_days, net.fees_btc_per_block)
    out = responsive(np.ascontiguousarray(price), noise, fees, **responsive_inputs(scenario))
    # MarketPaths holds the network's online hashrate; installed and ordered EH/s stay here.
    return {name: out[name] for name in ("hashrate_ehs", "halving_day", *CHAIN_OUTPUTS)}


@dataclass(frozen=True)
class MarketRows:
    """Rows of a market ``[N, days]``, row ``i`` on the scenario's path ``path_index[i]`` with
    its BTC price path scaled by ``price_factor[i]``, and the network that price meets: a
    breakeven search's candidates run as rows of one kernel call."""

    path_index: np.ndarray  # [N] int64
    price_factor: np.ndarray  # [N]
    price_usd: np.ndarray  # the path's price times the factor
    btc_per_th_day: np.ndarray  # gross, before pool fee
    hashrate_ehs: np.ndarray


def market_rows(
    market: MarketPaths, scenario: Scenario, path_index: np.ndarray | None = None,
    price_factor: np.ndarray | None = None, responsive: ResponsiveFunction | None = None,
    lend: Callable[[str, tuple[int, ...]], np.ndarray] | None = None,
) -> MarketRows:
    """The rows ``path_index`` (default: every path once) of ``market`` at BTC price factors
    ``price_factor`` (default 1). The exogenous network is the same at any price; the
    responsive one answers the price, so every row with a factor other than 1 drives its own
    network (the same installed base and its path's order noise; all such rows in one call of
    ``responsive``, default the NumPy reference), and a row at factor 1 is its path's network
    itself, bit for bit. ``lend(name, shape)``: arrays the rows are written into (a breakeven
    search's rounds; None: fresh ones)."""
    if path_index is None:
        path_index = np.arange(market.n_paths)
    if price_factor is None:
        price_factor = np.ones(path_index.shape[0])

    def rows_of(name: str, paths: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        # ``rows``: only those rows are copied from ``paths`` (the others are written after).
        out = (np.empty((path_index.shape[0], paths.shape[1])) if lend is None
               else lend(f"rows_{name}", (path_index.shape[0], paths.shape[1])))
        if rows is None:
            return np.take(paths, path_index, axis=0, out=out)
        out[rows] = paths[path_index[rows]]
        return out

    price = rows_of("price_usd", market.price_usd)
    price *= price_factor[:, None]
    moved = np.flatnonzero(price_factor != 1.0)
    if scenario.network.model != "responsive" or moved.size == 0:
        return MarketRows(path_index, price_factor, price,
                          rows_of("btc_per_th_day", market.btc_per_th_day),
                          rows_of("hashrate_ehs", market.hashrate_ehs))
    if responsive is None:
        from kernels.responsive_reference import simulate_responsive_reference as responsive
    chain = _responsive_chain(scenario, price[moved], responsive, path_index[moved])
    # The moved rows' own networks are written over them: only the others are copied from
    # the paths (a breakeven search's rows are all moved: two gathers of rows x days saved).
    kept = np.flatnonzero(price_factor == 1.0)
    btc_per_th_day = rows_of("btc_per_th_day", market.btc_per_th_day, kept)
    hashrate_ehs = rows_of("hashrate_ehs", market.hashrate_ehs, kept)
    btc_per_th_day[moved] = chain["btc_per_th_day"]
    hashrate_ehs[moved] = chain["hashrate_ehs"]
    return MarketRows(path_index, price_factor, price, btc_per_th_day, hashrate_ehs)


# The model takes the network's hashrate and difficulty from the scenario (or its responsive
# network), a network that includes the plan's fleet. That holds while the fleet is a small
# part of it: a fleet of a large share would itself move difficulty (and, beyond the whole
# network, would be credited more blocks than the network finds). Above this share of the
# network's mean hashrate over the paths, on any day, a plan is an input error.
MAX_FLEET_SHARE = 0.10
TH_PER_EH = HASHES_PER_S_PER_EH_S / HASHES_PER_S_PER_TH_S


def check_fleet_share(
    fleet_th_by_day: np.ndarray, market: MarketPaths, scenario: Scenario, source: str,
) -> None:
    """InputError if the fleet's nameplate hashrate in service exceeds MAX_FLEET_SHARE of the
    network's hashrate (its mean over the Monte Carlo paths: the path itself with one) on any
    day."""
    network_th = market.hashrate_ehs.mean(axis=0) * TH_PER_EH
    share = fleet_th_by_day / network_th
    day = int(np.argmax(share))
    if share[day] <= MAX_FLEET_SHARE:
        return
    date = scenario.start_date + dt.timedelta(days=day)
    mean = " (mean over the paths)" if market.n_paths > 1 else ""
    raise InputError(
        source, "orders", f"{fleet_th_by_day[day] / 1e3:,.6g} PH/s in service on {date}",
        f"a fleet of at most {MAX_FLEET_SHARE:.0%} of the network's hashrate, which includes "
        f"it (the scenario's network has {network_th[day] / TH_PER_EH:.6g} EH/s that "
        f"day{mean}, so at most {MAX_FLEET_SHARE * network_th[day] / 1e3:,.6g} PH/s): a "
        "larger fleet would move difficulty itself, which the model takes from the scenario")


def fleet_btc_per_th_day(
    btc_per_th_day: np.ndarray, hashrate_ehs: np.ndarray, fleet_th_by_day: np.ndarray,
) -> np.ndarray:
    """BTC per TH/s per day ``[paths, days]`` the fleet earns: the network's, except on a
    Monte Carlo path whose network falls below the fleet's nameplate hashrate; there the fleet
    finds every block the network finds and no more (scaled by network / fleet). The given
    array itself when that never happens, so results stay bit for bit."""
    network_th = hashrate_ehs * TH_PER_EH
    above = fleet_th_by_day[None, :] > network_th
    if not above.any():
        return btc_per_th_day
    scale = np.where(above, network_th / np.where(above, fleet_th_by_day[None, :], 1.0), 1.0)
    return btc_per_th_day * scale


@lru_cache(maxsize=32)
def market_paths(
    scenario: Scenario, chain: ChainFunction | None = None,
    responsive: ResponsiveFunction | None = None,
) -> MarketPaths:
    """The scenario's daily market arrays (cached: scenarios are frozen and hashable).

    ``chain`` computes the exogenous model's chain arrays with the signature and outputs of
    ``kernels.reference.simulate_chain_reference``, ``responsive`` the responsive model's with
    those of ``kernels.responsive_reference.simulate_responsive_reference``: the NumPy
    references are used when none is given; the engine passes the jitted kernels (only the
    engine calls jitted code).
    """
    price_shocks = _price_shocks(scenario)
    price = _price_paths(scenario, price_shocks)
    net = scenario.network
    if net.model == "responsive":
        if responsive is None:
            from kernels.responsive_reference import (
                simulate_responsive_reference as responsive,
            )
        chain_arrays = _responsive_chain(scenario, price, responsive)
    else:
        if chain is None:
            from kernels.reference import simulate_chain_reference as chain
        hashrate = _exogenous_hashrate(scenario, price_shocks)
        difficulty0 = net.difficulty or difficulty_from_hashrate(net.hashrate_ehs)
        chain_arrays = {"hashrate_ehs": hashrate, **chain(
            hashrate, difficulty0, net.block_height, net.fees_btc_per_block)}
    arrays = {
        "price_usd": price, "fees_btc": np.full_like(price, net.fees_btc_per_block),
        **chain_arrays,
    }
    for array in arrays.values():
        array.setflags(write=False)
    return MarketPaths(**arrays)
