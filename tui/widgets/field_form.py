"""A form over one table of a plan or scenario: a row per field of its field table.

Each row is a label, a control and the field's error right under it (plus a note line for the
keys asked for). Numbers, dates and text are Inputs; true/false and fixed choices are Selects.
Rows come from the parser's ``Field`` table, so a key added to a plan or scenario class gets a
row with no code.

Attributes down, messages up: the owner calls ``load(values)`` with the current values and
``show_error(key, error)`` after trying a change; the form posts ``FieldCommitted`` when the user
presses Enter in, or leaves, a changed field, or picks an option.

Typed text is never overwritten by a reload. A change to one field reloads the whole form
(the plan changed), and the user may already be typing in the next field, in the same burst of
keys as the Tab that left the first: a field whose text differs from what the form last put
there keeps that text (and its error) until the user commits it, unless the owner forces a
reload because a different plan or order is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from fleetcalc.errors import InputError
from fleetcalc.validate import Field
from tui.edits import UNSET, value_text
from tui.format import plain
from tui.labels import blank_meaning, label
from tui.widgets.deferred import update_if_changed
from tui.widgets.text_field import TextField

# The text a field holds after a failed commit: never equal to any text, so the field counts
# as holding uncommitted text and a reload keeps it with its error.
_REJECTED = object()
T = TypeVar("T")


def show_error_line(label: Static, error: InputError | None) -> None:
    """Show ``error`` in its ``.error`` line under a field (without the file name: the field is
    right above; plain text, never markup: it holds what the user typed), or hide the line."""
    update_if_changed(label, plain(error.detail) if error else "")
    label.set_class(error is not None, "-shown")


def apply_edit(build: Callable[[], T], show: Callable[[InputError | None], None],
               post: Callable[[T], None]) -> None:
    """Make the edit ``build()`` (a new plan or scenario, checked as the parsers check a file)
    and ``post`` it; when it is refused, ``show`` its ``InputError`` and post nothing (``show``
    gets None, clearing the line, when it is accepted)."""
    try:
        value = build()
    except InputError as error:
        show(error)
        return
    show(None)
    post(value)


def blank_text(table: str, field: Field) -> str:
    """What a blank field means: as ``tui.labels.BLANKS`` says, else its default, or nothing
    (a required key: it is missing)."""
    meaning = blank_meaning(table, field.name)
    if meaning is not None:
        return meaning
    if field.required:
        return "required"
    if field.default in (None, ()):
        return "blank: none"
    return f"blank: {value_text(field.default)}"


def choices_of(field: Field) -> list[tuple[str, Any]] | None:
    """The options of a field shown as a Select (true/false, or its fixed choices), else None."""
    if field.kind == "bool":
        return [("true", True), ("false", False)]
    if field.choices is not None:
        return [(choice, choice) for choice in field.choices]
    return None


class FieldForm(Widget):
    @dataclass
    class FieldCommitted(Message):
        """The user set ``key`` of the form's table: ``value`` is the typed text, or the
        option picked (``UNSET`` for the blank option: the key's default)."""

        form: FieldForm
        key: str
        value: Any

        @property
        def control(self) -> FieldForm:
            return self.form

    def __init__(self, table: str, fields: Iterable[Field], *, prefix: str,
                 notes: Sequence[str] = (), id: str | None = None) -> None:
        super().__init__(id=id, classes="field-form")
        self.table = table
        self.fields = tuple(fields)
        self.prefix = prefix
        self._notes = tuple(notes)
        # The text each Input was last given by load() or accepted from the user.
        self._shown: dict[str, object] = {}
        # The option each Select was last given by load() or picked by the user.
        self._chosen: dict[str, Any] = {}

    def field_id(self, key: str) -> str:
        return f"{self.prefix}-{key}"

    def compose(self) -> ComposeResult:
        for field in self.fields:
            fid = self.field_id(field.name)
            with Horizontal(classes="field"):
                yield Label(label(self.table, field.name), classes="field-label")
                options = choices_of(field)
                if options is None:
                    yield TextField(id=fid, compact=True, select_on_focus=True)
                else:
                    # A key with no default value of its own (None) may be left blank.
                    yield Select(options, id=fid, compact=True,
                                 prompt=blank_text(self.table, field).removeprefix("blank: "),
                                 allow_blank=field.default is None)
            yield Static("", id=f"error-{fid}", classes="error")
            if field.name in self._notes:
                yield Static("", id=f"note-{fid}", classes="note")

    def on_mount(self) -> None:
        blink = getattr(self.app, "cursor_blink", True)
        for field in self.query(Input):
            field.cursor_blink = blink

    def load(self, values: Mapping[str, Any], *, placeholders: Mapping[str, str] | None = None,
             inactive: Mapping[str, str] | None = None, force: bool = False) -> None:
        """Show ``values`` (by key; None: blank, the default applies). A field holding text the
        user has not committed keeps it unless ``force``; ``placeholders`` show in blank
        fields; an ``inactive`` key's field is blank and disabled, its reason shown in it."""
        for field in self.fields:
            key, value = field.name, values.get(field.name)
            control = self.query_one(f"#{self.field_id(key)}")
            reason = (inactive or {}).get(key)
            control.disabled = reason is not None
            if reason is not None and isinstance(control, Input):
                value, placeholders = None, {**(placeholders or {}), key: reason}
            if isinstance(control, Select):
                known = any(v == value for _, v in choices_of(field) or ())
                self._chosen[key] = value if known else Select.NULL
                with control.prevent(Select.Changed):
                    control.value = self._chosen[key]
                self._set_error(key, None)
                continue
            assert isinstance(control, Input)
            if not force and key in self._shown and control.value != self._shown[key]:
                continue
            text = value_text(value, field.kind)
            if control.value != text:
                control.value = text
            control.placeholder = (placeholders or {}).get(key) or blank_text(self.table, field)
            self._shown[key] = text
            self._set_error(key, None)

    def set_note(self, key: str, text: str) -> None:
        note = self.query_one(f"#note-{self.field_id(key)}", Static)
        update_if_changed(note, plain(text))
        note.set_class(bool(text), "-shown")

    def show_error(self, key: str, error: InputError | None) -> None:
        """Show why the value typed for ``key`` was refused (None: it was accepted, or changed
        nothing). A refused text stays in the field across reloads, with its error."""
        control = self.query_one(f"#{self.field_id(key)}")
        if isinstance(control, Input):
            self._shown[key] = _REJECTED if error is not None else control.value
        self._set_error(key, error)

    def _set_error(self, key: str, error: InputError | None) -> None:
        show_error_line(self.query_one(f"#error-{self.field_id(key)}", Static), error)

    def _key_of(self, widget_id: str | None) -> str | None:
        key = (widget_id or "").removeprefix(f"{self.prefix}-")
        return key if any(f.name == key for f in self.fields) else None

    @on(Input.Submitted)
    @on(Input.Blurred)
    def _text_committed(self, event: Input.Submitted | Input.Blurred) -> None:
        key = self._key_of(event.input.id)
        if key is None:
            return
        event.stop()
        if event.value == self._shown.get(key):
            self._set_error(key, None)
            return
        self.post_message(self.FieldCommitted(self, key, event.value))

    @on(Select.Changed)
    def _option_chosen(self, event: Select.Changed) -> None:
        key = self._key_of(event.select.id)
        if key is None:
            return
        event.stop()
        # A Select announces the option it starts on when mounted, and load() sets others:
        # only a pick that differs from what load() showed is the user's.
        if key not in self._chosen or event.value == self._chosen[key]:
            return
        self._chosen[key] = event.value
        value = UNSET if event.value is Select.NULL else event.value
        self.post_message(self.FieldCommitted(self, key, value))
