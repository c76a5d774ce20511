"""The metric catalogue: number formats, the Monte Carlo summary rule, missing reasons, and the
summary frame it declares."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc import metrics
from fleetcalc.metrics import BY_NAME, FORMATS, format_value

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_one_power_reads_the_same_in_kw_and_w(power_kw: int) -> None:
    # "mw" once meant /1e3 in the CLI and /1e6 in the TUI; the codes now name their input.
    assert format_value(power_kw, "kw_as_mw") == format_value(power_kw * 1000, "w_as_mw")


@given(finite)
def test_scaled_formats_divide_by_their_unit(value: float) -> None:
    assert format_value(value, "th_as_ehs") == f"{value / 1e6:,.3f}"
    assert format_value(value, "th_as_phs") == f"{value / 1e3:,.1f}"
    assert format_value(value, "kw_as_mw") == f"{value / 1e3:,.2f}"
    assert format_value(value, "w_as_mw") == f"{value / 1e6:,.2f}"
    assert format_value(value, "fraction_as_pct") == f"{value * 100:.1f}%"


@pytest.mark.parametrize("code", sorted(FORMATS))
def test_a_missing_number_reads_as_the_formats_missing_text(code: str) -> None:
    expected = "never" if code == "days" else "n/a"
    for value in (None, math.nan, math.inf):
        assert format_value(value, code) == expected


def test_headline_is_the_mean_over_paths_where_the_metric_exists() -> None:
    irr = BY_NAME["irr"]
    assert metrics.headline(irr, np.array([0.1, math.nan, 0.3])) == pytest.approx(0.2)
    assert math.isnan(metrics.headline(irr, np.array([math.nan, math.nan])))
    with pytest.raises(ValueError, match="no summary over paths"):
        metrics.headline(BY_NAME["capex_usd"], np.array([1.0]))


def test_a_payback_that_never_comes_counts_as_last_in_percentiles() -> None:
    payback = np.array([100.0, 200.0, math.nan, math.nan])
    # With a "never" among the paths the percentile is a path's own value (no interpolating
    # towards infinity).
    assert metrics.percentile(payback, 10, missing_is_never=True) == 100.0
    assert math.isnan(metrics.percentile(payback, 90, missing_is_never=True))
    # An IRR that does not exist is left out instead.
    assert metrics.percentile(payback, 90, missing_is_never=False) == pytest.approx(190.0)


def test_summarise_gives_percentiles_only_with_several_paths() -> None:
    values = {m.name: np.array([1.0, 2.0, 3.0]) for m in metrics.PATH_METRICS}
    one = metrics.summarise({k: v[:1] for k, v in values.items()}, 1)
    several = metrics.summarise(values, 3)
    assert set(one) == {m.name for m in metrics.PATH_METRICS}
    assert several["npv_usd_p50"] == 2.0 and several["npv_usd"] == 2.0
    assert set(several) == {name for name, m in metrics.summary_columns(3) if m.per_path}


def test_missing_metrics_names_each_column_with_its_reason() -> None:
    row = {"irr": math.nan, "irr_p10": math.nan, "irr_p50": 0.1, "npv_usd": 1.0,
           "breakeven_power_usd_per_kwh": math.nan, "buy_btc": math.nan}
    text = metrics.missing_metrics(row, n_paths=2, breakevens=False)
    assert text == (
        f"irr, irr_p10: {BY_NAME['irr'].missing}; "
        f"breakeven_power_usd_per_kwh: {metrics.NOT_COMPUTED}; "
        f"buy_btc: {metrics.NOT_DEFINED}")
    assert metrics.missing_metrics({"npv_usd": 1.0}, 1, True) == ""


def test_json_record_turns_nan_to_null_and_rounds_whole_fields() -> None:
    record = metrics.json_record({"payback_days": 411.6, "payback_days_p10": 300.4,
                                  "irr": math.nan, "plan": "p"})
    assert record == {"payback_days": 412, "payback_days_p10": 300.4, "irr": None, "plan": "p"}


def test_record_schema_holds_the_json_records_of_an_evaluation() -> None:
    import polars as pl

    row = {name: 1.5 for name in metrics.summary_schema(2)}
    row.update(plan="p", units=3, tariff_assumption=False, paths=2, assumptions="",
               missing_metrics="")
    frame = pl.DataFrame([metrics.json_record(row)], schema=metrics.record_schema(2))
    assert frame["payback_days"].dtype == pl.Int64 and frame["payback_days"].item() == 2
    assert frame["payback_days_p10"].dtype == pl.Float64


def test_best_index_follows_the_metrics_direction() -> None:
    assert metrics.best_index([3.0, None, 1.0, math.nan], "low") == 2
    assert metrics.best_index([3.0, 1.0], "high") == 0
    assert metrics.best_index([3.0, 1.0], None) is None
    assert metrics.best_index([3.0, math.nan], "high") is None


@pytest.mark.parametrize("bad", [
    dict(summary="median"), dict(per_path=True), dict(fmt="mw"), dict(views=("compare",)),
])
def test_the_catalogue_rejects_an_inconsistent_metric(bad: dict) -> None:
    with pytest.raises(ValueError):
        metrics.Metric("x", "meaning", **bad)


def test_summary_schema_lists_percentiles_after_the_catalogue() -> None:
    one, several = metrics.summary_schema(1), metrics.summary_schema(4)
    assert list(one) == [m.name for m in metrics.METRICS]
    assert list(several)[: len(one)] == list(one)
    assert len(several) == len(one) + 3 * len(metrics.PATH_METRICS)
    assert str(one["units"]) == "Int64" and str(several["irr_p90"]) == "Float64"


def test_the_readme_schema_table_is_generated_from_the_catalogue() -> None:
    text = metrics.README.read_text(encoding="utf-8")
    assert metrics.readme_with_schema(text) == text, (
        "README.md's metrics table is stale: run `PYTHONPATH=. python -m fleetcalc.metrics "
        "--readme`")


def test_the_readme_table_says_which_fields_may_be_null() -> None:
    table = metrics.schema_markdown()
    irr_row = next(line for line in table.splitlines() if line.startswith("| `irr` |"))
    assert "number or null" in irr_row and BY_NAME["irr"].missing in irr_row
    payback_row = next(line for line in table.splitlines()
                       if line.startswith("| `payback_days` |"))
    assert "integer or null" in payback_row
