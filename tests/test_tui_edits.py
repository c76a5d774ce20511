"""The app's edit and file logic without the UI: typed text -> validated plans and scenarios,
tariff overrides as text, atomic files."""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc.catalog import get_model
from fleetcalc.errors import InputError
from fleetcalc.plan import Plan, default_plans, load_plan, plan_to_toml
from fleetcalc.scenario import load_scenario
from fleetcalc.tariffs import TariffOverride
from tui import edits, files
from tui.format import number_text

PLANS = default_plans()
SCENARIO = load_scenario(None)
BITMAIN = PLANS[0]
# Units of the Bitmain default plan that fit its 25 MW site.
MAX_BITMAIN_UNITS = int(BITMAIN.site.capacity_mw * 1e6 // get_model("antminer-s21-xp").power_w)

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
    edited = edits.edit_order(BITMAIN, SCENARIO, 0, "quantity", text)
    assert edited == BITMAIN.with_order(0, quantity=quantity)


@pytest.mark.parametrize("text", ["-5", "0", "abc", "2.5", "", f"{MAX_BITMAIN_UNITS + 1}"])
def test_an_invalid_quantity_raises_input_error_naming_the_field(text: str) -> None:
    with pytest.raises(InputError) as caught:
        edits.edit_order(BITMAIN, SCENARIO, 0, "quantity", text)
    assert caught.value.where in ("orders[0].quantity", "site.capacity_mw")


def test_a_delivery_outside_the_horizon_is_rejected() -> None:
    late = (SCENARIO.end_date + dt.timedelta(days=1)).isoformat()
    with pytest.raises(InputError, match="horizon"):
        edits.edit_order(BITMAIN, SCENARIO, 0, "delivery_date", late)
    with pytest.raises(InputError, match="delivery_date"):
        edits.edit_order(BITMAIN, SCENARIO, 0, "delivery_date", "2026-12-01")  # before import


def test_a_typed_unit_price_replaces_a_usd_per_th_price() -> None:
    canaan = PLANS[2]
    assert canaan.orders[0].usd_per_th is not None
    edited = edits.edit_order(canaan, SCENARIO, 0, "unit_price_usd", "5,000")
    assert edited.orders[0].unit_price_usd == 5000.0
    assert edited.orders[0].usd_per_th is None


@pytest.mark.parametrize("model_id", ["whatsminer-m70s", "avalon-a16xp", "teraflux-at2880"])
def test_changing_model_keeps_a_valid_origin_and_prices_the_new_model(model_id: str) -> None:
    spec = get_model(model_id)
    edited = edits.change_model(BITMAIN, SCENARIO, 0, model_id)
    order = edited.orders[0]
    assert order.model == model_id
    assert order.origin in spec.origins
    if BITMAIN.orders[0].origin in spec.origins:
        assert order.origin == BITMAIN.orders[0].origin
    if spec.price_usd is not None:
        assert order.unit_price_usd == spec.price_usd


def test_an_origin_the_model_is_not_built_in_is_rejected() -> None:
    with pytest.raises(InputError, match="origin"):
        edits.change_origin(BITMAIN, SCENARIO, 0, "KZ")


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
    assert edits.coerce(number_text(value), kind) == pytest.approx(value, rel=1e-6, abs=1e-6)


def test_every_order_site_and_finance_key_of_a_plan_is_editable() -> None:
    from fleetcalc import plan as plan_fields

    for table, kinds in ((plan_fields.ORDER_FIELDS, edits.ORDER_FIELDS),
                         (plan_fields.SITE_FIELDS, edits.SITE_FIELDS),
                         (plan_fields.FINANCE_FIELDS, edits.FINANCE_FIELDS)):
        assert kinds == {f.name: f.kind for f in table}


def test_typed_finance_and_payment_terms_set_exactly_those_values() -> None:
    edited = edits.edit_finance(BITMAIN, SCENARIO, "debt_rate", "0.07")
    edited = edits.edit_finance(edited, SCENARIO, "debt_share", "0.6")
    edited = edits.edit_finance(edited, SCENARIO, "depreciation", "straight_line")
    edited = edits.edit_finance(edited, SCENARIO, "depreciation_years", "3")
    assert (edited.finance.debt_rate, edited.finance.debt_share) == (0.07, 0.6)
    assert (edited.finance.depreciation, edited.finance.depreciation_years) == (
        "straight_line", 3)
    edited = edits.edit_order(edited, SCENARIO, 0, "order_date", "2026-09-01")
    edited = edits.edit_order(edited, SCENARIO, 0, "shipped_by", "air")
    assert edited.orders[0].order_date == dt.date(2026, 9, 1)
    assert edited.orders[0].shipped_by == "air"


def test_an_emptied_optional_field_takes_its_default_and_a_required_one_is_an_error() -> None:
    dated = edits.edit_order(BITMAIN, SCENARIO, 0, "order_date", "2026-09-01")
    assert edits.edit_order(dated, SCENARIO, 0, "order_date", " ") == BITMAIN
    with pytest.raises(InputError, match="debt_rate"):
        edits.edit_finance(BITMAIN, SCENARIO, "debt_share", "0.5")  # a loan needs its rate
    with pytest.raises(InputError, match=r"orders\[0\]\.quantity"):
        edits.edit_order(BITMAIN, SCENARIO, 0, "quantity", "")
