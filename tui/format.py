"""Display helpers shared by the widgets: plan labels, dates as chart coordinates, user text.

User text (plan and scenario names, file names, assumptions, error messages) is never markup:
widgets get it as ``Content`` (``plain``), whose text is shown as it is, with control
characters shown escaped (``fleetcalc.text.printable``)."""

from __future__ import annotations

import datetime as dt
import textwrap

import polars as pl
from textual.content import Content

from fleetcalc.metrics import NOT_COMPUTED, NOT_COMPUTED_PERCENTILES, missing_reasons
from fleetcalc.text import printable

# What a cell shows while its value (a breakeven, a percentile) is being computed.
PENDING = "computing…"


def pending_columns(record: dict, n_paths: int) -> set[str]:
    """The columns of a main-numbers record (``evaluate(breakevens=False,
    percentiles=False)``, the app's first stage) whose values the second stage computes."""
    reasons = missing_reasons(record, n_paths, breakevens=False, percentiles=False)
    return {name for name, reason in reasons.items()
            if reason in (NOT_COMPUTED, NOT_COMPUTED_PERCENTILES)}


def plain(text: str) -> Content:
    """User text for a widget: never parsed as markup, control characters shown escaped."""
    return Content(printable(text))


def plan_label(index: int, name: str) -> str:
    """``"2 MicroBT Whatsminer M70S, Thailand-built"``: plans are numbered in every view
    (plain text: give it to widgets as ``Text`` or ``Content``, never as markup)."""
    return f"{index + 1} {printable(name)}"


def plan_short_label(index: int, name: str) -> str:
    """``"2 MicroBT"``: a chart legend entry (the number ties it to the table's column)."""
    words = printable(name).split()
    return f"{index + 1} {words[0] if words else ''}".rstrip()


def wrap_lines(text: str, width: int, max_lines: int) -> list[str]:
    """``text`` in lines of about ``width`` cells (a word longer than that keeps its own
    line); the last line ends in … if cut."""
    lines = textwrap.wrap(text, width=max(width, 4), break_long_words=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(width - 1, 1)].rstrip() + "…"
    return lines


def decimal_years(dates: pl.Series) -> list[float]:
    """Dates as years with a fraction (2027.5 is early July 2027): a readable chart x axis."""
    years = dates.dt.year().cast(pl.Float64)
    day_of_year = dates.dt.ordinal_day().cast(pl.Float64) - 1.0
    return (years + day_of_year / 365.25).to_list()


# Points per chart line: a terminal chart is ~100 braille dots wide, so plotting every one of
# 1,826 days only makes plotext slower (~0.1 s per chart), not the picture finer.
CHART_POINTS = 260


def thinned(frame: pl.DataFrame) -> pl.DataFrame:
    """Every n-th row of a daily frame (and its last row), at most ~CHART_POINTS rows."""
    step = max(1, frame.height // CHART_POINTS)
    if step == 1:
        return frame
    return pl.concat([frame.gather_every(step), frame.tail(1)])


def year_ticks(start: dt.date, end: dt.date) -> list[int]:
    """The Januaries between ``start`` and ``end``: chart ticks labelled by year."""
    return list(range(start.year + 1, end.year + 1))




# Line colours per plan, as RGB so a chart line and its legend entry are exactly the same colour.
PLAN_COLORS: tuple[tuple[int, int, int], ...] = (
    (0, 175, 255), (255, 150, 0), (215, 95, 215), (95, 200, 95), (235, 80, 80),
    (200, 180, 60), (140, 140, 255),
)


def plan_color(index: int) -> tuple[int, int, int]:
    return PLAN_COLORS[index % len(PLAN_COLORS)]


def legend(entries: list[tuple[str, tuple[int, int, int]]], width: int = 0) -> Content:
    """A one-line legend: a coloured bar before each label (labels are plain text).

    If it would be wider than ``width`` (> 0), each label is cut to its first word (plans are
    numbered, so "1" still ties a line to its table column).
    """
    def render(labels: list[str]) -> Content:
        parts: list[tuple[str, str] | str] = []
        for i, (label, (_, (r, g, b))) in enumerate(zip(labels, entries, strict=True)):
            parts += [*(["  "] if i else []), ("━", f"rgb({r},{g},{b})"), f" {label}"]
        return Content.assemble(*parts)

    labels = [printable(label) for label, _ in entries]
    content = render(labels)
    if width > 0 and content.cell_length > width:
        content = render([(label.split() or [""])[0] for label in labels])
    return content
