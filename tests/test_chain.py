"""The jitted chain kernel against the NumPy chain of kernels.reference, on drawn networks."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numba import njit

from fleetcalc.network import difficulty_from_hashrate
from kernels.chain import (
    CHAIN_FIELDS,
    chain_day_nb,
    quiet_day_nb,
    simulate_chain_nb,
    subsidy_sats_nb,
)
from kernels.protocol import HALVING_BLOCKS, SATS_PER_BTC
from kernels.reference import simulate_chain_reference

HALVING_2028 = 1_050_000


def run_chain_nb(
    hashrate_ehs: np.ndarray, difficulty0: float, height0: int, fees_btc: float
) -> dict[str, np.ndarray]:
    out = {name: np.empty(hashrate_ehs.shape) for name in CHAIN_FIELDS}
    halving_day = np.empty(hashrate_ehs.shape[0], dtype=np.int64)
    simulate_chain_nb(np.ascontiguousarray(hashrate_ehs), difficulty0, height0, fees_btc,
                      *out.values(), halving_day)
    return {**out, "halving_day": halving_day}


@st.composite
def networks(draw):
    n_paths = draw(st.integers(1, 3))
    n_days = draw(st.integers(1, 150))
    hashrate = draw(hnp.arrays(
        np.float64, (n_paths, n_days),
        elements=st.floats(50.0, 5000.0, allow_nan=False, allow_infinity=False)))
    # Difficulty off the hashrate's by up to x8 either way drives retargets into both clamps.
    mismatch = draw(st.floats(0.125, 8.0))
    difficulty0 = difficulty_from_hashrate(float(hashrate[0, 0])) * mismatch
    # Heights near the 2028 halving cross it within the horizon; others are anywhere.
    height0 = draw(st.one_of(
        st.integers(HALVING_2028 - 20_000, HALVING_2028 + 10),
        st.integers(0, 64 * 210_000 + 1000),  # up to past the last halving
    ))
    fees_btc = draw(st.floats(0.0, 2.0))
    return hashrate, difficulty0, height0, fees_btc


@given(networks())
@example((np.full((1, 30), 1000.0), difficulty_from_hashrate(1000.0), HALVING_2028 - 1, 0.02))
@example((np.full((2, 5), 900.0), difficulty_from_hashrate(900.0), 2016 * 500 - 1, 0.0))
# An epoch eight times too slow (112 days) and one eight times too fast: both clamps bind.
@example((np.full((1, 150), 900.0), difficulty_from_hashrate(900.0) * 8, 2016 * 500, 0.0))
@example((np.full((1, 5), 900.0), difficulty_from_hashrate(900.0) / 8, 2016 * 500, 0.0))
def test_jitted_chain_equals_numpy_chain(network) -> None:
    hashrate, difficulty0, height0, fees_btc = network
    expected = simulate_chain_reference(hashrate, difficulty0, height0, fees_btc)
    actual = run_chain_nb(hashrate, difficulty0, height0, fees_btc)
    for name in CHAIN_FIELDS:
        np.testing.assert_allclose(actual[name], expected[name], rtol=1e-12, atol=0.0,
                                   err_msg=name)
    np.testing.assert_array_equal(actual["halving_day"], expected["halving_day"])


def test_halving_day_is_found_and_mixes_both_subsidies() -> None:
    # 1,000 EH/s at its own difficulty mines ~144 blocks a day: 100 blocks before the halving
    # falls on day 0, and the subsidy of that day lies strictly between 3.125 and 1.5625 BTC.
    hashrate = np.full((1, 3), 1000.0)
    out = run_chain_nb(hashrate, difficulty_from_hashrate(1000.0), HALVING_2028 - 100, 0.0)
    assert out["halving_day"][0] == 0
    assert 1.5625 < out["subsidy_btc"][0, 0] < 3.125
    assert out["subsidy_btc"][0, 1] == 1.5625


@njit(error_model="numpy")  # as the kernels: x / 0 is inf, not an error
def _day_both_ways(hashrate_ehs, fees_btc, diff, h, epoch_start, epoch_elapsed_s):
    chain = chain_day_nb(hashrate_ehs, fees_btc, diff, h, epoch_start, epoch_elapsed_s)
    halvings = np.floor(h / HALVING_BLOCKS)
    quiet = quiet_day_nb(hashrate_ehs, fees_btc, diff, h, epoch_start, halvings,
                         subsidy_sats_nb(np.int64(np.floor(h))) / SATS_PER_BTC)
    return chain, quiet


@given(st.floats(0.0, 5000.0), st.floats(0.0, 2.0), st.floats(0.1, 8.0),
       st.one_of(st.integers(HALVING_2028 - 3000, HALVING_2028 + 10),
                 st.integers(0, 64 * 210_000 + 1000)),
       st.floats(0.0, 1.0), st.floats(0.0, 1.0))
@example(1000.0, 0.02, 1.0, HALVING_2028 - 1, 0.5, 0.0)  # the halving within the day
@example(0.0, 0.02, 1.0, 900_000, 0.5, 0.0)  # no hashrate: no blocks, nothing crossed
def test_a_quiet_day_is_the_chain_day_bit_for_bit(
    hashrate_ehs, fees_btc, mismatch, height, height_fraction, epoch_progress
) -> None:
    """``quiet_day_nb`` (the responsive network's SIMD day) gives ``chain_day_nb``'s bits on
    every day it calls quiet, and calls quiet every day that holds no boundary."""
    h = height + height_fraction
    epoch_start = float(height - height % 2016)
    diff = difficulty_from_hashrate(max(hashrate_ehs, 1.0)) * mismatch
    chain, (quiet, blocks, subsidy, per_th, h_end, halvings_end) = _day_both_ways(
        hashrate_ehs, fees_btc, diff, h, epoch_start, epoch_progress * 1_209_600.0)
    (diff_end, chain_h_end, _, _, chain_blocks, chain_subsidy, chain_per_th, crossed) = chain
    no_boundary = diff_end == diff and chain_h_end < min(
        epoch_start + 2016, (np.floor(h / HALVING_BLOCKS) + 1) * HALVING_BLOCKS)
    if quiet:
        assert (blocks, subsidy, per_th, h_end) == (
            chain_blocks, chain_subsidy, chain_per_th, chain_h_end)
        assert (halvings_end > np.floor(h / HALVING_BLOCKS)) == crossed
    assert quiet or not no_boundary
