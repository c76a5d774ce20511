"""Expected block production, retargets and subsidy per day: the chain model as a jitted loop.

The same model, step for step, as ``kernels.reference.simulate_chain_reference`` (NumPy), with
the constants of ``kernels.protocol``: on a day with network hashrate H the network finds blocks
at ``H * 1e18 / (D * 2**32)`` per second; a day is cut into segments at every retarget (every
2016 blocks, factor ``1,209,600 s / epoch time`` clamped to x0.25..x4) and every halving
boundary; BTC per TH/s per day is the exact sum over the segments. The NumPy version steps all
paths at once with masks; this one walks each path with scalars, which is the same arithmetic in
the same order, so the two agree to the last bit in practice (tests allow 1e-12 relative).

Array contract (P paths, T days; float64 unless noted, C-contiguous):

inputs
    hashrate_ehs[P, T]      network hashrate, EH/s
    difficulty0             difficulty at the start of day 0
    height0                 block height at the start of day 0 (int)
    fees_btc                fees per block, BTC
outputs (caller-allocated; fully overwritten)
    difficulty[P, T]        difficulty at the start of the day
    blocks[P, T]            expected blocks found that day
    height[P, T]            block height at the start of the day (fractional: expectation)
    subsidy_btc[P, T]       mean subsidy over the blocks of the day (0 on a day with no blocks)
    btc_per_th_day[P, T]    expected gross BTC per TH/s over the day
    halving_day[P]          int64: first day that crosses a halving height, or -1
"""

from __future__ import annotations

import numpy as np

from kernels._jit import jit
from kernels.protocol import (
    HALVING_BLOCKS,
    HASHES_PER_DIFFICULTY,
    HASHES_PER_S_PER_EH_S,
    HASHES_PER_S_PER_TH_S,
    INITIAL_SUBSIDY_SATS,
    RETARGET_BLOCKS,
    RETARGET_MAX_FACTOR,
    RETARGET_MIN_FACTOR,
    RETARGET_TIMESPAN_S,
    SATS_PER_BTC,
    SECONDS_PER_DAY,
    SUBSIDY_HALVINGS,
    TARGET_BLOCK_SPACING_S,
)

CHAIN_FIELDS = ("difficulty", "blocks", "height", "subsidy_btc", "btc_per_th_day")


@jit()
def subsidy_sats_nb(height: int) -> int:
    """Consensus subsidy of a block at ``height``: 50 BTC shifted right once per halving."""
    halvings = height // HALVING_BLOCKS
    if halvings >= SUBSIDY_HALVINGS:
        return 0
    return INITIAL_SUBSIDY_SATS >> halvings


@jit(inline=True)
def chain_day_nb(hashrate_ehs, fees_btc, diff, h, epoch_start, epoch_elapsed_s):
    """One day of expected block production from the chain state at its start.

    The state is (difficulty, height, height where the epoch started, seconds the epoch has
    run). Returns the state at the end of the day, then the day's expected blocks, the mean
    subsidy over them (0 with no blocks), the gross BTC per TH/s over the day and whether the
    day crossed a halving height. The responsive network (``kernels.responsive``) steps the
    same day with the hashrate its miners bring online.
    """
    hashes_per_s = hashrate_ehs * HASHES_PER_S_PER_EH_S
    remaining_s = SECONDS_PER_DAY
    day_blocks = 0.0
    subsidy_blocks_btc = 0.0
    per_th = 0.0
    halvings_at_start = np.floor(h / HALVING_BLOCKS)
    while remaining_s > 0.0:
        rate = hashes_per_s / (diff * HASHES_PER_DIFFICULTY)  # blocks per second
        next_retarget = epoch_start + RETARGET_BLOCKS
        next_halving = (np.floor(h / HALVING_BLOCKS) + 1.0) * HALVING_BLOCKS
        boundary = min(next_retarget, next_halving)
        time_to_boundary = (boundary - h) / rate
        hit = time_to_boundary <= remaining_s
        if hit:
            seg_s = time_to_boundary
            seg_blocks = boundary - h
        else:
            seg_s = remaining_s
            seg_blocks = seg_s * rate
        subsidy = subsidy_sats_nb(np.int64(np.floor(h))) / SATS_PER_BTC
        day_blocks += seg_blocks
        subsidy_blocks_btc += seg_blocks * subsidy
        per_th += (seg_s * HASHES_PER_S_PER_TH_S * (subsidy + fees_btc)
                   / (diff * HASHES_PER_DIFFICULTY))
        epoch_elapsed_s += seg_s
        if hit:
            h = boundary
            remaining_s -= seg_s
            if boundary == next_retarget:
                factor = RETARGET_TIMESPAN_S / epoch_elapsed_s
                # Written as NumPy's clip so a NaN stays NaN, as in the reference.
                if factor < RETARGET_MIN_FACTOR:
                    factor = RETARGET_MIN_FACTOR
                elif factor > RETARGET_MAX_FACTOR:
                    factor = RETARGET_MAX_FACTOR
                diff *= factor
                epoch_start = next_retarget
                epoch_elapsed_s = 0.0
        else:
            h += seg_blocks
            remaining_s = 0.0
    crossed_halving = np.floor(h / HALVING_BLOCKS) > halvings_at_start
    mean_subsidy_btc = subsidy_blocks_btc / day_blocks if day_blocks > 0 else 0.0
    return (diff, h, epoch_start, epoch_elapsed_s, day_blocks, mean_subsidy_btc, per_th,
            crossed_halving)


