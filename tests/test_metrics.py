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


def _paths(**values: list[float]) -> dict[str, np.ndarray]:
    return {name: np.array(v, dtype=float) for name, v in values.items()}


def test_an_amount_is_the_mean_over_all_paths() -> None:
    npv = BY_NAME["npv_usd"]
    assert metrics.headline(npv, _paths(npv_usd=[1.0, 2.0, 6.0])) == 3.0
    with pytest.raises(ValueError, match="no summary over paths"):
        metrics.headline(BY_NAME["capex_usd"], _paths(capex_usd=[1.0]))


def test_a_metric_that_may_not_exist_is_the_median_over_all_paths_never_the_survivors_mean(
) -> None:
    payback = BY_NAME["payback_days"]
    # Two of five paths never pay back: they rank after every day, so the median is the third
    # path's 300 days (the mean of the three that pay back would be 200).
    values = _paths(payback_days=[100.0, 200.0, 300.0, math.nan, math.nan])
    assert metrics.headline(payback, values) == 300.0
    # Three of five never: the median path never pays back, so there is no median (null).
    values = _paths(payback_days=[100.0, 200.0, math.nan, math.nan, math.nan])
    assert math.isnan(metrics.headline(payback, values))


def test_an_irr_that_does_not_exist_ranks_at_the_end_its_npv_says() -> None:
    irr = BY_NAME["irr"]
    # No IRR where NPV < 0 at every rate: below -99% a year, the low end.
    losing = _paths(irr=[math.nan, math.nan, 0.1, 0.2, 0.3], npv_usd=[-5.0, -5.0, 1.0, 2.0, 3.0])
    assert metrics.headline(irr, losing) == pytest.approx(0.1)
    assert math.isnan(metrics.pessimistic_percentile(irr, metrics.ordered(irr, losing), 10))
    # No IRR where NPV > 0 at every rate: above +100,000% a year, the high end.
    winning = _paths(irr=[math.nan, math.nan, 0.1, 0.2, 0.3], npv_usd=[5.0, 5.0, 1.0, 2.0, 3.0])
    assert metrics.headline(irr, winning) == pytest.approx(0.3)
    assert math.isnan(metrics.pessimistic_percentile(irr, metrics.ordered(irr, winning), 90))


def test_a_breakeven_power_price_that_does_not_exist_ranks_below_every_price() -> None:
    power = BY_NAME["breakeven_power_usd_per_kwh"]
    values = _paths(breakeven_power_usd_per_kwh=[math.nan, 0.02, 0.04])
    data = metrics.ordered(power, values)
    assert metrics.headline(power, values) == 0.02
    assert math.isnan(metrics.pessimistic_percentile(power, data, 10))
    assert metrics.pessimistic_percentile(power, data, 90) == pytest.approx(0.036)


def test_p10_is_the_pessimistic_decile_for_every_metric() -> None:
    days = np.arange(1.0, 12.0)  # 1..11: the 10th percentile is 2, the 90th 10
    for metric in metrics.PATH_METRICS:
        data = metrics.ordered(metric, {metric.name: days, metric.npv_of: days})
        p10, p90 = (metrics.pessimistic_percentile(metric, data, q) for q in (10, 90))
        if metric.better == "low":  # payback, costs, breakeven prices: the long / dear end
            assert (p10, p90) == (10.0, 2.0), metric.name
        else:
            assert (p10, p90) == (2.0, 10.0), metric.name


def test_a_percentile_next_to_a_missing_path_is_null_and_otherwise_numpys() -> None:
    data = np.array([1.0, 2.0, 4.0, np.inf])
    assert metrics.value_percentile(data, 50) == 3.0
    assert metrics.value_percentile(data, 100 / 3) == np.percentile([1.0, 2.0, 4.0, 9.0], 100 / 3)
    assert math.isnan(metrics.value_percentile(data, 90))


@given(st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=40), st.sampled_from([10, 50, 90]))
def test_the_percentile_of_finite_values_is_numpys_bit_for_bit(values: list, q: int) -> None:
    data = np.array(values)
    assert metrics.value_percentile(data, q) == float(np.percentile(data, q))


