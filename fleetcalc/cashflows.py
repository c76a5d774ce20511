"""The evaluation's steps around the kernel run: fleet arrays in, cash flows out.

``fleet_arrays`` turns priced orders into the kernel's per-rig arrays, the capex schedule (by
payment day, ``fleetcalc.schedule``, plus the site build), the site's costs
(``fleetcalc.site_costs``) and the resale at the horizon (``fleetcalc.resale``);
``KernelFlows`` is what the kernel produced (made by ``fleetcalc.engine.kernel_flows``, the one
kernel caller); ``cash_flows`` turns those flows into daily cash per path. Arrays are
``[paths, days]`` unless noted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fleetcalc.fleet import RigArrays, mode_table, rig_arrays
from fleetcalc.plan import Finance, Plan
from fleetcalc.resale import Resale, horizon_resale
from fleetcalc.scenario import Scenario
from fleetcalc.schedule import Payments, payment_schedule
from fleetcalc.site_costs import SiteCosts, site_costs
from fleetcalc.tariffs import LandedCosts


@dataclass(frozen=True)
class FleetArrays:
    """One plan's fleet as the kernel and the cash flows need it."""

    rigs: RigArrays  # one entry per rig (sampled failures) or per order (expected)
    # [days]: landed cost by payment day (deposit, balance, duty and fees, freight and install)
    # and the site build; payments before the start at face value on day 0
    capex_by_day_usd: np.ndarray
    # Day 0's cost of having paid those before the start: carried forward at the discount rate.
    capex_carry_usd: float
    resale: Resale  # of the units still in service at the horizon
    site: SiteCosts  # build (in capex_by_day_usd), fixed costs, take-or-pay
    first_delivery_day: int
    n_orders: int
    payments: Payments
    # [days]: nameplate TH/s of the units delivered and not yet retired (an upper bound of the
    # hashrate the fleet adds to the network: no decay, downtime or curtailment)
    hashrate_th_by_day: np.ndarray
    mode_names: tuple[str, ...] = ("stock",)  # the modes its orders run or allow

    @property
    def capex_usd(self) -> float:
        return float(self.capex_by_day_usd.sum())


def fleet_arrays(landed: LandedCosts, plan: Plan, scenario: Scenario) -> FleetArrays:
    """The fleet-arrays step: kernel inputs, capex by payment day, site costs, resale."""
    orders = landed.per_order
    n_days = scenario.horizon_days
    payments = payment_schedule(orders, scenario.start_date, n_days)
    nameplate_th = (orders["hashrate_th"] * orders["quantity"]).to_numpy()
    in_service_th = (
        np.bincount(orders["delivery_day"].to_numpy(), nameplate_th, minlength=n_days + 1)
        - np.bincount(orders["retire_day"].to_numpy(), nameplate_th, minlength=n_days + 1))
    # The MW a unit takes is its most power-hungry allowed mode's (as capacity_mw counts it).
    site = site_costs(orders, plan.site, n_days, mode_table(plan).max_power_w)
    if plan.site.build_usd_per_mw > 0.0:
        # The site build is a capital payment too (on its days, all inside the horizon): in
        # capex, and borrowed with debt like the units' payments.
        capex = payments.capex_usd.copy()
        capex[payments.offset_days:] += site.build_by_day_usd
        payments = replace(payments, capex_usd=capex)
    return FleetArrays(
        rigs=rig_arrays(orders, plan, scenario.failures == "sampled"),
        capex_by_day_usd=payments.nominal_by_day(),
        capex_carry_usd=payments.carry_usd(plan.finance.discount_rate),
        resale=horizon_resale(orders, plan.finance, n_days),
        site=site,
        first_delivery_day=int(orders["delivery_day"].min()),
        n_orders=orders.height,
        payments=payments,
        hashrate_th_by_day=np.cumsum(in_service_th[:n_days]),
        mode_names=mode_table(plan).names,
    )


# The per-order totals of KernelFlows.order_totals, in the order of its last axis.
ORDER_TOTAL_COLUMNS = (
    "btc_mined", "revenue_usd", "energy_cost_usd", "repairs_usd", "running_unit_days",
    "failures",
)


