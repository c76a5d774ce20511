"""Pilot tests of the app's files: each dialog shows its error (in the dialog and the status
line) and changes nothing; saves, exports and screenshots get the user's umask; screenshots go
to the app's folder, never the working directory."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Static

from fleetcalc.plan import default_plans
from tests.tui_pilot import enter_path, run_app, settle
from tui.app import FleetcalcApp
from tui.files import APP_DIR_VARIABLE, save_plan
from tui.screens.main import MainScreen
from tui.screens.path_prompt import PathPrompt


@pytest.fixture(autouse=True)
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's folder in the test's own temporary folder, and a working directory that
    must stay empty."""
    home = tmp_path / "home"
    monkeypatch.setenv(APP_DIR_VARIABLE, str(home))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return home


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def status_text(app: FleetcalcApp) -> str:
    main = next(s for s in app.screen_stack if isinstance(s, MainScreen))
    return str(main.query_one("#status", Static).render())


async def fail_in_dialog(app: FleetcalcApp, pilot: Pilot[Any], action: str, path: str) -> str:
    """Run ``action``, enter ``path``; check the dialog stays open with its error displayed and
    the status line repeats it; close the dialog; return the error."""
    plans, scenario, results = app.plans, app.scenario, app.results
    await app.run_action(action)
    await pilot.pause()
    assert isinstance(app.screen, PathPrompt)
    await enter_path(pilot, Path(path))
    assert isinstance(app.screen, PathPrompt)
    error = app.screen.query_one("#path-error", Static)
    text = str(error.render())
    assert text and error.display, f"{action}: the error is hidden"
    assert error.region.height > 0, f"{action}: the error takes no space on screen"
    assert text in status_text(app), f"{action}: not in the status line"
    await pilot.press("escape")
    await settle(pilot)
    assert not isinstance(app.screen, PathPrompt)
    assert (app.plans, app.scenario) == (plans, scenario) and app.results is results, action
    assert text in status_text(app)  # still there after the dialog closed
    return text


# (action, a path it cannot use, words the error must hold)
BAD_PATHS = [
    ("open_plan", "missing.toml", "missing.toml"),
    ("open_scenario", "missing.toml", "missing.toml"),
    ("save_plan", "no/such/folder/plan.toml", "an existing folder"),
    ("save_scenario", "no/such/folder/scenario.toml", "an existing folder"),
    ("export", "comparison.xlsx", ".csv or .parquet"),
    ("export", "no/such/folder/comparison.csv", "an existing folder"),
    ("export_report", "report.pdf", ".xlsx or .html"),
    ("export_report", "no/such/folder/report.html", "an existing folder"),
    # The report is written after the dialog closes: an unwritable folder must be found first
    # (it closed with "Writing the report to /proc/report.html..." and failed afterwards).
    *([("export_report", "/proc/report.html", "a folder this user may write in")]
      if Path("/proc").is_dir() else []),
]


@pytest.mark.parametrize("action, path, words", BAD_PATHS,
                         ids=[f"{a}-{p}" for a, p, _ in BAD_PATHS])
def test_a_dialog_shows_its_error_and_changes_nothing(action: str, path: str, words: str) -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        assert words in await fail_in_dialog(app, pilot, action, path)
        assert list(Path.cwd().iterdir()) == []  # nothing written, no temporary file left

    run_app(check)


def test_a_report_over_a_read_only_file_is_refused_in_the_dialog(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("kept")
    target.chmod(0o444)

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        assert "a file that may be written" in await fail_in_dialog(
            app, pilot, "export_report", str(target))

    run_app(check)
    assert target.read_text() == "kept"


def test_opening_a_plan_of_a_compared_name_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "copy.toml"
    save_plan(default_plans()[1], copy)

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        text = await fail_in_dialog(app, pilot, "open_plan", str(copy))
        assert "a name no other plan in the comparison has (plan 2 has it)" in text
        assert len(app.plans) == 4

    run_app(check)


def test_a_scenario_that_cuts_the_plans_horizon_is_refused(tmp_path: Path) -> None:
    from fleetcalc.scenario import load_scenario
    from tui.files import save_scenario

    short = tmp_path / "short.toml"
    save_scenario(load_scenario(None).with_changes(horizon_days=10), short)

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        assert "horizon" in await fail_in_dialog(app, pilot, "open_scenario", str(short))

    run_app(check)


def test_a_successful_action_clears_the_file_error(tmp_path: Path) -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await fail_in_dialog(app, pilot, "save_plan", "no/such/folder/plan.toml")
        app.action_save_plan()
        await pilot.pause()
        await enter_path(pilot, tmp_path / "plan.toml")
        assert app.file_error == ""
        assert "Up to date" in status_text(app)

    run_app(check)


def test_saves_exports_and_screenshots_honour_the_umask(
    tmp_path: Path, app_home: Path, umask_022: None,
) -> None:
    targets = {"save_plan": tmp_path / "plan.toml", "save_scenario": tmp_path / "scenario.toml",
               "export": tmp_path / "comparison.csv"}

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        for action, target in [*targets.items(), ("export", tmp_path / "comparison.parquet")]:
            await app.run_action(action)
            await pilot.pause()
            await enter_path(pilot, target)
            assert not isinstance(app.screen, PathPrompt), action
        await pilot.press("f2")
        await pilot.pause()

    run_app(check)
    written = [*targets.values(), tmp_path / "comparison.parquet",
               *(app_home / "screenshots").iterdir()]
    assert len(written) == 5
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_the_palettes_screenshot_saves_in_the_app_folder(app_home: Path) -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Screenshot")
        await command.callback()
        await settle(pilot)
        # Textual's own path to a screenshot (App.action_screenshot) lands there too.
        await app.run_action("screenshot")
        await settle(pilot)

    run_app(check)
    shots = list((app_home / "screenshots").iterdir())
    assert len(shots) >= 1 and all(p.suffix == ".svg" for p in shots)
    assert shots[0].read_text().startswith("<svg")
    assert list(Path.cwd().iterdir()) == []


def test_a_screenshot_that_cannot_be_saved_says_why(app_home: Path) -> None:
    app_home.write_text("a file where the app folder should be")

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("f2")
        await settle(pilot)
        assert "Could not save the screenshot" in status_text(app)
        assert str(app_home) in status_text(app)

    run_app(check)


def test_a_value_typed_just_before_saving_is_in_the_saved_plan(tmp_path: Path) -> None:
    from textual.widgets import Input

    from fleetcalc.plan import load_plan

    target = tmp_path / "plan.toml"

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await settle(pilot)
        field = app.screen.query_one("#order-quantity", Input)
        field.focus()
        await pilot.pause()
        field.value = "1234"  # typed, not yet applied: the dialog takes the focus
        await pilot.press("ctrl+s")
        await settle(pilot)
        await enter_path(pilot, target)
        assert load_plan(target).orders[0].quantity == 1234

    run_app(check)


def test_export_refuses_results_still_being_computed() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        app.computing = True  # as while an edit applied when the dialog opened is evaluated
        text = await fail_in_dialog(app, pilot, "export", "comparison.csv")
        assert "still computing" in text and "up to date" in text
        assert list(Path.cwd().iterdir()) == []

    run_app(check)
