"""The README's example outputs of issue 14's commands quote what the code computes now (they
had gone stale when the payment schedule and customs fees moved every NPV): the tornado's base
line, a cell of the grid and the two-site plan's NPV. ``tests/test_optimize_cli.py`` does the
same for ``optimize``. When a change moves these numbers, re-run the commands the README shows
and paste their output."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import fleetcalc
from fleetcalc.plan import load_plan
from fleetcalc.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
AURADINE = ROOT / "fleetcalc" / "data" / "plans" / "4-auradine.toml"


def _block(command: str) -> str:
    """The README's output block that starts with ``$ <command>``."""
    start = README.index(f"$ {command}")
    return README[start:README.index("```", start)]


def test_the_tornado_example_starts_from_the_plans_npv_and_irr() -> None:
    record = fleetcalc.evaluate([AURADINE], None, breakevens=False).records()[0]
    line = (f"{record['plan']}: base NPV USD {record['npv_usd']:,.0f}, "
            f"IRR {record['irr']:.1%}")
    assert line in _block("fleetcalc sensitivity fleetcalc/data/plans/4-auradine.toml\n")


def test_a_cell_of_the_grid_example_is_the_plan_at_those_values() -> None:
    scenario = load_scenario(None)
    scenario = scenario.with_changes(btc=dataclasses.replace(scenario.btc, price_usd=90_000.0))
    plan = load_plan(AURADINE).with_site(power_usd_per_kwh=0.05)
    npv = fleetcalc.evaluate([plan], scenario, breakevens=False).records()[0]["npv_usd"]
    block = _block("fleetcalc sensitivity fleetcalc/data/plans/4-auradine.toml \\")
    columns = re.search(r"^\s+(0\.0300.*)$", block, re.MULTILINE).group(1).split()
    row = re.search(r"^\s+90,000\s+(.*)$", block, re.MULTILINE).group(1).split()
    assert row[columns.index("0.0500")] == f"{npv:,.0f}"


def test_the_two_site_example_shows_the_plans_npv() -> None:
    record = fleetcalc.evaluate([ROOT / "docs/examples/two-sites.toml"], None,
                                breakevens=False).records()[0]
    block = _block("fleetcalc compare docs/examples/two-sites.toml")
    npv = f"{record['npv_usd']:,.0f}"
    assert re.search(rf"^NPV \(USD\)\s+{re.escape(npv)}$", block, re.MULTILINE)
