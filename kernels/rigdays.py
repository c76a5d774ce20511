"""Rig-day simulation kernel: per-day fleet totals and per-group totals, for every path.

Array contract (R rigs or cohorts, T days, P market paths, G groups; float64/int64 contiguous):

inputs, per rig r
    hashrate_th[R]        nameplate hashrate on delivery day, TH/s per unit
    power_w[R]            wall power per unit, W
    weight[R]             units the row stands for (1 for a sampled rig, the quantity of a cohort)
    delivery_day[R]       first mining day (int64, 0 = scenario start)
    retire_day[R]         first day no longer mined (exclusive end, <= T)
    decay_per_day[R]      hashrate factor per day, (1 - annual_degradation) ** (1/365)
    uptime[R]             planned uptime share of a running day, 0..1
    failure_per_day[R]    failure hazard per running day, AFR / 365
    repair_days[R]        calendar days a failed unit is down (int64)
    repair_cost_usd[R]    cost of one repair, USD
    energy_usd_per_kwh[R] all-in power price of the rig's site
    curtail[R]            1: the rig is off on days its revenue would not cover its energy
    rig_key[R]            stable id of the rig for the random stream (int64)
    group[R]              output group of the rig (an order), 0..G-1
inputs, per path p and day t
    btc_per_th_day[P, T]  expected gross BTC per TH/s per day (difficulty, subsidy, fees)
    price_usd[P, T]       BTC price
scalars
    pool_fee              share of gross BTC kept by the pool
    sampled               True: failures drawn per rig from the counter-based RNG;
                          False: failures in expectation (steady-state availability)
    seed                  RNG seed (non-negative)
outputs (caller-allocated; fully overwritten)
    daily_out[P, N_DAILY, T]     fleet totals per day, fields DAILY_*
    group_out[P, G, N_GROUP]     totals per group over the horizon, fields GROUP_*
scratch (caller-allocated, see ``scratch_shapes``)
    day_acc[n_tasks, N_DAILY, T], group_acc[n_tasks, G, N_GROUP]

A task is one fixed block of ``BLOCK_RIGS`` consecutive rigs on one path. Tasks write only their
own scratch slice and are reduced afterwards in block order, so the result never depends on the
number of threads. Memory is O(tasks x T + R), never R x T.

Model of one unit on day t in [delivery, retire): see ``kernels.reference`` and DESIGN.md.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from kernels._jit import jit
from kernels.rng import STREAM_FAILURE, uniform_nb

BLOCK_RIGS = 2048

DAILY_HASHRATE_TH = 0
DAILY_POWER_W = 1
DAILY_BTC = 2
DAILY_REVENUE_USD = 3
DAILY_ENERGY_USD = 4
DAILY_REPAIR_USD = 5
DAILY_RUNNING_UNITS = 6
N_DAILY = 7

GROUP_BTC = 0
GROUP_REVENUE_USD = 1
GROUP_ENERGY_USD = 2
GROUP_REPAIR_USD = 3
GROUP_RUNNING_UNIT_DAYS = 4
GROUP_FAILURES = 5
N_GROUP = 6


def n_blocks(n_rigs: int) -> int:
    """Number of fixed rig blocks; a function of the rig count only, never of threads."""
    return max(1, -(-n_rigs // BLOCK_RIGS))


def scratch_shapes(n_rigs: int, n_paths: int, n_days: int, n_groups: int) -> tuple:
    """Shapes of the two scratch buffers the caller allocates for ``simulate_rigdays_nb``."""
    n_tasks = n_blocks(n_rigs) * n_paths
    return (n_tasks, N_DAILY, n_days), (n_tasks, n_groups, N_GROUP)


@jit()
def _simulate_block_nb(
    first, last, path, hashrate_th, power_w, weight, delivery_day, retire_day, decay_per_day,
    uptime, failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key,
    group, btc_per_th_day, price_usd, pool_fee, sampled, seed, day_acc, group_acc,
):
    """Simulate rigs [first, last) on one path into one task's scratch slices."""
    keep_share = 1.0 - pool_fee
    for r in range(first, last):
        w = weight[r]
        u = uptime[r]
        lam = failure_per_day[r]
        kwh_per_day = power_w[r] / 1000.0 * 24.0
        energy_per_day = kwh_per_day * energy_usd_per_kwh[r]
        decay = decay_per_day[r]
        g = group[r]
        if sampled:
            availability = 1.0
        else:
            availability = 1.0 / (1.0 + lam * repair_days[r])
        scale = w * u * availability
        h = hashrate_th[r]
        # Sampled failures: a failure happens after an exponential number of running days.
        n_failures = 0
        if sampled and lam > 0.0:
            days_left = -np.log(uniform_nb(seed, STREAM_FAILURE, path, rig_key[r], 0)) / lam
        else:
            days_left = np.inf
        repair_until = delivery_day[r]
        btc_sum = 0.0
        revenue_sum = 0.0
        energy_sum = 0.0
        repair_sum = 0.0
        running_sum = 0.0
        failures_sum = 0.0
        for t in range(delivery_day[r], retire_day[r]):
            if t > delivery_day[r]:
                h *= decay
            if t < repair_until:
                continue
            btc_unit = h * btc_per_th_day[path, t] * keep_share
            if curtail[r] != 0 and btc_unit * price_usd[path, t] < energy_per_day:
                continue
            if sampled:
                if days_left < 1.0:
                    n_failures += 1
                    repair_sum += w * repair_cost_usd[r]
                    day_acc[DAILY_REPAIR_USD, t] += w * repair_cost_usd[r]
                    failures_sum += w
                    repair_until = t + repair_days[r]
                    days_left = -np.log(
                        uniform_nb(seed, STREAM_FAILURE, path, rig_key[r], n_failures)
                    ) / lam
                    if t < repair_until:
                        continue
                days_left -= 1.0
            else:
                expected_failures = w * lam * availability
                repair_sum += expected_failures * repair_cost_usd[r]
                day_acc[DAILY_REPAIR_USD, t] += expected_failures * repair_cost_usd[r]
                failures_sum += expected_failures
            btc = btc_unit * scale
            revenue = btc * price_usd[path, t]
            energy = energy_per_day * scale
            day_acc[DAILY_HASHRATE_TH, t] += h * scale
            day_acc[DAILY_POWER_W, t] += power_w[r] * scale
            day_acc[DAILY_BTC, t] += btc
            day_acc[DAILY_REVENUE_USD, t] += revenue
            day_acc[DAILY_ENERGY_USD, t] += energy
            day_acc[DAILY_RUNNING_UNITS, t] += w * availability
            btc_sum += btc
            revenue_sum += revenue
            energy_sum += energy
            running_sum += w * availability
        group_acc[g, GROUP_BTC] += btc_sum
        group_acc[g, GROUP_REVENUE_USD] += revenue_sum
        group_acc[g, GROUP_ENERGY_USD] += energy_sum
        group_acc[g, GROUP_REPAIR_USD] += repair_sum
        group_acc[g, GROUP_RUNNING_UNIT_DAYS] += running_sum
        group_acc[g, GROUP_FAILURES] += failures_sum


