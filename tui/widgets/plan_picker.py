"""A drop-down of the compared plans; choosing one selects it everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.message import Message
from textual.widgets import Select

from tui.format import plain, plan_label


class PlanPicker(Select[int]):
    @dataclass
    class PlanSelected(Message):
        """The user chose plan ``index`` (of the app's plans)."""

        index: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__([], allow_blank=True, prompt="Plan", id=id, compact=True)

    def on_mount(self) -> None:
        self._options: list[tuple[str, int]] = []
        self.watch(self.app, "plans", self._sync)
        self.watch(self.app, "selected", self._sync)

    def _sync(self, _value: Any = None) -> None:
        app: Any = self.app
        options = [(plain(plan_label(i, p.name)), i) for i, p in enumerate(app.plans)]
        with self.prevent(Select.Changed):
            # Most edits keep every plan's name: rebuilding the options would restyle them all.
            if options != self._options:
                self.set_options(options)
                self._options = options
            self.value = app.selected

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, int):
            self.post_message(self.PlanSelected(event.value))
