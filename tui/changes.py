"""What the user changed in the scenario, said where the scenario is named and described.

An edited scenario is no longer the one its file (or the built-in default) describes: the app
names it ``<name> (edited)`` and puts one line per change at the top of its assumptions
("edited: btc.price_usd = 120,000 (was 84,714)"), so the title, the assumptions panel and a
saved scenario file all say what the numbers rest on. Changes are always counted from the
scenario as it was opened, so undoing an edit removes its line. No Textual here.
"""

from __future__ import annotations

from typing import Any

from fleetcalc.scenario import Scenario
from tui.edits import SCENARIO_TABLES, override_text, scenario_part, value_text

EDITED_SUFFIX = " (edited)"
EDITED_PREFIX = "edited: "
# Keys that describe the scenario rather than set it: never listed as changes.
_DESCRIPTIVE = ("name", "assumptions")


def _flat(scenario: Scenario) -> dict[str, Any]:
    """Every input of ``scenario`` by its TOML key path (defaults included, so a table written
    out in full differs from one left out only where a value does); an override or an
    origin mapping is a key of its own."""
    flat: dict[str, Any] = {}
    for table, fields in SCENARIO_TABLES.items():
        part = scenario_part(scenario, table)
        for field in fields:
            if not (table == "" and field.name in _DESCRIPTIVE):
                flat[f"{table}.{field.name}" if table else field.name] = getattr(part, field.name)
    for origin, deemed in scenario.tariff_origin_as:
        flat[f"tariff_origin_as.{origin}"] = deemed
    for override in scenario.tariff_overrides:
        flat[f"tariff override {override_text(override)}"] = True
    return flat


def _shown(value: Any) -> str:
    return value_text(value) if value is not None else "none"


def own_assumptions(base: Scenario, edited: Scenario) -> tuple[str, ...]:
    """``edited``'s assumptions without the change lines the app put in them (those of a file
    opened as saved from an edit, ``base``'s own, stay)."""
    return tuple(a for a in edited.assumptions
                 if not (a.startswith(EDITED_PREFIX) and a not in base.assumptions))


def scenario_changes(base: Scenario, edited: Scenario) -> list[str]:
    """One line per input of ``edited`` that differs from ``base``, in file order; the
    assumptions, typed by the user, as one line."""
    old, new = _flat(base), _flat(edited)
    lines = []
    if own_assumptions(base, edited) != base.assumptions:
        lines.append("assumptions rewritten")
    for key in dict.fromkeys([*new, *old]):
        if old.get(key) == new.get(key):
            continue
        if key.startswith("tariff override"):
            lines.append(f"{key} {'added' if key in new else 'removed'}")
        elif key not in new:
            lines.append(f"{key} removed (was {_shown(old[key])})")
        elif key not in old:
            lines.append(f"{key} = {_shown(new[key])} (not set before)")
        else:
            lines.append(f"{key} = {_shown(new[key])} (was {_shown(old[key])})")
    return lines


def mark_edited(base: Scenario, edited: Scenario) -> Scenario:
    """``edited`` named and described as an edit of ``base``: its changes listed first in its
    assumptions (then ``base``'s), and ``base``'s name with ``EDITED_SUFFIX`` while anything
    differs. A name the user typed is kept as typed."""
    changes = scenario_changes(base, edited)
    plain = base.name.removesuffix(EDITED_SUFFIX)
    if edited.name.removesuffix(EDITED_SUFFIX) != plain:
        name = edited.name  # renamed by the user
    else:
        name = plain + EDITED_SUFFIX if changes else base.name
    # Before the scenario's own (base's, or as the user rewrote them), which may describe a
    # value the edit replaced ("BTC price held flat").
    assumptions = (tuple(EDITED_PREFIX + line for line in changes)
                   + own_assumptions(base, edited))
    return edited.with_changes(name=name, assumptions=assumptions)
