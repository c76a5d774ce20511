"""Declarative checks for the TOML inputs: each field says its type, range and default once.

``read_table`` turns a parsed TOML table into plain values or raises ``InputError`` naming the
file, the key path (``orders[2].quantity``), the bad value and what is allowed. Unknown keys are
errors, so a typo never falls back silently to a default.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetcalc.errors import InputError

_REQUIRED = object()
ISO_ALPHA2 = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Field:
    """One key of a TOML table: its kind, default and allowed range."""

    name: str
    kind: str  # "float", "int", "bool", "str", "date", "origin", "origins"
    default: Any = _REQUIRED
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    choices: tuple[str, ...] | None = None

    def expected(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        words = {
            "float": "a number", "int": "an integer", "bool": "true or false", "str": "a string",
            "date": "a date like 2027-01-31", "origin": "an ISO 3166 alpha-2 code like 'MY'",
            "origins": "a list of ISO 3166 alpha-2 codes like ['CN']",
        }[self.kind]
        if self.lo is not None and self.hi is not None:
            left = "(" if self.lo_open else "["
            return f"{words} in {left}{self.lo:g}, {self.hi:g}]"
        if self.lo is not None:
            return f"{words} {'>' if self.lo_open else '>='} {self.lo:g}"
        return words


def _convert(field: Field, value: Any, source: str, where: str) -> Any:
    def bad() -> InputError:
        return InputError(source, where, value, field.expected())

    kind = field.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if kind in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad()
        if kind == "int" and not isinstance(value, int):
            raise bad()
        number = int(value) if kind == "int" else float(value)
        if kind == "float" and not math.isfinite(number):
            raise bad()
        if field.lo is not None and (number < field.lo or (field.lo_open and number == field.lo)):
            raise bad()
        if field.hi is not None and number > field.hi:
            raise bad()
        return number
    if kind == "date":
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise bad()
        return value
    if kind == "str":
        if not isinstance(value, str) or not value.strip():
            raise bad()
        if field.choices is not None and value not in field.choices:
            raise bad()
        return value
    if kind == "origin":
        if not isinstance(value, str) or not ISO_ALPHA2.match(value):
            raise bad()
        return value
    if kind == "origins":
        if not isinstance(value, list) or not all(
            isinstance(v, str) and ISO_ALPHA2.match(v) for v in value
        ):
            raise bad()
        return tuple(value)
    raise AssertionError(f"unknown field kind {kind}")


def read_table(
    table: Any, fields: tuple[Field, ...], source: str, prefix: str
) -> dict[str, Any]:
    """Check ``table`` against ``fields``; return every field's value (defaults filled in)."""
    if not isinstance(table, Mapping):
        raise InputError(source, prefix or "(top level)", table, "a table")
    known = {f.name: f for f in fields}
    for key in table:
        if key not in known:
            where = f"{prefix}.{key}" if prefix else key
            raise InputError(source, where, key, "one of the keys " + ", ".join(sorted(known)))
    values: dict[str, Any] = {}
    for field in fields:
        where = f"{prefix}.{field.name}" if prefix else field.name
        if field.name in table:
            values[field.name] = _convert(field, table[field.name], source, where)
        elif field.default is _REQUIRED:
            raise InputError(source, where, "(missing)", field.expected())
        else:
            values[field.name] = field.default
    return values


def load_toml(path: str | Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; every failure (missing, a directory, bad bytes) is an InputError."""
    source = str(path)
    file = Path(path)
    if not file.exists():
        raise InputError(source, "", "(no such file)", "an existing TOML file")
    if file.is_dir():
        raise InputError(source, "", "(a directory)", "a TOML file, not a directory")
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise InputError(source, "", f"(unreadable: {error.strerror})", "a readable file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            source, f"byte {error.start}", raw[error.start : error.start + 4], "UTF-8 text"
        ) from None
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as error:
        raise InputError(source, "", str(error), "valid TOML") from None
