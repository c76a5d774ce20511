"""Pilot tests of the decision views: the Sensitivity tab, the ranking screen and the Optimise
screen (each computes in a worker; its result or its error shows)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from fleetcalc import sensitivity
from fleetcalc.errors import InputError
from fleetcalc.plan import default_plans, load_plan
from tests.tui_pilot import paste_into, run_app, settle
from tui.app import FleetcalcApp
from tui.screens.optimize import OptimizeScreen
from tui.screens.rank import RankScreen
from tui.widgets.sensitivity_panel import SensitivityPanel

ROOT = Path(__file__).resolve().parents[1]
TWO_SITES = ROOT / "docs" / "examples" / "two-sites.toml"


def _posted(messages: list[Message], kind: type) -> list[Any]:
    """Messages of ``kind``, each once (a message is seen at every node it bubbles through)."""
    seen: dict[int, Any] = {}
    for message in messages:
        if isinstance(message, kind):
            seen.setdefault(id(message), message)
    return list(seen.values())


def _text(app: FleetcalcApp, selector: str) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


def test_the_sensitivity_tab_shows_a_tornado_per_plan_and_a_heat_table() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        computed = _posted(messages, SensitivityPanel.SensitivityComputed)
        assert not computed  # nothing is computed while the tab is hidden
        await pilot.press("t")
        await settle(pilot)
        computed = _posted(messages, SensitivityPanel.SensitivityComputed)
        assert len(computed) == 1
        assert [t.plan for t in computed[0].tornadoes] == [p.name for p in app.plans]
        assert computed[0].request.axes == ("btc.price_usd", "site.power_usd_per_kwh")
        assert computed[0].grid.height == 25
        # The two-site plan's power axis is in percentages: its sites' prices stay apart.
        assert [a.kind for a in computed[0].axes] == ["set", "scale"]
        # Another input: recomputed for it.
        app.screen.query_one("#grid-y", Select).value = "finance.discount_rate"
        await settle(pilot)
        last = _posted(messages, SensitivityPanel.SensitivityComputed)[-1]
        assert last.request.axes[1] == "finance.discount_rate"
        assert "Two sites" in _text(app, "#heat-table")
        assert "finance.discount_rate" in _text(app, "#heat-table")
        tornadoes = _text(app, "#tornadoes")
        assert all(plan.name in tornadoes for plan in app.plans)

    plans = [load_plan(TWO_SITES), default_plans()[0]]
    run_app(check, FleetcalcApp(plans, _scenario(), cursor_blink=False))


def _scenario():
    from fleetcalc.scenario import load_scenario

    return load_scenario(None).with_changes(horizon_days=500)


def test_a_sensitivity_failure_is_shown_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*_: Any, **__: Any) -> None:
        raise InputError("ranges", "btc.price_usd", 0, "a price")

    monkeypatch.setattr(sensitivity, "tornado", failing)

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("t")
        await settle(pilot)
        assert "Could not compute: ranges: btc.price_usd: got 0" in _text(
            app, "#sensitivity-note")

    run_app(check, FleetcalcApp(default_plans()[:1], _scenario(), cursor_blink=False))


def test_the_ranking_screen_ranks_every_machine_and_explains_a_bad_price() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RankScreen)
        table = app.screen.query_one("#rank-table", DataTable)
        assert table.row_count > 50
        app.screen.query_one("#rank-origin", Select).value = "CN"
        await settle(pilot)
        origins = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert origins == {"CN"}
        await paste_into(pilot, "rank-power", "free")
        assert "power price: got 'free'; expected a number in [0, 10]" in _text(
            app, "#rank-note")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, RankScreen)

    run_app(check, FleetcalcApp(default_plans()[:1], _scenario(), cursor_blink=False))


def test_the_optimise_screen_solves_and_opens_the_plan() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, OptimizeScreen)
        assert app.screen.query_one("#opt-mw", Input).value == "25"
        # A candidates file that cannot be read: said on the screen, naming the file, and in
        # the status line, as the file dialogs say theirs (issue 11, build 6).
        await paste_into(pilot, "opt-file", "missing.toml")
        note = _text(app, "#opt-note")
        assert "Could not read the candidates file: missing.toml" in note
        assert app.file_error == "Optimise: missing.toml: got '(no such file)'; expected an " \
            "existing TOML file"
        await paste_into(pilot, "opt-file", "")  # the default file again: the error clears
        assert app.file_error == ""
        await paste_into(pilot, "opt-mw", "abc")
        assert "site capacity: got 'abc'" in _text(app, "#opt-note")
        await paste_into(pilot, "opt-mw", "12")
        found = _posted(messages, OptimizeScreen.OptimumFound)
        assert found and found[-1].plan is not None
        power_mw = found[-1].report["metrics"]["power_kw"] / 1000
        assert 11.9 < power_mw <= 12.0
        await pilot.click("#opt-open")
        await settle(pilot)
        assert not isinstance(app.screen, OptimizeScreen)
        assert app.plans[-1].name.endswith("(optimal npv)")
        assert app.results is not None and app.results.summary.height == 2

    run_app(check, FleetcalcApp(default_plans()[:1], load_scenario_default(),
                                cursor_blink=False))


def load_scenario_default():
    from fleetcalc.scenario import load_scenario

    return load_scenario(None)


def test_every_key_binding_is_in_the_help() -> None:
    # Read from the app's BINDINGS, not restated: a new binding the help leaves out fails here
    # (ctrl+r, the report export, was missing). The palette side is
    # tests/test_tui.py::test_every_key_binding_has_a_command_in_the_palette.
    from tui.screens.help import HELP_MARKDOWN

    shown = {"left_square_bracket": "[", "right_square_bracket": "]", "question_mark": "?"}
    keys = [shown.get(key, key) for binding in FleetcalcApp.BINDINGS
            for key in binding.key.split(",")]
    assert len(keys) > 10
    missing = [key for key in keys if f"`{key}`" not in HELP_MARKDOWN]
    assert not missing, f"keys the help does not list: {missing}"
