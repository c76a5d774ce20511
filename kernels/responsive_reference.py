"""The responsive network written plainly with NumPy: one vectorised step per day over paths.

The model (hashprice at the start of the day -> online share of each tier -> hashrate -> the
chain's day -> the day's orders) is described in ``kernels.responsive``; this is the same model,
the oracle the jitted loop is tested against, and it takes the same arrays (minus the output
buffers). The chain's day is ``kernels.reference.chain_day_reference``, the exogenous model's
own NumPy chain.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from kernels.protocol import (
    HASHES_PER_DIFFICULTY,
    HASHES_PER_S_PER_TH_S,
    SATS_PER_BTC,
    SECONDS_PER_DAY,
)
from kernels.reference import ChainState, chain_day_reference, subsidy_sats_reference
from kernels.responsive import LOG_FLOOR, log_price

# kWh a machine of 1 J/TH uses per TH/s-day: 1 W per TH/s x 24 h / 1000.
KWH_PER_TH_DAY_PER_J_PER_TH = 0.024
RESPONSIVE_FIELDS = ("hashrate_ehs", "installed_ehs", "ordered_ehs", "difficulty", "blocks",
                     "height", "subsidy_btc", "btc_per_th_day")


def loglogistic_beta(power_sigma: float) -> float:
    """Shape of the log-logistic whose log has standard deviation ``power_sigma``."""
    return math.pi / (power_sigma * math.sqrt(3.0))


def _c_elementwise(function: Callable[[float], float], x: np.ndarray | float) -> np.ndarray:
    """``function`` (a C library function through ``math``) element by element: NumPy's own
    SIMD versions can differ in the last bit, and the network's feedback would grow that bit."""
    flat = np.asarray(x, dtype=np.float64).ravel()
    return np.fromiter((function(v) for v in flat.tolist()), np.float64, flat.size).reshape(
        np.shape(x))


def c_exp(x: np.ndarray | float) -> np.ndarray:
    """C ``exp``, inf on overflow, as the jitted loop computes it."""

    def one(v: float) -> float:
        try:
            return math.exp(v)
        except OverflowError:
            return math.inf

    return _c_elementwise(one, x)


def c_log(x: np.ndarray | float) -> np.ndarray:
    """C ``log`` of a positive number."""
    return _c_elementwise(math.log, x)


def c_pow(base: np.ndarray | float, exponent: float) -> np.ndarray:
    """``base ** exponent`` as the jitted loop computes it: ``exp(exponent * log(base))``
    (C); a zero base gives inf or 0 as C's ``log(0) = -inf`` would."""

    def one(x: float) -> float:
        if x == 0.0:
            return math.inf if exponent < 0.0 else 0.0
        try:
            return math.exp(exponent * math.log(x))
        except OverflowError:
            return math.inf

    return _c_elementwise(one, base)


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


def net_btc_per_th(
    fees_btc: float, state: ChainState, pool_fee: float
) -> np.ndarray:
    """BTC per TH/s-day net of the pool fee at the start of a day, per path: times the day's
    BTC price, the hashprice miners act on."""
    subsidy = subsidy_sats_reference(np.floor(state.height).astype(np.int64)) / SATS_PER_BTC
    return (HASHES_PER_S_PER_TH_S * SECONDS_PER_DAY * (subsidy + fees_btc)
            / (state.difficulty * HASHES_PER_DIFFICULTY) * (1.0 - pool_fee))


def order_rate(
    hashprice: np.ndarray, frontier_cost: float, payback_per_capex: float,
    supply_ehs_per_day: float, noise: np.ndarray | float,
) -> np.ndarray:
    """EH/s ordered on a day: supply rate x clip(target payback / payback, 0, 1), from the
    frontier machine's power cost per TH/s-day and the target payback days per USD/TH."""
    x = (hashprice - frontier_cost) * payback_per_capex * noise
    return supply_ehs_per_day * np.clip(x, 0.0, 1.0)


