"""The inputs a sensitivity analysis varies, named by their TOML path, and how one is changed.

``INPUTS`` is the one table of them: the scenario's BTC price level and drift and network
parameters, the plan's power price and uptime (at every site), unit prices, degradation and
failure rate (of every order), discount rate and residual value, each with its documented
default range (``low`` and ``high``, as changes of the input's value). Each tariff program in
force for a plan's orders is an input too, ``tariff.<origin>.<program>`` (``tariff_inputs``).

A ``Change`` is ``set`` (the value), ``scale`` (x factor) or ``shift`` (+ amount); it applies to
every occurrence of the input (every order, every site, every tariff row in force) and the
result is clipped to the bounds the plan and scenario files accept. ``apply`` returns the
changed plan and scenario, and the value the input takes (at its first occurrence).

A ranges file (``read_ranges``) gives other ranges, by TOML path::

    [btc]
    price_usd = [60000.0, 140000.0]      # numbers: the values themselves
    annual_drift = ["-0.3", "+0.3"]      # "+x" / "-x": added to the input's value
    [orders]
    unit_price_usd = ["-30%", "+30%"]    # percentages: of the input's value
    [network]
    hashrate_ehs = false                 # leave the input out
    [tariff.MY]
    reciprocal = [0.0, 0.4]
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fleetcalc.errors import InputError
from fleetcalc.plan import DEFAULT_RESIDUAL_FRACTION, Order, Plan
from fleetcalc.scenario import Scenario
from fleetcalc.validate import EARLIEST_DATE, Field, convert

CHANGE_KINDS = ("set", "scale", "shift")
_TARIFF_INPUT = re.compile(r"tariff\.(?P<origin>[A-Z]{2})\.(?P<program>[a-z0-9_]+)")
_RELATIVE = re.compile(r"(?P<sign>[+-])(?P<number>[0-9.]+(?:e[+-]?[0-9]+)?)(?P<pct>%?)")


@dataclass(frozen=True)
class Change:
    """How an input's value moves: ``set`` it to ``amount``, ``scale`` it by ``amount`` or
    ``shift`` it by ``amount``."""

    kind: str
    amount: float

    def __post_init__(self) -> None:
        if self.kind not in CHANGE_KINDS:
            raise ValueError(f"change kind {self.kind!r} not in {CHANGE_KINDS}")

    def of(self, base: float) -> float:
        if self.kind == "set":
            return self.amount
        return base * self.amount if self.kind == "scale" else base + self.amount

    @property
    def text(self) -> str:
        """How the README and the tables write it: ``=0.03``, ``-30%``, ``+0.01``."""
        if self.kind == "set":
            return f"={self.amount:g}"
        if self.kind == "scale":
            return f"{(self.amount - 1) * 100:+g}%"
        return f"{self.amount:+g}"


@dataclass(frozen=True)
class Input:
    """One input: its TOML path, label, display format (``metrics.FORMATS``) and default
    range."""

    name: str  # "btc.price_usd", "site.power_usd_per_kwh", "tariff.MY.reciprocal"
    label: str
    fmt: str
    low: Change
    high: Change

    @property
    def table(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def key(self) -> str:
        return self.name.rsplit(".", 1)[1]


def _scale(low: float, high: float) -> tuple[Change, Change]:
    return Change("scale", low), Change("scale", high)


def _shift(low: float, high: float) -> tuple[Change, Change]:
    return Change("shift", low), Change("shift", high)


# The default ranges (README "Sensitivity" lists them): wide enough to matter over a five-year
# horizon, each a plausible move of the input from its value in the files.
INPUTS: tuple[Input, ...] = (
    Input("btc.price_usd", "BTC price", "usd", *_scale(0.7, 1.3)),
    Input("btc.annual_drift", "BTC price drift (a year)", "fraction_as_pct", *_shift(-0.2, 0.2)),
    Input("network.hashrate_ehs", "Network hashrate (EH/s)", "usd", *_scale(0.8, 1.2)),
    Input("network.monthly_growth", "Hashrate growth (a month)", "fraction_as_pct_2dp",
          *_shift(-0.01, 0.01)),
    # The responsive network's (network.model = "responsive"), in place of the growth: the
    # miners' power prices and the makers' supply, the two that set where hashprice settles.
    Input("network.power_median_usd_per_kwh", "Miners' median power price (USD/kWh)",
          "usd_per_kwh", *_scale(0.8, 1.2)),
    Input("network.supply_ehs_per_month", "New machines' supply (EH/s a month)", "th",
          *_scale(0.7, 1.3)),
    Input("network.fees_btc_per_block", "Fees (BTC a block)", "btc_4dp", *_scale(0.5, 2.0)),
    Input("network.pool_fee", "Pool fee", "fraction_as_pct", *_shift(-0.01, 0.01)),
    Input("site.power_usd_per_kwh", "Power price (USD/kWh)", "usd_per_kwh", *_scale(0.8, 1.2)),
    Input("site.uptime", "Uptime", "fraction_as_pct", *_shift(-0.05, 0.02)),
    Input("orders.unit_price_usd", "Unit price (USD)", "usd", *_scale(0.8, 1.2)),
    Input("orders.annual_degradation", "Degradation (a year)", "fraction_as_pct",
          *_scale(0.5, 1.5)),
    Input("orders.annual_failure_rate", "Failure rate (a year)", "fraction_as_pct",
          *_scale(0.5, 2.0)),
    Input("finance.discount_rate", "Discount rate", "fraction_as_pct", *_shift(-0.05, 0.05)),
    Input("finance.residual_fraction", "Residual value (share of price)", "fraction_as_pct",
          Change("set", 0.0), Change("shift", 0.1)),
)
BY_NAME: dict[str, Input] = {item.name: item for item in INPUTS}
TARIFF_RANGE = (Change("set", 0.0), Change("shift", 0.1))  # lifted / ten points more


def ranges_markdown() -> str:
    """The default ranges as the README's table (a test checks the README holds it)."""
    lines = ["| input | what | low | high |", "|---|---|---|---|"]
    rows = [(item.name, item.label, item.low, item.high) for item in INPUTS]
    rows.append(("tariff.<ORIGIN>.<program>", "each tariff program in force for an order",
                 *TARIFF_RANGE))
    lines += [f"| `{name}` | {label} | `{low.text}` | `{high.text}` |"
              for name, label, low, high in rows]
    return "\n".join(lines) + "\n"


