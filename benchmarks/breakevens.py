"""evaluate() with breakevens against without, in one run: the 100,000-rig, 5-year plan with
sampled failures (one path), and the default plans with 200 paths.

    python -m benchmarks.breakevens

Prints the median wall time of each and the ratio with / without (the Performance issue asks
<= 2x on both).
"""

from __future__ import annotations

import statistics
import time

import fleetcalc
from fleetcalc.plan import default_plans

RUNS = 5


def _median_s(fn) -> float:
    fn()  # warm-up: compiles and pages in
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ratio(label: str, plans, scenario) -> None:
    with_s = _median_s(lambda: fleetcalc.evaluate(plans, scenario))
    without_s = _median_s(lambda: fleetcalc.evaluate(plans, scenario, breakevens=False))
    print(f"{label}: with {with_s * 1e3:.0f} ms, without {without_s * 1e3:.0f} ms, "
          f"ratio {with_s / without_s:.2f}x")


def main() -> None:
    base = fleetcalc.load_scenario(None)
    plan = default_plans()[0]
    big = plan.with_order(0, quantity=100_000)
    _ratio("100k rigs, 5 years, sampled failures",
           [big], base.with_changes(failures="sampled", horizon_days=5 * 365))
    _ratio("default plans, 200 paths", None, base.with_changes(paths=200))


if __name__ == "__main__":
    main()
