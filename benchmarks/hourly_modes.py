"""Hourly prices with 3 modes against constant prices, same fleet, same process (CPU seconds).

    PYTHONPATH=. python -m benchmarks.hourly_modes [N_RIGS] [THREADS] [--same-delivery]

The single-path benchmark fleet (``benchmarks.workloads.fleet``: 100,000 rigs x 1826 days,
sampled failures), once at its constant site prices and once on the SYNTHETIC hub series
(repeated over the horizon, + USD 0.005/kWh) with eco/stock/turbo (85%/100%/115% TH/s at
75%/100%/135% W) per order. ``--same-delivery`` delivers every rig of an order on one day, as
the engine's plans do (the fleet's rigs otherwise deliver on random days over 180). Before
timing, the hourly kernel is checked against the hour-by-hour NumPy reference (1e-9 relative)
on the first ``CHECK_RIGS`` rigs over the first ``CHECK_DAYS`` days, delivered within them.
Prints the best and median CPU time of 3 runs after a warm-up, and their ratio.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from benchmarks import workloads
from fleetcalc.synthetic_prices import synthetic_prices
from kernels import hourly
from kernels.rigdays import N_DAILY, N_GROUP, scratch_shapes, simulate_rigdays

MODES = ((0.85, 0.75), (1.0, 1.0), (1.15, 1.35))  # (TH/s, W) factors: eco, stock, turbo
ADDER_USD_PER_KWH = 0.005
CHECK_RIGS = 300
CHECK_DAYS = 240
REL = 1e-9


def _raw_hours(n_days: int) -> hourly.RawHours:
    prices = synthetic_prices() / 1000.0 + ADDER_USD_PER_KWH
    days = np.resize(prices.reshape(-1, 24), (n_days, 24))[None]
    off = np.zeros(days.shape, dtype=bool)
    return hourly.RawHours(days, days, np.zeros_like(days), off, off)


def _power(kwargs: dict, n_days: int) -> hourly.PowerInputs:
    raw = _raw_hours(n_days)
    units = np.array(workloads.ORDER_UNITS)
    hashrate = np.array([u[0] * h for u in units for h, _ in MODES])
    power_w = np.array([u[1] * w for u in units for _, w in MODES])
    n = kwargs["hashrate_th"].shape[0]
    return hourly.PowerInputs(
        hourly.prepare_site_hours(raw), np.zeros(n, np.int64),
        (kwargs["group"] * len(MODES)).astype(np.int64), np.full(n, len(MODES), np.int64),
        hashrate, power_w, np.tile(np.arange(len(MODES), dtype=np.int64), len(units)),
        len(MODES))


def _runner(kwargs: dict, n_groups: int, threads: int, power: hourly.PowerInputs | None):
    n_rigs = kwargs["hashrate_th"].shape[0]
    n_paths, n_days = kwargs["btc_per_th_day"].shape
    daily = np.empty((n_paths, N_DAILY, n_days))
    groups = np.empty((n_paths, n_groups, N_GROUP))
    day_shape, group_shape = scratch_shapes(n_rigs, n_paths, n_days, n_groups)
    day_acc, group_acc = np.empty(day_shape), np.empty(group_shape)
    buffers = (None if power is None else
               hourly.power_buffers(power, day_shape[0], n_paths, n_days, n_groups))

    def run() -> None:
        simulate_rigdays(**kwargs, daily_out=daily, group_out=groups, day_acc=day_acc,
                         group_acc=group_acc, threads=threads, power=power,
                         power_buffers=buffers)
    run.outputs = (daily, groups) + (() if buffers is None else (buffers.daily_out,
                                                                  buffers.group_out))
    return run


def _check_against_reference(on_hours: dict, n_groups: int) -> None:
    """The hourly kernel == the hour-by-hour reference on a sub-sample (raises if not)."""
    from benchmarks.workloads import subsample
    from kernels.reference import simulate_rigdays_reference

    small = subsample(on_hours, CHECK_RIGS)
    small["btc_per_th_day"] = np.ascontiguousarray(small["btc_per_th_day"][:, :CHECK_DAYS])
    small["price_usd"] = np.ascontiguousarray(small["price_usd"][:, :CHECK_DAYS])
    small["delivery_day"] = small["delivery_day"] % (CHECK_DAYS // 2)
    small["retire_day"] = np.minimum(small["retire_day"], CHECK_DAYS)
    power = _power(small, CHECK_DAYS)
    runner = _runner(small, n_groups, 1, power)
    runner()
    expected = simulate_rigdays_reference(**small, n_groups=n_groups, power=power,
                                          raw_hours=_raw_hours(CHECK_DAYS))
    for actual, want in zip(runner.outputs, expected, strict=True):
        np.testing.assert_allclose(actual, want, rtol=REL,
                                   atol=1e-12 * (1 + np.abs(want).max()))


def _cpu_seconds(run, runs: int = 3) -> tuple[float, float]:
    run()
    times = []
    for _ in range(runs):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times), float(np.median(times))


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    n_rigs = int(args[0]) if args else 100_000
    threads = int(args[1]) if len(args) > 1 else 1
    kwargs, n_groups = workloads.fleet(n_rigs)
    if "--same-delivery" in argv:
        kwargs["delivery_day"] = (kwargs["group"] * 30).astype(np.int64)
    n_days = kwargs["btc_per_th_day"].shape[1]
    on_hours = dict(kwargs, energy_usd_per_kwh=np.ones(n_rigs))
    _check_against_reference(on_hours, n_groups)
    constant = _cpu_seconds(_runner(kwargs, n_groups, threads, None))
    hourly_modes = _cpu_seconds(_runner(on_hours, n_groups, threads, _power(kwargs, n_days)))
    print(f"constant prices: {constant[0]:.3f} s (median {constant[1]:.3f})")
    print(f"hourly, 3 modes: {hourly_modes[0]:.3f} s (median {hourly_modes[1]:.3f})")
    print(f"ratio (best): {hourly_modes[0] / constant[0]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
