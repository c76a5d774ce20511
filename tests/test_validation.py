"""Scenario validation (every key, tariff overrides, CSV series) and the error table.

Each bad scenario is a committed file under ``tests/data/inputs/scenarios`` (CSV series under
``tests/data/inputs/series``) with the exact message the CLI prints for it. ``docs/errors.md``
is rendered from these cases plus the plan and file cases; regenerate it after changing a
message with ``PYTHONPATH=. python -m tests.test_validation`` (a test fails until you do).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from fleetcalc.errors import InputError
from fleetcalc.network import market_paths
from fleetcalc.scenario import load_scenario, parse_scenario, scenario_to_toml
from fleetcalc.series import PRICE_SERIES, load_series
from fleetcalc.validate import MAX_NESTING, parse_toml_text
from tests.test_files import FILE_CASES
from tests.test_optimize_cli import CANDIDATE_CASES
from tests.test_plan_errors import PLAN_CASES, ROOT, Case, run_cli
from tests.test_power_prices import POWER_CASES

SCENARIOS = "tests/data/inputs/scenarios"
SERIES = "tests/data/inputs/series"
ERRORS_DOC = ROOT / "docs" / "errors.md"


def scenario_case(label: str, file: str, message: str) -> Case:
    path = f"{SCENARIOS}/{file}"
    return Case(label, ("compare", "--scenario", path, "--json"),
                f"fleetcalc: error: {path}: {message}")


def series_case(label: str, file: str, csv_file: str, message: str) -> Case:
    path = f"{SCENARIOS}/{file}"
    return Case(label, ("compare", "--scenario", path, "--json"),
                f"fleetcalc: error: {SERIES}/{csv_file}: {message}")


SCENARIO_CASES: tuple[Case, ...] = (
    scenario_case('assumptions not a list', 'assumptions_not_list.toml',
              "assumptions: got 'flat price'; expected a list of at most 100 non-empty strings "
              'of at most 1,000 characters'),
    scenario_case('Missing required key (block height)', 'block_height_missing.toml',
              "network.block_height: got '(missing)'; expected an integer in [0, 100000000]"),
    scenario_case('Negative block height', 'block_height_negative.toml',
              'network.block_height: got -1; expected an integer in [0, 100000000]'),
    scenario_case('Missing [btc] table', 'btc_missing.toml',
              "btc: got '(missing)'; expected a table"),
    scenario_case('[btc] not a table', 'btc_not_table.toml',
              'btc: got 90000.0; expected a table'),
    scenario_case('Correlation outside [-1, 1]', 'correlation_bad.toml',
              'network.price_correlation: got 1.5; expected a number in [-1, 1]'),
    scenario_case('Difficulty below 1', 'difficulty_zero.toml',
              'network.difficulty: got 0.0; expected a number in [1, 1e+30]'),
    scenario_case('Drift and a price series', 'drift_and_series.toml',
              'btc.annual_drift: got 0.1; expected no annual_drift when btc.price_series is '
              'given (the series sets it day by day)'),
    scenario_case('Drift compounding past any price', 'drift_overflows.toml',
              'btc.annual_drift: got 10.0; expected a growth keeping the level within '
              '[1e-06, 1e+15] USD over the horizon (it would reach about 1e109)'),
    scenario_case('Drift of -100%', 'drift_too_low.toml',
              'btc.annual_drift: got -1.0; expected a number in [-0.99, 10]'),
    scenario_case('Key given twice', 'duplicate_key.toml',
              "line 3, column 19: got 'horizon_days = 120'; expected valid TOML (cannot "
              'overwrite a value)'),
    scenario_case("A responsive-model key without model = 'responsive'",
                  'exogenous_with_responsive_key.toml',
              'network.power_median_usd_per_kwh: got 0.05; expected no '
              "power_median_usd_per_kwh with network.model = 'exogenous' (the default; "
              "only the 'responsive' model reads it)"),
    scenario_case('Unknown failure mode', 'failures_bad.toml',
              "failures: got 'random'; expected one of 'expected', 'sampled'"),
    scenario_case('Negative fees', 'fees_negative.toml',
              'network.fees_btc_per_block: got -0.1; expected a number in [0, 1000]'),
    scenario_case('Hashrate shrinking to nothing', 'growth_underflows.toml',
              'network.monthly_growth: got -0.5; expected a growth keeping the level within '
              '[1e-09, 1e+15] EH/s over the horizon (it would reach about 1e-358)'),
    scenario_case('Wrong type (string for a number)', 'hashrate_string.toml',
              "network.hashrate_ehs: got '1000 EH/s'; expected a number in [1e-06, 1e+09]"),
    scenario_case('Zero hashrate', 'hashrate_zero.toml',
              'network.hashrate_ehs: got 0.0; expected a number in [1e-06, 1e+09]'),
    scenario_case('Horizon over 100 years', 'horizon_too_long.toml',
              'horizon_days: got 40000; expected an integer in [1, 36525]'),
    scenario_case('Zero horizon', 'horizon_zero.toml',
              'horizon_days: got 0; expected an integer in [1, 36525]'),
    scenario_case('Unknown network model', 'network_model_bad.toml',
              "network.model: got 'endogenous'; expected one of 'exogenous', 'responsive'"),
    scenario_case('tariff_origin_as key not an ISO code', 'origin_as_bad_key.toml',
              "tariff_origin_as.Malaysia: got 'Malaysia'; expected an ISO 3166 alpha-2 "
              "country code like 'MY' as the key"),
    scenario_case('origin_risk.deemed not an ISO code', 'origin_risk_bad_deemed.toml',
              "origin_risk.deemed: got 'China'; expected an ISO 3166 alpha-2 country code "
              "like 'MY' (uppercase)"),
    scenario_case('origin_risk.us_assembled_deemed not a boolean', 'origin_risk_not_bool.toml',
              "origin_risk.us_assembled_deemed: got 'yes'; expected true or false"),
    scenario_case('tariff_origin_as value not an ISO code', 'origin_as_bad_value.toml',
              "tariff_origin_as.MY: got 'China'; expected an ISO 3166 alpha-2 country code "
              "like 'MY' (uppercase)"),
    scenario_case('Tariff override ending before it starts', 'override_dates_reversed.toml',
              "tariff_overrides[0].effective_to: got '2026-06-01'; expected a date on or "
              'after effective_from (2027-01-01)'),
    scenario_case('tariff_overrides as one table', 'override_not_array.toml',
              "tariff_overrides: got '(a single table)'; expected an array of tables, each "
              'headed [[tariff_overrides]]'),
    scenario_case('Tariff override origin not ISO', 'override_origin_bad.toml',
              "tariff_overrides[0].origin: got 'Malaysia'; expected an ISO 3166 alpha-2 "
              "country code like 'MY' (uppercase)"),
    scenario_case('Tariff override program not snake_case', 'override_program_bad.toml',
              "tariff_overrides[0].program: got 'Section 301'; expected a snake_case program "
              "name like 'reciprocal' or 'section_301'"),
    scenario_case('Negative tariff rate', 'override_rate_negative.toml',
              'tariff_overrides[0].rate: got -0.1; expected a number in [0, 10]'),
    scenario_case('Unknown key (tariff override)', 'override_unknown_key.toml',
              "tariff_overrides[0].rate_pct: got 'rate_pct'; expected one of the keys "
              'effective_from, effective_to, origin, program, rate'),
    scenario_case('Too many paths for the horizon', 'paths_times_days.toml',
              'paths: got 100000; expected at most 20,000,000 path-days (paths x '
              'horizon_days), so at most 5,479 paths over 3650 days'),
    scenario_case('Zero paths', 'paths_zero.toml',
              'paths: got 0; expected an integer in [1, 100000]'),
    scenario_case('Pool fee of 100%', 'pool_fee_one.toml',
              'network.pool_fee: got 1.0; expected a number in [0, 0.99]'),
    scenario_case('Price and a price series', 'price_and_series.toml',
              'btc.price_usd: got 90000.0; expected no price_usd when btc.price_series is '
              'given (the series sets it day by day)'),
    scenario_case('Missing price', 'price_missing.toml',
              "btc.price_usd: got '(missing)'; expected a number in [0.01, 1e+09] (or "
              'btc.price_series, a CSV file)'),
    scenario_case('Negative price', 'price_negative.toml',
              'btc.price_usd: got -90000.0; expected a number in [0.01, 1e+09]'),
    scenario_case('Zero price', 'price_zero.toml',
              'btc.price_usd: got 0.0; expected a number in [0.01, 1e+09]'),
    scenario_case('Responsive network before its first installed-base snapshot',
                  'responsive_before_snapshot.toml',
              "start_date: got '2023-06-01'; expected a date on or after 2024-01-05 with "
              "network.model = 'responsive' (its first installed-base snapshot, "
              'fleetcalc/data/network_tiers.csv)'),
    scenario_case('Responsive network: zero order lag', 'responsive_lag_zero.toml',
              'network.order_lag_days: got 0; expected an integer in [1, 3650]'),
    scenario_case('Responsive network: no spread of power prices', 'responsive_log_sd_zero.toml',
              'network.power_price_log_sd: got 0.0; expected a number in [0.05, 3]'),
    scenario_case('Responsive network: almost nothing online at the start',
                  'responsive_nothing_online.toml',
              'network.power_median_usd_per_kwh: got 1.0; expected a median power price '
              "at which at least 1% of the installed base runs at the start's hashprice "
              '(40.5 USD per PH/s-day; 0.00% would)'),
    # Issue 11's slip on the default (responsive) network: the message names the key typed.
    scenario_case('Responsive network: hashrate typed in PH/s', 'responsive_hashrate_in_phs.toml',
              'network.hashrate_ehs: got 964000.0; expected a network hashrate in EH/s at which '
              "at least 1% of the installed base runs at the start's hashprice (0.0395 USD per "
              'PH/s-day; 0.00% would): EH/s typed as PH/s?'),
    scenario_case('Growth with the responsive network', 'responsive_with_growth.toml',
              'network.monthly_growth: got 0.01; expected no monthly_growth with '
              "network.model = 'responsive' (only the 'exogenous' model reads it)"),
    scenario_case('Fractional seed', 'seed_float.toml',
              'seed: got 1.5; expected an integer in [0, 9223372036854775807]'),
    scenario_case('Negative seed', 'seed_negative.toml',
              'seed: got -1; expected an integer in [0, 9223372036854775807]'),
    scenario_case('Series path is a directory', 'series_directory.toml',
              "btc.price_series: got '../series'; expected a CSV file, relative to the "
              "scenario's folder (tests/data/inputs/series is a directory)"),
    scenario_case('Series file missing', 'series_missing_file.toml',
              "btc.price_series: got 'prices.csv'; expected a CSV file, relative to the "
              "scenario's folder (tests/data/inputs/scenarios/prices.csv does not exist)"),
    scenario_case('Start date out of range', 'start_date_out_of_range.toml',
              "start_date: got '2300-01-01'; expected a date like 2027-01-31, from "
              '2009-01-03 to 2199-12-31'),
    scenario_case('Start date as a string', 'start_date_string.toml',
              "start_date: got 'December 1st'; expected a date like 2027-01-31, from "
              '2009-01-03 to 2199-12-31'),
    scenario_case('TOML syntax error', 'syntax_error.toml',
              "line 4, column 15: got 'price_usd = 90,000'; expected valid TOML (expected "
              'newline or end of document after a statement)'),
    scenario_case('Unknown key (btc)', 'unknown_key_btc.toml',
              "btc.price: got 'price'; expected one of the keys annual_drift, "
              'annual_volatility, price_series, price_usd'),
    scenario_case('Unknown key (network)', 'unknown_key_network.toml',
              "network.hashrate: got 'hashrate'; expected one of the keys annual_volatility, "
              'block_height, capex_usd_per_th, difficulty, fees_btc_per_block, '
              'frontier_improvement_per_year, frontier_j_per_th, hashrate_ehs, '
              'hashrate_series, model, monthly_growth, online_response_days, order_lag_days, '
              'order_volatility, pool_fee, power_median_usd_per_kwh, power_price_log_sd, '
              'price_correlation, service_life_years, supply_ehs_per_month, '
              'target_payback_days'),
    scenario_case('Unknown key (top level)', 'unknown_key_top.toml',
              "horizon: got 'horizon'; expected one of the keys assumptions, btc, failures, "
              'horizon_days, name, network, origin_risk, paths, seed, start_date, '
              'tariff_origin_as, tariff_overrides'),
    scenario_case('Volatility over 200%', 'volatility_too_high.toml',
              'btc.annual_volatility: got 3.0; expected a number in [0, 2]'),
)
SERIES_CASES: tuple[Case, ...] = (
    series_case('Negative value in a hashrate series', 'hashrate_series_negative.toml',
                'hashrate_negative.csv',
              "line 5, hashrate_ehs: got '-5'; expected a number in [1e-06, 1e+09]"),
    series_case('Series: bad date', 'series_bad_date.toml', 'prices_bad_date.csv',
              "line 5, date: got '2026-12-32'; expected a date like 2027-01-31"),
    series_case('Series: duplicate date', 'series_duplicate.toml', 'prices_duplicate.csv',
              "line 12, date: got '2026-12-09'; expected one row per day (duplicate of line "
              '11)'),
    series_case('Series: empty file', 'series_empty.toml', 'prices_empty.csv',
              "line 1: got '(empty file)'; expected the header 'date,price_usd'"),
    series_case('Series: missing days', 'series_gap.toml', 'prices_gap.csv',
              "line 22, date: got '2026-12-23'; expected the next day 2026-12-20 (one row "
              'per day: 3 day(s) missing after line 21)'),
    series_case('Series: wrong header', 'series_header.toml', 'prices_header.csv',
              "line 1: got 'date,price'; expected the header 'date,price_usd'"),
    series_case('Series: no data rows', 'series_header_only.toml', 'prices_header_only.csv',
              "line 2: got '(no data rows)'; expected one row per day after the header, like "
              '2027-01-31,90000'),
    series_case('Series: NaN', 'series_nan.toml', 'prices_nan.csv',
              "line 10, price_usd: got 'nan'; expected a number in [0.01, 1e+09], written "
              'with ASCII digits like 90000 or 1.5e3'),
    series_case('Series: negative price', 'series_negative.toml', 'prices_negative.csv',
              "line 8, price_usd: got '-1.0'; expected a number in [0.01, 1e+09]"),
    series_case('Series: non-numeric cell', 'series_non_numeric.toml', 'prices_non_numeric.csv',
              "line 7, price_usd: got '90k'; expected a number in [0.01, 1e+09], written "
              'with ASCII digits like 90000 or 1.5e3'),
    series_case('Series: not UTF-8', 'series_not_utf8.toml', 'prices_not_utf8.csv',
              "line 2: got b'\\xa0000'; expected UTF-8 text (a CSV file)"),
    series_case('Series not covering the horizon', 'series_short.toml', 'prices_short.csv',
              "got 'rows from 2026-11-30 to 2027-01-28'; expected a row for every day of the "
              'horizon, 2026-12-01 to 2027-02-28 (start_date + horizon_days - 1)'),
    series_case('Series: extra cell', 'series_three_cells.toml', 'prices_three_cells.csv',
              "line 6: got '2026-12-04,90000.0,USD'; expected 2 cells, date,price_usd, like "
              '2027-01-31,90000'),
    series_case('Series: unsorted dates', 'series_unsorted.toml', 'prices_unsorted.csv',
              "line 3, date: got '2027-02-28'; expected dates in increasing order (line 2 "
              'has 2027-03-01)'),
    series_case('Series: zero price', 'series_zero.toml', 'prices_zero.csv',
              "line 9, price_usd: got '0'; expected a number in [0.01, 1e+09]"),
)


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("case", SCENARIO_CASES + SERIES_CASES, ids=lambda c: c.id)
def test_bad_scenario_exits_2_with_the_documented_message(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(case.argv, capsys)
    assert (code, err.strip()) == (2, case.message)
    assert out == ""


def test_every_bad_scenario_file_has_a_case() -> None:
    files = {p.name for p in (ROOT / SCENARIOS).glob("*.toml")}
    covered = {Path(c.argv[2]).name for c in SCENARIO_CASES + SERIES_CASES}
    assert files - covered == {"valid.toml", "series_valid.toml"}


# --- CSV series: what a valid one means --------------------------------------------------

def test_series_replace_the_generated_paths_day_by_day() -> None:
    scenario = load_scenario(f"{SCENARIOS}/series_valid.toml")
    # The files start the day before start_date: that row is outside the horizon.
    assert scenario.price_series_usd is not None and scenario.hashrate_series_ehs is not None
    assert len(scenario.price_series_usd) == len(scenario.hashrate_series_ehs) == 90
    assert scenario.btc.price_usd == scenario.price_series_usd[0] == 90100.0
    assert scenario.network.hashrate_ehs == scenario.hashrate_series_ehs[0] == 1000.5
    market = market_paths(scenario)
    np.testing.assert_array_equal(market.price_usd[0], scenario.price_series_usd)
    np.testing.assert_array_equal(market.hashrate_ehs[0], scenario.hashrate_series_ehs)


def test_with_monte_carlo_paths_the_series_is_the_expected_path() -> None:
    base = load_scenario(f"{SCENARIOS}/series_valid.toml")
    scenario = base.with_changes(
        paths=4000, btc=base.btc.__class__(base.btc.price_usd, annual_volatility=0.5,
                                           price_series=base.btc.price_series))
    price = market_paths(scenario).price_usd
    series = np.asarray(scenario.price_series_usd)
    np.testing.assert_array_equal(price[:, 0], series[0])
    assert price.std(axis=0)[-1] > 0.05 * series[-1]  # the shocks do spread the paths
    # Mean-one shocks: the mean over paths tracks the series (sampling error ~0.4 % here).
    np.testing.assert_allclose(price.mean(axis=0), series, rtol=0.02)


def test_a_horizon_longer_than_the_series_is_an_input_error() -> None:
    scenario = load_scenario(f"{SCENARIOS}/series_valid.toml")
    with pytest.raises(InputError, match=r"btc\.price_series: got '90 days of data'"):
        scenario.with_changes(horizon_days=120)
    # Built around the check, the market still refuses it.
    unchecked = dataclasses.replace(scenario, horizon_days=120)
    with pytest.raises(InputError, match=r"btc\.price_series: got '90 days of data'"):
        market_paths(unchecked)


def test_a_horizon_shorter_than_the_series_uses_its_first_days() -> None:
    scenario = load_scenario(f"{SCENARIOS}/series_valid.toml")
    market = market_paths(scenario.with_changes(horizon_days=30))
    np.testing.assert_array_equal(market.price_usd[0], scenario.price_series_usd[:30])


def test_series_tolerates_bom_crlf_blank_lines_and_rows_outside_the_horizon(
    tmp_path: Path,
) -> None:
    rows = [f"{dt.date(2026, 11, 1) + dt.timedelta(days=i)},{1000 + i}" for i in range(60)]
    text = "\ufeffdate,price_usd\r\n" + "\r\n".join(rows) + "\r\n\r\n"
    (tmp_path / "p.csv").write_text(text, encoding="utf-8", newline="")
    values = load_series(tmp_path / "p.csv", PRICE_SERIES, dt.date(2026, 11, 10), 7)
    assert values == tuple(float(1009 + i) for i in range(7))


@pytest.mark.parametrize("value", ["1_000", "\uff19\uff10\uff10\uff10\uff10",
                                   "\u0669\u0660\u0660\u0660\u0660", "90000\u00a0",
                                   "\u00a090000", "infinity", "0x10", "1e", "."])
def test_series_numbers_are_ascii_only(tmp_path: Path, value: str) -> None:
    # Issue 12, finding 15: float() reads 1_000, full-width and Arabic-Indic digits, and
    # str.strip() drops a no-break space, so all of these used to load as numbers.
    rows = [f"{dt.date(2026, 12, 1) + dt.timedelta(days=i)},90000" for i in range(3)]
    rows[1] = rows[1].replace("90000", value)
    (tmp_path / "p.csv").write_text("date,price_usd\n" + "\n".join(rows) + "\n",
                                    encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_series(tmp_path / "p.csv", PRICE_SERIES, dt.date(2026, 12, 1), 3)
    assert (raised.value.where, raised.value.value) == ("line 3, price_usd", value)
    assert "ASCII digits" in raised.value.expected


def test_series_numbers_take_sign_point_exponent_and_ascii_padding(tmp_path: Path) -> None:
    rows = ["2026-12-01, 90000", "2026-12-02,\t+9.0e4 ", "2026-12-03,.5E5", "2026-12-04,90000."]
    (tmp_path / "p.csv").write_text("date,price_usd\n" + "\n".join(rows) + "\n",
                                    encoding="utf-8")
    values = load_series(tmp_path / "p.csv", PRICE_SERIES, dt.date(2026, 12, 1), 4)
    assert values == (90000.0, 90000.0, 50000.0, 90000.0)


def test_a_series_date_in_other_digits_is_an_input_error(tmp_path: Path) -> None:
    date = "\uff12\uff10\uff12\uff16-12-01"  # full-width 2026
    (tmp_path / "p.csv").write_text(f"date,price_usd\n{date},90000\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2, date"):
        load_series(tmp_path / "p.csv", PRICE_SERIES, dt.date(2026, 12, 1), 1)


def test_series_scenario_round_trips_through_toml() -> None:
    source = f"{SCENARIOS}/series_valid.toml"
    scenario = load_scenario(source)
    doc = tomllib.loads(tomli_w.dumps(scenario_to_toml(scenario)))
    assert "price_usd" not in doc["btc"] and "hashrate_ehs" not in doc["network"]
    assert parse_scenario(doc, source) == scenario


def test_the_cli_runs_a_series_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        ("compare", "tests/data/inputs/plans/valid.toml", "--scenario",
         f"{SCENARIOS}/series_valid.toml", "--json"), capsys)
    assert (code, err) == (0, "")
    assert '"btc_mined"' in out


# --- docs/errors.md is the CLI's real output ---------------------------------------------

def _doc_row(case: Case) -> str:
    command = "fleetcalc " + " ".join(case.argv)
    return f"| {case.label} | `{command}` | `` {case.message} `` |"


def render_errors_doc() -> str:
    sections = (
        ("Plans", PLAN_CASES),
        ("Power markets: hourly price files, contracts, 4CP, operating modes", POWER_CASES),
        ("Scenarios", SCENARIO_CASES), ("CSV series", SERIES_CASES),
        ("Files and the command line", FILE_CASES),
        ("Candidates files (`fleetcalc optimize`)", CANDIDATE_CASES),
    )
    lines = [
        "# What fleetcalc says about bad input",
        "",
        "Every bad input ends the command with exit code 2 and one line on stderr naming the",
        "file, the key path (`orders[1].quantity`) or line, the bad value and what is allowed;",
        "never a traceback. The messages below are the CLI's real output for the example files",
        "under `tests/data/inputs/` (run from the repository root); the tests",
        "(`tests/test_plan_errors.py`, `tests/test_validation.py`, `tests/test_files.py`,",
        "`tests/test_optimize_cli.py`) check each one, and this page is regenerated with",
        "`PYTHONPATH=. python -m tests.test_validation`.",
        "",
        "Unknown keys are errors everywhere, so a typo never falls back to a default.",
        "",
        "CSV series: `btc.price_series = \"prices.csv\"` (columns `date,price_usd`) and",
        "`network.hashrate_series = \"hashrate.csv\"` (columns `date,hashrate_ehs`), read",
        "relative to the scenario file. One row per day, sorted, no gaps or duplicates, covering",
        "every day from `start_date` to `start_date + horizon_days - 1` (rows outside are",
        "ignored); prices in [0.01, 1e9] USD, hashrates in [1e-6, 1e9] EH/s, written with ASCII",
        "digits (`90000`, `-1.5e3`; no `1_000`, other scripts' digits or no-break spaces). A",
        "series replaces the generated path, so `price_usd`/`annual_drift` (or",
        "`hashrate_ehs`/`monthly_growth`) must not be given with it. With `paths > 1` the",
        "series is the expected path: each",
        "Monte Carlo path multiplies it by mean-one lognormal shocks with the scenario's",
        "`annual_volatility`. Errors name the CSV file and its line.",
        "",
        "Hourly power prices: `site.power_price_series = \"prices.csv\"` (columns",
        "`timestamp,usd_per_mwh`), read relative to the plan file. One row per hour with an",
        "ISO 8601 offset or `Z`, in order, no gaps or repeats, whole days from 00:00 to 23:00",
        "in the first row's offset; negative prices are valid. A series shorter than the",
        "horizon must hold at least one whole year: it repeats by calendar year.",
    ]
    for title, cases in sections:
        lines += ["", f"## {title}", "",
                  "| Bad input | Command | Message on stderr (exit code 2) |", "|---|---|---|"]
        lines += [_doc_row(case) for case in cases]
    return "\n".join([*lines, *BATCH_RUN_SECTION]) + "\n"


# What a batch run says when something other than its input stops it (file names, keys and
# process ids vary; `tests/test_batch_faults.py` and `tests/test_io.py` check each message).
_KEPT = "finished units are kept in results.csv.parts: re-run with --resume to finish"
BATCH_RUN_SECTION = (
    "",
    "## Batch runs: a second run, read-only files, the disk, signals, lost workers",
    "",
    "| Situation | Exit code | Message on stderr |",
    "|---|---|---|",
    "| Another run is writing the same `--out` (with or without `--force`; nothing is touched) "
    "| 2 | `fleetcalc: error: command line: --out: got 'results.csv'; expected an output no "
    "other run is writing (results.csv.lock is held by process 4242: wait for that run to end, "
    "or choose another --out)` |",
    "| `--out` (or `--per-path`) is read-only, even with `--force` | 2 | `fleetcalc: error: "
    "command line: --out: got 'results.csv'; expected a writable file (results.csv is "
    "read-only, mode 0444: make it writable or choose another path)` |",
    "| The disk fills up (a checkpoint or a table) | 1 | `fleetcalc: error: disk full writing "
    "results.csv.parts/<key>.paths.parquet (No space left on device): free some space or "
    f"write to another disk; {_KEPT}` |",
    "| Another OS error while writing | 1 | `fleetcalc: error: cannot write "
    f"results.csv.parts/<key>.paths.parquet: File too large; {_KEPT}` |",
    "| A worker process is killed (e.g. by the OOM killer) | 1 | `fleetcalc: error: a worker "
    f"process was lost (killed, or out of memory); {_KEPT}` |",
    f"| Ctrl-C | 130 | `fleetcalc: interrupted (SIGINT); {_KEPT}` |",
    f"| SIGTERM | 143 | `fleetcalc: interrupted (SIGTERM); {_KEPT}` |",
    "| `--resume` finds a damaged or swapped checkpoint (the run goes on) | - | "
    "`fleetcalc: warning: checkpoint results.csv.parts/<key>.summary.parquet: holds the rows "
    "of another unit (<other key>); evaluating that unit again (plans/a.toml, variant 0)` |",
    "| The app saves over a read-only file (shown in the dialog) | - | `plan.toml: got "
    "'read-only (mode 0444)'; expected a writable file: make it writable (chmod u+w) or write "
    "to another name` |",
    "",
    "Temporary files a killed run left beside its outputs are removed by the next run on the "
    "same `--out` (`fleetcalc batch: removed 2 temporary file(s) an interrupted run left "
    "behind`, unless `--quiet`).",
)


def test_errors_doc_lists_every_case_with_its_real_message() -> None:
    assert ERRORS_DOC.read_text(encoding="utf-8") == render_errors_doc(), (
        "docs/errors.md is stale: run `PYTHONPATH=. python -m tests.test_validation`")


if __name__ == "__main__":
    ERRORS_DOC.parent.mkdir(exist_ok=True)
    ERRORS_DOC.write_text(render_errors_doc(), encoding="utf-8")
    print(f"wrote {ERRORS_DOC}", file=sys.stderr)


# --- nesting (issue 12, finding 6) -------------------------------------------------------

@pytest.mark.parametrize("text", [
    "x = " + "[" * 5000 + "]" * 5000,
    "x = " + "{a = " * 5000 + "1" + "}" * 5000,
    ".".join(["a"] * 5000) + " = 1",
    "[" + ".".join(["a"] * 5000) + "]",
    "x = " + "[" * 17 + "]" * 17,
], ids=["arrays", "inline_tables", "dotted_keys", "table_header", "just_too_deep"])
def test_nesting_deeper_than_the_limit_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_toml_text(text, "deep.toml")
    assert raised.value.value == f"(nested more than {MAX_NESTING} levels deep)"
    assert len(str(raised.value)) < 300


def test_nesting_up_to_the_limit_parses() -> None:
    doc = parse_toml_text("x = " + "[" * 16 + "]" * 16, "deep.toml")
    depth = 0
    value = doc
    while isinstance(value, dict | list) and value:
        value = value["x"] if isinstance(value, dict) else value[0]
        depth += 1
    assert depth == 16
