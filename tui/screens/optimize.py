"""The Optimise screen: a candidates file with its budget, megawatts and compliance rule set
here, solved in a worker (``fleetcalc optimize``'s report); the optimal plan opens in the
comparison."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from fleetcalc.errors import InputError
from fleetcalc.plan import Plan
from fleetcalc.text import printable
from tui.edits import value_text
from tui.format import plain
from tui.keys import FOCUS_BINDINGS
from tui.widgets.text_field import TextField

# The status line's text for a candidates file that cannot be read starts with this.
FILE_ERROR_PREFIX = "Optimise: "
FIELDS = (
    ("opt-file", "Candidates file (TOML)"),
    ("opt-budget", "Budget, landed (USD)"),
    ("opt-mw", "Site capacity (MW, per site)"),
    ("opt-exclude", "Excluded origins (e.g. CN)"),
)


@dataclass(frozen=True)
class _Settings:
    """What the user set: the file and the limits that replace the file's."""

    path: str
    budget_text: str
    mw_text: str
    exclude_text: str
    objective: str


def _candidates(settings: _Settings) -> Any:
    """The candidates file with the screen's budget, MW and exclusions (InputError naming the
    field when one is not valid)."""
    from fleetcalc.candidates import CANDIDATE_SET_FIELDS, load_candidates
    from fleetcalc.plan import SITE_FIELDS
    from fleetcalc.validate import command_line_value, convert

    cset = load_candidates(settings.path or None)
    budget_field = next(f for f in CANDIDATE_SET_FIELDS if f.name == "budget_usd")
    mw_field = next(f for f in SITE_FIELDS if f.name == "capacity_mw")
    budget = (command_line_value(budget_field, settings.budget_text.replace(",", ""), "budget")
              if settings.budget_text.strip() else None)
    texts = [t.replace(",", "").strip() for t in settings.mw_text.split(";") if t.strip()]
    if len(texts) != len(cset.sites):
        raise InputError("site capacity", "", settings.mw_text,
                         f"{len(cset.sites)} capacities in MW separated by ';', one per site "
                         f"of the file ({', '.join(site.name for site in cset.sites)})")
    mw = [command_line_value(mw_field, text, "site capacity") for text in texts]
    exclude = convert(next(f for f in CANDIDATE_SET_FIELDS if f.name == "exclude_origins"),
                      [o.strip().upper() for o in settings.exclude_text.replace(";", ",")
                       .split(",") if o.strip()], "excluded origins", "exclude_origins")
    sites = tuple(replace(site, capacity_mw=capacity)
                  for site, capacity in zip(cset.sites, mw, strict=True))
    return replace(cset, budget_usd=budget, sites=sites, exclude_origins=exclude)


class OptimizeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Back"),
                                             *FOCUS_BINDINGS]

    @dataclass
    class OptimumFound(Message):
        settings: _Settings
        report: dict[str, Any]
        plan: Plan | None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="optimize-body"):
            for field_id, label in FIELDS:
                with Horizontal(classes="field"):
                    yield Label(label, classes="field-label")
                    yield TextField(id=field_id, compact=True)
            with Horizontal(classes="field"):
                yield Label("Objective", classes="field-label")
                yield Select([("mean NPV", "npv"), ("mean NPV of the worst 10% of paths",
                                                    "cvar10")],
                             id="opt-objective", value="npv", allow_blank=False, compact=True)
            with Horizontal(id="optimize-buttons"):
                yield Button("Solve", variant="primary", id="opt-solve")
                yield Button("Open the plan", id="opt-open", disabled=True)
            yield Static("", id="opt-note", classes="hint")
            yield DataTable(id="opt-quantities", cursor_type="none", zebra_stripes=True)
            yield DataTable(id="opt-limits", cursor_type="none", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        from fleetcalc.candidates import default_candidates_path

        self.sub_title = "The best plan under a budget, megawatts and compliance (escape: back)"
        self._plan: Plan | None = None
        self.query_one("#opt-file", Input).value = str(default_candidates_path())
        self._load_file()

    def _load_file(self) -> None:
        """Fill budget, MW and exclusions from the file (the user then changes them)."""
        from fleetcalc.candidates import load_candidates

        app: Any = self.app
        try:
            cset = load_candidates(self.query_one("#opt-file", Input).value.strip() or None)
        except InputError as error:
            # A file error, told as the file dialogs tell theirs: here (with the file's name,
            # the field above may have been edited since) and in the status line.
            self._show_error(error, "Could not read the candidates file")
            app.file_error = f"{FILE_ERROR_PREFIX}{error}"
            return
        if app.file_error.startswith(FILE_ERROR_PREFIX):
            app.file_error = ""  # this screen's own error, now mended
        values = {"opt-budget": "" if cset.budget_usd is None else value_text(cset.budget_usd),
                  "opt-mw": "; ".join(f"{site.capacity_mw:g}" for site in cset.sites),
                  "opt-exclude": ", ".join(cset.exclude_origins)}
        for field_id, text in values.items():
            self.query_one(f"#{field_id}", Input).value = text
        self.query_one("#opt-note", Static).update(plain(
            f"{cset.name}: {len(cset.candidates)} candidates. Set the limits and press Solve."))

    def _settings(self) -> _Settings:
        def text(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value

        return _Settings(text("opt-file").strip(), text("opt-budget"), text("opt-mw"),
                         text("opt-exclude"), str(self.query_one("#opt-objective", Select).value))

    @on(Input.Submitted, "#opt-file")
    def _file_entered(self, event: Input.Submitted) -> None:
        event.stop()
        self._load_file()

    @on(Button.Pressed, "#opt-solve")
    @on(Input.Submitted, "#opt-budget, #opt-mw, #opt-exclude")
    def _solve(self, event: Message) -> None:
        event.stop()
        self._plan = None
        self.query_one("#opt-open", Button).disabled = True
        self.query_one("#opt-note", Static).update("Pricing the candidates and solving…")
        self._compute(self._settings(), self.app.scenario)  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, exit_on_error=False, group="optimize")
    def _compute(self, settings: _Settings, scenario: Any) -> None:
        from fleetcalc.optimize_cli import candidates_report
        from fleetcalc.plan import parse_plan
        from fleetcalc.validate import parse_toml_text

        cset = _candidates(settings)
        report = candidates_report(cset, scenario, settings.objective)
        plan = None if report["plan_toml"] is None else parse_plan(
            parse_toml_text(report["plan_toml"], cset.source), "optimised plan")
        if not get_current_worker().is_cancelled:
            self.post_message(self.OptimumFound(settings, report, plan))

    @on(OptimumFound)
    def _show(self, message: OptimumFound) -> None:
        from fleetcalc.optimize_cli import LIMIT_FORMATS

        report = message.report
        quantities = self.query_one("#opt-quantities", DataTable)
        quantities.clear(columns=True)
        quantities.add_columns("#", "Model", "Origin", "Landed USD/unit", "NPV USD/unit",
                               "Units", "MW")
        for q in report["quantities"]:
            style = "" if q["units"] else "dim"
            quantities.add_row(*(Text(cell, style=style) for cell in (
                str(q["candidate"]), q["model_id"], q["origin"],
                f"{q['landed_cost_usd_per_unit']:,.0f}", f"{q['npv_usd_per_unit']:,.0f}",
                f"{q['units']:,}", f"{q['units'] * q['power_kw_per_unit'] / 1000:,.3f}")))
        limits = self.query_one("#opt-limits", DataTable)
        limits.clear(columns=True)
        limits.add_columns("Constraint", "Limit", "Used", "Unused", "USD per extra",
                           "Binding")
        for c in report["constraints"]:
            fmt, price_fmt = LIMIT_FORMATS[c["unit"]]
            limits.add_row(Text(printable(c["name"])), fmt.format(c["limit"]),
                           fmt.format(c["used"]),
                           fmt.format(c["unused"]), price_fmt.format(c["shadow_price_usd"]),
                           "yes" if c["binding"] else "no")
        self._plan = message.plan
        self.query_one("#opt-open", Button).disabled = message.plan is None
        notes = " ".join(report["notes"])
        self.query_one("#opt-note", Static).update(plain(
            f"Objective ({report['objective']}): USD {report['objective_usd']:,.0f}; mean NPV "
            f"USD {report['npv_usd']:,.0f}. {notes}".strip()))

    @on(Button.Pressed, "#opt-open")
    def _open(self) -> None:
        if self._plan is None:
            return
        app: Any = self.app
        try:
            report = app.add_plan(self._plan)
        except InputError as error:  # a compared plan has its name: refused, shown here
            self._show_error(error)
            return
        self.notify(report, markup=False)
        self.dismiss(None)

    def _show_error(self, error: BaseException, doing: str = "Could not solve") -> None:
        text = error.detail if isinstance(error, InputError) else (
            f"internal error: {type(error).__name__}: {error}")
        if isinstance(error, InputError) and error.where == "":
            text = str(error)  # an error of the file as a whole: name it
        self.query_one("#opt-note", Static).update(plain(f"{doing}: {text}"))
        self.notify(printable(str(error)), title="Optimise", severity="error", timeout=10,
                    markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "optimize" and event.state == WorkerState.ERROR:
            assert event.worker.error is not None
            self._show_error(event.worker.error)

    def action_close(self) -> None:
        self.dismiss(None)
