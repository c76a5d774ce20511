"""Turning what a user typed into validated plans and scenarios (no Textual here).

Every edit goes through the same parsers as a TOML file (``parse_plan`` / ``parse_scenario``),
so the app accepts exactly what a file would accept and shows the same ``InputError`` message.
Text that is not a number or a date is passed on unchanged, so the parser names it as the bad
value ("got 'abc'; expected an integer ...") instead of the app inventing its own wording.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from fleetcalc import plan as plan_fields
from fleetcalc.errors import InputError
from fleetcalc.plan import Plan, check_plan_against_scenario, parse_plan, plan_to_toml
from fleetcalc.scenario import Scenario, parse_scenario, scenario_to_toml
from fleetcalc.tariffs import TariffOverride

# The keys of an order, a site and the finance table, with the kind of text each takes: read
# from the plan's field tables, so a key added to a plan is editable here too.
ORDER_FIELDS = {f.name: f.kind for f in plan_fields.ORDER_FIELDS}
SITE_FIELDS = {f.name: f.kind for f in plan_fields.SITE_FIELDS}
FINANCE_FIELDS = {f.name: f.kind for f in plan_fields.FINANCE_FIELDS}
# Keys that may be left out (their default applies): an emptied field removes the key.
_OPTIONAL = {f.name for table in (plan_fields.ORDER_FIELDS, plan_fields.SITE_FIELDS,
                                  plan_fields.FINANCE_FIELDS) for f in table if not f.required}
# Scenario fields: (table or "" for top level, key) -> kind.
SCENARIO_FIELDS: dict[tuple[str, str], str] = {
    ("btc", "price_usd"): "float", ("btc", "annual_drift"): "float",
    ("btc", "annual_volatility"): "float", ("network", "hashrate_ehs"): "float",
    ("network", "monthly_growth"): "float", ("network", "fees_btc_per_block"): "float",
    ("network", "pool_fee"): "float", ("", "paths"): "int", ("", "seed"): "int",
}

_OVERRIDE_TEXT = re.compile(
    r"^\s*(?P<origin>[A-Za-z]{2})\s+(?P<program>[A-Za-z0-9_]+)\s+(?P<rate>[0-9.]+)\s*%"
    r"\s+from\s+(?P<start>\d{4}-\d{2}-\d{2})(?:\s+to\s+(?P<end>\d{4}-\d{2}-\d{2}))?\s*$"
)
OVERRIDE_EXAMPLE = "MY reciprocal 40% from 2027-01-01 [to 2028-01-01]"


def coerce(text: str, kind: str) -> Any:
    """The typed value of ``text`` for a field of ``kind``; the stripped text if it is not one.

    Thousands separators are allowed in numbers ("2,500") because the app displays them.
    """
    stripped = text.strip()
    cleaned = stripped.replace(",", "").replace("_", "")
    try:
        if kind == "int":
            return int(cleaned)
        if kind == "float":
            return float(cleaned)
        if kind == "date":
            return dt.date.fromisoformat(stripped)
    except ValueError:
        return stripped
    return stripped


def validated_plan(doc: dict[str, Any], source: str, scenario: Scenario) -> Plan:
    """Parse an edited plan document with the file parser and check it against the horizon.

    Raises ``InputError`` naming the bad key and value.
    """
    plan = parse_plan(doc, source)
    check_plan_against_scenario(plan, scenario.start_date, scenario.end_date)
    return plan


def _set(table: dict[str, Any], key: str, text: str, kind: str) -> None:
    """Set ``key`` of a plan table from typed text; emptied text removes an optional key."""
    if not text.strip() and key in _OPTIONAL:
        table.pop(key, None)
    else:
        table[key] = coerce(text, kind)


def edit_order(plan: Plan, scenario: Scenario, index: int, key: str, text: str) -> Plan:
    """``plan`` with order ``index``'s ``key`` set from the typed ``text`` (validated)."""
    doc = plan_to_toml(plan)
    order = doc["orders"][index]
    if key == "unit_price_usd":
        # A typed unit price replaces a USD/TH price: an order carries one or the other.
        order.pop("usd_per_th", None)
    _set(order, key, text, ORDER_FIELDS[key])
    return validated_plan(doc, plan.source, scenario)


def edit_site(plan: Plan, scenario: Scenario, key: str, text: str, site: int = 0) -> Plan:
    """``plan`` with site ``site``'s ``key`` set from the typed ``text`` (validated)."""
    doc = plan_to_toml(plan)
    table = doc["site"] if "site" in doc else doc["sites"][site]
    _set(table, key, text, SITE_FIELDS[key])
    return validated_plan(doc, plan.source, scenario)


def edit_finance(plan: Plan, scenario: Scenario, key: str, text: str) -> Plan:
    """``plan`` with the finance table's ``key`` set from the typed ``text`` (validated)."""
    doc = plan_to_toml(plan)
    _set(doc["finance"], key, text, FINANCE_FIELDS[key])
    return validated_plan(doc, plan.source, scenario)


def change_model(plan: Plan, scenario: Scenario, index: int, model_id: str) -> Plan:
    """``plan`` with order ``index`` switched to catalog model ``model_id`` (validated).

    The price follows the model: its list price when the catalog has one, else the order's
    USD/TH applied to the new model. The origin is kept if the new model is built there, else
    the model's first origin; the mode goes back to "stock" (modes are per model).
    """
    from fleetcalc.catalog import get_model

    spec = get_model(model_id)
    doc = plan_to_toml(plan)
    order = doc["orders"][index]
    old = plan.orders[index]
    order["model"] = model_id
    order["mode"] = "stock"
    for key in ("hashrate_th", "power_w", "cooling"):
        order.pop(key, None)
    if order["origin"] not in spec.origins:
        order["origin"] = spec.origins[0]
    if spec.price_usd is not None:
        order.pop("usd_per_th", None)
        order["unit_price_usd"] = spec.price_usd
    elif old.usd_per_th is None and old.unit_price_usd is not None:
        from fleetcalc.units import resolve_unit

        old_usd_per_th = old.unit_price_usd / resolve_unit(old).hashrate_th
        order.pop("unit_price_usd", None)
        order["usd_per_th"] = round(old_usd_per_th, 4)
    return validated_plan(doc, plan.source, scenario)


def change_origin(plan: Plan, scenario: Scenario, index: int, origin: str) -> Plan:
    """``plan`` with order ``index`` built in ``origin`` (validated)."""
    doc = plan_to_toml(plan)
    doc["orders"][index]["origin"] = origin
    return validated_plan(doc, plan.source, scenario)


def edit_scenario(scenario: Scenario, table: str, key: str, text: str) -> Scenario:
    """``scenario`` with ``[table].key`` set from the typed ``text`` (validated)."""
    doc = scenario_to_toml(scenario)
    value = coerce(text, SCENARIO_FIELDS[(table, key)])
    (doc[table] if table else doc)[key] = value
    return parse_scenario(doc, scenario.source)


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
