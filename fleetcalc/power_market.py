"""The site-hours step: a site's power contract as hourly prices for the kernel
(``kernels.hourly.RawHours``), and the 4CP transmission charge from the load the fleet drew at
the peaks.

A plan runs on the hourly path (``site_power`` returns its ``SitePower``) when its site gives
an hourly series or 4CP peak hours, or its orders allow more than one mode between them; else
every rig stays on the daily path and ``site_power`` returns None. A site without a series is
24 equal hours at 1 USD/kWh, and its rigs' price factor is the site's all-in price (as on the
daily path), so a breakeven search scales it the same way.

Per simulated day and hour (site standard time, see ``fleetcalc.power_prices``):

- **market** contract: the operator buys at the series' price plus ``power_adder_usd_per_kwh``
  and hosting; that is both what a kWh costs and what decides whether to draw it;
- **fixed** contract: a kWh drawn costs ``power_usd_per_kwh`` + adder + hosting; with
  ``sell_back`` the unit's contracted energy (its most power-hungry allowed mode) not drawn in
  an hour is sold at the market price when that is above the contract price, credited at
  ``market - contract`` per kWh, so drawing it also costs that forgone credit;
- prices are per kWh of the units' IT load: a site of PUE ``pue`` buys (and sells back)
  ``pue`` kWh of power for each, so power prices and credits are ``pue`` times the above and
  the per-kWh hosting fee (on the units' meter) is not; 4CP transmission is charged on the
  site's load, ``pue`` times the units';
- **4CP**: the peak hour of each of June-September (the highest market price of the month
  within the horizon, or the ``four_cp_peaks`` given) is marked; with ``four_cp = true`` the
  fleet is off in it. The transmission charge of a calendar year is
  ``transmission_usd_per_kw_year`` x the mean kW drawn in the previous year's peak hours,
  spread over its days; a year whose previous summer is not simulated is charged on the
  units' full load (no 4CP history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from fleetcalc.fleet import RigArrays, mode_table
from fleetcalc.plan import Plan, Site, site_prices
from fleetcalc.power_prices import HourlyPrices
from fleetcalc.scenario import Scenario

if TYPE_CHECKING:  # the kernels (and Numba) load when a plan first needs them
    from kernels.hourly import PowerInputs, RawHours

FOUR_CP_MONTHS = (6, 7, 8, 9)
HOURS = 24


@dataclass(frozen=True)
class SitePower:
    """The site-hours step's output: what the plan's rigs on the hourly path need beyond the
    fleet arrays (the kernel's ``PowerInputs``), and what the transmission charge needs."""

    site: Site
    inputs: PowerInputs
    mode_names: tuple[str, ...]  # the mode of each output slot (unit-days per mode)
    peak_days: np.ndarray  # [T] bool: days holding a marked 4CP peak hour
    full_load_w: np.ndarray  # [T] the units' full load in service (most power-hungry modes)
    assumptions: tuple[str, ...]
    day0_paid_usd_per_kwh: float  # mean price paid per kWh on day 0 (x the rigs' factor)


def site_power(plan: Plan, scenario: Scenario, orders: pl.DataFrame,
               rigs: RigArrays) -> SitePower | None:
    """The site-hours step: the site's sorted hours, the rigs' mode rows, the peak days and
    full load of a plan on the hourly path; None when every rig is on the daily path."""
    from kernels.hourly import PowerInputs, prepare_site_hours

    if not rigs.hourly:
        return None
    raw, assumptions = site_raw_hours(plan.site, site_prices(plan), scenario, plan.source)
    modes = mode_table(plan)
    inputs = PowerInputs(prepare_site_hours(raw), rigs.site_of, rigs.mode_first,
                         rigs.mode_count, modes.hashrate_th, modes.power_w, modes.slot,
                         len(modes.names))
    days = np.arange(scenario.horizon_days)[:, None]
    in_service = ((orders["delivery_day"].to_numpy()[None] <= days)
                  & (days < orders["retire_day"].to_numpy()[None]))
    full_load_w = (in_service * (orders["quantity"].to_numpy() * modes.max_power_w)[None]
                   ).sum(axis=1)
    return SitePower(plan.site, inputs, modes.names, raw.peak[0].any(axis=1), full_load_w,
                     tuple(assumptions), float(raw.paid[0, 0].mean()))


def site_raw_hours(
    site: Site, prices: HourlyPrices | None, scenario: Scenario, source: str = "<memory>",
) -> tuple[RawHours, list[str]]:
    """The site's hours over the horizon (one site: arrays ``[1, T, 24]``) from its series
    ``prices`` (None: a constant price) and the assumptions they rest on; ``source`` names
    the plan, for the error when the series cannot cover the horizon."""
    from kernels.hourly import RawHours

    n_days = scenario.horizon_days
    assumptions: list[str] = []
    if prices is not None:
        mwh, repeated = prices.days(scenario.start_date, n_days, source,
                                    "site.power_price_series")
        market = mwh / 1000.0
        if repeated:
            assumptions.append(
                f"site power prices: {site.power_price_series} ({prices.first_day} to "
                f"{prices.last_day}) repeat by calendar year over the horizon")
    else:
        # A constant price: the rigs' price factor carries it (see the module docstring).
        market = np.ones((n_days, HOURS))
    # Prices per kWh of IT load: the site draws ``pue`` kWh of power for each (bought, or
    # sold back, at the wall), hosting is charged on the units' own meter.
    # (Summed as ``pue x price + (pue x adder + hosting)``: with pue = 1 the same bits as
    # before PUE.)
    pue = site.pue
    extra = pue * site.power_adder_usd_per_kwh + site.hosting_usd_per_kwh
    credit = np.zeros_like(market)
    if prices is None:
        paid = decision = market
    elif site.contract == "market":
        paid = pue * market + extra
        decision = paid
    else:
        contract = float(site.power_usd_per_kwh or 0.0)
        paid = np.full_like(market, pue * contract + extra)
        if site.sell_back:
            credit = pue * np.maximum(market - contract, 0.0)
        decision = paid + credit
    peak = _peak_hours(site, scenario, market)
    forced_off = peak if site.four_cp else np.zeros_like(peak)
    if peak.any():
        assumptions.append(
            f"4CP: {int(peak.sum())} peak hours (June-September); "
            + ("fleet off in them" if site.four_cp else "fleet runs through them")
            + f", transmission USD {site.transmission_usd_per_kw_year:g}/kW-year on the "
            "previous year's peak load")
    return RawHours(decision[None], paid[None], credit[None], forced_off[None], peak[None]), \
        assumptions


def _peak_hours(site: Site, scenario: Scenario, market: np.ndarray) -> np.ndarray:
    """``[T, 24]`` bool: the 4CP peak hour of each June-September month in the horizon."""
    peak = np.zeros(market.shape, dtype=bool)
    if not (site.four_cp or site.transmission_usd_per_kw_year > 0):
        return peak
    start = scenario.start_date
    if site.four_cp_peaks:
        offset = site.four_cp_peaks[0].utcoffset()
        for stamp in site.four_cp_peaks:
            local = stamp.astimezone(dt.timezone(offset)) if offset is not None else stamp
            day = (local.date() - start).days
            if 0 <= day < market.shape[0]:
                peak[day, local.hour] = True
        return peak
    dates = [start + dt.timedelta(days=i) for i in range(market.shape[0])]
    months: dict[tuple[int, int], list[int]] = {}
    for i, day in enumerate(dates):
        if day.month in FOUR_CP_MONTHS:
            months.setdefault((day.year, day.month), []).append(i)
    for days in months.values():
        block = market[days]
        flat = int(np.argmax(block))  # the first highest hour in clock order
        peak[days[flat // HOURS], flat % HOURS] = True
    return peak


def transmission_usd(
    site: Site, scenario: Scenario, peak_load_w: np.ndarray, peak_days: np.ndarray,
    full_load_w: np.ndarray,
) -> np.ndarray:
    """Transmission charge per path and day ``[P, T]`` from the load drawn in the peak hours
    (``peak_load_w[P, T]``, on ``peak_days``) and the units' full load per day ``[T]``."""
    n_paths, n_days = peak_load_w.shape
    charge = np.zeros((n_paths, n_days))
    # Per kW of the units' load: the site draws pue kW for each.
    rate = site.pue * site.transmission_usd_per_kw_year
    if rate == 0.0:
        return charge
    years = np.array([(scenario.start_date + dt.timedelta(days=i)).year for i in range(n_days)])
    for year in np.unique(years):
        days = np.flatnonzero(years == year)
        year_days = (dt.date(int(year) + 1, 1, 1) - dt.date(int(year), 1, 1)).days
        previous = np.flatnonzero(peak_days & (years == year - 1))
        if previous.size:
            load_kw = peak_load_w[:, previous].mean(axis=1) / 1000.0
            charge[:, days] = (rate * load_kw / year_days)[:, None]
        else:
            charge[:, days] = rate * full_load_w[days][None, :] / 1000.0 / year_days
    return charge