def tariff_input(name: str) -> Input | None:
    """The input ``tariff.<origin>.<program>`` (None if ``name`` is not of that form)."""
    match = _TARIFF_INPUT.fullmatch(name)
    if match is None:
        return None
    return Input(name, f"Tariff {match['origin']} {match['program']}", "fraction_as_pct",
                 *TARIFF_RANGE)


def lookup(name: str, source: str, where: str) -> Input:
    """The input named ``name``; InputError naming every known one otherwise."""
    found = BY_NAME.get(name) or tariff_input(name)
    if found is None:
        raise InputError(source, where, name, "an input named by its TOML path: "
                         + ", ".join(BY_NAME) + " or tariff.<ORIGIN>.<program>")
    return found


def field_of(item: Input) -> Field:
    """The file field (kind and bounds) an input's values must respect."""
    from fleetcalc.catalog import UNIT_FIGURE_FIELDS
    from fleetcalc.plan import FINANCE_FIELDS, ORDER_FIELDS, SITE_FIELDS
    from fleetcalc.scenario import BTC_FIELDS, NETWORK_FIELDS, OVERRIDE_FIELDS

    tables = {"btc": BTC_FIELDS, "network": NETWORK_FIELDS, "site": SITE_FIELDS,
              "finance": FINANCE_FIELDS, "orders": (*ORDER_FIELDS, *UNIT_FIGURE_FIELDS),
              "tariff": OVERRIDE_FIELDS}
    key = "rate" if item.table == "tariff" else item.key
    return next(f for f in tables[item.table] if f.name == key)


def _clipped(value: float, field: Field) -> float:
    lo = -float("inf") if field.lo is None else field.lo
    hi = float("inf") if field.hi is None else field.hi
    return min(max(value, lo), hi)


def _order_value(order: Order, key: str) -> float:
    from fleetcalc.units import resolve_unit

    unit = resolve_unit(order)
    return unit.unit_price_usd if key == "unit_price_usd" else getattr(unit.figures, key)


def _tariff_rows(plan: Plan, scenario: Scenario, origin: str, program: str) -> list[dict]:
    """The schedule rows of ``program`` in force for the plan's orders of duty origin
    ``origin`` on their import dates (distinct, in date order)."""
    from fleetcalc.tariffs import apply_overrides, load_schedule, stack_on

    schedule = apply_overrides(load_schedule(), scenario.tariff_overrides)
    rows: dict[dt.date, dict] = {}
    for order in plan.orders:
        if scenario.tariff_origin(order.origin) != origin:
            continue
        stack = stack_on(schedule, origin, order.import_date).filter(program=program)
        for row in stack.iter_rows(named=True):
            rows[row["effective_from"]] = row
    return [rows[day] for day in sorted(rows)]


