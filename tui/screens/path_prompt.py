"""A dialog asking for a file path; the action runs on submit and its error shows inline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from fleetcalc.errors import InputError
from fleetcalc.text import printable
from tui.format import plain


class PathPrompt(ModalScreen[str | None]):
    """Ask for a path, run ``run(path)``; stay open with the error shown if it fails.

    ``run`` returns a one-line report (shown as a notification) or raises ``InputError`` /
    ``OSError``, which the dialog shows under the field without closing.
    """

    Run = Callable[[str], str]
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, default: str, run: Run) -> None:
        super().__init__()
        self._title = title
        self._default = default
        self._run = run

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(plain(self._title), id="dialog-title")
            yield Input(self._default, id="path", placeholder="path/to/file")
            yield Static(plain(f"Relative paths start in {Path.cwd()}"), classes="hint")
            yield Static("", id="path-error", classes="error")
            with Horizontal(id="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        path = self.query_one("#path", Input)
        path.cursor_blink = getattr(self.app, "cursor_blink", True)
        path.focus()

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        error = self.query_one("#path-error", Static)
        if not path:
            error.update("Enter a file path")
            return
        try:
            report = self._run(path)
        except InputError as failure:
            error.update(plain(str(failure)))
            return
        except OSError as failure:
            error.update(plain(f"{failure.strerror or failure}: {failure.filename or path}"))
            return
        self.app.notify(printable(report), markup=False)
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
