"""Unit resolution: what an order buys, checked against the shipped tables read directly."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from hypothesis import given

from fleetcalc import catalog
from fleetcalc.catalog import UNIT_FIGURE_FIELDS, DataFileError, UnitFigures
from fleetcalc.plan import ORDER_FIELDS, parse_plan
from fleetcalc.units import resolve_unit
from tests.strategies import Doc, plan_docs


def _catalog_unit(model_id: str, mode: str) -> tuple[float, float, str]:
    """(hashrate_th, power_w, cooling) of a model in a mode, from the catalog's own frames."""
    row = catalog.load_catalog().filter(pl.col("model_id") == model_id).row(0, named=True)
    if mode == "stock":
        return row["hashrate_th"], row["power_w"], row["cooling"]
    modes = catalog.load_modes().filter((pl.col("model_id") == model_id) & (pl.col("mode") == mode))
    return modes["hashrate_th"].item(), modes["power_w"].item(), row["cooling"]


@given(plan_docs(max_orders=3))
def test_an_order_overrides_exactly_the_figures_it_gives(doc: Doc) -> None:
    plan = parse_plan(doc, "drawn.toml")
    defaults = catalog.load_cooling_defaults()
    for raw, order in zip(doc["orders"], plan.orders, strict=True):
        unit = resolve_unit(order)
        if "model" in raw:
            hashrate_th, power_w, cooling = _catalog_unit(raw["model"], raw.get("mode", "stock"))
        else:
            hashrate_th, power_w = raw["hashrate_th"], raw["power_w"]
            cooling = raw.get("cooling", "air")
        assert (unit.hashrate_th, unit.power_w, unit.cooling) == (hashrate_th, power_w, cooling)
        cooling_row = defaults.filter(pl.col("cooling") == cooling).row(0, named=True)
        for field in UNIT_FIGURE_FIELDS:
            expected = raw.get(field.name, cooling_row[field.name])
            assert getattr(unit.figures, field.name) == expected, field.name
        price = raw.get("unit_price_usd")
        assert unit.unit_price_usd == (raw["usd_per_th"] * hashrate_th if price is None else price)


def test_every_unit_figure_is_an_optional_order_key_with_the_same_checks() -> None:
    tail = ORDER_FIELDS[-len(UNIT_FIGURE_FIELDS):]
    assert [f.name for f in tail] == [f.name for f in dataclasses.fields(UnitFigures)]
    for key, figure in zip(tail, UNIT_FIGURE_FIELDS, strict=True):
        assert key.default is None and figure.required
        assert (key.kind, key.lo, key.hi, key.lo_open) == (
            figure.kind, figure.lo, figure.hi, figure.lo_open)


def test_a_shipped_default_outside_an_orders_bounds_is_a_data_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped = catalog.read_data_csv

    def broken(name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        frame = shipped(name, schema)
        return frame.with_columns(pl.lit(-1, pl.Int64).alias("repair_days"))

    monkeypatch.setattr(catalog, "read_data_csv", broken)
    with pytest.raises(DataFileError, match=r"repair_days must be an integer in \[0, 3650\]"):
        catalog.load_cooling_defaults.__wrapped__()
