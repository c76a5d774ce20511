"""Purchase plans: sites plus orders (TOML), parsed and validated into frozen objects.

A plan has one ``[site]`` table, or several ``[[sites]]`` tables (``name`` plus every ``[site]``
key) whose orders each name their ``site``; each site's orders must fit its capacity. Every
check names the file, the key path (``orders[1].origin``, ``sites[0].capacity_mw``) and the bad
value. Checks that need the scenario (dates inside the horizon) live in
``check_plan_against_scenario``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from fleetcalc.catalog import COOLING_TYPES, STOCK_MODE, UnitFigures, get_model, model_ids
from fleetcalc.customs_fees import SHIPPED_BY
from fleetcalc.errors import InputError
from fleetcalc.power_prices import HourlyPrices, load_hourly_prices
from fleetcalc.validate import (
    MAX_NAME_CHARS,
    Field,
    check_fields,
    checked,
    convert,
    load_toml,
    overridable,
    read_table,
    table_fields,
)

POWER_CONTRACTS = ("market", "fixed")
POWER_MARKET_KEYS = ("power_adder_usd_per_kwh", "sell_back", "four_cp", "four_cp_peaks",
                     "transmission_usd_per_kw_year")
ALL_MODES = "all"

# Every TOML key below is declared once, as a ``checked`` dataclass field (kind, bounds,
# default); the parser's field tables are read back from the classes. kw_only lets the fields
# stand in the order the file documents them, which is also the order they are checked in.


# The name of the site of a plan with one [site] table (what its orders may name, and the
# site column of its results).
DEFAULT_SITE_NAME = "site"
SITE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}")
# Marks a dataclass field that is no TOML key (``plan_to_toml`` leaves it out).
NOT_A_KEY = "fleetcalc.plan.not_a_key"
BUILD_BASES = ("plan", "site")
RESIDUAL_MODELS = ("market", "fixed")
# What ``residual = "fixed"`` resells a unit for when no ``residual_fraction`` is given: the
# share of its unit price fleetcalc used before resale followed the market.
DEFAULT_RESIDUAL_FRACTION = 0.10


@dataclass(frozen=True, kw_only=True)
class Site:
    """A site's prices and figures. Power is counted at the wall of the facility: the units'
    IT load times ``pue``, for the energy bill and against ``capacity_mw`` alike; hosting fees
    are on the units' IT load. Every field added with the megawatt-priced site (issue 13) has
    a neutral default, so a plan that names none of them evaluates exactly as before."""

    # The all-in price, or a fixed contract's price; absent at a market site (the hourly
    # series sets the price hour by hour).
    power_usd_per_kwh: float | None = checked("float", None, lo=0.0, hi=10.0)
    hosting_usd_per_kwh: float = checked("float", 0.0, lo=0.0, hi=10.0)
    # Per kW of the units' IT load per month, from delivery to retirement, mining or not.
    hosting_usd_per_kw_month: float = checked("float", 0.0, lo=0.0, hi=10_000.0)
    # Share of the contracted energy (every unit's IT load x PUE, every day it is in service)
    # paid at the per-kWh price whether the units run or not.
    take_or_pay_share: float = checked("float", 0.0, lo=0.0, hi=1.0)
    capacity_mw: float = checked("float", lo=0.0, hi=100_000.0, lo_open=True)
    # Facility power over IT power; 3 is far beyond any mining site (air ~1.02-1.1).
    pue: float = checked("float", 1.0, lo=1.0, hi=3.0)
    # "plan": build the MW the plan's units use; "site": build all of capacity_mw.
    build: str = checked("str", "plan", choices=BUILD_BASES)
    build_usd_per_mw: float = checked("float", 0.0, lo=0.0, hi=1e8)
    # Staff, maintenance, insurance per built MW per month, whether mining or curtailed.
    fixed_opex_usd_per_mw_month: float = checked("float", 0.0, lo=0.0, hi=1e7)
    uptime: float = checked("float", 0.97, lo=0.0, hi=1.0)
    curtail_when_unprofitable: bool = checked("bool", True)
    # Power markets (fleetcalc.power_prices, fleetcalc.power_market): an hourly series in
    # USD/MWh relative to the plan's folder, delivery and fees on top of it, the contract
    # ("market": buy at the series; "fixed": power_usd_per_kwh, the series is the market the
    # curtailed energy is sold to when sell_back), 4CP peak avoidance and its charge.
    power_price_series: str | None = checked("str", None)
    power_adder_usd_per_kwh: float = checked("float", 0.0, lo=-10.0, hi=10.0)
    power_contract: str | None = checked("str", None, choices=POWER_CONTRACTS)
    sell_back: bool = checked("bool", False)
    four_cp: bool = checked("bool", False)
    four_cp_peaks: tuple[dt.datetime, ...] = checked("datetimes", ())
    transmission_usd_per_kw_year: float = checked("float", 0.0, lo=0.0, hi=100_000.0)
    # Not a [site] key: a [[sites]] table names its site (SITES_FIELDS), orders name it back.
    name: str = DEFAULT_SITE_NAME
    # The loaded series (not a TOML key).
    prices: HourlyPrices | None = field(default=None, compare=False, repr=False,
                                        metadata={NOT_A_KEY: True})

    @property
    def contract(self) -> str:
        """"market" or "fixed" (the default: market with a series, fixed without)."""
        if self.power_contract is not None:
            return self.power_contract
        return "market" if self.power_price_series is not None else "fixed"

    @property
    def hourly(self) -> bool:
        """Whether the site's power is priced hour by hour (a series, or 4CP peak hours)."""
        return self.power_price_series is not None or bool(self.four_cp_peaks)

    @property
    def energy_usd_per_kwh(self) -> float:
        """All-in constant price of one kWh of IT load: ``pue`` kWh of power plus the per-kWh
        hosting fee (``pue`` = 1 gives the power plus hosting price exactly; a market site has
        no constant price: NaN)."""
        if self.power_usd_per_kwh is None:
            return math.nan
        return self.pue * self.power_usd_per_kwh + self.hosting_usd_per_kwh

    @property
    def marginal_usd_per_kwh(self) -> float:
        """What running one more kWh of IT load costs: the take-or-pay share of the energy is
        owed anyway, so only the rest is saved by curtailing."""
        return (1.0 - self.take_or_pay_share) * self.energy_usd_per_kwh


