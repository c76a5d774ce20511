"""Counter-based random numbers: a pure function of (seed, stream, path, item, counter).

Each draw hashes its own coordinates with the SplitMix64 finalizer (Steele, Lea & Flood 2014,
the mixer behind ``java.util.SplittableRandom``), so no generator state is shared between rigs,
paths or threads. A rig's k-th failure time is the same number whichever thread simulates it,
however the rigs are chunked and whichever other plans are in the batch.

Two implementations of one function: ``uniform_nb`` (jitted, scalar, for the kernel) and
``uniform_np`` (vectorised NumPy, for the reference and for the market paths in
``fleetcalc.network``). They are bit-identical: ``tests/test_rng.py`` checks both against a
plain Python transcription of the hash, and the mixer against SplitMix64's published outputs.
"""

from __future__ import annotations

import numpy as np

from kernels._jit import jit

# Streams keep independent uses of the generator apart.
STREAM_FAILURE = 1
STREAM_PRICE = 2
STREAM_HASHRATE = 3
STREAM_PRICE_AUX = 4
STREAM_HASHRATE_AUX = 5
# Monthly factors on the responsive network's orders of new machines.
STREAM_ORDERS = 6
STREAM_ORDERS_AUX = 7

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_POW_M53 = 2.0**-53


@jit()
def _mix64_nb(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit()
def uniform_nb(seed: int, stream: int, path: int, item: int, counter: int) -> float:
    """One uniform draw in (0, 1] for the given coordinates: the hash's top 53 bits plus one
    half, times 2**-53 (1.0 only when those bits are all ones, as x + 0.5 rounds up to 2**53;
    -log of it is then 0, an immediate failure, not an error)."""
    key = _mix64_nb(np.uint64(seed) * _GOLDEN + np.uint64(stream))
    key = _mix64_nb(key ^ np.uint64(path))
    key = _mix64_nb((key + _GOLDEN) ^ np.uint64(item))
    key = _mix64_nb((key + _GOLDEN) ^ np.uint64(counter))
    return (np.float64(key >> _S11) + 0.5) * _TWO_POW_M53


def _mix64_np(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def uniform_np(seed: int, stream: int, path, item, counter) -> np.ndarray:
    """Vectorised ``uniform_nb``: ``path``, ``item`` and ``counter`` broadcast as int arrays.

    Integer arrays wrap on overflow without a warning, which is what the hash relies on.
    """
    path, item, counter = np.broadcast_arrays(
        np.asarray(path, dtype=np.int64), np.asarray(item, dtype=np.int64),
        np.asarray(counter, dtype=np.int64),
    )
    base = np.array([seed], dtype=np.int64).astype(np.uint64) * _GOLDEN + np.uint64(stream)
    key = _mix64_np(base)
    key = _mix64_np(key ^ path.astype(np.uint64))
    key = _mix64_np((key + _GOLDEN) ^ item.astype(np.uint64))
    key = _mix64_np((key + _GOLDEN) ^ counter.astype(np.uint64))
    return ((key >> _S11).astype(np.float64) + 0.5) * _TWO_POW_M53


def standard_normal_np(seed: int, stream: int, aux_stream: int, path, counter) -> np.ndarray:
    """Standard normal draws by Box-Muller from two counter-based uniforms."""
    u1 = uniform_np(seed, stream, path, 0, counter)
    u2 = uniform_np(seed, aux_stream, path, 0, counter)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
