"""The rig-day model written plainly with NumPy: one vectorised step per day over (paths, rigs).

Same contract as ``kernels.rigdays.simulate_rigdays_nb`` (minus the scratch buffers) and the
oracle the kernel is tested against. Written for reading, not speed: hashrate is
``h0 * decay ** age`` computed afresh each day, failures are masks over all rigs.

One unit on day t in [delivery, retire):
- hashrate h(t) = h0 * (1 - g) ** ((t - delivery) / 365), with decay_per_day = (1 - g) ** (1/365);
- it is down while in repair; otherwise, with curtailment on, it is off when its day's revenue
  ``h * b[t] * (1 - pool_fee) * price[t]`` is below its day's energy cost
  ``power_w / 1000 * 24 * price_kwh``;
- sampled failures: each unit runs an exponential(AFR/365) number of running days, then fails
  at the start of a day it would have run: repair cost is booked that day and the unit is down
  for ``repair_days`` calendar days; curtailed days do not age the failure clock;
- expected failures: every running day has availability A = 1 / (1 + AFR/365 * repair_days) and
  costs AFR/365 * A expected repairs;
- a running unit mines ``h * uptime * A * b[t] * (1 - pool_fee)`` BTC and uses
  ``power_w / 1000 * 24 * uptime * A`` kWh.
"""

from __future__ import annotations

import numpy as np

from kernels.rigdays import (
    DAILY_BTC,
    DAILY_ENERGY_USD,
    DAILY_HASHRATE_TH,
    DAILY_POWER_W,
    DAILY_REPAIR_USD,
    DAILY_REVENUE_USD,
    DAILY_RUNNING_UNITS,
    GROUP_BTC,
    GROUP_ENERGY_USD,
    GROUP_FAILURES,
    GROUP_REPAIR_USD,
    GROUP_REVENUE_USD,
    GROUP_RUNNING_UNIT_DAYS,
    N_DAILY,
    N_GROUP,
)
from kernels.rng import STREAM_FAILURE, uniform_np


def _exponential_days(seed, paths, rig_key, counter, lam):
    """Running days until the next failure; inf where the hazard is zero."""
    u = uniform_np(seed, STREAM_FAILURE, paths, rig_key, counter)
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(lam > 0.0, -np.log(u) / np.where(lam > 0.0, lam, 1.0), np.inf)


def simulate_rigdays_reference(
    hashrate_th, power_w, weight, delivery_day, retire_day, decay_per_day, uptime,
    failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key, group,
    btc_per_th_day, price_usd, pool_fee, sampled, seed, n_groups,
):
    """Return ``(daily_out[P, N_DAILY, T], group_out[P, G, N_GROUP])``."""
    n_paths, n_days = btc_per_th_day.shape
    n_rigs = hashrate_th.shape[0]
    daily = np.zeros((n_paths, N_DAILY, n_days))
    groups = np.zeros((n_paths, n_groups, N_GROUP))
    paths = np.arange(n_paths)[:, None]
    keep_share = 1.0 - pool_fee
    energy_per_day = power_w / 1000.0 * 24.0 * energy_usd_per_kwh
    availability = (
        np.ones(n_rigs) if sampled else 1.0 / (1.0 + failure_per_day * repair_days)
    )
    scale = weight * uptime * availability
    shape = (n_paths, n_rigs)
    failures = np.zeros(shape, dtype=np.int64)
    repair_until = np.broadcast_to(delivery_day, shape).copy()
    days_left = (
        _exponential_days(seed, paths, rig_key, 0, failure_per_day)
        if sampled else np.full(shape, np.inf)
    )
    per_rig = np.zeros((n_paths, n_rigs, N_GROUP))
    for t in range(n_days):
        installed = (delivery_day <= t) & (t < retire_day)
        h = hashrate_th * decay_per_day ** np.maximum(t - delivery_day, 0)
        btc_unit = h * btc_per_th_day[:, t, None] * keep_share
        unprofitable = (curtail != 0) & (btc_unit * price_usd[:, t, None] < energy_per_day)
        eligible = installed & (t >= repair_until) & ~unprofitable
        if sampled:
            fails = eligible & (days_left < 1.0)
            failures = failures + fails
            repair_usd = np.where(fails, weight * repair_cost_usd, 0.0)
            per_rig[:, :, GROUP_FAILURES] += np.where(fails, weight, 0.0)
            repair_until = np.where(fails, t + repair_days, repair_until)
            redrawn = _exponential_days(seed, paths, rig_key, failures, failure_per_day)
            days_left = np.where(fails, redrawn, days_left)
            running = eligible & (t >= repair_until)
            days_left = np.where(running, days_left - 1.0, days_left)
        else:
            running = eligible
            expected_failures = np.where(running, weight * failure_per_day * availability, 0.0)
            repair_usd = expected_failures * repair_cost_usd
            per_rig[:, :, GROUP_FAILURES] += expected_failures
        btc = np.where(running, btc_unit * scale, 0.0)
        revenue = btc * price_usd[:, t, None]
        energy = np.where(running, energy_per_day * scale, 0.0)
        units = np.where(running, weight * availability, 0.0)
        daily[:, DAILY_HASHRATE_TH, t] = np.where(running, h * scale, 0.0).sum(axis=1)
        daily[:, DAILY_POWER_W, t] = np.where(running, power_w * scale, 0.0).sum(axis=1)
        daily[:, DAILY_BTC, t] = btc.sum(axis=1)
        daily[:, DAILY_REVENUE_USD, t] = revenue.sum(axis=1)
        daily[:, DAILY_ENERGY_USD, t] = energy.sum(axis=1)
        daily[:, DAILY_REPAIR_USD, t] = repair_usd.sum(axis=1)
        daily[:, DAILY_RUNNING_UNITS, t] = units.sum(axis=1)
        per_rig[:, :, GROUP_BTC] += btc
        per_rig[:, :, GROUP_REVENUE_USD] += revenue
        per_rig[:, :, GROUP_ENERGY_USD] += energy
        per_rig[:, :, GROUP_REPAIR_USD] += repair_usd
        per_rig[:, :, GROUP_RUNNING_UNIT_DAYS] += units
    for p in range(n_paths):
        for field in range(N_GROUP):
            groups[p, :, field] = np.bincount(
                group, weights=per_rig[p, :, field], minlength=n_groups
            )
    return daily, groups
