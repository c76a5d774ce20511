"""Hourly power prices and operating modes in the daily rig-day kernel.

A rig on the hourly path (``PowerInputs.site_of[r] >= 0``) buys power at its site's hourly
prices and may run one of several operating modes. The kernel stays daily: each hour of a day
the rig runs the mode with the highest margin, or is off, and only how many hours it spends in
each mode matters, so per site and day the 24 prices come sorted with prefix sums, prepared once
per site in NumPy (``prepare_site_hours``), and a rig's hours and their cost for any threshold
come from a binary search.

**Modes as thresholds.** In an hour at decision price ``pi`` (USD/kWh) mode m earns
``h * rho_m * u / 24 - kW_m * pi`` per unit (``h`` the rig's degraded hashrate, ``rho_m`` the
mode's hashrate over the rig's nameplate, ``u`` net USD per TH/s per day). Divided by
``h * u / 24`` these are lines ``rho_m - kW_m * z`` in ``z = 24 * pi / (h * u)``; their upper
envelope (with the line 0 for "off" when the rig curtails) is computed once per rig
(``envelope_nb``): segments j = 0..J-1 from the most power-hungry mode down, boundary ``z_j``
between segment j and j+1 (the last boundary is "off"; +inf without curtailment). So on any
day the rig runs segment <= j exactly in the hours with ``pi <= h * c_j``, ``c_j = u * z_j /
24`` (divided by the rig's price factor, see below): ``n_j`` = the number of sorted prices at or
below it, and everything the rig adds is a sum over boundaries of a function of ``n_j`` (hours
in segment j are ``n_j - n_{j-1}``; energy ``sum_j (kW_j - kW_{j+1}) * E[n_j]``; ...). Ties go
to the more power-hungry mode, and a zero margin runs ("at or below its break-even").

**Shared days.** Rigs of one order differ only in delivery day, rig key and failures, so a run
of consecutive alike rigs (a class, ``alike_nb``) is simulated together (``simulate_class_nb``):
per day it computes, for the class's range of hashrates that day (oldest to newest rig, with a
relative slack of ``H_SLACK``), each boundary's ``n_j`` at both ends by binary search. Where
they agree the day is the same for every rig of the class (always so for an order delivered on
one day); where they differ (rigs delivered on different days straddle a price) the few prices
in between decide each rig's count.

**Delivery groups and failures as events.** Rigs of a class delivered on one day have the same
hashrate and hours every day, so the class is walked as groups of one delivery day (a stable
sort): a group's days are counted once (``_group_days_nb``: its hashrate, its counts on the days
the class differs, its hours run cumulated), and a rig only finds its failures
(``_rig_running_nb``): the failure clock counts running hours, so the day it runs out is a
binary search in the cumulated hours, one per failure, and the days the rig is up go in as two
steps (+1 on the first, -1 after the last). ``_book_group_nb`` turns the steps into the rigs up
each day, added with their hashrate to the class's day totals and, where the class differs, to
a slot of each boundary and count. The day's amounts are booked once per class and day from
those totals (``_flush_day_nb``). So a rig costs a few operations per failure, not per day, and
a day a few per delivery group.

**Contracts.** A site-hour has three prices (``prepare_site_hours``): the decision price (what
a kWh drawn that hour costs the operator, opportunity included), the price paid per kWh drawn,
and the credit per kWh of the unit's contracted energy not drawn. At a market site all three
are the market price (+ adder) and the credit is 0; at a fixed-price site with sell-back the
decision price is ``contract + max(market - contract, 0)``, the paid price the contract and the
credit ``max(market - contract, 0)``: curtailed contracted energy is sold when the market
beats both the contract and mining. The contracted power of a unit is its most power-hungry
allowed mode. Hours forced off (4CP peaks) sort last with an infinite decision price; the
marked peak hour's position is kept so the load drawn in it can be reported.

The per-rig factor ``energy_usd_per_kwh[r]`` multiplies every price of the rig's site (1 in a
plain run): breakeven searches scale a site's prices with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels._jit import jit
from kernels.layout import (
    ACC_ENERGY_USD,
    ACC_HASHRATE_TH,
    ACC_POWER_W,
    ACC_REPAIR_USD,
    ACC_RUNNING_UNITS,
    GROUP_BTC,
    GROUP_ENERGY_USD,
    GROUP_FAILURES,
    GROUP_REPAIR_USD,
    GROUP_REVENUE_USD,
    GROUP_RUNNING_UNIT_DAYS,
    N_POWER_DAILY,
    N_POWER_GROUP,
    POWER_CREDIT_USD,
    POWER_GROUP_CREDIT_USD,
    POWER_PEAK_LOAD_W,
)
from kernels.rng import STREAM_FAILURE, uniform_nb

HOURS = 24
# Relative slack on a class's hashrate range per day: the kernel forms a rig's hashrate by
# chunked products, the range by powers; they differ by ~1e-13 over a decade of days.
H_SLACK = 1e-9
DAY_CHUNK = 8  # days of the per-rig loop sharing one power of the decay (as kernels.rigdays)
# Sorted prices carry PAD more +inf columns, so a rig straddling at most PAD prices counts them
# with PAD comparisons and no loop exit to mispredict (prices past the class's range are above
# any rig's threshold, and +inf is above every finite one).
PAD = 4
# Per-day class table columns (int): base count, width, slot offset, per boundary.
_BASE, _WIDTH, _SLOT = 0, 1, 2


@dataclass(frozen=True)
class SiteHours:
    """Per site s and day t, the 24 hours sorted by decision price (``prepare_site_hours``)."""

    price: np.ndarray  # [S, T, 24 + PAD] decision price, ascending; +inf: forced off or padding
    energy_prefix: np.ndarray  # [S, T, 25] prefix sums of the paid price, same order
    credit_prefix: np.ndarray  # [S, T, 25] prefix sums of the sell-back credit, same order
    peak_rank: np.ndarray  # [S, T] int64: sorted position of the day's peak hour, -1: none
    hours_on: np.ndarray  # [S, T] int64: hours not forced off (finite prices)


@dataclass(frozen=True)
class RawHours:
    """Per site s, day t and clock hour: the three prices of the module docstring (USD/kWh)
    and two flags. What the engine builds from a site's contract; the reference reads it hour
    by hour, the kernel after ``prepare_site_hours``."""

    decision: np.ndarray  # [S, T, 24] what drawing a kWh costs, opportunity included
    paid: np.ndarray  # [S, T, 24] paid per kWh drawn
    credit: np.ndarray  # [S, T, 24] credited per contracted kWh not drawn
    forced_off: np.ndarray  # [S, T, 24] bool: the fleet is off (4CP peak)
    peak: np.ndarray  # [S, T, 24] bool: the hour whose load is reported (at most one a day)


def prepare_site_hours(raw: RawHours) -> SiteHours:
    """Sort each site-day's hours by decision price, forced-off hours last, and take prefix
    sums of the paid and credited prices in that order.

    Ties keep clock order (a stable sort); the counts a threshold gives do not depend on it.
    """
    decision, paid, credit, forced_off, peak = (raw.decision, raw.paid, raw.credit,
                                                raw.forced_off, raw.peak)
    key = np.where(forced_off, np.inf, decision)
    order = np.argsort(key, axis=2, kind="stable")
    price = np.full((*decision.shape[:2], HOURS + PAD), np.inf)
    price[:, :, :HOURS] = np.take_along_axis(key, order, axis=2)
    sorted_paid = np.where(np.take_along_axis(forced_off, order, axis=2), 0.0,
                           np.take_along_axis(paid, order, axis=2))
    shape = (*decision.shape[:2], HOURS + 1)
    energy_prefix = np.zeros(shape)
    np.cumsum(sorted_paid, axis=2, out=energy_prefix[:, :, 1:])
    credit_prefix = np.zeros(shape)
    np.cumsum(np.take_along_axis(credit, order, axis=2), axis=2, out=credit_prefix[:, :, 1:])
    sorted_peak = np.take_along_axis(peak, order, axis=2)
    peak_rank = np.where(sorted_peak.any(axis=2), sorted_peak.argmax(axis=2), -1)
    return SiteHours(price, energy_prefix, credit_prefix, peak_rank.astype(np.int64),
                     (~forced_off).sum(axis=2).astype(np.int64))


@dataclass(frozen=True)
class PowerInputs:
    """What the hourly path needs beyond the daily kernel's arrays (R rigs, M mode rows)."""

    hours: SiteHours
    site_of: np.ndarray  # [R] int64: the rig's site in ``hours``; -1: the daily path
    mode_first: np.ndarray  # [R] int64: the rig's first row in the mode arrays
    mode_count: np.ndarray  # [R] int64: how many modes it may run (>= 1)
    mode_hashrate_th: np.ndarray  # [M] TH/s per unit when new
    mode_power_w: np.ndarray  # [M] W per unit
    mode_slot: np.ndarray  # [M] int64: output slot of the mode (unit-days per slot)
    n_slots: int

    def as_tuple(self) -> tuple:
        """The arrays in the order the jitted kernel unpacks them."""
        h = self.hours
        return (self.site_of, self.mode_first, self.mode_count, self.mode_hashrate_th,
                self.mode_power_w, self.mode_slot, h.price, h.energy_prefix, h.credit_prefix,
                h.peak_rank, h.hours_on)


