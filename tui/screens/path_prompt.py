"""A dialog asking for a file path; the action runs on submit and its error shows inline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from fleetcalc.errors import InputError
from tui.format import plain
from tui.keys import FOCUS_BINDINGS
from tui.widgets.text_field import TextField


def failure_text(failure: InputError | OSError, path: str) -> str:
    """One line saying why a file action failed (an OSError may not name the file)."""
    if isinstance(failure, InputError):
        return str(failure)
    text = str(failure)
    if failure.filename is None and path not in text:
        text = f"{text}: {path}"
    return text


class PathPrompt(ModalScreen[str | None]):
    """Ask for a path, run ``run(path)``; stay open with the error shown if it fails.

    ``run`` returns a one-line report or raises ``InputError`` / ``OSError``; the dialog then
    shows the error under the field and tells the app (``FileActionFailed``, for the status
    line), and nothing else changes. On success it closes and posts ``FileActionDone``.
    """

    Run = Callable[[str], str]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"), *FOCUS_BINDINGS]

    @dataclass
    class FileActionDone(Message):
        report: str

    @dataclass
    class FileActionFailed(Message):
        title: str
        error: str

    def __init__(self, title: str, default: str, run: Run) -> None:
        super().__init__()
        self._title = title
        self._default = default
        self._run = run

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(plain(self._title), id="dialog-title")
            yield TextField(self._default, id="path", placeholder="path/to/file")
            yield Static(plain(f"Relative paths start in {Path.cwd()}"), classes="hint")
            yield Static("", id="path-error", classes="error")
            with Horizontal(id="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        path = self.query_one("#path", Input)
        path.cursor_blink = getattr(self.app, "cursor_blink", True)
        path.focus()

    def _fail(self, text: str) -> None:
        error = self.query_one("#path-error", Static)
        error.update(plain(text))
        error.add_class("-shown")
        self.app.post_message(self.FileActionFailed(self._title, text))

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        if not path:
            self._fail("Enter a file path")
            return
        try:
            report = self._run(path)
        except (InputError, OSError) as failure:
            self._fail(failure_text(failure, path))
            return
        self.app.post_message(self.FileActionDone(report))
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
