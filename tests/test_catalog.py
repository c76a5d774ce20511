"""Shipped catalog data: schema, value rules, sources, and the ModelSpec lookup."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc.catalog import (
    CATALOG_SCHEMA,
    COOLING_DEFAULTS_SCHEMA,
    COOLING_TYPES,
    MODES_SCHEMA,
    PRICE_BASES,
    PRICE_INDEX_SCHEMA,
    DataFileError,
    add_months,
    check_prices,
    default_price,
    get_model,
    index_price,
    load_catalog,
    load_cooling_defaults,
    load_modes,
    load_price_index,
    makers,
    model_ids,
    price_date_start,
)

D = dt.date


def test_catalog_schema_and_values() -> None:
    catalog = load_catalog()
    assert catalog.schema == pl.Schema(CATALOG_SCHEMA)
    assert catalog.height >= 30
    assert catalog["model_id"].is_unique().all()
    assert (catalog["hashrate_th"] > 0).all() and (catalog["power_w"] > 0).all()
    assert catalog["cooling"].is_in(COOLING_TYPES).all()
    origins = catalog["origins"].explode()
    assert origins.str.contains(r"^[A-Z]{2}$").all()
    assert (catalog["origins"].list.len() > 0).all()


def test_every_catalog_row_has_a_spec_source_and_priced_rows_a_dated_labelled_price() -> None:
    catalog = load_catalog()
    assert (catalog["spec_source"].str.len_chars() > 0).all()
    assert (catalog["origin_basis"].str.len_chars() > 0).all()
    priced = catalog.filter(pl.col("price_usd").is_not_null())
    assert priced.height > 0
    assert (priced["price_source"].str.len_chars() > 0).all()
    assert priced["price_date"].str.contains(r"^\d{4}-\d{2}(-\d{2})?$").all()
    assert priced["price_basis"].is_in(list(PRICE_BASES)).all()
    unpriced = catalog.filter(pl.col("price_usd").is_null())
    assert unpriced.select("price_date", "price_basis", "price_usd_per_th").null_count().row(0) \
        == (unpriced.height,) * 3


def test_core_makers_and_brief_models_present() -> None:
    assert {"Bitmain", "MicroBT", "Canaan", "Auradine"} <= set(makers())
    for model_id in ("antminer-s21-xp", "antminer-s21-xp-hyd", "whatsminer-m70s",
                     "avalon-a16xp", "teraflux-at2880"):
        assert model_id in model_ids()
    # No hashrate or power in the reference: must not be shipped.
    assert not any("ai3680" in m for m in model_ids())


def test_reference_spec_spot_checks() -> None:
    s21_xp = get_model("antminer-s21-xp")
    assert (s21_xp.hashrate_th, s21_xp.power_w, s21_xp.cooling) == (270.0, 3645.0, "air")
    assert s21_xp.price_usd == 4590.0 and s21_xp.price_date == "2026-10"
    assert s21_xp.price_basis == "shop"
    assert get_model("antminer-s21-xp-hyd").cooling == "hydro"
    assert get_model("teraflux-at2880").origins == ("US",)
    assert "CN" not in get_model("avalon-a16xp").origins


def test_modes_schema_and_values() -> None:
    modes = load_modes()
    assert modes.schema == pl.Schema(MODES_SCHEMA)
    assert (modes["mode"] != "stock").all()
    assert modes["model_id"].is_in(load_catalog()["model_id"].implode()).all()
    assert (modes["source"].str.len_chars() > 0).all()
    assert (modes["hashrate_th"] > 0).all() and (modes["power_w"] > 0).all()


def test_cooling_defaults_are_labelled_assumptions() -> None:
    defaults = load_cooling_defaults()
    assert defaults.schema == pl.Schema(COOLING_DEFAULTS_SCHEMA)
    assert sorted(defaults["cooling"]) == sorted(COOLING_TYPES)
    assert (defaults["status"] == "assumption").all()
    assert (defaults["source"].str.len_chars() > 0).all()
    row = defaults.row(0, named=True)
    assert (row["annual_degradation"], row["annual_failure_rate"]) == (0.05, 0.10)
    assert row["service_life_years"] == 5.0


def test_get_model_resolves_defaults_and_modes() -> None:
    spec = get_model("whatsminer-m60s")
    assert spec.modes["stock"] == (spec.hashrate_th, spec.power_w)
    assert spec.modes["bin_190"] == (190.0, 3441.0)
    assert spec.figures.repair_days == 14 and isinstance(spec.figures.repair_days, int)
    assert spec.figures.annual_failure_rate == 0.10
    assert spec.efficiency_j_per_th == pytest.approx(spec.power_w / spec.hashrate_th, rel=0.01)


def test_every_model_has_stock_mode() -> None:
    for model_id in model_ids():
        spec = get_model(model_id)
        assert spec.modes["stock"] == (spec.hashrate_th, spec.power_w)
        assert spec.spec_source


def test_unknown_model_raises_key_error() -> None:
    with pytest.raises(KeyError, match="no-such-miner"):
        get_model("no-such-miner")


@pytest.mark.parametrize("module", ["fleetcalc.catalog", "fleetcalc.tariffs"])
def test_import_pulls_in_neither_numba_nor_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'textual'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- Issue 11: corrected rows, dated prices on one basis rule, stale-price flag -----------------


def test_whatsminer_m66s_is_the_makers_298_th_at_18_5_j_per_th() -> None:
    # The row used to say 250 TH/s at 4,625 W (a press report of Riot's order).
    spec = get_model("whatsminer-m66s")
    assert (spec.hashrate_th, spec.power_w, spec.efficiency_j_per_th) == (298.0, 5513.0, 18.5)
    assert spec.power_w / spec.hashrate_th == pytest.approx(18.5, rel=1e-3)
    assert spec.cooling == "immersion"
    assert "298" in spec.spec_source and "18.5" in spec.spec_source


def test_whatsminer_m63s_nameplate_is_390_th_and_400_th_is_a_bin() -> None:
    # The row used to give the 400 TH/s reseller bin (18.0 J/TH) as the stock point.
    spec = get_model("whatsminer-m63s")
    assert (spec.hashrate_th, spec.power_w, spec.efficiency_j_per_th) == (390.0, 7215.0, 18.5)
    assert spec.power_w / spec.hashrate_th == pytest.approx(18.5, rel=1e-3)
    assert spec.modes["bin_400"] == (400.0, 7215.0)
    assert "390" in spec.spec_source and "7215" in spec.spec_source
    bin_source = load_modes().filter(pl.col("mode") == "bin_400")["source"].item()
    assert "cbm-website" in bin_source


def test_price_index_schema_and_tiers() -> None:
    index = load_price_index()
    assert index.schema == pl.Schema(PRICE_INDEX_SCHEMA)
    assert index["j_per_th_from"].to_list() == [0.0, 14.0, 19.0, 25.0]
    assert index["j_per_th_to"].to_list() == [14.0, 19.0, 25.0, 38.0]
    assert index["usd_per_th"].to_list() == [18.38, 3.63, 3.14, 1.18]
    assert set(index["index_date"]) == {D(2026, 9, 27)}
    assert (index["source"].str.contains("Luxor")).all()


@pytest.mark.parametrize(("model_id", "usd"), [
    # The examples: list prices from 2023-24 against today's market.
    ("antminer-s19-xp", 3.14 * 140),   # was USD 2,800 (2023-07); ~443 used per the reference
    ("antminer-t21", 3.14 * 190),      # was 2,660 (2024-03); ~600
    ("whatsminer-m50s", 1.18 * 126),   # was 2,520 (2023-07); ~150
    ("whatsminer-m66s", 3.63 * 298),   # was the blended Riot order of 2023-12
])
def test_stale_list_prices_gave_way_to_the_dated_tier_index(model_id: str, usd: float) -> None:
    price = default_price(model_id, D(2026, 12, 1))
    assert price is not None
    assert price.basis == "tier_index" and price.price_date == D(2026, 9, 27)
    assert price.price_usd == pytest.approx(usd, abs=0.005)
    assert price.price_usd == index_price(model_id, D(2026, 12, 1)).price_usd
    assert "Luxor" in price.source and not price.stale


def test_every_tier_index_price_is_the_index_times_the_hashrate() -> None:
    catalog = load_catalog().filter(pl.col("price_basis") == "tier_index")
    assert catalog.height >= 5
    for model_id, hashrate_th, price_usd in catalog.select(
            "model_id", "hashrate_th", "price_usd").rows():
        reference = index_price(model_id, D(2026, 12, 1))
        assert reference is not None
        assert price_usd == pytest.approx(reference.price_usd_per_th * hashrate_th, abs=0.005)


def test_no_default_price_is_stale_on_the_newest_index_date() -> None:
    newest = load_price_index()["index_date"].max()
    for model_id in load_catalog().filter(pl.col("price_usd").is_not_null())["model_id"]:
        price = default_price(model_id, newest)
        assert price is not None and not price.stale, model_id


def test_default_price_carries_date_basis_source_and_age() -> None:
    price = default_price("antminer-s21-xp", D(2026, 12, 1))
    assert price is not None
    assert (price.price_usd, price.price_usd_per_th) == (4590.0, 17.0)
    assert price.price_date == D(2026, 10, 1) and price.price_date_text == "2026-10"
    assert price.basis == "shop" and price.basis_label == PRICE_BASES["shop"]
    assert "bitmain" in price.source
    assert price.age_days == (D(2026, 12, 1) - D(2026, 10, 1)).days and not price.stale


def test_a_price_is_stale_the_day_after_it_turns_six_months_old() -> None:
    # "2026-10" counts from 2026-10-01, the oldest the price can be.
    assert not default_price("antminer-s21-xp", D(2027, 4, 1)).stale
    assert default_price("antminer-s21-xp", D(2027, 4, 2)).stale
    assert not default_price("antminer-t21", D(2027, 3, 27)).stale
    assert default_price("antminer-t21", D(2027, 3, 28)).stale


def test_default_price_none_without_a_price_and_key_error_for_unknown_models() -> None:
    assert default_price("antminer-s23", D(2026, 12, 1)) is None
    assert index_price("antminer-s23", D(2026, 12, 1)).price_usd == pytest.approx(18.38 * 318)
    with pytest.raises(KeyError, match="no-such-miner"):
        default_price("no-such-miner", D(2026, 12, 1))


def test_price_date_start_and_add_months() -> None:
    assert price_date_start("2026-10") == D(2026, 10, 1)
    assert price_date_start("2026-09-27") == D(2026, 9, 27)
    assert add_months(D(2025, 8, 31), 6) == D(2026, 2, 28)
    assert add_months(D(2023, 8, 31), 6) == D(2024, 2, 29)
    assert add_months(D(2026, 7, 15), 6) == D(2027, 1, 15)


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2090, 12, 31)), st.integers(0, 36))
def test_add_months_equals_the_polars_offset_the_loader_uses(day: dt.date, months: int) -> None:
    expected = pl.Series([day]).dt.offset_by(f"{months}mo").item()
    assert add_months(day, months) == expected


def _priced_row(**changes: object) -> pl.DataFrame:
    row = load_catalog().filter(pl.col("model_id") == "antminer-t21")
    return row.with_columns(**{k: pl.lit(v, dtype=row.schema[k]) for k, v in changes.items()})


@pytest.mark.parametrize(("changes", "rule"), [
    # A 2024 quote is stale against the 2026-09-27 index: the index must win.
    ({"price_usd": 2660.0, "price_usd_per_th": 14.0, "price_date": "2024-03",
      "price_basis": "order"}, "must give way to the tier_index price"),
    ({"price_usd": 1900.0, "price_usd_per_th": 10.0}, "tier_index price must be"),
    ({"price_basis": "guess"}, "price_basis"),
    ({"price_basis": None}, "price_basis"),
    ({"price_date": None}, "price_date"),
    ({"price_date": "2026-13"}, "price_date"),
    ({"price_usd": None}, "must be empty without a price"),
])
def test_price_rules_reject_broken_rows(changes: dict[str, object], rule: str) -> None:
    check_prices(_priced_row(), load_price_index())  # the shipped row passes
    with pytest.raises(DataFileError, match=rule):
        check_prices(_priced_row(**changes), load_price_index())


def test_a_fresh_quote_may_stand_beside_the_index() -> None:
    fresh = _priced_row(price_usd=2660.0, price_usd_per_th=14.0, price_date="2026-04",
                        price_basis="reseller")
    check_prices(fresh, load_price_index())