def simulate_responsive_reference(
    price_usd: np.ndarray, order_noise: np.ndarray, fees_btc: np.ndarray,
    start_share: np.ndarray, start_j_per_th: np.ndarray, hashrate0_ehs: float,
    cohort_of_order: np.ndarray, cohort_j_per_th: np.ndarray, difficulty0: float,
    height0: int, pool_fee: float,
    power_median_usd_per_kwh: float, power_sigma: float, response_days: float,
    capex_usd_per_th: float, target_payback_days: float, supply_ehs_per_day: float,
    lag_days: int, life_days: int,
) -> dict[str, np.ndarray]:
    """The responsive network's daily arrays (``RESPONSIVE_FIELDS`` and ``halving_day``).

    One loop over days, its phases in the kernel's order (a little over 60 lines: split up,
    the order of the operations the two implementations share bit for bit would be harder to
    check against ``kernels.responsive``)."""
    n_paths, n_days = price_usd.shape
    beta = loglogistic_beta(power_sigma)
    step = 1.0 / response_days
    kwh = KWH_PER_TH_DAY_PER_J_PER_TH
    start_a = c_pow(kwh * start_j_per_th * power_median_usd_per_kwh, beta)
    cohort_a = c_pow(kwh * cohort_j_per_th * power_median_usd_per_kwh, beta)
    payback_per_capex = target_payback_days / capex_usd_per_th
    state = ChainState.start(n_paths, difficulty0, height0)
    out = {name: np.empty((n_paths, n_days)) for name in RESPONSIVE_FIELDS}
    halving_day = np.full(n_paths, -1, dtype=np.int64)
    cohort_ehs = np.zeros((cohort_a.shape[0], n_paths))
    log_price_usd = log_price(price_usd)
    net = net_btc_per_th(fees_btc[0], state, pool_fee)
    signal = price_usd[:, 0] * net
    log_signal = log_price_usd[:, 0] + c_log(np.maximum(net, LOG_FLOOR))
    u0 = c_exp(-beta * log_signal)
    online0 = np.zeros(n_paths)
    for k in range(start_a.shape[0]):
        online0 += start_share[0, k] / (1.0 + u0 * start_a[k])
    # The start tiers make hashrate0_ehs online on day 0 at each path's price (none: empty).
    with np.errstate(divide="ignore"):
        scale = np.where(online0 > 0.0, hashrate0_ehs / online0, 0.0)
    orders = np.empty((n_paths, lag_days + n_days))  # by delivery day
    orders[:, 0] = 0.0
    first_cost = kwh * cohort_j_per_th[cohort_of_order[lag_days]] * power_median_usd_per_kwh
    orders[:, 1:lag_days] = order_rate(signal, first_cost, payback_per_capex,
                                       supply_ehs_per_day, 1.0)[:, None]
    for t in range(n_days):
        out["difficulty"][:, t] = state.difficulty
        out["height"][:, t] = state.height
        net = net_btc_per_th(fees_btc[t], state, pool_fee)
        signal = signal + (price_usd[:, t] * net - signal) * step
        log_signal = log_signal + (log_price_usd[:, t] + c_log(np.maximum(net, LOG_FLOOR))
                                   - log_signal) * step
        u = c_exp(-beta * log_signal)
        cohort_ehs[cohort_of_order[t]] += orders[:, t]
        if t >= life_days:
            cohort_ehs[cohort_of_order[t - life_days]] -= orders[:, t - life_days]
        installed_start = 0.0
        for k in range(start_a.shape[0]):
            installed_start += start_share[t, k]
        online = np.zeros(n_paths)
        for k in range(start_a.shape[0]):
            online += start_share[t, k] / (1.0 + u * start_a[k])
        online *= scale
        installed = installed_start * scale
        for c in range(cohort_of_order[t] + 1):
            online += cohort_ehs[c] / (1.0 + u * cohort_a[c])
            installed += cohort_ehs[c]
        out["hashrate_ehs"][:, t] = online
        out["installed_ehs"][:, t] = installed
        blocks, subsidy_btc, per_th, crossed = chain_day_reference(state, online, fees_btc[t])
        halving_day = np.where(crossed & (halving_day < 0), t, halving_day)
        out["blocks"][:, t] = blocks
        out["subsidy_btc"][:, t] = subsidy_btc
        out["btc_per_th_day"][:, t] = per_th
        frontier_cost = (kwh * cohort_j_per_th[cohort_of_order[lag_days + t]]
                         * power_median_usd_per_kwh)
        rate = order_rate(signal, frontier_cost, payback_per_capex, supply_ehs_per_day,
                          order_noise[:, t])
        out["ordered_ehs"][:, t] = rate
        orders[:, lag_days + t] = rate
    out["halving_day"] = halving_day
    return out
