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

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fleetcalc.scenario import Scenario
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


def btc_per_th_day(difficulty: float, subsidy_btc: float, fees_btc: float) -> float:
    """Expected gross BTC per TH/s per day at one difficulty (the pools' 2**32 convention)."""
    return (HASHES_PER_S_PER_TH_S * SECONDS_PER_DAY * (subsidy_btc + fees_btc)
            / (difficulty * HASHES_PER_DIFFICULTY))


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


ChainFunction = Callable[[np.ndarray, float, int, float], dict[str, np.ndarray]]


@lru_cache(maxsize=32)
def market_paths(scenario: Scenario, chain: ChainFunction | None = None) -> MarketPaths:
    """The scenario's daily market arrays (cached: scenarios are frozen and hashable).

    ``chain`` computes the chain arrays with the signature and outputs of
    ``kernels.reference.simulate_chain_reference``, the NumPy chain used when none is given;
    the engine passes the jitted ``kernels.chain`` version (only the engine calls jitted code).
    """
    if chain is None:
        from kernels.reference import simulate_chain_reference as chain
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