def tariff_inputs(plan: Plan, scenario: Scenario) -> list[Input]:
    """One input per tariff program with a rate above zero in force for the plan's imported
    orders (a US-built unit pays no import duty)."""
    from fleetcalc.tariffs import IMPORTING_COUNTRY, apply_overrides, load_schedule, stack_on

    schedule = apply_overrides(load_schedule(), scenario.tariff_overrides)
    names: dict[str, None] = {}
    for order in plan.orders:
        origin = scenario.tariff_origin(order.origin)
        if origin == IMPORTING_COUNTRY:
            continue
        for program, rate in stack_on(schedule, origin, order.import_date).select(
                "program", "rate").iter_rows():
            if rate > 0:
                names[f"tariff.{origin}.{program}"] = None
    return [item for name in names if (item := tariff_input(name)) is not None]


def _apply_tariff(
    plan: Plan, scenario: Scenario, item: Input, change: Change, field: Field,
) -> tuple[Scenario, float]:
    from fleetcalc.tariffs import TariffOverride

    _, origin, program = item.name.split(".")
    rows = _tariff_rows(plan, scenario, origin, program)
    if not rows:  # no order pays it: the program at this rate on every import
        rows = [{"rate": 0.0, "effective_from": EARLIEST_DATE, "effective_to": None}]
    overrides = tuple(
        TariffOverride(origin=origin, program=program,
                       rate=_clipped(change.of(row["rate"]), field),
                       effective_from=row["effective_from"], effective_to=row["effective_to"])
        for row in rows)
    scenario = scenario.with_changes(tariff_overrides=(*scenario.tariff_overrides, *overrides))
    return scenario, overrides[0].rate


def apply(
    plan: Plan, scenario: Scenario, item: Input, change: Change,
) -> tuple[Plan, Scenario, float]:
    """``plan`` and ``scenario`` with ``item`` changed by ``change`` wherever it occurs, and
    the value it takes (its first occurrence's)."""
    field = field_of(item)
    table, key = item.table, item.key

    def moved(base: float) -> float:
        return _clipped(change.of(base), field)

    if table in ("btc", "network"):
        part = getattr(scenario, table)
        value = moved(getattr(part, key))
        return plan, scenario.with_changes(**{table: replace(part, **{key: value})}), value
    if table == "site":
        # A market site has no constant power price (None): the input leaves it be.
        sites = tuple(site if getattr(site, key) is None
                      else replace(site, **{key: moved(getattr(site, key))})
                      for site in plan.sites)
        values = [getattr(site, key) for site in sites if getattr(site, key) is not None]
        return replace(plan, sites=sites), scenario, values[0] if values else math.nan
    if table == "finance":
        if key == "residual_fraction":
            # A share of the price is a fixed resale: a plan reselling at market switches to
            # it (a relative change counts from the share fixed resale defaults to).
            base = plan.finance.residual_fraction
            value = moved(DEFAULT_RESIDUAL_FRACTION if base is None else base)
            terms = replace(plan.finance, residual="fixed", residual_fraction=value)
            return replace(plan, finance=terms), scenario, value
        value = moved(getattr(plan.finance, key))
        return replace(plan, finance=replace(plan.finance, **{key: value})), scenario, value
    if table == "orders":
        extra = {"usd_per_th": None} if key == "unit_price_usd" else {}
        orders = tuple(replace(order, **{key: moved(_order_value(order, key))}, **extra)
                       for order in plan.orders)
        return replace(plan, orders=orders), scenario, getattr(orders[0], key)
    scenario, value = _apply_tariff(plan, scenario, item, change, field)
    return plan, scenario, value


def series_bound(scenario: Scenario) -> frozenset[str]:
    """Inputs a scenario's CSV series replace (varying them would change nothing)."""
    bound = set()
    if scenario.price_series_usd is not None:
        bound |= {"btc.price_usd", "btc.annual_drift"}
    if scenario.hashrate_series_ehs is not None:
        bound |= {"network.hashrate_ehs", "network.monthly_growth"}
    return frozenset(bound)


def model_unread(scenario: Scenario) -> frozenset[str]:
    """``[network]`` inputs the scenario's network model does not read (varying them would
    change nothing)."""
    from fleetcalc.scenario import EXOGENOUS_ONLY_KEYS, RESPONSIVE_ONLY_KEYS

    keys = EXOGENOUS_ONLY_KEYS if scenario.network.model == "responsive" else RESPONSIVE_ONLY_KEYS
    return frozenset(f"network.{key}" for key in keys)


# -- ranges files and grid axes ------------------------------------------------------------

