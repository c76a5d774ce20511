"""The scenario panel: market, network, tariff overrides and Monte Carlo settings.

Like the plan editor, every value is validated by the scenario file parser; an invalid one is
explained under its field and changes nothing; a valid one is posted up as ``ScenarioEdited``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Static

from fleetcalc.errors import InputError
from fleetcalc.scenario import Scenario
from tui import edits
from tui.format import number_text, plain

# (table, key, label): the scenario's editable numbers, in the order shown.
SCENARIO_INPUTS = (
    ("btc", "price_usd", "BTC price at start (USD)"),
    ("btc", "annual_drift", "BTC drift (per year)"),
    ("btc", "annual_volatility", "BTC volatility (per year)"),
    ("network", "hashrate_ehs", "Network hashrate (EH/s)"),
    ("network", "monthly_growth", "Hashrate growth (per month)"),
    ("network", "fees_btc_per_block", "Fees (BTC per block)"),
    ("network", "pool_fee", "Pool fee (share)"),
    ("", "paths", "Monte Carlo paths"),
    ("", "seed", "Random seed"),
)


def field_id(table: str, key: str) -> str:
    return f"scn-{table or 'top'}-{key}"


class ScenarioPanel(Widget):
    @dataclass
    class ScenarioEdited(Message):
        scenario: Scenario

    def compose(self) -> ComposeResult:
        with Horizontal(id="scenario-columns"):
            with VerticalScroll(id="scenario-form"):
                yield Label("Market and network", classes="section")
                for table, key, label in SCENARIO_INPUTS:
                    fid = field_id(table, key)
                    with Horizontal(classes="field"):
                        yield Label(label, classes="field-label")
                        yield Input(id=fid, compact=True, select_on_focus=True)
                    yield Static("", id=f"error-{fid}", classes="error")
                yield Static(
                    "Drift, volatility and correlation apply with paths > 1 (Monte Carlo); "
                    "paths = 1 follows the expected path. Rates are fractions: 0.02 = 2%.",
                    classes="hint")
            with Vertical(id="overrides"):
                yield Label("Tariff overrides (what-if duties by origin)", classes="section")
                yield DataTable(id="override-table", cursor_type="row", zebra_stripes=True)
                with Horizontal(classes="field"):
                    yield Input(id="override-new", compact=True,
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
        self.watch(self.app, "scenario", self._load_form)

    @property
    def scenario(self) -> Scenario:
        return self.app.scenario  # type: ignore[attr-defined]

    def _value(self, table: str, key: str) -> Any:
        return getattr(getattr(self.scenario, table) if table else self.scenario, key)

    def _load_form(self, _value: Any = None) -> None:
        for table, key, _label in SCENARIO_INPUTS:
            fid = field_id(table, key)
            self.query_one(f"#{fid}", Input).value = number_text(self._value(table, key))
            self._show_error(fid, None)
        overrides = self.query_one("#override-table", DataTable)
        overrides.clear()
        for i, item in enumerate(self.scenario.tariff_overrides):
            overrides.add_row(item.origin, item.program, f"{item.rate * 100:g}%",
                              item.effective_from.isoformat(),
                              item.effective_to.isoformat() if item.effective_to else "open",
                              key=str(i))

    def _show_error(self, fid: str, error: InputError | None) -> None:
        label = self.query_one(f"#error-{fid}", Static)
        label.update(plain(error.detail) if error else "")
        label.set_class(error is not None, "-shown")

    def _apply(self, fid: str, build: Any) -> None:
        try:
            scenario = build()
        except InputError as error:
            self._show_error(fid, error)
            return
        self._show_error(fid, None)
        if scenario != self.scenario:
            self.post_message(self.ScenarioEdited(scenario))

    @on(Input.Submitted)
    @on(Input.Blurred)
    def _text_committed(self, event: Input.Submitted | Input.Blurred) -> None:
        fid = event.input.id or ""
        if not fid.startswith("scn-"):
            return
        event.stop()
        _, table, key = fid.split("-", 2)
        table = "" if table == "top" else table
        typed = edits.coerce(event.value, edits.SCENARIO_FIELDS[(table, key)])
        if typed == self._value(table, key):
            self._show_error(fid, None)
            return
        self._apply(fid, lambda: edits.edit_scenario(self.scenario, table, key, event.value))

    @on(Input.Submitted, "#override-new")
    @on(Button.Pressed, "#override-add")
    def _add_override(self, event: Message) -> None:
        event.stop()
        field = self.query_one("#override-new", Input)
        if not field.value.strip():
            return

        def build() -> Scenario:
            override = edits.parse_override(field.value)
            return edits.with_overrides(self.scenario, (*self.scenario.tariff_overrides, override))

        self._apply("override-new", build)
        if not self.query_one("#error-override-new", Static).has_class("-shown"):
            field.value = ""

    @on(Button.Pressed, "#override-remove")
    def _remove_override(self, event: Button.Pressed) -> None:
        event.stop()
        table = self.query_one("#override-table", DataTable)
        if not self.scenario.tariff_overrides or table.row_count == 0:
            return
        keep = tuple(o for i, o in enumerate(self.scenario.tariff_overrides)
                     if i != table.cursor_row)
        self._apply("override-new", lambda: edits.with_overrides(self.scenario, keep))
