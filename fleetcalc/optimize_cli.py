"""``fleetcalc optimize [CANDIDATES.toml] [--scenario S] [--objective npv|cvar10] [--out PLAN.toml]
[--json]``: the best plan from a candidates file.

Prices every candidate under the scenario (``fleetcalc.candidates``), solves the fleet program
(``fleetcalc.optimize``), evaluates the chosen plan like ``compare`` does, and prints the plan,
its metrics, each constraint with what is left unused and its shadow price, or one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetcalc.errors import InputError

if TYPE_CHECKING:
    from fleetcalc.candidates import CandidateSet, Priced
    from fleetcalc.optimize import Solution
    from fleetcalc.scenario import Scenario

# The worst 10% of fewer than ten paths is a fraction of one path: not a tail worth optimising.
MIN_CVAR_PATHS = 10
# (limit format, shadow price format) per constraint unit: a dollar of budget earns cents.
LIMIT_FORMATS = {"USD": ("{:,.0f}", "{:,.4f} / USD"), "MW": ("{:,.3f}", "{:,.0f} / MW"),
                 "pt": ("{:.1f}%", "{:,.0f} / pt")}
EPILOG = """\
With no file, the shipped candidates (fleetcalc/data/candidates/default.toml): the current
air-cooled models of Bitmain, MicroBT, Canaan and Auradine from each plant, a 25 MW site and
USD 15M. Shadow prices come from the LP relaxation: the objective's change per extra USD of
budget, per extra MW of a site and per extra percentage point of a share cap.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``optimize`` subcommand's arguments on ``parser``."""
    from fleetcalc.optimize import OBJECTIVES

    parser.description = "The plan that maximises NPV (or its worst-10% mean) under a budget, "
    parser.description += "megawatts, compliance and supplier caps."
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("candidates", nargs="?", metavar="CANDIDATES.toml",
                        help="candidates file (default: the shipped one)")
    parser.add_argument("--scenario", help="scenario TOML (default: built-in)")
    parser.add_argument("--objective", choices=OBJECTIVES, default="npv",
                        help="npv: mean NPV over paths (default); cvar10: mean NPV of the "
                             f"worst 10%% of paths (needs >= {MIN_CVAR_PATHS} paths)")
    parser.add_argument("--out", metavar="PLAN.toml", help="write the optimal plan here")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _check_out(out: str | None) -> Path | None:
    if out is None:
        return None
    path = Path(out)
    if path.suffix.lower() != ".toml":
        raise InputError("command line", "--out", out, "a file name ending in .toml")
    if path.is_dir():
        raise InputError("command line", "--out", out, "a file, not a directory")
    return path


def optimize_report(
    candidates: str | Path | None, scenario_path: str | Path | None, objective: str,
) -> dict[str, Any]:
    """Solve and describe the optimum as the JSON object ``optimize --json`` prints."""
    from fleetcalc.candidates import load_candidates
    from fleetcalc.scenario import load_scenario

    return candidates_report(load_candidates(candidates), load_scenario(scenario_path),
                             objective)


