"""Calibrate the responsive network on 2024-2026 and backtest it against published difficulty.

    PYTHONPATH=. python -m benchmarks.backtest_network          # the backtest table (markdown)
    PYTHONPATH=. python -m benchmarks.backtest_network --fit    # re-fit, print the parameters

History (``benchmarks/data/network_history.csv``, every row with its source): dated BTC prices,
difficulties, block heights and fees per block, 2024-01 to 2026-10. The BTC price between dated
prices is interpolated in log (fees linearly), so the model sees the actual price path at the
resolution the sources give.

The fit minimises the root mean square of ln(simulated / published difficulty) over the dated
difficulties after the start, by a grid over the discrete parameters (order lag, response days)
and Nelder-Mead over the continuous ones (median power price and its log spread, the supply
rate, the target payback) in log space. Fixed, not fitted: capex per TH, service life and the
frontier (sourced or labelled in ``fleetcalc.tiers``).

Two backtests, reported side by side with the exogenous model:

- **in sample**: parameters fitted on the whole history, run from 2024-01-05;
- **out of sample**: parameters fitted on 2024 only (the dated points up to 2025-01-01), run
  from the published state on 2025-01-01 (difficulty 109.78 T, the 2025-01-01 tier snapshot)
  with the actual price path, compared with every later published difficulty; the exogenous
  model starts from the same state with hashrate growth fitted (log-linear) on the dated
  difficulties of the year before.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from fleetcalc.errors import InputError
from fleetcalc.network import hashrate_from_difficulty, responsive_inputs
from fleetcalc.scenario import BtcMarket, Network, Scenario
from kernels.responsive_reference import RESPONSIVE_FIELDS

HISTORY = Path(__file__).resolve().parent / "data" / "network_history.csv"
POOL_FEE = 0.02  # as the default scenario: FPPS, large US fleet (facts 4)
FIT_START = dt.date(2024, 1, 5)
OUT_OF_SAMPLE_START = dt.date(2025, 1, 1)
# 2025-01-01: difficulty 109.78 T was set at block 876,960 on 2024-12-29 (the retarget before
# block 878,976 of 2025-01-12); three days at ~144 blocks a day later.
OUT_OF_SAMPLE_HEIGHT = 877_390


# A parameter set: Network fields that differ from the shipped defaults (the in-sample fit).
Params = dict[str, float]
CONTINUOUS = ("power_median_usd_per_kwh", "supply_ehs_per_month", "target_payback_days")
LAGS_DAYS = (60, 90, 120, 180)
RESPONSE_DAYS = (7.0, 14.0, 30.0, 45.0, 60.0)


@dataclass(frozen=True)
class History:
    prices: list[tuple[dt.date, float]]
    difficulties: list[tuple[dt.date, float]]  # T (1e12)
    heights: list[tuple[dt.date, int]]
    fees: list[tuple[dt.date, float]]


def load_history(path: Path = HISTORY) -> History:
    columns: dict[str, list[tuple[dt.date, float]]] = {
        "btc_usd": [], "difficulty_t": [], "height": [], "fees_btc_per_block": []}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["date"])
            for key, points in columns.items():
                if row[key].strip():
                    points.append((day, float(row[key])))
    heights = [(d, int(v)) for d, v in columns["height"]]
    return History(columns["btc_usd"], columns["difficulty_t"], heights,
                   columns["fees_btc_per_block"])


def daily(points: list[tuple[dt.date, float]], start: dt.date, n_days: int,
          log: bool) -> np.ndarray:
    """Values on each day from ``start``, interpolated between dated points (in log when
    ``log``), held flat outside them."""
    x = np.array([(d - start).days for d, _ in points], dtype=float)
    y = np.array([v for _, v in points], dtype=float)
    days = np.arange(n_days, dtype=float)
    if log:
        return np.exp(np.interp(days, x, np.log(y)))
    return np.interp(days, x, y)


def backtest_scenario(
    params: Params, start: dt.date, end: dt.date, price0: float, fees0: float,
    difficulty0: float, height0: int,
) -> Scenario:
    """A responsive scenario from the published state on ``start``."""
    network = Network(model="responsive", hashrate_ehs=hashrate_from_difficulty(difficulty0),
                      difficulty=difficulty0, block_height=height0, pool_fee=POOL_FEE,
                      fees_btc_per_block=fees0, **params)
    return Scenario(start_date=start, horizon_days=(end - start).days + 1,
                    btc=BtcMarket(price_usd=price0), network=network, source="backtest")


def run_responsive(
    params: Params, history: History, start: dt.date, end: dt.date, difficulty0: float,
    height0: int,
) -> dict[str, np.ndarray]:
    """The jitted responsive chain from ``start`` with the actual price and fee paths (one
    path), its installed base, cohorts and parameters as the product builds them."""
    from kernels.responsive import simulate_responsive

    n_days = (end - start).days + 1
    price = daily(history.prices, start, n_days, log=True)[None, :]
    fees = daily(history.fees, start, n_days, log=False)
    scenario = backtest_scenario(params, start, end, float(price[0, 0]), float(fees[0]),
                                 difficulty0, height0)
    out = {name: np.empty((1, n_days)) for name in RESPONSIVE_FIELDS}
    halving_day = np.empty(1, dtype=np.int64)
    simulate_responsive(np.ascontiguousarray(price), np.ones((1, n_days)), fees,
                           **responsive_inputs(scenario), **out,
                           halving_day=halving_day)
    return out


def run_exogenous(
    annual_growth: float, start: dt.date, end: dt.date, difficulty0: float, height0: int
) -> np.ndarray:
    """Daily difficulty of the exogenous model: hashrate from the start difficulty's, grown
    at ``annual_growth``."""
    from kernels.chain import CHAIN_FIELDS, simulate_chain_nb

    n_days = (end - start).days + 1
    hashrate0 = hashrate_from_difficulty(difficulty0)
    days = np.arange(n_days, dtype=float)
    hashrate = (hashrate0 * np.exp(math.log1p(annual_growth) / 365.0 * days))[None, :]
    out = {name: np.empty((1, n_days)) for name in CHAIN_FIELDS}
    simulate_chain_nb(np.ascontiguousarray(hashrate), difficulty0, height0, 0.0, *out.values(),
                      np.empty(1, dtype=np.int64))
    return out["difficulty"][0]


def points_between(points: list[tuple[dt.date, float]], first: dt.date,
                   last: dt.date) -> list[tuple[dt.date, float]]:
    return [(d, v) for d, v in points if first < d <= last]


def log_errors(difficulty: np.ndarray, start: dt.date,
               points: list[tuple[dt.date, float]]) -> np.ndarray:
    """ln(simulated / published) at each dated difficulty (published in T)."""
    return np.array([math.log(difficulty[(d - start).days] / (v * 1e12)) for d, v in points])


def fitted_growth(history: History, start: dt.date) -> float:
    """Annual growth of a log-linear fit to the dated difficulties of the year up to ``start``."""
    window = [(d, v) for d, v in history.difficulties
              if start - dt.timedelta(days=366) <= d <= start]
    x = np.array([(d - start).days / 365.0 for d, _ in window])
    slope = np.polyfit(x, np.log([v for _, v in window]), 1)[0]
    return math.expm1(slope)


def _objective(params: Params, history: History, start: dt.date, end: dt.date,
               difficulty0: float, height0: int) -> float:
    points = points_between(history.difficulties, start, end)
    try:
        out = run_responsive(params, history, start, end, difficulty0, height0)
    except InputError:  # nothing online on day 0: a parameter set far off
        return 1e9
    errors = log_errors(out["difficulty"][0], start, points)
    value = float(np.sqrt(np.mean(errors**2)))
    return value if math.isfinite(value) else 1e9


def _nelder_mead(f, x0: np.ndarray, step: float = 0.25, iterations: int = 300) -> np.ndarray:
    """Minimise ``f`` from ``x0`` (plain Nelder-Mead; the fit has no SciPy dependency)."""
    simplex = [x0] + [x0 + step * np.eye(len(x0))[i] for i in range(len(x0))]
    values = [f(x) for x in simplex]
    for _ in range(iterations):
        order = np.argsort(values)
        simplex = [simplex[i] for i in order]
        values = [values[i] for i in order]
        centroid = np.mean(simplex[:-1], axis=0)
        reflected = centroid + (centroid - simplex[-1])
        fr = f(reflected)
        if fr < values[0]:
            expanded = centroid + 2.0 * (centroid - simplex[-1])
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = centroid + 0.5 * (simplex[-1] - centroid)
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                simplex = [simplex[0] + 0.5 * (x - simplex[0]) for x in simplex]
                values = [f(x) for x in simplex]
    return simplex[int(np.argmin(values))]


def fit(history: History, start: dt.date, end: dt.date, difficulty0: float,
        height0: int) -> tuple[Params, float]:
    """Parameters minimising the RMS log difficulty error over the dated points in
    (start, end]: a grid over the order lag and the response time, Nelder-Mead (restarted
    once) over ``CONTINUOUS`` from the shipped defaults."""
    defaults = {f.name: f.default for f in fields(Network)}
    best: tuple[float, Params] = (math.inf, {})
    for lag in LAGS_DAYS:
        for response in RESPONSE_DAYS:
            grid = {"order_lag_days": lag, "online_response_days": response}

            def f(x: np.ndarray, grid: Params = grid) -> float:
                trial = {**grid, **dict(zip(CONTINUOUS, np.exp(x).tolist(), strict=True))}
                return _objective(trial, history, start, end, difficulty0, height0)

            x = _nelder_mead(f, np.log([defaults[k] for k in CONTINUOUS]))
            x = _nelder_mead(f, x, step=0.1)  # a restart: the surface has shallow pockets
            value = f(x)
            if value < best[0]:
                best = (value, {**grid, **dict(zip(CONTINUOUS, np.exp(x).tolist(),
                                                   strict=True))})
    return best[1], best[0]


# The fits of ``--fit``: in sample, the shipped defaults of fleetcalc.scenario.Network (no
# override); on 2024 only, these (rounded), so the table runs in a second.
IN_SAMPLE: Params = {}
FIT_ON_2024: Params = {"power_median_usd_per_kwh": 0.04007, "online_response_days": 7.0,
                       "target_payback_days": 326.2, "supply_ehs_per_month": 31.94,
                       "order_lag_days": 180}


def backtest_table(history: History, in_sample: Params, out_of_sample: Params) -> str:
    """The markdown table of published against simulated difficulty, and the error summary."""
    end = history.difficulties[-1][0]
    d_fit0 = dict(history.difficulties)[FIT_START] * 1e12
    d_oos0 = dict(history.difficulties)[OUT_OF_SAMPLE_START] * 1e12
    fit_run = run_responsive(in_sample, history, FIT_START, end, d_fit0,
                             dict(history.heights)[FIT_START])["difficulty"][0]
    oos_run = run_responsive(out_of_sample, history, OUT_OF_SAMPLE_START, end, d_oos0,
                             OUT_OF_SAMPLE_HEIGHT)["difficulty"][0]
    growth = fitted_growth(history, OUT_OF_SAMPLE_START)
    exo_run = run_exogenous(growth, OUT_OF_SAMPLE_START, end, d_oos0, OUT_OF_SAMPLE_HEIGHT)
    lines = ["| date | published (T) | responsive, in sample | responsive, out of sample | "
             "exogenous, out of sample |", "|---|---|---|---|---|"]
    errors: dict[str, list[float]] = {"in": [], "oos": [], "exo": []}

    def cell(run: np.ndarray, start: dt.date, day: dt.date, value: float, key: str) -> str:
        simulated = run[(day - start).days] / 1e12
        error = math.log(simulated / value)
        errors[key].append(error)
        return f"{simulated:.1f} ({100 * math.expm1(error):+.1f}%)"

    for day, value in points_between(history.difficulties, FIT_START, end):
        row = [day.isoformat(), f"{value:.2f}", cell(fit_run, FIT_START, day, value, "in")]
        if day > OUT_OF_SAMPLE_START:
            row += [cell(oos_run, OUT_OF_SAMPLE_START, day, value, "oos"),
                    cell(exo_run, OUT_OF_SAMPLE_START, day, value, "exo")]
        else:
            row += ["", ""]
        lines.append("| " + " | ".join(row) + " |")

    def summary(key: str) -> str:
        e = np.array(errors[key])
        return (f"RMS {100 * math.sqrt(float(np.mean(e**2))):.1f}%, "
                f"worst {100 * math.expm1(float(e[np.argmax(np.abs(e))])):+.1f}%")

    lines += ["", f"- responsive, in sample (fit on 2024-01-05 .. {end}, {len(errors['in'])} "
              f"points): {summary('in')}",
              f"- responsive, out of sample (fit on 2024 only, run from 2025-01-01, "
              f"{len(errors['oos'])} points): {summary('oos')}",
              f"- exogenous (growth {100 * growth:.1f}%/yr fitted on 2024, run from 2025-01-01): "
              f"{summary('exo')}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="re-fit and print the parameters")
    args = parser.parse_args()
    history = load_history()
    in_sample, out_of_sample = IN_SAMPLE, FIT_ON_2024
    if args.fit:
        d_fit0 = dict(history.difficulties)[FIT_START] * 1e12
        h_fit0 = dict(history.heights)[FIT_START]
        end = history.difficulties[-1][0]
        in_sample, rms = fit(history, FIT_START, end, d_fit0, h_fit0)
        print(f"in sample: {in_sample} (RMS {rms:.4f}); the defaults of Network")
        out_of_sample, rms = fit(history, FIT_START, OUT_OF_SAMPLE_START, d_fit0, h_fit0)
        print(f"fit on 2024: {out_of_sample} (RMS {rms:.4f})")
    print(backtest_table(history, in_sample, out_of_sample))


if __name__ == "__main__":
    main()
