"""Rig-day simulation kernel: per-day fleet totals and per-group totals, for every path.

Entry point ``simulate_rigdays(<arrays below>, threads=None)``, plain Python: it runs the
tasks (rig block x path) with the one jitted ``nogil`` body ``simulate_tasks_nb`` on a thread
pool, each thread taking the next task not yet taken, then sums them with ``reduce_tasks_nb`` on
the calling thread. No ``prange`` parfor: one compile for every thread count and no Numba
threading layer (whose default, workqueue, is not thread-safe).

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
    rng_path[P]           optional (keyword): the random stream of each path, default 0..P-1
outputs (caller-allocated; fully overwritten)
    daily_out[P, N_DAILY, T]     fleet totals per day, fields DAILY_*
    group_out[P, G, N_GROUP]     totals per group over the horizon, fields GROUP_*
scratch (caller-allocated, see ``scratch_shapes``; contents on return are unspecified)
    day_acc[n_tasks, T, N_ACC], group_acc[n_tasks, G, N_GROUP]

**Classes by delivery day.** A run of consecutive rigs alike but for delivery, retirement and
rig key (an order's rigs: ``_class_end_nb``) is a class. Rigs of a class delivered on the same
day have the same hashrate and run or idle on the same days; they differ only in their failures.
So a class is walked as groups of one delivery day (a counting sort, stable): a group's days
once (its hashrate if it runs that day, its running days cumulated), each rig only its failures
(the day its failure clock runs out is a binary search in the group's cumulated running days,
one per failure), and the group's rigs up per day summed from +1/-1 steps; the class's days are
booked once from its running rigs and their hashrate. A rig costs a few operations per failure,
a delivery group two passes over its days, instead of a pass over its days per rig. A class
whose delivery groups average fewer than ``CLASS_MIN_GROUP_RIGS`` rigs, and any other rig, is
walked rig by rig as below; the two give the same numbers up to the order of a day's sums.

Rig by rig, days are walked in chunks of ``DAY_CHUNK`` aligned on the rig's delivery day, with
hashrate ``h = h_chunk * decay**k`` (``decay**k`` tabled once per rig, ``h_chunk`` advanced by
``decay**DAY_CHUNK``; a class's delivery groups form it the same way): the days of a chunk are
independent, so the CPU overlaps them instead of waiting on one multiply chain. A chunk the rig
runs through without an event (in service, not in repair, no failure due: at least ``DAY_CHUNK``
running days left on its failure clock) takes a fast path with no event logic; any other chunk is
walked day by day with the full model. Both paths compute the same numbers, so which one a chunk
takes never changes a result.

Per-task scratch keeps only what varies by rig and day: ``day_acc[task, T, N_ACC]`` holds, per day,
adjacent in memory, the sum of scaled hashrate, a count of running rigs, and the sums of power,
energy, running units and repairs. What a running rig adds besides hashrate does not depend on the
day, and consecutive rigs walked one by one often add the same amounts (rigs of one model and
site); such a run only counts its running rigs per day, booked as power, energy, units and repairs
once per day when the run ends (two stores per running rig-day instead of five); a rig unlike both
neighbours adds its amounts directly. BTC and revenue per day are ``btc_per_th_day * keep *
hashrate`` and that times price, formed once per day in the reduction; per-rig energy, units and
expected repairs are a constant times the rig's running-day count. A task is one block of
consecutive rigs on one path; the blocks (``n_blocks``: at most ``BLOCK_RIGS`` rigs; enough blocks
of at least ``MIN_BLOCK_RIGS`` rigs for ``MIN_TASKS`` tasks when paths are few; split evenly)
depend on the rig and path counts only; the scratch's first axis carries the split to the kernel.
Tasks write only their own scratch slice and are reduced afterwards in block order, so the result
never depends on the number of threads or on which thread ran a task. Memory is O(tasks x T + R + P
x T), never R x T; the scratch is about ``ceil(R / BLOCK_RIGS)`` times the size of ``daily_out``
when there are many paths, plus per call one block's rig order and seven day arrays for the class
path.

Model of one unit on day t in [delivery, retire): see ``kernels.reference`` and DESIGN.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from kernels import daily_only, hourly
from kernels._jit import Tier, compiled, jit, jit_variant
from kernels.layout import (  # noqa: F401  (re-exported: callers read the fields from here)
    ACC_ENERGY_USD,
    ACC_HASHRATE_TH,
    ACC_POWER_W,
    ACC_REPAIR_USD,
    ACC_RUNNING_RIGS,
    ACC_RUNNING_UNITS,
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
    N_ACC,
    N_DAILY,
    N_GROUP,
    N_POWER_DAILY,
    N_POWER_GROUP,
)
from kernels.rng import STREAM_FAILURE, uniform_nb
from kernels.tasks import default_threads, run_tasks

# Most rigs in a block: bounds the tasks' scratch to T x N_ACC per 16,384 rigs. Large, because
# a class's delivery groups are cut at a block's end, and a group's passes over its days are
# paid per block (2048 made groups of ~11 rigs on the benchmark fleet instead of ~35).
BLOCK_RIGS = 16384
# A plan of a few thousand rigs on one path still makes enough tasks to keep every thread busy
# (two blocks of 2048 and 130 rigs would leave one thread idle), without blocks too small to
# amortise. Many paths make enough tasks already: more blocks there would only add scratch.
MIN_TASKS = 16
MIN_BLOCK_RIGS = 256

# Days per chunk of the day loop (see the module docstring).
DAY_CHUNK = 8
# Runs of at least this many alike rigs are simulated as a class (``_simulate_class_nb``) if
# they have on average at least CLASS_MIN_GROUP_RIGS rigs per delivery day: a delivery group's
# two passes over its days cost about as much as walking 2-3 rigs' days.
CLASS_MIN_RIGS = 2
CLASS_MIN_GROUP_RIGS = 3


def n_blocks(n_rigs: int, n_paths: int, block_rigs: int = BLOCK_RIGS) -> int:
    """Number of rig blocks; a function of the rig and path counts only, never of threads.

    ``block_rigs`` (most rigs in a block) is ``BLOCK_RIGS`` except in tests, which split small
    fleets into many blocks to exercise the reduction.
    """
    wanted = -(-MIN_TASKS // max(n_paths, 1))
    return max(1, -(-n_rigs // block_rigs), min(wanted, n_rigs // MIN_BLOCK_RIGS))


def scratch_shapes(n_rigs: int, n_paths: int, n_days: int, n_groups: int,
                   block_rigs: int = BLOCK_RIGS) -> tuple:
    """Shapes of the two scratch buffers the caller allocates for ``simulate_rigdays``; their
    first axis (tasks = blocks x paths) sets the split the kernel runs."""
    n_tasks = n_blocks(n_rigs, n_paths, block_rigs) * n_paths
    return (n_tasks, n_days, N_ACC), (n_tasks, n_groups, N_GROUP)


@jit(inline=True)
def _flush_class_nb(day_acc, first_day, end_day, power_day, energy_day, units_day, repair_day):
    """Book a rig class's running-rig counts as power, energy, units and repairs; reset them.

    A class is a run of consecutive rigs whose every per-day amount except hashrate is the
    same (an order's rigs: same model, site, weight); their running days are counted, and
    booked here once per day instead of four adds per rig-day. ``energy_day`` is 0 for rigs
    that add their own energy (one unit at different power prices).
    """
    for t in range(first_day, end_day):
        n = day_acc[t, ACC_RUNNING_RIGS]
        if n != 0.0:
            day_acc[t, ACC_POWER_W] += n * power_day
            day_acc[t, ACC_ENERGY_USD] += n * energy_day
            day_acc[t, ACC_RUNNING_UNITS] += n * units_day
            day_acc[t, ACC_REPAIR_USD] += n * repair_day
            day_acc[t, ACC_RUNNING_RIGS] = 0.0


@jit(inline=True)
def _same_amounts_nb(a, b, power_w, weight, uptime, failure_per_day, repair_days,
                     repair_cost_usd):
    """Rigs ``a`` and ``b`` add the same power, units and repairs per running day (energy too
    if their power price is the same)."""
    return (power_w[a] == power_w[b] and weight[a] == weight[b] and uptime[a] == uptime[b]
            and failure_per_day[a] == failure_per_day[b] and repair_days[a] == repair_days[b]
            and repair_cost_usd[a] == repair_cost_usd[b])


@jit(inline=True)
def _rig_amounts_nb(r, power_w, weight, uptime, failure_per_day, repair_days, repair_cost_usd,
                    energy_usd_per_kwh, sampled):
    """What rig r adds per running day besides hashrate: energy USD of a full day (the
    curtailment bar), scale (weight x uptime x availability), then power W, energy USD, units,
    expected failures and expected repair USD. (Inlined: the rig-by-rig path calls it per rig.)
    """
    w = weight[r]
    lam = failure_per_day[r]
    energy_per_day = power_w[r] / 1000.0 * 24.0 * energy_usd_per_kwh[r]
    availability = 1.0 if sampled else 1.0 / (1.0 + lam * repair_days[r])
    scale = w * uptime[r] * availability
    failures_day = 0.0 if sampled else w * lam * availability
    return (energy_per_day, scale, power_w[r] * scale, energy_per_day * scale, w * availability,
            failures_day, failures_day * repair_cost_usd[r])


@jit(inline=True)
def _book_totals_nb(group_acc, g, btc_sum, usd_sum, running_days, failures, repair_sum, w, scale,
                    energy_day, units_day, failures_day, repair_day):
    """Add a rig's or a class's horizon totals to group g: sampled failures and repairs as
    counted, the rest from its running days (``btc_sum``, ``usd_sum``: hashrate x net BTC, USD
    per TH/s over them)."""
    group_acc[g, GROUP_BTC] += btc_sum * scale
    group_acc[g, GROUP_REVENUE_USD] += usd_sum * scale
    group_acc[g, GROUP_ENERGY_USD] += energy_day * running_days
    group_acc[g, GROUP_REPAIR_USD] += repair_sum + repair_day * running_days
    group_acc[g, GROUP_RUNNING_UNIT_DAYS] += units_day * running_days
    group_acc[g, GROUP_FAILURES] += w * failures + failures_day * running_days


@jit()
def _class_end_nb(first, last, hashrate_th, power_w, weight, decay_per_day, uptime,
                  failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail,
                  group, site_of):
    """End of the run of rigs from ``first`` alike but for delivery, retirement and rig key (a
    class: on any day they have been in service equally long they have the same hashrate and
    run or idle alike); rigs on the hourly path (``site_of >= 0``) end it. One call per class:
    a call per rig would cost more than the comparisons."""
    has_power = site_of.shape[0] > 0
    b = first + 1
    while (b < last and (not has_power or site_of[b] < 0)
           and hashrate_th[b] == hashrate_th[first] and decay_per_day[b] == decay_per_day[first]
           and curtail[b] == curtail[first] and group[b] == group[first]
           and power_w[b] == power_w[first] and weight[b] == weight[first]
           and uptime[b] == uptime[first] and failure_per_day[b] == failure_per_day[first]
           and repair_days[b] == repair_days[first]
           and repair_cost_usd[b] == repair_cost_usd[first]
           and energy_usd_per_kwh[b] == energy_usd_per_kwh[first]):
        b += 1
    return b


@jit()
def _sort_by_delivery_nb(first, last, delivery_day, retire_day, order, day_count):
    """Rigs [first, last) in service at all, by delivery day (a counting sort: stable, O(rigs
    + days), no NumPy sort in the kernel) into ``order``; returns how many."""
    lo = day_count.shape[0]
    hi = -1
    for r in range(first, last):
        if delivery_day[r] < retire_day[r]:
            lo = min(lo, delivery_day[r])
            hi = max(hi, delivery_day[r])
    if hi < 0:
        return 0
    for d in range(lo, hi + 2):
        day_count[d] = 0
    for r in range(first, last):
        if delivery_day[r] < retire_day[r]:
            day_count[delivery_day[r] + 1] += 1
    for d in range(lo + 1, hi + 2):
        day_count[d] += day_count[d - 1]  # now the first slot of day d
    for r in range(first, last):
        if delivery_day[r] < retire_day[r]:
            order[day_count[delivery_day[r]]] = r
            day_count[delivery_day[r]] += 1
    return day_count[hi]


@jit()
def _group_days_nb(delivery, end, h_new, decay, may_curtail, energy_per_day, usd_per_th,
                   h_on, cum_run, steps):
    """Days [delivery, end) of the rigs of a class delivered on ``delivery``: ``h_on[t]`` their
    hashrate if they run that day (0 when curtailed), ``cum_run[t]`` the running days in
    [delivery, t); the up-steps zeroed. The hashrate is formed in chunks of ``DAY_CHUNK`` days
    as the per-rig walk forms it, so a rig's days are the same on either path."""
    decay_pow = np.empty(DAY_CHUNK)
    decay_pow[0] = 1.0
    for k in range(1, DAY_CHUNK):
        decay_pow[k] = decay_pow[k - 1] * decay
    decay_chunk = decay_pow[DAY_CHUNK - 1] * decay
    h_chunk = h_new
    cum_run[delivery] = 0
    for t0 in range(delivery, end, DAY_CHUNK):
        for k in range(min(DAY_CHUNK, end - t0)):
            t = t0 + k
            h = h_chunk * decay_pow[k]
            runs = not (may_curtail and h * usd_per_th[t] < energy_per_day)
            h_on[t] = h if runs else 0.0
            cum_run[t + 1] = cum_run[t] + runs
            steps[t] = 0
        h_chunk *= decay_chunk
    steps[end] = 0


@jit()
def _rigs_up_days_nb(path, delivery, rigs, retire_day, rig_key, lam, repair_days,
                     repair_usd_each, sampled, seed, cum_run, steps, day_acc):
    """The rigs ``rigs`` of a delivery group: the days each is up (in service, not in repair)
    as steps of +1/-1 into ``steps``, repairs booked on their day; returns (failures, repair
    USD) of the group.

    A failure clock counts running days, and a rig fails at the start of the first running day
    with less than one day left on it: the running day of index ``floor(clock)`` counted from
    the clock's start (``clock - k`` is exact for whole ``k <= clock``, so this is the day the
    per-rig walk's ``days_left -= 1`` finds). That day is a binary search in the group's
    cumulated running days, one per failure, not a walk over the days.
    """
    n_failures = np.int64(0)  # not a bare 0: see class_end in _simulate_block_nb
    repair_sum = 0.0
    for r in rigs:
        end = retire_day[r]
        failures = np.int64(0)
        if sampled and lam > 0.0:
            clock = -np.log(uniform_nb(seed, STREAM_FAILURE, path, rig_key[r], failures)) / lam
        else:
            clock = np.inf
        start = delivery  # first day up, from which the clock runs
        check = delivery  # first day a failure may fall on
        while start < end:
            fail = end
            available = cum_run[end] - cum_run[start]
            if clock < available:
                index = max(np.int64(clock), cum_run[check] - cum_run[start])
                if index < available:
                    # The first day t with cum_run[t + 1] > cum_run[start] + index.
                    target = cum_run[start] + index
                    lo = check
                    hi = end - 1
                    while lo < hi:
                        mid = (lo + hi) >> 1
                        if cum_run[mid + 1] > target:
                            hi = mid
                        else:
                            lo = mid + 1
                    fail = lo
            steps[start] += 1
            steps[fail] -= 1
            if fail >= end:
                break
            failures += 1
            repair_sum += repair_usd_each
            day_acc[fail, ACC_REPAIR_USD] += repair_usd_each
            clock = -np.log(uniform_nb(seed, STREAM_FAILURE, path, rig_key[r], failures)) / lam
            # Up again after the repair; with no repair days it runs the failure day itself.
            start = fail + repair_days
            check = max(start, fail + 1)
        n_failures += failures
    return n_failures, repair_sum


@jit()
def _book_group_nb(delivery, end, h_on, cum_run, steps, class_hash, class_running):
    """A delivery group's rigs up each day into the class's running rigs and their hashrate."""
    up = np.int64(0)
    for t in range(delivery, end):
        up += steps[t]
        class_hash[t] += up * h_on[t]
        class_running[t] += up * (cum_run[t + 1] - cum_run[t])


@jit()
def _simulate_class_nb(
    first, last, path, hashrate_th, power_w, weight, delivery_day, retire_day, decay_per_day,
    uptime, failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key,
    group, btc_unit_per_th, usd_per_th, sampled, seed, day_acc, group_acc, class_work,
):
    """Simulate the class of alike rigs [first, last) (``_class_end_nb``) on one path; returns
    False, having written nothing, when its delivery groups average fewer than
    ``CLASS_MIN_GROUP_RIGS`` rigs.

    Rigs of the class delivered on one day have the same hashrate and run on the same days, so
    the class is walked as groups of one delivery day: a group's days once
    (``_group_days_nb``), each rig only its failures (``_rigs_up_days_nb``: a binary search per
    failure), the group's rigs up per day summed from +1/-1 steps (``_book_group_nb``). The
    class's days are then booked once: hashrate, and power, energy, units and repairs as
    running rigs times what one adds. A rig costs a few operations per failure, a delivery
    group two passes over its days, instead of a pass over the days per rig. (Longer than
    most: the sort, the groups and the class's booking share a dozen per-class values, and a
    call per step would pass them all again.)
    """
    order, day_count, h_on, cum_run, steps, class_hash, class_running = class_work
    n_active = _sort_by_delivery_nb(first, last, delivery_day, retire_day, order, day_count)
    if n_active == 0:
        return True
    deliveries = 0
    for i in range(n_active):
        deliveries += i == 0 or delivery_day[order[i]] != delivery_day[order[i - 1]]
    if n_active < CLASS_MIN_GROUP_RIGS * deliveries:
        return False  # (nothing written: the caller walks the rigs one by one)
    r0 = first
    first_day = delivery_day[order[0]]
    end_day = first_day
    for i in range(n_active):
        end_day = max(end_day, retire_day[order[i]])
    for t in range(first_day, end_day):
        class_hash[t] = 0.0
        class_running[t] = 0
    w = weight[r0]
    lam = failure_per_day[r0]
    (energy_per_day, scale, power_day, energy_day, units_day, failures_day,
     repair_day) = _rig_amounts_nb(r0, power_w, weight, uptime, failure_per_day, repair_days,
                                   repair_cost_usd, energy_usd_per_kwh, sampled)
    repair_usd_each = w * repair_cost_usd[r0]
    n_failures = np.int64(0)
    repair_sum = 0.0
    i = 0
    while i < n_active:
        d = delivery_day[order[i]]
        k = i
        group_end = d
        while k < n_active and delivery_day[order[k]] == d:
            group_end = max(group_end, retire_day[order[k]])
            k += 1
        _group_days_nb(d, group_end, hashrate_th[r0], decay_per_day[r0], curtail[r0] != 0,
                       energy_per_day, usd_per_th, h_on, cum_run, steps)
        failures, repairs = _rigs_up_days_nb(
            path, d, order[i:k], retire_day, rig_key, lam, repair_days[r0], repair_usd_each,
            sampled, seed, cum_run, steps, day_acc)
        n_failures += failures
        repair_sum += repairs
        _book_group_nb(d, group_end, h_on, cum_run, steps, class_hash, class_running)
        i = k
    btc_sum = 0.0  # sum of running hashrate * btc_unit_per_th over the class's days
    usd_sum = 0.0
    running_days = np.int64(0)
    for t in range(first_day, end_day):
        n = class_running[t]
        if n != 0:
            h_sum = class_hash[t]
            day_acc[t, ACC_HASHRATE_TH] += h_sum * scale
            day_acc[t, ACC_POWER_W] += n * power_day
            day_acc[t, ACC_ENERGY_USD] += n * energy_day
            day_acc[t, ACC_RUNNING_UNITS] += n * units_day
            day_acc[t, ACC_REPAIR_USD] += n * repair_day
            btc_sum += h_sum * btc_unit_per_th[t]
            usd_sum += h_sum * usd_per_th[t]
            running_days += n
    _book_totals_nb(group_acc, group[r0], btc_sum, usd_sum, running_days, n_failures,
                    repair_sum, w, scale, energy_day, units_day, failures_day, repair_day)
    return True


@jit(inline=True)
def _simulate_block_nb(
    first, last, path, hashrate_th, power_w, weight, delivery_day, retire_day, decay_per_day,
    uptime, failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key,
    group, btc_unit_per_th, usd_per_th, sampled, seed, day_acc, group_acc, power, power_acc,
    power_group_acc, work, class_work,
):
    """Simulate rigs [first, last) on one path into one task's scratch slices.

    ``btc_unit_per_th[t]`` is net BTC per TH/s per day (pool fee taken), ``usd_per_th[t]`` that
    times the BTC price: a rig is curtailed when ``h * usd_per_th[t] < energy_per_day``. A run
    of alike rigs on hourly prices or with several modes (``power``, the arrays of
    ``kernels.hourly.PowerInputs.as_tuple``) goes to ``kernels.hourly.simulate_class_nb`` with
    the power scratch. (Long: the day loop is written out with its fast path, because a call
    per rig-day costs more than the day's work.)
    """
    (site_of, mode_first, mode_count, mode_hashrate_th, mode_power_w, mode_slot, hour_price,
     energy_prefix, credit_prefix, peak_rank, hours_on) = power
    has_power = site_of.shape[0] > 0
    decay_pow = np.empty(DAY_CHUNK)
    acc_flat = day_acc.reshape(day_acc.size)  # a view: the task's slice is C-contiguous
    # The current rig class: its per-day amounts and the days its rigs span (NaN: none yet).
    class_power = class_energy = class_units = class_repair = np.nan
    own_energy = False
    class_first = day_acc.shape[0]
    # np.int64, not a bare 0: a literal type here makes Numba compile its callees twice.
    class_end = np.int64(0)
    walk_until = first
    r = first
    while r < last:
        if has_power and site_of[r] >= 0:
            end_class = r + 1
            while end_class < last and hourly.alike_nb(
                    r, end_class, hashrate_th, weight, decay_per_day, uptime, failure_per_day,
                    repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, group, site_of,
                    mode_first, mode_count):
                end_class += 1
            hourly.simulate_class_nb(
                r, end_class, path, hashrate_th, weight, delivery_day, retire_day,
                decay_per_day, uptime, failure_per_day, repair_days, repair_cost_usd,
                energy_usd_per_kwh, curtail, rig_key, group, site_of, mode_first, mode_count,
                mode_hashrate_th, mode_power_w, mode_slot, hour_price, energy_prefix,
                credit_prefix, peak_rank, hours_on, btc_unit_per_th, usd_per_th, sampled, seed,
                day_acc, power_acc, group_acc, power_group_acc, work)
            r = end_class
            continue
        # A class of alike rigs goes to _simulate_class_nb, unless its delivery groups are too
        # small to pay for their passes over the days (its rigs then walk alone, up to
        # walk_until). Two fields are compared here first: rigs unlike their neighbour (every
        # rig its own price) then cost no call.
        if (r >= walk_until and r + 1 < last and hashrate_th[r + 1] == hashrate_th[r]
                and energy_usd_per_kwh[r + 1] == energy_usd_per_kwh[r]):
            end_class = _class_end_nb(r, last, hashrate_th, power_w, weight, decay_per_day,
                                      uptime, failure_per_day, repair_days, repair_cost_usd,
                                      energy_usd_per_kwh, curtail, group, site_of)
            if end_class - r >= CLASS_MIN_RIGS and _simulate_class_nb(
                    r, end_class, path, hashrate_th, power_w, weight, delivery_day, retire_day,
                    decay_per_day, uptime, failure_per_day, repair_days, repair_cost_usd,
                    energy_usd_per_kwh, curtail, rig_key, group, btc_unit_per_th, usd_per_th,
                    sampled, seed, day_acc, group_acc, class_work):
                r = end_class
                continue
            walk_until = end_class
        w = weight[r]
        lam = failure_per_day[r]
        # What a running day adds besides hashrate does not depend on the day.
        (energy_per_day, scale, power_day, energy_day, units_day, failures_day,
         repair_day) = _rig_amounts_nb(r, power_w, weight, uptime, failure_per_day, repair_days,
                                       repair_cost_usd, energy_usd_per_kwh, sampled)
        # Count the rig's running days in a class if it has the class's amounts, or opens a
        # new class with the next rig; a rig unlike both neighbours adds its amounts directly.
        # Rigs of one unit at different power prices (own_energy) count their running days
        # for power, units and repairs and add their energy directly.
        counted = (power_day == class_power and units_day == class_units
                   and repair_day == class_repair and (own_energy or energy_day == class_energy))
        if not counted and r + 1 < last and _same_amounts_nb(
                r, r + 1, power_w, weight, uptime, failure_per_day, repair_days,
                repair_cost_usd):
            _flush_class_nb(day_acc, class_first, class_end, class_power, class_energy,
                            class_units, class_repair)
            own_energy = energy_usd_per_kwh[r + 1] != energy_usd_per_kwh[r]
            class_power, class_energy = power_day, 0.0 if own_energy else energy_day
            class_units, class_repair = units_day, repair_day
            class_first = day_acc.shape[0]
            class_end = np.int64(0)
            counted = True
        if counted:
            class_first = min(class_first, delivery_day[r])
            class_end = max(class_end, retire_day[r])
        may_curtail = curtail[r] != 0
        decay = decay_per_day[r]
        decay_pow[0] = 1.0
        for k in range(1, DAY_CHUNK):
            decay_pow[k] = decay_pow[k - 1] * decay
        decay_chunk = decay_pow[DAY_CHUNK - 1] * decay
        n_failures = np.int64(0)  # not a bare 0: see class_end
        if sampled and lam > 0.0:
            days_left = -np.log(
                uniform_nb(seed, STREAM_FAILURE, path, rig_key[r], n_failures)) / lam
        else:
            days_left = np.inf
        repair_until = delivery_day[r]
        end = retire_day[r]
        h_chunk = hashrate_th[r]
        btc_sum = 0.0  # sum of h * btc_unit_per_th over running days
        usd_sum = 0.0
        repair_sum = 0.0
        running_days = 0
        for t0 in range(delivery_day[r], end, DAY_CHUNK):
            if t0 + DAY_CHUNK <= end and t0 >= repair_until and days_left >= DAY_CHUNK:
                # Fast path: every day of the chunk runs unless curtailed; no failure is due
                # because at most DAY_CHUNK running days come off a clock of >= DAY_CHUNK.
                # Chunk-local views indexed by the unrolled constant k: no per-day index
                # arithmetic and no negative-index (wraparound) handling in the loop.
                acc = acc_flat[t0 * N_ACC:(t0 + DAY_CHUNK) * N_ACC]
                btc_unit = btc_unit_per_th[t0:t0 + DAY_CHUNK]
                usd_unit_per_th = usd_per_th[t0:t0 + DAY_CHUNK]
                ran = 0
                for k in range(DAY_CHUNK):
                    h = h_chunk * decay_pow[k]
                    usd_unit = h * usd_unit_per_th[k]
                    if not (may_curtail and usd_unit < energy_per_day):
                        ran += 1
                        btc_sum += h * btc_unit[k]
                        usd_sum += usd_unit
                        acc[k * N_ACC + ACC_HASHRATE_TH] += h * scale
                        if counted:
                            acc[k * N_ACC + ACC_RUNNING_RIGS] += 1.0
                            if own_energy:
                                acc[k * N_ACC + ACC_ENERGY_USD] += energy_day
                        else:
                            acc[k * N_ACC + ACC_POWER_W] += power_day
                            acc[k * N_ACC + ACC_ENERGY_USD] += energy_day
                            acc[k * N_ACC + ACC_RUNNING_UNITS] += units_day
                            acc[k * N_ACC + ACC_REPAIR_USD] += repair_day
                running_days += ran
                days_left -= ran
            else:
                for k in range(min(DAY_CHUNK, end - t0)):
                    t = t0 + k
                    if t < repair_until:
                        continue
                    h = h_chunk * decay_pow[k]
                    usd_unit = h * usd_per_th[t]
                    if may_curtail and usd_unit < energy_per_day:
                        continue
                    if sampled:
                        if days_left < 1.0:
                            # Fails at the start of a day it would have run: repair booked today.
                            n_failures += 1
                            repair_sum += w * repair_cost_usd[r]
                            day_acc[t, ACC_REPAIR_USD] += w * repair_cost_usd[r]
                            repair_until = t + repair_days[r]
                            days_left = -np.log(
                                uniform_nb(seed, STREAM_FAILURE, path, rig_key[r], n_failures)
                            ) / lam
                            if t < repair_until:
                                continue
                        days_left -= 1.0
                    running_days += 1
                    btc_sum += h * btc_unit_per_th[t]
                    usd_sum += usd_unit
                    day_acc[t, ACC_HASHRATE_TH] += h * scale
                    if counted:
                        day_acc[t, ACC_RUNNING_RIGS] += 1.0
                        if own_energy:
                            day_acc[t, ACC_ENERGY_USD] += energy_day
                    else:
                        day_acc[t, ACC_POWER_W] += power_day
                        day_acc[t, ACC_ENERGY_USD] += energy_day
                        day_acc[t, ACC_RUNNING_UNITS] += units_day
                        day_acc[t, ACC_REPAIR_USD] += repair_day
            h_chunk *= decay_chunk
        _book_totals_nb(group_acc, group[r], btc_sum, usd_sum, running_days, n_failures,
                        repair_sum, w, scale, energy_day, units_day, failures_day, repair_day)
        r += 1
    _flush_class_nb(day_acc, class_first, class_end, class_power, class_energy, class_units,
                    class_repair)


@jit()
def simulate_tasks_nb(
    first_task, last_task, hashrate_th, power_w, weight, delivery_day, retire_day,
    decay_per_day, uptime, failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh,
    curtail, rig_key, group, btc_unit_per_th, usd_per_th, rng_path, sampled, seed, day_acc,
    group_acc, power, power_acc, power_group_acc,
):
    """Run tasks [first_task, last_task) into their scratch slices (zeroed here first).

    Task ``task`` is rig block ``task // P`` on path ``task % P``; the rigs are split evenly over
    the ``day_acc.shape[0] // P`` blocks. ``btc_unit_per_th[P, T]`` is net BTC per TH/s per day
    (pool fee taken), ``usd_per_th[P, T]`` that times the BTC price; path ``p`` draws its
    failures from the random stream of path ``rng_path[p]``. A task touches no memory another
    task writes, so any threads may run any tasks at the same time. ``power`` and the power
    scratch are empty when no rig is on hourly prices or several modes.
    """
    n_paths = btc_unit_per_th.shape[0]
    blocks = day_acc.shape[0] // n_paths
    n_rigs = hashrate_th.shape[0]
    n_days = day_acc.shape[1]
    # The hourly path's per-class tables: rebuilt for every class, so one set per call.
    work = hourly.class_work_nb(power, n_days)
    # The daily path's per-class scratch (see _simulate_class_nb): one set per call.
    class_work = (np.empty(n_rigs // blocks + 1, np.int64), np.empty(n_days + 2, np.int64),
                  np.empty(n_days), np.empty(n_days + 1, np.int64),
                  np.empty(n_days + 1, np.int64), np.empty(n_days), np.empty(n_days, np.int64))
    for task in range(first_task, last_task):
        block = task // n_paths
        path = task % n_paths
        # Scalar loops rather than array expressions: Numba compiles those with their shape
        # checks and error messages, up to seconds with an empty cache, for no run-time gain.
        acc = day_acc[task]
        for t in range(acc.shape[0]):
            for field in range(N_ACC):
                acc[t, field] = 0.0
        totals = group_acc[task]
        for g in range(totals.shape[0]):
            for field in range(N_GROUP):
                totals[g, field] = 0.0
        power_days = power_acc[task]
        for t in range(power_days.shape[0]):
            for field in range(power_days.shape[1]):
                power_days[t, field] = 0.0
        power_totals = power_group_acc[task]
        for g in range(power_totals.shape[0]):
            for field in range(power_totals.shape[1]):
                power_totals[g, field] = 0.0
        _simulate_block_nb(
            block * n_rigs // blocks, (block + 1) * n_rigs // blocks, rng_path[path],
            hashrate_th, power_w, weight, delivery_day, retire_day, decay_per_day, uptime,
            failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key,
            group, btc_unit_per_th[path], usd_per_th[path], sampled, seed, acc, totals, power,
            power_days, power_totals, work, class_work,
        )


@jit()
def reduce_tasks_nb(btc_unit_per_th, usd_per_th, day_acc, group_acc, daily_out, group_out,
                    power_acc, power_group_acc, power_daily_out, power_group_out):
    """Sum each path's tasks in block order into the outputs.

    Each output element is summed in one place, always in the same order, so the totals are
    bit-identical whichever threads ran the tasks. The reduction is a few adds per task-day,
    ~1% of the work: the calling thread does it alone.
    """
    n_paths, n_days = btc_unit_per_th.shape
    blocks = day_acc.shape[0] // n_paths
    for path in range(n_paths):
        for t in range(n_days):
            hashrate = 0.0
            power = 0.0
            energy = 0.0
            units = 0.0
            repair = 0.0
            for block in range(blocks):
                acc = day_acc[block * n_paths + path, t]
                hashrate += acc[ACC_HASHRATE_TH]
                power += acc[ACC_POWER_W]
                energy += acc[ACC_ENERGY_USD]
                units += acc[ACC_RUNNING_UNITS]
                repair += acc[ACC_REPAIR_USD]
            daily_out[path, DAILY_HASHRATE_TH, t] = hashrate
            daily_out[path, DAILY_POWER_W, t] = power
            daily_out[path, DAILY_BTC, t] = hashrate * btc_unit_per_th[path, t]
            daily_out[path, DAILY_REVENUE_USD, t] = hashrate * usd_per_th[path, t]
            daily_out[path, DAILY_ENERGY_USD, t] = energy
            daily_out[path, DAILY_REPAIR_USD, t] = repair
            daily_out[path, DAILY_RUNNING_UNITS, t] = units
        _sum_tasks_nb(group_acc, path, n_paths, group_out[path])
        _sum_tasks_nb(power_acc, path, n_paths, power_daily_out[path].T)
        _sum_tasks_nb(power_group_acc, path, n_paths, power_group_out[path])


@jit(inline=True)
def _sum_tasks_nb(acc, path, n_paths, out):
    """``out[i, field]`` = the sum over blocks, in block order, of the path's tasks'
    ``acc[task, i, field]``."""
    blocks = acc.shape[0] // n_paths
    for i in range(acc.shape[1]):
        for field in range(acc.shape[2]):
            total = 0.0
            for block in range(blocks):
                total += acc[block * n_paths + path, i, field]
            out[i, field] = total


# The task body without the hourly path, for fleets with no rig on it (the default plans):
# compiling it skips the hourly path's functions, about half the kernel's compile with an
# empty cache (benchmarks/first_run.py). Same code, so the same bits.
_simulate_block_daily_nb = jit_variant(_simulate_block_nb, "daily", hourly=daily_only)
simulate_tasks_daily_nb = jit_variant(simulate_tasks_nb, "daily", hourly=daily_only,
                                      _simulate_block_nb=_simulate_block_daily_nb)


def simulate_rigdays(
    hashrate_th: np.ndarray, power_w: np.ndarray, weight: np.ndarray, delivery_day: np.ndarray,
    retire_day: np.ndarray, decay_per_day: np.ndarray, uptime: np.ndarray,
    failure_per_day: np.ndarray, repair_days: np.ndarray, repair_cost_usd: np.ndarray,
    energy_usd_per_kwh: np.ndarray, curtail: np.ndarray, rig_key: np.ndarray,
    group: np.ndarray, btc_per_th_day: np.ndarray, price_usd: np.ndarray, pool_fee: float,
    sampled: bool, seed: int, daily_out: np.ndarray, group_out: np.ndarray,
    day_acc: np.ndarray, group_acc: np.ndarray, *, threads: int | None = None,
    power: hourly.PowerInputs | None = None, power_buffers: hourly.PowerBuffers | None = None,
    rng_path: np.ndarray | None = None, tier: Tier = compiled,
) -> None:
    """Fill ``daily_out`` and ``group_out``; see the module docstring for the contract.

    ``threads``: how many threads run the tasks (None: ``default_threads()``); the bits are the
    same for any number. ``power``: hourly prices and operating modes (``kernels.hourly``),
    with ``power_buffers`` (``hourly.power_buffers``) for their outputs and scratch.
    ``rng_path[P]`` (int64; None: ``0..P-1``): the path whose random stream each path's sampled
    failures are drawn from, so that copies of one market path (a breakeven search's
    candidates, run as extra paths) see the same failures. ``tier``: how the jitted task body
    and reduction run (``kernels._jit.Tier``; default compiled); the bits are the same.
    """
    if rng_path is None:
        rng_path = np.arange(price_usd.shape[0], dtype=np.int64)
    # Net BTC and USD per TH/s per path and day, once rather than per rig-day (elementwise
    # products: the same bits as the jitted code would give).
    btc_unit_per_th = btc_per_th_day * (1.0 - pool_fee)
    usd_per_th = btc_unit_per_th * price_usd
    n_tasks = day_acc.shape[0]
    task_body = simulate_tasks_nb
    if power is None:
        task_body = simulate_tasks_daily_nb
        power = hourly.no_power(btc_per_th_day.shape[1])
        power_buffers = hourly.power_buffers(None, n_tasks, *btc_per_th_day.shape,
                                             group_out.shape[1])
    elif power_buffers is None:
        raise ValueError("power inputs need power_buffers (kernels.hourly.power_buffers)")
    args = (hashrate_th, power_w, weight, delivery_day, retire_day, decay_per_day, uptime,
            failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key,
            group, btc_unit_per_th, usd_per_th, np.ascontiguousarray(rng_path, dtype=np.int64),
            sampled, seed, day_acc, group_acc, power.as_tuple(), power_buffers.acc,
            power_buffers.group_acc)
    run_tasks(tier(task_body, (0, n_tasks, *args)), n_tasks,
              default_threads() if threads is None else threads, args)
    reduce_args = (btc_unit_per_th, usd_per_th, day_acc, group_acc, daily_out, group_out,
                   power_buffers.acc, power_buffers.group_acc, power_buffers.daily_out,
                   power_buffers.group_out)
    tier(reduce_tasks_nb, reduce_args)(*reduce_args)


# Below this much work (~2 ms on one core) one thread is faster: waking the pool's threads costs
# more, and far more on a busy machine.
SERIAL_BELOW_RIG_DAYS = 2_000_000


def threads_for(n_rigs: int, n_paths: int, n_days: int) -> int:
    """Threads for a workload: 1 when there is one task or little work, else
    ``default_threads()``. Any number gives the same bits."""
    if n_blocks(n_rigs, n_paths) * n_paths < 2 or n_rigs * n_paths * n_days < SERIAL_BELOW_RIG_DAYS:
        return 1
    return default_threads()


def kernel_for(n_rigs: int, n_paths: int, n_days: int) -> Callable[..., None]:
    """``simulate_rigdays`` with the thread count ``threads_for`` picks for the workload."""
    return functools.partial(simulate_rigdays, threads=threads_for(n_rigs, n_paths, n_days))