def candidates_report(cset: CandidateSet, scenario: Scenario, objective: str) -> dict[str, Any]:
    """``optimize_report`` on candidates and a scenario already read (the app changes the
    budget, megawatts and exclusions of a file before solving)."""
    from fleetcalc.candidates import plan_toml_text, price_candidates
    from fleetcalc.engine import evaluate
    from fleetcalc.optimize import solve
    from fleetcalc.plausibility import scenario_warnings

    if objective == "cvar10" and scenario.paths < MIN_CVAR_PATHS:
        raise InputError("command line", "--objective", objective,
                         f"a scenario with at least {MIN_CVAR_PATHS} Monte Carlo paths for the "
                         f"worst 10% of paths ({scenario.source} has paths = {scenario.paths})")
    priced = price_candidates(cset, scenario)
    solution = solve(priced.problem, objective)
    # The merchandise processing fee is per order (entry), not per unit: the program leaves it
    # out and the chosen plan's fees come off its NPV on every path (a constant shifts the
    # mean and the worst-10% mean alike).
    entry_fees_usd = priced.entry_fees_usd(solution.units)
    objective_usd = solution.objective_usd - entry_fees_usd
    npv_usd = solution.npv_usd - entry_fees_usd
    notes = []
    if entry_fees_usd > 0:
        notes.append(f"the per-unit figures leave out the merchandise processing fee, paid per "
                     f"order between a minimum and a cap; the plan's fees (USD "
                     f"{entry_fees_usd:,.0f} at day 0) are in its objective and NPV")
    if scenario.failures == "sampled":
        notes.append("candidates are priced with expected failures (NPV is linear in "
                     "quantity only in expectation); the metrics are the plan's under the "
                     "scenario's sampled failures")
    if cset.site_wide_costs:
        notes.append('the site is built whole (build = "site"): its build and fixed opex are '
                     "the same whatever is bought, so the objective leaves them out; the "
                     "plan's metrics include them")
    if solution.mip_gap > 0:
        notes.append(f"time limit reached: within {solution.mip_gap:.2%} of the optimum")
    binding = [lim.name for lim in solution.limits if lim.binding]
    plan = cset.plan(solution.units, f"{cset.name} (optimal {objective})")
    plan_toml = metrics = None
    if plan is None:
        notes.append("no candidate adds to the objective under this scenario: the best plan "
                     "buys nothing")
    else:
        plan_toml = plan_toml_text(plan, [
            f"Written by `fleetcalc optimize` from {cset.source} under the scenario "
            f"'{scenario.name}'.",
            f"Objective {objective}: USD {objective_usd:,.0f}; mean NPV USD "
            f"{npv_usd:,.0f} over {scenario.paths} path(s).",
            "Binding: " + (", ".join(binding) or "none"),
        ])
        metrics = evaluate([plan], scenario).records()[0]
    return {
        "name": cset.name, "candidates_file": cset.source, "scenario": scenario.name,
        "paths": scenario.paths, "objective": objective, "objective_usd": objective_usd,
        "npv_usd": npv_usd, "lp_objective_usd": solution.lp_objective_usd,
        "mip_gap": solution.mip_gap, **_solution_rows(priced, solution),
        "metrics": metrics, "plan_toml": plan_toml, "notes": notes,
        # The chosen plan's (its scenario's first), or the scenario's when it buys nothing.
        "warnings": list(scenario_warnings(scenario)) if metrics is None
        else metrics["warnings"],
    }


def _solution_rows(priced: Priced, solution: Solution) -> dict[str, Any]:
    """The ``quantities``, ``shadow_prices`` and ``constraints`` of the JSON object."""
    problem = priced.problem
    mean_npv = problem.unit_npv_usd.mean(axis=1)
    return {
        "quantities": [
            {"candidate": i, "model_id": priced.model_id[i], "origin": problem.origin[i],
             "units": int(solution.units[i]),
             "landed_cost_usd_per_unit": float(problem.unit_cost_usd[i]),
             "npv_usd_per_unit": float(mean_npv[i]),
             "power_kw_per_unit": float(problem.unit_mw[i] * 1000.0)}
            for i in range(problem.n)
        ],
        "shadow_prices": solution.shadow_prices(),
        "constraints": [
            {"name": lim.name, "unit": lim.unit, "limit": lim.limit, "used": lim.used,
             "unused": lim.unused, "shadow_price_usd": lim.shadow_price_usd,
             "binding": lim.binding}
            for lim in solution.limits
        ],
    }


