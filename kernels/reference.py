"""The kernels' models written plainly with NumPy: the oracles the kernels are tested against.

``simulate_chain_reference`` is ``kernels.chain.simulate_chain_nb`` (the chain model, with the
constants of ``kernels.protocol``) stepping every path at once, a day at a time
(``chain_day_reference``, which the responsive network's reference steps too);
``fleetcalc.network`` uses it when no faster chain is given.

``simulate_rigdays_reference`` is the rig-day model, one vectorised step per day over (paths,
rigs): same contract as ``kernels.rigdays.simulate_rigdays`` (minus the scratch buffers).
Written for reading, not speed: hashrate is ``h0 * decay ** age`` computed afresh each day,
failures are masks over all rigs.

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

from dataclasses import dataclass

import numpy as np

from kernels import layout, protocol
from kernels.chain import CHAIN_FIELDS
from kernels.hourly import HOURS, PowerInputs, RawHours
from kernels.rng import STREAM_FAILURE, uniform_np


def subsidy_sats_reference(height: np.ndarray | int) -> np.ndarray:
    """Block subsidy in satoshis at each height: the consensus integer right shift."""
    halvings = np.asarray(height, dtype=np.int64) // protocol.HALVING_BLOCKS
    # NumPy's shift by 64 bits or more is undefined: shift by at most 63, then zero those.
    shifted = np.right_shift(np.int64(protocol.INITIAL_SUBSIDY_SATS),
                             np.minimum(halvings, protocol.SUBSIDY_HALVINGS - 1))
    return np.where(halvings >= protocol.SUBSIDY_HALVINGS, 0, shifted)


@dataclass
class ChainState:
    """The chain at the start of a day, per path: the state ``chain_day_reference`` steps."""

    difficulty: np.ndarray
    height: np.ndarray  # fractional: an expectation
    epoch_start: np.ndarray  # height where the epoch in progress began
    epoch_elapsed_s: np.ndarray  # seconds that epoch has run

    @classmethod
    def start(cls, n_paths: int, difficulty0: float, height0: int) -> ChainState:
        """The state at day 0; the epoch in progress is assumed to have run at one block per
        target spacing so far."""
        height = np.full(n_paths, float(height0))
        epoch_start = np.full(n_paths, float(height0 - height0 % protocol.RETARGET_BLOCKS))
        return cls(np.full(n_paths, float(difficulty0)), height, epoch_start,
                   (height - epoch_start) * protocol.TARGET_BLOCK_SPACING_S)


def chain_day_reference(
    state: ChainState, hashrate_ehs: np.ndarray, fees_btc: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step ``state`` over one day at ``hashrate_ehs[P]`` (in place), all paths together,
    masked where a path's day is done: ``kernels.chain.chain_day_nb``.

    Returns the day's expected blocks, mean subsidy over them (0 with no blocks), gross BTC per
    TH/s, and whether each path crossed a halving height that day.
    """
    halving_blocks = protocol.HALVING_BLOCKS
    difficulty, height = state.difficulty, state.height
    epoch_start, epoch_elapsed_s = state.epoch_start, state.epoch_elapsed_s
    n_paths = height.shape[0]
    hashes_per_s = hashrate_ehs * protocol.HASHES_PER_S_PER_EH_S
    remaining_s = np.full(n_paths, protocol.SECONDS_PER_DAY)
    blocks = np.zeros(n_paths)
    subsidy_blocks_btc = np.zeros(n_paths)
    per_th = np.zeros(n_paths)
    halvings_at_start = np.floor(height / halving_blocks)
    while True:
        active = remaining_s > 0.0
        if not active.any():
            break
        rate = hashes_per_s / (difficulty * protocol.HASHES_PER_DIFFICULTY)  # blocks per second
        next_retarget = epoch_start + protocol.RETARGET_BLOCKS
        next_halving = (np.floor(height / halving_blocks) + 1.0) * halving_blocks
        boundary = np.minimum(next_retarget, next_halving)
        with np.errstate(divide="ignore"):  # a network with nothing online finds no block
            time_to_boundary = (boundary - height) / rate
        hits = active & (time_to_boundary <= remaining_s)
        seg_s = np.where(hits, time_to_boundary, np.where(active, remaining_s, 0.0))
        seg_blocks = np.where(hits, boundary - height, seg_s * rate)
        subsidy = (subsidy_sats_reference(np.floor(height).astype(np.int64))
                   / protocol.SATS_PER_BTC)
        blocks += seg_blocks
        subsidy_blocks_btc += seg_blocks * subsidy
        per_th += (seg_s * protocol.HASHES_PER_S_PER_TH_S * (subsidy + fees_btc)
                   / (difficulty * protocol.HASHES_PER_DIFFICULTY))
        height = np.where(hits, boundary, height + seg_blocks)
        epoch_elapsed_s = epoch_elapsed_s + seg_s
        remaining_s = np.where(hits, remaining_s - seg_s, 0.0)
        retarget = hits & (boundary == next_retarget)
        factor = np.clip(
            protocol.RETARGET_TIMESPAN_S / np.where(retarget, epoch_elapsed_s, 1.0),
            protocol.RETARGET_MIN_FACTOR, protocol.RETARGET_MAX_FACTOR)
        difficulty = np.where(retarget, difficulty * factor, difficulty)
        epoch_start = np.where(retarget, next_retarget, epoch_start)
        epoch_elapsed_s = np.where(retarget, 0.0, epoch_elapsed_s)
    state.difficulty, state.height = difficulty, height
    state.epoch_start, state.epoch_elapsed_s = epoch_start, epoch_elapsed_s
    crossed = np.floor(height / halving_blocks) > halvings_at_start
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_subsidy_btc = np.where(blocks > 0, subsidy_blocks_btc / blocks, 0.0)
    return blocks, mean_subsidy_btc, per_th, crossed


