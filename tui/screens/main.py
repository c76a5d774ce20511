"""The main screen: one tab per view over the same plans, scenario and results."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane

from tui.keys import FOCUS_BINDINGS
from tui.widgets.assumptions import AssumptionsPanel
from tui.widgets.cash_flow_chart import CashFlowChart
from tui.widgets.compare_table import CompareTable
from tui.widgets.distribution import DistributionView
from tui.widgets.market_chart import MarketChart
from tui.widgets.order_detail import OrderDetail
from tui.widgets.plan_editor import PlanEditor
from tui.widgets.scenario_panel import ScenarioPanel
from tui.widgets.sensitivity_panel import SensitivityPanel
from tui.widgets.status_line import StatusLine


class MainScreen(Screen[None]):
    # Priority, as the focus keys (tui.keys): "escape s" typed in one burst leaves the field,
    # then opens the Scenario tab, instead of typing "s" into the field.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave_field", "Leave field", show=False, priority=True),
        *FOCUS_BINDINGS]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="compare", id="tabs"):
            # The underlined letter is the key that opens the tab.
            with TabPane("[u]C[/u]ompare", id="compare"), VerticalScroll(id="compare-scroll"):
                yield CompareTable(id="compare-table")
                # Assumptions first: on a narrow terminal the panels stack, and the assumptions
                # then come right under the numbers they qualify.
                with Horizontal(id="compare-bottom"):
                    yield AssumptionsPanel(id="assumptions")
                    yield CashFlowChart(id="cash-chart")
                    yield MarketChart(id="market-chart")
            with TabPane("[u]E[/u]dit plan", id="editor"):
                yield PlanEditor(id="plan-editor")
            with TabPane("[u]S[/u]cenario", id="scenario"):
                yield ScenarioPanel(id="scenario-panel")
            with TabPane("[u]O[/u]rders", id="orders"):
                yield OrderDetail(id="order-detail")
            with TabPane("[u]D[/u]istribution", id="distribution"):
                yield DistributionView(id="distribution-view")
            with TabPane("Sensi[u]t[/u]ivity", id="sensitivity"):
                yield SensitivityPanel(id="sensitivity-panel")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        if not getattr(self.app, "cursor_blink", True):
            for field in self.query(Input):
                field.cursor_blink = False

    def show_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab

    def action_leave_field(self) -> None:
        """Move focus off a text field so the one-letter keys (c, e, s, o, d, t, r, p, q) work.

        At once (``Widget.focus`` would wait a turn): the next key of a burst already goes to
        the tabs."""
        self.set_focus(self.query_one("#tabs", TabbedContent).query_one("Tabs"))