def _metrics_line(m: dict[str, Any]) -> str:
    """The chosen plan's headline metrics in one sentence (``compare`` shows them all)."""
    irr = "n/a" if m["irr"] is None else f"{m['irr']:.1%} a year"
    payback = "never" if m["payback_days"] is None else f"{m['payback_days']:,} days"
    breakeven = m["breakeven_btc_price_usd"]
    return (f"Plan: {m['units']:,} units, {m['hashrate_th'] / 1e6:,.3f} EH/s, "
            f"{m['power_kw'] / 1000:,.2f} MW; capex USD {m['capex_usd']:,.0f} (tariffs "
            f"{m['tariffs_usd']:,.0f}); NPV USD {m['npv_usd']:,.0f}, IRR {irr}, payback "
            f"{payback}, all-in breakeven BTC price (NPV = 0) "
            f"{'n/a' if breakeven is None else f'USD {breakeven:,.0f}'}.")


def _print_report(report: dict[str, Any], out: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from fleetcalc.text import printable

    # Names, notes and file names are user text: Text objects, never markup (fleetcalc.text).
    console = Console()
    table = Table(title=Text(f"fleetcalc optimize - {printable(report['name'])} (objective "
                             f"{report['objective']}; scenario: "
                             f"{printable(report['scenario'])})"),
                  title_justify="left")
    for column in ("#", "model", "origin", "landed USD/unit", "NPV USD/unit", "units",
                   "capex USD", "MW"):
        table.add_column(column, justify="left" if column in ("model", "origin") else "right",
                         overflow="fold")
    for q in report["quantities"]:
        units = q["units"]
        cells = (str(q["candidate"]), Text(printable(q["model_id"])), q["origin"],
                 f"{q['landed_cost_usd_per_unit']:,.0f}", f"{q['npv_usd_per_unit']:,.0f}",
                 f"{units:,}", f"{units * q['landed_cost_usd_per_unit']:,.0f}",
                 f"{units * q['power_kw_per_unit'] / 1000:,.3f}")
        table.add_row(*cells, style=None if units else "dim")
    console.print(table)
    console.print(f"Objective ({report['objective']}): USD {report['objective_usd']:,.0f}"
                  f"  (LP relaxation bound USD {report['lp_objective_usd']:,.0f})")
    limits = Table(title="Constraints (shadow price: objective USD per extra unit, from the LP "
                         "relaxation)", title_justify="left")
    for column in ("constraint", "limit", "used", "unused", "USD per extra", "binding"):
        limits.add_column(column, justify="left" if column == "constraint" else "right",
                          overflow="fold")
    for c in report["constraints"]:
        fmt, price_fmt = LIMIT_FORMATS[c["unit"]]
        limits.add_row(Text(printable(c["name"])), fmt.format(c["limit"]), fmt.format(c["used"]),
                       fmt.format(c["unused"]), price_fmt.format(c["shadow_price_usd"]),
                       "[bold]yes[/]" if c["binding"] else "no")
    console.print(limits)
    if report["metrics"] is not None:
        console.print(_metrics_line(report["metrics"]), highlight=False)
    for note in report["notes"]:
        console.print(Text.assemble(("Note: ", "yellow"), printable(note)))
    if out is not None and report["plan_toml"] is not None:
        console.print(Text(f"Plan written to {printable(str(out))} (`fleetcalc compare` on it "
                           "shows every metric)."))
    elif report["plan_toml"] is not None:
        console.print("--out PLAN.toml writes the plan (`fleetcalc compare` reads it).")


def run(args: argparse.Namespace) -> int:
    """The ``optimize`` subcommand; InputError propagates to the CLI (exit 2)."""
    from fleetcalc.io import write_text_atomic
    from fleetcalc.plausibility import print_warnings

    out = _check_out(args.out)
    report = optimize_report(args.candidates, args.scenario, args.objective)
    print_warnings(report["warnings"])
    if out is not None:
        if report["plan_toml"] is None:
            report["notes"].append(f"{out} not written: the plan buys nothing")
        else:
            write_text_atomic(report["plan_toml"], out)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        _print_report(report, out)
    return 0
