"""Turning what a user typed into validated plans and scenarios (no Textual here).

Every edit goes through the same parsers as a TOML file (``parse_plan`` / ``parse_scenario``),
so the app accepts exactly what a file would accept and shows the same ``InputError`` message.
The editable keys are the parsers' own field tables (``PLAN_FIELDS``, ``SITES_FIELDS``,
``FINANCE_FIELDS``, ``ORDER_FIELDS``, ``SCENARIO_FIELDS``, ``BTC_FIELDS``, ``NETWORK_FIELDS``,
``ORIGIN_RISK_FIELDS``): a key added to a plan or scenario class is editable with no code here.

Text that is not a number or a date is passed on unchanged, so the parser names it as the bad
value ("got 'abc'; expected an integer ...") instead of the app inventing its own wording. A
blank field removes the key: its default applies, or the parser says the key is missing.

A site moves between a constant price and a market one key at a time, and each step must be a
valid plan, so the contract follows the keys typed (``_contract_follows``): a market contract
drops the constant price, a price typed at a market site makes the contract fixed, and a
series given to a site with a price keeps that price as a fixed contract.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fleetcalc.catalog import CatalogPrice, default_price, get_model, load_catalog
from fleetcalc.errors import InputError
from fleetcalc.plan import (
    DEFAULT_SITE_NAME,
    FINANCE_FIELDS,
    ORDER_FIELDS,
    PLAN_FIELDS,
    SITES_FIELDS,
    Plan,
    check_plan_against_scenario,
    parse_plan,
    plan_to_toml,
)
from fleetcalc.scenario import (
    BTC_FIELDS,
    EXOGENOUS_ONLY_KEYS,
    NETWORK_FIELDS,
    ORIGIN_RISK_FIELDS,
    RESPONSIVE_ONLY_KEYS,
    SCENARIO_FIELDS,
    Scenario,
    parse_scenario,
    scenario_to_toml,
)
from fleetcalc.tariffs import TariffOverride
from fleetcalc.validate import Field

# The tables of a plan and a scenario document the app edits, by TOML table name ("" is the top
# level); "orders" is the array of [[orders]] tables, edited one order at a time.
# "site" is the site of the order shown, with its name: naming a [site] plan's one site makes
# it a [[sites]] plan (``rename_site``).
PLAN_TABLES: dict[str, tuple[Field, ...]] = {
    "": PLAN_FIELDS, "site": SITES_FIELDS, "finance": FINANCE_FIELDS, "orders": ORDER_FIELDS,
}
# A scenario's assumptions are checked by the scenario parser apart from its field tables; the
# app edits them as a plan's, a field of the same kind (texts separated by "; ").
SCENARIO_ASSUMPTIONS = next(f for f in PLAN_FIELDS if f.name == "assumptions")
SCENARIO_TABLES: dict[str, tuple[Field, ...]] = {
    "": (*SCENARIO_FIELDS, SCENARIO_ASSUMPTIONS), "btc": BTC_FIELDS, "network": NETWORK_FIELDS,
    "origin_risk": ORIGIN_RISK_FIELDS,
}
# Keys that stand in for others: giving one removes those (an order has a unit price or a
# USD/TH price; a series replaces a start level and its growth), and removing it puts them back
# from the object being edited, so a series can be swapped for a level and back.
REPLACES: dict[str, tuple[str, ...]] = {
    "unit_price_usd": ("usd_per_th",), "usd_per_th": ("unit_price_usd",),
    "price_series": ("price_usd", "annual_drift"),
    "hashrate_series": ("hashrate_ehs", "monthly_growth"),
}
# Field kinds that are lists in TOML, typed as comma-separated items of the element kind.
LIST_KINDS = {"origins": "origin", "modes": "str", "datetimes": "datetime"}
# Texts (a plan's assumptions) hold commas of their own: their items are separated by "; ",
# as the results join assumption lists.
TEXTS_SEPARATOR = "; "
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on"), ("false", "no", "off")


class _Unset:
    """A blank field: the key is removed from the document."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


