"""``fleetcalc compare`` and ``fleetcalc catalog`` as text: the market assumed, the Monte Carlo
statistics each row shows, footnotes for missing values, and 80-column layout."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rich.cells import cell_len

from fleetcalc import metrics
from fleetcalc.catalog import load_catalog
from fleetcalc.cli import main
from fleetcalc.compare_text import wrap_name
from fleetcalc.engine import evaluate
from fleetcalc.plan import default_plans, load_plan
from fleetcalc.scenario import load_scenario

WIDTH = 80


# The S21 XP plan the issue was found on: the Bitmain default plan before issue 13 re-based it.
LEGACY_S21_XP = load_plan(Path(__file__).parent / "pins/legacy_plans/1-bitmain.toml")


@pytest.fixture(scope="module")
def issue_case():
    """The issue's case: the default scenario with 500 paths at 60% BTC volatility, on the
    S21 XP plan (most of its paths never pay back)."""
    scenario = load_scenario(None)
    scenario = scenario.with_changes(
        paths=500, btc=dataclasses.replace(scenario.btc, annual_volatility=0.6))
    return evaluate([LEGACY_S21_XP], scenario)


@pytest.fixture(scope="module")
def single_path():
    return evaluate(None, None)


def _render(monkeypatch, capsys, results, command=("compare",)) -> list[str]:
    """``fleetcalc compare`` on an 80-column terminal, on these results."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    monkeypatch.setattr("fleetcalc.engine.evaluate", lambda *args, **kwargs: results)
    assert main(list(command)) == 0
    return capsys.readouterr().out.splitlines()


def _row(lines: list[str], label: str) -> list[str]:
    """The cells of the table row that starts with ``label`` (after the label)."""
    line = next(line for line in lines if line.startswith(label))
    return line[len(label):].split()


def test_headlines_are_medians_or_null_never_the_survivors_mean(issue_case) -> None:
    record = issue_case.records()[0]
    paths = issue_case.paths
    npv = paths["npv_usd"].to_numpy()
    for metric in metrics.PATH_METRICS:
        values = paths[metric.name].to_numpy()
        if metric.summary == metrics.MEAN:
            assert record[metric.name] == pytest.approx(values.mean(), rel=1e-12), metric.name
            continue
        # Independently: missing paths at their end, then numpy's median (inf or nan: null).
        end = {"above": np.inf, "below": -np.inf}.get(metric.undefined_end)
        if end is None:
            end = np.where(npv < 0, -np.inf, np.inf)
        median = float(np.median(np.where(np.isnan(values), end, values)))
        expected = median if math.isfinite(median) else None
        assert record[metric.name] == (
            expected if expected is None else pytest.approx(expected, rel=1e-12)), metric.name
        survivors = values[np.isfinite(values)]
        if np.isnan(values).any() and survivors.size:
            assert record[metric.name] != pytest.approx(survivors.mean()), metric.name
    # The issue's symptom: most paths never pay back, so there is no median payback; the
    # median IRR is a loss, not the survivors' mean near zero.
    assert record["payback_probability"] < 0.5 and record["payback_days"] is None
    assert record["irr"] < -0.1 < np.nanmean(paths["irr"].to_numpy())


def test_p10_to_p90_run_worst_to_best(issue_case) -> None:
    record = issue_case.records()[0]
    assert record["npv_usd_p10"] < record["npv_usd_p50"] < record["npv_usd_p90"]
    assert record["irr_p10"] < record["irr"] < record["irr_p90"]
    assert record["cost_to_mine_usd_per_btc_p10"] > record["cost_to_mine_usd_per_btc_p90"]
    assert record["payback_days_p10"] is None and record["payback_days_p90"] is not None


def test_the_compare_table_names_each_statistic_and_shows_the_payback_probability(
        issue_case, monkeypatch, capsys) -> None:
    lines = _render(monkeypatch, capsys, issue_case)
    record = issue_case.records()[0]
    assert _row(lines, "NPV (mean, USD)") == [f"{record['npv_usd']:,.0f}"]
    assert _row(lines, "IRR (median, per year)") == [f"{record['irr']:.1%}"]
    payback = _row(lines, "Payback (median, days)")
    assert payback[0] == "never" and re.fullmatch(r"\[\d\]", payback[1])
    assert _row(lines, "Paths that pay back") == [f"{record['payback_probability']:.0%}"]
    npv_rows = lines.index(next(line for line in lines if line.startswith("NPV (mean, USD)")))
    assert [line.split()[0] for line in lines[npv_rows + 1:npv_rows + 4]] == ["P10", "P50", "P90"]
    note = next(line for line in lines if line.startswith(f"[{payback[1][1]}] Payback (days)"))
    assert "cumulative cash never turns non-negative" in note + " ".join(lines)
    assert "medians over all paths" in " ".join(lines)
    # Every row says its statistic: those naming none say why (issue 11, first bullet).
    assert _row(lines, "Shutdown BTC price (USD)")  # a row with no statistic in its label
    assert "A row naming no statistic is the same on every path" in " ".join(
        " ".join(lines).split())


