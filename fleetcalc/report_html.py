"""The report as one self-contained HTML file: tables and inline SVG charts (Altair specs
rendered by ``vl-convert``, no script, no font or image fetched), with a print style sheet.

Nothing in the file points outside it: the SVGs' namespace attributes are dropped (HTML
parses inline ``<svg>`` without them) and tariff sources are cited as text without their
scheme, so a browser opened offline shows everything and fetches nothing.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from fleetcalc import metrics
from fleetcalc import report_tables as tables
from fleetcalc.io import write_text_atomic

if TYPE_CHECKING:
    from fleetcalc.engine import Results

CHART_WIDTH_PX = 820
CHART_HEIGHT_PX = 300
CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 1.5em auto;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.2em 0.5em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.best { background: #c6efce; font-weight: bold; }
p.note { color: #555; font-size: 0.9em; }
figure { margin: 0.8em 0; } svg { max-width: 100%; height: auto; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  section { break-inside: avoid-page; } h2 { break-after: avoid; }
  table { font-size: 8pt; }
}
"""
_NAMESPACE = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_SCHEME = re.compile(r"\bhttps?://")


def _svg(chart: Any) -> str:
    """An Altair chart as inline SVG markup, with nothing that refers outside the file."""
    import vl_convert

    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    return _NAMESPACE.sub("", svg)


def _figure(chart: Any, caption: str) -> str:
    return (f"<figure>{_svg(chart)}<figcaption class='note'>{html.escape(caption)}"
            "</figcaption></figure>")


def _text(value: Any) -> str:
    """A cell's text, escaped; a source's URL without its scheme (a citation, not a link)."""
    text = "" if value is None else str(value)
    return html.escape(_SCHEME.sub("", text))


