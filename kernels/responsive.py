"""The responsive network as a jitted loop: miners' economics set the hashrate, the protocol
sets the difficulty, and each day's difficulty sets the next day's economics.

Per path and day t (``kernels.responsive_reference.simulate_responsive_reference`` is the same
model in NumPy, the oracle this kernel is tested against):

1. The day's hashprice, net of the pool fee (USD per TH/s-day):
   ``P[t] * 1e12 * 86400 * (S(h) + F[t]) / (D * 2**32) * (1 - pool_fee)``, with D the
   difficulty in force and S(h) the subsidy of the block in progress: today's price and the
   current difficulty, both known when the day starts, so the loop is causal. Miners act on
   its moving average ``hp += (hashprice - hp) / response_days`` (day 0: the day's own).
2. A tier of efficiency e (J/TH) breaks even at power price ``be = hp / (0.024 * e)`` USD/kWh;
   its online share is the share of the network's power prices below ``be``. Power prices are
   log-logistic across the network (median m, ``beta = pi / (sigma * sqrt(3))``, so sigma is
   the standard deviation of log power price, as a lognormal's would be):
   ``F(be) = 1 / (1 + (m / be) ** beta) = 1 / (1 + u * a)`` with ``u = hp ** -beta`` once a
   day and ``a = (0.024 * e * m) ** beta`` once per tier: one division per tier and day.
   Powers are ``exp(y * log(x))`` with the C library's functions, as the reference computes them.
3. Online hashrate = the start tiers' shares (retirements applied, given per day) x F, times the
   path's scale (the EH/s that puts ``hashrate0_ehs`` online on day 0 at the path's own day-0
   price), plus each cohort of new machines' EH/s x F; the chain steps the day with it
   (``kernels.chain.chain_day_nb``).
4. Orders: the frontier machine of the day (efficiency e_f of the day's cohort) earns
   ``margin = hp - 0.024 * e_f * m`` per TH/s-day; ``x = target_payback_days * margin /
   capex_usd_per_th`` (1: it pays back in the target time); the day orders
   ``supply_ehs_per_day * clip(x * noise[t], 0, 1)`` EH/s, delivered ``lag_days`` later into
   the order day's cohort and retired ``life_days`` after delivery. Orders in flight at the start
   (placed at day 0's rate, without noise) deliver on days 1 .. lag_days - 1; day 0 runs the
   start tiers alone.

Entry point ``simulate_responsive(<arrays below>, threads=None)``, plain Python. Paths are
stepped in blocks of up to ``PATH_BLOCK`` in lock step: each day's work is a chain of dependent
operations (difficulty -> hashprice -> online -> difficulty), so one path at a time leaves the
core waiting on latencies; interleaving independent paths fills them, and the tier sums run
across the block's paths in SIMD. The blocks are tasks of ``kernels.tasks.run_tasks`` (a plain
thread pool calling the ``nogil`` body ``simulate_responsive_tasks_nb``). Every path's
arithmetic is the same whatever its block, so results never depend on the number of paths or
threads.

Array contract (P paths, T days, K start tiers, C cohorts, L = lag_days; float64 unless noted,
C-contiguous):

inputs
    price_usd[P, T]          BTC price, USD
    order_noise[P, T]        factor on each day's orders (1.0: no noise)
    fees_btc[T]              fees per block, BTC
    start_share[T, K]        installed share of each start tier on each day (retirements
                             applied), in units of the installed base on day 0
    start_j_per_th[K]        efficiency of the start tiers, J/TH
    hashrate0_ehs            the start tiers' online hashrate on day 0: each path scales the
                             base to it at its own day-0 price
    cohort_of_order[L + T]   int64: cohort of the orders delivered on day j (placed on day
                             j - L); entries before L are the orders in flight at the start
    cohort_j_per_th[C]       efficiency of the machines of each cohort, J/TH
    difficulty0, height0     difficulty and block height (int) at the start of day 0
    pool_fee, power_median_usd_per_kwh, power_sigma, response_days, capex_usd_per_th,
    target_payback_days, supply_ehs_per_day   scalars (see above)
    lag_days, life_days      int >= 1
outputs (caller-allocated; fully overwritten)
    hashrate_ehs[P, T]       online hashrate of the day, EH/s
    installed_ehs[P, T]      installed hashrate (online or not), EH/s
    ordered_ehs[P, T]        hashrate ordered that day, EH/s
    difficulty, blocks, height, subsidy_btc, btc_per_th_day [P, T] and halving_day[P] (int64):
                             as ``kernels.chain.simulate_chain_nb``; ``simulate_responsive``
                             first writes log(price) into btc_per_th_day (scratch the kernel
                             reads a day from before it writes that day's value)
"""

