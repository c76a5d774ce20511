"""The responsive network's installed base and new machines: scenario -> the chain's arrays.

``fleetcalc/data/network_tiers.csv`` holds dated snapshots of the network's installed hashrate
by efficiency tier (J/TH, share of installed EH/s, the window the tier's machines were
installed in), each row derived from a named source or labelled an assumption. A scenario
starting on day S uses the latest snapshot dated on or before S:

- each tier's machines were installed evenly over its window and retire ``service_life_years``
  after installation, so the share still installed on a date x is ``R(x) / R(as_of)`` with
  ``R(x) = clip((installed_to + life - x) / (installed_to - installed_from), 0, 1)``; a tier
  wholly past its service life at the snapshot date is gone;
- the tiers are scaled together so that on day 0 the machines online (``online_share`` at day
  0's hashprice) make the scenario's ``hashrate_ehs`` (the chain scales them per path, at the
  path's own day-0 price);
- new machines are ordered in yearly cohorts from the start: orders of year c (days
  365c .. 365c + 364) are machines of ``frontier_j_per_th * (1 - improvement) ** c``, the
  frontier improving a step a year as makers release a generation a year; the orders in flight
  at the start are the first cohort's.

The default frontier is 17.5 J/TH on 2024-01-01 (Antminer S21, shipping from January 2024,
asics.csv) improving 10% a year, which gives 15.0 J/TH in mid-2025 (S21 XP 13.5, S21 Pro 15.0,
S21+ 16.5) and 13.4 in mid-2026 (S21 XP Hyd 12.0, S23 11.0, M70S 13.5): the efficiency of the
machines being delivered in volume, not of the single best model.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import polars as pl

from fleetcalc.catalog import DataFileError, read_data_csv
from fleetcalc.errors import InputError

NETWORK_TIERS_SCHEMA: dict[str, pl.DataType] = {
    "as_of": pl.Date(),
    "tier": pl.String(),
    "j_per_th": pl.Float64(),
    "share": pl.Float64(),  # of the installed EH/s on as_of; a snapshot's shares sum to 1
    "installed_from": pl.Date(),
    "installed_to": pl.Date(),
    "status": pl.String(),  # "observed", "derived" or "assumption"
    "source": pl.String(),
}
TIER_STATUSES = ("observed", "derived", "assumption")
# A snapshot's shares are rounded to 4 decimals in the file.
_SHARE_SUM_TOL = 0.001
FRONTIER_REFERENCE_DATE = dt.date(2024, 1, 1)
FRONTIER_REFERENCE_J_PER_TH = 17.5
DAYS_PER_YEAR = 365.25
# Orders of one cohort: a year of order days.
COHORT_DAYS = 365


@functools.cache
def load_network_tiers() -> pl.DataFrame:
    """The shipped tier snapshots, schema ``NETWORK_TIERS_SCHEMA``, checked."""
    name = "network_tiers.csv"
    frame = read_data_csv(name, NETWORK_TIERS_SCHEMA)
    rules = (
        (pl.col("j_per_th") <= 0.0, "j_per_th must be > 0"),
        ((pl.col("share") <= 0.0) | (pl.col("share") > 1.0), "share must be in (0, 1]"),
        (pl.col("installed_from") > pl.col("installed_to"),
         "installed_from must not be after installed_to"),
        (pl.col("installed_to") > pl.col("as_of"), "installed_to must not be after as_of"),
        (~pl.col("status").is_in(TIER_STATUSES), f"status must be one of {TIER_STATUSES}"),
        (pl.col("source").str.strip_chars().str.len_chars() == 0, "source must be non-empty"),
    )
    for bad, rule in rules:
        offenders = frame.filter(bad.fill_null(True))
        if offenders.height:
            raise DataFileError(f"{name}: {rule}; offending tiers: {offenders['tier'].to_list()}")
    sums = frame.group_by("as_of").agg(pl.col("share").sum())
    off = sums.filter((pl.col("share") - 1.0).abs() > _SHARE_SUM_TOL)
    if off.height:
        raise DataFileError(f"{name}: shares of a snapshot must sum to 1; "
                            f"offending as_of: {off['as_of'].to_list()}")
    return frame


@dataclass(frozen=True)
class TierSnapshot:
    """One dated snapshot: the installed base by tier (shares normalised to sum to 1)."""

    as_of: dt.date
    j_per_th: np.ndarray
    share: np.ndarray
    installed_from: tuple[dt.date, ...]
    installed_to: tuple[dt.date, ...]


def snapshot_dates() -> list[dt.date]:
    """Dates of the shipped snapshots, oldest first."""
    return sorted(load_network_tiers()["as_of"].unique().to_list())


@functools.lru_cache(maxsize=64)
def tier_snapshot(on: dt.date) -> TierSnapshot | None:
    """The latest shipped snapshot dated on or before ``on`` (None if there is none)."""
    dates = [d for d in snapshot_dates() if d <= on]
    if not dates:
        return None
    rows = load_network_tiers().filter(pl.col("as_of") == dates[-1])
    share = rows["share"].to_numpy()
    return TierSnapshot(dates[-1], rows["j_per_th"].to_numpy(), share / share.sum(),
                        tuple(rows["installed_from"]), tuple(rows["installed_to"]))


def check_start_date(start: dt.date, source: str) -> TierSnapshot:
    """The snapshot a responsive scenario starting on ``start`` uses; InputError on
    ``start_date`` when none is dated on or before it."""
    snapshot = tier_snapshot(start)
    if snapshot is None:
        first = snapshot_dates()[0]
        raise InputError(source, "start_date", start.isoformat(),
                         f"a date on or after {first.isoformat()} with network.model = "
                         "'responsive' (its first installed-base snapshot, "
                         "fleetcalc/data/network_tiers.csv)")
    return snapshot


def remaining_share(
    installed_from: dt.date, installed_to: dt.date, life_days: float, on: np.ndarray
) -> np.ndarray:
    """Share of a tier's machines (installed evenly over the window) not yet past their
    service life on the days ``on`` (days since ``installed_from``)."""
    span = (installed_to - installed_from).days
    end = span + life_days  # the last machine's retirement, in days since installed_from
    if span == 0:
        return np.where(on < end, 1.0, 0.0)
    return np.clip((end - on) / span, 0.0, 1.0)


def start_capacity(
    snapshot: TierSnapshot, start_date: dt.date, n_days: int, service_life_years: float
) -> np.ndarray:
    """``[n_days, K]``: each tier's installed share of the snapshot's base on each day from
    ``start_date``, retirements applied (not yet scaled to the network's hashrate)."""
    life_days = service_life_years * DAYS_PER_YEAR
    out = np.empty((n_days, snapshot.j_per_th.shape[0]))
    days = np.arange(n_days, dtype=np.float64)
    for k, (first, last) in enumerate(zip(snapshot.installed_from, snapshot.installed_to,
                                          strict=True)):
        at_snapshot = remaining_share(first, last, life_days,
                                      np.array([(snapshot.as_of - first).days], dtype=float))
        if at_snapshot[0] <= 0.0:
            out[:, k] = 0.0
            continue
        on = days + (start_date - first).days
        out[:, k] = snapshot.share[k] * remaining_share(first, last, life_days, on) / at_snapshot
    return out


def default_frontier_j_per_th(on: dt.date, improvement_per_year: float) -> float:
    """Efficiency of the machines delivered in volume on a date (see the module docstring)."""
    years = (on - FRONTIER_REFERENCE_DATE).days / DAYS_PER_YEAR
    return FRONTIER_REFERENCE_J_PER_TH * (1.0 - improvement_per_year) ** years


def cohorts(
    n_days: int, lag_days: int, frontier_j_per_th: float, improvement_per_year: float
) -> tuple[np.ndarray, np.ndarray]:
    """``cohort_of_order[lag + n_days]`` (int64, by delivery day: the orders delivered on day
    j were placed on day j - lag) and ``cohort_j_per_th[C]``."""
    order_day = np.arange(lag_days + n_days) - lag_days
    cohort_of_order = (np.maximum(order_day, 0) // COHORT_DAYS).astype(np.int64)
    n_cohorts = int(cohort_of_order[-1]) + 1
    cohort_j_per_th = frontier_j_per_th * (1.0 - improvement_per_year) ** np.arange(n_cohorts)
    return cohort_of_order, cohort_j_per_th


def months_to_days(per_month: float) -> float:
    """A rate per month (30.4375 days, a year over twelve) as a rate per day."""
    return per_month * 12.0 / DAYS_PER_YEAR


def order_noise(
    seed: int, n_paths: int, n_days: int, order_volatility: float
) -> np.ndarray:
    """``[P, T]`` mean-one lognormal factors on each month's orders (one draw per path and
    month of 30 days, keyed (seed, path, month) by the counter-based generator)."""
    from kernels.rng import STREAM_ORDERS, STREAM_ORDERS_AUX, standard_normal_np

    if n_paths == 1 or order_volatility == 0.0:
        return np.ones((n_paths, n_days))
    month = np.arange(n_days) // 30
    z = standard_normal_np(seed, STREAM_ORDERS, STREAM_ORDERS_AUX,
                           np.arange(n_paths)[:, None], np.unique(month)[None, :])
    sigma = order_volatility
    factor = np.exp(sigma * z - 0.5 * sigma * sigma)
    return np.ascontiguousarray(factor[:, month])



# Below this share of the installed base online at the start, the parameters contradict the
# start's hashrate (the base would have to be a hundred times the network to make it).
MIN_START_ONLINE_SHARE = 0.01


def start_online_share(
    capacity: np.ndarray, j_per_th: np.ndarray, hashprice_usd_per_th_day: float,
    power_median_usd_per_kwh: float, power_price_log_sd: float,
) -> float:
    """Share of the base installed on day 0 (``capacity[0]``) that runs at day 0's net
    hashprice; 0 when nothing is installed."""
    from kernels.responsive_reference import online_share

    installed = float(capacity[0].sum())
    if not installed > 0.0:
        return 0.0
    online = capacity[0] * online_share(hashprice_usd_per_th_day, j_per_th,
                                        power_median_usd_per_kwh, power_price_log_sd)
    return float(online.sum()) / installed