@jit(inline=True)
def quiet_day_nb(hashrate_ehs, fees_btc, diff, h, epoch_start, halvings_at_start, subsidy_btc):
    """``chain_day_nb`` on a day that holds no retarget or halving boundary, as straight-line
    code: a loop over paths runs it in SIMD, where ``chain_day_nb``'s segment loop runs one
    path at a time (its divisions, one after the other, are what a day of the chain waits on).

    On such a day ``chain_day_nb``'s loop runs once, its segment the whole day; this is that
    segment's arithmetic, the same operations in the same order, so the same bits (tested).
    ``halvings_at_start`` is ``floor(h / HALVING_BLOCKS)`` and ``subsidy_btc`` the subsidy of
    block ``floor(h)``, both as ``chain_day_nb`` computes them (the caller keeps them from the
    day before). Returns whether the day is quiet (if not, none of the rest holds: step the day
    with ``chain_day_nb``), then its blocks, mean subsidy, gross BTC per TH/s, the height at its
    end and ``floor(height / HALVING_BLOCKS)`` there.
    """
    rate = hashrate_ehs * HASHES_PER_S_PER_EH_S / (diff * HASHES_PER_DIFFICULTY)
    boundary = min(epoch_start + RETARGET_BLOCKS, (halvings_at_start + 1.0) * HALVING_BLOCKS)
    quiet = not ((boundary - h) / rate <= SECONDS_PER_DAY)  # a NaN is quiet there too
    seg_blocks = SECONDS_PER_DAY * rate
    day_blocks = 0.0 + seg_blocks
    subsidy_blocks_btc = 0.0 + seg_blocks * subsidy_btc
    per_th = 0.0 + (SECONDS_PER_DAY * HASHES_PER_S_PER_TH_S * (subsidy_btc + fees_btc)
                    / (diff * HASHES_PER_DIFFICULTY))
    h_end = h + seg_blocks
    mean_subsidy_btc = subsidy_blocks_btc / day_blocks if day_blocks > 0 else 0.0
    return quiet, day_blocks, mean_subsidy_btc, per_th, h_end, np.floor(h_end / HALVING_BLOCKS)


@jit(inline=True)
def chain_start_nb(height0):
    """The epoch state at the start: where the epoch in progress began, and the seconds it has
    run, assumed at one block per target spacing so far."""
    epoch_start = float(height0 - height0 % RETARGET_BLOCKS)
    return epoch_start, (float(height0) - epoch_start) * TARGET_BLOCK_SPACING_S


@jit()
def simulate_chain_nb(
    hashrate_ehs, difficulty0, height0, fees_btc, difficulty, blocks, height, subsidy_btc,
    btc_per_th_day, halving_day,
):
    """Fill the caller's output arrays; see the module docstring for the contract."""
    n_paths, n_days = hashrate_ehs.shape
    for p in range(n_paths):
        diff = float(difficulty0)
        h = float(height0)
        epoch_start, epoch_elapsed_s = chain_start_nb(height0)
        halving_day[p] = -1
        for t in range(n_days):
            difficulty[p, t] = diff
            height[p, t] = h
            diff, h, epoch_start, epoch_elapsed_s, day_blocks, mean_subsidy, per_th, crossed = (
                chain_day_nb(hashrate_ehs[p, t], fees_btc, diff, h, epoch_start,
                             epoch_elapsed_s))
            if crossed and halving_day[p] < 0:
                halving_day[p] = t
            blocks[p, t] = day_blocks
            subsidy_btc[p, t] = mean_subsidy
            btc_per_th_day[p, t] = per_th
