"""``fleetcalc report``: the workbook and the HTML report hold the numbers of ``compare --json``;
sheets, charts and formats are present; a bad destination is refused before anything is
written."""

from __future__ import annotations

import json
import os
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
import tomli_w

from fleetcalc import metrics
from fleetcalc.cli import main
from fleetcalc.report_excel import EXCEL_FORMATS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "fleetcalc" / "data" / "default_scenario.toml"
MONTE_CARLO_PATHS = 12
SHEETS = ["Summary", "Orders", "Cash flows", "Market", "Assumptions"]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The default scenario with a few Monte Carlo paths and failures sampled per path."""
    doc = tomllib.loads(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    doc["paths"] = MONTE_CARLO_PATHS
    path = tmp_path_factory.mktemp("scenario") / "scenario.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def records(scenario: str) -> list[dict]:
    """What ``fleetcalc compare --scenario S --json`` prints, parsed."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["compare", "--scenario", scenario, "--json"]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def workbook(scenario: str, tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    out = tmp_path_factory.mktemp("report") / "report.xlsx"
    assert main(["report", "--scenario", scenario, "--out", str(out)]) == 0
    return openpyxl.load_workbook(out)


def test_every_summary_value_equals_compare_json(
    workbook: openpyxl.Workbook, records: list[dict]
) -> None:
    sheet = workbook["Summary"]
    plans = [cell.value for cell in sheet[1][1:]]
    assert plans == [record["plan"] for record in records]
    rows = metrics.compare_rows(MONTE_CARLO_PATHS)
    assert any(row.label.strip().startswith("P10") for row in rows)
    for r, row in enumerate(rows, 2):
        assert sheet.cell(r, 1).value == row.label
        for col, record in enumerate(records, 2):
            cell = sheet.cell(r, col)
            expected = record[row.column]
            if expected is None:
                assert cell.value == metrics.FORMATS[row.metric.fmt].missing
            else:  # xlsx stores 16 significant digits (Excel itself shows 15)
                assert cell.value == float(f"{expected:.16g}"), (row.label, record["plan"])
            assert cell.number_format == EXCEL_FORMATS[row.metric.fmt]


def test_the_best_plan_of_each_ranked_row_is_filled(
    workbook: openpyxl.Workbook, records: list[dict]
) -> None:
    sheet = workbook["Summary"]
    for r, row in enumerate(metrics.compare_rows(MONTE_CARLO_PATHS), 2):
        values = [record[row.column] for record in records]
        best = metrics.best_index(values, row.metric.better)
        filled = [i for i in range(len(records))
                  if sheet.cell(r, i + 2).fill.fgColor.rgb not in (None, "00000000")]
        assert filled == ([] if best is None else [best]), row.label


