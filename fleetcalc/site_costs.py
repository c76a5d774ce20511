"""A site priced by the megawatt: what a plan's site costs besides the energy its units burn.

Power is counted at the facility's wall: a unit's IT load times the site's PUE, in MW used, in
the energy bill (``Site.energy_usd_per_kwh`` is the price of one kWh of IT load) and against
``capacity_mw``. From the orders (one row each, ``fleetcalc.fleet.ORDERS_SCHEMA``) and the
site this module makes, per day of the horizon:

- the **build** capex: ``build_usd_per_mw`` times the MW the plan's units use (``build =
  "plan"``: each order's MW on its delivery day) or times the whole ``capacity_mw`` (``build =
  "site"``: on the first delivery day); part of ``capex_usd``;
- the **fixed** costs, paid whether the units mine or not: ``fixed_opex_usd_per_mw_month``
  on the MW built, from when they are built to the horizon (the site stands when units
  retire), and ``hosting_usd_per_kw_month`` on each order's IT kW while its units are in
  service (delivery to retirement);
- the **take-or-pay** floor: a unit in service pays for at least ``take_or_pay_share`` of
  its contracted energy (IT load x 24 h a day) every day, running or not. Its bill for a day
  is ``price x max(used kWh, share x contracted kWh)``; that is the floor, paid always, plus
  ``price x max(used - floor, 0)``. So a running unit saves by stopping only the energy above
  the floor: ``rig_energy_share`` gives the kernel that avoidable share of the price per kWh
  it uses, and the rig runs when its day's revenue covers it.

Months are 365/12 days. A plan that sets none of these fields costs nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from fleetcalc.plan import Site

DAYS_PER_MONTH = 365.0 / 12.0
HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class SiteCosts:
    """The site's costs for one plan; arrays are ``[days]``. Every field is an amount, so the
    costs of several sites add up field by field (``fleetcalc.sites``)."""

    mw_used: float  # the units' facility load: IT load x PUE
    mw_built: float  # what build_usd_per_mw and fixed_opex_usd_per_mw_month are paid on
    build_by_day_usd: np.ndarray
    fixed_by_day_usd: np.ndarray  # fixed opex and per-kW hosting fees
    # The take-or-pay floor: the IT kWh a day owed whether used or not (share x contracted),
    # and what they cost at the site's price per kWh of IT load.
    floor_it_kwh_by_day: np.ndarray
    floor_by_day_usd: np.ndarray

    @property
    def build_usd(self) -> float:
        return float(self.build_by_day_usd.sum())

    @property
    def fixed_usd(self) -> float:
        return float(self.fixed_by_day_usd.sum())

    def take_or_pay_usd(self, usd_per_it_kwh: np.ndarray | None = None) -> np.ndarray | None:
        """The take-or-pay floor ``[paths or 1, days]``: at the site's price, or at each
        path's ``usd_per_it_kwh``; None without take-or-pay (nothing to add)."""
        if not self.floor_it_kwh_by_day.any():
            return None
        if usd_per_it_kwh is None:
            return self.floor_by_day_usd[None, :]
        return usd_per_it_kwh[:, None] * self.floor_it_kwh_by_day[None, :]


def _daily_from(start_day: np.ndarray, end_day: np.ndarray, amount: np.ndarray,
                n_days: int) -> np.ndarray:
    """``[days]``: each amount on every day of its [start, end) span, summed (a loop over the
    orders, a handful: a running sum of +/- edges would leave rounding dust outside them)."""
    daily = np.zeros(n_days)
    for start, end, value in zip(start_day, end_day, amount, strict=True):
        daily[max(int(start), 0):min(int(end), n_days)] += value
    return daily


def site_costs(orders: pl.DataFrame, site: Site, n_days: int,
               unit_power_w: np.ndarray | None = None) -> SiteCosts:
    """The site-costs step: build, fixed and take-or-pay costs of the plan's site per day.
    ``unit_power_w[orders]``: what a unit of each order can draw, its most power-hungry
    allowed mode (``fleet.mode_table``), as ``capacity_mw`` is checked; default the ordered
    mode's ``power_w``."""
    delivery = orders["delivery_day"].to_numpy()
    retire = orders["retire_day"].to_numpy()
    if unit_power_w is None:
        unit_power_w = orders["power_w"].to_numpy()
    it_kw = unit_power_w * orders["quantity"].to_numpy() / 1000.0
    order_mw = it_kw * site.pue / 1000.0
    first_delivery = np.array([delivery.min()])
    if site.build == "site":
        built_mw, built_on = np.array([site.capacity_mw]), first_delivery
    else:
        built_mw, built_on = order_mw, delivery
    build_by_day = np.zeros(n_days)
    if site.build_usd_per_mw > 0.0:
        build_by_day = np.bincount(built_on, weights=built_mw * site.build_usd_per_mw,
                                   minlength=n_days)[:n_days]
    fixed_by_day = np.zeros(n_days)
    if site.fixed_opex_usd_per_mw_month > 0.0:
        per_day = built_mw * site.fixed_opex_usd_per_mw_month / DAYS_PER_MONTH
        fixed_by_day = fixed_by_day + _daily_from(
            built_on, np.full(built_on.shape, n_days), per_day, n_days)
    if site.hosting_usd_per_kw_month > 0.0:
        fixed_by_day = fixed_by_day + _daily_from(
            delivery, retire, it_kw * site.hosting_usd_per_kw_month / DAYS_PER_MONTH, n_days)
    floor_kwh = np.zeros(n_days)
    if site.take_or_pay_share > 0.0:
        floor_kwh = _daily_from(delivery, retire,
                                site.take_or_pay_share * it_kw * HOURS_PER_DAY, n_days)
    return SiteCosts(
        mw_used=float(order_mw.sum()), mw_built=float(built_mw.sum()),
        build_by_day_usd=build_by_day, fixed_by_day_usd=fixed_by_day,
        floor_it_kwh_by_day=floor_kwh, floor_by_day_usd=site.energy_usd_per_kwh * floor_kwh,
    )


def rig_energy_share(
    site: Site, uptime: np.ndarray, failure_per_day: np.ndarray, repair_days: np.ndarray,
    sampled: bool,
) -> np.ndarray:
    """Per rig: the share of the site's price per kWh of IT load that a kWh the rig uses costs
    on top of the take-or-pay floor (1 without take-or-pay).

    A running unit uses ``uptime x A`` of its contracted energy (A: availability, 1 on a running
    day with sampled failures, ``1 / (1 + AFR/365 x repair_days)`` in expectation, as the
    kernel has it); above the floor ``share`` that costs ``uptime x A - share`` of its
    contracted energy's price, i.e. ``1 - share / (uptime x A)`` a kWh used (0 when the floor
    covers all of it)."""
    n = uptime.shape[0]
    share = site.take_or_pay_share
    if share == 0.0:
        return np.ones(n)
    availability = np.ones(n) if sampled else 1.0 / (1.0 + failure_per_day * repair_days)
    used = uptime * availability
    # A subnormal ``used`` (uptime 5e-324) overflows ``share / used`` to inf: the floor covers
    # everything the rig uses, and the share is 0 as it should be.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        avoidable = np.where(used > 0.0, np.maximum(1.0 - share / used, 0.0), 0.0)
    return np.ascontiguousarray(avoidable)