def simulate_chain_reference(
    hashrate_ehs: np.ndarray, difficulty0: float, height0: int, fees_btc: float
) -> dict[str, np.ndarray]:
    """Expected block production, retargets and subsidy per day for ``hashrate_ehs[P, T]``:
    ``kernels.chain.simulate_chain_nb``'s outputs, returned as a dict (``CHAIN_FIELDS`` and
    ``halving_day``)."""
    n_paths, n_days = hashrate_ehs.shape
    state = ChainState.start(n_paths, difficulty0, height0)
    out = {name: np.empty((n_paths, n_days)) for name in CHAIN_FIELDS}
    halving_day = np.full(n_paths, -1, dtype=np.int64)
    for t in range(n_days):
        out["difficulty"][:, t] = state.difficulty
        out["height"][:, t] = state.height
        blocks, subsidy_btc, per_th, crossed = chain_day_reference(
            state, hashrate_ehs[:, t], fees_btc)
        halving_day = np.where(crossed & (halving_day < 0), t, halving_day)
        out["blocks"][:, t] = blocks
        out["subsidy_btc"][:, t] = subsidy_btc
        out["btc_per_th_day"][:, t] = per_th
    out["halving_day"] = halving_day
    return out


def _exponential_days(seed, paths, rig_key, counter, lam):
    """Running days until the next failure; inf where the hazard is zero."""
    u = uniform_np(seed, STREAM_FAILURE, paths, rig_key, counter)
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(lam > 0.0, -np.log(u) / np.where(lam > 0.0, lam, 1.0), np.inf)