def no_power(n_days: int) -> PowerInputs:
    """Empty power inputs: every rig on the daily path (one compiled signature for both)."""
    ints = np.zeros(0, dtype=np.int64)
    floats = np.zeros(0)
    hours = SiteHours(np.zeros((0, n_days, HOURS + PAD)), np.zeros((0, n_days, HOURS + 1)),
                      np.zeros((0, n_days, HOURS + 1)), np.zeros((0, n_days), dtype=np.int64),
                      np.zeros((0, n_days), dtype=np.int64))
    return PowerInputs(hours, ints, ints, ints, floats, floats, ints, 0)


@dataclass(frozen=True)
class PowerBuffers:
    """Outputs of the hourly path (filled by the kernel) and its per-task scratch."""

    daily_out: np.ndarray  # [P, N_POWER_DAILY + S, T]: fields POWER_*, then unit-days per slot
    group_out: np.ndarray  # [P, G, N_POWER_GROUP + S]: POWER_GROUP_*, then unit-days per slot
    acc: np.ndarray  # [tasks, T, N_POWER_DAILY + S]
    group_acc: np.ndarray  # [tasks, G, N_POWER_GROUP + S]


def power_buffers(
    power: PowerInputs | None, n_tasks: int, n_paths: int, n_days: int, n_groups: int
) -> PowerBuffers:
    """Buffers for ``power`` (None: empty ones, no rig on the hourly path); ``n_tasks`` is the
    first axis of the daily scratch (``rigdays.scratch_shapes``)."""
    if power is None:
        days, groups, slots = 0, 0, 0
    else:
        days, groups, slots = n_days, n_groups, power.n_slots
    return PowerBuffers(
        daily_out=np.zeros((n_paths, N_POWER_DAILY + slots, days)),
        group_out=np.zeros((n_paths, groups, N_POWER_GROUP + slots)),
        acc=np.empty((n_tasks, days, N_POWER_DAILY + slots)),
        group_acc=np.empty((n_tasks, groups, N_POWER_GROUP + slots)),
    )


