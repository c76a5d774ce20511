"""Declarative checks for the TOML inputs: each field says its type, range and default once.

A dataclass declares its TOML keys with ``checked`` (the kind, bounds and default of each) and
``table_fields`` reads them back as the ``Field`` table the parser checks a file against, so a
default is written in one place and the object and the file can never disagree on it.

``read_table`` turns a parsed TOML table into plain values or raises ``InputError`` naming the
file, the key path (``orders[2].quantity``), the bad value and what is allowed. Unknown keys are
errors, so a typo never falls back silently to a default. ``read_text`` and ``load_toml`` turn
every way a file can be unusable (missing, a directory, unreadable, not UTF-8, not TOML) into an
``InputError`` with the line where it applies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import inspect
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fleetcalc.errors import InputError

_REQUIRED = object()
# ISO 3166-1 alpha-2, officially assigned codes (249). A format check alone would let a typo
# like "UK" or "MA" for Malaysia through to the tariff lookup, which falls back to the
# every-origin rows and silently prices the order with the wrong duty.
_ISO_3166_ALPHA2_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_3166_ALPHA2 = frozenset(_ISO_3166_ALPHA2_CODES.split())
# Dates the model can mean: from the genesis block to well past any horizon (start + 100 years
# stays far inside datetime's range, so date arithmetic never overflows).
EARLIEST_DATE = dt.date(2009, 1, 3)
LATEST_DATE = dt.date(2199, 12, 31)
# Inputs are hand-written plans and daily series (a century of days is ~2 MB of CSV).
MAX_INPUT_BYTES = 64 * 2**20
# Text values: a name labels a column and a chart line (and once repeated a plan name in every
# daily row: a 60 MB name went to the OOM killer); any other text key (a file name, a mode) has
# no use for more than a long sentence.
MAX_NAME_CHARS = 200
MAX_TEXT_CHARS = 1000
# Plans and scenarios nest three levels (orders -> an order -> its values); nothing real needs
# more than a few. Deeper documents are refused before anything walks them: Python's parser and
# ``repr`` recurse per level and hit the interpreter's limit near a thousand.
MAX_NESTING = 16
_TOML_POSITION = re.compile(r"^(?P<msg>.*?) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|"
                            r"end of document)\)$")


def is_origin(value: Any) -> bool:
    """An ISO 3166-1 alpha-2 code (uppercase, officially assigned)."""
    return isinstance(value, str) and value in ISO_3166_ALPHA2


@dataclass(frozen=True)
class Field:
    """One key of a TOML table: its kind, default and allowed range."""

    name: str
    # "float", "int", "bool", "str", "date", "origin", "origins", "modes", "datetimes", "texts"
    kind: str
    default: Any = _REQUIRED
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    choices: tuple[str, ...] | None = None
    pattern: re.Pattern[str] | None = None  # for "str": the whole value must match
    pattern_words: str = ""  # what ``pattern`` allows, for the message
    max_chars: int = MAX_TEXT_CHARS  # for "str": the longest value allowed

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def expected(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.pattern is not None:
            return self.pattern_words
        words = {
            "float": "a number", "int": "an integer", "bool": "true or false",
            "str": f"a non-empty string of at most {self.max_chars:,} characters",
            "date": f"a date like 2027-01-31, from {EARLIEST_DATE} to {LATEST_DATE}",
            "origin": "an ISO 3166 alpha-2 country code like 'MY' (uppercase)",
            "origins": "a list of ISO 3166 alpha-2 country codes like ['CN']",
            "modes": 'a list of operating modes like ["eco", "stock", "turbo"], or "all"',
            "datetimes": "a list of times with offset like [2026-08-20T17:00:00-05:00]",
            "texts": "a list of non-empty strings",
        }[self.kind]
        # Integers in full (a seed bound of 9.22337e+18 would not say which integer).
        shown = (lambda x: f"{int(x)}") if self.kind == "int" else (lambda x: f"{x:g}")
        if self.lo is not None and self.hi is not None:
            left = "(" if self.lo_open else "["
            return f"{words} in {left}{shown(self.lo)}, {shown(self.hi)}]"
        if self.lo is not None:
            return f"{words} {'>' if self.lo_open else '>='} {shown(self.lo)}"
        return words


# Where ``checked`` keeps a dataclass field's Field in the field's metadata.
_FIELD_KEY = "fleetcalc.validate.Field"
_Class = TypeVar("_Class", bound=type)


def checked(
    kind: str, default: Any = _REQUIRED, *, optional_in_file: bool = False,
    lo: float | None = None, hi: float | None = None, lo_open: bool = False,
    choices: tuple[str, ...] | None = None, pattern: re.Pattern[str] | None = None,
    pattern_words: str = "", max_chars: int = MAX_TEXT_CHARS,
) -> Any:
    """A dataclass field that is also a TOML key: ``kind`` and the bounds say what the key
    accepts (see ``Field``); ``default`` is both the object's default and the value of an absent
    key (none given: the key is required).

    ``optional_in_file``: the key may be left out (read as None) although the object needs a
    value, because the parser fills it in itself (a start level taken from a CSV series).
    """
    rules = Field("", kind, None if optional_in_file else default, lo=lo, hi=hi, lo_open=lo_open,
                  choices=choices, pattern=pattern, pattern_words=pattern_words,
                  max_chars=max_chars)
    metadata = {_FIELD_KEY: rules}
    if default is _REQUIRED:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def table_fields(cls: type) -> tuple[Field, ...]:
    """The TOML keys of dataclass ``cls``: its ``checked`` fields, in declaration order."""
    return tuple(dataclasses.replace(f.metadata[_FIELD_KEY], name=f.name)
                 for f in dataclasses.fields(cls) if _FIELD_KEY in f.metadata)


def overridable(source: type) -> Callable[[_Class], _Class]:
    """Class decorator, applied under ``@dataclass``: every ``checked`` field of the dataclass
    ``source`` becomes an optional field of the decorated class too, appended after its own,
    with the same name, kind and bounds and default None ("keep the source's value").

    So the figures an order may override are declared once, in ``source``.
    """

    def add_fields(cls: _Class) -> _Class:
        annotations = inspect.get_annotations(cls)
        for f in dataclasses.fields(source):
            if _FIELD_KEY not in f.metadata:
                continue
            type_name = f.type if isinstance(f.type, str) else f.type.__name__
            annotations[f.name] = f"{type_name} | None"
            rules = dataclasses.replace(f.metadata[_FIELD_KEY], default=None)
            setattr(cls, f.name, dataclasses.field(default=None, metadata={_FIELD_KEY: rules}))
        cls.__annotations__ = annotations
        return cls

    return add_fields


def command_line_date(text: str, option: str) -> dt.date:
    """A date typed on the command line for ``option``; InputError when it is not one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError("command line", option, text, "a date like 2026-03-01") from None