def _canonical_modes(power: PowerInputs, n_rigs: int):
    """Each hourly-path rig's modes as ``[R, K]`` arrays (K = most modes of a rig), ordered by
    power descending, hashrate descending, listed order; padding rows are invalid."""
    k = max(int(power.mode_count.max()) if power.mode_count.size else 1, 1)
    hashrate = np.zeros((n_rigs, k))
    power_w = np.zeros((n_rigs, k))
    slot = np.zeros((n_rigs, k), dtype=np.int64)
    valid = np.zeros((n_rigs, k), dtype=bool)
    for r in range(n_rigs):
        if power.site_of[r] < 0:
            continue
        rows = power.mode_first[r] + np.arange(power.mode_count[r])
        order = sorted(rows, key=lambda m: (-power.mode_power_w[m], -power.mode_hashrate_th[m], m))
        n = len(order)
        hashrate[r, :n] = power.mode_hashrate_th[order]
        power_w[r, :n] = power.mode_power_w[order]
        slot[r, :n] = power.mode_slot[order]
        valid[r, :n] = True
    return hashrate, power_w, slot, valid


def _hourly_day(t, age_factor, modes, power, raw, factor, curtail, btc_unit, usd_per_th):
    """One day of every hourly-path rig, hour by hour: each hour the mode with the highest
    margin (ties: the first in canonical order), or off when curtailing and every margin is
    negative, or off when the hour is forced off. Per unit, ``[P, R]`` arrays.

    Two modes are ranked by the difference of their revenues against the difference of their
    energy costs, not by their margins: at a tiny price (1e-294 USD/kWh) the energy cost is
    below the revenue's rounding, so two modes of equal hashrate would tie in their margins
    and the tie go to the more power-hungry one, where exact arithmetic ranks the other first
    (as the kernel's price thresholds do)."""
    mode_hashrate, mode_power_w, mode_slot, valid = modes
    n_paths = btc_unit.shape[0]
    n_rigs = mode_hashrate.shape[0]
    site = np.maximum(power.site_of, 0)
    kw = mode_power_w / 1000.0
    contract_kw = kw.max(axis=1)
    # Mode m's degraded hashrate and its revenue per unit-hour, [P, R, K].
    h_mode = mode_hashrate * age_factor[:, None]
    revenue_hour = h_mode[None] * usd_per_th[:, t, None, None] / HOURS
    out = {name: np.zeros((n_paths, n_rigs)) for name in
           ("hours", "hash_hours", "power_hours", "energy", "credit", "peak_w")}
    out["mode_hours"] = np.zeros((n_paths, n_rigs, power.n_slots))
    rig = np.arange(n_rigs)[None]
    for hour in range(HOURS):
        price = raw.decision[site, t, hour] * factor
        best = np.zeros((n_paths, n_rigs), dtype=np.int64)
        for k in range(1, mode_hashrate.shape[1]):  # the first of equal margins stays best
            gain = (revenue_hour[:, :, k]
                    - np.take_along_axis(revenue_hour, best[..., None], axis=2)[..., 0])
            extra_cost = (kw[None, :, k] - kw[rig, best]) * price[None]
            best = np.where(valid[None, :, k] & (gain > extra_cost), k, best)
        best_revenue = np.take_along_axis(revenue_hour, best[..., None], axis=2)[..., 0]
        chosen_kw = kw[rig, best]
        # (revenue >= cost is margin >= 0 exactly: a float difference is 0 only when equal.)
        earns = valid[None, :, 0] & (best_revenue >= chosen_kw * price[None])
        runs = ~raw.forced_off[site, t, hour][None] & ((curtail == 0)[None] | earns)
        best_kw = np.where(runs, chosen_kw, 0.0)
        best_h = np.where(runs, h_mode[rig, best], 0.0)
        out["hours"] += runs
        out["hash_hours"] += best_h
        out["power_hours"] += best_kw
        out["energy"] += best_kw * raw.paid[site, t, hour] * factor
        out["credit"] += (contract_kw - best_kw) * raw.credit[site, t, hour] * factor
        out["peak_w"] += np.where(raw.peak[site, t, hour], best_kw * 1000.0, 0.0)
        slots = mode_slot[rig, best]
        for s in range(power.n_slots):
            out["mode_hours"][:, :, s] += runs & (slots == s)
    return out


