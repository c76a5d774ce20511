"""TextField: an Input whose own keys (cursor moves, deletions, Enter) act in the order typed.

Textual runs a widget's ordinary (non-priority) bindings only when the key has travelled back
up from the focused widget to the app, one widget per processing turn, while a printable key is
inserted as soon as the Input handles it. In a burst (a terminal hands over a fast typist's or a
paste's keys in one read) the characters typed after a cursor key or Backspace are therefore in
the field before that key acts: "0.04<End>5" with the text selected gave "5" (End ran after the
"5" had replaced the selection), "12<Backspace>3" gave "12". A TextField runs the binding it has
for a key when it handles that key, as the app would have, and the key goes no further; other
keys (the app's own, such as ctrl+s) still travel up.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class TextField(Input):
    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            # Priority bindings were tried by the app when it read the key.
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)