def command_line_value(field: Field, text: str, option: str) -> Any:
    """A value typed on the command line for ``option``, checked by ``field`` as in a file."""
    value: Any = text
    # Text that is not a number is shown as typed: "got 'abc'; expected a number in [0, 10]".
    if field.kind in ("float", "int"):
        with contextlib.suppress(ValueError):
            value = int(text) if field.kind == "int" else float(text)
    return convert(field, value, "command line", option)


def _number(field: Field, value: Any) -> float | int | None:
    """The value as the field's number, or None when it is not one (or out of range)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if field.kind == "int":
        if not isinstance(value, int):
            return None
        number: float | int = value
    else:
        try:
            number = float(value)  # a TOML integer bigger than a float overflows
        except OverflowError:
            return None
        if not math.isfinite(number):
            return None
    if field.lo is not None and (number < field.lo or (field.lo_open and number == field.lo)):
        return None
    if field.hi is not None and number > field.hi:
        return None
    return number


def convert(field: Field, value: Any, source: str, where: str) -> Any:
    """``value`` read from a file as ``field``'s kind, or InputError. Long: one branch per
    field kind, each a few lines, kept together so every kind's rule reads in one place."""

    def bad() -> InputError:
        # Dates read as in the file (2027-01-31), not as Python's datetime.date(2027, 1, 31).
        def as_in_file(item: Any) -> Any:
            return item.isoformat() if isinstance(item, dt.date | dt.time) else item

        shown = ([as_in_file(v) for v in value] if isinstance(value, list | tuple)
                 else as_in_file(value))
        return InputError(source, where, shown, field.expected())

    kind = field.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if kind in ("float", "int"):
        number = _number(field, value)
        if number is None:
            raise bad()
        return number
    if kind == "date":
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise bad()
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            raise bad()
        return value
    if kind == "str":
        if not isinstance(value, str) or not value.strip() or len(value) > field.max_chars:
            raise bad()
        if field.choices is not None and value not in field.choices:
            raise bad()
        if field.pattern is not None and not field.pattern.fullmatch(value):
            raise bad()
        return value
    if kind == "origin":
        if not is_origin(value):
            raise bad()
        return value
    if kind == "origins":
        # A list in TOML, a tuple in the objects.
        if not isinstance(value, list | tuple) or not all(is_origin(v) for v in value):
            raise bad()
        return tuple(value)
    if kind == "modes":
        if value == "all":
            return ("all",)
        if (not isinstance(value, list | tuple) or not value
                or not all(isinstance(v, str) and v.strip() for v in value)):
            raise bad()
        return tuple(value)
    if kind == "datetimes":
        # A list in TOML, a tuple in the objects.
        if not isinstance(value, list | tuple) or not all(
                isinstance(v, dt.datetime) and v.tzinfo is not None for v in value):
            raise bad()
        return tuple(value)
    if kind == "texts":
        # A list in TOML, a tuple in the objects.
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip()
                                                          for v in value):
            raise bad()
        return tuple(value)
    raise AssertionError(f"unknown field kind {kind}")