def field_of(fields: Sequence[Field], key: str) -> Field:
    return next(f for f in fields if f.name == key)


def _coerce_one(text: str, kind: str) -> Any:
    cleaned = text.replace(",", "").replace("_", "")
    try:
        if kind == "int":
            return int(cleaned)
        if kind == "float":
            return float(cleaned)
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind == "datetime":
            return dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if kind == "bool" and text.lower() in TRUE_WORDS + FALSE_WORDS:
        return text.lower() in TRUE_WORDS
    return text


def coerce(text: str, kind: str) -> Any:
    """The typed value of ``text`` for a field of ``kind``; ``UNSET`` if blank; the stripped
    text if it is not one (the parser then names it as the bad value).

    Thousands separators are allowed in numbers ("2,500") because the app displays them; list
    kinds take comma-separated items ("CN, HK").
    """
    stripped = text.strip()
    if not stripped:
        return UNSET
    if kind == "texts":
        return [item.strip() for item in stripped.split(TEXTS_SEPARATOR.strip()) if item.strip()]
    if kind in LIST_KINDS:
        return [_coerce_one(item.strip(), LIST_KINDS[kind])
                for item in stripped.split(",") if item.strip()]
    return _coerce_one(stripped, kind)


def value_text(value: Any, kind: str | None = None) -> str:
    """A value as a field shows it (and ``coerce`` reads it back): numbers with thousands
    separators and no trailing zeros, dates in ISO form, lists comma-separated, None blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        # Very large or small numbers (a difficulty, a tiny hashrate) in scientific notation:
        # six decimals would show 1e-8 as 0.
        if value != 0 and not 1e-4 <= abs(value) < 1e12:
            return f"{value:.9g}"
        return f"{value:,.6f}".rstrip("0").rstrip(".")
    if isinstance(value, dt.date):  # and datetimes
        return value.isoformat()
    if isinstance(value, tuple | list):
        separator = TEXTS_SEPARATOR if kind == "texts" else ", "
        return separator.join(value_text(item) for item in value)
    return str(value)


def _set(table: dict[str, Any], field: Field, value: Any, current: Any) -> None:
    """Set ``field`` in the TOML ``table`` to ``value`` (text is coerced by the field's kind;
    ``UNSET`` or ``None`` removes the key); ``current`` is the object the table was written
    from, whose values come back for the keys a removed key had replaced."""
    if isinstance(value, str):
        value = coerce(value, field.kind)
    if value is UNSET or value is None:
        table.pop(field.name, None)
        for key in REPLACES.get(field.name, ()):
            restored = getattr(current, key, None)
            if restored is not None:
                table[key] = restored
        return
    for key in REPLACES.get(field.name, ()):
        table.pop(key, None)
    table[field.name] = value


def validated_plan(doc: dict[str, Any], source: str, scenario: Scenario) -> Plan:
    """Parse an edited plan document with the file parser and check it against the horizon.

    Raises ``InputError`` naming the bad key and value.
    """
    plan = parse_plan(doc, source)
    check_plan_against_scenario(plan, scenario.start_date, scenario.end_date)
    return plan


def plan_part(plan: Plan, table: str, index: int = 0) -> Any:
    """The object behind a plan table: the plan, the site of order ``index``, its finance, or
    order ``index``."""
    if table == "orders":
        return plan.orders[index]
    if table == "site":  # the site of order ``index`` (a plan may have several)
        return plan.sites[plan.site_index(plan.orders[index])]
    return getattr(plan, table) if table else plan


def _doc_table(doc: dict[str, Any], plan: Plan, table: str, index: int) -> dict[str, Any]:
    """The TOML table of ``doc`` (``plan``'s) an edit of ``[table]`` for order ``index`` goes
    to: the top level, that order, its site (``[site]``, or its ``[[sites]]`` table), finance."""
    if table == "":
        return doc
    if table == "orders":
        return doc["orders"][index]
    if table == "site" and "sites" in doc:
        return doc["sites"][plan.site_index(plan.orders[index])]
    return doc.setdefault(table, {})


def edit_plan(plan: Plan, scenario: Scenario, table: str, key: str, value: Any,
              index: int = 0) -> Plan:
    """``plan`` with ``[table].key`` set to ``value``: text as typed, or a chosen value
    (validated). For "orders", of order ``index``; for "site", of that order's site."""
    if (table, key) == ("site", "name"):
        return rename_site(plan, scenario, index, value)
    doc = plan_to_toml(plan)
    target = _doc_table(doc, plan, table, index)
    _set(target, field_of(PLAN_TABLES[table], key), value, plan_part(plan, table, index))
    if table == "orders" and key in CUSTOM_UNIT:
        _pair_custom_unit(target, key, plan.orders[index])
    if table == "site":
        _contract_follows(target, key)
    if table == "finance":
        # A share of the price is the fixed resale: typing one switches to it, and switching
        # to market resale (which takes none) drops it.
        if key == "residual_fraction" and "residual_fraction" in target:
            target["residual"] = "fixed"
        if key == "residual" and target.get("residual") == "market":
            target.pop("residual_fraction", None)
    return validated_plan(doc, plan.source, scenario)


def _contract_follows(site: dict[str, Any], key: str) -> None:
    """The site's contract after ``key`` was typed (see the module docstring)."""
    series = site.get("power_price_series")
    contract = site.get("power_contract", "market" if series is not None else "fixed")
    if key == "power_contract" and contract == "market":
        site.pop("power_usd_per_kwh", None)
    elif (key in ("power_usd_per_kwh", "power_price_series") and "power_usd_per_kwh" in site
          and contract == "market"):
        site["power_contract"] = "fixed"


# A custom unit gives both its hashrate and its power; the editor sets one field at a time.
CUSTOM_UNIT = {"hashrate_th": "power_w", "power_w": "hashrate_th"}


def _pair_custom_unit(order: dict[str, Any], key: str, current: Any) -> None:
    """After ``key`` of a custom unit was set, the other one too: the order's current figure
    (its model's) fills it in; after ``key`` was cleared, the other goes too (back to the
    model's figures)."""
    from fleetcalc.units import resolve_unit

    partner = CUSTOM_UNIT[key]
    if key not in order:
        order.pop(partner, None)
    elif partner not in order:
        order[partner] = getattr(resolve_unit(current), partner)


def scenario_part(scenario: Scenario, table: str) -> Any:
    return getattr(scenario, table) if table else scenario


def edit_scenario(scenario: Scenario, table: str, key: str, value: Any) -> Scenario:
    """``scenario`` with ``[table].key`` set to ``value``: text as typed, or a chosen value
    (validated by the scenario parser)."""
    doc = scenario_to_toml(scenario)
    target = doc.setdefault(table, {}) if table else doc
    _set(target, field_of(SCENARIO_TABLES[table], key), value, scenario_part(scenario, table))
    if (table, key) == ("network", "model"):
        # Each network model reads keys the other refuses: switching drops the old model's
        # and brings back the new one's values (their defaults, or those given before).
        for other in (EXOGENOUS_ONLY_KEYS, RESPONSIVE_ONLY_KEYS):
            for name in other:
                target.pop(name, None)
        kept = EXOGENOUS_ONLY_KEYS if target.get("model") == "exogenous" else (
            RESPONSIVE_ONLY_KEYS)
        target.update({name: getattr(scenario.network, name) for name in kept
                       if getattr(scenario.network, name) is not None})
    return parse_scenario(doc, scenario.source)


# -- plans and orders ----------------------------------------------------------------------


def check_unique_name(plan: Plan, plans: Sequence[Plan], index: int | None = None) -> None:
    """Raise ``InputError`` if another plan than ``plans[index]`` has ``plan``'s name: results
    are keyed by plan name, so a second plan of a name would replace the first."""
    for i, other in enumerate(plans):
        if i != index and other.name == plan.name:
            raise InputError(plan.source, "name", plan.name,
                             f"a name no other plan in the comparison has (plan {i + 1} has "
                             "it): rename one of them")


def unique_name(name: str, plans: Sequence[Plan]) -> str:
    """``name``, or ``name 2``, ``name 3``... : the first no plan of ``plans`` has."""
    taken = {plan.name for plan in plans}
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name} {n}"
    return candidate