DEPRECIATION_METHODS = ("macrs5", "straight_line")
MACRS5_YEARS = 5


@dataclass(frozen=True, kw_only=True)
class Finance:
    discount_rate: float = checked("float", 0.15, lo=-0.99, hi=10.0)
    # "market": units in service at the horizon resell at the second-hand market's price for
    # their efficiency and that day's hashprice (fleetcalc.resale); "fixed": at
    # residual_fraction of their unit price. A file that gives residual_fraction and no
    # residual means "fixed" (plans written before resale followed the market).
    residual: str = checked("str", "market", choices=RESIDUAL_MODELS)
    residual_fraction: float | None = checked("float", None, lo=0.0, hi=1.0)
    hodl_fraction: float = checked("float", 0.0, lo=0.0, hi=1.0)
    # Debt and tax (``fleetcalc.financing``), off unless given. A loan rate has no default: a
    # plan that borrows must say what the money costs.
    debt_share: float = checked("float", 0.0, lo=0.0, hi=1.0)
    debt_rate: float | None = checked("float", None, lo=0.0, hi=1.0)
    debt_term_years: float = checked("float", 3.0, lo=0.0, hi=30.0, lo_open=True)
    tax_rate: float = checked("float", 0.0, lo=0.0, hi=0.99)
    depreciation: str = checked("str", "macrs5", choices=DEPRECIATION_METHODS)
    depreciation_years: int = checked("int", MACRS5_YEARS, lo=1, hi=40)
    # None: the US rule for each order's dates (``fleetcalc.financing.us_bonus_share``).
    bonus_depreciation: float | None = checked("float", None, lo=0.0, hi=1.0)


