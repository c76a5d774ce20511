"""The Sensitivity tab: a tornado per plan and, for the selected plan, a heat table of two
chosen inputs.

Computed in a worker (``fleetcalc.sensitivity``: a few ``evaluate`` calls, a second or two) while
the tab is on screen, again when the plans, the scenario, the selected plan or the chosen
inputs change; a result for inputs that have changed since is dropped. A failure shows under
the controls and as a notification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from rich.console import Group
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from fleetcalc.errors import InputError
from fleetcalc.metrics import BY_NAME
from fleetcalc.plan import Plan
from fleetcalc.scenario import Scenario
from fleetcalc.sensitivity import GRID_METRICS, Tornado
from fleetcalc.text import printable
from fleetcalc.variation import INPUTS, Axis, Change, Input
from tui.format import plain
from tui.widgets.deferred import DeferredRedraw
from tui.widgets.plan_picker import PlanPicker

GRID_POINTS = 5
DEFAULT_AXES = ("btc.price_usd", "site.power_usd_per_kwh")


@dataclass(frozen=True)
class _Request:
    """What one computation is for (a result for another request is stale)."""

    plans: tuple[Plan, ...]
    scenario: Scenario
    selected: int
    axes: tuple[str, str]
    metric: str


def grid_axis(item: Input, plan: Plan, scenario: Scenario) -> Axis:
    """``GRID_POINTS`` points of ``item`` across its default range for ``plan``: factors of
    its value where the plan has several values of it (sites' power prices, orders' unit
    prices), else values."""
    from fleetcalc.variation import apply

    several = ((item.table == "site" and len({getattr(s, item.key) for s in plan.sites}) > 1)
               or (item.table == "orders" and len(plan.orders) > 1))
    if several and item.low.kind == item.high.kind == "scale":
        low, high, kind = item.low.amount, item.high.amount, "scale"
    else:
        low = apply(plan, scenario, item, item.low)[2]
        high = apply(plan, scenario, item, item.high)[2]
        kind = "set"
    step = (high - low) / (GRID_POINTS - 1)
    return Axis(item, tuple(Change(kind, float(f"{low + step * i:.6g}"))
                            for i in range(GRID_POINTS)))


class SensitivityPanel(DeferredRedraw, Widget):
    @dataclass
    class SensitivityComputed(Message):
        """The worker's tornadoes and grid for ``request``."""

        request: _Request
        tornadoes: list[Tornado]
        grid: pl.DataFrame
        axes: tuple[Axis, Axis]

    def compose(self) -> ComposeResult:
        options = [(item.label, item.name) for item in INPUTS]
        with Horizontal(id="sensitivity-controls"):
            yield PlanPicker(id="sensitivity-plan")
            yield Label("Heat table of", classes="inline-label")
            yield Select(options, id="grid-x", value=DEFAULT_AXES[0], allow_blank=False,
                         compact=True)
            yield Label("by", classes="inline-label")
            yield Select(options, id="grid-y", value=DEFAULT_AXES[1], allow_blank=False,
                         compact=True)
            yield Select([(BY_NAME[m].label, m) for m in GRID_METRICS], id="grid-metric",
                         value="npv_usd", allow_blank=False, compact=True)
        yield Static("", id="sensitivity-note", classes="hint")
        with VerticalScroll(id="sensitivity-body"):
            yield Static("", id="heat-table")
            yield Static("", id="tornadoes")

    def on_mount(self) -> None:
        self._shown: _Request | None = None
        self._pending: _Request | None = None
        self.follow_app("plans", "scenario", "selected")

    def _request(self) -> _Request | None:
        app: Any = self.app
        if app.scenario is None:
            return None
        axes = (str(self.query_one("#grid-x", Select).value),
                str(self.query_one("#grid-y", Select).value))
        return _Request(tuple(app.plans), app.scenario, min(app.selected, len(app.plans) - 1),
                        axes, str(self.query_one("#grid-metric", Select).value))

    def _tab_active(self) -> bool:
        """Whether this panel's tab is the one shown (a hidden pane can still get a Show
        event as the tabs mount; seconds of computing for nobody)."""
        from textual.widgets import TabbedContent, TabPane

        pane = next((a for a in self.ancestors if isinstance(a, TabPane)), None)
        tabs = next((a for a in self.ancestors if isinstance(a, TabbedContent)), None)
        return pane is None or tabs is None or tabs.active == pane.id

    def redraw(self) -> None:
        if not self._tab_active():
            self._stale = True
            return
        request = self._request()
        if request is None or request in (self._shown, self._pending):
            return
        note = self.query_one("#sensitivity-note", Static)
        note.remove_class("-error")
        if request.axes[0] == request.axes[1]:
            note.update("Pick two different inputs for the heat table.")
            return
        note.update("Computing the tornadoes and the heat table…")
        self._pending = request
        self._compute(request)

    @on(Select.Changed, "#grid-x, #grid-y, #grid-metric")
    def _controls_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.redraw()

    @work(thread=True, exclusive=True, exit_on_error=False, group="sensitivity")
    def _compute(self, request: _Request) -> None:
        from fleetcalc.sensitivity import grid, tornado
        from fleetcalc.variation import BY_NAME as INPUT_BY_NAME

        plan = request.plans[request.selected]
        axes = tuple(grid_axis(INPUT_BY_NAME[name], plan, request.scenario)
                     for name in request.axes)
        tornadoes = tornado(list(request.plans), request.scenario)
        cells = grid([plan], request.scenario, axes)
        if not get_current_worker().is_cancelled:
            self.post_message(self.SensitivityComputed(request, tornadoes, cells, axes))

    @on(SensitivityComputed)
    def _show(self, message: SensitivityComputed) -> None:
        from fleetcalc.sensitivity_view import heat_table, tornado_table

        request = message.request
        if request != self._request():
            return  # inputs changed meanwhile: their computation is on its way
        self._shown, self._pending = request, None
        plan = request.plans[request.selected]
        pivot = plan.finance.discount_rate if request.metric == "irr" else 0.0
        self.query_one("#heat-table", Static).update(heat_table(
            message.grid, plan.name, message.axes, request.metric, pivot))
        self.query_one("#tornadoes", Static).update(
            Group(*(tornado_table(result) for result in message.tornadoes)))
        self.query_one("#sensitivity-note", Static).update(
            "Heat table: the selected plan across each input's default range (green better). "
            "Tornadoes: NPV at the low and high end of every input, largest swing first.")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "sensitivity" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        text = str(error) if isinstance(error, InputError) else (
            f"internal error: {type(error).__name__}: {error}")
        self._pending = None
        note = self.query_one("#sensitivity-note", Static)
        note.update(plain(f"Could not compute: {text}"))
        note.add_class("-error")
        self.notify(printable(text), title="Sensitivity failed", severity="error", timeout=10,
                    markup=False)
