"""The app's edit and file logic without the UI: typed text -> validated plans and scenarios,
tariff overrides as text, atomic files."""

from __future__ import annotations

import contextlib
import datetime as dt
import string
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc.catalog import get_model
from fleetcalc.errors import InputError
from fleetcalc.plan import Plan, default_plans, load_plan, plan_to_toml
from fleetcalc.scenario import Scenario, load_scenario
from fleetcalc.tariffs import TariffOverride
from tui import edits, files
from tui.changes import mark_edited, scenario_changes

# Width of the forms' label column (app.tcss: .field-label), less the space before the field.
LABEL_COLUMN = 27

PLANS = default_plans()
SCENARIO = load_scenario(None)
# The Bitmain default plan on a 40 MW site: the shipped plan fills its 25 MW, and the edits
# below add units, raise a unit's power or switch to a hungrier model.
BITMAIN = PLANS[0].with_site(capacity_mw=40.0)
# Units of that plan that fit its site (IT load x PUE).
MAX_BITMAIN_UNITS = int(BITMAIN.site.capacity_mw * 1e6
                        // (get_model("antminer-s23").power_w * BITMAIN.site.pue))
# The default plans before issue 13 re-based them: an S21 XP (three modes) and an A16XP
# priced per TH.
LEGACY = Path(__file__).parent / "pins" / "legacy_plans"
S21_XP = load_plan(LEGACY / "1-bitmain.toml")
CANAAN_PER_TH = load_plan(LEGACY / "3-canaan.toml")

overrides = st.builds(
    TariffOverride,
    origin=st.text(string.ascii_uppercase, min_size=2, max_size=2),
    program=st.text(string.ascii_lowercase + string.digits + "_", min_size=1, max_size=12),
    rate=st.integers(0, 100_000).map(lambda basis_points: basis_points / 100 / 100),
    effective_from=st.dates(dt.date(2000, 1, 1), dt.date(2060, 12, 31)),
    effective_to=st.none() | st.dates(dt.date(2061, 1, 1), dt.date(2099, 12, 31)),
)


@given(overrides)
def test_override_text_round_trips(override: TariffOverride) -> None:
    assert edits.parse_override(edits.override_text(override)) == override


@given(st.text(max_size=40))
def test_override_text_that_does_not_parse_raises_input_error(text: str) -> None:
    try:
        override = edits.parse_override(text)
    except InputError as error:
        assert "MY reciprocal 40% from 2027-01-01" in error.expected
    else:
        assert edits.parse_override(edits.override_text(override)) == override


@given(st.integers(1, MAX_BITMAIN_UNITS), st.booleans())
def test_a_typed_quantity_sets_exactly_that_quantity(quantity: int, separators: bool) -> None:
    text = f"{quantity:,}" if separators else str(quantity)
    edited = edits.edit_plan(BITMAIN, SCENARIO, "orders", "quantity", text)
    assert edited == BITMAIN.with_order(0, quantity=quantity)


@pytest.mark.parametrize("text", ["-5", "0", "abc", "2.5", "", f"{MAX_BITMAIN_UNITS + 1}"])
def test_an_invalid_quantity_raises_input_error_naming_the_field(text: str) -> None:
    with pytest.raises(InputError) as caught:
        edits.edit_plan(BITMAIN, SCENARIO, "orders", "quantity", text)
    assert caught.value.where in ("orders[0].quantity", "site.capacity_mw")


def test_a_delivery_outside_the_horizon_is_rejected() -> None:
    late = (SCENARIO.end_date + dt.timedelta(days=1)).isoformat()
    with pytest.raises(InputError, match="horizon"):
        edits.edit_plan(BITMAIN, SCENARIO, "orders", "delivery_date", late)
    with pytest.raises(InputError, match="delivery_date"):
        edits.edit_plan(BITMAIN, SCENARIO, "orders", "delivery_date", "2026-12-01")  # before import


def test_a_typed_unit_price_replaces_a_usd_per_th_price() -> None:
    canaan = CANAAN_PER_TH
    assert canaan.orders[0].usd_per_th is not None
    edited = edits.edit_plan(canaan, SCENARIO, "orders", "unit_price_usd", "5,000")
    assert edited.orders[0].unit_price_usd == 5000.0
    assert edited.orders[0].usd_per_th is None


@pytest.mark.parametrize("model_id", ["whatsminer-m70s", "avalon-a16xp", "teraflux-at2880"])
def test_changing_model_keeps_a_valid_origin_and_prices_the_new_model(model_id: str) -> None:
    spec = get_model(model_id)
    edited = edits.change_model(BITMAIN, SCENARIO, 0, model_id).plan
    order = edited.orders[0]
    assert order.model == model_id
    assert order.origin in spec.origins
    if BITMAIN.orders[0].origin in spec.origins:
        assert order.origin == BITMAIN.orders[0].origin
    if spec.price_usd is not None:
        assert order.unit_price_usd == spec.price_usd


def test_an_origin_the_model_is_not_built_in_is_rejected() -> None:
    with pytest.raises(InputError, match="origin"):
        edits.edit_plan(BITMAIN, SCENARIO, "orders", "origin", "KZ")


def test_scenario_edits_are_validated_by_the_scenario_parser() -> None:
    edited = edits.edit_scenario(SCENARIO, "", "paths", "50")
    assert edited == SCENARIO.with_changes(paths=50)
    assert edits.edit_scenario(SCENARIO, "network", "pool_fee", "0.03").network.pool_fee == 0.03
    with pytest.raises(InputError, match="pool_fee"):
        edits.edit_scenario(SCENARIO, "network", "pool_fee", "2")
    with pytest.raises(InputError, match="price_usd"):
        edits.edit_scenario(SCENARIO, "btc", "price_usd", "lots")


@given(st.integers(1, MAX_BITMAIN_UNITS), st.sampled_from(PLANS))
def test_a_saved_plan_loads_back_equal(quantity: int, plan: Plan) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        edited = plan.with_order(0, quantity=min(quantity, plan.orders[0].quantity))
        path = files.save_plan(edited, Path(folder) / "plan.toml")
        assert plan_to_toml(load_plan(path)) == plan_to_toml(edited)


def test_export_needs_a_csv_or_parquet_name(tmp_path: Path) -> None:
    frame = pl.DataFrame({"plan": ["a"], "npv_usd": [1.0]})
    with pytest.raises(InputError, match=r"\.csv or \.parquet"):
        files.export_summary(frame, tmp_path / "out.xlsx")
    assert pl.read_csv(files.export_summary(frame, tmp_path / "out.csv")).equals(frame)


@given(st.integers(0, 10**12) | st.floats(0, 1e9, allow_nan=False, allow_infinity=False))
def test_numbers_shown_in_fields_read_back(value: float) -> None:
    kind = "int" if isinstance(value, int) else "float"
    assert edits.coerce(edits.value_text(value), kind) == pytest.approx(value, rel=1e-6, abs=1e-6)


# -- every key of every table, typed as text -------------------------------------------------

# A valid new value, as typed, for each key of the default plans' tables and the default
# scenario's; (table, key) -> (text, the value the object then holds).
PLAN_SAMPLES: dict[tuple[str, str], tuple[str, Any]] = {
    ("", "name"): ("Renamed", "Renamed"),
    ("", "exclude_origins"): ("CN, HK", ("CN", "HK")),
    ("site", "power_usd_per_kwh"): ("0.06", 0.06),
    ("site", "hosting_usd_per_kwh"): ("0.01", 0.01),
    ("site", "capacity_mw"): ("30", 30.0),
    ("site", "uptime"): ("0.9", 0.9),
    ("site", "curtail_when_unprofitable"): ("false", False),
    ("site", "hosting_usd_per_kw_month"): ("4.5", 4.5),
    ("site", "take_or_pay_share"): ("0.8", 0.8),
    ("site", "pue"): ("1", 1.0),  # the default Bitmain plan fills its site: a lower PUE fits
    ("site", "build"): ("plan", "plan"),
    ("site", "build_usd_per_mw"): ("300,000", 300_000.0),
    ("site", "fixed_opex_usd_per_mw_month"): ("5000", 5000.0),
    ("finance", "residual"): ("fixed", "fixed"),
    ("", "assumptions"): ("power from a quote, 2026; build cost assumed",
                          ("power from a quote, 2026", "build cost assumed")),
    ("finance", "discount_rate"): ("0.2", 0.2),
    ("finance", "residual_fraction"): ("0.05", 0.05),  # switches resale to fixed
    ("finance", "hodl_fraction"): ("0.5", 0.5),
    ("orders", "model"): ("antminer-s21-pro", "antminer-s21-pro"),
    ("orders", "quantity"): ("1,000", 1000),
    ("orders", "unit_price_usd"): ("4,000.5", 4000.5),
    ("orders", "usd_per_th"): ("15", 15.0),
    ("orders", "origin"): ("ID", "ID"),
    ("orders", "import_date"): ("2026-12-10", dt.date(2026, 12, 10)),
    ("orders", "delivery_date"): ("2027-02-01", dt.date(2027, 2, 1)),
    ("orders", "mode"): ("stock", "stock"),
    ("orders", "hashrate_th"): ("250", 250.0),
    ("orders", "power_w"): ("3,500", 3500.0),
    ("orders", "cooling"): ("hydro", "hydro"),
    ("orders", "annual_degradation"): ("0.04", 0.04),
    ("orders", "annual_failure_rate"): ("0.2", 0.2),
    ("orders", "repair_days"): ("7", 7),
    ("orders", "repair_cost_usd"): ("250", 250.0),
    ("orders", "service_life_years"): ("4", 4.0),
    ("orders", "freight_usd_per_unit"): ("40", 40.0),
    ("orders", "install_usd_per_unit"): ("25", 25.0),
}
SCENARIO_SAMPLES: dict[tuple[str, str], tuple[str, Any]] = {
    ("", "name"): ("Stress", "Stress"),
    ("", "start_date"): ("2026-11-01", dt.date(2026, 11, 1)),
    ("", "horizon_days"): ("2,000", 2000),
    ("", "seed"): ("7", 7),
    ("", "paths"): ("50", 50),
    ("", "failures"): ("sampled", "sampled"),
    ("btc", "price_usd"): ("120,000", 120_000.0),
    ("btc", "annual_drift"): ("0.1", 0.1),
    ("btc", "annual_volatility"): ("0.7", 0.7),
    ("network", "hashrate_ehs"): ("1,000", 1000.0),
    ("network", "difficulty"): ("1.5e14", 1.5e14),
    ("network", "monthly_growth"): ("0.02", 0.02),
    ("network", "annual_volatility"): ("0.3", 0.3),
    ("network", "price_correlation"): ("-0.2", -0.2),
    ("network", "block_height"): ("978,000", 978_000),
    ("network", "fees_btc_per_block"): ("0.05", 0.05),
    ("network", "pool_fee"): ("0.03", 0.03),
    ("origin_risk", "deemed"): ("MY", "MY"),
    ("origin_risk", "us_assembled_deemed"): ("true", True),
}
# Keys that name a series file (tested below with one).
PAIRED = {("btc", "price_series"), ("network", "hashrate_series")}


def all_keys(tables: dict[str, tuple[Any, ...]]) -> list[tuple[str, str]]:
    return [(table, field.name) for table, fields in tables.items() for field in fields]


@pytest.mark.parametrize("table, key", all_keys(edits.PLAN_TABLES))
def test_every_plan_key_typed_as_text_sets_it(table: str, key: str) -> None:
    if (table, key) not in PLAN_SAMPLES:
        # A key added since: it is editable (its form row comes from the same table); what a
        # valid value is, this test cannot guess, but a typed value never breaks the editor.
        with contextlib.suppress(InputError):
            edits.edit_plan(BITMAIN, SCENARIO, table, key, "1")
        return
    text, expected = PLAN_SAMPLES[(table, key)]
    edited = edits.edit_plan(BITMAIN, SCENARIO, table, key, text)
    assert getattr(edits.plan_part(edited, table), key) == expected
    assert plan_to_toml(load_plan_doc(edited)) == plan_to_toml(edited)


def test_resale_switches_between_market_and_a_fixed_share() -> None:
    assert BITMAIN.finance.residual == "market"
    fixed = edits.edit_plan(BITMAIN, SCENARIO, "finance", "residual_fraction", "0.25")
    assert (fixed.finance.residual, fixed.finance.residual_fraction) == ("fixed", 0.25)
    back = edits.edit_plan(fixed, SCENARIO, "finance", "residual", "market")
    assert back.finance == BITMAIN.finance


def test_a_custom_unit_takes_the_other_figure_from_the_model_until_cleared() -> None:
    spec = get_model(BITMAIN.orders[0].model or "")
    custom = edits.edit_plan(BITMAIN, SCENARIO, "orders", "power_w", "3,500")
    assert (custom.orders[0].hashrate_th, custom.orders[0].power_w) == (spec.hashrate_th, 3500)
    back = edits.edit_plan(custom, SCENARIO, "orders", "hashrate_th", "")
    assert back == BITMAIN


def load_plan_doc(plan: Plan) -> Plan:
    from fleetcalc.plan import parse_plan

    return parse_plan(plan_to_toml(plan), plan.source)


@pytest.mark.parametrize("table, key", all_keys(edits.SCENARIO_TABLES))
def test_every_scenario_key_typed_as_text_sets_it(table: str, key: str) -> None:
    if (table, key) in PAIRED:
        return  # below, with a series file
    if (table, key) not in SCENARIO_SAMPLES:
        with contextlib.suppress(InputError):  # a key added since (see the plan test)
            edits.edit_scenario(SCENARIO, table, key, "1")
        return
    text, expected = SCENARIO_SAMPLES[(table, key)]
    edited = edits.edit_scenario(reading(table, key), table, key, text)
    assert getattr(edits.scenario_part(edited, table), key) == expected


def reading(table: str, key: str) -> Scenario:
    """The default scenario, on the network model that reads ``[table].key``."""
    from fleetcalc.scenario import EXOGENOUS_ONLY_KEYS

    if table == "network" and key in EXOGENOUS_ONLY_KEYS:
        return edits.edit_scenario(SCENARIO, "network", "model", "exogenous")
    return SCENARIO


def test_the_sample_tables_cover_todays_keys() -> None:
    """Every key of today's tables has a sample above (a key added later is still checked not
    to break the editor, by the fallback in the tests above)."""
    from fleetcalc.catalog import UNIT_FIGURE_FIELDS

    plan_keys = {("", "name"), ("", "exclude_origins"),
                 *(("site", k) for k in ("power_usd_per_kwh", "hosting_usd_per_kwh",
                                         "capacity_mw", "uptime", "curtail_when_unprofitable")),
                 *(("finance", k) for k in ("discount_rate", "residual_fraction",
                                            "hodl_fraction")),
                 *(("orders", f.name) for f in UNIT_FIGURE_FIELDS)}
    assert plan_keys <= set(PLAN_SAMPLES)
    assert {("", k) for k in ("start_date", "horizon_days", "failures")} <= set(
        SCENARIO_SAMPLES)


def test_a_blank_field_takes_the_default_or_is_missing() -> None:
    edited = edits.edit_plan(BITMAIN.with_site(uptime=0.5), SCENARIO, "site", "uptime", "  ")
    assert edited.site.uptime == 0.97
    with pytest.raises(InputError) as caught:
        edits.edit_plan(BITMAIN, SCENARIO, "orders", "quantity", "")
    assert caught.value.where == "orders[0].quantity" and caught.value.value == "(missing)"
    derived = edits.edit_scenario(SCENARIO.with_changes(
        network=replace(SCENARIO.network, difficulty=1e14)), "network", "difficulty", "")
    assert derived.network.difficulty is None


def test_a_series_replaces_its_level_and_clearing_it_brings_the_level_back() -> None:
    from fleetcalc.scenario import load_scenario as load

    series = load(Path(__file__).parent / "data/inputs/scenarios/series_valid.toml")
    level = series.btc.price_usd
    constant = edits.edit_scenario(series, "btc", "price_series", "")
    assert constant.btc.price_series is None and constant.btc.price_usd == level
    assert constant.price_series_usd is None
    back = edits.edit_scenario(constant, "btc", "price_series", "../series/prices_valid.csv")
    assert back.price_series_usd == series.price_series_usd


@given(st.one_of(
    st.integers(-10**12, 10**12).map(lambda v: (v, "int")),
    st.floats(-1e15, 1e15, allow_nan=False).map(lambda v: (v, "float")),
    st.dates().map(lambda v: (v, "date")),
    st.booleans().map(lambda v: (v, "bool")),
    st.lists(st.sampled_from(["CN", "MY", "US"]), min_size=1, max_size=3).map(
        lambda v: (v, "origins")),
))
def test_a_value_shown_in_a_field_reads_back(case: tuple[Any, str]) -> None:
    value, kind = case
    read = edits.coerce(edits.value_text(value), kind)
    if kind == "float":
        assert read == pytest.approx(value, rel=1e-6, abs=1e-6)
    else:
        assert read == value


# -- orders and plans --------------------------------------------------------------------------


def test_an_order_is_added_as_a_one_unit_copy_and_removed() -> None:
    smaller = BITMAIN.with_order(0, quantity=100)
    added = edits.add_order(smaller, SCENARIO, 0)
    assert added.orders == (smaller.orders[0], replace(smaller.orders[0], quantity=1))
    assert edits.remove_order(added, SCENARIO, 0).orders == (added.orders[1],)
    with pytest.raises(InputError, match=r"\[\[orders\]\]"):
        edits.remove_order(smaller, SCENARIO, 0)
    full = BITMAIN.with_order(0, quantity=MAX_BITMAIN_UNITS)
    with pytest.raises(InputError, match="capacity_mw"):
        edits.add_order(full, SCENARIO, 0)


def test_a_new_plan_is_valid_and_named_apart_from_the_others() -> None:
    first = edits.new_plan(PLANS, SCENARIO)
    assert first.name == "New plan" and first.orders[0].quantity == 1
    assert first.orders[0].delivery_date == SCENARIO.start_date
    second = edits.new_plan([*PLANS, first], SCENARIO)
    assert second.name == "New plan 2"
    copy = edits.duplicate_plan(PLANS[0], PLANS)
    assert copy.name == f"{PLANS[0].name} (copy)" and copy.orders == PLANS[0].orders
    edits.check_unique_name(copy, PLANS)
    with pytest.raises(InputError, match="plan 1 has it"):
        edits.check_unique_name(PLANS[0], PLANS)
    edits.check_unique_name(PLANS[0], PLANS, index=0)  # itself


def test_a_model_change_names_the_catalog_price_it_put_in_the_order() -> None:
    from fleetcalc.catalog import default_price

    mine = edits.edit_plan(BITMAIN, SCENARIO, "orders", "unit_price_usd", "4000")
    change = edits.change_model(mine, SCENARIO, 0, "whatsminer-m70s")
    price = default_price("whatsminer-m70s", SCENARIO.start_date)
    assert price is not None
    assert change.plan.orders[0].unit_price_usd == price.price_usd
    assert change.old_price_usd == 4000.0 and change.catalog_price == price
    assert f"dated {price.price_date_text}" in change.note and "USD 4,000.00" in change.note
    assert "the catalog price" in edits.catalog_price_note(change.plan, 0, SCENARIO)
    assert edits.catalog_price_note(mine, 0, SCENARIO) == ""  # the user's own price
    # Judged years later, the same price is flagged as old.
    later = SCENARIO.with_changes(start_date=dt.date(2030, 1, 1))
    assert "OLDER THAN 6 MONTHS" in edits.change_model(
        BITMAIN.with_order(0, delivery_date=dt.date(2030, 2, 1),
                           import_date=dt.date(2030, 1, 15)),
        later, 0, "whatsminer-m70s").note


def test_a_model_without_a_catalog_price_keeps_the_orders_usd_per_th() -> None:
    change = edits.change_model(BITMAIN, SCENARIO, 0, "whatsminer-m60s")
    old = BITMAIN.orders[0]
    assert change.catalog_price is None
    assert change.plan.orders[0].usd_per_th == pytest.approx(
        old.unit_price_usd / get_model(old.model).hashrate_th, abs=1e-4)
    assert "USD/TH applied to the new model" in change.note


def test_tariff_origin_as_text() -> None:
    edited = edits.with_origin_map(SCENARIO, "MY=CN, TH = CN")
    assert edited.tariff_origin_as == (("MY", "CN"), ("TH", "CN"))
    assert edits.origin_map_text(edited.tariff_origin_as) == "MY=CN, TH=CN"
    assert edits.with_origin_map(edited, " ").tariff_origin_as == ()
    with pytest.raises(InputError, match="pairs like"):
        edits.with_origin_map(SCENARIO, "MY CN")
    with pytest.raises(InputError, match="tariff_origin_as"):
        edits.with_origin_map(SCENARIO, "MY=China")


# -- the edited scenario ---------------------------------------------------------------------


def test_an_edited_scenario_is_named_and_lists_its_changes_first() -> None:
    edited = edits.edit_scenario(SCENARIO, "btc", "price_usd", "120,000")
    edited = edits.with_overrides(edited, (edits.parse_override("MY reciprocal 40% from "
                                                                "2027-01-01"),))
    marked = mark_edited(SCENARIO, edited)
    assert marked.name == f"{SCENARIO.name} (edited)"
    assert marked.assumptions == (
        "edited: btc.price_usd = 120,000 (was 84,714)",
        "edited: tariff override MY reciprocal 40% from 2027-01-01 added",
        *SCENARIO.assumptions)
    # Edits count from the scenario as opened: editing the edited one again lists each once.
    again = mark_edited(SCENARIO, edits.edit_scenario(marked, "network", "pool_fee", "0.03"))
    assert len(again.assumptions) == len(SCENARIO.assumptions) + 3
    assert again.name == marked.name
    # A name the user typed is kept.
    renamed = mark_edited(SCENARIO, edits.edit_scenario(marked, "", "name", "Bull case"))
    assert renamed.name == "Bull case" and renamed.assumptions == marked.assumptions


@given(st.sampled_from(sorted(SCENARIO_SAMPLES)))
def test_undoing_an_edit_gives_back_the_scenario_as_opened(table_key: tuple[str, str]) -> None:
    table, key = table_key
    text, _ = SCENARIO_SAMPLES[table_key]
    base = reading(table, key)
    marked = mark_edited(base, edits.edit_scenario(base, table, key, text))
    if key != "name":
        assert marked.name.endswith(" (edited)") and len(scenario_changes(base, marked)) == 1
    original = getattr(edits.scenario_part(base, table), key)
    undone = mark_edited(base, edits.edit_scenario(marked, table, key,
                                                   edits.value_text(original)))
    if key == "name":
        assert undone.name == base.name
    else:
        assert undone == base
    assert mark_edited(base, base) == base


def test_every_label_fits_the_label_column() -> None:
    from tui.labels import LABELS, label

    assert all(len(text) <= LABEL_COLUMN for text in LABELS.values())
    # A key with no entry is labelled from its name and unit suffix; an entry overrides that.
    assert label("site", "standby_usd_per_kw_year") == "Standby (USD/kW/year)"
    assert label("site", "transmission_usd_per_kw_year") == "Transmission (USD/kW-year)"
    assert label("finance", "arrangement_fee_usd") == "Arrangement fee (USD)"
    assert label("finance", "interest_cover") == "Interest cover"


def test_typed_finance_and_payment_terms_set_exactly_those_values() -> None:
    edited = edits.edit_plan(BITMAIN, SCENARIO, "finance", "debt_rate", "0.07")
    edited = edits.edit_plan(edited, SCENARIO, "finance", "debt_share", "0.6")
    edited = edits.edit_plan(edited, SCENARIO, "finance", "depreciation", "straight_line")
    edited = edits.edit_plan(edited, SCENARIO, "finance", "depreciation_years", "3")
    assert (edited.finance.debt_rate, edited.finance.debt_share) == (0.07, 0.6)
    assert (edited.finance.depreciation, edited.finance.depreciation_years) == (
        "straight_line", 3)
    edited = edits.edit_plan(edited, SCENARIO, "orders", "order_date", "2026-09-01")
    edited = edits.edit_plan(edited, SCENARIO, "orders", "shipped_by", "air")
    assert edited.orders[0].order_date == dt.date(2026, 9, 1)
    assert edited.orders[0].shipped_by == "air"


def test_an_emptied_optional_field_takes_its_default_and_a_required_one_is_an_error() -> None:
    dated = edits.edit_plan(BITMAIN, SCENARIO, "orders", "order_date", "2026-09-01")
    assert edits.edit_plan(dated, SCENARIO, "orders", "order_date", " ") == BITMAIN
    with pytest.raises(InputError, match="debt_rate"):
        edits.edit_plan(BITMAIN, SCENARIO, "finance", "debt_share", "0.5")  # needs its rate
    with pytest.raises(InputError, match=r"orders\[0\]\.quantity"):
        edits.edit_plan(BITMAIN, SCENARIO, "orders", "quantity", "")


def test_switching_the_network_model_keeps_only_the_keys_it_reads() -> None:
    exogenous = edits.edit_scenario(SCENARIO, "network", "model", "exogenous")
    grown = edits.edit_scenario(exogenous, "network", "monthly_growth", "0.02")
    assert grown.network.monthly_growth == 0.02
    back = edits.edit_scenario(grown, "network", "model", "responsive")
    assert back.network.model == "responsive"
    assert back.network.supply_ehs_per_month == SCENARIO.network.supply_ehs_per_month
    with pytest.raises(InputError, match="only the 'exogenous' model reads it"):
        edits.edit_scenario(back, "network", "monthly_growth", "0.02")


SYNTHETIC_SERIES = (Path(__file__).resolve().parents[1]
                    / "fleetcalc/data/prices/ercot_hub_2024_SYNTHETIC.csv")


def _series_from(plan: Plan) -> str:
    """The shipped SYNTHETIC series, named relative to ``plan``'s folder as a user types it."""
    import os

    return os.path.relpath(SYNTHETIC_SERIES, Path(plan.source).parent)


def _site(plan: Plan, key: str, text: str) -> Plan:
    return edits.edit_plan(plan, SCENARIO, "site", key, text)


def test_a_site_goes_from_a_constant_price_to_a_market_and_back_one_field_at_a_time() -> None:
    # Each step is a valid plan: the contract follows the keys typed (tui.edits docstring).
    fixed = _site(BITMAIN, "power_price_series", _series_from(BITMAIN))
    assert (fixed.site.contract, fixed.site.power_usd_per_kwh) == ("fixed", 0.04)
    market = _site(fixed, "power_contract", "market")
    assert (market.site.contract, market.site.power_usd_per_kwh) == ("market", None)
    sell = _site(_site(market, "power_usd_per_kwh", "0.04"), "sell_back", "yes")
    assert (sell.site.contract, sell.site.power_usd_per_kwh, sell.site.sell_back) == (
        "fixed", 0.04, True)
    with pytest.raises(InputError, match=r"site\.sell_back"):
        _site(sell, "power_price_series", "")  # it would sell to no market
    back = _site(_site(sell, "sell_back", "false"), "power_price_series", "")
    assert back.site.power_price_series is None and back.site.power_usd_per_kwh == 0.04
    assert back.site.energy_usd_per_kwh == BITMAIN.site.pue * 0.04  # a kWh of IT load


def test_a_price_file_that_does_not_exist_is_named() -> None:
    with pytest.raises(InputError, match="relative to the plan's folder"):
        _site(BITMAIN, "power_price_series", "no-such-prices.csv")


def test_allowed_modes_are_typed_as_a_list_or_all() -> None:
    plan = edits.edit_plan(S21_XP, SCENARIO, "orders", "modes", "eco, stock", 0)
    assert plan.orders[0].modes == ("eco", "stock")
    assert edits.edit_plan(plan, SCENARIO, "orders", "modes", "all", 0).orders[0].modes == (
        "stock", "eco", "turbo")
    assert edits.edit_plan(plan, SCENARIO, "orders", "modes", "", 0).orders[0].modes is None
    with pytest.raises(InputError, match=r"orders\[0\]\.modes"):
        edits.edit_plan(plan, SCENARIO, "orders", "modes", "eco, overdrive", 0)


def test_a_plan_saved_in_another_folder_still_finds_its_price_file(tmp_path: Path) -> None:
    plan = _site(BITMAIN, "power_price_series", _series_from(BITMAIN))
    (tmp_path / "elsewhere").mkdir()
    loaded = load_plan(files.save_plan(plan, tmp_path / "elsewhere" / "plan.toml"))
    assert loaded.site.prices is not None
    assert Path(loaded.site.prices.source) == SYNTHETIC_SERIES


# -- sites: named, split off, dropped with their last order -----------------------------------

TWO_SITES = load_plan(Path(__file__).parent.parent / "docs" / "examples" / "two-sites.toml")


def test_a_site_is_renamed_with_the_orders_at_it() -> None:
    renamed = edits.edit_plan(TWO_SITES, SCENARIO, "site", "name", "west texas", 0)
    assert [site.name for site in renamed.sites] == ["west texas", "ohio"]
    assert [o.site for o in renamed.orders] == [
        "west texas" if o.site == "texas" else o.site for o in TWO_SITES.orders]
    with pytest.raises(InputError, match="each of a plan's several sites has one"):
        edits.edit_plan(TWO_SITES, SCENARIO, "site", "name", "", 0)
    with pytest.raises(InputError, match="a name no other"):
        edits.edit_plan(TWO_SITES, SCENARIO, "site", "name", "ohio", 0)


def test_naming_a_one_site_plans_site_and_blanking_it_round_trips() -> None:
    named = edits.edit_plan(BITMAIN, SCENARIO, "site", "name", "Corsicana", 0)
    assert [site.name for site in named.sites] == ["Corsicana"]
    assert "sites" in plan_to_toml(named) and named.site == replace(BITMAIN.site,
                                                                    name="Corsicana")
    back = edits.edit_plan(named, SCENARIO, "site", "name", "", 0)
    assert plan_to_toml(back) == plan_to_toml(BITMAIN)


def test_an_order_moves_to_a_new_site_and_its_old_site_goes_with_its_last_order() -> None:
    two = edits.add_order(BITMAIN, SCENARIO, 0)
    split = edits.order_to_new_site(two, SCENARIO, 1)
    assert [site.name for site in split.sites] == ["site 1", "site 2"]
    assert [o.site for o in split.orders] == ["site 1", "site 2"]
    assert split.sites[1] == replace(split.sites[0], name="site 2")  # a copy to edit
    # Removing a site's last order removes the site (a file may not keep an empty one).
    merged = edits.remove_order(split, SCENARIO, 1)
    assert [site.name for site in merged.sites] == ["site 1"]
    # An order alone at its site moves to a copy under a new name: the same plan renamed.
    alone = edits.order_to_new_site(BITMAIN, SCENARIO, 0)
    assert [site.name for site in alone.sites] == ["site 2"]