def _table(frame: pl.DataFrame, formats: dict[str, str] | None = None) -> str:
    """A frame as an HTML table; columns named in ``formats`` as the catalogue formats them."""
    formats = formats or {}
    head = "".join(f"<th>{html.escape(name)}</th>" for name in frame.columns)
    body = []
    for row in frame.iter_rows():
        cells = []
        for name, value in zip(frame.columns, row, strict=True):
            if name in formats:
                cells.append(f"<td class='num'>{metrics.format_value(value, formats[name])}</td>")
            else:
                cells.append(f"<td>{_text(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary(results: Results) -> str:
    import altair as alt

    plans = tables.plan_names(results)
    head = "".join(f"<th>{html.escape(plan)}</th>" for plan in plans)
    body = []
    for row in tables.summary_rows(results):
        cells = "".join(
            f"<td class='num{' best' if i == row.best else ''}'>"
            f"{metrics.format_value(value, row.fmt)}</td>" for i, value in enumerate(row.values))
        body.append(f"<tr><td>{html.escape(row.label)}</td>{cells}</tr>")
    npv = results.summary.select("plan", "npv_usd")
    chart = alt.Chart(npv).mark_bar().encode(
        x=alt.X("npv_usd:Q", title="NPV (USD)"), y=alt.Y("plan:N", title=None),
    ).properties(width=CHART_WIDTH_PX - 300)
    from fleetcalc.compare_text import statistics_note

    return (f"<table><thead><tr><th>Metric</th>{head}</tr></thead><tbody>{''.join(body)}"
            f"</tbody></table><p class='note'>Best value per row highlighted. "
            f"{html.escape(statistics_note(results.scenario.paths))}</p>"
            + _figure(chart, "NPV per plan (the summary's NPV row)."))


def _line(frame: pl.DataFrame, y: str, title: str, color: str | None = None) -> Any:
    import altair as alt

    encoding = {"x": alt.X("month:T", title=None), "y": alt.Y(f"{y}:Q", title=title)}
    if color:
        encoding["color"] = alt.Color(f"{color}:N", legend=alt.Legend(orient="bottom",
                                                                      columns=2))
    return alt.Chart(frame).mark_line().encode(**encoding).properties(
        width=CHART_WIDTH_PX, height=CHART_HEIGHT_PX)


def _distribution(results: Results) -> str:
    import altair as alt

    if results.scenario.paths == 1:
        return ("<p class='note'>One path: no distribution. Set <code>paths</code> in the "
                "scenario for Monte Carlo.</p>")
    chart = alt.Chart(results.paths.select("plan", "npv_usd")).mark_tick(thickness=2).encode(
        x=alt.X("npv_usd:Q", title="NPV (USD), one tick per path"),
        y=alt.Y("plan:N", title=None),
    ).properties(width=CHART_WIDTH_PX - 300)
    return _figure(chart, f"NPV on each of the {results.scenario.paths:,} Monte Carlo paths.")


def _tariffs(results: Results) -> str:
    import altair as alt

    orders = tables.orders_table(results)
    bars = orders.filter(pl.col("program").is_not_null()).with_columns(
        order=pl.col("plan") + " #" + pl.col("order_index").cast(pl.String))
    chart = alt.Chart(bars).mark_bar().encode(
        x=alt.X("tariff_usd:Q", title="duty (USD)"), y=alt.Y("order:N", title=None),
        color=alt.Color("program:N", legend=alt.Legend(orient="bottom", columns=1)),
    ).properties(width=CHART_WIDTH_PX - 300)
    table = _table(orders.drop("tariff_origin", "status"), {
        "quantity": "count", "customs_value_usd": "usd", "landed_cost_usd": "usd",
        "tariffs_usd": "usd", "rate": "fraction_as_pct", "tariff_usd": "usd"})
    return _figure(chart, "Import duty per order, by tariff program.") + table


def _tornado(extras: tables.Extras) -> str:
    """Per plan a tornado chart (each plan on its own NPV scale, as the terminal shows it)
    and its bars' numbers."""
    import altair as alt

    if extras.sensitivity is None:
        return f"<p class='note'>{html.escape(tables.MISSING_SECTION['sensitivity'])}</p>"
    parts = []
    for (plan,), bars in extras.sensitivity.group_by("plan", maintain_order=True):
        ends = bars.unpivot(["npv_low_usd", "npv_high_usd"], index=["label", "base_npv_usd"],
                            variable_name="end", value_name="npv_usd").with_columns(
            end=pl.col("end").replace({"npv_low_usd": "input at low",
                                       "npv_high_usd": "input at high"}))
        base = alt.Chart(bars.head(1)).mark_rule(color="#444").encode(x="base_npv_usd:Q")
        chart = alt.Chart(ends).mark_bar(opacity=0.85).encode(
            x=alt.X("npv_usd:Q", title="NPV (USD)"), x2="base_npv_usd:Q",
            # The table's order: largest swing at the top.
            y=alt.Y("label:N", title=None, sort=bars["label"].to_list()),
            color=alt.Color("end:N", title=None, legend=alt.Legend(orient="bottom"),
                            scale=alt.Scale(domain=["input at low", "input at high"],
                                            range=["#d62728", "#2ca02c"])))
        base_npv = metrics.format_value(bars["base_npv_usd"][0], "usd")
        parts.append(
            f"<h3>{html.escape(str(plan))}</h3>"
            + _figure((chart + base).properties(width=CHART_WIDTH_PX - 300),
                      f"NPV with each input at the low and at the high end of its range; the "
                      f"line is the base NPV, USD {base_npv}.")
            + _table(bars.drop("plan", "input", "base_npv_usd"), tables.SENSITIVITY_FORMATS))
    return "".join(parts)


def html_text(results: Results, extras: tables.Extras) -> str:
    """The whole report as one HTML document."""
    cash = tables.monthly_cash(results)
    market = tables.monthly_market(results)
    scenario = results.scenario
    sections = [
        ("Summary", _summary(results)),
        ("Cumulative cash", _figure(_line(cash, "cumulative_cash_usd", "cumulative cash (USD)",
                                          "plan"), "Cumulative cash at each month's end.")),
        ("NPV distribution", _distribution(results)),
        ("Market", _figure(_line(market, "hashprice_usd_per_ph_day", "hashprice (USD/PH/day)"),
                           "Hashprice, monthly mean.")
         + _figure(_line(market, "price_usd", "BTC price (USD)"), "BTC price, monthly mean.")),
        ("Tariffs per order", _tariffs(results)),
        ("Sensitivity", _tornado(extras)),
        ("Assumptions", _table(tables.assumptions_table(results))),
    ]
    if extras.optimiser is not None:
        sections.append(("Optimiser", _table(extras.optimiser, tables.OPTIMISER_FORMATS)))
    body = "".join(f"<section id='{title.lower().replace(' ', '-')}'><h2>{title}</h2>{content}"
                   "</section>" for title, content in sections)
    title = html.escape(f"fleetcalc report - {scenario.name}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{CSS}</style></head><body><h1>{title}</h1><p class='note'>Horizon "
            f"{scenario.start_date} + {scenario.horizon_days:,} days, {scenario.paths:,} "
            f"path(s).</p>{body}</body></html>\n")


def write_html(results: Results, path: str | Path, extras: tables.Extras) -> Path:
    """Write the HTML report to ``path`` atomically (built in memory first)."""
    return write_text_atomic(html_text(results, extras), path)
