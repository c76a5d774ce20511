"""A SYNTHETIC hourly power price series with the price-duration shape of a Texas (ERCOT) hub.

No public hourly ERCOT file can be fetched on the machines this project is built on (the PyPI
packages named after ERCOT download from ERCOT's API at run time; none ships data), so the
shipped example ``fleetcalc/data/prices/ercot_hub_2024_SYNTHETIC.csv`` is generated here,
deterministically, and labelled SYNTHETIC in its name, its header comment-free CSV's companion
README, the plan that uses it and every assumption line. It is calibrated to published
statistics (``CALIBRATION``, each with its source):

- annual mean about USD 28/MWh: ERCOT North hub day-ahead averaged USD 27.33/MWh in 2024
  (USD 55.50 in 2023) (E3, "ERCOT Year-End Snapshot: What Changed in 2024", 2024-12-23,
  ethree.com/ercot-snapshot-2024);
- median about USD 20/MWh: "wholesale often ~USD 20/MWh" (reference dossier
  shared/reference/facts.md, ERCOT row: quorumreport / Houston Chronicle 2022);
- about 2% of hours negative: system-wide negative prices 0.3-1.5% of hours a year in
  2011-2020 (ERCOT IMM, via docslib.org/doc/7356485), more at wind and solar hubs (ERCOT West
  below zero ~8-20% of intervals in 2008, knowledgeproblem.com 2008-11-20; North hub midday
  prices ~USD 0 in late July 2024, energygps.com);
- scarcity in ~0.6% of hours, capped at USD 5,000/MWh: "scarcity pricing in 0.6% hours of
  the year" (poweringspaceshipearth.substack.com, on ERCOT 2024 system costs); price cap USD
  5,000/MWh (facts.md); near-cap prices on the evening of 2024-08-20 (8 pm the costliest
  hour of 2024) (same; vuink.com "A record-setting day in ERCOT");
- summer evening peaks: prices rise from 5 pm as solar fades (vuink.com, as above; TCAP
  2024-04: day-ahead above USD 500/MWh between 5 and 6 pm).

Hours are in Central Standard Time (UTC-06:00) all year, so every day has 24 rows.
``python -m fleetcalc.synthetic_prices`` rewrites the shipped file; a test checks that the
file is what this code makes and that its statistics are the calibrated ones.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np

YEAR = 2024
SEED = 2024
UTC_OFFSET = "-06:00"  # Central Standard Time, all year
SHIPPED = Path(__file__).with_name("data") / "prices" / "ercot_hub_2024_SYNTHETIC.csv"
PRICE_CAP_USD_PER_MWH = 5000.0
# (statistic, target, allowed range) the series is tuned to; ``series_statistics`` computes
# the same names.
CALIBRATION = {
    "mean_usd_per_mwh": (28.0, (25.0, 31.0)),
    "median_usd_per_mwh": (20.0, (18.0, 22.0)),
    "negative_share": (0.02, (0.01, 0.03)),
    "share_above_500": (0.006, (0.003, 0.01)),
    "max_usd_per_mwh": (PRICE_CAP_USD_PER_MWH, (4000.0, PRICE_CAP_USD_PER_MWH)),
}
SUMMER_MONTHS = (6, 7, 8, 9)


def _hour_grid(year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day of year (0-based), month and hour of day of every hour of ``year``."""
    days = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    day = np.repeat(np.arange(days), 24)
    hour = np.tile(np.arange(24), days)
    month = np.array([(dt.date(year, 1, 1) + dt.timedelta(days=int(d))).month for d in day])
    return day, month, hour


