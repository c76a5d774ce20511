"""The project's own input error: every bad input becomes one of these, never a traceback."""

from __future__ import annotations

from fleetcalc.text import printable, shortened, shown_value


class InputError(ValueError):
    """Bad user input: names where (file, line or key path), the bad value and what was expected.

    The CLI prints ``str(error)`` on stderr and exits with code 2.
    """

    def __init__(self, source: str, where: str, value: object, expected: str) -> None:
        self.source = source
        self.where = where
        self.value = value
        self.expected = expected
        super().__init__(self._render())

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str, object, str]]:
        # Pickling an exception replays its ``args`` (here the one rendered message) into
        # ``__init__``; replay the four fields instead, so an error raised in a batch worker
        # process or on a Dask worker arrives in the parent whole.
        return (type(self), (self.source, self.where, self.value, self.expected))

    @property
    def detail(self) -> str:
        """The message without the file: where, the bad value and what was expected (for a
        form that shows the error under its field)."""
        return self._render(with_source=False)

    def _render(self, with_source: bool = True) -> str:
        # Any part may hold user text: control characters are shown escaped, so the message
        # stays one line and never reaches a terminal raw, and a long value or key is cut.
        where = shortened(printable(self.where))
        if with_source:
            source = printable(self.source)
            where = f"{source}: {where}" if where else source
        location = f"{where}: " if where else ""
        return (f"{location}got {shown_value(self.value)}; "
                f"expected {printable(self.expected)}")