@jit()
def upper_bound_nb(values, n, x):
    """How many of the ascending ``values[:n]`` are <= x."""
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit()
def _crossing_nb(rho, kw, a, b):
    """z where lines a and b (kw[a] > kw[b]) give the same margin."""
    return (rho[a] - rho[b]) / (kw[a] - kw[b])


@jit()
def envelope_nb(r, hashrate_th, curtail, mode_first, mode_count, mode_hashrate_th,
                mode_power_w, line_rho, line_kw, line_mode, seg_rho, seg_kw, seg_mode, bound_z):
    """The upper envelope of rig r's mode lines (and "off" when it curtails): fills segment
    j's hashrate ratio, kW and mode row, and boundary ``z_j``; returns the segment count J.

    Lines go in order of power descending, hashrate descending, listed order (so among equal
    margins the more power-hungry mode wins, as in the reference); a line no higher than its
    neighbours' crossing is never strictly best and is dropped.
    """
    n = mode_count[r]
    first = mode_first[r]
    lines = 0
    for i in range(n):
        m = first + i
        kw = mode_power_w[m] / 1000.0
        rho = mode_hashrate_th[m] / hashrate_th[r]
        pos = lines
        while pos > 0 and (line_kw[pos - 1] < kw
                           or (line_kw[pos - 1] == kw and line_rho[pos - 1] < rho)):
            line_kw[pos] = line_kw[pos - 1]
            line_rho[pos] = line_rho[pos - 1]
            line_mode[pos] = line_mode[pos - 1]
            pos -= 1
        line_kw[pos] = kw
        line_rho[pos] = rho
        line_mode[pos] = m
        lines += 1
    if curtail:
        line_kw[lines] = 0.0
        line_rho[lines] = 0.0
        line_mode[lines] = -1
        lines += 1
    top = 0
    for i in range(lines):
        if top > 0 and seg_kw[top - 1] == line_kw[i]:
            continue  # same power, less hashrate: never better
        seg_rho[top] = line_rho[i]
        seg_kw[top] = line_kw[i]
        while top >= 2 and (_crossing_nb(seg_rho, seg_kw, top - 2, top - 1)
                            >= _crossing_nb(seg_rho, seg_kw, top - 1, top)):
            seg_rho[top - 1] = seg_rho[top]
            seg_kw[top - 1] = seg_kw[top]
            top -= 1
        seg_mode[top] = line_mode[i]
        top += 1
    n_segments = top - 1 if curtail else top
    for j in range(top - 1):
        bound_z[j] = _crossing_nb(seg_rho, seg_kw, j, j + 1)
    if not curtail:
        bound_z[n_segments - 1] = np.inf
    # "Off" closes the envelope: a segment past the last adds nothing.
    seg_rho[n_segments] = 0.0
    seg_kw[n_segments] = 0.0
    return n_segments


