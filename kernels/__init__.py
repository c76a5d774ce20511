"""Numba kernels of fleetcalc: arrays in, arrays out; no polars, no I/O.

Only :mod:`fleetcalc.engine` calls the jitted functions. ``kernels.reference`` holds the same
model written plainly with NumPy, the oracle for tests and the baseline for benchmarks.
"""
