"""Redraw from app state only while on screen, and only what changed.

Every edit recomputes, and laying out a hidden tab's tables and charts would add tens of
milliseconds to each keystroke for nothing. A widget using ``DeferredRedraw`` marks itself stale
while hidden and redraws when it is shown again. ``update_if_changed`` skips the update of a
text that stays the same: each ``Static.update`` asks for a layout of the whole screen (~25 ms
of CPU with the editor's hundreds of widgets), and an edit reloads every field's error line.
"""

from __future__ import annotations

from typing import Any

from textual.visual import VisualType
from textual.widgets import Static


def update_if_changed(widget: Static, content: VisualType, *, layout: bool = True) -> None:
    """``widget.update(content, layout=layout)`` unless it shows ``content`` already
    (``layout`` False: a widget whose size no text changes needs only a repaint)."""
    if widget.content != content:
        widget.update(content, layout=layout)


class DeferredRedraw:
    """Mixin for widgets: call ``follow_app(*names)`` in ``on_mount``; implement ``redraw()``."""

    _stale = True

    def follow_app(self, *names: str) -> None:
        widget: Any = self
        for name in names:
            widget.watch(widget.app, name, self._app_changed, init=False)
        self._app_changed()

    def _app_changed(self, _value: Any = None) -> None:
        widget: Any = self
        if widget.is_on_screen:
            self._stale = False
            self.redraw()
        else:
            self._stale = True

    def on_show(self) -> None:
        if self._stale:
            self._stale = False
            self.redraw()

    def redraw(self) -> None:
        raise NotImplementedError
