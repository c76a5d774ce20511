"""Scenario -> daily market arrays: BTC price, network hashrate, difficulty, subsidy, BTC per TH/s.

Every array is ``[paths, days]``. The chain is simulated in expectation: on a day with network
hashrate H the network finds ``86400 * H / (D * 2**32)`` blocks; every 2016 blocks difficulty
retargets by ``1,209,600 s / (time the epoch took)``, clamped to x0.25..x4; the subsidy of height
h is ``(50 * 10**8) >> (h // 210000)`` satoshis. A day is cut into segments at every retarget
and halving boundary, so a day that holds the 2028 halving mixes both subsidies by the blocks
mined on each side, and BTC per TH/s per day is the exact sum over its segments.

Monte Carlo paths (``paths > 1``) draw their shocks from the counter-based generator keyed by
(seed, path, day): a path is the same whatever the number of paths or the batch it runs in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fleetcalc.scenario import Scenario

SECONDS_PER_DAY = 86_400.0
TWO_POW_32 = 2.0**32
RETARGET_BLOCKS = 2016
RETARGET_TIMESPAN_S = 1_209_600.0
HALVING_BLOCKS = 210_000
INITIAL_SUBSIDY_SATS = 50 * 10**8
SATS_PER_BTC = 1e8


def subsidy_sats(height: np.ndarray | int) -> np.ndarray:
    """Block subsidy in satoshis at each height: the consensus integer right shift."""
    halvings = np.asarray(height, dtype=np.int64) // HALVING_BLOCKS
    shifted = np.right_shift(np.int64(INITIAL_SUBSIDY_SATS), np.minimum(halvings, 63))
    return np.where(halvings >= 64, 0, shifted)


def difficulty_from_hashrate(hashrate_ehs: float) -> float:
    """Difficulty at which a network of this hashrate finds one block per 600 s."""
    return hashrate_ehs * 1e18 * 600.0 / TWO_POW_32


def btc_per_th_day(difficulty: float, subsidy_btc: float, fees_btc: float) -> float:
    """Expected gross BTC per TH/s per day at one difficulty (the pools' 2**32 convention)."""
    return 1e12 * SECONDS_PER_DAY * (subsidy_btc + fees_btc) / (difficulty * TWO_POW_32)


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

    @property
    def hashprice_usd_per_ph_day(self) -> np.ndarray:
        return self.btc_per_th_day * self.price_usd * 1000.0

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


def _price_and_hashrate(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    from fleetcalc.series import HASHRATE_SERIES, PRICE_SERIES, series_paths
    from kernels.rng import (
        STREAM_HASHRATE,
        STREAM_HASHRATE_AUX,
        STREAM_PRICE,
        STREAM_PRICE_AUX,
        standard_normal_np,
    )

    n_days = scenario.horizon_days
    btc, net = scenario.btc, scenario.network
    annual_hash_growth = (1.0 + net.monthly_growth) ** 12 - 1.0
    if scenario.paths == 1:
        price_shocks = hash_shocks = None
    else:
        path = np.arange(scenario.paths)[:, None]
        day = np.arange(n_days)[None, :]
        z_price = standard_normal_np(scenario.seed, STREAM_PRICE, STREAM_PRICE_AUX, path, day)
        z_own = standard_normal_np(scenario.seed, STREAM_HASHRATE, STREAM_HASHRATE_AUX, path, day)
        rho = net.price_correlation
        price_shocks = z_price
        hash_shocks = rho * z_price + math.sqrt(1.0 - rho * rho) * z_own
    if scenario.price_series_usd is None:
        price = _log_paths(
            btc.price_usd, btc.annual_drift, btc.annual_volatility, price_shocks, n_days)
    else:  # a CSV series replaces the generated path (fleetcalc.series)
        price = series_paths(scenario.price_series_usd, n_days, btc.annual_volatility,
                             price_shocks, scenario.source, PRICE_SERIES)
    if scenario.hashrate_series_ehs is None:
        hashrate = _log_paths(
            net.hashrate_ehs, annual_hash_growth, net.annual_volatility, hash_shocks, n_days
        )
    else:
        hashrate = series_paths(scenario.hashrate_series_ehs, n_days, net.annual_volatility,
                                hash_shocks, scenario.source, HASHRATE_SERIES)
    if scenario.paths > 1:
        price = np.broadcast_to(price, (scenario.paths, n_days)).copy()
        hashrate = np.broadcast_to(hashrate, (scenario.paths, n_days)).copy()
    return price, hashrate


def simulate_chain(
    hashrate_ehs: np.ndarray, difficulty0: float, height0: int, fees_btc: float
) -> dict[str, np.ndarray]:
    """Expected block production, retargets and subsidy per day for ``hashrate_ehs[P, T]``.

    The epoch in progress at the start is assumed to have run at 600 s a block so far.
    """
    n_paths, n_days = hashrate_ehs.shape
    difficulty = np.full(n_paths, float(difficulty0))
    height = np.full(n_paths, float(height0))
    epoch_start = np.full(n_paths, float(height0 - height0 % RETARGET_BLOCKS))
    epoch_elapsed_s = (height - epoch_start) * 600.0
    out = {
        name: np.empty((n_paths, n_days))
        for name in ("difficulty", "blocks", "height", "subsidy_btc", "btc_per_th_day")
    }
    halving_day = np.full(n_paths, -1, dtype=np.int64)
    for t in range(n_days):
        out["difficulty"][:, t] = difficulty
        out["height"][:, t] = height
        hashes_per_s = hashrate_ehs[:, t] * 1e18
        remaining_s = np.full(n_paths, SECONDS_PER_DAY)
        blocks = np.zeros(n_paths)
        subsidy_blocks_btc = np.zeros(n_paths)
        per_th = np.zeros(n_paths)
        halvings_at_start = np.floor(height / HALVING_BLOCKS)
        while True:
            active = remaining_s > 0.0
            if not active.any():
                break
            rate = hashes_per_s / (difficulty * TWO_POW_32)  # blocks per second
            next_retarget = epoch_start + RETARGET_BLOCKS
            next_halving = (np.floor(height / HALVING_BLOCKS) + 1.0) * HALVING_BLOCKS
            boundary = np.minimum(next_retarget, next_halving)
            time_to_boundary = (boundary - height) / rate
            hits = active & (time_to_boundary <= remaining_s)
            seg_s = np.where(hits, time_to_boundary, np.where(active, remaining_s, 0.0))
            seg_blocks = np.where(hits, boundary - height, seg_s * rate)
            subsidy = subsidy_sats(np.floor(height).astype(np.int64)) / SATS_PER_BTC
            blocks += seg_blocks
            subsidy_blocks_btc += seg_blocks * subsidy
            per_th += seg_s * 1e12 * (subsidy + fees_btc) / (difficulty * TWO_POW_32)
            height = np.where(hits, boundary, height + seg_blocks)
            epoch_elapsed_s = epoch_elapsed_s + seg_s
            remaining_s = np.where(hits, remaining_s - seg_s, 0.0)
            retarget = hits & (boundary == next_retarget)
            factor = np.clip(
                RETARGET_TIMESPAN_S / np.where(retarget, epoch_elapsed_s, 1.0), 0.25, 4.0)
            difficulty = np.where(retarget, difficulty * factor, difficulty)
            epoch_start = np.where(retarget, next_retarget, epoch_start)
            epoch_elapsed_s = np.where(retarget, 0.0, epoch_elapsed_s)
        crossed = (np.floor(height / HALVING_BLOCKS) > halvings_at_start) & (halving_day < 0)
        halving_day = np.where(crossed, t, halving_day)
        out["blocks"][:, t] = blocks
        with np.errstate(invalid="ignore", divide="ignore"):
            out["subsidy_btc"][:, t] = np.where(blocks > 0, subsidy_blocks_btc / blocks, 0.0)
        out["btc_per_th_day"][:, t] = per_th
    out["halving_day"] = halving_day
    return out


ChainFunction = Callable[[np.ndarray, float, int, float], dict[str, np.ndarray]]


@lru_cache(maxsize=32)
def market_paths(scenario: Scenario, chain: ChainFunction = simulate_chain) -> MarketPaths:
    """The scenario's daily market arrays (cached: scenarios are frozen and hashable).

    ``chain`` computes the chain arrays with ``simulate_chain``'s signature and outputs; the
    engine passes the jitted ``kernels.chain`` version (only the engine calls jitted code).
    """
    price, hashrate = _price_and_hashrate(scenario)
    net = scenario.network
    difficulty0 = net.difficulty or difficulty_from_hashrate(net.hashrate_ehs)
    chain_arrays = chain(hashrate, difficulty0, net.block_height, net.fees_btc_per_block)
    arrays = {
        "price_usd": price, "hashrate_ehs": hashrate,
        "fees_btc": np.full_like(price, net.fees_btc_per_block), **chain_arrays,
    }
    for array in arrays.values():
        array.setflags(write=False)
    return MarketPaths(**arrays)
