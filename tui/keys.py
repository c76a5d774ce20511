"""Keys that move the focus, bound so that no typed key is lost in a burst.

Textual hands each key to the widget focused when the app reads it. A key that no widget
handles, such as Tab in a text field, reaches the screen's binding only after travelling back
up from that widget, and by then the keys typed after it (a terminal delivers a fast typist's
or a paste's keys in one read) have already been handed to the field being left: "2000<Tab>0.05"
put "0.05" into the first field. A *priority* binding runs when the app reads the key, before
the next key is handed on, so the keys after it go to the field that has the focus by then.
"""

from __future__ import annotations

from textual.binding import Binding

FOCUS_BINDINGS = (
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
)