def simulate_rigdays_reference(
    hashrate_th, power_w, weight, delivery_day, retire_day, decay_per_day, uptime,
    failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key, group,
    btc_per_th_day, price_usd, pool_fee, sampled, seed, n_groups,
    power: PowerInputs | None = None, raw_hours: RawHours | None = None,
):
    """Return ``(daily_out[P, N_DAILY, T], group_out[P, G, N_GROUP])``; with ``power`` (and
    the clock-order ``raw_hours`` it was prepared from) also the power outputs
    ``[P, N_POWER_DAILY + S, T]`` and ``[P, G, N_POWER_GROUP + S]``.

    One day loop top to bottom (longer than most functions) so that it reads against the model
    in the module docstring; an hourly-path rig's day comes from ``_hourly_day``."""
    n_paths, n_days = btc_per_th_day.shape
    n_rigs = hashrate_th.shape[0]
    n_slots = power.n_slots if power is not None else 0
    hourly_rig = (power.site_of >= 0) if power is not None else np.zeros(n_rigs, dtype=bool)
    modes = _canonical_modes(power, n_rigs) if power is not None else None
    daily = np.zeros((n_paths, layout.N_DAILY, n_days))
    groups = np.zeros((n_paths, n_groups, layout.N_GROUP))
    power_daily = np.zeros((n_paths, layout.N_POWER_DAILY + n_slots, n_days))
    power_groups = np.zeros((n_paths, n_groups, layout.N_POWER_GROUP + n_slots))
    paths = np.arange(n_paths)[:, None]
    keep_share = 1.0 - pool_fee
    btc_unit_per_th = btc_per_th_day * keep_share
    usd_per_th = btc_unit_per_th * price_usd
    energy_per_day = power_w / 1000.0 * 24.0 * energy_usd_per_kwh
    availability = (
        np.ones(n_rigs) if sampled else 1.0 / (1.0 + failure_per_day * repair_days)
    )
    scale = weight * uptime * availability
    shape = (n_paths, n_rigs)
    failures = np.zeros(shape, dtype=np.int64)
    repair_until = np.broadcast_to(delivery_day, shape).copy()
    # A daily-path rig's failure clock counts running days, an hourly-path rig's running hours.
    clock_unit = np.where(hourly_rig, 24.0, 1.0)
    with np.errstate(over="ignore"):  # a subnormal hazard's days in hours: inf, as compiled
        days_left = (
            _exponential_days(seed, paths, rig_key, 0, failure_per_day) * clock_unit
            if sampled else np.full(shape, np.inf)
        )
    per_rig = np.zeros((n_paths, n_rigs, layout.N_GROUP))
    per_rig_power = np.zeros((n_paths, n_rigs, layout.N_POWER_GROUP + n_slots))
    for t in range(n_days):
        installed = (delivery_day <= t) & (t < retire_day)
        age_factor = decay_per_day ** np.maximum(t - delivery_day, 0)
        h = hashrate_th * age_factor
        # The daily path: all day at its constant price, or off when that loses money.
        day_usd = h * usd_per_th[:, t, None]
        on_all_day = ~((curtail != 0) & (day_usd < energy_per_day))
        day = {
            "hours": np.where(on_all_day, 24.0, 0.0),
            "hash_hours": np.where(on_all_day, h * 24.0, 0.0),
            "power_hours": np.where(on_all_day, power_w / 1000.0 * 24.0, 0.0),
            "energy": np.where(on_all_day, energy_per_day, 0.0),
            "credit": np.zeros(shape), "peak_w": np.zeros(shape),
            "mode_hours": np.zeros((n_paths, n_rigs, n_slots)),
        }
        if hourly_rig.any():
            hourly_day = _hourly_day(t, age_factor, modes, power, raw_hours,
                                     energy_usd_per_kwh, curtail, btc_unit_per_th, usd_per_th)
            for name, values in hourly_day.items():
                mask = hourly_rig[None, :, None] if values.ndim == 3 else hourly_rig[None]
                day[name] = np.where(mask, values, day[name])
        hours = day["hours"]
        eligible = installed & (t >= repair_until)
        if sampled:
            fails = eligible & (hours > 0) & (days_left < clock_unit)
            failures = failures + fails
            repair_usd = np.where(fails, weight * repair_cost_usd, 0.0)
            per_rig[:, :, layout.GROUP_FAILURES] += np.where(fails, weight, 0.0)
            repair_until = np.where(fails, t + repair_days, repair_until)
            redrawn = _exponential_days(seed, paths, rig_key, failures, failure_per_day)
            with np.errstate(over="ignore"):  # as above
                days_left = np.where(fails, redrawn * clock_unit, days_left)
            up = eligible & (t >= repair_until)
            ran = np.where(hourly_rig, hours, 1.0)
            days_left = np.where(up & (hours > 0), days_left - ran, days_left)
        else:
            up = eligible
            expected_failures = np.where(
                up, weight * failure_per_day * availability * hours / 24.0, 0.0)
            repair_usd = expected_failures * repair_cost_usd
            per_rig[:, :, layout.GROUP_FAILURES] += expected_failures
        # A unit mines (and buys power) in the hours it runs; its contracted energy is sold
        # back in the others, while it is up.
        hash_th = np.where(up, day["hash_hours"] / 24.0 * scale, 0.0)
        btc = hash_th * btc_unit_per_th[:, t, None]
        revenue = btc * price_usd[:, t, None]
        energy = np.where(up, day["energy"] * scale, 0.0)
        credit = np.where(up, day["credit"] * scale, 0.0)
        units = np.where(up, weight * availability * hours / 24.0, 0.0)
        mode_units = np.where(up[..., None], day["mode_hours"] / 24.0, 0.0) * (
            weight * availability)[None, :, None]
        daily[:, layout.DAILY_HASHRATE_TH, t] = hash_th.sum(axis=1)
        daily[:, layout.DAILY_POWER_W, t] = np.where(
            up, day["power_hours"] * 1000.0 / 24.0 * scale, 0.0).sum(axis=1)
        daily[:, layout.DAILY_BTC, t] = btc.sum(axis=1)
        daily[:, layout.DAILY_REVENUE_USD, t] = revenue.sum(axis=1)
        daily[:, layout.DAILY_ENERGY_USD, t] = energy.sum(axis=1)
        daily[:, layout.DAILY_REPAIR_USD, t] = repair_usd.sum(axis=1)
        daily[:, layout.DAILY_RUNNING_UNITS, t] = units.sum(axis=1)
        power_daily[:, layout.POWER_CREDIT_USD, t] = credit.sum(axis=1)
        power_daily[:, layout.POWER_PEAK_LOAD_W, t] = np.where(up, day["peak_w"] * scale, 0.0).sum(
            axis=1)
        power_daily[:, layout.N_POWER_DAILY:, t] = mode_units.sum(axis=1)
        per_rig[:, :, layout.GROUP_BTC] += btc
        per_rig[:, :, layout.GROUP_REVENUE_USD] += revenue
        per_rig[:, :, layout.GROUP_ENERGY_USD] += energy
        per_rig[:, :, layout.GROUP_REPAIR_USD] += repair_usd
        per_rig[:, :, layout.GROUP_RUNNING_UNIT_DAYS] += units
        per_rig_power[:, :, layout.POWER_GROUP_CREDIT_USD] += credit
        per_rig_power[:, :, layout.N_POWER_GROUP:] += mode_units
    for p in range(n_paths):
        for field in range(layout.N_GROUP):
            groups[p, :, field] = np.bincount(
                group, weights=per_rig[p, :, field], minlength=n_groups
            )
        for field in range(layout.N_POWER_GROUP + n_slots):
            power_groups[p, :, field] = np.bincount(
                group, weights=per_rig_power[p, :, field], minlength=n_groups)
    if power is None:
        return daily, groups
    return daily, groups, power_daily, power_groups