@jit(parallel=True)
def simulate_rigdays_nb(
    hashrate_th, power_w, weight, delivery_day, retire_day, decay_per_day, uptime,
    failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key, group,
    btc_per_th_day, price_usd, pool_fee, sampled, seed, daily_out, group_out, day_acc, group_acc,
):
    """Fill ``daily_out`` and ``group_out``; see the module docstring for the contract."""
    n_rigs = hashrate_th.shape[0]
    n_paths = btc_per_th_day.shape[0]
    blocks = max(1, (n_rigs + BLOCK_RIGS - 1) // BLOCK_RIGS)
    n_tasks = blocks * n_paths
    for task in prange(n_tasks):
        block = task // n_paths
        path = task % n_paths
        day_acc[task, :, :] = 0.0
        group_acc[task, :, :] = 0.0
        first = block * BLOCK_RIGS
        last = min(n_rigs, first + BLOCK_RIGS)
        _simulate_block_nb(
            first, last, path, hashrate_th, power_w, weight, delivery_day, retire_day,
            decay_per_day, uptime, failure_per_day, repair_days, repair_cost_usd,
            energy_usd_per_kwh, curtail, rig_key, group, btc_per_th_day, price_usd, pool_fee,
            sampled, seed, day_acc[task], group_acc[task],
        )
    # Reduce in block order: each output element is summed by one iteration, always in the
    # same order, so the totals are bit-identical for any thread count.
    for path in prange(n_paths):
        daily_out[path, :, :] = 0.0
        group_out[path, :, :] = 0.0
        for block in range(blocks):
            task = block * n_paths + path
            daily_out[path] += day_acc[task]
            group_out[path] += group_acc[task]
