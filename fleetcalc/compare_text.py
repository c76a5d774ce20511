"""The text of ``fleetcalc compare``: the market the numbers assume, the catalogue's compare rows
side by side, and footnotes (what each statistic is, why a value is missing).

Laid out for an 80-column terminal: short row labels wrapped at word boundaries, numbers
right-aligned, plan names wrapped at spaces and after hyphens and never inside a word (each plan
column is at least as wide as the longest piece of its name and its widest number). More plans
than the terminal holds (five at 80 columns) are shown in several tables, a few plans each.

Names, notes and assumptions are user text: printed as ``Text``, never as markup (escaping
markup misses some strings, see ``fleetcalc.text``), with control characters shown escaped.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fleetcalc import metrics
from fleetcalc.text import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from fleetcalc.engine import Results

# A plan column this wide (cells) unless its name or numbers need more: four plans and the
# row labels fit in 80 columns.
PLAN_COLUMN_WIDTH = 11
# Row labels at least this wide, so they wrap between words ("P10 pessimistic", "Efficiency
# (J/TH)"); narrower, Rich folds a word in two. More plans than fit beside them go on to the
# next table.
LABEL_WIDTH = 16
# Cells a plan column takes beyond its own: a padding cell each side and the column divider.
COLUMN_GAP = 3


def plan_heading(index: int, name: str) -> str:
    """``"2 MicroBT Whatsminer M70S"``: plans are numbered, so footnotes can name them."""
    return f"{index + 1} {printable(name)}"


def wrap_name(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal cells, broken at spaces and after
    hyphens; a longer word keeps a line of its own, never broken inside.

    Widths are cells, not characters: a wide (East Asian) character takes two, so a name
    counted in characters overflowed its column and Rich cut it with an ellipsis. The break
    points are ``textwrap``'s (its word-splitting pattern); ``textwrap.wrap`` itself counts
    characters, so the greedy fill is done here (the same lines for narrow text)."""
    from rich.cells import cell_len

    lines: list[str] = []
    line = space = ""
    for chunk in filter(None, textwrap.TextWrapper.wordsep_re.split(text)):
        if chunk.isspace():
            space = chunk if line else ""  # a line never starts with the space it broke at
        elif not line or cell_len(line + space + chunk) <= width:
            line, space = line + space + chunk, ""
        else:
            lines.append(line)
            line, space = chunk, ""
    return [*lines, line] if line else lines or [""]


def halving_text(results: Results) -> str:
    """The next halving's date: the path's, or with Monte Carlo the median path's."""
    halvings = results.halvings
    height = int(halvings["halving_height"][0])
    days = halvings["halving_day"].to_numpy().astype(float)  # null: after the horizon
    day = metrics.value_percentile(np.where(np.isnan(days), np.inf, days), 50)
    if not np.isfinite(day):
        return f"halving (block {height:,}) after the horizon"
    # With an even number of paths the median may fall between two days: the later one.
    date = results.scenario.start_date + dt.timedelta(days=math.ceil(day))
    where = " (median path)" if halvings.height > 1 else ""
    return f"halving (block {height:,}) {date}{where}"


def market_line(results: Results) -> str:
    """The market of day 0 the numbers start from (the same on every path)."""
    day0 = results.market.row(0, named=True)
    return (f"Market on {results.scenario.start_date}: BTC USD {day0['price_usd']:,.0f}; "
            f"hashprice USD {day0['hashprice_usd_per_ph_day']:,.2f}/PH/day; difficulty "
            f"{day0['difficulty'] / 1e12:,.2f} T; network {day0['hashrate_ehs']:,.0f} EH/s; "
            f"{halving_text(results)}.")


def _path_values(results: Results, plan: str) -> dict[str, np.ndarray]:
    frame = results.paths.filter(results.paths["plan"] == plan)
    return {m.name: frame[m.name].to_numpy() for m in metrics.PATH_METRICS}


