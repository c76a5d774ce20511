"""FleetcalcApp: the state (plans, scenario, results) and the one place that runs the engine.

Attributes go down, messages come up: widgets watch the app's ``plans``, ``scenario``,
``selected`` and ``results`` and post ``PlanEdited`` / ``ScenarioEdited`` / ``PlanSelected`` when
the user changes something. Only the app assigns its state, on the main thread; the evaluation
workers compute a frozen ``Results`` and post it back.

An evaluation comes in two stages, each a worker group of its own: ``evaluate`` computes the
main numbers (no breakevens, and with Monte Carlo no per-path IRRs or percentiles: the means
at once) and posts ``EvaluationFinished``; the app shows them and starts ``details``, the
complete evaluation, which posts ``DetailsFinished``. An edit cancels both (a ``details``
worker stops at its next breakeven re-run), and a result is shown only if it is for the
inputs shown: breakevens are never those of an older edit, and while they are computed the
screen says so (``details_pending``) instead of showing stale ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from fleetcalc.engine import EvaluationCancelled, PlanCache, Results
from fleetcalc.errors import InputError
from fleetcalc.plan import Plan, check_plan_against_scenario, default_plans, load_plan
from fleetcalc.scenario import Scenario, load_scenario
from fleetcalc.text import printable
from tui import edits, files
from tui.changes import mark_edited
from tui.file_actions import FileActions
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.widgets.plan_editor import PlanEditor
from tui.widgets.plan_picker import PlanPicker
from tui.widgets.scenario_panel import ScenarioPanel

T = TypeVar("T")
DARK_THEME, LIGHT_THEME = "textual-dark", "textual-light"
TABS = ("compare", "editor", "scenario", "orders", "distribution", "sensitivity")


class FleetcalcApp(FileActions, App[None]):
    """Compare ASIC purchase plans side by side; every edit recomputes in a worker."""

    CSS_PATH = "app.tcss"
    TITLE = "fleetcalc"
    SUB_TITLE = "ASIC fleet economics"
    # Below 110 columns the compare screen stacks its panels instead of placing them side by side.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 - Textual's API
    BINDINGS = [  # noqa: RUF012 - Textual's API
        Binding("c", "show_tab('compare')", "Compare", show=False),
        Binding("e", "show_tab('editor')", "Edit", show=False),
        Binding("s", "show_tab('scenario')", "Scenario", show=False),
        Binding("o", "show_tab('orders')", "Orders", show=False),
        Binding("d", "show_tab('distribution')", "Distribution", show=False),
        Binding("t", "show_tab('sensitivity')", "Sensitivity", show=False),
        Binding("r", "rank", "Rank machines", show=False),
        Binding("p", "optimize", "Optimise", show=False),
        Binding("left_square_bracket", "select_plan(-1)", "Prev plan", show=False),
        Binding("right_square_bracket", "select_plan(1)", "Next plan", show=False),
        Binding("ctrl+o", "open_plan", "Open"),
        Binding("ctrl+s", "save_plan", "Save"),
        Binding("ctrl+e", "export", "Export"),
        Binding("ctrl+r", "export_report", "Report", show=False),
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("f2", "save_screenshot", "Screenshot", show=False),
        Binding("f1,question_mark", "help", "Help"),
        Binding("ctrl+q,q", "quit", "Quit"),
    ]

    plans: var[tuple[Plan, ...]] = var(())
    scenario: var[Scenario | None] = var(None)
    selected: var[int] = var(0)
    # Results holds polars frames, which do not compare with ==: every assignment is news.
    results: var[Results | None] = var(None, always_update=True)
    # Text of the last evaluation error, or "" (shown in the status line).
    error: var[str] = var("")
    # Why the last file action (open, save, export, screenshot) failed, or "" (status line).
    file_error: var[str] = var("")
    computing: var[bool] = var(False)
    # The shown results are the main numbers only: breakevens and percentiles are on their way.
    details_pending: var[bool] = var(False)

    @dataclass
    class EvaluationFinished(Message):
        """The main numbers of exactly these plans under this scenario (no breakevens; with
        Monte Carlo no per-path IRRs or percentiles)."""

        plans: tuple[Plan, ...]
        scenario: Scenario
        results: Results

    @dataclass
    class DetailsFinished(Message):
        """The complete evaluation (breakevens, percentiles) of these plans and scenario."""

        plans: tuple[Plan, ...]
        scenario: Scenario
        results: Results

    def __init__(
        self, plans: Sequence[Plan], scenario: Scenario, *, cursor_blink: bool = True
    ) -> None:
        super().__init__()
        if not plans:
            raise ValueError("FleetcalcApp needs at least one plan")
        self.set_reactive(FleetcalcApp.plans, tuple(plans))
        self.set_reactive(FleetcalcApp.scenario, scenario)
        # The scenario as opened: edits are named and listed relative to it (tui.changes).
        self.base_scenario = scenario
        self.sub_title = printable(scenario.name)
        # Snapshot tests turn the blinking cursor off so screenshots are deterministic.
        self.cursor_blink = cursor_blink
        self.theme = DARK_THEME
        # Each plan's rows by its inputs, shared by both stages' workers: after an edit of one
        # plan, only that plan is evaluated again (an edit of the scenario changes every key).
        self.plan_cache = PlanCache()

    @classmethod
    def from_files(
        cls, plan_paths: Sequence[str | Path], scenario_path: str | Path | None, **kwargs: bool
    ) -> FleetcalcApp:
        """The app on these plan files (none: the built-in defaults) and scenario file.

        Raises ``InputError`` naming the bad file, key and value.
        """
        plans = [load_plan(p) for p in plan_paths] if plan_paths else default_plans()
        for i, plan in enumerate(plans):
            edits.check_unique_name(plan, plans[:i])
        scenario = load_scenario(scenario_path)
        for plan in plans:
            check_plan_against_scenario(plan, scenario.start_date, scenario.end_date)
        return cls(plans, scenario, **kwargs)

    # -- state and evaluation ------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(MainScreen())
        # The first evaluation also loads (or compiles) the Numba cache, in the worker, so the
        # screen is drawn at once and fills in when the numbers arrive.
        self.recompute()

    def recompute(self) -> None:
        """Evaluate the current plans and scenario in the background."""
        assert self.scenario is not None
        self._start_evaluation(self.plans, self.scenario)

    def _start_evaluation(self, plans: tuple[Plan, ...], scenario: Scenario) -> None:
        self.computing = True
        # Breakevens of the inputs being replaced are wasted work: stop them now rather than
        # when the new main numbers start the next ones.
        self.workers.cancel_group(self, "details")
        self._evaluate(plans, scenario)

    def _set_inputs(self, plans: tuple[Plan, ...], scenario: Scenario) -> None:
        """Start evaluating new inputs, then show them (the worker starts before the form
        widgets refresh from the new plans)."""
        self.file_error = ""  # the status line turns to the new inputs
        self._start_evaluation(plans, scenario)
        self.plans = plans
        self.scenario = scenario

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluate")
    def _evaluate(self, plans: tuple[Plan, ...], scenario: Scenario) -> Results:
        from fleetcalc.engine import evaluate

        results = evaluate(list(plans), scenario, breakevens=False, percentiles=False,
                           cache=self.plan_cache)
        if not get_current_worker().is_cancelled:
            self.post_message(self.EvaluationFinished(plans, scenario, results))
        return results

    @work(thread=True, exclusive=True, exit_on_error=False, group="details")
    def _evaluate_details(self, plans: tuple[Plan, ...], scenario: Scenario) -> Results | None:
        from fleetcalc.engine import evaluate

        worker = get_current_worker()
        try:
            # The breakeven searches re-run the kernel ~30 times: each first asks whether a
            # newer edit has cancelled this worker.
            results = evaluate(list(plans), scenario, cancelled=lambda: worker.is_cancelled,
                               cache=self.plan_cache)
        except EvaluationCancelled:
            return None
        if not worker.is_cancelled:
            self.post_message(self.DetailsFinished(plans, scenario, results))
        return results

    def _is_current(self, plans: tuple[Plan, ...], scenario: Scenario) -> bool:
        # A result for inputs that have changed since is stale: a newer worker is on its way.
        return plans == self.plans and scenario == self.scenario

    @on(EvaluationFinished)
    def _show_results(self, message: EvaluationFinished) -> None:
        if not self._is_current(message.plans, message.scenario):
            return
        self.error = ""
        self.computing = False
        self.details_pending = True  # before the results: widgets drawing them read it
        self.results = message.results
        # After the repaint: the second stage's Python work would otherwise hold the GIL
        # while the widgets draw the main numbers.
        self.call_after_refresh(self._start_details, message.plans, message.scenario)

    def _start_details(self, plans: tuple[Plan, ...], scenario: Scenario) -> None:
        if self._is_current(plans, scenario) and not self.computing:
            self._evaluate_details(plans, scenario)

    @on(DetailsFinished)
    def _show_details(self, message: DetailsFinished) -> None:
        if not self._is_current(message.plans, message.scenario) or self.computing:
            return
        self.details_pending = False
        self.results = message.results

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group not in ("evaluate", "details") or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, InputError):
            text = str(error)
        else:
            text = printable(f"internal error: {type(error).__name__}: {error}")
        self.computing = False
        self.details_pending = False
        self.error = text
        self.notify(text, title="Could not evaluate", severity="error", timeout=10, markup=False)

    def replace_plan(self, index: int, plan: Plan) -> None:
        assert self.scenario is not None
        plans = list(self.plans)
        plans[index] = plan
        self._set_inputs(tuple(plans), self.scenario)

    def set_scenario(self, scenario: Scenario) -> None:
        """Show ``scenario`` as an edit of the one opened: named and described as edited if
        it differs (``tui.changes``)."""
        self._set_inputs(self.plans, mark_edited(self.base_scenario, scenario))

    def open_scenario(self, scenario: Scenario) -> None:
        """Replace the scenario by one opened from a file: edits now count from it."""
        self.base_scenario = scenario
        self._set_inputs(self.plans, scenario)

    def add_plan(self, plan: Plan) -> str:
        """Add ``plan`` to the comparison and select it; returns what happened.

        Raises ``InputError`` if a compared plan has its name: results are keyed by plan
        name, and silently replacing that plan would lose its edits."""
        edits.check_unique_name(plan, self.plans)
        assert self.scenario is not None
        self._set_inputs((*self.plans, plan), self.scenario)
        self.selected = len(self.plans) - 1
        return f"Added plan {plan.name!r}"

    def watch_scenario(self, scenario: Scenario | None) -> None:
        if scenario is not None:
            self.sub_title = printable(scenario.name)

    # -- messages from widgets -----------------------------------------------------------

    @on(PlanEditor.PlanEdited)
    def _plan_edited(self, message: PlanEditor.PlanEdited) -> None:
        if message.index >= len(self.plans):
            return  # the plan was removed while the edit was on its way
        current = self.plans[message.index]
        plan = self._edited(message.edit, current)
        if plan is None or plan == current:
            return
        self.replace_plan(message.index, plan)
        if message.note:
            self.notify(message.note, title="Price changed with the model", timeout=12,
                        markup=False)

    @on(ScenarioPanel.ScenarioEdited)
    def _scenario_edited(self, message: ScenarioPanel.ScenarioEdited) -> None:
        assert self.scenario is not None
        scenario = self._edited(message.edit, self.scenario)
        if scenario is not None and scenario != self.scenario:
            self.set_scenario(scenario)

    def _edited(self, edit: Callable[[T], T], current: T) -> T | None:
        """``edit(current)``: an edit the editor checked on its view, made on the app's state,
        which an edit posted earlier in the same burst may have changed since. Should that
        make it invalid, it is not applied and a notification says why."""
        try:
            return edit(current)
        except InputError as error:
            self.notify(str(error), title="Edit not applied", severity="error", markup=False)
            return None

    @on(PlanPicker.PlanSelected)
    def _plan_selected(self, message: PlanPicker.PlanSelected) -> None:
        if 0 <= message.index < len(self.plans):
            self.selected = message.index

    # -- actions -------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        if isinstance(self.screen, MainScreen):
            self.screen.show_tab(tab)

    def action_rank(self) -> None:
        """The catalog ranking on a screen of its own (escape comes back)."""
        from tui.screens.rank import RankScreen

        if not isinstance(self.screen, RankScreen):
            self.push_screen(RankScreen())

    def action_optimize(self) -> None:
        """The Optimise screen: its plan joins the comparison when opened."""
        from tui.screens.optimize import OptimizeScreen

        if not isinstance(self.screen, OptimizeScreen):
            self.push_screen(OptimizeScreen())

    def action_select_plan(self, step: int) -> None:
        self.selected = (self.selected + step) % len(self.plans)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT_THEME if self.theme == DARK_THEME else DARK_THEME

    def action_new_plan(self) -> None:
        assert self.scenario is not None
        message = self.add_plan(edits.new_plan(self.plans, self.scenario))
        self.notify(f"{message}: one unit on {edits.new_plan_site_text()}, placeholders to edit",
                    markup=False)
        self.action_show_tab("editor")

    def action_copy_plan(self) -> None:
        copy = edits.duplicate_plan(self.plans[self.selected], self.plans)
        self.notify(self.add_plan(copy), markup=False)
        self.action_show_tab("editor")

    def action_remove_plan(self) -> None:
        if len(self.plans) == 1:
            self.notify("The comparison needs at least one plan", severity="warning")
            return
        removed = self.plans[self.selected]
        assert self.scenario is not None
        self.selected = min(self.selected, len(self.plans) - 2)
        self._set_inputs(tuple(p for p in self.plans if p is not removed), self.scenario)
        self.notify(f"Removed plan {removed.name!r}", markup=False)

    def action_export_report(self) -> None:
        results = self.results
        if results is None:
            self.notify("No results yet: wait for the evaluation", severity="warning")
            return

        def run(path: str) -> str:
            # The extension and folder are checked here, so the prompt shows a bad path; the
            # report itself (charts take seconds) is written by a worker.
            target = files.report_target(path)
            self._write_report(results, target)
            return f"Writing the report to {target}..."

        self._prompt("Export a report (.xlsx or .html)", "report.html", run)

    @work(thread=True, exclusive=True, exit_on_error=False, group="report")
    def _write_report(self, results: Results, target: Path) -> None:
        from fleetcalc.report import write_report

        try:
            written = write_report(results, target)
        except (InputError, OSError) as error:
            self.call_from_thread(self._report_failed, str(error))
            return
        self.call_from_thread(self.notify, f"Report written to {written}", markup=False)

    def _report_failed(self, text: str) -> None:
        self.file_error = f"Could not write the report: {text}"
        self.notify(text, title="Could not write the report", severity="error", markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's "Screenshot" is replaced by ours (same name), which saves where the app
        # keeps its files and says so.
        yield from (c for c in super().get_system_commands(screen) if c.title != "Screenshot")
        commands = (
            ("Compare plans", "The comparison table and charts (c)", "show_tab('compare')"),
            ("Edit plan", "Every key of the plan: site, finance, orders and their units (e)",
             "show_tab('editor')"),
            ("Scenario", "Dates, Monte Carlo, BTC price, network, origin risk, tariff "
             "overrides (s)", "show_tab('scenario')"),
            ("Order detail", "Landed cost, tariff programs and daily series (o)",
             "show_tab('orders')"),
            ("Distribution", "Monte Carlo NPV histogram and percentiles (d)",
             "show_tab('distribution')"),
            ("Sensitivity", "Tornado per plan and a heat table of two inputs (t)",
             "show_tab('sensitivity')"),
            ("Rank machines", "Every catalog model: profit per day, shutdown prices, NPV (r)",
             "rank"),
            ("Optimise", "The best plan under a budget, megawatts and compliance (p)",
             "optimize"),
            ("Next plan", "Select the next plan (])", "select_plan(1)"),
            ("Previous plan", "Select the previous plan ([)", "select_plan(-1)"),
            ("New plan", "Start a plan from scratch: one unit on a 1 MW site", "new_plan"),
            ("Copy plan", "Add a copy of the selected plan under a new name", "copy_plan"),
            ("Open plan", "Add a plan TOML file to the comparison (ctrl+o)", "open_plan"),
            ("Save plan", "Write the selected plan as TOML (ctrl+s)", "save_plan"),
            ("Remove plan", "Drop the selected plan from the comparison", "remove_plan"),
            ("Open scenario", "Load a scenario TOML file", "open_scenario"),
            ("Save scenario", "Write the scenario as shown, edits listed, as TOML",
             "save_scenario"),
            ("Export comparison", "Write the comparison as CSV or Parquet (ctrl+e)", "export"),
            ("Export report", "Write an Excel workbook or an HTML report (ctrl+r)",
             "export_report"),
            ("Screenshot", f"Save an SVG of the screen in {files.screenshot_dir()} (f2)",
             "save_screenshot"),
            ("Toggle dark/light theme", "Switch between the dark and light themes (ctrl+t)",
             "toggle_theme"),
            ("Help", "Keys and what the numbers mean (f1 or ?)", "help"),
        )
        for title, help_text, action in commands:
            yield SystemCommand(title, help_text, self._action_callback(action))

    def _action_callback(self, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.run_action(action)

        return run
