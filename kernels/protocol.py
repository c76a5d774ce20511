"""Bitcoin's consensus constants and the unit conversions of the chain model, declared once.

``kernels.chain`` (the jitted chain), ``kernels.reference`` (the same chain in NumPy) and
``fleetcalc.network`` (difficulty and hashprice formulas) all read them from here. Plain Python
on purpose: importing this module loads neither NumPy nor Numba.

Numba freezes module globals into the compiled code, and its on-disk cache only notices edits
to the kernel's own file: after changing a value here, clear ``NUMBA_CACHE_DIR``.
"""

from __future__ import annotations

# Time.
SECONDS_PER_DAY = 86_400.0
TARGET_BLOCK_SPACING_S = 600.0  # one block every ten minutes at the difficulty's hashrate

# Difficulty retargets every 2016 blocks by (two weeks / the time the epoch took), clamped.
RETARGET_BLOCKS = 2016
RETARGET_TIMESPAN_S = RETARGET_BLOCKS * TARGET_BLOCK_SPACING_S  # 1,209,600 s
RETARGET_MIN_FACTOR = 0.25
RETARGET_MAX_FACTOR = 4.0

# Subsidy: 50 BTC in satoshis, an integer right shift per 210,000 blocks; zero from the 64th
# halving on (a shift by 64 bits or more).
HALVING_BLOCKS = 210_000
INITIAL_SUBSIDY_SATS = 50 * 10**8
SUBSIDY_HALVINGS = 64
SATS_PER_BTC = 1e8

# Expected hashes per block at difficulty D: D * 2**32 (the convention of pools and hashprice
# indices; the exact figure is D * 2**48 / 0xFFFF, 15 ppm more).
HASHES_PER_DIFFICULTY = 2.0**32
HASHES_PER_S_PER_TH_S = 1e12  # one TH/s
HASHES_PER_S_PER_EH_S = 1e18  # one EH/s
