"""The assumptions behind the numbers, always next to them (scrolls when they do not fit)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from fleetcalc.engine import Results
from fleetcalc.text import printable
from tui.widgets.deferred import update_if_changed


def assumption_lines(results: Results) -> list[str]:
    """The scenario's assumptions, then the plans' and any the evaluation added (e.g.
    unverified tariffs)."""
    lines = results.assumption_list()
    if results.scenario.paths > 1:
        lines.append("Monte Carlo: each row names its statistic (mean or median over all "
                     "paths)")
    return lines


class AssumptionsPanel(VerticalScroll):
    """Bulleted list of assumptions, titled so nobody mistakes them for observed facts."""

    def compose(self) -> ComposeResult:
        yield Static("…", id="assumption-text")

    def on_mount(self) -> None:
        self.border_title = "Assumptions (not facts)"
        self.watch(self.app, "results", self._show)

    def _show(self, results: Results | None) -> None:
        if results is None:
            return
        lines = assumption_lines(results)
        if any(results.summary["tariff_assumption"].to_list()):
            lines.append("see Orders (o) for the tariff programs and their sources")
        # One line per assumption: each is plain text, its own newlines shown escaped.
        update_if_changed(self.query_one("#assumption-text", Static),
            Content("\n".join(f"• {printable(line)}" for line in lines) or "none stated"))