@dataclass(frozen=True, kw_only=True)
@overridable(UnitFigures)
class Order:
    """One order line. Every field of ``UnitFigures`` (degradation, failure rate, repairs,
    service life, freight, install) is an optional key too: None keeps the catalog model's (or
    custom unit's) cooling type default."""

    model: str | None = checked("str", None)
    quantity: int = checked("int", lo=1, hi=10_000_000)
    # Lower bounds are the smallest values that mean something (a cent, a GH/s, a watt): below
    # them ratios such as J/TH or BTC per USD overflow to inf.
    unit_price_usd: float | None = checked("float", None, lo=0.01, hi=1e7)
    usd_per_th: float | None = checked("float", None, lo=0.001, hi=1e5)
    origin: str = checked("origin")
    import_date: dt.date = checked("date")
    delivery_date: dt.date = checked("date")
    mode: str = checked("str", STOCK_MODE)
    # Modes the unit may switch between, the best each day (hour, on hourly prices); "all":
    # every catalog mode of the model. None: run ``mode`` only.
    modes: tuple[str, ...] | None = checked("modes", None)
    hashrate_th: float | None = checked("float", None, lo=0.001, hi=1e6)
    power_w: float | None = checked("float", None, lo=1.0, hi=1e7)
    cooling: str | None = checked("str", None, choices=COOLING_TYPES)
    # The name of the [[sites]] table the order is installed at (None: the plan's only site).
    site: str | None = checked("str", None)
    # The payment schedule (``fleetcalc.schedule``): None takes the default, an ASSUMPTION
    # the results name (ordered on the scenario's start date, 30% deposit, the balance 30 days
    # before import, shipped by sea).
    order_date: dt.date | None = checked("date", None)
    deposit_share: float | None = checked("float", None, lo=0.0, hi=1.0)
    balance_days_before_import: int | None = checked("int", None, lo=0, hi=3650)
    shipped_by: str | None = checked("str", None, choices=SHIPPED_BY)


@dataclass(frozen=True, kw_only=True)
class Plan:
    name: str = checked("str", max_chars=MAX_NAME_CHARS)
    exclude_origins: tuple[str, ...] = checked("origins", ())
    # Which of the plan's figures are assumptions rather than sourced facts: shown with its
    # results, after the scenario's.
    assumptions: tuple[str, ...] = checked("texts", ())
    sites: tuple[Site, ...]  # one ([site]) or several ([[sites]]), names distinct
    orders: tuple[Order, ...]
    finance: Finance = Finance()
    source: str = "<memory>"

    @property
    def site(self) -> Site:
        """The plan's only site; a plan of several sites has none (use ``sites``)."""
        if len(self.sites) != 1:
            raise ValueError(f"plan {self.name!r} has {len(self.sites)} sites: read .sites")
        return self.sites[0]

    def site_index(self, order: Order) -> int:
        """Index in ``sites`` of the site ``order`` is installed at."""
        if order.site is None:
            return 0
        return [site.name for site in self.sites].index(order.site)

    def site_plans(self) -> list[tuple[Plan, tuple[int, ...]]]:
        """One-site plans, one per site, with the indices in ``orders`` of each one's orders
        (a one-site plan is itself). Each is the plan as if it held only that site."""
        if len(self.sites) == 1:
            return [(self, tuple(range(len(self.orders))))]
        where = [self.site_index(order) for order in self.orders]
        parts = []
        for s, site in enumerate(self.sites):
            indices = tuple(i for i, at in enumerate(where) if at == s)
            parts.append((replace(self, sites=(site,),
                                  orders=tuple(self.orders[i] for i in indices)), indices))
        return parts

    def with_order(self, index: int, **changes: Any) -> Plan:
        """This plan with order ``index`` changed, checked as the plan parser checks a file
        (``InputError`` naming ``orders[index].key``)."""
        orders = list(self.orders)
        orders[index] = replace(orders[index], **changes)
        return replace(self, orders=tuple(orders)).validate()

    def with_site(self, **changes: Any) -> Plan:
        """The plan with ``changes`` made at every site, checked as the parser checks a file."""
        return replace(self, sites=tuple(replace(site, **changes) for site in self.sites)
                       ).validate()

    def with_changes(self, **changes: Any) -> Plan:
        """This plan with top-level fields changed (``name``, ``finance``, ``sites``,
        ``orders``...), checked as the plan parser checks a file."""
        return replace(self, **changes).validate()

    def validate(self) -> Plan:
        """This plan if it passes every check the parser makes on a file; ``InputError``
        naming the key otherwise, ``TypeError`` for a part that is not of its class. For
        plans built or changed in memory: ``evaluate`` calls it."""
        source = self.source
        for what, parts, cls in (("sites", self.sites, Site), ("orders", self.orders, Order)):
            if not isinstance(parts, tuple) or not all(isinstance(p, cls) for p in parts):
                raise TypeError(f"Plan.{what} must be a tuple of fleetcalc {cls.__name__} "
                                "objects")
            if not parts:
                raise InputError(source, what, "(none)", f"at least one {what[:-1]}")
        if not isinstance(self.finance, Finance):
            raise TypeError("Plan.finance must be a fleetcalc Finance, not "
                            f"{type(self.finance).__name__}")
        check_fields(self, source, "")
        check_fields(self.finance, source, "finance")
        _check_finance(self.finance, source)
        several = len(self.sites) > 1 or self.sites[0].name != DEFAULT_SITE_NAME
        for s, site in enumerate(self.sites):
            where = f"sites[{s}]" if several else "site"
            check_fields(site, source, where)
            _check_site(site, source, where)
            if several:
                convert(SITES_FIELDS[0], site.name, source, f"{where}.name")
                if site.name in [other.name for other in self.sites[:s]]:
                    raise InputError(source, f"{where}.name", site.name,
                                     "a name no other [[sites]] table has")
        for i, order in enumerate(self.orders):
            check_fields(order, source, f"orders[{i}]")
            _check_order(order, source, f"orders[{i}]", self.exclude_origins)
        _check_sites(self, "sites[0]" if several else "site")
        return self


