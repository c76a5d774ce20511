"""``fleetcalc report``: the evaluation as an Excel workbook or a self-contained HTML report.

Both are built in memory and written through ``fleetcalc.io``'s atomic writer: a report
appears whole or not at all. The tables are in ``fleetcalc.report_tables``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fleetcalc.report_tables import Extras, report_format

if TYPE_CHECKING:
    from fleetcalc.engine import Results

__all__ = ["Extras", "report_format", "write_report"]


def write_report(results: Results, path: str | Path, extras: Extras | None = None) -> Path:
    """Write the report ``path`` asks for (.xlsx or .html) atomically; return the path."""
    suffix = report_format(path)
    extras = extras or Extras()
    if suffix == ".xlsx":
        from fleetcalc.report_excel import write_workbook

        return write_workbook(results, path, extras)
    from fleetcalc.report_html import write_html

    return write_html(results, path, extras)
