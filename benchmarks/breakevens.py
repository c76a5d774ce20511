"""evaluate() with breakevens against without, in one run: the 100,000-rig, 5-year plan with
sampled failures (one path), and the default plans with 200 paths (the default scenario: the
responsive network).

    python -m benchmarks.breakevens [--runs N] [--profile]

Checks first that the breakevens are there (a number on every path of every plan), then times
``evaluate()`` with and without them, alternating the two so that load from other jobs on the
machine falls on both alike, and prints the median wall and CPU time of each and their ratios
(the Performance issue asks <= 2x on both). "With" is timed twice a run: with what the
breakevens cache per scenario kept from the run before (``engine.price_response``, the
responsive network's answer to the price: an app's next edit of a plan reuses it), and
with those caches cleared first (``engine.clear_breakeven_caches``: what a new scenario
costs, the probe counted). ``--profile``: also the cumulative-time profile of one evaluation
with breakevens, and the kernel rows of each breakeven round (candidates the models of
``fleetcalc.local_models`` did not answer). Each timing also prints its median count of minor
page faults (fresh memory the process faulted in): the probe's arrays and glibc returning freed
memory to the system move the CPU ratios by tens of ms of system time from run to run, which
the fault counts show apart from the arithmetic.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import statistics
import time
from collections.abc import Callable

import numpy as np

import fleetcalc
from fleetcalc.plan import Plan, default_plans
from fleetcalc.scenario import Scenario

SAMPLED_UNITS = 100_000


def workloads() -> dict[str, tuple[list[Plan] | None, Scenario]]:
    """The two workloads of the issue, by label: (plans, scenario)."""
    base = fleetcalc.load_scenario(None)
    plan = default_plans()[0]
    # 100,000 S21 XP draw ~365 MW: a site large enough for them.
    big = plan.with_site(capacity_mw=400.0).with_order(0, quantity=SAMPLED_UNITS)
    return {
        "100k rigs, 5 years, sampled failures, 1 path":
            ([big], base.with_changes(failures="sampled", horizon_days=5 * 365)),
        "default plans, 200 paths": (None, base.with_changes(paths=200)),
    }


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _times(fn: Callable[[], object]) -> tuple[float, float, int]:
    """Wall and CPU seconds of ``fn()``, and the minor page faults it took."""
    faults, wall, cpu = _faults(), time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu, _faults() - faults


# The timed evaluations of a run: label, breakevens, whether the breakevens' per-scenario
# caches are cleared first (outside the timing).
TIMED = (("with", True, False), ("with_cleared", True, True), ("without", False, False))


def compare(plans: list[Plan] | None, scenario: Scenario, runs: int) -> dict[str, float]:
    """Median wall and CPU seconds and minor page faults of each of ``TIMED``, runs
    alternated."""
    from fleetcalc.engine import clear_breakeven_caches

    results = fleetcalc.evaluate(plans, scenario)  # warm-up: compiles and pages in
    for name in ("breakeven_btc_price_usd", "breakeven_hashprice_usd_per_ph_day"):
        if not np.isfinite(results.paths[name].to_numpy()).all():
            raise SystemExit(f"{name}: missing on some path, nothing to time")
    fleetcalc.evaluate(plans, scenario, breakevens=False)
    samples: dict[str, list[float]] = {f"{label}_{clock}": [] for label, _, _ in TIMED
                                       for clock in ("wall", "cpu", "faults")}
    for _ in range(runs):
        for label, breakevens, cleared in TIMED:
            if cleared:
                clear_breakeven_caches()
            wall, cpu, faults = _times(lambda b=breakevens: fleetcalc.evaluate(
                plans, scenario, breakevens=b))
            samples[f"{label}_wall"].append(wall)
            samples[f"{label}_cpu"].append(cpu)
            samples[f"{label}_faults"].append(faults)
    return {key: statistics.median(values) for key, values in samples.items()}


def profile(plans: list[Plan] | None, scenario: Scenario) -> None:
    """One evaluation with breakevens under cProfile, and the rows of each round."""
    import fleetcalc.engine as engine

    rows: list[int] = []
    kernel_flows = engine.kernel_flows

    def counting(*args, **kwargs):
        if kwargs.get("rows") is not None:
            rows.append(kwargs["rows"].path_index.shape[0])
        return kernel_flows(*args, **kwargs)

    engine.kernel_flows = counting
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        fleetcalc.evaluate(plans, scenario)
        profiler.disable()
    finally:
        engine.kernel_flows = kernel_flows
    print(f"  kernel rows of the breakeven rounds (per call; rows the searches' models of the "
          f"flows answered never reach the kernel): {rows}")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    for label, (plans, scenario) in workloads().items():
        t = compare(plans, scenario, args.runs)
        print(f"{label}: without {t['without_wall'] * 1e3:.0f} ms wall, "
              f"{t['without_cpu'] * 1e3:.0f} ms CPU, {t['without_faults']:.0f} page faults")
        for key, what in (("with", "with, per-scenario caches kept"),
                          ("with_cleared", "with, per-scenario caches cleared (probe counted)")):
            print(f"  {what}: {t[f'{key}_wall'] * 1e3:.0f} ms wall, ratio "
                  f"{t[f'{key}_wall'] / t['without_wall']:.2f}x; "
                  f"{t[f'{key}_cpu'] * 1e3:.0f} ms CPU, ratio "
                  f"{t[f'{key}_cpu'] / t['without_cpu']:.2f}x; "
                  f"{t[f'{key}_faults']:.0f} page faults")
        if args.profile:
            profile(plans, scenario)


if __name__ == "__main__":
    main()