@dataclass(frozen=True)
class PowerFlows:
    """What a plan on the hourly path adds to the kernel flows (``fleetcalc.power_market``)."""

    sell_back_credit_usd: np.ndarray  # curtailed contracted energy sold at market
    transmission_usd: np.ndarray  # the 4CP transmission charge
    peak_hour_load_w: np.ndarray  # load drawn in the day's marked peak hour (0: none)
    unit_days_by_mode: np.ndarray  # [paths, modes, days]
    order_credit_usd: np.ndarray  # [paths, orders]
    order_unit_days_by_mode: np.ndarray  # [paths, orders, modes]

    def net_usd(self) -> np.ndarray:
        """Power costs beyond the energy line per path and day: transmission less credits."""
        return self.transmission_usd - self.sell_back_credit_usd


@dataclass(frozen=True)
class KernelFlows:
    """The kernel-flows step's output for one plan: daily fleet totals per path."""

    btc: np.ndarray  # mined, net of the pool fee
    revenue_usd: np.ndarray
    energy_cost_usd: np.ndarray
    repair_cost_usd: np.ndarray
    hashrate_th: np.ndarray
    power_w: np.ndarray
    running_units: np.ndarray
    final_price_usd: np.ndarray  # [paths]: BTC price on the last day (kept BTC is valued at it)
    # [paths]: hashprice on the last day (units are resold at it)
    final_hashprice_usd_per_ph_day: np.ndarray
    # [paths, orders, ORDER_TOTAL_COLUMNS]: each order's totals over the horizon
    order_totals: np.ndarray
    mode_names: tuple[str, ...]  # the modes of PowerFlows' mode axis (one on the daily path)
    power: PowerFlows | None = None  # None: every rig on the daily path (one mode)

    def unit_days_by_mode(self) -> np.ndarray:
        """[paths, modes, days]: on the daily path the plan runs its one mode."""
        if self.power is None:
            return self.running_units[:, None, :]
        return self.power.unit_days_by_mode

    def order_unit_days_by_mode(self) -> np.ndarray:
        """[paths, orders, modes]."""
        if self.power is None:
            return self.order_totals[:, :, [ORDER_TOTAL_COLUMNS.index("running_unit_days")]]
        return self.power.order_unit_days_by_mode


def power_view(flows: KernelFlows, mode_names: tuple[str, ...]) -> PowerFlows:
    """``flows``' power lines with the mode axis on ``mode_names`` (a superset of
    ``flows.mode_names``, in any order); a plan on the daily path sells nothing back and pays
    no transmission. For putting sites together (``fleetcalc.sites``)."""
    n_paths, n_days = flows.running_units.shape
    n_orders = flows.order_totals.shape[1]
    slots = [mode_names.index(name) for name in flows.mode_names]
    unit_days = np.zeros((n_paths, len(mode_names), n_days))
    unit_days[:, slots] = flows.unit_days_by_mode()
    order_unit_days = np.zeros((n_paths, n_orders, len(mode_names)))
    order_unit_days[:, :, slots] = flows.order_unit_days_by_mode()
    power = flows.power
    zeros = np.zeros((n_paths, n_days))
    return PowerFlows(
        sell_back_credit_usd=zeros if power is None else power.sell_back_credit_usd,
        transmission_usd=zeros if power is None else power.transmission_usd,
        peak_hour_load_w=zeros if power is None else power.peak_hour_load_w,
        unit_days_by_mode=unit_days,
        order_credit_usd=(np.zeros((n_paths, n_orders)) if power is None
                          else power.order_credit_usd),
        order_unit_days_by_mode=order_unit_days,
    )


def cash_flows(flows: KernelFlows, fleet: FleetArrays, terms: Finance) -> np.ndarray:
    """The cash-flows step: sold BTC less energy, repairs and capex (with the carry of payments
    made before the start on day 0); on the hourly path sell-back credits in and transmission
    out, their own lines; the residual value and the kept BTC (``hodl_fraction``, valued at the
    horizon's price) on the last day."""
    hodl = terms.hodl_fraction
    cash = (
        flows.revenue_usd * (1.0 - hodl) - flows.energy_cost_usd
        - flows.repair_cost_usd - fleet.capex_by_day_usd[None, :]
    )
    cash[:, 0] -= fleet.capex_carry_usd
    if flows.power is not None:
        cash -= flows.power.net_usd()
    # The site's fixed costs (issue 13): a separate term, so that without them (all zeros)
    # every other flow keeps its bits.
    cash -= fleet.site.fixed_by_day_usd[None, :]
    resale_usd = fleet.resale.value_usd(flows.final_hashprice_usd_per_ph_day)
    cash[:, -1] += resale_usd + hodl * flows.btc.sum(axis=1) * flows.final_price_usd
    return cash