def footnotes(results: Results, rows: Sequence[metrics.Row],
              records: Sequence[dict[str, Any]]) -> tuple[dict[tuple[str, int], int], list[str]]:
    """Footnote numbers of the missing cells, keyed by (column, plan index), and the notes:
    one per metric and reason, naming the plans (with Monte Carlo, the share of each plan's
    paths where the metric does not exist)."""
    n_paths = results.scenario.paths
    shown = {row.column: row.metric for row in rows}
    marks: dict[tuple[str, int], int] = {}
    notes: dict[tuple[str, str], tuple[int, dict[int, str]]] = {}
    for i, record in enumerate(records):
        values = _path_values(results, record["plan"])
        for column, reason in metrics.missing_reasons(record, n_paths, True).items():
            metric = shown.get(column)
            if metric is None:
                continue
            number, plans = notes.setdefault((metric.label, reason), (len(notes) + 1, {}))
            share = (f"{np.isnan(values[metric.name]).mean():.0%}"
                     if n_paths > 1 and metric.per_path else "")
            plans[i + 1] = share
            marks[column, i] = number
    return marks, [f"[{number}] {label}: {reason}; {_plans_text(plans)}"
                   for (label, reason), (number, plans) in notes.items()]


def _plans_text(shares: dict[int, str]) -> str:
    """'plans 1, 3 (on 78%, 46% of their paths)': plan numbers and, with Monte Carlo, the
    share of each one's paths where the metric does not exist."""
    several = len(shares) > 1
    text = f"plan{'s' if several else ''} {', '.join(map(str, shares))}"
    if all(shares.values()):
        text += f" (on {', '.join(shares.values())} of {'their' if several else 'its'} paths)"
    return text


def plan_groups(widths: Sequence[int], width: int | None) -> list[list[int]]:
    """The plans' indices split into as few tables as fit ``width`` cells (None: one table),
    of sizes differing by one at most (5 plans: 3 and 2, not 4 and 1). A plan column takes its
    ``widths`` cell and ``COLUMN_GAP``; the row labels keep ``LABEL_WIDTH``. A plan too wide
    for any table gets one of its own (the terminal then cuts it: nothing narrower exists)."""
    indices = list(range(len(widths)))
    if width is None:
        return [indices]
    for n_tables in range(1, len(indices) + 1):
        groups = [list(g) for g in np.array_split(indices, n_tables)]
        if all(LABEL_WIDTH + sum(widths[i] + COLUMN_GAP for i in g) <= width for g in groups):
            return groups
    return [[i] for i in indices]


def compare_tables(results: Results, width: int | None = None) -> tuple[list[Table], list[str]]:
    """The compare table (rows from the catalogue, one column per plan), split into tables of
    plans that fit ``width`` cells (None: all plans in one), and the footnotes. Plans keep
    their numbers across tables; the footnotes name plans by number."""
    from rich.cells import cell_len

    records = results.records()
    rows = metrics.compare_rows(results.scenario.paths)
    marks, notes = footnotes(results, rows, records)
    cells = [[row.metric.text(record[row.column])
              + (f" [{marks[row.column, i]}]" if (row.column, i) in marks else "")
              for i, record in enumerate(records)] for row in rows]
    headings = [plan_heading(i, record["plan"]) for i, record in enumerate(records)]
    widths = [max(PLAN_COLUMN_WIDTH, *(cell_len(texts[i]) for texts in cells),
                  *(cell_len(piece) for piece in wrap_name(heading, 1)))
              for i, heading in enumerate(headings)]
    groups = plan_groups(widths, width)
    titled = len(groups) > 1
    tables = [_plans_table(rows, records, cells, headings, widths, group,
                           f"Plans {group[0] + 1}-{group[-1] + 1} of {len(records)}"
                           if titled and len(group) > 1
                           else f"Plan {group[0] + 1} of {len(records)}" if titled else None)
              for group in groups]
    return tables, notes


def compare_table(results: Results) -> tuple[Table, list[str]]:
    """Every plan in one compare table, and the footnotes (``compare_tables`` with no width)."""
    tables, notes = compare_tables(results)
    return tables[0], notes


