"""4CP (issue 15, Build 2): the fleet is off in the peak hour of each of June-September (the
month's highest-price hour, or the ``four_cp_peaks`` given), and a calendar year's transmission
charge is ``transmission_usd_per_kw_year`` x the mean kW drawn in the previous year's peak
hours (the units' full load when the previous summer is not simulated): the equations of
``fleetcalc.power_market``, checked on the site-hours step and through ``evaluate``."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fleetcalc
from fleetcalc.plan import Site, parse_plan
from fleetcalc.power_market import FOUR_CP_MONTHS, site_raw_hours, transmission_usd
from fleetcalc.power_prices import HourlyPrices, load_hourly_prices
from fleetcalc.scenario import load_scenario
from fleetcalc.synthetic_prices import SHIPPED

ROOT = Path(__file__).resolve().parents[1]
RATE_USD_PER_KW_YEAR = 60.0
UNITS = 100
STOCK_W = 3645.0  # antminer-s21-xp, its only allowed mode here


@st.composite
def summers(draw: st.DrawFn) -> tuple[Any, HourlyPrices]:
    """A scenario of 1-800 days starting in 2026-2027 and an hourly series covering it, with
    ties (a few distinct prices) so the first highest hour is the one to find."""
    start = draw(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)))
    days = draw(st.integers(1, 800))
    mwh = draw(hnp.arrays(np.float64, (days, 24),
                          elements=st.sampled_from([-20.0, 15.0, 40.0, 900.0, 5000.0])))
    scenario = load_scenario(None).with_changes(start_date=start, horizon_days=days)
    return scenario, HourlyPrices("prices.csv", start, mwh)


@given(summers(), st.booleans())
def test_the_peak_is_the_first_highest_hour_of_each_summer_month(summer, four_cp: bool) -> None:
    scenario, prices = summer
    site = Site(capacity_mw=1.0, power_price_series="prices.csv", four_cp=four_cp,
                transmission_usd_per_kw_year=0.0 if four_cp else RATE_USD_PER_KW_YEAR)
    raw, _ = site_raw_hours(site, prices, scenario)
    peak = raw.peak[0]
    dates = [scenario.start_date + dt.timedelta(days=i) for i in range(scenario.horizon_days)]
    months = sorted({(d.year, d.month) for d in dates if d.month in FOUR_CP_MONTHS})
    assert int(peak.sum()) == len(months)
    for year, month in months:
        days = [i for i, d in enumerate(dates) if (d.year, d.month) == (year, month)]
        marked = np.argwhere(peak[days])
        assert len(marked) == 1
        # Row-major order is clock order: the first hour at the month's highest price.
        first_highest = np.argmax(prices.usd_per_mwh[days])
        assert marked[0][0] * 24 + marked[0][1] == first_highest
    # The fleet is off in exactly the peak hours with four_cp, in none without.
    assert (raw.forced_off[0] == (peak if four_cp else np.zeros_like(peak))).all()


def test_given_peak_times_are_the_peaks_in_the_first_ones_offset() -> None:
    scenario = load_scenario(None)  # from 2026-12-01
    stamps = (dt.datetime(2027, 7, 20, 17, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
              dt.datetime(2027, 8, 1, 22, tzinfo=dt.UTC),  # 17:00 at -05:00
              dt.datetime(2040, 8, 1, 17, tzinfo=dt.UTC))  # outside the horizon
    site = Site(capacity_mw=1.0, power_usd_per_kwh=0.05, four_cp=True, four_cp_peaks=stamps)
    raw, _ = site_raw_hours(site, None, scenario)
    start = scenario.start_date
    assert [(start + dt.timedelta(days=int(d)), int(h)) for d, h in np.argwhere(raw.peak[0])] == [
        (dt.date(2027, 7, 20), 17), (dt.date(2027, 8, 1), 17)]


@given(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)), st.integers(1, 1200),
       st.integers(1, 3), st.data())
def test_a_years_charge_is_the_rate_on_last_summers_mean_peak_load(
        start: dt.date, n_days: int, n_paths: int, data: st.DataObject) -> None:
    scenario = load_scenario(None).with_changes(start_date=start, horizon_days=n_days)
    peak_days = data.draw(hnp.arrays(np.bool_, n_days))
    load_w = data.draw(hnp.arrays(np.float64, (n_paths, n_days),
                                  elements=st.floats(0.0, 1e7)))
    full_w = data.draw(hnp.arrays(np.float64, n_days, elements=st.floats(0.0, 1e7)))
    site = Site(capacity_mw=1.0, power_usd_per_kwh=0.05,
                transmission_usd_per_kw_year=RATE_USD_PER_KW_YEAR)
    charge = transmission_usd(site, scenario, load_w, peak_days, full_w)
    years = np.array([(start + dt.timedelta(days=i)).year for i in range(n_days)])
    for year in np.unique(years):
        days = years == year
        year_days = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
        last_summer = peak_days & (years == year - 1)
        if last_summer.any():
            kw = load_w[:, last_summer].mean(axis=1) / 1000.0
            # The year's charge, spread evenly over its days: a whole year pays rate x kW.
            expected = np.broadcast_to((RATE_USD_PER_KW_YEAR * kw / year_days)[:, None],
                                       charge[:, days].shape)
        else:
            expected = np.broadcast_to(RATE_USD_PER_KW_YEAR * full_w[days] / 1000.0 / year_days,
                                       charge[:, days].shape)
        np.testing.assert_allclose(charge[:, days], expected, rtol=1e-12, atol=1e-9)


def _fixed_site_plan(tmp_path: Path, four_cp: bool) -> fleetcalc.Plan:
    # A fixed contract far below the S21 XP's break-even and no sell-back: the fleet runs
    # through every hour it is allowed to, peaks included.
    series = os.path.relpath(SHIPPED, tmp_path)
    doc = {
        "name": f"fixed, four_cp={four_cp}",
        "site": {"power_usd_per_kwh": 0.04, "power_price_series": series,
                 "power_contract": "fixed", "capacity_mw": 10.0, "four_cp": four_cp,
                 "transmission_usd_per_kw_year": RATE_USD_PER_KW_YEAR},
        "orders": [{"model": "antminer-s21-xp", "quantity": UNITS, "unit_price_usd": 4000.0,
                    "origin": "US", "import_date": dt.date(2026, 12, 1),
                    "delivery_date": dt.date(2026, 12, 1)}],
    }
    return parse_plan(doc, str(tmp_path / "plan.toml"))


def _yearly(daily: pl.DataFrame, column: str) -> dict[int, float]:
    sums = daily.group_by(pl.col("date").dt.year().alias("year")).agg(pl.col(column).sum())
    return dict(sums.iter_rows())


def test_the_engine_charges_next_year_on_the_load_drawn_in_the_peaks(tmp_path: Path) -> None:
    scenario = load_scenario(None)  # 2026-12-01 + 1826 days, expected failures, one path
    results = fleetcalc.evaluate([_fixed_site_plan(tmp_path, False),
                                  _fixed_site_plan(tmp_path, True)], scenario, breakevens=False)
    runs, avoids = (results.daily.filter(pl.col("plan") == name)
                    for name in results.summary["plan"])
    # Running through the peaks: load in exactly one hour of each June-September month, on
    # the day the (repeated) series peaks that month.
    prices = load_hourly_prices(SHIPPED)
    peaks = runs.filter(pl.col("peak_hour_load_w") > 0)
    assert peaks.height == 4 * 5  # the summers of 2027-2031
    for date in peaks["date"]:
        assert date.month in FOUR_CP_MONTHS
        month = [d for d in range(prices.usd_per_mwh.shape[0])
                 if (prices.first_day + dt.timedelta(days=d)).month == date.month]
        day_of_peak = month[int(np.argmax(prices.usd_per_mwh[month])) // 24]
        assert (prices.first_day + dt.timedelta(days=day_of_peak)).day == date.day
    charged = _yearly(runs, "transmission_usd")
    for year in range(2028, 2032):
        last_summer = peaks.filter(pl.col("date").dt.year() == year - 1)["peak_hour_load_w"]
        expected = RATE_USD_PER_KW_YEAR * last_summer.mean() / 1000.0
        days_simulated = runs.filter(pl.col("date").dt.year() == year).height
        year_days = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
        assert np.isclose(charged[year], expected * days_simulated / year_days, rtol=1e-9)
    # 2026 and 2027 have no simulated summer before them: the units' full load.
    full_kw = UNITS * STOCK_W / 1000.0
    assert np.isclose(charged[2027], RATE_USD_PER_KW_YEAR * full_kw, rtol=1e-9)
    # Off in the peaks: no load drawn there, so no charge once a summer has been simulated.
    assert (avoids["peak_hour_load_w"] == 0).all()
    avoided = _yearly(avoids, "transmission_usd")
    assert np.isclose(avoided[2027], charged[2027], rtol=1e-12)
    assert all(avoided[year] == 0.0 for year in range(2028, 2032))
    unit_hours = (runs["unit_hours_run"].sum(), avoids["unit_hours_run"].sum())
    assert unit_hours[1] < unit_hours[0]