def check_fields(obj: Any, source: str, prefix: str) -> None:
    """Check every ``checked`` field of the dataclass object ``obj`` as ``read_table`` checks
    a TOML key (an object built or changed in memory gets the file's rules); None passes where
    the field's default is None. Raises InputError naming ``prefix.field``."""
    for spec in dataclasses.fields(obj):
        rules = spec.metadata.get(_FIELD_KEY)
        if rules is None:
            continue
        value = getattr(obj, spec.name)
        if value is None and spec.default is None:
            continue
        where = f"{prefix}.{spec.name}" if prefix else spec.name
        convert(dataclasses.replace(rules, name=spec.name), value, source, where)


def read_table(
    table: Any, fields: tuple[Field, ...], source: str, prefix: str,
    tables: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Check ``table`` against ``fields``; return every field's value (defaults filled in).

    ``tables`` names keys the caller reads itself (sub-tables): they are listed as allowed in
    the message about an unknown key, and must already be removed from ``table``.
    """
    if not isinstance(table, Mapping):
        shown = "(missing)" if table is None else table
        raise InputError(source, prefix or "(top level)", shown, "a table")
    known = {f.name: f for f in fields}
    for key in table:
        if key not in known:
            where = f"{prefix}.{key}" if prefix else key
            allowed = ", ".join(sorted([*known, *tables]))
            raise InputError(source, where, key, f"one of the keys {allowed}")
    values: dict[str, Any] = {}
    for field in fields:
        where = f"{prefix}.{field.name}" if prefix else field.name
        if field.name in table:
            values[field.name] = convert(field, table[field.name], source, where)
        elif field.required:
            raise InputError(source, where, "(missing)", field.expected())
        else:
            values[field.name] = field.default
    return values


def read_text(path: str | Path, what: str) -> str:
    """A file's text; every failure (missing, a directory, unreadable, bad bytes) is an
    InputError. ``what`` names the kind of file expected ("TOML file", "CSV file")."""
    source = str(path)
    file = Path(path)
    try:
        if file.is_dir():
            raise InputError(source, "", "(a directory)", f"a {what}, not a directory")
        # A device or a pipe (/dev/zero, a FIFO) would never end or block: regular files only.
        if file.exists() and not file.is_file():
            raise InputError(source, "", "(not a regular file)", f"a {what}")
        size = file.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(source, "", f"({size:,} bytes)",
                             f"a {what} of at most {MAX_INPUT_BYTES:,} bytes")
        raw = file.read_bytes()
    except FileNotFoundError:
        raise InputError(source, "", "(no such file)", f"an existing {what}") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(source, "", f"(unreadable: {reason})", f"a readable {what}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(source, f"line {line}", raw[error.start : error.start + 4],
                         f"UTF-8 text (a {what})") from None


def load_toml(path: str | Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; every failure (missing, a directory, bad bytes, bad syntax) is an
    InputError naming the line."""
    source = str(path)
    text = read_text(path, "TOML file")
    return parse_toml_text(text, source), source


def _too_deep(source: str, where: str) -> InputError:
    return InputError(source, where, f"(nested more than {MAX_NESTING} levels deep)",
                      f"arrays and tables nested at most {MAX_NESTING} levels deep")


def _deepest_line(text: str) -> str:
    """'line N' of the first line where brackets outside strings and comments open more than
    MAX_NESTING levels ('' if none does); for a document too deep for the parser itself."""
    depth, quote = 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        escaped = False
        for char in line:
            if quote:
                if escaped:
                    escaped = False
                elif char == "\\" and quote == '"':
                    escaped = True
                elif char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char == "#":
                break
            elif char in "[{":
                depth += 1
                if depth > MAX_NESTING:
                    return f"line {number}"
            elif char in "]}":
                depth -= 1
    return ""


def check_nesting(doc: Any, source: str) -> None:
    """InputError naming the key path where ``doc`` nests deeper than MAX_NESTING levels.

    Iterative, so a document of any depth is measured without recursion."""
    stack: list[tuple[Any, int, str]] = [(doc, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, dict):
            children = [(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(v, f"{where}[{i}]") for i, v in enumerate(value)]
        else:
            continue
        if depth > MAX_NESTING:  # the document itself is level 0
            raise _too_deep(source, where)
        stack.extend((child, depth + 1, path) for child, path in children)


def parse_toml_text(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error becomes an InputError with its line and that line's text,
    nesting deeper than MAX_NESTING levels an InputError naming where."""
    try:
        doc = tomllib.loads(text)
    except RecursionError:
        raise _too_deep(source, _deepest_line(text)) from None
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_POSITION.match(message)
        if match is None:
            raise InputError(source, "", message, "valid TOML") from None
        reason = match["msg"][:1].lower() + match["msg"][1:]
        if match["line"] is None:
            raise InputError(source, "end of file", "(end of file)",
                             f"valid TOML ({reason})") from None
        line = int(match["line"])
        lines = text.splitlines()
        shown = lines[line - 1].strip() if line <= len(lines) else ""
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise InputError(source, f"line {line}, column {match['col']}", shown,
                         f"valid TOML ({reason})") from None
    check_nesting(doc, source)
    return doc