def test_sheets_charts_frozen_headers_and_formats(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == SHEETS
    assert len(workbook["Cash flows"]._charts) == 1
    assert len(workbook["Market"]._charts) == 1
    for name in SHEETS:
        assert workbook[name].freeze_panes in ("A2", "B2"), name
    orders = workbook["Orders"]
    header = [cell.value for cell in orders[1]]
    for column in ("program", "rate", "legal_basis", "source", "landed_cost_usd"):
        assert column in header
    assert orders.cell(2, header.index("rate") + 1).number_format == "0.0%"
    assert orders.cell(2, header.index("landed_cost_usd") + 1).number_format == "#,##0"
    cash = [cell.value for cell in workbook["Cash flows"][1]]
    for column in ("revenue_usd", "energy_cost_usd", "repair_cost_usd", "capex_usd",
                   "cumulative_cash_usd"):
        assert column in cash
    market = [cell.value for cell in workbook["Market"][1]]
    assert market == ["month", "price_usd", "hashrate_ehs", "difficulty",
                      "hashprice_usd_per_ph_day"]
    notes = [row[0] for row in workbook["Assumptions"].iter_rows(values_only=True)]
    assert any("Sensitivity not in this report" in str(note) for note in notes)


def test_every_catalogue_format_has_an_excel_format() -> None:
    assert set(EXCEL_FORMATS) == set(metrics.FORMATS)


@pytest.mark.parametrize(("out", "message"), [
    ("report.pdf", "a file name ending in .xlsx or .html"),
    ("no/such/folder/report.xlsx", "a file in an existing folder"),
])
def test_a_bad_destination_exits_2_and_writes_nothing(
    out: str, message: str, tmp_path: Path, capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--out", out]) == 2
    err = capfd.readouterr().err
    assert message in err and out in err
    assert os.listdir(tmp_path) == []


class _Sections(HTMLParser):
    """Per <section id>: how many inline <svg> it holds and its table cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs: dict[str, int] = {}
        self.cells: dict[str, list[str]] = {}
        self.links: list[str] = []
        self._section = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self._section = dict(attrs)["id"] or ""
            self.svgs[self._section] = 0
            self.cells[self._section] = []
        elif tag == "svg":
            self.svgs[self._section] += 1
        elif tag == "td":
            self._cell = []
        self.links += [value or "" for name, value in attrs if name in ("src", "href")]

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.cells[self._section].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def report_html(scenario: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", "--scenario", scenario, "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def test_the_html_has_a_chart_per_section_and_the_summary_numbers(
    report_html: str, records: list[dict]
) -> None:
    parsed = _Sections()
    parsed.feed(report_html)
    charted = ("summary", "cumulative-cash", "npv-distribution", "market", "tariffs-per-order")
    for section in charted:
        assert parsed.svgs[section] >= 1, section
    assert "Sensitivity not in this report" in report_html
    cells = parsed.cells["summary"]
    width = 1 + len(records)  # the label, then one cell per plan
    rows = metrics.compare_rows(MONTE_CARLO_PATHS)
    assert len(cells) == width * len(rows)
    for r, row in enumerate(rows):
        shown = cells[r * width:(r + 1) * width]
        assert shown == [row.label, *(row.metric.text(record[row.column]) for record in records)]


def test_the_html_references_no_external_url(report_html: str) -> None:
    parsed = _Sections()
    parsed.feed(report_html)
    assert parsed.links == []
    assert "http://" not in report_html and "https://" not in report_html
    assert "<script" not in report_html and "<link" not in report_html
    assert "url(" not in report_html and "@import" not in report_html


def test_every_assumption_compare_json_names_is_in_both_reports(
    workbook: openpyxl.Workbook, report_html: str, records: list[dict]
) -> None:
    # The plans' own (payment terms left out, customs fees; a power plan's repeated price
    # series and 4CP peaks) as well as the scenario's: "every assumption" (issue 17).
    sheet = [str(cell) for row in workbook["Assumptions"].iter_rows(values_only=True)
             for cell in row if cell is not None]
    parsed = _Sections()
    parsed.feed(report_html)
    shown = parsed.cells["assumptions"]
    for record in records:
        for item in filter(None, record["assumptions"].split("; ")):
            assert any(item in text for text in sheet), item
            assert any(item in text for text in shown), item


SENSITIVITY_PLAN = str(ROOT / "fleetcalc" / "data" / "plans" / "1-bitmain.toml")


@pytest.fixture(scope="module")
def sensitivity_json() -> list[dict]:
    """What ``fleetcalc sensitivity PLAN --json`` prints, parsed."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["sensitivity", SENSITIVITY_PLAN, "--json"]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module", params=[".xlsx", ".html"])
def sensitivity_report(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / f"report{request.param}"
    assert main(["report", SENSITIVITY_PLAN, "--sensitivity", "--out", str(out)]) == 0
    return out


def test_the_report_carries_the_swings_of_sensitivity_json(
    sensitivity_report: Path, sensitivity_json: list[dict]
) -> None:
    [plan] = sensitivity_json
    bars = plan["tornado"]
    assert len(bars) > 5
    if sensitivity_report.suffix == ".xlsx":
        book = openpyxl.load_workbook(sensitivity_report)
        assert book.sheetnames == [*SHEETS, "Sensitivity"]
        rows = list(book["Sensitivity"].iter_rows(values_only=True))
        header, body = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
        assert "swing_usd" in header
        assert [(row["plan"], row["input"]) for row in body] == [
            (plan["plan"], bar["input"]) for bar in bars]
        for row, bar in zip(body, bars, strict=True):
            for column in ("swing_usd", "npv_low_usd", "npv_high_usd"):
                assert row[column] == float(f"{bar[column]:.16g}"), (bar["input"], column)
        notes = [row[0] for row in book["Assumptions"].iter_rows(values_only=True)]
        assert not any("Sensitivity not in this report" in str(note) for note in notes)
        return
    text = sensitivity_report.read_text(encoding="utf-8")
    parsed = _Sections()
    parsed.feed(text)
    assert parsed.svgs["sensitivity"] == 1  # one tornado per plan
    assert "Sensitivity not in this report" not in text
    cells = parsed.cells["sensitivity"]
    width = len(cells) // len(bars)
    shown = [cells[i * width:(i + 1) * width] for i in range(len(bars))]
    assert [row[0] for row in shown] == [bar["label"] for bar in bars]
    for row, bar in zip(shown, bars, strict=True):
        assert metrics.format_value(bar["swing_usd"], "usd") in row, bar["input"]
        assert metrics.format_value(bar["npv_low_usd"], "usd") in row, bar["input"]


def test_ranges_without_sensitivity_exits_2(tmp_path: Path,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--ranges", "ranges.toml", "--out", str(out)]) == 2
    assert "--sensitivity" in capfd.readouterr().err
    assert not out.exists()


def test_the_report_carries_what_optimize_json_buys(tmp_path: Path) -> None:
    import contextlib
    import io

    from fleetcalc.candidates import default_candidates_path

    candidates = str(default_candidates_path())
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["optimize", candidates, "--json"]) == 0
    bought = [q for q in json.loads(out.getvalue())["quantities"] if q["units"] > 0]
    assert bought
    for suffix in (".xlsx", ".html"):
        report = tmp_path / f"report{suffix}"
        assert main(["report", SENSITIVITY_PLAN, "--optimize", candidates,
                     "--out", str(report)]) == 0
        if suffix == ".xlsx":
            rows = list(openpyxl.load_workbook(report)["Optimiser"].iter_rows(values_only=True))
            body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
            assert [(row["model_id"], row["origin"], row["units"]) for row in body] == [
                (q["model_id"], q["origin"], q["units"]) for q in bought]
            for row, q in zip(body, bought, strict=True):
                assert row["npv_usd_per_unit"] == float(f"{q['npv_usd_per_unit']:.16g}")
                assert row["landed_cost_usd"] == pytest.approx(
                    q["units"] * q["landed_cost_usd_per_unit"], rel=1e-15)
        else:
            parsed = _Sections()
            parsed.feed(report.read_text(encoding="utf-8"))
            cells = parsed.cells["optimiser"]
            for q in bought:
                assert q["model_id"] in cells
                assert metrics.format_value(q["units"], "count") in cells


def test_monthly_cash_sums_the_flows_and_leaves_the_levels_out() -> None:
    # The levels are declared once (fleetcalc.frames.DAILY_LEVEL_COLUMNS) for the report and the
    # TUI; the report's own copy left out the 4CP peak-hour load, so a month summed watts.
    import datetime as dt
    from types import SimpleNamespace

    import polars as pl

    from fleetcalc.frames import CUMULATIVE_CASH, DAILY_LEVEL_COLUMNS, DAILY_SCHEMA
    from fleetcalc.report_tables import monthly_cash
    from tui.widgets.order_detail import MEAN_COLUMNS, monthly

    dates = pl.date_range(dt.date(2027, 1, 1), dt.date(2027, 2, 28), eager=True)
    daily = pl.DataFrame({
        name: (["p"] * len(dates) if name == "plan" else range(len(dates)) if name == "day"
               else dates if name == "date" else [1.0] * len(dates))
        for name in DAILY_SCHEMA}, schema=DAILY_SCHEMA).with_columns(
        pl.int_range(1, len(dates) + 1).cast(pl.Float64).alias(CUMULATIVE_CASH))
    cash = monthly_cash(SimpleNamespace(daily=daily))
    assert "peak_hour_load_w" in DAILY_LEVEL_COLUMNS
    assert not set(DAILY_LEVEL_COLUMNS) & set(cash.columns)
    assert cash["revenue_usd"].to_list() == [31.0, 28.0]
    assert cash[CUMULATIVE_CASH].to_list() == [31.0, 59.0]
    assert set(MEAN_COLUMNS) <= set(DAILY_LEVEL_COLUMNS)
    by_month = monthly(daily)
    assert by_month["power_w"].to_list() == [1.0, 1.0]  # a level: the month's mean
    assert by_month["revenue_usd"].to_list() == [31.0, 28.0]