from __future__ import annotations

import math

import numpy as np

from kernels._jit import Tier, compiled, jit
from kernels.chain import chain_day_nb, chain_start_nb, quiet_day_nb, subsidy_sats_nb
from kernels.protocol import (
    HALVING_BLOCKS,
    HASHES_PER_DIFFICULTY,
    HASHES_PER_S_PER_TH_S,
    SATS_PER_BTC,
    SECONDS_PER_DAY,
)
from kernels.tasks import default_threads, run_tasks

# kWh a machine of 1 J/TH uses per TH/s-day: 1 W per TH/s x 24 h / 1000.
KWH_PER_TH_DAY_PER_J_PER_TH = 0.024
# Floor under a price or a net BTC per TH/s before its log (a zero price; a zero subsidy with
# no fees): far below any breakeven, so nothing runs, and the moving average stays finite.
LOG_FLOOR = 1e-300
# Paths stepped in lock step: enough independent work per day to hide each path's latencies
# (measured: 8 paths 16 ms, 32 paths 13 ms, 128 paths 11 ms for 200 paths x 1826 days).
PATH_BLOCK = 128
MIN_BLOCKS = 4
# From this many paths the blocks run on the thread pool.
PARALLEL_MIN_PATHS = 32


@jit(inline=True)
def loglogistic_beta_nb(power_sigma: float) -> float:
    """Shape of the log-logistic whose log has standard deviation ``power_sigma``."""
    return math.pi / (power_sigma * math.sqrt(3.0))


@jit(inline=True)
def subsidy_btc_nb(h):
    """Subsidy (BTC) of the block at height ``h`` (fractional: the block in progress)."""
    return subsidy_sats_nb(np.int64(np.floor(h))) / SATS_PER_BTC