def synthetic_prices(year: int = YEAR, seed: int = SEED) -> np.ndarray:
    """USD/MWh for every hour of ``year`` (CST), deterministic for the seed."""
    rng = np.random.default_rng(seed)
    day, month, hour = _hour_grid(year)
    summer = np.isin(month, SUMMER_MONTHS)
    winter = np.isin(month, (12, 1, 2))
    # Base level with a seasonal swing, an evening peak (stronger in summer), a solar dip at
    # midday (spring to autumn) and a small winter morning bump.
    level = 17.0 + 5.0 * summer + 3.0 * winter
    evening = np.exp(-0.5 * ((hour - 19.0) / 2.0) ** 2) * np.where(summer, 22.0, 8.0)
    solar = np.exp(-0.5 * ((hour - 13.0) / 2.5) ** 2) * np.where(winter, 3.0, 9.0)
    morning = np.exp(-0.5 * ((hour - 7.5) / 1.5) ** 2) * np.where(winter, 6.0, 1.0)
    shape = np.maximum(level + evening - solar + morning, 2.0)
    # Day-to-day weather and hour-to-hour noise, multiplicative (AR(1) in logs).
    daily = rng.normal(0.0, 0.25, day.max() + 1)[day]
    noise = np.empty(day.size)
    noise[0] = 0.0
    shocks = rng.normal(0.0, 0.18, day.size)
    for i in range(1, day.size):
        noise[i] = 0.6 * noise[i - 1] + shocks[i]
    price = shape * np.exp(daily + noise)
    # Negative hours: windy nights and sunny spring middays.
    surplus = ((hour <= 5) | ((hour >= 10) & (hour <= 15) & ~summer & ~winter))
    negative = surplus & (rng.random(day.size) < 0.055)
    price = np.where(negative, -rng.gamma(1.5, 4.0, day.size), price)
    # Scarcity: summer late afternoons and evenings, heavy-tailed, capped.
    peak_hours = summer & (hour >= 16) & (hour <= 21)
    scarce = peak_hours & (rng.random(day.size) < 0.094)
    spike = np.minimum(450.0 * (1.0 + rng.pareto(2.5, day.size)), PRICE_CAP_USD_PER_MWH)
    price = np.where(scarce, spike, price)
    # The near-cap evening of August 20 (2024): 6 pm to 9 pm.
    aug20 = (dt.date(year, 8, 20) - dt.date(year, 1, 1)).days
    event = (day == aug20) & (hour >= 18) & (hour <= 21)
    price = np.where(event, np.array([900.0, 2500.0, PRICE_CAP_USD_PER_MWH, 1500.0])[
        np.clip(hour - 18, 0, 3)], price)
    return np.round(price, 2)


def series_statistics(usd_per_mwh: np.ndarray) -> dict[str, float]:
    """The statistics ``CALIBRATION`` names, of an hourly series."""
    return {
        "mean_usd_per_mwh": float(usd_per_mwh.mean()),
        "median_usd_per_mwh": float(np.median(usd_per_mwh)),
        "negative_share": float((usd_per_mwh < 0).mean()),
        "share_above_500": float((usd_per_mwh > 500).mean()),
        "max_usd_per_mwh": float(usd_per_mwh.max()),
    }


def csv_text(year: int = YEAR, seed: int = SEED) -> str:
    """The series as ``timestamp,usd_per_mwh`` CSV text (ISO 8601 with the CST offset)."""
    prices = synthetic_prices(year, seed)
    start = dt.datetime(year, 1, 1)
    lines = ["timestamp,usd_per_mwh"]
    for i, value in enumerate(prices):
        stamp = (start + dt.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S")
        lines.append(f"{stamp}{UTC_OFFSET},{value:.2f}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv:
        print("usage: python -m fleetcalc.synthetic_prices", file=sys.stderr)
        return 2
    SHIPPED.parent.mkdir(parents=True, exist_ok=True)
    from fleetcalc.io import write_text_atomic

    write_text_atomic(csv_text(), SHIPPED)
    stats = series_statistics(synthetic_prices())
    print(f"wrote {SHIPPED}: " + ", ".join(f"{k} {v:.4g}" for k, v in stats.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
