"""The counter-based generator of ``kernels.rng``: its jitted and NumPy forms against a plain
Python transcription of the same hash, bit for bit, and the mixer against SplitMix64's
published outputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kernels.rng import uniform_nb, uniform_np

MASK_64 = 2**64 - 1
GOLDEN = 0x9E3779B97F4A7C15
# The first outputs of SplitMix64 seeded with 0 (Steele, Lea & Flood 2014; the values of
# java.util.SplittableRandom and of Vigna's splitmix64.c).
SPLITMIX64_SEED_0 = (0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F)

INT64 = st.integers(-(2**63), 2**63 - 1)
SEEDS = st.integers(0, 2**63 - 1)
STREAMS = st.integers(0, 2**31)


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK_64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK_64
    return z ^ (z >> 31)


def uniform_py(seed: int, stream: int, path: int, item: int, counter: int) -> float:
    """The hash written with Python integers: coordinates as 64-bit two's complement."""
    key = mix64((seed * GOLDEN + stream) & MASK_64)
    key = mix64(key ^ (path & MASK_64))
    key = mix64(((key + GOLDEN) & MASK_64) ^ (item & MASK_64))
    key = mix64(((key + GOLDEN) & MASK_64) ^ (counter & MASK_64))
    return (float(key >> 11) + 0.5) * 2.0**-53


def test_the_mixer_gives_splitmix64s_published_outputs() -> None:
    # SplitMix64 adds GOLDEN to its state, then mixes: output k is mix64(k * GOLDEN).
    assert tuple(mix64(k * GOLDEN & MASK_64) for k in (1, 2, 3)) == SPLITMIX64_SEED_0


@given(SEEDS, STREAMS, INT64, INT64, INT64)
def test_jitted_numpy_and_python_draws_are_bit_identical(
    seed: int, stream: int, path: int, item: int, counter: int,
) -> None:
    expected = uniform_py(seed, stream, path, item, counter)
    jitted = uniform_nb(seed, stream, path, item, counter)
    vectorised = uniform_np(seed, stream, path, item, counter)
    assert vectorised.shape == (1,)
    assert jitted.hex() == expected.hex()
    assert float(vectorised[0]).hex() == expected.hex()
    # Half a unit above the truncated hash, times 2**-53: 1.0 only when the hash's top 53 bits
    # are all ones (x + 0.5 rounds up to 2**53 there), a 2**-53 chance.
    assert 0.0 < expected <= 1.0


@given(SEEDS, STREAMS, st.lists(INT64, min_size=1, max_size=4),
       st.lists(INT64, min_size=1, max_size=4), st.integers(0, 2**40))
def test_numpy_draws_broadcast_like_scalar_jitted_draws(
    seed: int, stream: int, paths: list[int], items: list[int], counter: int,
) -> None:
    # As the reference and the market paths call it: paths down, items across.
    grid = uniform_np(seed, stream, np.array(paths)[:, None], np.array(items), counter)
    expected = [[uniform_nb(seed, stream, p, i, counter) for i in items] for p in paths]
    assert grid.tobytes() == np.array(expected).tobytes()
