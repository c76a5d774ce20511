"""The project's own input error: every bad input becomes one of these, never a traceback."""

from __future__ import annotations


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

    def _render(self) -> str:
        # A key or file name may hold a newline or other control character: shown escaped, so
        # the message stays one line.
        source, where = _printable(self.source), _printable(self.where)
        location = f"{source}: {where}" if where else source
        return f"{location}: got {self.value!r}; expected {self.expected}"


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