@jit(inline=True)
def subsidy_era_nb(h):
    """The subsidy (BTC) of block ``floor(h)`` as ``chain_day_nb`` computes it, and the height
    from which it no longer holds (the next multiple of HALVING_BLOCKS above ``floor(h)``)."""
    block = np.int64(np.floor(h))
    return (subsidy_sats_nb(block) / SATS_PER_BTC,
            float((block // HALVING_BLOCKS + 1) * HALVING_BLOCKS))


@jit(inline=True)
def net_btc_per_th_nb(fees_btc, diff, subsidy_btc, pool_fee):
    """BTC per TH/s-day net of the pool fee at a difficulty and subsidy: times the day's BTC
    price, the hashprice miners act on at the start of the day."""
    return (HASHES_PER_S_PER_TH_S * SECONDS_PER_DAY * (subsidy_btc + fees_btc)
            / (diff * HASHES_PER_DIFFICULTY) * (1.0 - pool_fee))


@jit(inline=True)
def pow_nb(x, exponent):
    """``x ** exponent`` as the reference computes it: ``exp(exponent * log(x))`` (C)."""
    return math.exp(exponent * math.log(x))


@jit(inline=True)
def order_rate_nb(hashprice, frontier_cost, payback_per_capex, supply_ehs_per_day, noise):
    """EH/s ordered on a day: the supply rate times the frontier machine's profitability
    (target payback over payback), clipped to [0, 1]. ``frontier_cost``: the frontier
    machine's power cost per TH/s-day; ``payback_per_capex``: target payback days per USD/TH."""
    x = (hashprice - frontier_cost) * payback_per_capex * noise
    if x < 0.0:
        x = 0.0
    elif x > 1.0:
        x = 1.0
    return supply_ehs_per_day * x


@jit()
def _responsive_block_nb(
    p0, nb, price_usd, log_price_usd, order_noise, fees_btc, start_share, start_a, hashrate0_ehs,
    cohort_of_order, cohort_j_per_th, cohort_a, difficulty0, height0, pool_fee,
    power_median_usd_per_kwh, beta, step, payback_per_capex, supply_ehs_per_day, lag_days,
    life_days, hashrate_ehs, installed_ehs, ordered_ehs, difficulty, blocks, height,
    subsidy_btc, btc_per_th_day, halving_day,
):
    """Paths ``p0 .. p0 + nb - 1`` in lock step (the model and contract: module docstring).

    Longer than most functions because the block's per-day phases share its state arrays;
    each phase is a short loop over the block's paths.
    """
    n_days = price_usd.shape[1]
    n_start = start_a.shape[0]
    n_cohorts = cohort_a.shape[0]
    kwh = KWH_PER_TH_DAY_PER_J_PER_TH
    epoch_start0, epoch_elapsed0 = chain_start_nb(height0)
    diff = np.empty(nb)
    h = np.empty(nb)
    epoch_start = np.empty(nb)
    epoch_elapsed = np.empty(nb)
    # Subsidy and net BTC per TH/s at the start of the day, recomputed only on the days a
    # retarget, a halving or a change of fees moves them: branches the core predicts, so the
    # next day's economics need not wait for the chain's arithmetic.
    subsidy = np.empty(nb)
    net = np.empty(nb)
    log_net = np.empty(nb)
    signal = np.empty(nb)  # moving average of hashprice: what orders answer
    log_signal = np.empty(nb)  # moving average of log hashprice: what runs answers
    u = np.empty(nb)
    online = np.empty(nb)
    installed = np.empty(nb)
    scale = np.empty(nb)  # EH/s of the start tiers per unit of start_share
    cohort_ehs = np.empty((n_cohorts, nb))
    orders = np.empty((lag_days + n_days, nb))  # by delivery day, paths inside
    # The chain's state beyond (diff, h, epoch_start, epoch_elapsed) that quiet_day_nb reads:
    # floor(h / HALVING_BLOCKS), the subsidy of block floor(h) and the height where it changes.
    halvings = np.empty(nb)
    chain_subsidy = np.empty(nb)
    era_end = np.empty(nb)
    # quiet_day_nb's answers for the day, per path.
    day_quiet = np.empty(nb, dtype=np.bool_)
    day_crossed = np.empty(nb, dtype=np.bool_)
    fix = np.empty(nb, dtype=np.bool_)
    day_blocks = np.empty(nb)
    day_subsidy = np.empty(nb)
    day_per_th = np.empty(nb)
    day_diff = np.empty(nb)  # difficulty and height at the start of the day
    day_h = np.empty(nb)
    day_noise = np.empty(nb)
    first_cost = kwh * cohort_j_per_th[cohort_of_order[lag_days]] * power_median_usd_per_kwh
    for b in range(nb):
        p = p0 + b
        diff[b] = difficulty0
        h[b] = float(height0)
        epoch_start[b] = epoch_start0
        epoch_elapsed[b] = epoch_elapsed0
        subsidy[b] = subsidy_btc_nb(h[b])
        net[b] = net_btc_per_th_nb(fees_btc[0], diff[b], subsidy[b], pool_fee)
        log_net[b] = math.log(max(net[b], LOG_FLOOR))
        signal[b] = price_usd[p, 0] * net[b]
        log_signal[b] = log_price_usd[p, 0] + log_net[b]
        u0 = math.exp(-beta * log_signal[b])
        online0 = 0.0
        for k in range(n_start):
            online0 += start_share[0, k] / (1.0 + u0 * start_a[k])
        # The start tiers make hashrate0_ehs online on day 0, at this path's price; none
        # online (a zero price) leaves them empty.
        scale[b] = hashrate0_ehs / online0 if online0 > 0.0 else 0.0
        cohort_ehs[:, b] = 0.0
        in_flight = order_rate_nb(signal[b], first_cost, payback_per_capex,
                                  supply_ehs_per_day, 1.0)
        orders[0, b] = 0.0
        for j in range(1, lag_days):
            orders[j, b] = in_flight
        halving_day[p] = -1
        halvings[b] = np.floor(h[b] / HALVING_BLOCKS)
        chain_subsidy[b], era_end[b] = subsidy_era_nb(h[b])
    for t in range(n_days):
        if t > 0 and fees_btc[t] != fees_btc[t - 1]:
            for b in range(nb):
                net[b] = net_btc_per_th_nb(fees_btc[t], diff[b], subsidy[b], pool_fee)
                log_net[b] = math.log(max(net[b], LOG_FLOOR))
        installed_start = 0.0
        for k in range(n_start):
            installed_start += start_share[t, k]
        delivered = cohort_of_order[t]
        for b in range(nb):
            p = p0 + b
            signal[b] += (price_usd[p, t] * net[b] - signal[b]) * step
            log_signal[b] += (log_price_usd[p, t] + log_net[b] - log_signal[b]) * step
            u[b] = -beta * log_signal[b]
            day_noise[b] = order_noise[p, t]
            cohort_ehs[delivered, b] += orders[t, b]
            online[b] = 0.0
            installed[b] = installed_start * scale[b]
        if t >= life_days:
            retired = cohort_of_order[t - life_days]
            for b in range(nb):
                cohort_ehs[retired, b] -= orders[t - life_days, b]
        # The C exp alone in its loop: the call would keep the loops around it from SIMD.
        for b in range(nb):
            u[b] = math.exp(u[b])
        # Tiers in a fixed order (start tiers, then the cohorts ordered so far), the block's
        # paths inside: independent lanes the compiler runs in SIMD.
        for k in range(n_start):
            share = start_share[t, k]
            if share == 0.0:  # retired: adding its zero changes no bit
                continue
            a = start_a[k]
            for b in range(nb):
                online[b] += share / (1.0 + u[b] * a)
        for b in range(nb):
            online[b] *= scale[b]
        for c in range(delivered + 1):
            a = cohort_a[c]
            for b in range(nb):
                online[b] += cohort_ehs[c, b] / (1.0 + u[b] * a)
                installed[b] += cohort_ehs[c, b]
        frontier_cost = (kwh * cohort_j_per_th[cohort_of_order[lag_days + t]]
                         * power_median_usd_per_kwh)
        # The chain's day for every path in SIMD, kept where no boundary falls in it (13 days
        # in 14), and the day's orders; the lanes left to finish (``fix``) go one by one below.
        for b in range(nb):
            (quiet, day_blocks[b], day_subsidy[b], day_per_th[b], h_end,
             halvings_end) = quiet_day_nb(online[b], fees_btc[t], diff[b], h[b],
                                          epoch_start[b], halvings[b], chain_subsidy[b])
            quiet = quiet and h[b] < era_end[b]  # chain_subsidy[b] holds for block floor(h)
            crossed = halvings_end > halvings[b]
            day_quiet[b] = quiet
            day_crossed[b] = crossed
            fix[b] = not quiet or crossed or h_end >= era_end[b]
            day_diff[b] = diff[b]
            day_h[b] = h[b]
            h[b] = h_end if quiet else h[b]
            epoch_elapsed[b] = epoch_elapsed[b] + SECONDS_PER_DAY if quiet else epoch_elapsed[b]
            halvings[b] = halvings_end if quiet else halvings[b]
        for b in range(nb):
            orders[lag_days + t, b] = order_rate_nb(signal[b], frontier_cost, payback_per_capex,
                                                    supply_ehs_per_day, day_noise[b])
        next_fees = fees_btc[min(t + 1, n_days - 1)]
        for b in range(nb):
            if not fix[b]:
                continue
            crossed = day_crossed[b]
            if not day_quiet[b]:
                (diff[b], h[b], epoch_start[b], epoch_elapsed[b], day_blocks[b],
                 day_subsidy[b], day_per_th[b], crossed) = chain_day_nb(
                    online[b], fees_btc[t], diff[b], h[b], epoch_start[b], epoch_elapsed[b])
                halvings[b] = np.floor(h[b] / HALVING_BLOCKS)
            if h[b] >= era_end[b]:
                chain_subsidy[b], era_end[b] = subsidy_era_nb(h[b])
            if crossed:
                subsidy[b] = subsidy_btc_nb(h[b])
                if halving_day[p0 + b] < 0:
                    halving_day[p0 + b] = t
            if crossed or diff[b] != day_diff[b]:
                net[b] = net_btc_per_th_nb(next_fees, diff[b], subsidy[b], pool_fee)
                log_net[b] = math.log(max(net[b], LOG_FLOOR))
        for b in range(nb):
            p = p0 + b
            hashrate_ehs[p, t] = online[b]
            installed_ehs[p, t] = installed[b]
            ordered_ehs[p, t] = orders[lag_days + t, b]
            difficulty[p, t] = day_diff[b]
            height[p, t] = day_h[b]
            blocks[p, t] = day_blocks[b]
            subsidy_btc[p, t] = day_subsidy[b]
            btc_per_th_day[p, t] = day_per_th[b]


@jit()
def simulate_responsive_tasks_nb(
    first_block, last_block, block, price_usd, log_price_usd, order_noise, fees_btc,
    start_share,
    start_j_per_th, hashrate0_ehs, cohort_of_order, cohort_j_per_th, difficulty0, height0,
    pool_fee, power_median_usd_per_kwh, power_sigma, response_days, capex_usd_per_th,
    target_payback_days, supply_ehs_per_day, lag_days, life_days, hashrate_ehs, installed_ehs,
    ordered_ehs, difficulty, blocks, height, subsidy_btc, btc_per_th_day, halving_day,
):
    """Blocks ``first_block .. last_block - 1`` of ``block`` paths each (the tasks of
    ``kernels.tasks.run_tasks``): each writes only its own paths' rows."""
    n_paths = price_usd.shape[0]
    beta = loglogistic_beta_nb(power_sigma)
    kwh = KWH_PER_TH_DAY_PER_J_PER_TH
    start_a = np.empty(start_j_per_th.shape[0])
    for k in range(start_a.shape[0]):
        start_a[k] = pow_nb(kwh * start_j_per_th[k] * power_median_usd_per_kwh, beta)
    cohort_a = np.empty(cohort_j_per_th.shape[0])
    for c in range(cohort_a.shape[0]):
        cohort_a[c] = pow_nb(kwh * cohort_j_per_th[c] * power_median_usd_per_kwh, beta)
    for i in range(first_block, last_block):
        p0 = i * block
        _responsive_block_nb(
            p0, min(block, n_paths - p0), price_usd, log_price_usd, order_noise, fees_btc,
            start_share,
            start_a, hashrate0_ehs, cohort_of_order, cohort_j_per_th, cohort_a, difficulty0,
            height0, pool_fee, power_median_usd_per_kwh, beta, 1.0 / response_days,
            target_payback_days / capex_usd_per_th, supply_ehs_per_day, lag_days, life_days,
            hashrate_ehs, installed_ehs, ordered_ehs, difficulty, blocks, height, subsidy_btc,
            btc_per_th_day, halving_day)


def log_price(price_usd: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``log(price)`` of every path and day, by NumPy in one vectorised pass (the chain would
    otherwise take a C ``log`` per path and day: a quarter of its time); a zero price (a
    breakeven search's lower end) counts as ``LOG_FLOOR``. The reference reads the same
    array. ``out``: an array of the price's shape to write it into (else a new one)."""
    floored = np.maximum(price_usd, LOG_FLOOR, out=out)
    return np.log(floored, out=floored)


def paths_per_block(n_paths: int) -> int:
    """At least ``MIN_BLOCKS`` blocks when the paths are few (work for every thread), each at
    most ``PATH_BLOCK`` paths: a function of the path count only, never of the threads."""
    return max(1, min(PATH_BLOCK, -(-n_paths // MIN_BLOCKS)))


def threads_for(n_paths: int) -> int:
    """One thread below ``PARALLEL_MIN_PATHS`` paths (waking the pool costs more than a few
    paths take), else ``default_threads()``. Any number gives the same bits."""
    return 1 if n_paths < PARALLEL_MIN_PATHS else default_threads()


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def simulate_responsive(
    price_usd: np.ndarray, order_noise: np.ndarray, fees_btc: np.ndarray,
    start_share: np.ndarray, start_j_per_th: np.ndarray, hashrate0_ehs: float,
    cohort_of_order: np.ndarray, cohort_j_per_th: np.ndarray, difficulty0: float,
    height0: int, pool_fee: float, power_median_usd_per_kwh: float, power_sigma: float,
    response_days: float, capex_usd_per_th: float, target_payback_days: float,
    supply_ehs_per_day: float, lag_days: int, life_days: int, hashrate_ehs: np.ndarray,
    installed_ehs: np.ndarray, ordered_ehs: np.ndarray, difficulty: np.ndarray,
    blocks: np.ndarray, height: np.ndarray, subsidy_btc: np.ndarray,
    btc_per_th_day: np.ndarray, halving_day: np.ndarray, *, threads: int | None = None,
    tier: Tier = compiled,
) -> None:
    """Fill the caller's output arrays (the module docstring's contract): the path blocks run
    on ``threads`` threads (None: ``threads_for``); the bits are the same for any number.
    ``tier``: how the jitted body runs (``kernels._jit.Tier``; default compiled)."""
    n_paths = price_usd.shape[0]
    block = paths_per_block(n_paths)
    # log(price) goes into btc_per_th_day: the kernel reads each path's day from it before it
    # writes that day's own value there, so no array of every path and day is allocated (and
    # its pages faulted in, ~1,400 a call at 200 paths x 5 years) on each call.
    # The inputs as read-only views: Numba types a read-only array apart from a writable
    # one, so callers passing either (cached market arrays are read-only) would compile the
    # kernel twice.
    price_usd, order_noise, fees_btc, start_share, start_j_per_th, cohort_of_order, \
        cohort_j_per_th = (_read_only(a) for a in (
            price_usd, order_noise, fees_btc, start_share, start_j_per_th, cohort_of_order,
            cohort_j_per_th))
    args = (block, price_usd, log_price(price_usd, out=btc_per_th_day), order_noise, fees_btc,
            start_share, start_j_per_th,
            float(hashrate0_ehs), cohort_of_order, cohort_j_per_th, float(difficulty0),
            int(height0), float(pool_fee), float(power_median_usd_per_kwh), float(power_sigma),
            float(response_days), float(capex_usd_per_th), float(target_payback_days),
            float(supply_ehs_per_day), int(lag_days), int(life_days), hashrate_ehs,
            installed_ehs, ordered_ehs, difficulty, blocks, height, subsidy_btc,
            btc_per_th_day, halving_day)
    n_blocks = -(-n_paths // block)
    run_tasks(tier(simulate_responsive_tasks_nb, (0, n_blocks, *args)), n_blocks,
              threads_for(n_paths) if threads is None else threads, args)