@jit()
def alike_nb(a, b, hashrate_th, weight, decay_per_day, uptime, failure_per_day, repair_days,
             repair_cost_usd, energy_usd_per_kwh, curtail, group, site_of, mode_first,
             mode_count):
    """Rigs a and b differ at most in delivery, retirement and rig key (one class)."""
    return (hashrate_th[a] == hashrate_th[b] and weight[a] == weight[b]
            and decay_per_day[a] == decay_per_day[b] and uptime[a] == uptime[b]
            and failure_per_day[a] == failure_per_day[b] and repair_days[a] == repair_days[b]
            and repair_cost_usd[a] == repair_cost_usd[b]
            and energy_usd_per_kwh[a] == energy_usd_per_kwh[b] and curtail[a] == curtail[b]
            and group[a] == group[b] and site_of[a] == site_of[b]
            and mode_first[a] == mode_first[b] and mode_count[a] == mode_count[b])


@jit()
def _class_days_nb(first_day, end_day, h_new, decay, newest_delivery, n_segments, curtail,
                   price_factor, bound_z, usd_per_th, price, hours_on, coef, table, day_hours):
    """Per day of the class: each boundary's threshold coefficient ``c_j`` (a rig runs segment
    <= j in the hours priced at or below ``h * c_j``), the count at the class's lowest
    hashrate (base), how many more prices its highest hashrate reaches (width) and the slot
    offset of the boundary's per-count totals; ``day_hours[t]`` the hours every rig runs that
    day, or -1 when they differ by rig. Returns the slots used."""
    slots = 0
    for t in range(first_day, end_day):
        n_fin = hours_on[t]
        # The oldest rig and the newest in service bound the class's hashrates that day.
        h_old = h_new * decay ** (t - first_day)
        h_young = h_new * decay ** max(t - newest_delivery, 0)
        h_lo = min(h_old, h_young) * (1.0 - H_SLACK)
        h_hi = max(h_old, h_young) * (1.0 + H_SLACK)
        uniform = True
        for j in range(n_segments):
            if j == n_segments - 1 and not curtail:
                # Runs every hour not forced off; -inf: no price is at or below it, so a
                # rig's count stays at the base.
                coef[t, j] = -np.inf
                table[t, j, _BASE] = n_fin
                table[t, j, _WIDTH] = 0
                continue
            c = usd_per_th[t] * bound_z[j] / 24.0 / price_factor
            coef[t, j] = c
            a = h_lo * c
            b = h_hi * c
            base = upper_bound_nb(price[t], n_fin, min(a, b))
            width = upper_bound_nb(price[t], n_fin, max(a, b)) - base
            table[t, j, _BASE] = base
            table[t, j, _WIDTH] = width
            uniform = uniform and width == 0
        if uniform:
            day_hours[t] = table[t, n_segments - 1, _BASE]
        else:
            # Rigs differ: every boundary counts its rigs per count (width + 1 slots).
            day_hours[t] = -1
            for j in range(n_segments):
                table[t, j, _SLOT] = slots
                slots += table[t, j, _WIDTH] + 1
    return slots


