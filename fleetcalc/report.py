"""``fleetcalc report``: the evaluation as an Excel workbook or a self-contained HTML report.

Both are built in memory and written through ``fleetcalc.io``'s atomic writer: a report
appears whole or not at all. The tables are in ``fleetcalc.report_tables``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fleetcalc.report_tables import Extras, report_format

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fleetcalc.candidates import CandidateSet
    from fleetcalc.engine import Results
    from fleetcalc.plan import Plan
    from fleetcalc.scenario import Scenario
    from fleetcalc.sensitivity import Ranges

__all__ = ["Extras", "optimiser_extras", "report_format", "sensitivity_extras", "write_report"]


def sensitivity_extras(plans: Sequence[Plan], scenario: Scenario, ranges: Ranges | None = None,
                       extras: Extras | None = None) -> Extras:
    """``extras`` with the plans' tornado (``fleetcalc sensitivity``'s, same ranges) as its
    Sensitivity section."""
    from dataclasses import replace

    from fleetcalc.report_tables import sensitivity_table
    from fleetcalc.sensitivity import tornado

    table = sensitivity_table(tornado(plans, scenario, ranges))
    return replace(extras or Extras(), sensitivity=table)


def optimiser_extras(candidates: CandidateSet, scenario: Scenario,
                     extras: Extras | None = None) -> Extras:
    """``extras`` with the candidates' optimum (``fleetcalc optimize``, NPV objective, under
    the report's scenario) as its Optimiser section."""
    from dataclasses import replace

    from fleetcalc.optimize_cli import candidates_report
    from fleetcalc.report_tables import optimiser_table

    report = candidates_report(candidates, scenario, "npv")
    return replace(extras or Extras(), optimiser=optimiser_table(report))


def write_report(results: Results, path: str | Path, extras: Extras | None = None) -> Path:
    """Write the report ``path`` asks for (.xlsx or .html) atomically; return the path."""
    suffix = report_format(path)
    extras = extras or Extras()
    if suffix == ".xlsx":
        from fleetcalc.report_excel import write_workbook

        return write_workbook(results, path, extras)
    from fleetcalc.report_html import write_html

    return write_html(results, path, extras)