def test_compare_shows_the_market_it_assumed(single_path, monkeypatch, capsys) -> None:
    lines = _render(monkeypatch, capsys, single_path)
    header = " ".join(" ".join(lines[:3]).split())
    day0 = single_path.market.row(0, named=True)
    assert f"BTC USD {day0['price_usd']:,.0f}" in header
    assert f"hashprice USD {day0['hashprice_usd_per_ph_day']:,.2f}/PH/day" in header
    assert f"difficulty {day0['difficulty'] / 1e12:,.2f} T" in header
    assert f"network {day0['hashrate_ehs']:,.0f} EH/s" in header
    halving = single_path.halvings.row(0, named=True)
    assert f"halving (block 1,050,000) {halving['halving_date']}" in header
    assert halving["halving_date"].year == 2028  # the default scenario's height is current


def test_plan_assumptions_repeat_no_piece_of_the_scenarios(single_path, monkeypatch,
                                                          capsys) -> None:
    # The responsive network's assumption holds "; " itself: split with the plans', its
    # pieces must not come back as the plans' own.
    text = " ".join(" ".join(_render(monkeypatch, capsys, single_path)).split())
    plans = text.split("Plan assumptions: ", 1)[1].split("Tariffs: ", 1)[0]
    pieces = [p for item in single_path.scenario.assumptions for p in item.split("; ")]
    assert any("; " in item for item in single_path.scenario.assumptions)
    assert not [p for p in pieces if " ".join(p.split()) in plans]
    assert "PUE 1.05" in plans  # the default plans' own
    items = single_path.assumption_list()
    assert len(items) == len(set(items))
    assert not set(items[len(single_path.scenario.assumptions):]) & set(pieces)


def test_compare_footnotes_give_the_reason_for_each_missing_value(
        single_path, monkeypatch, capsys) -> None:
    lines = _render(monkeypatch, capsys, single_path)
    marked = [line for line in lines if re.search(r"(n/a|never) \[\d\]", line)]
    assert marked  # three default plans never pay back within the horizon
    for number in {m for line in marked for m in re.findall(r"\[(\d)\]", line)}:
        note = next(line for line in lines if line.startswith(f"[{number}] "))
        assert ": " in note and "plan" in " ".join(lines[lines.index(note):lines.index(note) + 2])
    reasons = [r for r in single_path.records() if r["missing_metrics"]]
    assert all(metrics.BY_NAME["payback_days"].missing in r["missing_metrics"] for r in reasons)


def test_shutdown_and_all_in_breakevens_are_labelled_apart(single_path, monkeypatch,
                                                           capsys) -> None:
    labels = " ".join(line[:30] for line in _render(monkeypatch, capsys, single_path))
    words = " ".join(labels.split())  # a label may wrap onto a second line
    assert "Shutdown BTC price (USD)" in words and "Shutdown power price" in words
    assert "All-in breakeven BTC price, NPV = 0 (USD)" in words
    assert "All-in breakeven power, NPV = 0 (USD/kWh)" in words


@pytest.mark.parametrize("case", ["single_path", "issue_case"])
def test_compare_fits_80_columns_without_breaking_a_word_of_a_plan_name(
        case, request, monkeypatch, capsys) -> None:
    results = request.getfixturevalue(case)
    lines = _render(monkeypatch, capsys, results)
    assert max(len(line) for line in lines) <= WIDTH
    rule = next(i for i, line in enumerate(lines) if set(line) == {"─"})
    first = next(i for i, line in enumerate(lines) if line.startswith("Units"))
    assert first == rule + 1
    names = [r["plan"] for r in results.records()]
    header_words = " ".join(lines[rule - 6:rule]).split()
    for i, name in enumerate(names):
        for piece in wrap_name(f"{i + 1} {name}", 1):  # words, split after hyphens
            assert piece in header_words, piece
    # Numbers are right-aligned: every plan column's cells end in the same place.
    units = lines[first]
    ends = [m.end() for m in re.finditer(r"\S+", units)][-len(names):]
    for line in lines[first:first + 5]:
        assert [m.end() for m in re.finditer(r"\S+", line)][-len(names):] == ends


