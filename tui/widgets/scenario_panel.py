"""The scenario panel: every key of the scenario (dates, Monte Carlo, market, network, origin
risk) and its tariff overrides.

The forms are ``FieldForm``s over the scenario parser's field tables, so a key added to a
scenario class is editable here with no code. Like the plan editor, every value is validated by
the scenario file parser (and the plans must still deliver inside the horizon); an invalid one
is explained under its field and changes nothing; a valid one is posted up as
``ScenarioEdited``, which carries the edit, made by the app on its scenario as it is then (so
edits of one burst of keys build on each other, as in the plan editor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Static

from fleetcalc.errors import InputError
from fleetcalc.plan import check_plan_against_scenario
from fleetcalc.scenario import EXOGENOUS_ONLY_KEYS, RESPONSIVE_ONLY_KEYS, Scenario
from fleetcalc.validate import Field
from tui import edits
from tui.widgets.field_form import FieldForm, apply_edit, show_error_line
from tui.widgets.text_field import TextField

# (table, form title) of the scenario's forms, in the order shown.
SCENARIO_FORMS = (
    ("", "Scenario"), ("btc", "Bitcoin price"), ("network", "Network"),
    ("origin_risk", "Origin risk (duty if customs deems another origin)"),
)
# What the Monte Carlo keys do, said once under the forms. Drift and growth set the expected
# path, which a single path follows; only volatility and correlation need paths > 1.
MONTE_CARLO_NOTE = (
    "Drift and growth apply on every path (paths = 1 follows the expected path); volatility, "
    "correlation and order volatility only with paths > 1 (Monte Carlo). The network model "
    "decides which network keys are read: the others are greyed out. Rates are fractions: "
    "0.02 = 2%. A blank field takes the default shown in grey.")


def form_fields(table: str) -> tuple[Field, ...]:
    """A table's fields as the form lists them: the network model first (it decides which of
    the other network keys are read)."""
    fields = edits.SCENARIO_TABLES[table]
    return tuple(sorted(fields, key=lambda f: (table, f.name) != ("network", "model")))


def form_prefix(table: str) -> str:
    return f"scn-{table or 'top'}"


class ScenarioPanel(Widget):
    @dataclass
    class ScenarioEdited(Message):
        """The user validly edited the scenario: ``edit`` makes the edited scenario from the
        app's (raises ``InputError``)."""

        edit: Callable[[Scenario], Scenario]

    def compose(self) -> ComposeResult:
        with Horizontal(id="scenario-columns"):
            with VerticalScroll(id="scenario-form"):
                for table, title in SCENARIO_FORMS:
                    yield Label(title, classes="section")
                    yield FieldForm(table, form_fields(table), prefix=form_prefix(table),
                                    id=f"{form_prefix(table)}-form")
                with Horizontal(classes="field"):
                    yield Label("Duty as if built in", classes="field-label")
                    yield TextField(id="scn-origin-as", compact=True, select_on_focus=True,
                                placeholder="MY=CN, TH=CN (blank: none)")
                yield Static("", id="error-scn-origin-as", classes="error")
                yield Static(MONTE_CARLO_NOTE, classes="hint")
            with Vertical(id="overrides"):
                yield Label("Tariff overrides (what-if duties by origin)", classes="section")
                yield DataTable(id="override-table", cursor_type="row", zebra_stripes=True)
                with Horizontal(classes="field"):
                    yield TextField(id="override-new", compact=True,
                                placeholder=edits.OVERRIDE_EXAMPLE)
                    yield Button("Add", id="override-add", compact=True, variant="primary")
                    yield Button("Remove", id="override-remove", compact=True)
                yield Static("", id="error-override-new", classes="error")
                yield Static(
                    "An override replaces the shipped rate of the same origin and program from "
                    "its date on (or adds a program). Select a row and press Remove to drop it.",
                    classes="hint")

    def on_mount(self) -> None:
        table = self.query_one("#override-table", DataTable)
        table.add_columns("Origin", "Program", "Rate", "From", "To")
        # The text last put in the origin map field (None: refused text the user typed is there).
        self._origin_as_shown: str | None = ""
        self._source_shown = ""
        self.watch(self.app, "scenario", self._load_form)

    @property
    def scenario(self) -> Scenario:
        return self.app.scenario  # type: ignore[attr-defined]

    def _load_form(self, _value: Any = None) -> None:
        # Another scenario file opened: text the user had not committed goes.
        force = self.scenario.source != self._source_shown
        self._source_shown = self.scenario.source
        for table, _title in SCENARIO_FORMS:
            part = edits.scenario_part(self.scenario, table)
            values = {f.name: getattr(part, f.name) for f in edits.SCENARIO_TABLES[table]}
            self.query_one(f"#{form_prefix(table)}-form", FieldForm).load(
                values, inactive=self._unread_keys() if table == "network" else None,
                force=force)
        origin_as = self.query_one("#scn-origin-as", Input)
        # As in the forms, text the user is still typing there is kept.
        if force or origin_as.value == self._origin_as_shown:
            origin_as.value = self._origin_as_shown = edits.origin_map_text(
                self.scenario.tariff_origin_as)
        overrides = self.query_one("#override-table", DataTable)
        overrides.clear()
        for i, item in enumerate(self.scenario.tariff_overrides):
            overrides.add_row(item.origin, item.program, f"{item.rate * 100:g}%",
                              item.effective_from.isoformat(),
                              item.effective_to.isoformat() if item.effective_to else "open",
                              key=str(i))

    def _unread_keys(self) -> dict[str, str]:
        """The [network] keys the scenario's network model does not read, with why: their
        fields are disabled (a value there is an error in a file too)."""
        model = self.scenario.network.model
        unread = EXOGENOUS_ONLY_KEYS if model == "responsive" else RESPONSIVE_ONLY_KEYS
        return {key: f"not read ({model})" for key in unread}

    def _show_error(self, fid: str, error: InputError | None) -> None:
        show_error_line(self.query_one(f"#error-{fid}", Static), error)

    def _checked(self, build: Callable[[], Scenario]) -> Scenario:
        """``build()``, checked against the plans: every order must still deliver inside the
        horizon (raises ``InputError``)."""
        scenario = build()
        for plan in self.app.plans:  # type: ignore[attr-defined]
            check_plan_against_scenario(plan, scenario.start_date, scenario.end_date)
        return scenario

    def _apply(self, show: Callable[[InputError | None], None],
               edit: Callable[[Scenario], Scenario]) -> bool:
        """Check ``edit`` on the scenario shown and post it (True), or ``show`` why it is
        invalid. Posted even if it changes nothing here: the app skips it then."""
        def checked(scenario: Scenario) -> Scenario:
            return self._checked(lambda: edit(scenario))

        posted = False

        def post(_scenario: Scenario) -> None:
            nonlocal posted
            posted = True
            self.post_message(self.ScenarioEdited(checked))

        apply_edit(lambda: checked(self.scenario), show, post)
        return posted

    @on(FieldForm.FieldCommitted)
    def _field_committed(self, event: FieldForm.FieldCommitted) -> None:
        event.stop()
        form, key = event.form, event.key
        self._apply(lambda error: form.show_error(key, error),
                    lambda scenario: edits.edit_scenario(scenario, form.table, key, event.value))

    @on(Input.Submitted, "#scn-origin-as")
    @on(Input.Blurred, "#scn-origin-as")
    def _origin_as_committed(self, event: Input.Submitted | Input.Blurred) -> None:
        event.stop()
        if event.value == self._origin_as_shown:
            self._show_error("scn-origin-as", None)
            return
        text = event.value
        if self._apply(lambda error: self._show_error("scn-origin-as", error),
                       lambda scenario: edits.with_origin_map(scenario, text)):
            self._origin_as_shown = text
        else:
            self._origin_as_shown = None  # the refused text stays, with its error

    @on(Input.Submitted, "#override-new")
    @on(Button.Pressed, "#override-add")
    def _add_override(self, event: Message) -> None:
        event.stop()
        field = self.query_one("#override-new", Input)
        if not field.value.strip():
            return

        text = field.value
        if self._apply(lambda error: self._show_error("override-new", error),
                       lambda scenario: edits.with_overrides(scenario, (
                           *scenario.tariff_overrides, edits.parse_override(text)))):
            field.value = ""

    @on(Button.Pressed, "#override-remove")
    def _remove_override(self, event: Button.Pressed) -> None:
        event.stop()
        table = self.query_one("#override-table", DataTable)
        if not self.scenario.tariff_overrides or table.row_count == 0:
            return
        row = table.cursor_row
        self._apply(lambda error: self._show_error("override-new", error),
                    lambda scenario: edits.with_overrides(scenario, tuple(
                        o for i, o in enumerate(scenario.tariff_overrides) if i != row)))