@jit()
def _book_boundary_nb(j, n, rigs, h_sum, seg_rho, seg_kw, seg_slot, n_segments, energy_prefix,
                      credit_prefix, peak, sums, mode_hours):
    """Add what ``rigs`` rigs (hashrates summing to ``h_sum``) with n hours in segments <= j
    contribute through boundary j: ``sums`` = TH/s-hours, kWh, energy and credit price-kWh
    used, hours on, peak-hour kW (per unit, before scaling)."""
    d_rho = seg_rho[j] - seg_rho[j + 1]
    d_kw = seg_kw[j] - seg_kw[j + 1]
    sums[0] += d_rho * n * h_sum
    sums[1] += d_kw * n * rigs
    sums[2] += d_kw * energy_prefix[n] * rigs
    sums[3] += d_kw * credit_prefix[n] * rigs
    if j == n_segments - 1:
        sums[4] += n * rigs
    if 0 <= peak < n:
        sums[5] += d_kw * rigs
    mode_hours[seg_slot[j]] += n * rigs
    if j + 1 < n_segments:
        mode_hours[seg_slot[j + 1]] -= n * rigs


@jit()
def _flush_day_nb(t, uniform, g, n_segments, seg_rho, seg_kw, seg_slot, table, totals, slot_sums,
                  energy_prefix, credit_prefix, peak, contract_kw, scale, units_day,
                  failures_day, repair_cost, price_factor, btc_unit, usd_unit, day_acc, power_acc,
                  group_acc, power_group_acc, sums, mode_hours):
    """Book day t of a class from its totals (running rigs, their hashrate sum) and the
    boundaries' per-count slots into the day and group accumulators."""
    rigs = totals[t, 0]
    h_total = totals[t, 1]
    for i in range(sums.shape[0]):
        sums[i] = 0.0
    for i in range(mode_hours.shape[0]):
        mode_hours[i] = 0.0
    for j in range(n_segments):
        base = table[t, j, _BASE]
        width = table[t, j, _WIDTH]
        if uniform:
            _book_boundary_nb(j, base, rigs, h_total, seg_rho, seg_kw, seg_slot, n_segments,
                              energy_prefix, credit_prefix, peak, sums, mode_hours)
        else:
            slot = table[t, j, _SLOT]
            for m in range(width + 1):
                count = slot_sums[slot + m, 0]
                if count != 0.0:
                    _book_boundary_nb(j, base + m, count, slot_sums[slot + m, 1], seg_rho,
                                      seg_kw, seg_slot, n_segments, energy_prefix,
                                      credit_prefix, peak, sums, mode_hours)
    hash_th = sums[0] / HOURS * scale  # mean TH/s mined over the day
    energy = sums[2] * price_factor * scale
    credit = (contract_kw * credit_prefix[HOURS] * rigs - sums[3]) * price_factor * scale
    unit_days = sums[4] / HOURS * units_day
    repairs = sums[4] / HOURS * failures_day * repair_cost
    day_acc[t, ACC_HASHRATE_TH] += hash_th
    day_acc[t, ACC_POWER_W] += sums[1] * 1000.0 / HOURS * scale
    day_acc[t, ACC_ENERGY_USD] += energy
    day_acc[t, ACC_RUNNING_UNITS] += unit_days
    day_acc[t, ACC_REPAIR_USD] += repairs
    power_acc[t, POWER_CREDIT_USD] += credit
    power_acc[t, POWER_PEAK_LOAD_W] += sums[5] * 1000.0 * scale
    group_acc[g, GROUP_BTC] += hash_th * btc_unit
    group_acc[g, GROUP_REVENUE_USD] += hash_th * usd_unit
    group_acc[g, GROUP_ENERGY_USD] += energy
    group_acc[g, GROUP_REPAIR_USD] += repairs
    group_acc[g, GROUP_RUNNING_UNIT_DAYS] += unit_days
    group_acc[g, GROUP_FAILURES] += sums[4] / HOURS * failures_day
    power_group_acc[g, POWER_GROUP_CREDIT_USD] += credit
    for s in range(mode_hours.shape[0]):
        if mode_hours[s] != 0.0:
            power_acc[t, N_POWER_DAILY + s] += mode_hours[s] / HOURS * units_day
            power_group_acc[g, N_POWER_GROUP + s] += mode_hours[s] / HOURS * units_day


