"""Hourly price files and operating modes: each kind of bad input gives one clear line and
exit 2 (file, line, bad value, what is expected); negative prices load; the series repeats by
calendar year; the shipped SYNTHETIC series is what its generator makes, with the calibrated
statistics; the example plans evaluate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import fleetcalc
from fleetcalc import synthetic_prices
from fleetcalc.power_prices import load_hourly_prices
from tests.test_plan_errors import Case, run_cli

ROOT = Path(__file__).resolve().parent.parent
POWER = "tests/data/inputs/power"


def power_case(label: str, name: str, message: str) -> Case:
    """The plan ``plan_<name>.toml`` and the message naming it or its price file."""
    return Case(label, ("compare", f"{POWER}/plan_{name}.toml", "--json"),
                f"fleetcalc: error: {POWER}/{message}")


# Every bad power-market input: rendered into docs/errors.md (tests.test_validation).
POWER_CASES: tuple[Case, ...] = (
    power_case('Price file that does not exist', 'missing_file',
               "plan_missing_file.toml: site.power_price_series: got 'no_such_prices.csv'; "
               "expected a CSV file, relative to the plan's folder "
               '(tests/data/inputs/power/no_such_prices.csv does not exist)'),
    power_case('Price file with another header', 'bad_header',
               "bad_header.csv: line 1: got 'time,price'; expected the header "
               "'timestamp,usd_per_mwh'"),
    power_case('Hourly series with a gap', 'gap',
               "gap.csv: line 12, timestamp: got '2024-01-01T11:00:00-06:00'; expected the next "
               'hour 2024-01-01T10:00:00-06:00 (a gap of 2:00:00 after line 11)'),
    power_case('Hourly series with a repeated hour', 'duplicate',
               "duplicate.csv: line 12, timestamp: got '2024-01-01T09:00:00-06:00'; expected one "
               'row per hour (the same instant as line 11)'),
    power_case('Local time without a UTC offset', 'no_offset',
               "no_offset.csv: line 7, timestamp: got '2024-01-01T05:00:00'; expected a time with "
               'a UTC offset or Z (a local time without one is ambiguous: daylight saving repeats '
               'an hour)'),
    power_case('A time that is not a whole hour', 'half_hour',
               "half_hour.csv: line 5, timestamp: got '2024-01-01T03:30:00-06:00'; expected a "
               'whole hour (hourly prices)'),
    power_case('Series not starting at 00:00', 'not_midnight',
               "not_midnight.csv: line 2, timestamp: got '2024-01-01T01:00:00-06:00'; expected a "
               "first row at 00:00 (whole days in the first row's offset)"),
    power_case('Series not ending at 23:00', 'partial_day',
               "partial_day.csv: line 48, timestamp: got '2024-01-02T22:00:00-06:00'; expected a "
               "last row at 23:00 in the first row's offset (whole days; this one is 22:00)"),
    power_case('NaN price', 'nan',
               "nan.csv: line 9, usd_per_mwh: got 'nan'; expected a number in [-10000, 100000] "
               '(USD per MWh; negative prices are allowed)'),
    power_case('Price out of range (USD/kWh x 1000 too many)', 'out_of_range',
               "out_of_range.csv: line 7, usd_per_mwh: got '250000'; expected a number in [-10000, "
               '100000] (USD per MWh; negative prices are allowed)'),
    power_case('Series shorter than the horizon and than a year', 'too_short',
               "plan_too_short.toml: site.power_price_series: got 'negative_ok.csv: hours from "
               "2024-01-01 to 2024-01-02'; expected a series covering the horizon 2026-12-01 to "
               '2031-11-30, or at least one whole year to repeat by calendar year'),
    power_case('A constant price at a market site', 'market_with_price',
               'plan_market_with_price.toml: site.power_usd_per_kwh: got 0.05; expected no '
               'power_usd_per_kwh at a market site (power_price_series sets the price hour by '
               'hour; a fixed price: power_contract = "fixed")'),
    power_case('Market contract without a series', 'market_without_series',
               "plan_market_without_series.toml: site.power_contract: got 'market'; expected a "
               'power_price_series to buy at (or contract "fixed")'),
    power_case('Unknown contract', 'contract_unknown',
               "plan_contract_unknown.toml: site.power_contract: got 'spot'; expected one of "
               "'market', 'fixed'"),
    power_case('Sell-back at a market site', 'sell_back_market',
               'plan_sell_back_market.toml: site.sell_back: got True; expected sell_back only with '
               'power_contract = "fixed" (curtailed contracted energy is sold at the series\' '
               'prices)'),
    power_case('Take-or-pay on an hourly series', 'take_or_pay_series',
               'plan_take_or_pay_series.toml: site.take_or_pay_share: got 0.5; expected 0 at a '
               'site with a power_price_series (take-or-pay is modelled at a constant power '
               'price)'),
    power_case('Sell-back with no market to sell to', 'sell_back_no_series',
               'plan_sell_back_no_series.toml: site.sell_back: got True; expected a '
               'power_price_series: the market the energy is sold to'),
    power_case('Adder without a series', 'adder_no_series',
               'plan_adder_no_series.toml: site.power_adder_usd_per_kwh: got 0.01; expected a '
               'power_price_series to add it to (a constant price is all-in in power_usd_per_kwh + '
               'hosting_usd_per_kwh)'),
    power_case('4CP with no peak hours', 'four_cp_no_peaks',
               'plan_four_cp_no_peaks.toml: site.four_cp: got True; expected a power_price_series '
               '(its highest hour of each of June-September is the peak) or the four_cp_peaks '
               'timestamps'),
    power_case('Transmission charge with no peak hours', 'transmission_no_peaks',
               'plan_transmission_no_peaks.toml: site.transmission_usd_per_kw_year: got 60.0; '
               'expected 0, or peak hours whose load it is charged on: a power_price_series (its '
               'highest hour of each of June-September is the peak) or the four_cp_peaks '
               'timestamps'),
    power_case('Peak hours nothing uses', 'peaks_unused',
               "plan_peaks_unused.toml: site.four_cp_peaks: got ['2027-07-20T17:00:00-05:00']; "
               'expected peak hours only with four_cp = true or a transmission_usd_per_kw_year to '
               'charge on them'),
    power_case('Peak hour without a UTC offset', 'peaks_no_offset',
               "plan_peaks_no_offset.toml: site.four_cp_peaks: got ['2027-07-20T17:00:00']; "
               'expected a list of times with offset like [2026-08-20T17:00:00-05:00]'),
    power_case('Mode the model does not have (modes)', 'unknown_mode',
               "plan_unknown_mode.toml: orders[0].modes: got 'overdrive'; expected modes of "
               'Teraflux AT2880: stock, eco, turbo (or "all")'),
    power_case('A mode listed twice', 'modes_duplicate',
               "plan_modes_duplicate.toml: orders[0].modes: got ['eco', 'eco']; expected each mode "
               'at most once'),
    power_case('mode not among the allowed modes', 'mode_not_allowed',
               "plan_mode_not_allowed.toml: orders[0].mode: got 'turbo'; expected one of the "
               "order's modes ['eco', 'stock']"),
    power_case('modes neither a list nor "all"', 'modes_not_list',
               "plan_modes_not_list.toml: orders[0].modes: got 'eco'; expected a list of operating "
               'modes like ["eco", "stock", "turbo"], or "all"'),
)


@pytest.mark.parametrize("case", POWER_CASES, ids=lambda c: c.id)
def test_bad_power_market_input_is_one_line_and_exit_2(case: Case, capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(case.argv, capsys)
    assert (code, err.strip(), out) == (2, case.message, "")


def test_every_bad_power_file_has_a_case() -> None:
    covered = {Path(c.argv[1]).name for c in POWER_CASES}
    assert covered == {path.name for path in (ROOT / POWER).glob("plan_*.toml")}


def test_negative_prices_are_valid() -> None:
    prices = load_hourly_prices(ROOT / POWER / "negative_ok.csv")
    assert prices.usd_per_mwh.shape == (2, 24)
    assert prices.usd_per_mwh[0, 3] == -35.5


def test_a_one_year_series_repeats_by_calendar_year() -> None:
    prices = load_hourly_prices(synthetic_prices.SHIPPED)
    days, repeated = prices.days(dt.date(2027, 2, 27), 4, "plan.toml", "k")
    assert repeated
    # 2027-02-27, 02-28, 03-01, 03-02 take the series' (2024) same month and day.
    for i, day in enumerate((dt.date(2024, 2, 27), dt.date(2024, 2, 28), dt.date(2024, 3, 1),
                             dt.date(2024, 3, 2))):
        assert (days[i] == prices.usd_per_mwh[(day - prices.first_day).days]).all()


def test_the_shipped_series_is_the_generators_with_the_calibrated_statistics() -> None:
    assert synthetic_prices.SHIPPED.read_text() == synthetic_prices.csv_text()
    stats = synthetic_prices.series_statistics(
        load_hourly_prices(synthetic_prices.SHIPPED).usd_per_mwh.ravel())
    for name, (_, (lo, hi)) in synthetic_prices.CALIBRATION.items():
        assert lo <= stats[name] <= hi, name


def test_the_example_plans_evaluate_with_credits_modes_and_4cp() -> None:
    examples = sorted((ROOT / "docs/examples").glob("texas-*-SYNTHETIC.toml"))
    results = fleetcalc.evaluate(examples, breakevens=False)
    summary = {row["plan"]: row for row in results.summary.iter_rows(named=True)}
    sell = next(v for k, v in summary.items() if "sell-back" in k)
    market = next(v for k, v in summary.items() if "4CP" in k)
    assert sell["sell_back_credits_usd"] > 0
    assert market["transmission_usd"] > 0 and market["sell_back_credits_usd"] == 0
    assert "repeat by calendar year" in market["assumptions"]
    mode_days = results.orders.select("unit_days_eco", "unit_days_stock", "unit_days_turbo")
    assert (mode_days.to_numpy() > 0).all()
    assert np.isfinite(results.daily["sell_back_credit_usd"].to_numpy()).all()