def add_order(plan: Plan, scenario: Scenario, index: int) -> Plan:
    """``plan`` with a new last order: a copy of order ``index`` for one unit (validated: the
    site must have room for it)."""
    doc = plan_to_toml(plan)
    doc["orders"].append({**doc["orders"][index], "quantity": 1})
    return validated_plan(doc, plan.source, scenario)


def remove_order(plan: Plan, scenario: Scenario, index: int) -> Plan:
    """``plan`` without order ``index`` (validated: a plan keeps at least one order); a site
    left with no order goes with it (a file may not keep one)."""
    doc = plan_to_toml(plan)
    del doc["orders"][index]
    return validated_plan(_sites_with_orders(doc), plan.source, scenario)


# -- sites -----------------------------------------------------------------------------------

def _several_sites(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """``doc``'s [[sites]] tables, a [site] table made the first of them (named), every order
    naming its site."""
    if "site" in doc:
        doc["sites"] = [{"name": "site 1", **doc.pop("site")}]
    sites = doc["sites"]
    for order in doc["orders"]:
        order.setdefault("site", sites[0]["name"])
    return sites


def _sites_with_orders(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` without the [[sites]] no order names; one left under the default name is the
    plain [site] table again."""
    if "sites" not in doc:
        return doc
    named = {order.get("site") for order in doc["orders"]}
    doc["sites"] = [site for site in doc["sites"] if site["name"] in named]
    if len(doc["sites"]) == 1 and doc["sites"][0]["name"] == DEFAULT_SITE_NAME:
        doc["site"] = {k: v for k, v in doc.pop("sites")[0].items() if k != "name"}
        for order in doc["orders"]:
            order.pop("site", None)
    return doc


def rename_site(plan: Plan, scenario: Scenario, index: int, value: Any) -> Plan:
    """``plan`` with the site of order ``index`` named ``value`` (text as typed), and every
    order at it naming it so. Naming a [site] plan's one site makes it a [[sites]] plan of
    one; blank gives a one-site plan its [site] table back (several sites each need a name)."""
    name = coerce(value, "str") if isinstance(value, str) else value
    s = plan.site_index(plan.orders[index])
    if name is UNSET or name is None:
        if len(plan.sites) > 1:
            raise InputError(plan.source, f"sites[{s}].name", "(blank)",
                             "a name: each of a plan's several sites has one")
        name = DEFAULT_SITE_NAME
    doc = plan_to_toml(plan)
    sites = _several_sites(doc)
    old = sites[s]["name"]
    sites[s]["name"] = name
    for order in doc["orders"]:
        if order["site"] == old:
            order["site"] = name
    return validated_plan(_sites_with_orders(doc), plan.source, scenario)


def order_to_new_site(plan: Plan, scenario: Scenario, index: int) -> Plan:
    """``plan`` with order ``index`` moved to a new site: a copy of its site (every key) under
    the first free name "site N", which the user then edits; its old site goes if no order is
    left there."""
    doc = plan_to_toml(plan)
    sites = _several_sites(doc)
    names = {site["name"] for site in sites}
    name = next(f"site {n}" for n in range(2, len(sites) + 3) if f"site {n}" not in names)
    old = sites[plan.site_index(plan.orders[index])]
    sites.append({**old, "name": name})
    doc["orders"][index]["site"] = name
    return validated_plan(_sites_with_orders(doc), plan.source, scenario)


# A new plan starts from these site values (the two a site must give), one unit of the
# catalog's most efficient priced model, bought and delivered on the scenario's first day:
# placeholders the user edits, named so in the help.
NEW_PLAN_SITE = {"power_usd_per_kwh": 0.05, "capacity_mw": 1.0}

NEW_PLAN_NAME = "New plan"


def new_plan_site_text() -> str:
    """'a 1 MW site at 0.05 USD/kWh': ``NEW_PLAN_SITE`` as the app and its help say it."""
    return (f"a {NEW_PLAN_SITE['capacity_mw']:g} MW site at "
            f"{NEW_PLAN_SITE['power_usd_per_kwh']:g} USD/kWh")


def new_plan(plans: Sequence[Plan], scenario: Scenario) -> Plan:
    """A plan from scratch (see ``NEW_PLAN_SITE``), named ``NEW_PLAN_NAME`` or a free variant."""
    catalog = load_catalog()
    priced = catalog.filter(catalog["price_usd"].is_not_null()).sort("efficiency_j_per_th")
    row = priced.row(0, named=True)
    doc = {
        "name": unique_name(NEW_PLAN_NAME, plans),
        "site": dict(NEW_PLAN_SITE),
        "orders": [{"model": row["model_id"], "quantity": 1, "unit_price_usd": row["price_usd"],
                    "origin": row["origins"][0], "import_date": scenario.start_date,
                    "delivery_date": scenario.start_date}],
    }
    return validated_plan(doc, "<new plan>", scenario)


def duplicate_plan(plan: Plan, plans: Sequence[Plan]) -> Plan:
    """A copy of ``plan`` under a free name (``<name> (copy)``), not tied to its file."""
    return replace(plan, name=unique_name(f"{plan.name} (copy)", plans), source="<memory>")


@dataclass(frozen=True)
class ModelChange:
    """A model change and what it did to the order's price."""

    plan: Plan
    old_price_usd: float
    new_price_usd: float
    catalog_price: CatalogPrice | None  # the catalog price now in the order, if one is

    @property
    def note(self) -> str:
        """One line saying how the order is priced now ('' if the unit price is unchanged)."""
        if self.catalog_price is not None:
            return (f"unit price USD {self.old_price_usd:,.2f} replaced by the catalog price "
                    f"USD {self.new_price_usd:,.2f} ({price_words(self.catalog_price)}): "
                    "type your own price if you have a quote")
        if abs(self.new_price_usd - self.old_price_usd) > 0.005:
            return (f"unit price USD {self.old_price_usd:,.2f} -> USD {self.new_price_usd:,.2f}: "
                    "the order's USD/TH applied to the new model (no catalog price)")
        return ""


def price_words(price: CatalogPrice) -> str:
    """'maker's web shop price, dated 2026-10, 2 months before the start; older than 6 months'."""
    from fleetcalc.catalog import PRICE_MAX_AGE_MONTHS

    months = round(price.age_days / 30.44)
    age = (f"{months} months before the start" if months > 0
           else "after the start" if price.age_days < 0 else "at the start")
    stale = f"; OLDER THAN {PRICE_MAX_AGE_MONTHS} MONTHS" if price.stale else ""
    return f"{price.basis_label}, dated {price.price_date_text}, {age}{stale}"


def change_model(plan: Plan, scenario: Scenario, index: int, model_id: str) -> ModelChange:
    """``plan`` with order ``index`` switched to catalog model ``model_id`` (validated).

    The price follows the model: its catalog price when it has one (the change says so, with
    the price's basis, date and age on the scenario's start date), else the order's USD/TH
    applied to the new model. The origin is kept if the new model is built there, else the
    model's first origin; the mode goes back to "stock" and the allowed modes to none (modes
    are per model).
    """
    from fleetcalc.units import resolve_unit

    spec = get_model(model_id)
    doc = plan_to_toml(plan)
    order = doc["orders"][index]
    old = plan.orders[index]
    old_unit = resolve_unit(old)
    order["model"] = model_id
    order["mode"] = "stock"
    order.pop("modes", None)
    for key in ("hashrate_th", "power_w", "cooling", "modes"):
        order.pop(key, None)
    if order["origin"] not in spec.origins:
        order["origin"] = spec.origins[0]
    catalog_price = default_price(model_id, scenario.start_date)
    if catalog_price is not None:
        order.pop("usd_per_th", None)
        order["unit_price_usd"] = catalog_price.price_usd
    elif old.usd_per_th is None:
        order.pop("unit_price_usd", None)
        order["usd_per_th"] = round(old_unit.unit_price_usd / old_unit.hashrate_th, 4)
    edited = validated_plan(doc, plan.source, scenario)
    new_unit = resolve_unit(edited.orders[index])
    return ModelChange(edited, old_unit.unit_price_usd, new_unit.unit_price_usd, catalog_price)


def catalog_price_note(plan: Plan, index: int, scenario: Scenario) -> str:
    """How order ``index`` is priced, when its price is the catalog's (with the price's basis,
    date and age) or a USD/TH; '' for a price of the user's own."""
    order = plan.orders[index]
    if order.usd_per_th is not None:
        return f"priced at {order.usd_per_th:g} USD/TH"
    if order.model is None or order.hashrate_th is not None:
        return ""
    price = default_price(order.model, scenario.start_date)
    if price is None or order.unit_price_usd != price.price_usd:
        return ""
    return f"the catalog price: {price_words(price)}"


# -- tariff overrides as text --------------------------------------------------------------

_OVERRIDE_TEXT = re.compile(
    r"^\s*(?P<origin>[A-Za-z]{2})\s+(?P<program>[A-Za-z0-9_]+)\s+(?P<rate>[0-9.]+)\s*%"
    r"\s+from\s+(?P<start>\d{4}-\d{2}-\d{2})(?:\s+to\s+(?P<end>\d{4}-\d{2}-\d{2}))?\s*$"
)
OVERRIDE_EXAMPLE = "MY reciprocal 40% from 2027-01-01 [to 2028-01-01]"


def parse_override(text: str, source: str = "tariff override") -> TariffOverride:
    """A tariff override from text like ``MY reciprocal 40% from 2027-01-01``.

    Raises ``InputError`` with the expected form when the text does not match.
    """
    match = _OVERRIDE_TEXT.match(text)
    if match is None:
        raise InputError(source, "", text.strip(), f"text like '{OVERRIDE_EXAMPLE}'")
    try:
        start = dt.date.fromisoformat(match["start"])
        end = dt.date.fromisoformat(match["end"]) if match["end"] else None
        rate = float(match["rate"]) / 100.0
    except ValueError:
        raise InputError(source, "", text.strip(), f"text like '{OVERRIDE_EXAMPLE}'") from None
    return TariffOverride(match["origin"].upper(), match["program"].lower(), rate, start, end)


def override_text(override: TariffOverride) -> str:
    """The text form of an override, as ``parse_override`` reads it."""
    text = (f"{override.origin} {override.program} {override.rate * 100:g}% "
            f"from {override.effective_from.isoformat()}")
    if override.effective_to is not None:
        text += f" to {override.effective_to.isoformat()}"
    return text


def with_overrides(scenario: Scenario, overrides: tuple[TariffOverride, ...]) -> Scenario:
    """``scenario`` with these tariff overrides, validated by the scenario parser."""
    doc = scenario_to_toml(replace(scenario, tariff_overrides=overrides))
    return parse_scenario(doc, scenario.source)


def origin_map_text(pairs: Sequence[tuple[str, str]]) -> str:
    """``tariff_origin_as`` as text: 'MY=CN, TH=CN'."""
    return ", ".join(f"{origin}={deemed}" for origin, deemed in pairs)


def with_origin_map(scenario: Scenario, text: str) -> Scenario:
    """``scenario`` with ``tariff_origin_as`` read from text like 'MY=CN, TH=CN' (blank: none),
    validated by the scenario parser."""
    mapping: Mapping[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        origin, sep, deemed = item.partition("=")
        if not sep:
            raise InputError(scenario.source, "tariff_origin_as", item,
                             "pairs like 'MY=CN' (units built in MY pay duty as if from CN), "
                             "comma-separated")
        mapping = {**mapping, origin.strip(): deemed.strip()}
    doc = scenario_to_toml(scenario)
    doc.pop("tariff_origin_as", None)
    if mapping:
        doc["tariff_origin_as"] = dict(mapping)
    return parse_scenario(doc, scenario.source)
