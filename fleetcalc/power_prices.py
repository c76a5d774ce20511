"""Hourly power price series for sites (``power_price_series``): CSV ``timestamp,usd_per_mwh``.

Timestamps are ISO 8601 with an offset (``2024-07-01T17:00:00-05:00``) or UTC (``...Z``); a
local time without offset is ambiguous (DST repeats an hour) and an error. Rows are hourly,
in order, with no gaps and no duplicates (compared as instants); negative prices are valid
(they happen). The series is grouped into days in the **site's standard time**, the offset of
its first row, so every day has 24 hours whatever DST does to later rows' offsets; it must
start at 00:00 and end at 23:00 of that time.

A series shorter than the horizon **repeats by calendar year**: a simulated day the series
does not hold takes the prices of the same month and day in the series, shifted by whole
cycles of the years it covers (Feb 29 falls back to Feb 28 in a year without one). This is
said in the plan's assumptions. Every problem is an ``InputError`` naming the file, the line
and the bad value.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fleetcalc.errors import InputError
from fleetcalc.validate import read_text

HEADER = "timestamp,usd_per_mwh"
EXAMPLE = "2024-07-01T17:00:00-05:00,42.10"
# ERCOT's offer cap is USD 5,000/MWh and its floor about -250; the bounds leave room for other
# markets and catch unit mistakes (USD/kWh vs /MWh would not, so the README says which).
MIN_USD_PER_MWH = -10_000.0
MAX_USD_PER_MWH = 100_000.0
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True, eq=False)
class HourlyPrices:
    """A loaded series: ``usd_per_mwh[day, hour]`` from ``first_day`` in site standard time."""

    source: str
    first_day: dt.date
    usd_per_mwh: np.ndarray  # [days, 24]

    @property
    def last_day(self) -> dt.date:
        return self.first_day + dt.timedelta(days=self.usd_per_mwh.shape[0] - 1)

    def whole_years(self) -> int:
        """Whole years the series covers from its first day (its repeat cycle)."""
        years = 0
        while _add_years(self.first_day, years + 1) - dt.timedelta(days=1) <= self.last_day:
            years += 1
        return years

    def days(self, start: dt.date, n_days: int, source: str, key: str,
             ) -> tuple[np.ndarray, bool]:
        """USD/MWh ``[n_days, 24]`` for the days from ``start``, and whether the series had to
        repeat. ``source`` and ``key`` name the plan and its field, for the error when the
        series cannot cover the days."""
        end = start + dt.timedelta(days=n_days - 1)
        index = np.empty(n_days, dtype=np.int64)
        cycle = self.whole_years()
        repeated = False
        for i in range(n_days):
            day = start + dt.timedelta(days=i)
            if not self.first_day <= day <= self.last_day:
                if cycle == 0:
                    raise InputError(
                        source, key,
                        f"{Path(self.source).name}: hours from {self.first_day} to "
                        f"{self.last_day}",
                        f"a series covering the horizon {start} to {end}, or at least one "
                        "whole year to repeat by calendar year")
                day = _into_cycle(day, self.first_day, cycle)
                repeated = True
            index[i] = (day - self.first_day).days
        return self.usd_per_mwh[index], repeated


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # Feb 29 in a year without one
        return day.replace(year=day.year + years, day=28)


def _into_cycle(day: dt.date, first: dt.date, cycle: int) -> dt.date:
    """The date of the same month and day within [first, first + cycle years)."""
    years = day.year - first.year - (1 if (day.month, day.day) < (first.month, first.day) else 0)
    return _add_years(day, -(years // cycle) * cycle)


def _timestamp(text: str, source: str, where: str) -> dt.datetime:
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(source, f"{where}, timestamp", text,
                         "an ISO 8601 time with offset like 2024-07-01T17:00:00-05:00") from None
    if stamp.tzinfo is None:
        raise InputError(source, f"{where}, timestamp", text,
                         "a time with a UTC offset or Z (a local time without one is "
                         "ambiguous: daylight saving repeats an hour)")
    if stamp.minute or stamp.second or stamp.microsecond:
        raise InputError(source, f"{where}, timestamp", text, "a whole hour (hourly prices)")
    return stamp


def load_hourly_prices(path: str | Path) -> HourlyPrices:
    """Read and check a ``timestamp,usd_per_mwh`` CSV (see the module docstring)."""
    source = str(path)
    text = read_text(path, "CSV file").removeprefix("\ufeff")
    reader = csv.reader(text.splitlines())
    rows = [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    if not rows or [c.strip() for c in rows[0][1]] != HEADER.split(","):
        shown = ",".join(rows[0][1]) if rows else "(empty file)"
        raise InputError(source, "line 1", shown, f"the header {HEADER!r}")
    if len(rows) == 1:
        raise InputError(source, "line 2", "(no data rows)", f"hourly rows like {EXAMPLE}")
    values: list[float] = []
    first: dt.datetime | None = None
    previous: tuple[int, dt.datetime] | None = None
    for line, cells in rows[1:]:
        where = f"line {line}"
        if len(cells) != 2:
            raise InputError(source, where, ",".join(cells), f"2 cells, {HEADER}, like {EXAMPLE}")
        stamp = _timestamp(cells[0].strip(), source, where)
        value_text = cells[1].strip()
        try:
            value = float(value_text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and MIN_USD_PER_MWH <= value <= MAX_USD_PER_MWH):
            raise InputError(source, f"{where}, usd_per_mwh", value_text,
                             f"a number in [{MIN_USD_PER_MWH:g}, {MAX_USD_PER_MWH:g}] "
                             "(USD per MWh; negative prices are allowed)")
        if previous is None:
            first = stamp
            if stamp.hour != 0:
                raise InputError(source, f"{where}, timestamp", cells[0].strip(),
                                 "a first row at 00:00 (whole days in the first row's offset)")
        else:
            step = stamp - previous[1]
            if step == dt.timedelta(0):
                raise InputError(source, f"{where}, timestamp", cells[0].strip(),
                                 f"one row per hour (the same instant as line {previous[0]})")
            if step < dt.timedelta(0):
                raise InputError(source, f"{where}, timestamp", cells[0].strip(),
                                 f"times in increasing order (line {previous[0]} is later)")
            if step > HOUR:
                missing = (previous[1] + HOUR).isoformat()
                raise InputError(source, f"{where}, timestamp", cells[0].strip(),
                                 f"the next hour {missing} (a gap of {step} after line "
                                 f"{previous[0]})")
        values.append(value)
        previous = (line, stamp)
    assert first is not None and previous is not None
    if len(values) % 24:
        last_local = previous[1].astimezone(first.tzinfo)
        raise InputError(source, f"line {previous[0]}, timestamp", rows[-1][1][0].strip(),
                         f"a last row at 23:00 in the first row's offset (whole days; this "
                         f"one is {last_local.strftime('%H:%M')})")
    return HourlyPrices(source, first.date(), np.array(values).reshape(-1, 24))
