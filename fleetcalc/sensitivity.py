"""Sensitivity: a tornado per plan (NPV and IRR at the low and high of each input, sorted by
swing) and a grid of one or two inputs (``fleetcalc sensitivity``).

Inputs and their ranges are ``fleetcalc.variation``'s. Every variant (a plan with one input
changed, or a grid cell) is a plan under a scenario; ``evaluate_variants`` evaluates them in one
``evaluate`` call per distinct scenario (plan-side inputs such as the power price all share the
base scenario), so a tornado over P plans and N inputs takes 1 + (scenario-side variants)
calls, never one per cell. Breakevens are not solved (NPV, IRR and payback only).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from fleetcalc.plan import Plan
from fleetcalc.scenario import Scenario
from fleetcalc.variation import (
    INPUTS,
    Axis,
    Change,
    Input,
    apply,
    lookup,
    model_unread,
    series_bound,
    tariff_inputs,
)

GRID_METRICS = ("npv_usd", "irr", "payback_days")
Ranges = Mapping[str, tuple[Change, Change] | None]


def evaluate_variants(variants: Sequence[tuple[Plan, Scenario]]) -> list[dict[str, Any]]:
    """The summary record (``Results.records()``) of each (plan, scenario) variant, in order,
    from one ``evaluate`` call per distinct scenario."""
    from fleetcalc.engine import evaluate

    by_scenario: dict[Scenario, list[int]] = {}
    for i, (_, scenario) in enumerate(variants):
        by_scenario.setdefault(scenario, []).append(i)
    out: list[dict[str, Any]] = [{} for _ in variants]
    for scenario, indices in by_scenario.items():
        # Results are keyed by plan name: each variant gets its own.
        plans = [replace(variants[i][0], name=f"variant {i}") for i in indices]
        records = evaluate(plans, scenario, breakevens=False).records()
        for i, record in zip(indices, records, strict=True):
            out[i] = {**record, "plan": variants[i][0].name}
    return out


@dataclass(frozen=True)
class Bar:
    """One input of a tornado: its values at the low and high end and the plan's NPV and IRR
    there."""

    input: str
    label: str
    fmt: str  # a metrics.FORMATS code for the input's values
    low: float
    high: float
    low_change: str  # how the range was given: "-30%", "+0.01", "=0.03"
    high_change: str
    npv_low_usd: float
    npv_high_usd: float
    irr_low: float | None
    irr_high: float | None

    @property
    def swing_usd(self) -> float:
        return abs(self.npv_high_usd - self.npv_low_usd)

    def record(self) -> dict[str, Any]:
        """The bar as ``sensitivity --json`` prints it."""
        return {"input": self.input, "label": self.label, "low": self.low, "high": self.high,
                "low_change": self.low_change, "high_change": self.high_change,
                "npv_low_usd": self.npv_low_usd, "npv_high_usd": self.npv_high_usd,
                "irr_low": self.irr_low, "irr_high": self.irr_high,
                "swing_usd": self.swing_usd}


@dataclass(frozen=True)
class Tornado:
    plan: str
    base_npv_usd: float
    base_irr: float | None
    bars: tuple[Bar, ...]  # largest swing first
    notes: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        return {"plan": self.plan, "base_npv_usd": self.base_npv_usd,
                "base_irr": self.base_irr, "tornado": [bar.record() for bar in self.bars],
                "notes": list(self.notes)}


def plan_inputs(
    plan: Plan, scenario: Scenario, ranges: Ranges | None = None,
) -> tuple[list[tuple[Input, Change, Change]], list[str]]:
    """The inputs of ``plan``'s tornado with their ranges (the defaults, each tariff program
    in force, then the ranges file's), and notes on inputs left out."""
    ranges = ranges or {}
    chosen = {item.name: (item, item.low, item.high)
              for item in (*INPUTS, *tariff_inputs(plan, scenario))}
    for name, span in ranges.items():
        if span is None:
            chosen.pop(name, None)
        else:
            chosen[name] = (lookup(name, "ranges", name), *span)
    notes = []
    for name in sorted(series_bound(scenario) & set(chosen)):
        del chosen[name]
        notes.append(f"{name} left out: the scenario's CSV series sets it day by day")
    for name in sorted(model_unread(scenario) & set(chosen)):
        del chosen[name]
        notes.append(f"{name} left out: network.model = '{scenario.network.model}' does not "
                     "read it")
    if "site.power_usd_per_kwh" in chosen and all(
            site.power_usd_per_kwh is None for site in plan.sites):
        del chosen["site.power_usd_per_kwh"]
        notes.append("site.power_usd_per_kwh left out: every site buys at an hourly "
                     "power_price_series")
    if plan.finance.residual == "market" and chosen.pop("finance.residual_fraction", None):
        notes.append('finance.residual_fraction left out: the plan resells at market '
                     '([finance] residual = "market"), not at a share of the price')
    return list(chosen.values()), notes


def tornado(
    plans: Sequence[Plan], scenario: Scenario, ranges: Ranges | None = None,
) -> list[Tornado]:
    """Each plan's NPV and IRR at the low and high of every input, sorted by swing."""
    variants: list[tuple[Plan, Scenario]] = [(plan, scenario) for plan in plans]
    specs = []
    for p, plan in enumerate(plans):
        inputs, notes = plan_inputs(plan, scenario, ranges)
        ends = []
        for item, low, high in inputs:
            values = []
            for change in (low, high):
                changed_plan, changed_scenario, value = apply(plan, scenario, item, change)
                variants.append((changed_plan, changed_scenario))
                values.append(value)
            ends.append((item, low, high, *values, len(variants) - 2))
        specs.append((p, ends, notes))
    records = evaluate_variants(variants)
    out = []
    for p, ends, notes in specs:
        bars = [Bar(item.name, item.label, item.fmt, low_value, high_value, low.text,
                    high.text, records[at]["npv_usd"], records[at + 1]["npv_usd"],
                    records[at]["irr"], records[at + 1]["irr"])
                for item, low, high, low_value, high_value, at in ends]
        bars.sort(key=lambda bar: -bar.swing_usd)
        out.append(Tornado(plans[p].name, records[p]["npv_usd"], records[p]["irr"],
                           tuple(bars), tuple(notes)))
    return out


def grid(plans: Sequence[Plan], scenario: Scenario, axes: Sequence[Axis]) -> pl.DataFrame:
    """NPV, IRR and payback of each plan at every combination of the axes' changes: one row
    per plan and cell, a column per axis (``Axis.column``: its value, factor or offset) in
    the axes' order."""
    cells = list(itertools.product(*(axis.changes for axis in axes)))
    variants = []
    for plan in plans:
        for cell in cells:
            changed_plan, changed_scenario = plan, scenario
            for axis, change in zip(axes, cell, strict=True):
                changed_plan, changed_scenario, _ = apply(
                    changed_plan, changed_scenario, axis.item, change)
            variants.append((changed_plan, changed_scenario))
    records = evaluate_variants(variants)
    rows = [{"plan": plan.name,
             **{axis.column: change.amount for axis, change in zip(axes, cell, strict=True)},
             **{name: records[i][name] for name in GRID_METRICS}}
            for i, (plan, cell) in enumerate(itertools.product(plans, cells))]
    schema = {"plan": pl.String(), **{axis.column: pl.Float64() for axis in axes},
              "npv_usd": pl.Float64(), "irr": pl.Float64(), "payback_days": pl.Int64()}
    return pl.DataFrame(rows, schema=schema, orient="row")


def is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