PLAN_FIELDS = table_fields(Plan)
SITE_FIELDS = table_fields(Site)
# A [[sites]] table: the site's name, then every [site] key.
SITES_FIELDS = (
    Field("name", "str", pattern=SITE_NAME_PATTERN,
          pattern_words="a site name of letters, digits, spaces and _.- (at most 40)"),
    *SITE_FIELDS,
)
FINANCE_FIELDS = table_fields(Finance)
ORDER_FIELDS = table_fields(Order)


def _check_order(order: Order, source: str, where: str, exclude: tuple[str, ...]) -> None:
    """The checks of an order across its keys (its keys one by one are checked already)."""
    custom = order.hashrate_th is not None or order.power_w is not None
    if order.model is None and not custom:
        raise InputError(source, f"{where}.model", "(missing)",
                         "a catalog model id (see `fleetcalc catalog`) or hashrate_th + power_w")
    if custom and (order.hashrate_th is None or order.power_w is None):
        missing = "power_w" if order.power_w is None else "hashrate_th"
        raise InputError(source, f"{where}.{missing}", "(missing)",
                         "both hashrate_th and power_w for a custom unit")
    if order.model is not None and not custom:
        try:
            spec = get_model(order.model)
        except KeyError:
            # Forty ids would bury the message: name the closest few and where to see all.
            close = difflib.get_close_matches(order.model, model_ids(), n=3, cutoff=0.5)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise InputError(source, f"{where}.model", order.model,
                             f"a catalog model id (see `fleetcalc catalog`){hint}") from None
        if order.origin not in spec.origins:
            raise InputError(source, f"{where}.origin", order.origin,
                             f"an origin {spec.model} is built in: {', '.join(spec.origins)}")
        if order.mode not in spec.modes:
            raise InputError(source, f"{where}.mode", order.mode,
                             f"a mode of {spec.model}: {', '.join(spec.modes)}")
    elif order.mode != STOCK_MODE:
        raise InputError(source, f"{where}.mode", order.mode, "'stock' for a custom unit")
    if order.modes is not None:
        _check_modes(order, source, where)
    if order.unit_price_usd is not None and order.usd_per_th is not None:
        raise InputError(source, f"{where}.usd_per_th", order.usd_per_th,
                         "either unit_price_usd or usd_per_th, not both")
    if order.unit_price_usd is None and order.usd_per_th is None:
        raise InputError(source, f"{where}.unit_price_usd", "(missing)",
                         "a unit price in USD (or usd_per_th)")
    if order.delivery_date < order.import_date:
        raise InputError(source, f"{where}.delivery_date", order.delivery_date.isoformat(),
                         f"a date on or after import_date ({order.import_date.isoformat()})")
    if order.order_date is not None and order.order_date > order.import_date:
        raise InputError(source, f"{where}.order_date", order.order_date.isoformat(),
                         f"a date on or before import_date ({order.import_date.isoformat()})")
    if order.origin in exclude:
        raise InputError(source, f"{where}.origin", order.origin,
                         f"an origin not excluded by exclude_origins {list(exclude)}")


