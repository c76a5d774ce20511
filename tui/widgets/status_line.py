"""One line under the tabs: computing, up to date, the last evaluation error, or why the last
file action failed."""

from __future__ import annotations

from typing import Any

from textual.visual import VisualType
from textual.widgets import Static

from tui.format import plain
from tui.widgets.deferred import update_if_changed


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    StatusLine.-error { background: $error 30%; color: $text; }
    StatusLine.-busy { color: $warning; }
    """

    def on_mount(self) -> None:
        for name in ("computing", "details_pending", "error", "file_error", "results"):
            self.watch(self.app, name, self._refresh_text)

    def _say(self, content: VisualType) -> None:
        # One line across the screen (its CSS): a new text never changes its size, so it needs
        # no layout of the whole screen (tens of ms on the editor tab, at every stage of an
        # edit's evaluation).
        update_if_changed(self, content, layout=False)

    def _refresh_text(self, _value: Any = None) -> None:
        app: Any = self.app
        failed = app.error or app.file_error
        self.set_class(bool(failed), "-error")
        self.set_class(app.computing and not failed, "-busy")
        if app.error:
            self._say(plain(f"Error: {app.error}  (previous results still shown)"))
            return
        if app.file_error:
            self._say(plain(f"{app.file_error}  (nothing changed)"))
            return
        if app.results is None:
            self._say("Computing (the first run loads the compiled kernels)…")
            return
        scenario = app.results.scenario
        warnings = list(dict.fromkeys(w for ws in app.results.summary["warnings"] for w in ws))
        if warnings and not app.computing:
            self.set_class(True, "-busy")  # the warning colour
            # Valid but implausible inputs (fleetcalc.plausibility): the first, and how many more.
            more = f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""
            self._say(plain(f"Warning{more}: {warnings[0]}"))
            return
        paths = "1 path" if scenario.paths == 1 else f"{scenario.paths:,} Monte Carlo paths"
        state = ("Computing…" if app.computing
                 else "Computing breakevens and percentiles…" if app.details_pending
                 else "Up to date")
        # The scenario's name is in the header; the line stays short enough for 80 columns.
        self._say(
            f"{state} · {len(app.plans)} plans · {paths} · horizon {scenario.start_date} + "
            f"{scenario.horizon_days:,} days · ? for help"
        )
