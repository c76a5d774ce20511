"""Daily CSV series for scenarios: the BTC price (``date,price_usd``) or the network hashrate
(``date,hashrate_ehs``), one row per day.

A series must be sorted, one row per day with no gaps or duplicates, and cover every day of
the horizon from the scenario's start date (rows before or after the horizon are allowed and
ignored). Every problem is an ``InputError`` naming the CSV file, the line, the bad value and
what is allowed.

A series replaces the generated deterministic path. With ``paths > 1`` it is the expected
path: each Monte Carlo path multiplies it by a mean-one lognormal shock process with the
scenario's volatility (``btc.annual_volatility`` / ``network.annual_volatility``), so the mean
over many paths follows the series.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fleetcalc.errors import InputError
from fleetcalc.validate import read_text

# ASCII only: ``\d`` and ``float()`` also take other scripts' digits (Arabic-Indic, full-width),
# ``float()`` takes ``1_000``, and ``str.strip()`` drops a no-break space; a series is a machine
# format, so a value is digits 0-9 with an optional sign, point and exponent, padded at most
# by ASCII spaces and tabs.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_PADDING = " \t"


@dataclass(frozen=True)
class SeriesKind:
    """What one kind of series holds: its value column and allowed range."""

    key: str  # the scenario key naming the file, e.g. "btc.price_series"
    column: str  # the value column, e.g. "price_usd"
    lo: float  # smallest allowed value (inclusive)
    hi: float  # largest allowed value (inclusive)
    example: str  # one data row, for messages

    @property
    def header(self) -> str:
        return f"date,{self.column}"

    def allowed(self) -> str:
        return f"a number in [{self.lo:g}, {self.hi:g}]"


PRICE_SERIES = SeriesKind("btc.price_series", "price_usd", 0.01, 1e9, "2027-01-31,90000")
HASHRATE_SERIES = SeriesKind(
    "network.hashrate_series", "hashrate_ehs", 1e-6, 1e9, "2027-01-31,1050.5")


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank line; the header is line 1."""
    text = read_text(path, "CSV file").removeprefix("\ufeff")
    # Cells never hold quoted newlines here, so the reader's line counter is the file's line.
    reader = csv.reader(text.splitlines())
    return [(reader.line_num, cells) for cells in reader if any(c.strip(_PADDING) for c in cells)]


def _row(source: str, line: int, cells: list[str], kind: SeriesKind) -> tuple[dt.date, float]:
    """One data row's date and value (strict ISO date, ASCII number within the kind's range)."""
    where = f"line {line}"
    if len(cells) != 2:
        raise InputError(source, where, ",".join(cells),
                         f"2 cells, {kind.header}, like {kind.example}")
    date_text, value_text = cells[0].strip(_PADDING), cells[1].strip(_PADDING)
    try:
        if not _ISO_DATE.fullmatch(date_text):
            raise ValueError(date_text)
        date = dt.date.fromisoformat(date_text)
    except ValueError:
        raise InputError(source, f"{where}, date", date_text, "a date like 2027-01-31") from None
    if not _NUMBER.fullmatch(value_text):
        raise InputError(source, f"{where}, {kind.column}", value_text,
                         f"{kind.allowed()}, written with ASCII digits like "
                         f"{kind.example.split(',')[1]} or 1.5e3")
    value = float(value_text)
    if not (math.isfinite(value) and kind.lo <= value <= kind.hi):
        raise InputError(source, f"{where}, {kind.column}", value_text, kind.allowed())
    return date, value


def _check_next_day(source: str, line: int, date: dt.date, previous: dt.date,
                    previous_line: int) -> None:
    """A row's date must be the day after the previous row's (no duplicate, order or gap)."""
    where, date_text = f"line {line}, date", date.isoformat()
    step = (date - previous).days
    if step == 0:
        raise InputError(source, where, date_text,
                         f"one row per day (duplicate of line {previous_line})")
    if step < 0:
        raise InputError(source, where, date_text,
                         f"dates in increasing order (line {previous_line} has {previous})")
    if step > 1:
        missing = previous + dt.timedelta(days=1)
        raise InputError(source, where, date_text,
                         f"the next day {missing} (one row per day: "
                         f"{step - 1} day(s) missing after line {previous_line})")


def load_series(
    path: str | Path, kind: SeriesKind, start_date: dt.date, n_days: int
) -> tuple[float, ...]:
    """The series' values for days ``start_date .. start_date + n_days - 1``."""
    source = str(path)
    rows = _rows(Path(path))
    if not rows or rows[0][0] != 1:
        raise InputError(source, "line 1", "(empty line)" if rows else "(empty file)",
                         f"the header {kind.header!r}")
    header = [c.strip(_PADDING) for c in rows[0][1]]
    if header != ["date", kind.column]:
        raise InputError(source, "line 1", ",".join(rows[0][1]), f"the header {kind.header!r}")
    if len(rows) == 1:
        raise InputError(source, "line 2", "(no data rows)",
                         f"one row per day after the header, like {kind.example}")
    dates: list[dt.date] = []
    values: list[float] = []
    previous_line = 0
    for line, cells in rows[1:]:
        date, value = _row(source, line, cells, kind)
        if dates:
            _check_next_day(source, line, date, dates[-1], previous_line)
        dates.append(date)
        values.append(value)
        previous_line = line
    last_needed = start_date + dt.timedelta(days=n_days - 1)
    if dates[0] > start_date or dates[-1] < last_needed:
        raise InputError(source, "", f"rows from {dates[0]} to {dates[-1]}",
                         f"a row for every day of the horizon, {start_date} to {last_needed} "
                         f"(start_date + horizon_days - 1)")
    offset = (start_date - dates[0]).days
    return tuple(values[offset : offset + n_days])


def series_paths(
    series: tuple[float, ...], n_days: int, annual_volatility: float,
    shocks: np.ndarray | None, source: str, kind: SeriesKind,
) -> np.ndarray:
    """``[paths, days]`` values around a daily series: the series itself when ``shocks`` is
    None, else the series times a mean-one lognormal process driven by ``shocks[paths, days]``.
    """
    base = np.asarray(series, dtype=np.float64)
    if base.size < n_days:
        # A Scenario built in memory, not checked by ``Scenario.validate``, can outgrow its
        # series; one shortened in memory (with_changes) uses the series' first days.
        raise InputError(source, kind.key, f"{base.size} days of data",
                         f"a series covering the {n_days}-day horizon")
    base = base[:n_days]
    if shocks is None:
        return base[None, :]
    sigma = annual_volatility / math.sqrt(365.0)
    steps = sigma * shocks - 0.5 * sigma * sigma
    steps[:, 0] = 0.0
    return base[None, :] * np.exp(np.cumsum(steps, axis=1))