def _plans_table(rows: Sequence[metrics.Row], records: Sequence[dict[str, Any]],
                 cells: Sequence[Sequence[str]], headings: Sequence[str],
                 widths: Sequence[int], group: Sequence[int], title: str | None) -> Table:
    """The compare rows for the plans of ``group``; the best value is picked among all
    plans, so a plan is green in whichever table it lands."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title=title,
                  title_justify="left")
    table.add_column("Metric", overflow="fold", ratio=1, min_width=LABEL_WIDTH)
    for i in group:
        table.add_column(Text("\n".join(wrap_name(headings[i], widths[i])), justify="right"),
                         justify="right", no_wrap=True, min_width=widths[i], max_width=widths[i])
    for row, texts in zip(rows, cells, strict=True):
        best = metrics.best_index([r[row.column] for r in records], row.metric.better)
        table.add_row(Text(row.label), *(
            Text(texts[i], style="bold green" if i == best else "") for i in group))
    return table


def sites_table(results: Results) -> Table | None:
    """The sites of every plan that has several, one column per plan and site (a plan of one
    site would repeat its own column): each site's own numbers. None when no plan has two."""
    import polars as pl
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from fleetcalc.frames import SITE_METRICS

    plans = results.summary["plan"].to_list()
    rows = results.sites.filter(pl.len().over("plan") > 1).to_dicts()
    if not rows:
        return None
    table = Table(title="Sites (plan number: site), each site's own numbers: a plan's amounts "
                        "are their sums, its IRR and payback those of the summed cash flows",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("Site", overflow="fold", ratio=1)
    for row in rows:
        heading = f"{plans.index(row['plan']) + 1}: {row['site']}"
        table.add_column(Text("\n".join(wrap_name(heading, PLAN_COLUMN_WIDTH)),
                              justify="right"),
                         justify="right", no_wrap=True, min_width=PLAN_COLUMN_WIDTH)
    table.add_row(Text("Energy, all-in (USD/kWh)"), *(
        metrics.format_value(row["energy_usd_per_kwh"], "usd_per_kwh") for row in rows))
    table.add_row(Text("Capacity (MW)"), *(f"{row['capacity_mw']:,.2f}" for row in rows))
    for metric in SITE_METRICS:
        table.add_row(Text(metric.label), *(metric.text(row[metric.name]) for row in rows))
    return table


def statistics_note(n_paths: int) -> str:
    """What each kind of row shows: one-line with one path, the Monte Carlo rules with more."""
    note = ("Shutdown: the day-0 price at which revenue equals the energy cost; all-in "
            "breakeven: the price at which NPV = 0 (capex, discounting, growth, the halving).")
    if n_paths == 1:
        return note
    return note + (
        f" Over the {n_paths:,} paths, amounts are means over all paths; IRR, payback, costs "
        "per BTC and breakevens are medians over all paths, a path where one does not exist "
        "ranking at its natural end (payback 'never' after every day; no IRR below every "
        "rate when NPV < 0), n/a when the median is such a path. P10 is the pessimistic "
        "decile (90% of paths do at least as well; the long payback, the high cost), P90 "
        "the optimistic one. A row naming no statistic is the same on every path (nameplate, "
        "capex, fixed costs, day-0 shutdown prices).")


def print_compare(results: Results, console: Console) -> None:
    """``fleetcalc compare``'s text output."""
    from rich.text import Text

    scenario = results.scenario
    tables, notes = compare_tables(results, console.width)
    console.print(Text(f"fleetcalc compare - {printable(scenario.name)}"))
    console.print(Text(market_line(results)))
    for table in tables:
        console.print(table)
    sites = sites_table(results)
    if sites is not None:
        console.print(sites)
    console.print(
        f"Horizon {scenario.start_date} + {scenario.horizon_days:,} days, {scenario.paths:,} "
        f"path(s), failures {scenario.failures}. Best value per row in green. "
        + statistics_note(scenario.paths), highlight=False)
    for note in notes:
        console.print(Text(note))
    if scenario.assumptions:
        console.print(Text.assemble(("Assumptions: ", "yellow"),
                                    printable("; ".join(scenario.assumptions))))
    from fleetcalc.plan_metrics import added_assumptions
    from fleetcalc.tariffs import ASSUMPTION_CAVEAT

    # What the plans add (payment terms, customs fees, tax rules, power prices), each once
    # (joined back by '; ', an item holding one reads as before); the tariff caveat has its
    # own line below.
    added = dict.fromkeys(item for r in results.records()
                          for item in added_assumptions(r["assumptions"], scenario).split("; ")
                          if item)
    if added:
        console.print(Text.assemble(("Plan assumptions: ", "yellow"), printable("; ".join(added))))
    if any(r["tariff_assumption"] for r in results.records()):
        console.print(Text.assemble(("Tariffs: ", "yellow"), ASSUMPTION_CAVEAT))