@jit()
def class_work_nb(power, n_days):
    """``simulate_class_nb``'s ``work`` for the largest mode count of ``power`` (the arrays of
    ``PowerInputs.as_tuple``) and ``n_days`` days; empty arrays when no rig is on the hourly
    path. (Here, not in the task body: the daily-only kernel then compiles none of it.)"""
    j_max = 0
    if power[0].shape[0] > 0:
        j_max = 1
        for count in power[2]:  # not .max(): a NumPy reduction costs seconds to compile
            j_max = max(j_max, count)
    days = n_days if j_max else 0
    edges = days + 1 if j_max else 0
    return (np.empty((days, j_max)), np.empty((days, j_max, 3), np.int64),
            np.empty((days, 2)), np.empty(days, np.int64),
            np.empty((days * j_max * (HOURS + 1), 2)),
            np.empty(days), np.empty((days, j_max), np.int64), np.empty(edges),
            np.empty(edges, np.int64), np.empty(edges))


@jit()
def simulate_class_nb(
    first, last, path, hashrate_th, weight, delivery_day, retire_day, decay_per_day, uptime,
    failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key, group,
    site_of, mode_first, mode_count, mode_hashrate_th, mode_power_w, mode_slot, price,
    energy_prefix, credit_prefix, peak_rank, hours_on, btc_unit_per_th, usd_per_th, sampled,
    seed, day_acc, power_acc, group_acc, power_group_acc, work,
):
    """Simulate the class of alike rigs [first, last) on one path (see the module docstring).

    ``work`` is scratch of any contents for classes of at most J_MAX modes and T days (made
    by ``class_work_nb``, in this order): coefficients ``[T, J_MAX]``,
    per-boundary table ``[T, J_MAX, 3]``, day totals ``[T, 2]``, day hours ``[T]``, slots
    ``[T * J_MAX * 25, 2]``; then per delivery group: hashrate ``[T]``, counts ``[T, J_MAX]``,
    cumulative hours ``[T + 1]``, next day with hours ``[T + 1]``, running-rig steps
    ``[T + 1]``. (Longer than most: it only sequences the steps, day tables -> delivery
    groups -> the day's booking, which share a dozen per-class values.)
    """
    r0 = first
    first_day = day_acc.shape[0]
    end_day = 0
    newest = 0
    for r in range(first, last):
        if delivery_day[r] < retire_day[r]:
            first_day = min(first_day, delivery_day[r])
            end_day = max(end_day, retire_day[r])
            newest = max(newest, delivery_day[r])
    if first_day >= end_day:
        return
    n_segments, seg_rho, seg_kw, seg_slot, bound_z, contract_kw = _class_modes_nb(
        r0, hashrate_th, curtail, mode_first, mode_count, mode_hashrate_th, mode_power_w,
        mode_slot)
    s = site_of[r0]
    decay = decay_per_day[r0]
    factor = energy_usd_per_kwh[r0]
    coef, table, totals, day_hours, slot_sums, h_group, counts, cum_hours, next_on, steps = work
    slots = _class_days_nb(first_day, end_day, hashrate_th[r0], decay, newest, n_segments,
                           curtail[r0] != 0, factor, bound_z, usd_per_th, price[s], hours_on[s],
                           coef, table, day_hours)
    for t in range(first_day, end_day):
        totals[t, 0] = 0.0
        totals[t, 1] = 0.0
    for i in range(slots):
        slot_sums[i, 0] = 0.0
        slot_sums[i, 1] = 0.0
    lam = failure_per_day[r0]
    w = weight[r0]
    availability = 1.0 if sampled else 1.0 / (1.0 + lam * repair_days[r0])
    g = group[r0]
    # Rigs of one delivery day run the same hours every day: each such group's days are
    # counted once, and its rigs only find their failures (see ``_group_days_nb``). A stable
    # sort keeps the rigs of a group in their array order, so the result is the same on any
    # thread.
    order = np.argsort(delivery_day[first:last], kind="mergesort")
    i = 0
    while i < last - first:
        d = delivery_day[first + order[i]]
        k = i
        group_end = d
        while k < last - first and delivery_day[first + order[k]] == d:
            group_end = max(group_end, retire_day[first + order[k]])
            k += 1
        if d < group_end:
            _group_days_nb(d, group_end, hashrate_th[r0], decay, n_segments, coef, table,
                           day_hours, price[s], h_group, counts, cum_hours, next_on, steps)
            for m in range(i, k):
                r = first + order[m]
                n_failures, repair_usd = _rig_running_nb(
                    path, d, retire_day[r], lam, repair_days[r0], w * repair_cost_usd[r0],
                    rig_key[r], sampled, seed, cum_hours, next_on, steps, day_acc)
                group_acc[g, GROUP_REPAIR_USD] += repair_usd
                group_acc[g, GROUP_FAILURES] += w * n_failures
            _book_group_nb(d, group_end, n_segments, table, day_hours, h_group, counts, steps,
                           totals, slot_sums)
        i = k
    sums = np.empty(6)
    mode_hours = np.empty(power_acc.shape[1] - N_POWER_DAILY)
    scale = w * uptime[r0] * availability
    failures_day = 0.0 if sampled else w * lam * availability
    for t in range(first_day, end_day):
        if totals[t, 0] != 0.0:
            _flush_day_nb(t, day_hours[t] >= 0, g, n_segments, seg_rho, seg_kw, seg_slot, table,
                          totals, slot_sums,
                          energy_prefix[s, t], credit_prefix[s, t], peak_rank[s, t], contract_kw,
                          scale, w * availability, failures_day,
                          repair_cost_usd[r0], factor, btc_unit_per_th[t], usd_per_th[t],
                          day_acc, power_acc, group_acc, power_group_acc, sums, mode_hours)


