"""Shipped catalog data: schema, value rules, sources, and the ModelSpec lookup."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

from fleetcalc.catalog import (
    CATALOG_SCHEMA,
    COOLING_DEFAULTS_SCHEMA,
    COOLING_TYPES,
    MODES_SCHEMA,
    get_model,
    load_catalog,
    load_cooling_defaults,
    load_modes,
    makers,
    model_ids,
)


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


def test_every_catalog_row_has_a_spec_source_and_priced_rows_a_price_source() -> None:
    catalog = load_catalog()
    assert (catalog["spec_source"].str.len_chars() > 0).all()
    assert (catalog["origin_basis"].str.len_chars() > 0).all()
    priced = catalog.filter(pl.col("list_price_usd").is_not_null())
    assert priced.height > 0
    assert (priced["price_source"].str.len_chars() > 0).all()
    assert priced["price_date"].str.contains(r"^\d{4}-\d{2}(-\d{2})?$").all()


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
    assert s21_xp.list_price_usd == 4590.0 and s21_xp.price_date == "2026-10"
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
