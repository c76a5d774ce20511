"""Shipped data files: the loaders' rules (each shown failing on a broken copy), the
catalog's content and prices, and the ModelSpec lookup."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcalc import catalog as catalog_module
from fleetcalc.catalog import (
    PRICE_BASES,
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
from fleetcalc.tariffs import load_schedule

D = dt.date


def test_shipped_tables_load_and_hold_what_the_rules_do_not_check() -> None:
    # Loading runs every rule of the loaders (each is shown failing below); left to check is
    # content no rule states.
    catalog = load_catalog()
    assert catalog.height >= 30
    assert catalog["price_usd"].is_not_null().sum() > 0
    assert load_modes().height > 0


# (file, column, value put in its first row, the rule the loader must name). The price rules
# have their own cases below (check_prices); one here shows the loader runs them.
BROKEN_ROWS = [
    ("catalog.csv", "model_id", "Antminer S19 XP", "model_id must be a lowercase slug"),
    ("catalog.csv", "model_id", "antminer-s19k-pro", "model_id must be unique"),
    ("catalog.csv", "hashrate_th", "0", "hashrate_th and power_w must be positive"),
    ("catalog.csv", "hashrate_th", "fast", "catalog.csv"),
    ("catalog.csv", "efficiency_j_per_th", "30", "efficiency_j_per_th must match"),
    ("catalog.csv", "cooling", "oil", "cooling must be one of"),
    ("catalog.csv", "confidence", "certain", "confidence must be one of"),
    ("catalog.csv", "spec_source", " ", "spec_source must be non-empty"),
    ("catalog.csv", "origins", None, "origins must list a plant"),
    ("catalog.csv", "origins", "MY;ZZ", "origins must be ISO 3166 alpha-2 codes"),
    ("catalog.csv", "price_date", "July 2023", "a price needs"),
    ("modes.csv", "model_id", "no-such-miner", "model_id must be a catalog model"),
    ("modes.csv", "mode", "stock", "the stock mode is the catalog row"),
    ("modes.csv", "power_w", "-1", "hashrate_th and power_w must be positive"),
    ("cooling_defaults.csv", "cooling", "oil", "exactly one row per cooling type"),
    ("cooling_defaults.csv", "annual_degradation", "1.5", "annual_degradation must be"),
    ("cooling_defaults.csv", "service_life_years", "0", "service_life_years must be"),
    ("price_index.csv", "tier", "14_to_19", "tier must be unique"),
    ("price_index.csv", "j_per_th_to", "0", "tiers need 0 <= j_per_th_from < j_per_th_to"),
    ("price_index.csv", "usd_per_th", "0", "usd_per_th must be positive"),
    ("tariffs.csv", "origin", "ZZ", "origin must be an ISO alpha-2 code"),
    ("tariffs.csv", "program", "Section 301", "program must be a snake_case name"),
    ("tariffs.csv", "rate", "-0.1", "rate must be >= 0"),
    ("tariffs.csv", "effective_to", "2000-01-01", "effective_to must be on or after"),
    ("tariffs.csv", "status", "proposed", "status must be one of"),
    ("tariffs.csv", "source", " ", "source must be non-empty"),
    ("tariffs.csv", "program", "reciprocal", "rows of one (origin, program) must not overlap"),
]
LOADERS = {"catalog.csv": load_catalog, "modes.csv": load_modes,
           "cooling_defaults.csv": load_cooling_defaults, "price_index.csv": load_price_index,
           "tariffs.csv": load_schedule}


@pytest.mark.parametrize(("name", "column", "value", "rule"), BROKEN_ROWS)
def test_a_broken_data_file_is_refused_naming_the_rule(
    name: str, column: str, value: str | None, rule: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped = files("fleetcalc").joinpath("data")
    (tmp_path / "data").mkdir()
    for other in LOADERS:
        (tmp_path / "data" / other).write_bytes(shipped.joinpath(other).read_bytes())
    table = pl.read_csv(shipped.joinpath(name).read_bytes(), infer_schema=False)
    first = pl.int_range(pl.len()) == 0
    table = table.with_columns(pl.when(first).then(pl.lit(value, pl.String()))
                               .otherwise(pl.col(column)).alias(column))
    table.write_csv(tmp_path / "data" / name)
    monkeypatch.setattr(catalog_module, "files", lambda package: tmp_path)
    load_catalog.cache_clear()  # load_modes reads the catalog through the cache
    try:
        with pytest.raises(DataFileError, match=re.escape(rule)):
            LOADERS[name].__wrapped__()
    finally:
        load_catalog.cache_clear()


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


def test_cooling_defaults_are_labelled_assumptions() -> None:
    defaults = load_cooling_defaults()
    assert (defaults["status"] == "assumption").all()  # no authoritative figures exist
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


def test_a_model_is_read_once_and_shared_read_only() -> None:
    spec = get_model("whatsminer-m60s")
    assert get_model("whatsminer-m60s") is spec  # cached: asked a dozen times an app edit
    with pytest.raises(TypeError):
        spec.modes["stock"] = (1.0, 1.0)  # type: ignore[index]


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


def test_price_index_tiers() -> None:
    index = load_price_index()
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