@jit()
def _class_modes_nb(r0, hashrate_th, curtail, mode_first, mode_count, mode_hashrate_th,
                    mode_power_w, mode_slot):
    """The class's mode envelope (``envelope_nb``: segment count, each segment's hashrate
    ratio, kW and output slot, the boundaries) and its contracted kW (its most power-hungry
    mode)."""
    max_lines = mode_count[r0] + 2
    line_rho = np.empty(max_lines)
    line_kw = np.empty(max_lines)
    line_mode = np.empty(max_lines, np.int64)
    seg_rho = np.empty(max_lines)
    seg_kw = np.empty(max_lines)
    seg_mode = np.empty(max_lines, np.int64)
    bound_z = np.empty(max_lines)
    n_segments = envelope_nb(r0, hashrate_th, curtail[r0] != 0, mode_first, mode_count,
                             mode_hashrate_th, mode_power_w, line_rho, line_kw, line_mode,
                             seg_rho, seg_kw, seg_mode, bound_z)
    seg_slot = np.empty(max_lines, np.int64)
    for j in range(n_segments):
        seg_slot[j] = mode_slot[seg_mode[j]]
    contract_kw = 0.0
    for i in range(mode_count[r0]):
        contract_kw = max(contract_kw, mode_power_w[mode_first[r0] + i] / 1000.0)
    return n_segments, seg_rho, seg_kw, seg_slot, bound_z, contract_kw


