"""Warnings for valid but implausible inputs: the numbers are computed, but the input looks like
a slip (cents typed as dollars, EH/s typed as PH/s) or rests on a stale price.

Each warning is one string naming the file and the key, the value and why it looks wrong. They
never stop an evaluation: ``evaluate`` puts a plan's warnings (its scenario's first) in the
summary's ``warnings`` column, every command prints them on stderr and ``compare --json`` lists
them on every plan object.

Checks, with the observed levels they compare against (``/work/shared/reference/facts.md``):
- an energy price (power + hosting) above ``POWER_PRICE_MAX_USD_PER_KWH``;
- a BTC price or network hashrate more than ``FAR_FACTOR`` x outside the range observed in the
  reference's dated snapshots (§3.3, 2024-01 to 2026-10);
- a start block height more than ``BLOCK_HEIGHT_TOLERANCE`` from the height expected on the
  start date: the nearest dated anchor (§3.2 halvings, §3.3 a retarget) plus 144 blocks a day;
- an order's USD/TH more than ``UNIT_PRICE_FACTOR`` x off the catalog's price for its model
  (its dated default price, else its efficiency tier's index price);
- an order priced at the catalog's default price when that price is older than
  ``catalog.PRICE_MAX_AGE_MONTHS`` months on the order's import date.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from functools import lru_cache

import polars as pl

from fleetcalc import catalog
from fleetcalc.plan import Order, Plan
from fleetcalc.scenario import Scenario
from fleetcalc.text import printable
from fleetcalc.units import CUSTOM_MODEL_ID, resolve_unit

# Above any industrial or retail power price; 6 means 6 cents typed as dollars.
POWER_PRICE_MAX_USD_PER_KWH = 0.5
# Ranges seen in the reference's network snapshots (facts.md §3.3): the lowest BTC price is
# ~58,000 (2024-09-16), the highest the 126,173 all-time high (2025-10-06); network hashrate
# from the 549 EH/s 7-day figure of 2024-01-05 to the ~1,200 EH/s daily high of 2025-10-21.
OBSERVED_BTC_PRICE_USD = (58_000.0, 126_173.0)
OBSERVED_HASHRATE_EHS = (549.0, 1_200.0)
OBSERVED_PERIOD = "2024-01 to 2026-10"
# "Far": a unit slip is a factor of 1,000; real markets moved ~2x within the observed period.
FAR_FACTOR = 10.0
# Dated block heights (facts.md §3.2 halvings; §3.3 the retarget at 941,472 on 2026-03-21).
HEIGHT_ANCHORS: tuple[tuple[dt.date, int], ...] = (
    (dt.date(2012, 11, 28), 210_000), (dt.date(2016, 7, 9), 420_000),
    (dt.date(2020, 5, 11), 630_000), (dt.date(2024, 4, 20), 840_000),
    (dt.date(2026, 3, 21), 941_472),
)
BLOCKS_PER_DAY = 144
# 1% of ~980,000 blocks is ~68 days of blocks: enough to move the halving by months.
BLOCK_HEIGHT_TOLERANCE = 0.01
# New and used prices of one model differ by ~2x; beyond 3x a price is likely per another unit.
UNIT_PRICE_FACTOR = 3.0


def far_outside(value: float, observed: tuple[float, float]) -> bool:
    """True if ``value`` is more than ``FAR_FACTOR`` x outside the ``observed`` (low, high)."""
    low, high = observed
    return value < low / FAR_FACTOR or value > high * FAR_FACTOR


def expected_block_height(on: dt.date) -> tuple[int, dt.date, int]:
    """The height expected on ``on``: the nearest dated anchor plus ``BLOCKS_PER_DAY`` a day;
    returned with that anchor's date and height."""
    anchor_date, anchor_height = min(HEIGHT_ANCHORS, key=lambda a: abs((on - a[0]).days))
    # Before the chain began (early 2009) the count stops at 0.
    expected = max(0, anchor_height + BLOCKS_PER_DAY * (on - anchor_date).days)
    return expected, anchor_date, anchor_height


@lru_cache(maxsize=64)
def scenario_warnings(scenario: Scenario) -> tuple[str, ...]:
    """The warnings about a scenario's market and network inputs."""
    source, btc, net = scenario.source, scenario.btc, scenario.network
    out = []
    price_key = "btc.price_series (first value)" if btc.price_series else "btc.price_usd"
    if far_outside(btc.price_usd, OBSERVED_BTC_PRICE_USD):
        low, high = OBSERVED_BTC_PRICE_USD
        out.append(f"{source}: {price_key}: USD {btc.price_usd:,.2f} is more than "
                   f"{FAR_FACTOR:g}x outside the BTC prices observed {OBSERVED_PERIOD} "
                   f"(USD {low:,.0f} to {high:,.0f})")
    hashrate_key = ("network.hashrate_series (first value)" if net.hashrate_series
                    else "network.hashrate_ehs")
    if far_outside(net.hashrate_ehs, OBSERVED_HASHRATE_EHS):
        low, high = OBSERVED_HASHRATE_EHS
        out.append(f"{source}: {hashrate_key}: {net.hashrate_ehs:,g} EH/s is more than "
                   f"{FAR_FACTOR:g}x outside the network hashrates observed {OBSERVED_PERIOD} "
                   f"({low:,.0f} to {high:,.0f} EH/s; EH/s typed as PH/s?)")
    expected, anchor_date, anchor_height = expected_block_height(scenario.start_date)
    if abs(net.block_height - expected) > BLOCK_HEIGHT_TOLERANCE * expected:
        off = (net.block_height - expected) / max(expected, 1)
        out.append(f"{source}: network.block_height: {net.block_height:,} is {off:+.1%} from "
                   f"the {expected:,} expected on start_date {scenario.start_date} "
                   f"({anchor_height:,} on {anchor_date} plus {BLOCKS_PER_DAY} blocks a day); "
                   "the halving dates move with it")
    return tuple(out)


