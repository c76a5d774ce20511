"""The grid: a TOML file of list-valued fields whose cartesian product is evaluated.

::

    power_usd_per_kwh = [0.04, 0.06]        # site field, applied to every plan
    [btc]
    price_usd = [60000.0, 90000.0]          # also annual_drift, annual_volatility
    [network]
    monthly_growth = [0.0, 0.02]            # also hashrate_ehs, fees_btc_per_block; with
                                            # model = "responsive" power_median_usd_per_kwh,
                                            # power_price_log_sd, supply_ehs_per_month,
                                            # target_payback_days instead of monthly_growth
    [[tariff]]                              # -> a TariffOverride per value
    origin = "MY"
    program = "reciprocal"
    rate = [0.0, 0.19, 0.40]
    effective_from = 2027-01-01             # effective_to optional

Axes vary in the file's order, the last one fastest; ``Variant.index`` numbers the combinations.
Each element is checked by the same field table (``SITE_FIELDS``, ``BTC_FIELDS``,
``NETWORK_FIELDS``, ``OVERRIDE_FIELDS``) and converter (``validate.convert``) as a plan or
scenario file, so a grid accepts exactly the values those files accept.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetcalc.errors import InputError

if TYPE_CHECKING:
    from fleetcalc.scenario import Scenario

SCENARIO_AXES = (
    "btc.price_usd", "btc.annual_drift", "btc.annual_volatility", "network.monthly_growth",
    "network.hashrate_ehs", "network.fees_btc_per_block",
    # The responsive network's (network.model = "responsive"):
    "network.power_median_usd_per_kwh", "network.power_price_log_sd",
    "network.supply_ehs_per_month", "network.target_payback_days",
)
SITE_AXES = ("power_usd_per_kwh",)


@dataclass(frozen=True)
class Variant:
    """One combination of grid values: the scenario it gives and the site power override."""

    index: int
    values: tuple[tuple[str, float], ...]  # (axis name, value), in axis order
    scenario: Scenario
    power_usd_per_kwh: float | None


@dataclass(frozen=True)
class _Axis:
    name: str  # column name without the grid_ prefix
    values: tuple[float, ...]
    tariff: dict[str, Any] | None = None  # origin, program, dates of a tariff axis


def _field(fields: tuple[Any, ...], name: str) -> Any:
    return next(f for f in fields if f.name == name)


def _list_values(raw: Any, field: Any, source: str, where: str) -> tuple[float, ...]:
    from fleetcalc.validate import convert

    if not isinstance(raw, list):
        raise InputError(source, where, raw, f"a list of values, each {field.expected()}")
    if not raw:
        raise InputError(source, where, raw, f"a non-empty list, each {field.expected()}")
    return tuple(
        float(convert(field, item, source, f"{where}[{i}]")) for i, item in enumerate(raw)
    )


def _tariff_axis(item: Any, index: int, source: str) -> _Axis:
    from fleetcalc.scenario import OVERRIDE_FIELDS
    from fleetcalc.validate import read_table

    where = f"tariff[{index}]"
    if not isinstance(item, dict):
        raise InputError(source, where, item, "a [[tariff]] table")
    if "rate" not in item:
        raise InputError(source, f"{where}.rate", "(missing)", "a list of tariff rates")
    fixed = read_table({k: v for k, v in item.items() if k != "rate"},
                       tuple(f for f in OVERRIDE_FIELDS if f.name != "rate"), source, where)
    if fixed["effective_to"] is not None and fixed["effective_to"] < fixed["effective_from"]:
        raise InputError(source, f"{where}.effective_to", fixed["effective_to"].isoformat(),
                         f"a date on or after effective_from ({fixed['effective_from']})")
    rates = _list_values(item["rate"], _field(OVERRIDE_FIELDS, "rate"), source, f"{where}.rate")
    return _Axis(f"tariff.{fixed['origin']}.{fixed['program']}", rates, fixed)


def _grid_axes(data: dict[str, Any], source: str) -> list[_Axis]:
    from fleetcalc.plan import SITE_FIELDS
    from fleetcalc.scenario import BTC_FIELDS, NETWORK_FIELDS

    tables = {"btc": BTC_FIELDS, "network": NETWORK_FIELDS}
    allowed = sorted((*SITE_AXES, *SCENARIO_AXES, "tariff"))
    axes: list[_Axis] = []
    for key, raw in data.items():
        if key in SITE_AXES:
            axes.append(_Axis(key, _list_values(raw, _field(SITE_FIELDS, key), source, key)))
        elif key in tables:
            if not isinstance(raw, dict):
                raise InputError(source, key, raw, f"a [{key}] table of lists")
            for name, values in raw.items():
                axis = f"{key}.{name}"
                if axis not in SCENARIO_AXES:
                    raise InputError(source, axis, name, "one of the grid keys "
                                     + ", ".join(allowed))
                axes.append(_Axis(axis, _list_values(values, _field(tables[key], name),
                                                     source, axis)))
        elif key == "tariff":
            if not isinstance(raw, list):
                raise InputError(source, key, raw, "[[tariff]] tables")
            axes.extend(_tariff_axis(item, i, source) for i, item in enumerate(raw))
        else:
            raise InputError(source, key, key, "one of the grid keys " + ", ".join(allowed))
    seen: set[str] = set()
    for axis in axes:
        if axis.name in seen:
            raise InputError(source, axis.name, "(twice)",
                             "each origin and program swept by one [[tariff]] table only")
        seen.add(axis.name)
    return axes


def _apply(scenario: Scenario, axis: _Axis, value: float) -> Scenario:
    from fleetcalc.tariffs import TariffOverride

    if axis.tariff is not None:
        override = TariffOverride(rate=value, **axis.tariff)
        return scenario.with_changes(tariff_overrides=(*scenario.tariff_overrides, override))
    table, name = axis.name.split(".")
    return scenario.with_changes(**{table: replace(getattr(scenario, table), **{name: value})})


def expand_grid(scenario: Scenario, grid_path: str | Path | None) -> list[Variant]:
    """Every combination of a grid file's values applied to ``scenario`` (one variant if none).

    Raises InputError naming the grid file and key on an unknown key, a value that is not a
    non-empty list, or an element of the wrong type or out of range.
    """
    if grid_path is None:
        return [Variant(0, (), scenario, None)]
    from fleetcalc.validate import load_toml

    data, source = load_toml(grid_path)
    axes = _grid_axes(data, source)
    # A CSV series replaces the generated path, so sweeping what generates it would do nothing.
    series_bound = {
        "btc.price_usd": scenario.price_series_usd, "btc.annual_drift": scenario.price_series_usd,
        "network.hashrate_ehs": scenario.hashrate_series_ehs,
        "network.monthly_growth": scenario.hashrate_series_ehs,
    }
    from fleetcalc.scenario import EXOGENOUS_ONLY_KEYS, RESPONSIVE_ONLY_KEYS

    model = scenario.network.model
    other_model = EXOGENOUS_ONLY_KEYS if model == "responsive" else RESPONSIVE_ONLY_KEYS
    for axis in axes:
        if series_bound.get(axis.name) is not None:
            raise InputError(source, axis.name, list(axis.values),
                             "no sweep of a field the scenario's CSV series replaces")
        if axis.name.startswith("network.") and axis.name.split(".")[1] in other_model:
            raise InputError(source, axis.name, list(axis.values),
                             f"no sweep of a field the scenario's network.model = '{model}' "
                             "does not read")
    variants = []
    for index, combo in enumerate(itertools.product(*(axis.values for axis in axes))):
        varied, power = scenario, None
        for axis, value in zip(axes, combo, strict=True):
            if axis.name in SITE_AXES:
                power = value
            else:
                varied = _apply(varied, axis, value)
        values = tuple((axis.name, value) for axis, value in zip(axes, combo, strict=True))
        variants.append(Variant(index, values, varied, power))
    return variants

