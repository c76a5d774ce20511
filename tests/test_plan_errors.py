"""Every plan validation error, through the CLI: the exact one-line message and exit code 2.

Each case is a committed file under ``tests/data/inputs/plans`` and the message a user sees for
it; ``docs/errors.md`` is rendered from these cases (see ``tests/test_validation.py``), so the
table there is the CLI's real output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fleetcalc.cli import main
from fleetcalc.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
PLANS = "tests/data/inputs/plans"


@dataclass(frozen=True)
class Case:
    """One class of bad input: what is wrong, the command, and the message on stderr."""

    label: str
    argv: tuple[str, ...]
    message: str

    @property
    def id(self) -> str:
        return Path(self.argv[1] if self.argv[1] != "--scenario" else self.argv[2]).stem


def plan_case(label: str, file: str, message: str) -> Case:
    path = f"{PLANS}/{file}"
    return Case(label, ("compare", path, "--json"), f"fleetcalc: error: {path}: {message}")


PLAN_CASES: tuple[Case, ...] = (
    plan_case("Unknown model", "unknown_model.toml",
              "orders[0].model: got 'antminer-s21-xpp'; expected a catalog model id (see "
              "`fleetcalc catalog`); closest: antminer-s21-xp, antminer-s19-xp, antminer-s21-pro"),
    plan_case("Origin not an ISO code", "origin_not_iso.toml",
              "orders[0].origin: got 'Malaysia'; expected an ISO 3166 alpha-2 country code "
              "like 'MY' (uppercase)"),
    plan_case("Origin not an assigned ISO code", "origin_unassigned.toml",
              "orders[0].origin: got 'XX'; expected an ISO 3166 alpha-2 country code like 'MY' "
              "(uppercase)"),
    plan_case("Origin in lowercase", "origin_lowercase.toml",
              "orders[0].origin: got 'my'; expected an ISO 3166 alpha-2 country code like 'MY' "
              "(uppercase)"),
    plan_case("Model not built in that origin", "origin_not_built.toml",
              "orders[0].origin: got 'CN'; expected an origin Antminer S21 XP is built in: "
              "MY, ID, TH, US"),
    plan_case("Order breaking exclude_origins", "excluded_origin.toml",
              "orders[0].origin: got 'MY'; expected an origin not excluded by exclude_origins "
              "['MY']"),
    plan_case("exclude_origins not a list", "exclude_origins_bad.toml",
              "exclude_origins: got 'CN'; expected a list of ISO 3166 alpha-2 country codes "
              "like ['CN']"),
    plan_case("Power over site capacity", "over_capacity.toml",
              "site.capacity_mw: got 1.0; expected at least the 1.093 MW the orders draw"),
    plan_case("Delivery before import", "delivery_before_import.toml",
              "orders[0].delivery_date: got '2026-12-01'; expected a date on or after "
              "import_date (2026-12-15)"),
    plan_case("Zero quantity", "quantity_zero.toml",
              "orders[0].quantity: got 0; expected an integer in [1, 10000000]"),
    plan_case("Negative quantity", "quantity_negative.toml",
              "orders[0].quantity: got -5; expected an integer in [1, 10000000]"),
    plan_case("Fractional quantity", "quantity_float.toml",
              "orders[0].quantity: got 10.5; expected an integer in [1, 10000000]"),
    plan_case("Bad value in a later order", "second_order_bad.toml",
              "orders[1].quantity: got 0; expected an integer in [1, 10000000]"),
    plan_case("Zero unit price", "price_zero.toml",
              "orders[0].unit_price_usd: got 0.0; expected a number in [0.01, 1e+07]"),
    plan_case("Negative USD per TH", "price_negative_per_th.toml",
              "orders[0].usd_per_th: got -12.0; expected a number in [0.001, 100000]"),
    plan_case("NaN in a number", "nan_price.toml",
              "orders[0].unit_price_usd: got nan; expected a number in [0.01, 1e+07]"),
    plan_case("Infinity in a number", "inf_capacity.toml",
              "site.capacity_mw: got inf; expected a number in (0, 100000]"),
    plan_case("Both unit_price_usd and usd_per_th", "price_both.toml",
              "orders[0].usd_per_th: got 14.0; expected either unit_price_usd or usd_per_th, "
              "not both"),
    plan_case("No price", "price_missing.toml",
              "orders[0].unit_price_usd: got '(missing)'; expected a unit price in USD "
              "(or usd_per_th)"),
    plan_case("Delivery before the scenario starts", "delivery_before_horizon.toml",
              "orders[0].delivery_date: got '2026-11-01'; expected a date inside the scenario "
              "horizon: from 2026-12-01 to 2031-11-30"),
    plan_case("Delivery after the horizon", "delivery_after_horizon.toml",
              "orders[0].delivery_date: got '2032-06-01'; expected a date inside the scenario "
              "horizon: from 2026-12-01 to 2031-11-30"),
    plan_case("Date out of the model's range", "date_out_of_range.toml",
              "orders[0].import_date: got '1999-01-01'; expected a date like 2027-01-31, from "
              "2009-01-03 to 2199-12-31"),
    plan_case("Date written as a string", "date_string.toml",
              "orders[0].import_date: got '2026-12-15'; expected a date like 2027-01-31, from "
              "2009-01-03 to 2199-12-31"),
    plan_case("Date with a time", "datetime_not_date.toml",
              "orders[0].import_date: got '2026-12-15T08:00:00'; expected a date like "
              "2027-01-31, from 2009-01-03 to 2199-12-31"),
    plan_case("Unknown key (top level)", "unknown_key_top.toml",
              "budget_usd: got 'budget_usd'; expected one of the keys assumptions, "
              "exclude_origins, finance, name, orders, site, sites"),
    plan_case("Unknown key (site)", "unknown_key_site.toml",
              "site.capacity_kw: got 'capacity_kw'; expected one of the keys build, "
              "build_usd_per_mw, capacity_mw, curtail_when_unprofitable, "
              "fixed_opex_usd_per_mw_month, four_cp, four_cp_peaks, hosting_usd_per_kw_month, "
              "hosting_usd_per_kwh, power_adder_usd_per_kwh, power_contract, power_price_series, "
              "power_usd_per_kwh, pue, sell_back, take_or_pay_share, "
              "transmission_usd_per_kw_year, uptime"),
    plan_case("Unknown key (order, a typo)", "unknown_key_order.toml",
              "orders[0].quantiy: got 'quantiy'; expected one of the keys annual_degradation, "
              "annual_failure_rate, balance_days_before_import, cooling, delivery_date, "
              "deposit_share, freight_usd_per_unit, hashrate_th, import_date, "
              "install_usd_per_unit, mode, model, modes, order_date, origin, power_w, quantity, "
              "repair_cost_usd, repair_days, service_life_years, shipped_by, site, "
              "unit_price_usd, usd_per_th"),
    plan_case("Mode the model does not have", "unknown_mode.toml",
              "orders[0].mode: got 'overdrive'; expected a mode of Antminer S21 XP: stock, eco, "
              "turbo"),
    plan_case("Wrong type (string for an integer)", "quantity_string.toml",
              "orders[0].quantity: got '10'; expected an integer in [1, 10000000]"),
    plan_case("Wrong type (string for a number)", "capacity_string.toml",
              "site.capacity_mw: got '1 MW'; expected a number in (0, 100000]"),
    plan_case("Wrong type (string for a boolean)", "curtail_not_bool.toml",
              "site.curtail_when_unprofitable: got 'yes'; expected true or false"),
    plan_case("Zero site capacity", "capacity_zero.toml",
              "site.capacity_mw: got 0.0; expected a number in (0, 100000]"),
    plan_case("Uptime over 1", "uptime_over_one.toml",
              "site.uptime: got 1.5; expected a number in [0, 1]"),
    plan_case("PUE below 1", "pue_below_one.toml",
              "site.pue: got 0.9; expected a number in [1, 3]"),
    plan_case("Power over site capacity, counted with PUE", "over_capacity_pue.toml",
              "site.capacity_mw: got 0.1; expected at least the 0.109 MW the orders draw "
              "(IT load 0.036 MW x PUE 3)"),
    plan_case("Take-or-pay share over 1", "take_or_pay_over_one.toml",
              "site.take_or_pay_share: got 1.2; expected a number in [0, 1]"),
    plan_case("Unknown build basis", "build_unknown.toml",
              "site.build: got 'campus'; expected one of 'plan', 'site'"),
    plan_case("Negative build cost per MW", "build_cost_negative.toml",
              "site.build_usd_per_mw: got -500000.0; expected a number in [0, 1e+08]"),
    plan_case("Fixed opex as text", "fixed_opex_string.toml",
              "site.fixed_opex_usd_per_mw_month: got '7300 a month'; expected a number in "
              "[0, 1e+07]"),
    plan_case("Negative hosting fee per kW", "hosting_per_kw_negative.toml",
              "site.hosting_usd_per_kw_month: got -5.0; expected a number in [0, 10000]"),
    plan_case("Unknown residual model", "residual_unknown.toml",
              "finance.residual: got 'book'; expected one of 'market', 'fixed'"),
    plan_case("residual_fraction with market resale", "residual_fraction_with_market.toml",
              "finance.residual_fraction: got 0.1; expected no residual_fraction with residual "
              "= \"market\" (the market prices the units; residual = \"fixed\" resells them at "
              "a share of their price)"),
    plan_case("Plan assumptions not a list", "assumptions_not_list.toml",
              "assumptions: got 'power price from a 2026 quote'; expected a list of non-empty "
              "strings"),
    plan_case("Discount rate out of range", "discount_rate_bad.toml",
              "finance.discount_rate: got -1.5; expected a number in [-0.99, 10]"),
    plan_case("Order date after import", "order_date_after_import.toml",
              "orders[0].order_date: got '2027-01-01'; expected a date on or before import_date "
              "(2026-12-15)"),
    plan_case("Deposit share over 1", "deposit_share_over_one.toml",
              "orders[0].deposit_share: got 1.3; expected a number in [0, 1]"),
    plan_case("Negative balance days", "balance_days_negative.toml",
              "orders[0].balance_days_before_import: got -10; expected an integer in [0, 3650]"),
    plan_case("Unknown shipping mode", "shipped_by_bad.toml",
              "orders[0].shipped_by: got 'rail'; expected one of 'sea', 'air'"),
    plan_case("Debt without a loan rate", "debt_without_rate.toml",
              "finance.debt_rate: got '(missing)'; expected the loan's annual rate, as "
              "debt_share is 0.6 (a number in [0, 1]: 0.1 is 10%)"),
    plan_case("Zero loan term", "debt_term_zero.toml",
              "finance.debt_term_years: got 0; expected a number in (0, 30]"),
    plan_case("Tax rate in percent", "tax_rate_percent.toml",
              "finance.tax_rate: got 21; expected a number in [0, 0.99]"),
    plan_case("Unknown depreciation method", "depreciation_bad.toml",
              "finance.depreciation: got 'macrs7'; expected one of 'macrs5', 'straight_line'"),
    plan_case("MACRS 5-year over another period", "macrs_years.toml",
              "finance.depreciation_years: got 3; expected 5 with depreciation = 'macrs5' (its "
              "recovery period), or depreciation = 'straight_line'"),
    plan_case("Bonus depreciation over 1", "bonus_over_one.toml",
              "finance.bonus_depreciation: got 1.5; expected a number in [0, 1]"),
    plan_case("Unknown cooling type", "cooling_bad.toml",
              "orders[0].cooling: got 'oil'; expected one of 'air', 'hydro', 'immersion'"),
    plan_case("Custom unit without power_w", "custom_missing_power.toml",
              "orders[0].power_w: got '(missing)'; expected both hashrate_th and power_w for "
              "a custom unit"),
    plan_case("Missing required key (name)", "missing_name.toml",
              "name: got '(missing)'; expected a non-empty string of at most 200 characters"),
    plan_case("Missing required key (order origin)", "missing_origin.toml",
              "orders[0].origin: got '(missing)'; expected an ISO 3166 alpha-2 country code "
              "like 'MY' (uppercase)"),
    plan_case("Missing required key (site power price)", "missing_power_price.toml",
              "site.power_usd_per_kwh: got '(missing)'; expected a number in [0, 10]"),
    plan_case("Missing [site] table", "missing_site.toml",
              "site: got '(missing)'; expected a table"),
    plan_case("Both [site] and [[sites]]", "sites_and_site.toml",
              "sites: got '(both [site] and [[sites]])'; expected either one [site] table or "
              "[[sites]] tables, each with a name"),
    plan_case("[sites] instead of [[sites]]", "sites_single_table.toml",
              "sites: got '(a single [sites] table)'; expected at least one [[sites]] table"),
    plan_case("A site without a name", "sites_missing_name.toml",
              "sites[0].name: got '(missing)'; expected a site name of letters, digits, spaces "
              "and _.- (at most 40)"),
    plan_case("A site name with a slash", "sites_bad_name.toml",
              "sites[1].name: got 'south/east'; expected a site name of letters, digits, "
              "spaces and _.- (at most 40)"),
    plan_case("Two sites of one name", "sites_duplicate_name.toml",
              "sites[1].name: got 'north'; expected a name no other [[sites]] table has"),
    plan_case("Order naming no site of the plan", "sites_unknown_site.toml",
              "orders[1].site: got 'west'; expected the name of one of the plan's sites: "
              "'north', 'south'"),
    plan_case("Order naming no site (several sites)", "sites_order_without_site.toml",
              "orders[1].site: got '(missing)'; expected the name of one of the plan's sites: "
              "'north', 'south'"),
    plan_case("A site no order names", "sites_site_without_orders.toml",
              "sites[1].name: got 'south'; expected a site at least one order names (remove a "
              "site with no orders)"),
    plan_case("Power over one site's capacity", "sites_over_capacity.toml",
              "sites[1].capacity_mw: got 1.0; expected at least the 1.093 MW the orders draw"),
    plan_case("No orders", "missing_orders.toml",
              "orders: got '(missing)'; expected at least one [[orders]] table"),
    plan_case("Empty orders array", "orders_empty.toml",
              "orders: got []; expected at least one [[orders]] table"),
    plan_case("[orders] instead of [[orders]]", "orders_single_table.toml",
              "orders: got '(a single [orders] table)'; expected at least one [[orders]] table"),
    plan_case("Order that is not a table", "orders_not_table.toml",
              "orders[0]: got 'antminer-s21-xp'; expected a table"),
    plan_case("Empty file", "empty.toml",
              "name: got '(missing)'; expected a non-empty string of at most 200 characters"),
    plan_case("TOML syntax error", "syntax_error.toml",
              "line 9, column 15: got 'quantity = 10 units'; expected valid TOML (expected "
              "newline or end of document after a statement)"),
    plan_case("TOML syntax error (unclosed string)", "unclosed_string.toml",
              "line 1, column 20: got 'name = \"Broken plan'; expected valid TOML (illegal "
              "character '\\n')"),
    plan_case("Not UTF-8", "not_utf8.toml",
              "line 1: got b'\\xe9, 1'; expected UTF-8 text (a TOML file)"),
    plan_case("Random bytes", "random_bytes.toml",
              "line 2: got b'\\x80\\x81\\x82\\x83'; expected UTF-8 text (a TOML file)"),
    # Issue 12, finding 5: a 1 MB name peaked at 2.1 GB (it was repeated in every daily row).
    plan_case("Name longer than 200 characters", "name_too_long.toml",
              "name: got '" + ("Texas site, 10 MW " * 12)[:200] + "'... (216 characters); "
              "expected a non-empty string of at most 200 characters"),
    # Issue 12, finding 8: a 27 PH/s fleet on a 1 TH/s network mined 9.4e9 BTC.
    plan_case("Fleet above 10% of the network", "fleet_over_network_share.toml",
              "orders: got '100,000 PH/s in service on 2031-11-30'; expected a fleet of at "
              "most 10% of the network's hashrate, which includes it (the scenario's network "
              "has 777.6 EH/s that day, so at most 77,760 PH/s): a larger fleet would move "
              "difficulty itself, which the model takes from the scenario"),
    # Issue 12, finding 6: 5,000 nested arrays (10 KB) gave "internal error: RecursionError".
    plan_case("Arrays nested 5,000 deep", "nesting_deep_array.toml",
              "line 2: got '(nested more than 16 levels deep)'; expected arrays and tables "
              "nested at most 16 levels deep"),
    plan_case("Dotted keys nested 42 deep", "nesting_deep_keys.toml",
              "site.power_usd_per_kwh" + ".a" * 15 + ": got '(nested more than 16 levels "
              "deep)'; expected arrays and tables nested at most 16 levels deep"),
)


def run_cli(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Messages name files as given on the command line: relative to the repository root.
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("case", PLAN_CASES, ids=lambda c: c.id)
def test_bad_plan_exits_2_with_the_documented_message(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(case.argv, capsys)
    assert (code, err.strip()) == (2, case.message)
    assert out == ""
    assert "Traceback" not in err


def test_every_bad_plan_file_has_a_case() -> None:
    files = {p.name for p in (ROOT / PLANS).glob("*.toml")} - {"valid.toml"}
    assert files == {Path(c.argv[1]).name for c in PLAN_CASES}


def test_the_valid_plan_the_cases_mutate_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(("compare", f"{PLANS}/valid.toml", "--json"), capsys)
    assert (code, err) == (0, "")
    assert '"units": 10' in out


def test_a_control_character_in_a_key_is_shown_escaped_on_one_line() -> None:
    error = InputError("plan\r.toml", "orders[0].\n", "\n", "one of the keys model")
    assert str(error) == r"plan\r.toml: orders[0].\n: got '\n'; expected one of the keys model"
