"""Results pinned bit for bit: the default plans, a Monte Carlo scenario with sampled failures
and the benchmark fleets, each column of each frame reduced to a SHA-256 of its bytes.

A refactor must leave every pinned digest as it is. A change of the model is a deliberate act:
regenerate with ``PYTHONPATH=. python -m tests.pins.cases --write`` and say in the commit which
numbers moved and why. Columns added after a pin was taken are not checked (new metrics do not
disturb old ones); a pinned column that disappears fails.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

PINS_FILE = Path(__file__).with_name("pins.json")
FRAMES = ("summary", "daily", "orders", "tariff_lines", "paths", "market")


def column_digest(series: pl.Series) -> str:
    """SHA-256 of a column: numbers by their float64/int64 bytes, anything else by its text."""
    if series.dtype.is_numeric() or series.dtype == pl.Boolean:
        data = series.cast(pl.Float64).to_numpy()
        data = np.where(np.isnan(data), np.nan, data)  # one NaN bit pattern
        payload = np.ascontiguousarray(data, dtype=np.float64).tobytes()
    else:
        payload = "\x1f".join("<null>" if v is None else str(v) for v in series.to_list()).encode()
    return hashlib.sha256(payload).hexdigest()


def frame_digests(frame: pl.DataFrame) -> dict[str, str]:
    return {name: column_digest(frame[name]) for name in frame.columns}


def _results_digests(results) -> dict[str, dict[str, str]]:
    return {name: frame_digests(getattr(results, name)) for name in FRAMES}


def default_plans_case() -> dict[str, dict[str, str]]:
    import fleetcalc

    return _results_digests(fleetcalc.evaluate())


LEGACY_PLANS = Path(__file__).with_name("legacy_plans")


def legacy_plans_case() -> dict[str, dict[str, str]]:
    """The four default plans as shipped before sites were priced by the megawatt and resale
    followed the market (issue 13): no site field of that issue, ``residual_fraction`` (so a
    fixed resale). Their digests are the default plans' pins of that time, so a plan that names
    none of the new fields keeps its results bit for bit."""
    import fleetcalc

    return _results_digests(fleetcalc.evaluate(sorted(LEGACY_PLANS.glob("*.toml"))))


def monte_carlo_sampled_case() -> dict[str, dict[str, str]]:
    import fleetcalc
    from fleetcalc.scenario import load_scenario

    scenario = load_scenario(None)
    scenario = scenario.with_changes(
        paths=24, seed=11, horizon_days=900, failures="sampled",
        btc=dataclasses.replace(scenario.btc, annual_volatility=0.6),
    )
    return _results_digests(fleetcalc.evaluate(None, scenario))


def benchmark_fleets_case() -> dict[str, dict[str, str]]:
    """The kernel on the benchmark fleets (smaller): one path, sampled; four paths; every rig
    its own power price."""
    from benchmarks import workloads
    from tests.kernel_cases import run_kernel

    out = {}
    cases = {
        "single_path_sampled": dict(n_rigs=3000, n_paths=1),
        "four_paths_expected": dict(n_rigs=600, n_paths=4, sampled=False),
        "distinct_sites": dict(n_rigs=1500, n_paths=2, distinct_sites=True),
    }
    for name, kwargs in cases.items():
        arrays, n_groups = workloads.fleet(**kwargs)
        daily, groups = run_kernel(arrays, n_groups)
        out[name] = {
            "daily": hashlib.sha256(np.ascontiguousarray(daily).tobytes()).hexdigest(),
            "groups": hashlib.sha256(np.ascontiguousarray(groups).tobytes()).hexdigest(),
        }
    return out


CASES: dict[str, Callable[[], dict[str, dict[str, str]]]] = {
    "default_plans": default_plans_case,
    "legacy_plans": legacy_plans_case,
    "monte_carlo_sampled": monte_carlo_sampled_case,
    "benchmark_fleets": benchmark_fleets_case,
}


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python -m tests.pins.cases --write", file=sys.stderr)
        return 2
    pins = {name: case() for name, case in CASES.items()}
    PINS_FILE.write_text(json.dumps(pins, indent=1, sort_keys=True) + "\n")
    print(f"wrote {PINS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
