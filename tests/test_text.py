"""User text in every output (issue 12, finding 4): plan and scenario names, assumptions, file
names and messages are shown literally, never run as Rich or Textual markup, never reach the
terminal as control sequences, and never start a spreadsheet formula in a CSV.

Before: a name holding ``[/]`` made ``compare`` exit 1 with a MarkupError and crashed the app,
``Texas [bold]`` showed as "Texas", ``[link=...]`` became a terminal hyperlink, ESC sequences
reached the terminal raw (a window-title change), and CSV cells beginning ``=`` were formulas.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pytest
import tomli_w
from hypothesis import example, given, settings
from hypothesis import strategies as st
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from fleetcalc.cli import main
from fleetcalc.compare_text import compare_table
from fleetcalc.engine import evaluate
from fleetcalc.errors import InputError
from fleetcalc.io import write_table_atomic
from fleetcalc.plan import Plan, load_plan, plan_to_toml
from fleetcalc.scenario import Scenario, load_scenario, scenario_to_toml
from fleetcalc.text import CSV_ESCAPE, MAX_SHOWN_CHARS, csv_safe, printable, shown_value
from tests.conftest import PROFILE
from tests.test_plan_errors import ROOT
from tests.tui_pilot import enter_path, run_app, settle
from tui.app import FleetcalcApp
from tui.format import plan_label
from tui.screens.path_prompt import PathPrompt
from tui.widgets.plan_picker import PlanPicker

PLAN = load_plan(ROOT / "tests/data/inputs/plans/valid.toml")  # 10 S21 XP
SCENARIO = load_scenario(ROOT / "tests/data/inputs/scenarios/valid.toml")  # 90 days

# Markup and escape sequences that broke or fooled a renderer, and spreadsheet formula starts.
HOSTILE = ["[/]", "[/bold]", "Texas [bold]", "[link=https://example.com]click[/link]",
           "\x1b]0;pwned\x07", "\x1b[31mred", "ends in a backslash\\", "[$accent]x",
           "[ bold]x", "[@click=app.quit]q", "line\nbreak", "tab\there", "\u202eevil",
           "=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", ":smile:", "\u2028"]
hostile = st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3).map("".join)
any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                   max_size=24)
Test = TypeVar("Test", bound=Callable[..., None])
texts = st.one_of(hostile, any_text, st.tuples(any_text, hostile).map("".join)).filter(
    lambda s: bool(s.strip()))


def names_property(ci_examples: int, dev_examples: int) -> Callable[[Test], Test]:
    """The property over names shared by the command-line and app tests: up to three plan
    names, a scenario name and up to two assumptions, with the strings that broke the
    renderers before as an explicit example."""
    def decorate(test: Test) -> Test:
        test = given(st.lists(texts, min_size=1, max_size=3, unique=True), texts,
                     st.lists(texts, max_size=2, unique=True))(test)
        test = example(["[/]", "Texas [bold]", "\x1b]0;pwned\x07"],
                       "[link=https://example.com]x[/link]", ["[/bold]", "ends\\"])(test)
        # Escaped, the backspace brought the heading to the column's 11 characters; the wide
        # character made it 12 cells, and Rich cut it to "1 0000\x08…".
        test = example(["0000\x08\u2e80"], "[/]", [])(test)
        return settings(max_examples=ci_examples if PROFILE == "ci" else dev_examples)(test)

    return decorate


def shown(text: str) -> str:
    """How a name reads on screen: control characters escaped, nothing else changed."""
    return printable(text)


# --- the helpers -----------------------------------------------------------------------

def test_printable_escapes_what_could_move_the_cursor_or_hide_text() -> None:
    assert printable("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert printable("\n\t\r\u202e\x85\u2028") == "\\n\\t\\r\\u202e\\x85\\u2028"
    assert printable("Texas [bold] = 10 MW, 90°") == "Texas [bold] = 10 MW, 90°"


@given(any_text)
def test_printable_leaves_nothing_unprintable(text: str) -> None:
    assert printable(text).isprintable()


def test_csv_safe_prefixes_formula_cells_and_leaves_numbers() -> None:
    frame = pl.DataFrame({"text": ["=1+1", "+a", "-a", "@a", "\tx", "\rx", "ok", "a=b", None],
                          "number": [-1.0] * 9})
    safe = csv_safe(frame)
    assert safe["text"].to_list() == ["'=1+1", "'+a", "'-a", "'@a", "'\tx", "'\rx", "ok",
                                      "a=b", None]
    assert safe["number"].to_list() == frame["number"].to_list()


def test_error_messages_escape_and_cut_user_text() -> None:
    error = InputError("dir\x1b/plan.toml", "orders[0].x\ny", "v" * 5000, "a [b]\x07")
    text = str(error)
    assert text.isprintable() and len(text) < 2 * MAX_SHOWN_CHARS + 100
    assert "dir\\x1b/plan.toml: orders[0].x\\ny: got 'vvv" in text
    assert "... (5,000 characters); expected a [b]\\x07" in text
    assert shown_value("short") == "'short'"


# --- the command line: compare, --json, CSV ----------------------------------------------

def write_inputs(folder: Path, plans: list[Plan], scenario: Scenario) -> list[str]:
    paths = []
    for i, plan in enumerate(plans):
        path = folder / f"plan{i}.toml"
        path.write_text(tomli_w.dumps(plan_to_toml(plan)), encoding="utf-8")
        paths.append(str(path))
    scenario_path = folder / "scenario.toml"
    scenario_path.write_text(tomli_w.dumps(scenario_to_toml(scenario)), encoding="utf-8")
    return [*paths, "--scenario", str(scenario_path)]


def named(plan_names: list[str], scenario_name: str, assumptions: list[str],
          ) -> tuple[list[Plan], Scenario]:
    plans = [PLAN.with_changes(name=name) for name in plan_names]
    scenario = SCENARIO.with_changes(name=scenario_name, assumptions=tuple(assumptions))
    return plans, scenario


@names_property(ci_examples=40, dev_examples=12)
def test_any_names_show_literally_in_compare_json_and_csv(
    plan_names: list[str], scenario_name: str, assumptions: list[str],
) -> None:
    import tempfile

    plans, scenario = named(plan_names, scenario_name, assumptions)
    with tempfile.TemporaryDirectory() as folder:
        argv = write_inputs(Path(folder), plans, scenario)
        table_out, table_code = run_cli_wide(["compare", *argv])
        json_out, json_code = run_cli_wide(["compare", *argv, "--json"])
        assert (table_code, json_code) == (0, 0)
        # The text: every name as it is (escaped where not printable).
        assert f"fleetcalc compare - {shown(scenario_name)}\n" in table_out
        results = evaluate(plans, scenario, breakevens=False)
        table, _ = compare_table(results)
        for i, name in enumerate(plan_names):
            # Plan names wrap at spaces over the column's lines: compared without whitespace.
            heading = str(table.columns[i + 1].header)
            assert "".join(heading.split()) == "".join(f"{i + 1} {shown(name)}".split())
            # Each line of it whole: a wide character counts two cells, so none is cut off.
            for piece in heading.split("\n"):
                assert piece.strip() in table_out, piece
        if assumptions:
            assert "Assumptions: " + shown("; ".join(assumptions)) in table_out
        assert "\x1b" not in table_out and "\x07" not in table_out
        # --json: the names exactly.
        records = json.loads(json_out)
        assert [r["plan"] for r in records] == plan_names
        for record in records:
            assert record["assumptions"].startswith("; ".join(assumptions))
        # CSV: the names exactly, a formula start neutralised.
        out = write_table_atomic(results.summary, Path(folder) / "summary.csv")
        with open(out, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    for row, name in zip(rows, plan_names, strict=True):
        starts_formula = name[0] in "=+-@\t\r"
        assert row["plan"] == (CSV_ESCAPE + name if starts_formula else name)


def run_cli_wide(argv: list[str]) -> tuple[str, int]:
    """Run the CLI with stdout captured on a console wide enough for any name on one line."""
    import contextlib
    import os

    buffer = io.StringIO()
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "2000"
    try:
        with contextlib.redirect_stdout(buffer):
            code = main(argv)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return buffer.getvalue(), code


# --- the app ----------------------------------------------------------------------------

def check_names_in_app(app: FleetcalcApp, plan_names: list[str], scenario: Scenario) -> None:
    assert app.error == ""
    assert app.sub_title == shown(scenario.name)
    picker = app.screen.query_one("#editor-plan", PlanPicker)
    assert [prompt.plain for prompt, _ in picker._options] == [
        plan_label(i, name) for i, name in enumerate(plan_names)]
    table = app.screen.query_one("#compare-table", DataTable)
    for i, name in enumerate(plan_names):
        label = "".join(str(table.columns[f"plan-{i}"].label).split()).rstrip("…")
        assert "".join(plan_label(i, name).split()).startswith(label)
    text = str(app.screen.query_one("#assumption-text", Static).render())
    for assumption in scenario.assumptions:
        assert f"• {shown(assumption)}" in text


# Each example starts the app: fewer of them.
@names_property(ci_examples=15, dev_examples=5)
def test_any_names_show_literally_in_the_app(
    plan_names: list[str], scenario_name: str, assumptions: list[str],
) -> None:
    plans, scenario = named(plan_names, scenario_name, assumptions)

    async def check(app: FleetcalcApp, pilot: Pilot[Any], _messages: list[Any]) -> None:
        check_names_in_app(app, plan_names, scenario)
        for tab in "esod":  # every view draws the names without error
            await pilot.press(tab)
            await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        check_names_in_app(app, plan_names, scenario)

    run_app(check, FleetcalcApp(plans, scenario, cursor_blink=False))


def test_opening_a_hostile_plan_and_a_toml_error_showing_markup(tmp_path: Path) -> None:
    hostile_plan = PLAN.with_changes(name="[/] \x1b]0;pwned\x07 [bold]")
    good = tmp_path / "hostile.toml"
    good.write_text(tomli_w.dumps(plan_to_toml(hostile_plan)), encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\nquantity = [/bold] [link=https://example.com]\n',
                      encoding="utf-8")

    async def check(app: FleetcalcApp, pilot: Pilot[Any], _messages: list[Any]) -> None:
        await pilot.press("ctrl+o")
        await settle(pilot)
        await enter_path(pilot, broken)
        assert isinstance(app.screen, PathPrompt)
        error = str(app.screen.query_one("#path-error", Static).render())
        assert "got 'quantity = [/bold] [link=https://example.com]'" in error
        await enter_path(pilot, good)
        await settle(pilot)
        assert not isinstance(app.screen, PathPrompt)
        assert [p.name for p in app.plans][-1] == hostile_plan.name
        assert app.error == ""
        check_names_in_app(app, [p.name for p in app.plans], app.scenario)

    run_app(check, FleetcalcApp([PLAN], SCENARIO, cursor_blink=False))


@pytest.mark.parametrize("name", ["[/]", "\x1b]0;pwned\x07"])
def test_an_error_quoting_markup_shows_in_the_status_line(name: str) -> None:
    # An evaluation error whose message quotes user text (here: a delivery outside the
    # horizon of a plan whose file name holds markup) reaches the status line literally.
    plan = PLAN.with_changes(source=f"plans/{name}.toml")
    late = plan.orders[0].delivery_date.replace(year=2031)
    bad = plan.with_order(0, import_date=late, delivery_date=late)

    async def check(app: FleetcalcApp, pilot: Pilot[Any], _messages: list[Any]) -> None:
        app.replace_plan(0, bad)
        await settle(pilot)
        assert app.error.startswith(f"plans/{shown(name)}.toml: orders[0].delivery_date")
        status = str(app.screen.query_one("#status", Static).render())
        assert shown(name) in status

    run_app(check, FleetcalcApp([PLAN], SCENARIO, cursor_blink=False))


def test_an_internal_error_quoting_a_file_name_stays_one_escaped_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import fleetcalc.engine

    def fail(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("cannot read /tmp/\x1b]0;pwned\x07\nname")

    monkeypatch.setattr(fleetcalc.engine, "evaluate", fail)
    assert main(["compare"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err
    assert "cannot read /tmp/\\x1b]0;pwned\\x07\\nname" in err


def test_sensitivity_tables_show_a_hostile_name_literally() -> None:
    import io as stdio

    from rich.console import Console

    from fleetcalc.sensitivity import grid, tornado
    from fleetcalc.sensitivity_view import heat_table, tornado_table
    from fleetcalc.variation import BY_NAME as INPUTS
    from tui.widgets.sensitivity_panel import grid_axis

    name = "[/] \x1b]0;pwned\x07 [bold]x"
    plan = PLAN.with_changes(name=name)
    axes = tuple(grid_axis(INPUTS[key], plan, SCENARIO) for key in list(INPUTS)[:2])
    cells = grid([plan], SCENARIO, axes)
    console = Console(file=stdio.StringIO(), width=300, record=True)
    for result in tornado([plan], SCENARIO):
        console.print(tornado_table(result))
    console.print(heat_table(cells, name, axes, "npv_usd"))
    text = console.export_text()
    assert text.count(f"{shown(name)}:") == 2 and "\x1b" not in text


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".json"])
def test_files_hold_the_plan_name_as_plain_text(tmp_path: Path, suffix: str) -> None:
    # In memory the plan column is categorical (stored once); a file holds plain text, so
    # tables of different runs and commands join on it.
    from fleetcalc.io import read_table

    results = evaluate([PLAN], SCENARIO, breakevens=False)
    assert results.paths.schema["plan"] == pl.Categorical
    written = read_table(write_table_atomic(results.paths, tmp_path / f"paths{suffix}"))
    assert written.schema["plan"] == pl.String
    assert written["plan"].to_list() == [PLAN.name]
