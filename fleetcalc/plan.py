"""Purchase plans: a site plus orders (TOML), parsed and validated into frozen objects.

Every check names the file, the key path (``orders[1].origin``) and the bad value. Checks that
need the scenario (dates inside the horizon) live in ``check_plan_against_scenario``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from fleetcalc.catalog import COOLING_TYPES, STOCK_MODE, UnitFigures, get_model, model_ids
from fleetcalc.errors import InputError
from fleetcalc.validate import checked, load_toml, overridable, read_table, table_fields

# Every TOML key below is declared once, as a ``checked`` dataclass field (kind, bounds,
# default); the parser's field tables are read back from the classes. kw_only lets the fields
# stand in the order the file documents them, which is also the order they are checked in.


@dataclass(frozen=True, kw_only=True)
class Site:
    power_usd_per_kwh: float = checked("float", lo=0.0, hi=10.0)
    hosting_usd_per_kwh: float = checked("float", 0.0, lo=0.0, hi=10.0)
    capacity_mw: float = checked("float", lo=0.0, hi=100_000.0, lo_open=True)
    uptime: float = checked("float", 0.97, lo=0.0, hi=1.0)
    curtail_when_unprofitable: bool = checked("bool", True)

    @property
    def energy_usd_per_kwh(self) -> float:
        return self.power_usd_per_kwh + self.hosting_usd_per_kwh


@dataclass(frozen=True, kw_only=True)
class Finance:
    discount_rate: float = checked("float", 0.15, lo=-0.99, hi=10.0)
    residual_fraction: float = checked("float", 0.10, lo=0.0, hi=1.0)
    hodl_fraction: float = checked("float", 0.0, lo=0.0, hi=1.0)


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
    hashrate_th: float | None = checked("float", None, lo=0.001, hi=1e6)
    power_w: float | None = checked("float", None, lo=1.0, hi=1e7)
    cooling: str | None = checked("str", None, choices=COOLING_TYPES)


@dataclass(frozen=True, kw_only=True)
class Plan:
    name: str = checked("str")
    exclude_origins: tuple[str, ...] = checked("origins", ())
    site: Site
    orders: tuple[Order, ...]
    finance: Finance = Finance()
    source: str = "<memory>"

    def with_order(self, index: int, **changes: Any) -> Plan:
        orders = list(self.orders)
        orders[index] = replace(orders[index], **changes)
        return replace(self, orders=tuple(orders))

    def with_site(self, **changes: Any) -> Plan:
        return replace(self, site=replace(self.site, **changes))


PLAN_FIELDS = table_fields(Plan)
SITE_FIELDS = table_fields(Site)
FINANCE_FIELDS = table_fields(Finance)
ORDER_FIELDS = table_fields(Order)


def _parse_order(item: Any, index: int, source: str, exclude: tuple[str, ...]) -> Order:
    where = f"orders[{index}]"
    values = read_table(item, ORDER_FIELDS, source, where)
    custom = values["hashrate_th"] is not None or values["power_w"] is not None
    if values["model"] is None and not custom:
        raise InputError(source, f"{where}.model", "(missing)",
                         "a catalog model id (see `fleetcalc catalog`) or hashrate_th + power_w")
    if custom and (values["hashrate_th"] is None or values["power_w"] is None):
        missing = "power_w" if values["power_w"] is None else "hashrate_th"
        raise InputError(source, f"{where}.{missing}", "(missing)",
                         "both hashrate_th and power_w for a custom unit")
    if values["model"] is not None and not custom:
        try:
            spec = get_model(values["model"])
        except KeyError:
            # Forty ids would bury the message: name the closest few and where to see all.
            close = difflib.get_close_matches(values["model"], model_ids(), n=3, cutoff=0.5)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise InputError(source, f"{where}.model", values["model"],
                             f"a catalog model id (see `fleetcalc catalog`){hint}") from None
        if values["origin"] not in spec.origins:
            raise InputError(source, f"{where}.origin", values["origin"],
                             f"an origin {spec.model} is built in: {', '.join(spec.origins)}")
        if values["mode"] not in spec.modes:
            raise InputError(source, f"{where}.mode", values["mode"],
                             f"a mode of {spec.model}: {', '.join(spec.modes)}")
    elif values["mode"] != STOCK_MODE:
        raise InputError(source, f"{where}.mode", values["mode"], "'stock' for a custom unit")
    if values["unit_price_usd"] is not None and values["usd_per_th"] is not None:
        raise InputError(source, f"{where}.usd_per_th", values["usd_per_th"],
                         "either unit_price_usd or usd_per_th, not both")
    if values["unit_price_usd"] is None and values["usd_per_th"] is None:
        raise InputError(source, f"{where}.unit_price_usd", "(missing)",
                         "a unit price in USD (or usd_per_th)")
    if values["delivery_date"] < values["import_date"]:
        raise InputError(source, f"{where}.delivery_date", values["delivery_date"].isoformat(),
                         f"a date on or after import_date ({values['import_date'].isoformat()})")
    if values["origin"] in exclude:
        raise InputError(source, f"{where}.origin", values["origin"],
                         f"an origin not excluded by exclude_origins {list(exclude)}")
    return Order(**values)


def parse_plan(data: dict[str, Any], source: str) -> Plan:
    """Build a Plan from parsed TOML; raises InputError naming the bad key."""
    from fleetcalc.units import resolve_unit

    if not isinstance(data, dict):
        raise InputError(source, "(top level)", data, "a TOML document (a table)")
    top = {k: v for k, v in data.items() if k not in ("site", "finance", "orders")}
    values = read_table(top, PLAN_FIELDS, source, "", tables=("finance", "orders", "site"))
    site = Site(**read_table(data.get("site"), SITE_FIELDS, source, "site"))
    finance = Finance(**read_table(data.get("finance", {}), FINANCE_FIELDS, source, "finance"))
    raw_orders = data.get("orders")
    if not isinstance(raw_orders, list) or not raw_orders:
        shown = {type(None): "(missing)", dict: "(a single [orders] table)"}.get(
            type(raw_orders), raw_orders)
        raise InputError(source, "orders", shown, "at least one [[orders]] table")
    exclude = values["exclude_origins"]
    orders = tuple(_parse_order(item, i, source, exclude) for i, item in enumerate(raw_orders))
    plan = Plan(site=site, finance=finance, orders=orders, source=source, **values)
    power_mw = sum(resolve_unit(order).power_w * order.quantity for order in orders) / 1e6
    if power_mw > site.capacity_mw * (1 + 1e-12):
        raise InputError(source, "site.capacity_mw", site.capacity_mw,
                         f"at least the {power_mw:.3f} MW the orders draw")
    return plan


def load_plan(path: str | Path) -> Plan:
    data, source = load_toml(path)
    return parse_plan(data, source)


def plan_to_toml(plan: Plan) -> dict[str, Any]:
    """The TOML document of a plan (round-trips through ``parse_plan``)."""

    def present(obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in fields(obj)
                if getattr(obj, f.name) is not None}

    doc: dict[str, Any] = {"name": plan.name}
    if plan.exclude_origins:
        doc["exclude_origins"] = list(plan.exclude_origins)
    doc["site"] = present(plan.site)
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