@jit()
def _group_days_nb(delivery, end, h_new, decay, n_segments, coef, table, day_hours, price,
                   h_group, counts, cum_hours, next_on, steps):
    """The days [delivery, end) of the class's rigs delivered on ``delivery``: their hashrate
    (chunks of ``DAY_CHUNK`` days sharing a power of the decay, as ``kernels.rigdays``), each
    boundary's count where the class's rigs differ (``day_hours[t] < 0``; the few prices the
    class straddles compared), the hours run cumulated from ``delivery`` and the next day with
    hours; the running-rig steps zeroed."""
    decay_pow = np.empty(DAY_CHUNK)
    decay_pow[0] = 1.0
    for k in range(1, DAY_CHUNK):
        decay_pow[k] = decay_pow[k - 1] * decay
    decay_chunk = decay_pow[DAY_CHUNK - 1] * decay
    last = n_segments - 1
    h_chunk = h_new
    cum_hours[delivery] = 0.0
    for t0 in range(delivery, end, DAY_CHUNK):
        for k in range(min(DAY_CHUNK, end - t0)):
            t = t0 + k
            h = h_chunk * decay_pow[k]
            h_group[t] = h
            hours = day_hours[t]
            if hours < 0:
                for j in range(n_segments):
                    base = table[t, j, _BASE]
                    threshold = h * coef[t, j]
                    m = 0
                    for i in range(PAD):
                        m += price[t, base + i] <= threshold
                    if m == PAD:
                        while m < table[t, j, _WIDTH] and price[t, base + m] <= threshold:
                            m += 1
                    counts[t, j] = base + m
                hours = counts[t, last]
            # Whole hours: the cumulated sums are exact.
            cum_hours[t + 1] = cum_hours[t] + hours
            steps[t] = 0.0
        h_chunk *= decay_chunk
    steps[end] = 0.0
    next_on[end] = end
    for t in range(end - 1, delivery - 1, -1):
        next_on[t] = t if cum_hours[t + 1] > cum_hours[t] else next_on[t + 1]


@jit()
def _rig_running_nb(path, delivery, end, lam, repair_days, repair_usd_each, key, sampled,
                    seed, cum_hours, next_on, steps, day_acc):
    """One rig of a delivery group: the days it is up (in service, not in repair) as steps of
    +1/-1 into ``steps``, its failures and repairs (booked on their day); returns (failures,
    repair USD).

    The failure clock counts running hours: a rig fails at the start of the first day it would
    run with less than a day's hours left on it. With the group's cumulated hours that day is
    found by a binary search per failure, not a walk over the days: the clock on day t is
    ``clock - (cum_hours[t] - cum_hours[start])``, whole hours off a float, so exactly what
    subtracting each day's hours in turn would leave.
    """
    n_failures = np.int64(0)
    if sampled and lam > 0.0:
        clock = -np.log(uniform_nb(seed, STREAM_FAILURE, path, key, n_failures)) / lam * 24.0
    else:
        clock = np.inf
    repair_sum = 0.0
    start = delivery  # first day up, from which the clock runs
    check = delivery  # first day a failure may fall on
    while start < end:
        fail = end
        if clock < np.inf:
            lo = check
            hi = end
            while lo < hi:
                mid = (lo + hi) >> 1
                if clock - (cum_hours[mid] - cum_hours[start]) < 24.0:
                    hi = mid
                else:
                    lo = mid + 1
            if lo < end:
                fail = min(next_on[lo], end)  # (the group's days may run past this rig's)
        steps[start] += 1.0
        steps[fail] -= 1.0
        if fail >= end:
            break
        n_failures += 1
        repair_sum += repair_usd_each
        day_acc[fail, ACC_REPAIR_USD] += repair_usd_each
        clock = -np.log(uniform_nb(seed, STREAM_FAILURE, path, key, n_failures)) / lam * 24.0
        # Up again after the repair; with no repair days it runs the failure day itself.
        start = fail + repair_days
        check = max(start, fail + 1)
    return n_failures, repair_sum


@jit()
def _book_group_nb(delivery, end, n_segments, table, day_hours, h_group, counts, steps, totals,
                   slot_sums):
    """A delivery group's rigs up each day into the class's day totals (count, hashrate sum)
    and, on days the class's rigs differ, the slots of each boundary's count."""
    up = 0.0
    for t in range(delivery, end):
        up += steps[t]
        if up == 0.0:
            continue
        h_up = up * h_group[t]
        totals[t, 0] += up
        totals[t, 1] += h_up
        if day_hours[t] < 0:
            for j in range(n_segments):
                slot = table[t, j, _SLOT] + counts[t, j] - table[t, j, _BASE]
                slot_sums[slot, 0] += up
                slot_sums[slot, 1] += h_up
