"""The app's file actions: open and save plans and scenarios, export the comparison, save a
screenshot. A mixin of ``FleetcalcApp``, kept apart so the app module holds its state and the
evaluation.

Every action asks for a path in a ``PathPrompt`` and runs there: a file that cannot be read or
written leaves the dialog open with the reason under the path, the reason in the status line
(``file_error``), and the plans and scenario as they were. Nothing is written but through
``fleetcalc.io``'s atomic writer, so a new file gets the user's umask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fleetcalc.errors import InputError
from fleetcalc.plan import Plan, check_plan_against_scenario, load_plan
from fleetcalc.scenario import Scenario, load_scenario
from fleetcalc.text import printable
from tui import files
from tui.screens.path_prompt import PathPrompt


class FileActions:
    """Actions on files; the class using it provides the app's state and ``add_plan``."""

    # Provided by FleetcalcApp.
    plans: tuple[Plan, ...]
    scenario: Scenario | None
    selected: int
    results: Any
    file_error: str
    base_scenario: Scenario

    def _prompt(self, title: str, default: str, run: PathPrompt.Run) -> None:
        app: Any = self
        app.file_error = ""
        # A dialog does not blur the field under it, so a value typed there and not yet
        # applied would be left out of what is saved: leaving the field applies it first.
        screen, focused = app.screen, app.screen.focused
        screen.set_focus(None)

        def back(_path: str | None) -> None:
            if focused is not None and focused.is_attached:
                screen.set_focus(focused)

        app.push_screen(PathPrompt(title, default, run), back)

    # Handlers by name: ``@on`` registers only in classes built by Textual's metaclass.
    def on_path_prompt_file_action_done(self, message: PathPrompt.FileActionDone) -> None:
        app: Any = self
        app.file_error = ""
        app.notify(printable(message.report), markup=False)

    def on_path_prompt_file_action_failed(self, message: PathPrompt.FileActionFailed) -> None:
        self.file_error = f"{message.title}: {message.error}"

    def _check_horizon(self, plans: Iterable[Plan], scenario: Scenario) -> None:
        """Raise InputError if an order delivers outside the scenario's horizon (checked before
        a file is accepted, so a bad file never replaces good inputs)."""
        for plan in plans:
            check_plan_against_scenario(plan, scenario.start_date, scenario.end_date)

    def action_open_plan(self) -> None:
        app: Any = self

        def run(path: str) -> str:
            plan = load_plan(path)
            assert self.scenario is not None
            self._check_horizon([plan], self.scenario)
            return app.add_plan(plan)

        self._prompt("Open a plan (TOML): it joins the comparison", "plan.toml", run)

    def action_save_plan(self) -> None:
        index = self.selected
        plan = self.plans[index]

        def run(path: str) -> str:
            # The plan as it is when saved: a value typed in a field is applied as the dialog
            # opens (see _prompt), after this action read the plan.
            saved = self.plans[index]
            return f"Saved plan {saved.name!r} to {files.save_plan(saved, path)}"

        default = plan.source if plan.source.endswith(".toml") and "data/plans" not in (
            plan.source) else "plan.toml"
        self._prompt(f"Save plan {plan.name!r} as TOML", default, run)

    def action_open_scenario(self) -> None:
        app: Any = self

        def run(path: str) -> str:
            scenario = load_scenario(path)
            self._check_horizon(self.plans, scenario)
            app.open_scenario(scenario)
            return f"Opened scenario {scenario.name!r}"

        self._prompt("Open a scenario (TOML)", "scenario.toml", run)

    def action_save_scenario(self) -> None:
        # The scenario as shown: an edited one under its "(edited)" name, its changes listed
        # first in its assumptions (tui.changes).
        scenario = self.scenario
        assert scenario is not None

        def run(path: str) -> str:
            saved = self.scenario  # as it is when saved (see action_save_plan)
            assert saved is not None
            return f"Saved scenario {saved.name!r} to {files.save_scenario(saved, path)}"

        self._prompt(f"Save scenario {scenario.name!r} as TOML", "scenario.toml", run)

    def action_export(self) -> None:
        app: Any = self
        results = self.results
        if results is None:
            app.notify("No results yet: wait for the evaluation", severity="warning")
            return

        def run(path: str) -> str:
            # Only results of the inputs shown: an edit applied as the dialog opened (see
            # _prompt) may still be computing.
            if app.computing or app.results is None:
                raise InputError(path, "", "(still computing)",
                                 "results of the current inputs: wait until the status line "
                                 "says they are up to date")
            return f"Exported the comparison to {files.export_summary(app.results.summary, path)}"

        self._prompt("Export the comparison (.csv or .parquet)", "comparison.csv", run)

    def action_save_screenshot(self, path: str = "") -> None:
        """Save an SVG of the current screen to ``path``, by default a dated name in the app's
        screenshot folder (``files.screenshot_dir()``, made if missing), never the working
        directory."""
        self._save_screenshot(Path(path) if path else None)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """Textual's own "Screenshot" (palette, ``App.action_screenshot``) saves as f2 does.

        Textual's writes to ~/Downloads from a thread and fails unseen where that folder does
        not exist; this goes through the atomic writer and says where the file went."""
        if filename is None and path is None:
            self._save_screenshot(None)
        else:
            folder = Path(path) if path is not None else files.screenshot_dir()
            self._save_screenshot(folder / (filename or self._screenshot_name()))
        return None

    def _screenshot_name(self) -> str:
        app: Any = self
        return f"{app.TITLE}_{dt.datetime.now().strftime('%Y-%m-%dT%H_%M_%S')}.svg"

    def _save_screenshot(self, target: Path | None) -> None:
        app: Any = self
        try:
            saved = files.save_text(
                app.export_screenshot(), target or files.screenshot_dir() / self._screenshot_name(),
                make_parents=target is None)
        except (InputError, OSError) as error:
            self.file_error = f"Could not save the screenshot: {error}"
            app.notify(printable(str(error)), title="Could not save the screenshot",
                       severity="error", markup=False)
            return
        self.file_error = ""
        app.notify(printable(f"Screenshot saved to {saved}"), markup=False)