def test_summarise_gives_percentiles_only_with_several_paths() -> None:
    values = {m.name: np.array([1.0, 2.0, 3.0]) for m in metrics.PATH_METRICS}
    one = metrics.summarise({k: v[:1] for k, v in values.items()}, 1)
    several = metrics.summarise(values, 3)
    assert set(one) == {m.name for m in metrics.PATH_METRICS}
    assert several["npv_usd_p50"] == 2.0 and several["npv_usd"] == 2.0
    assert set(several) == {name for name, m in metrics.summary_columns(3) if m.per_path}


def test_every_median_metric_says_where_a_missing_path_ranks() -> None:
    for metric in metrics.PATH_METRICS:
        assert (metric.summary == metrics.MEDIAN) == (metric.missing is not None), metric.name
    with pytest.raises(ValueError, match="cannot be a mean"):
        metrics.Metric("x", "m", per_path=True, summary=metrics.MEAN, missing="why")
    with pytest.raises(ValueError, match="undefined_end"):
        metrics.Metric("x", "m", per_path=True, summary=metrics.MEDIAN, missing="why")


def test_missing_metrics_names_each_column_with_its_reason() -> None:
    row = {"irr": math.nan, "irr_p10": math.nan, "irr_p50": 0.1, "npv_usd": 1.0,
           "breakeven_power_usd_per_kwh": math.nan, "buy_btc": None}
    text = metrics.missing_metrics(row, n_paths=2, breakevens=False)
    assert text == (
        f"irr, irr_p10: {BY_NAME['irr'].missing}; "
        f"breakeven_power_usd_per_kwh: {metrics.NOT_COMPUTED}; "
        f"buy_btc: {metrics.NOT_DEFINED}")
    assert metrics.missing_metrics({"npv_usd": 1.0}, 1, True) == ""
    # With the paths, the reason says on how many the metric does not exist.
    paths = {"irr": np.array([math.nan, math.nan, 0.1, 0.2]), "buy_btc": np.ones(4),
             "breakeven_power_usd_per_kwh": np.full(4, math.nan)}
    text = metrics.missing_metrics(row, n_paths=4, breakevens=False, path_values=paths)
    assert text.startswith(f"irr, irr_p10: {BY_NAME['irr'].missing} (on 50% of paths); ")


def test_json_record_turns_nan_to_null_and_rounds_whole_fields() -> None:
    # A percentile of a whole-number metric is whole too: the 500-path case of issue 11 gave
    # "payback_days_p90": 1194.9000000000003 for a field the schema says is an integer.
    record = metrics.json_record({"payback_days": 411.6, "payback_days_p10": 300.4,
                                  "payback_days_p90": 1194.9000000000003, "irr": math.nan,
                                  "irr_p10": 0.125, "plan": "p"})
    assert record == {"payback_days": 412, "payback_days_p10": 300, "payback_days_p90": 1195,
                      "irr": None, "irr_p10": 0.125, "plan": "p"}


def test_record_schema_holds_the_json_records_of_an_evaluation() -> None:
    import polars as pl

    row = {name: 1.5 for name in metrics.summary_schema(2)}
    row.update(plan="p", units=3, tariff_assumption=False, paths=2, assumptions="",
               missing_metrics="")
    frame = pl.DataFrame([metrics.json_record(row)], schema=metrics.record_schema(2))
    for name in ("payback_days", "payback_days_p10", "payback_days_p50", "payback_days_p90"):
        assert frame[name].dtype == pl.Int64 and frame[name].item() == 2, name
    assert frame["irr_p10"].dtype == pl.Float64


def test_best_index_follows_the_metrics_direction() -> None:
    assert metrics.best_index([3.0, None, 1.0, math.nan], "low") == 2
    assert metrics.best_index([3.0, 1.0], "high") == 0
    assert metrics.best_index([3.0, 1.0], None) is None
    assert metrics.best_index([3.0, math.nan], "high") is None
    assert metrics.best_index([2.0, 2.0, None], "low") is None  # a shared cost: nobody's best


@pytest.mark.parametrize("bad", [
    dict(summary="mode"), dict(per_path=True), dict(fmt="mw"), dict(views=("compare",)),
    dict(dtype="tuple"),
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