def _catalog_modes(model: str | None, custom: bool) -> tuple[str, ...]:
    """The modes an order of ``model`` may run (``("all",)`` back for an unknown model, which
    the order's checks then name)."""
    if custom or model is None:
        return (STOCK_MODE,)
    try:
        return tuple(get_model(model).modes)
    except KeyError:
        return (ALL_MODES,)


def _check_modes(order: Order, source: str, where: str) -> None:
    """The order's allowed ``modes``: the model's, each once, its ``mode`` among them."""
    custom = order.hashrate_th is not None or order.power_w is not None
    catalog = _catalog_modes(order.model, custom)
    name = "a custom unit" if custom else get_model(order.model or "").model
    modes = order.modes or ()
    for mode in modes:
        if mode not in catalog:
            raise InputError(source, f"{where}.modes", mode,
                             f"modes of {name}: {', '.join(catalog)} (or \"all\")")
    if len(set(modes)) != len(modes):
        raise InputError(source, f"{where}.modes", list(modes), "each mode at most once")
    if order.mode not in modes:
        raise InputError(source, f"{where}.mode", order.mode,
                         f"one of the order's modes {list(modes)}")


def _parse_order(item: Any, index: int, source: str, exclude: tuple[str, ...]) -> Order:
    where = f"orders[{index}]"
    values = read_table(item, ORDER_FIELDS, source, where)
    if values["modes"] is not None:
        # "all": every mode of the model; with modes but no mode, the order's figures are
        # those of stock (or the first mode when stock is not allowed).
        modes = values["modes"]
        if modes == (ALL_MODES,):
            modes = _catalog_modes(values["model"], values["hashrate_th"] is not None)
        values["modes"] = modes
        if "mode" not in item and STOCK_MODE not in modes:
            values["mode"] = modes[0]
    order = Order(**values)
    _check_order(order, source, where, exclude)
    return order


def _parse_finance(table: Any, source: str) -> Finance:
    """The [finance] table. ``residual_fraction`` without ``residual`` means "fixed" (plans
    written before resale followed the market); "fixed" without it resells at
    ``DEFAULT_RESIDUAL_FRACTION``."""
    values = read_table(table, FINANCE_FIELDS, source, "finance")
    if "residual" not in table and values["residual_fraction"] is not None:
        values["residual"] = "fixed"
    if values["residual"] == "fixed" and values["residual_fraction"] is None:
        values["residual_fraction"] = DEFAULT_RESIDUAL_FRACTION
    finance = Finance(**values)
    _check_finance(finance, source)
    return finance


