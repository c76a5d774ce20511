"""The responsive network written plainly with NumPy: one vectorised step per day over paths.

The model (hashprice at the start of the day -> online share of each tier -> hashrate -> the
chain's day -> the day's orders) is described in ``kernels.responsive``; this is the same model,
the oracle the jitted loop is tested against, and it takes the same arrays (minus the output
buffers). The chain's day is ``fleetcalc.network.chain_day``, the exogenous model's own.
"""

from __future__ import annotations

import math

import numpy as np

from fleetcalc.network import (
    SATS_PER_BTC,
    SECONDS_PER_DAY,
    TWO_POW_32,
    ChainState,
    chain_day,
    subsidy_sats,
)

# kWh a machine of 1 J/TH uses per TH/s-day: 1 W per TH/s x 24 h / 1000.
KWH_PER_TH_DAY_PER_J_PER_TH = 0.024
RESPONSIVE_FIELDS = ("hashrate_ehs", "installed_ehs", "ordered_ehs", "difficulty", "blocks",
                     "height", "subsidy_btc", "btc_per_th_day")


def loglogistic_beta(power_sigma: float) -> float:
    """Shape of the log-logistic whose log has standard deviation ``power_sigma``."""
    return math.pi / (power_sigma * math.sqrt(3.0))


def c_pow(base: np.ndarray | float, exponent: float) -> np.ndarray:
    """``base ** exponent`` element by element through the C library's ``pow``, as the jitted
    loop computes it (NumPy's own SIMD ``power`` can differ in the last bit, and the network's
    feedback would grow that bit), with C's inf for an overflow or a zero base."""

    def one(x: float) -> float:
        try:
            return math.pow(x, exponent)
        except (OverflowError, ValueError):
            return math.inf

    flat = np.asarray(base, dtype=np.float64).ravel()
    return np.fromiter((one(x) for x in flat.tolist()), np.float64, flat.size).reshape(
        np.shape(base))


def online_share(
    hashprice_usd_per_th_day: np.ndarray | float, j_per_th: np.ndarray | float,
    power_median_usd_per_kwh: float, power_sigma: float,
) -> np.ndarray:
    """Share of a tier's machines whose power price is below the tier's breakeven
    ``hashprice / (0.024 * j_per_th)`` USD/kWh, power prices log-logistic across the network
    (the online share a tier settles at while the hashprice holds)."""
    beta = loglogistic_beta(power_sigma)
    a = c_pow(KWH_PER_TH_DAY_PER_J_PER_TH * np.asarray(j_per_th) * power_median_usd_per_kwh,
              beta)
    return 1.0 / (1.0 + c_pow(hashprice_usd_per_th_day, -beta) * a)


def start_hashprice(
    price_usd: np.ndarray, fees_btc: float, state: ChainState, pool_fee: float
) -> np.ndarray:
    """Net hashprice (USD per TH/s-day) at the start of a day, per path."""
    subsidy = subsidy_sats(np.floor(state.height).astype(np.int64)) / SATS_PER_BTC
    btc_per_th = 1e12 * SECONDS_PER_DAY * (subsidy + fees_btc) / (state.difficulty * TWO_POW_32)
    return price_usd * btc_per_th * (1.0 - pool_fee)


def order_rate(
    hashprice: np.ndarray, frontier_j_per_th: float, power_median_usd_per_kwh: float,
    capex_usd_per_th: float, target_payback_days: float, supply_ehs_per_day: float,
    noise: np.ndarray | float,
) -> np.ndarray:
    """EH/s ordered on a day: supply rate x clip(target payback / payback, 0, 1)."""
    margin = hashprice - (KWH_PER_TH_DAY_PER_J_PER_TH * frontier_j_per_th
                          * power_median_usd_per_kwh)
    x = target_payback_days * margin / capex_usd_per_th * noise
    return supply_ehs_per_day * np.clip(x, 0.0, 1.0)


def simulate_responsive(
    price_usd: np.ndarray, order_noise: np.ndarray, fees_btc: np.ndarray,
    start_ehs: np.ndarray, start_j_per_th: np.ndarray, cohort_of_order: np.ndarray,
    cohort_j_per_th: np.ndarray, difficulty0: float, height0: int, pool_fee: float,
    power_median_usd_per_kwh: float, power_sigma: float, response_days: float,
    capex_usd_per_th: float, target_payback_days: float, supply_ehs_per_day: float,
    lag_days: int, life_days: int,
) -> dict[str, np.ndarray]:
    """The responsive network's daily arrays (``RESPONSIVE_FIELDS`` and ``halving_day``)."""
    n_paths, n_days = price_usd.shape
    n_start = start_j_per_th.shape[0]
    beta = loglogistic_beta(power_sigma)
    step = 1.0 / response_days
    tier_j_per_th = np.concatenate([start_j_per_th, cohort_j_per_th])
    tier_a = c_pow(KWH_PER_TH_DAY_PER_J_PER_TH * tier_j_per_th * power_median_usd_per_kwh, beta)
    rate_args = (power_median_usd_per_kwh, capex_usd_per_th, target_payback_days,
                 supply_ehs_per_day)
    state = ChainState.start(n_paths, difficulty0, height0)
    out = {name: np.empty((n_paths, n_days)) for name in RESPONSIVE_FIELDS}
    halving_day = np.full(n_paths, -1, dtype=np.int64)
    cap = np.zeros((tier_a.shape[0], n_paths))
    hashprice = start_hashprice(price_usd[:, 0], fees_btc[0], state, pool_fee)
    share = 1.0 / (1.0 + c_pow(hashprice, -beta)[None, :] * tier_a[:, None])
    orders = np.empty((n_paths, lag_days + n_days))  # by delivery day
    orders[:, 0] = 0.0
    orders[:, 1:lag_days] = order_rate(
        hashprice, cohort_j_per_th[cohort_of_order[lag_days]], *rate_args, 1.0)[:, None]
    for t in range(n_days):
        out["difficulty"][:, t] = state.difficulty
        out["height"][:, t] = state.height
        hashprice = start_hashprice(price_usd[:, t], fees_btc[t], state, pool_fee)
        u = c_pow(hashprice, -beta)
        cap[:n_start] = start_ehs[t][:, None]
        cap[n_start + cohort_of_order[t]] += orders[:, t]
        if t >= life_days:
            cap[n_start + cohort_of_order[t - life_days]] -= orders[:, t - life_days]
        online = np.zeros(n_paths)
        installed = np.zeros(n_paths)
        for k in range(tier_a.shape[0]):
            share[k] += (1.0 / (1.0 + u * tier_a[k]) - share[k]) * step
            online += cap[k] * share[k]
            installed += cap[k]
        out["hashrate_ehs"][:, t] = online
        out["installed_ehs"][:, t] = installed
        blocks, subsidy_btc, per_th, crossed = chain_day(state, online, fees_btc[t])
        halving_day = np.where(crossed & (halving_day < 0), t, halving_day)
        out["blocks"][:, t] = blocks
        out["subsidy_btc"][:, t] = subsidy_btc
        out["btc_per_th_day"][:, t] = per_th
        frontier = cohort_j_per_th[cohort_of_order[lag_days + t]]
        rate = order_rate(hashprice, frontier, *rate_args, order_noise[:, t])
        out["ordered_ehs"][:, t] = rate
        orders[:, lag_days + t] = rate
    out["halving_day"] = halving_day
    return out
