"""Sensitivity results as Rich renderables: a tornado table with bars and a coloured heat
table. The command line prints them; the app shows them in its Sensitivity tab.

User text (plan names, input labels from a ranges file) is data, never markup: it goes in as
``Text``, control characters shown escaped (``fleetcalc.text.printable``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl
from rich import box
from rich.color import Color
from rich.style import Style
from rich.table import Table
from rich.text import Text

from fleetcalc.metrics import BY_NAME, format_value
from fleetcalc.sensitivity import Tornado, is_missing
from fleetcalc.text import printable
from fleetcalc.variation import Axis, Change

BAR_CELLS = 12  # characters on each side of the base NPV
# Below this terminal width the tornado drops its frame and the swing column (NPV at low and
# high imply it) and draws shorter bars, so that at 80 columns no number is cut.
TORNADO_NARROW_BELOW = 110
NARROW_BAR_CELLS = 6
FULL = "█"
# Heat colours: worst, neutral, best (RGB), blended by how far a cell is from neutral.
WORST, NEUTRAL, BEST = (178, 34, 34), (72, 72, 72), (34, 139, 34)


def _bar(npv_low: float, npv_high: float, base: float, scale: float,
         cells: int = BAR_CELLS) -> Text:
    """Both sides of one tornado bar: red cells for the NPV below the base, green above."""
    below = max(base - min(npv_low, npv_high), 0.0)
    above = max(max(npv_low, npv_high) - base, 0.0)
    left = round(cells * below / scale) if scale > 0 else 0
    right = round(cells * above / scale) if scale > 0 else 0
    text = Text(" " * (cells - left))
    text.append(FULL * left, style="red")
    text.append("┊")
    text.append(FULL * right, style="green")
    text.append(" " * (cells - right))
    return text


def tornado_table(result: Tornado, width: int | None = None) -> Table:
    """One plan's tornado: each input's range, the NPV at either end and the bar; laid out
    for a terminal ``width`` cells wide (None: wide)."""
    irr = "n/a" if is_missing(result.base_irr) else f"{result.base_irr:.1%}"
    title = Text(f"{printable(result.plan)}: base NPV USD {result.base_npv_usd:,.0f}, IRR {irr}")
    narrow = width is not None and width < TORNADO_NARROW_BELOW
    table = Table(title=title, title_justify="left",
                  **({"box": box.SIMPLE_HEAD, "pad_edge": False} if narrow else {}))
    cells = NARROW_BAR_CELLS if narrow else BAR_CELLS
    scale = max((max(abs(b.npv_low_usd - result.base_npv_usd),
                     abs(b.npv_high_usd - result.base_npv_usd)) for b in result.bars),
                default=0.0)
    rows = [[format_value(bar.low, bar.fmt), format_value(bar.high, bar.fmt),
             f"{bar.npv_low_usd:,.0f}", f"{bar.npv_high_usd:,.0f}",
             *([] if narrow else [f"{bar.swing_usd:,.0f}"])] for bar in result.bars]
    labels = ["Low", "High", "NPV at low", "NPV at high", *([] if narrow else ["Swing"])]
    # The input's label may wrap; numbers never wrap or shorten (each column is at least as
    # wide as its widest number), nor does the bar.
    table.add_column("Input", justify="left", min_width=12)
    for i, label in enumerate(labels):
        table.add_column(label, justify="right", no_wrap=True,
                         min_width=max((len(row[i]) for row in rows), default=1))
    table.add_column("NPV below | above" if narrow else "NPV below | above base",
                     justify="center", no_wrap=True, min_width=2 * cells + 1)
    for bar, numbers in zip(result.bars, rows, strict=True):
        table.add_row(Text(printable(bar.label)), *numbers,
                      _bar(bar.npv_low_usd, bar.npv_high_usd, result.base_npv_usd, scale, cells))
    return table


def _blend(score: float) -> Color:
    """Neutral at 0, the best colour at +1, the worst at -1."""
    target = BEST if score > 0 else WORST
    weight = min(abs(score), 1.0)
    r, g, b = (round(n + (t - n) * weight) for n, t in zip(NEUTRAL, target, strict=True))
    return Color.from_rgb(r, g, b)


def _scores(values: Sequence[Any], metric: str, pivot: float) -> list[float]:
    """How good each cell is, in [-1, 1]: NPV and IRR diverge around ``pivot`` (0, or the
    discount rate for IRR: the rate at which NPV is 0); payback from shortest (+1) to
    longest (-1), never counting as the worst."""
    if metric == "payback_days":
        finite = [v for v in values if not is_missing(v)]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
        return [-1.0 if is_missing(v) else (1.0 if hi == lo else 1.0 - 2.0 * (v - lo) / (hi - lo))
                for v in values]
    spread = max((abs(v - pivot) for v in values if not is_missing(v)), default=0.0)
    return [0.0 if is_missing(v) or spread == 0 else (v - pivot) / spread for v in values]


def heat_table(
    frame: pl.DataFrame, plan: str, axes: Sequence[Axis], metric: str, pivot: float = 0.0,
) -> Table:
    """A plan's grid of ``metric`` (``sensitivity.grid``'s table): rows by the first axis,
    columns by the second (or one column with one axis), each cell coloured by how good it
    is (``_scores``)."""
    rows = frame.filter(pl.col("plan") == plan)
    fmt = BY_NAME[metric].fmt or "usd"
    first = axes[0].changes
    second: Sequence[Change | None] = axes[1].changes if len(axes) == 2 else [None]

    def key(row: dict[str, Any]) -> tuple[float, float | None]:
        return row[axes[0].column], row[axes[1].column] if len(axes) == 2 else None

    cells = {key(row): row[metric] for row in rows.iter_rows(named=True)}
    scores = dict(zip(cells, _scores(list(cells.values()), metric, pivot), strict=True))
    # The axes' names go in the title: a corner cell that long would squeeze the numbers.
    where = (f"by {axes[0].column}" if len(axes) == 1
             else f"rows {axes[0].column}, columns {axes[1].column}")
    table = Table(title=Text(printable(f"{plan}: {BY_NAME[metric].label}, {where}")),
                  title_justify="left",
                  box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    table.add_column("", justify="right", no_wrap=True)
    for change in second:
        table.add_column(Text(BY_NAME[metric].label if change is None
                              else printable(axes[1].label(change))),
                         justify="right", no_wrap=True)
    for row_change in first:
        cell_keys = [(row_change.amount, None if c is None else c.amount) for c in second]
        table.add_row(Text(printable(axes[0].label(row_change))), *(
            Text(format_value(_or_nan(cells[k]), fmt),
                 style=Style(color="white", bgcolor=_blend(scores[k])))
            for k in cell_keys))
    return table


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value