def test_more_plans_than_80_columns_hold_go_into_several_tables(monkeypatch, capsys) -> None:
    # Seven plans: one table cut the numbers ("7," for 7,111) and lost the row labels.
    plans = [*default_plans(), *(plan.with_changes(name=f"{plan.name} copy")
                                 for plan in default_plans()[:3])]
    results = evaluate(plans, None, breakevens=False)
    lines = _render(monkeypatch, capsys, results)
    assert max(len(line) for line in lines) <= WIDTH
    titles = [line.strip() for line in lines if re.fullmatch(r"Plans? \S+ of 7", line.strip())]
    assert titles == ["Plans 1-4 of 7", "Plans 5-7 of 7"]  # as even as they fit
    records = results.records()
    units = [line for line in lines if line.startswith("Units")]
    assert len(units) == 2  # each table has its row labels
    shown = [cell for line in units for cell in line.split()[1:]]
    assert shown == [f"{r['units']:,}" for r in records]  # every number whole, in plan order
    header = " ".join(lines).split()
    for i, record in enumerate(records):
        for piece in wrap_name(f"{i + 1} {record['plan']}", 1):
            assert piece in header, piece


# Words of narrow and wide (two-cell) letters, hyphens and single or double spaces.
name_words = st.lists(st.text(st.sampled_from("ab-1\u2e80\u4e2d\uff21"), min_size=1,
                              max_size=8), min_size=1, max_size=6)
separators = st.sampled_from([" ", "  "])


def _starts(text: str, parts: list[str]) -> list[int]:
    """Where each of ``parts`` (substrings of ``text``, in order) starts in it."""
    starts, position = [], 0
    for part in parts:
        starts.append(text.index(part, position))
        position = starts[-1] + len(part)
    return starts


@given(name_words, separators, st.integers(1, 14))
@example(["1", "0000\\x08\u2e80"], " ", 11)  # 11 characters, 12 cells: Rich cut it
def test_wrap_name_fills_cells_not_characters(words: list[str], space: str,
                                              width_cells: int) -> None:
    text = space.join(words)
    lines = wrap_name(text, width_cells)
    pieces = wrap_name(text, 1)  # the unbreakable pieces: words, split after hyphens
    # Nothing lost or reordered; no line starts or ends with the space it broke at.
    assert "".join("".join(lines).split()) == "".join(text.split())
    assert all(line == line.strip() for line in lines)
    # A line wider than the column is one unbreakable piece.
    assert all(cell_len(line) <= width_cells or line in pieces for line in lines)
    # Lines break between pieces, and greedily: the next piece would not have fitted.
    piece_at = dict(zip(_starts(text, pieces), pieces, strict=True))
    line_starts = _starts(text, lines)
    for start, next_start in itertools.pairwise(line_starts):
        assert cell_len(text[start:next_start + len(piece_at[next_start])]) > width_cells
    if text.isascii():  # narrow text: textwrap's lines
        assert lines == textwrap.wrap(text, width=width_cells, break_long_words=False,
                                      break_on_hyphens=True)


def test_catalog_fits_80_columns_with_numbers_right_aligned_and_whole_words(
        monkeypatch, capsys) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    assert main(["catalog"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    header = lines[1]
    assert header.split() == ["model", "TH/s", "W", "J/TH", "cooling", "built", "in", "USD",
                              "priced"]
    catalog = load_catalog()
    text = "\n".join(lines)
    for row in catalog.iter_rows(named=True):
        line = next(line for line in lines if line.split() and line.split()[0] == row["model_id"])
        # TH/s and W right-aligned under their headers.
        assert line[:header.index("TH/s") + 4].endswith(f"{row['hashrate_th']:,.0f}")
        assert line[:header.index(" W") + 2].endswith(f"{row['power_w']:,.0f}")
        if row["price_basis"] is not None:
            assert row["price_basis"] in text
    for word in ("tier_index", "immersion", "reseller"):
        assert re.search(rf"\b{word}\b", text), word


def test_plan_assumptions_are_what_the_plans_add_each_once() -> None:
    # A scenario assumption holding '; ' (the network tiers') was split, its pieces failed to
    # match and came back as plan assumptions; an item two plans share is printed once.
    import io
    from pathlib import Path

    from rich.console import Console

    from fleetcalc.compare_text import print_compare

    example = Path(__file__).resolve().parents[1] / "docs/examples/texas-market-4cp-SYNTHETIC.toml"
    results = evaluate([str(example), default_plans()[0]], None, breakevens=False)
    console = Console(width=4000, record=True, file=io.StringIO())
    print_compare(results, console)
    line = next(text for text in console.export_text().splitlines()
                if text.startswith("Plan assumptions: "))
    added = line.removeprefix("Plan assumptions: ")
    for item in results.scenario.assumptions:
        for piece in item.split("; "):
            assert piece not in added, piece
    assert "repeat by calendar year" in added and "4CP: 20 peak hours" in added
    assert added.count("payment terms an order leaves out are assumed") == 1