def _change(raw: Any, item: Input, source: str, where: str) -> Change:
    """One end of a range as a file or the command line writes it."""
    expected = (f"{field_of(item).expected()}, or a change of the input's value written as "
                "a string: '+0.01' / '-0.01' (added) or '+20%' / '-20%' (of the value)")
    if isinstance(raw, str):
        match = _RELATIVE.fullmatch(raw.strip())
        if match is None:
            raise InputError(source, where, raw, expected)
        number = float(match["number"]) * (-1.0 if match["sign"] == "-" else 1.0)
        return Change("scale", 1.0 + number / 100.0) if match["pct"] else Change("shift", number)
    try:
        return Change("set", float(convert(field_of(item), raw, source, where)))
    except InputError:
        raise InputError(source, where, raw, expected) from None


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested TOML table as ``{"a.b.c": value}`` down to its non-table values."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else key
        out |= _flatten(value, path) if isinstance(value, dict) else {path: value}
    return out


def read_ranges(path: str | Path) -> dict[str, tuple[Change, Change] | None]:
    """A ranges file: ``{input name: (low, high)}``, None for an input left out."""
    from fleetcalc.validate import load_toml

    data, source = load_toml(path)
    ranges: dict[str, tuple[Change, Change] | None] = {}
    for name, raw in _flatten(data).items():
        item = lookup(name, source, name)
        if raw is False:
            ranges[name] = None
            continue
        if not isinstance(raw, list) or len(raw) != 2:
            raise InputError(source, name, raw, "[low, high] (two values), or false to leave "
                                                "the input out")
        ranges[name] = (_change(raw[0], item, source, f"{name}[0]"),
                        _change(raw[1], item, source, f"{name}[1]"))
    return ranges


@dataclass(frozen=True)
class Axis:
    """One axis of a sensitivity grid: an input and the changes it takes, all of one kind:
    values (``set``) or factors (``scale``, from percentages) of its value wherever it occurs
    (a factor keeps a plan's orders priced apart and its sites' prices apart)."""

    item: Input
    changes: tuple[Change, ...]

    @property
    def kind(self) -> str:
        return self.changes[0].kind

    @property
    def column(self) -> str:
        """The grid table's column: the input's name, with the kind unless values."""
        return self.item.name if self.kind == "set" else f"{self.item.name} ({self.kind})"

    def label(self, change: Change) -> str:
        """A row or column heading: the value, or the change (``-20%``, ``+0.01``)."""
        from fleetcalc.metrics import format_value

        return format_value(change.amount, self.item.fmt) if self.kind == "set" else change.text


MAX_AXIS_POINTS = 101
_AXIS_FORM = ("NAME=FROM:TO:POINTS or NAME=V1,V2,... (values, or percentages of the value "
              "like -20%:+20%:5) like btc.price_usd=60000:140000:9")


def parse_axis(text: str) -> Axis:
    """``"btc.price_usd=60000:140000:9"`` (from, to, number of points), ``"site.uptime=0.9,
    0.95,1"`` (the values), or the same in percentages of the input's value wherever it
    occurs: ``"orders.unit_price_usd=-20%:+20%:5"`` (factors; a plan's orders stay priced
    apart); InputError naming ``--grid`` otherwise."""
    source, where = "command line", "--grid"
    name, sep, spec = text.partition("=")
    if not sep:
        raise InputError(source, where, text, _AXIS_FORM)
    item = lookup(name.strip(), source, where)
    parts = [part.strip() for part in spec.split(":")]
    if len(parts) == 3:
        ends = [_change(_number_or_text(part), item, source, f"{where} {item.name}")
                for part in parts[:2]]
        try:
            count = int(parts[2])
        except ValueError:
            raise InputError(source, where, text, _AXIS_FORM) from None
        if not 2 <= count <= MAX_AXIS_POINTS:
            raise InputError(source, where, text, f"from 2 to {MAX_AXIS_POINTS} points")
        if ends[0].kind != ends[1].kind:
            raise InputError(source, where, text, "both ends values, or both percentages")
        lo, hi = ends[0].amount, ends[1].amount
        # 12 significant digits: 0.03:0.09:7 gives 0.05, not 0.049999999999999996.
        changes = [Change(ends[0].kind, float(f"{lo + (hi - lo) * i / (count - 1):.12g}"))
                   for i in range(count)]
    else:
        changes = [_change(_number_or_text(value), item, source, f"{where} {item.name}")
                   for value in spec.split(",")]
    if len({change.kind for change in changes}) != 1:
        raise InputError(source, where, text, "all values, or all percentages")
    if len(set(changes)) != len(changes):
        raise InputError(source, where, text, "distinct values")
    return Axis(item, tuple(changes))


def _number_or_text(value: str) -> float | str:
    """A number (a value, even signed: a drift of -0.1), or a percentage (a factor)."""
    text = value.strip()
    if text.endswith("%"):
        return text
    try:
        return float(text)
    except ValueError:
        return text