def _check_finance(finance: Finance, source: str) -> None:
    """The checks of [finance] across its keys (its keys one by one are checked already)."""
    if finance.debt_share > 0 and finance.debt_rate is None:
        raise InputError(source, "finance.debt_rate", "(missing)",
                         f"the loan's annual rate, as debt_share is {finance.debt_share:g} "
                         "(a number in [0, 1]: 0.1 is 10%)")
    if finance.depreciation == "macrs5" and finance.depreciation_years != MACRS5_YEARS:
        raise InputError(source, "finance.depreciation_years", finance.depreciation_years,
                         f"{MACRS5_YEARS} with depreciation = 'macrs5' (its recovery period), or "
                         "depreciation = 'straight_line'")
    # With market resale a share of the price would be ignored: say so rather than drop it.
    if finance.residual == "market" and finance.residual_fraction is not None:
        raise InputError(source, "finance.residual_fraction", finance.residual_fraction,
                         'no residual_fraction with residual = "market" (the market prices the '
                         'units; residual = "fixed" resells them at a share of their price)')


def _array_of_tables(raw: Any, key: str, source: str) -> list[Any]:
    """``[[key]]`` tables as a non-empty list, or an InputError saying what was found."""
    if not isinstance(raw, list) or not raw:
        shown = {type(None): "(missing)", dict: f"(a single [{key}] table)"}.get(
            type(raw), raw)
        raise InputError(source, key, shown, f"at least one [[{key}]] table")
    return raw


def parse_sites(data: dict[str, Any], source: str) -> tuple[tuple[Site, ...], str]:
    """The ``[site]`` or ``[[sites]]`` of a plan (or candidates) document, and the key path of
    the first (``site`` or ``sites[0]``)."""
    if "sites" not in data:
        return (_parsed_site(read_table(data.get("site"), SITE_FIELDS, source, "site"), source,
                             "site"),), "site"
    if "site" in data:
        raise InputError(source, "sites", "(both [site] and [[sites]])",
                         "either one [site] table or [[sites]] tables, each with a name")
    sites: list[Site] = []
    for i, item in enumerate(_array_of_tables(data["sites"], "sites", source)):
        site = _parsed_site(read_table(item, SITES_FIELDS, source, f"sites[{i}]"), source,
                            f"sites[{i}]")
        if site.name in [s.name for s in sites]:
            raise InputError(source, f"sites[{i}].name", site.name,
                             "a name no other [[sites]] table has")
        sites.append(site)
    return tuple(sites), "sites[0]"


def _parsed_site(values: dict[str, Any], source: str, where: str) -> Site:
    """A site read from its table at key path ``where``: checked, its hourly series loaded."""
    site = Site(**values)
    _check_site(site, source, where)
    if site.power_price_series is None:
        return site
    return replace(site, prices=load_site_prices(site.power_price_series, source, where))


def _check_site(site: Site, source: str, where: str) -> None:
    """The checks of a site across its keys (its table at key path ``where``): the contract's
    rules, and what sell-back, 4CP and transmission need."""
    series = site.power_price_series
    contract = site.contract
    if contract == "market":
        if series is None:
            raise InputError(source, f"{where}.power_contract", "market",
                             "a power_price_series to buy at (or contract \"fixed\")")
        if site.power_usd_per_kwh is not None:
            raise InputError(source, f"{where}.power_usd_per_kwh", site.power_usd_per_kwh,
                             "no power_usd_per_kwh at a market site (power_price_series sets "
                             "the price hour by hour; a fixed price: power_contract = "
                             "\"fixed\")")
        if site.sell_back:
            raise InputError(source, f"{where}.sell_back", True,
                             "sell_back only with power_contract = \"fixed\" (curtailed "
                             "contracted energy is sold at the series' prices)")
    elif site.power_usd_per_kwh is None:
        raise InputError(source, f"{where}.power_usd_per_kwh", "(missing)",
                         "a number in [0, 10]")
    if site.take_or_pay_share > 0.0 and series is not None:
        # The floor is priced at one price per kWh (fleetcalc.site_costs); on an hourly
        # series there is none, and a floor netted hour by hour is not modelled.
        raise InputError(source, f"{where}.take_or_pay_share", site.take_or_pay_share,
                         "0 at a site with a power_price_series (take-or-pay is modelled at a "
                         "constant power price)")
    if site.sell_back and series is None:
        raise InputError(source, f"{where}.sell_back", True,
                         "a power_price_series: the market the energy is sold to")
    if site.power_adder_usd_per_kwh != 0.0 and series is None:
        raise InputError(source, f"{where}.power_adder_usd_per_kwh",
                         site.power_adder_usd_per_kwh,
                         "a power_price_series to add it to (a constant price is all-in in "
                         "power_usd_per_kwh + hosting_usd_per_kwh)")
    peaks_from = ("a power_price_series (its highest hour of each of June-September is the "
                  "peak) or the four_cp_peaks timestamps")
    if site.four_cp and series is None and not site.four_cp_peaks:
        raise InputError(source, f"{where}.four_cp", True, peaks_from)
    if (site.transmission_usd_per_kw_year > 0.0 and series is None
            and not site.four_cp_peaks):
        raise InputError(source, f"{where}.transmission_usd_per_kw_year",
                         site.transmission_usd_per_kw_year,
                         f"0, or peak hours whose load it is charged on: {peaks_from}")
    if site.four_cp_peaks and not (site.four_cp
                                        or site.transmission_usd_per_kw_year > 0.0):
        raise InputError(source, f"{where}.four_cp_peaks",
                         [p.isoformat() for p in site.four_cp_peaks],
                         "peak hours only with four_cp = true or a "
                         "transmission_usd_per_kw_year to charge on them")