def _tier_usd_per_th(j_per_th: float) -> tuple[float, str] | None:
    """The price index's USD/TH for an efficiency, with its date; None outside every tier."""
    tiers = catalog.load_price_index().filter(
        (pl.col("j_per_th_from") <= j_per_th) & (j_per_th < pl.col("j_per_th_to")))
    if tiers.height == 0:
        return None
    tier = tiers.row(0, named=True)
    return tier["usd_per_th"], f"price index of its {j_per_th:.1f} J/TH tier, {tier['index_date']}"


def _order_price_warnings(source: str, index: int, order: Order) -> list[str]:
    unit = resolve_unit(order)
    given = "unit_price_usd" if order.unit_price_usd is not None else "usd_per_th"
    key = f"orders[{index}].{given}"
    usd_per_th = unit.unit_price_usd / unit.hashrate_th
    price = None if unit.model_id == CUSTOM_MODEL_ID else catalog.default_price(
        unit.model_id, order.import_date)
    out = []
    if price is not None and price.stale and (
            order.unit_price_usd == price.price_usd or order.usd_per_th == price.price_usd_per_th):
        out.append(f"{source}: {key}: the catalog's {price.basis_label} price for "
                   f"{unit.model} dated {price.price_date_text}, more than "
                   f"{catalog.PRICE_MAX_AGE_MONTHS} months old on import_date "
                   f"{order.import_date}: check a current quote")
    if price is not None:
        reference = price.price_usd_per_th, f"{price.basis_label}, {price.price_date_text}"
    else:
        reference = _tier_usd_per_th(unit.power_w / unit.hashrate_th)
    if reference is not None:
        ratio = usd_per_th / reference[0]
        if not 1.0 / UNIT_PRICE_FACTOR <= ratio <= UNIT_PRICE_FACTOR:
            out.append(f"{source}: {key}: USD {usd_per_th:,.2f}/TH is {ratio:.2g}x the "
                       f"catalog's USD {reference[0]:,.2f}/TH for {unit.model} ({reference[1]})")
    return out


def plan_warnings(plan: Plan) -> list[str]:
    """The warnings about a plan's own inputs (each site's power price, order prices)."""
    out = []
    for index, site in enumerate(plan.sites):
        # The prices as typed (a PUE above 1 is no typing slip; a site that buys at an hourly
        # series has no constant price: its prices are checked on reading).
        if site.power_usd_per_kwh is None:
            continue
        typed_usd_per_kwh = site.power_usd_per_kwh + site.hosting_usd_per_kwh
        if typed_usd_per_kwh <= POWER_PRICE_MAX_USD_PER_KWH:
            continue
        table = "site" if len(plan.sites) == 1 else f"sites[{index}]"
        key = (f"{table}.power_usd_per_kwh + {table}.hosting_usd_per_kwh"
               if site.hosting_usd_per_kwh else f"{table}.power_usd_per_kwh")
        out.append(_power_price_warning(f"{plan.source}: {key}", typed_usd_per_kwh))
    for index, order in enumerate(plan.orders):
        out += _order_price_warnings(plan.source, index, order)
    return out


def warnings_for(plan: Plan, scenario: Scenario) -> list[str]:
    """Every warning about an evaluation of ``plan`` under ``scenario``, the scenario's first."""
    return [*scenario_warnings(scenario), *plan_warnings(plan)]


def print_warnings(warnings: Iterable[str]) -> None:
    """Each distinct warning once on stderr, as ``fleetcalc: warning: ...``."""
    for warning in dict.fromkeys(warnings):
        # A warning may quote a file name: one line, control characters escaped.
        print(f"fleetcalc: warning: {printable(warning)}", file=sys.stderr)


def command_line_power_warnings(usd_per_kwh: float, option: str = "--power") -> list[str]:
    """The power-price warning for a price given on the command line (``rank --power``)."""
    if not usd_per_kwh > POWER_PRICE_MAX_USD_PER_KWH:
        return []
    return [_power_price_warning(f"command line: {option}", usd_per_kwh)]


def _power_price_warning(where: str, usd_per_kwh: float) -> str:
    """The one sentence for a power price above ``POWER_PRICE_MAX_USD_PER_KWH``."""
    return (f"{where}: {usd_per_kwh:g} USD/kWh is above {POWER_PRICE_MAX_USD_PER_KWH:g} "
            "USD/kWh, more than any industrial power price (cents typed as dollars?)")
