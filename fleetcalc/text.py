"""User text made safe to show: in a terminal, in Rich or Textual markup, in a spreadsheet.

Names, file names, assumptions and error messages come from the user. Shown as they are, a
name holding ``[/]`` breaks Rich or Textual markup (a MarkupError, or text silently eaten), one
holding ESC sequences reaches the terminal raw (a demonstrated window-title change), and a CSV
cell beginning with ``=`` runs as a formula in a spreadsheet. So:

- ``printable`` shows every character that is not printable (control characters, ESC, tab,
  newline, bidi overrides) as its Python escape (``\\x1b``, ``\\n``, ``\\u202e``);
- renderers take user text as plain text objects (``rich.text.Text``, ``textual.content.
  Content``), never as markup: escaping markup is not safe (``rich.markup.escape`` and
  Textual's ``escape`` leave a trailing backslash, ``[$var]`` or ``[ bold]`` to be parsed);
- ``shortened`` caps what an error message repeats of a value;
- ``csv_safe`` neutralises text cells that a spreadsheet would read as a formula.

Imports nothing heavy: ``fleetcalc.errors`` (imported by ``import fleetcalc``) uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

# An error message repeats at most this much of a bad value (a 60 MB name would otherwise be
# printed whole).
MAX_SHOWN_CHARS = 200
# A text cell beginning with = + - @ is a formula (or starts one) in Excel, LibreOffice and
# Google Sheets; tab and carriage return as well, per the OWASP guidance on CSV injection.
FORMULA_START = r"^[=+@\t\r-]"
CSV_ESCAPE = "'"


def printable(text: str) -> str:
    """``text`` with each character that is not printable shown as its Python escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shortened(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was, if it is longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def shown_value(value: object) -> str:
    """``repr(value)`` as an error message shows it: a long text cut to MAX_SHOWN_CHARS
    characters with its length, anything else cut likewise."""
    if isinstance(value, str) and len(value) > MAX_SHOWN_CHARS:
        return f"{value[:MAX_SHOWN_CHARS]!r}... ({len(value):,} characters)"
    return shortened(repr(value))


def plain_text_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its categorical columns (the plan name, stored once in memory) as plain
    text: what a file holds, so its readers need no categorical support and tables written by
    different runs or commands join on the name."""
    import polars as pl

    categorical = [name for name, dtype in frame.schema.items()
                   if dtype == pl.Categorical or isinstance(dtype, pl.Enum)]
    return frame.with_columns(pl.col(categorical).cast(pl.String)) if categorical else frame


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell that begins like a formula prefixed by ``'``, which
    spreadsheets show but never evaluate. Numbers are left alone (a negative number is not a
    formula); categorical text columns become plain text."""
    import polars as pl

    text_columns = [name for name, dtype in frame.schema.items()
                    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)]
    if not text_columns:
        return frame
    return frame.with_columns(
        pl.when(pl.col(name).cast(pl.String).str.contains(FORMULA_START))
        .then(pl.lit(CSV_ESCAPE) + pl.col(name).cast(pl.String))
        .otherwise(pl.col(name).cast(pl.String))
        .alias(name)
        for name in text_columns
    )