def load_site_prices(series: str, source: str, where: str = "site") -> HourlyPrices:
    """The site's ``power_price_series`` (a path relative to the plan file ``source``; the
    site's table at key path ``where``)."""
    path = os.path.normpath(Path(source).parent / series)
    if not Path(path).is_file():
        state = "is a directory" if Path(path).is_dir() else "does not exist"
        raise InputError(source, f"{where}.power_price_series", series,
                         f"a CSV file, relative to the plan's folder ({path} {state})")
    stat = Path(path).stat()
    return _load_prices(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_prices(path: str, mtime_ns: int, size: int) -> HourlyPrices:
    """A series loaded once per version of its file (the TUI re-parses a plan on every edit;
    a year of hours takes ~0.1 s to read and check). Errors are raised, never cached."""
    return load_hourly_prices(path)


def site_prices(plan: Plan) -> HourlyPrices | None:
    """The plan's hourly series: the one loaded with the site, or loaded now when the site was
    made or edited in memory (a Site's ``prices`` may be missing or name another file)."""
    series = plan.site.power_price_series
    if series is None:
        return None
    loaded = plan.site.prices
    if loaded is not None and loaded.source == os.path.normpath(
            Path(plan.source).parent / series):
        return loaded
    return load_site_prices(series, plan.source)


def max_power_w(order: Order) -> float:
    """The most a unit of the order can draw: its most power-hungry allowed mode."""
    from fleetcalc.units import resolve_unit

    if not order.modes:
        return resolve_unit(order).power_w
    return max(resolve_unit(replace(order, mode=mode)).power_w for mode in order.modes)


def _check_sites(plan: Plan, site_key: str) -> None:
    """Every order names a site of the plan (one is needed when there are several), every
    site has orders, and each site's orders fit its capacity (every unit in its most
    power-hungry allowed mode)."""
    source, names = plan.source, [site.name for site in plan.sites]
    listed = ", ".join(repr(name) for name in names)
    for i, order in enumerate(plan.orders):
        if order.site is None and len(names) > 1:
            raise InputError(source, f"orders[{i}].site", "(missing)",
                             f"the name of one of the plan's sites: {listed}")
        if order.site is not None and order.site not in names:
            raise InputError(source, f"orders[{i}].site", order.site,
                             f"the name of one of the plan's sites: {listed}")
    it_mw = [0.0] * len(names)
    for order in plan.orders:
        it_mw[plan.site_index(order)] += max_power_w(order) * order.quantity / 1e6
    for s, site in enumerate(plan.sites):
        where = site_key if len(names) == 1 else f"sites[{s}]"
        if it_mw[s] == 0.0:
            raise InputError(source, f"{where}.name", site.name,
                             "a site at least one order names (remove a site with no orders)")
        # The site draws its units' IT load times its PUE.
        power_mw = it_mw[s] * site.pue
        if power_mw > site.capacity_mw * (1 + 1e-12):
            counted = f" (IT load {it_mw[s]:.3f} MW x PUE {site.pue:g})" if site.pue != 1.0 else ""
            raise InputError(source, f"{where}.capacity_mw", site.capacity_mw,
                             f"at least the {power_mw:.3f} MW the orders draw{counted}")


def parse_plan(data: dict[str, Any], source: str) -> Plan:
    """Build a Plan from parsed TOML; raises InputError naming the bad key."""
    if not isinstance(data, dict):
        raise InputError(source, "(top level)", data, "a TOML document (a table)")
    tables = ("finance", "orders", "site", "sites")
    top = {k: v for k, v in data.items() if k not in tables}
    values = read_table(top, PLAN_FIELDS, source, "", tables=tables)
    sites, site_key = parse_sites(data, source)
    finance = _parse_finance(data.get("finance", {}), source)
    raw_orders = _array_of_tables(data.get("orders"), "orders", source)
    exclude = values["exclude_origins"]
    orders = tuple(_parse_order(item, i, source, exclude) for i, item in enumerate(raw_orders))
    plan = Plan(sites=sites, finance=finance, orders=orders, source=source, **values)
    _check_sites(plan, site_key)
    return plan




def load_plan(path: str | Path) -> Plan:
    data, source = load_toml(path)
    return parse_plan(data, source)


def plan_to_toml(plan: Plan, folder: str | Path | None = None) -> dict[str, Any]:
    """The TOML document of a plan (round-trips through ``parse_plan``). ``folder``: where
    the document will be saved, when not beside ``plan.source``: the sites' price series are
    named relative to it, so the saved plan still finds its files."""

    def present(obj: Any) -> dict[str, Any]:
        # Every key with a value, except power-market keys left at their defaults (so plans
        # without them are written as before).
        out = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if value is None or f.metadata.get(NOT_A_KEY) or (
                    f.name in POWER_MARKET_KEYS and value == f.default):
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        if folder is not None and out.get("power_price_series") is not None:
            absolute = Path(plan.source).parent / out["power_price_series"]
            out["power_price_series"] = os.path.relpath(
                absolute.resolve(), Path(folder).expanduser().resolve())
        return out

    doc: dict[str, Any] = {"name": plan.name}
    if plan.exclude_origins:
        doc["exclude_origins"] = list(plan.exclude_origins)
    if plan.assumptions:
        doc["assumptions"] = list(plan.assumptions)
    sites = [present(site) for site in plan.sites]
    if len(sites) == 1 and plan.site.name == DEFAULT_SITE_NAME:
        del sites[0]["name"]
        doc["site"] = sites[0]
    else:  # the name first, as the file format shows it
        doc["sites"] = [{"name": site.pop("name"), **site} for site in sites]
    doc["finance"] = present(plan.finance)
    doc["orders"] = [present(order) for order in plan.orders]
    return doc


def check_plan_against_scenario(plan: Plan, start: dt.date, end: dt.date) -> None:
    """Orders must deliver inside the horizon [start, end)."""
    for i, order in enumerate(plan.orders):
        if not start <= order.delivery_date < end:
            raise InputError(plan.source, f"orders[{i}].delivery_date",
                             order.delivery_date.isoformat(),
                             f"a date inside the scenario horizon: from {start} to "
                             f"{end - dt.timedelta(days=1)}")


def default_plan_paths() -> list[Path]:
    """The shipped default plans: one per maker, same site and budget (plus a CN-origin one)."""
    from importlib import resources

    folder = resources.files("fleetcalc").joinpath("data/plans")
    return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith(".toml"))


def default_plans(include_cn: bool = False) -> list[Plan]:
    """The four maker plans; ``include_cn`` adds the China-origin comparison plan."""
    paths = [p for p in default_plan_paths() if include_cn or "china" not in p.stem]
    return [load_plan(p) for p in paths]
