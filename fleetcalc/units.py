"""Unit resolution: what an order buys, as the figures the model needs.

An order names a catalog model and one of its operating modes, or gives a custom unit's
hashrate and power (and cooling type, air unless given). The unit's ``UnitFigures``
(degradation, failure rate, repairs, service life, freight, install) are its cooling type's,
each replaced by the order's own value where it gives one; its price is the order's unit price
or USD/TH times the unit's hashrate.

This module sits below the plan (the plan resolves units to check the site's capacity, the
fleet to build the order table), so it reads orders through the ``UnitChoice`` protocol and
imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from fleetcalc.catalog import UNIT_FIGURE_FIELDS, UnitFigures, cooling_figures, get_model

CUSTOM_MODEL_ID = "custom"
CUSTOM_COOLING = "air"


class UnitChoice(Protocol):
    """What an order says about its unit (``fleetcalc.plan.Order`` is one). It also carries
    an optional override (None: keep the default) for every field of ``UnitFigures``."""

    @property
    def model(self) -> str | None: ...
    @property
    def mode(self) -> str: ...
    @property
    def hashrate_th(self) -> float | None: ...
    @property
    def power_w(self) -> float | None: ...
    @property
    def cooling(self) -> str | None: ...
    @property
    def unit_price_usd(self) -> float | None: ...
    @property
    def usd_per_th(self) -> float | None: ...


@dataclass(frozen=True)
class OrderUnit:
    """One order's unit with every default resolved."""

    model_id: str
    maker: str
    model: str
    cooling: str
    hashrate_th: float
    power_w: float
    unit_price_usd: float
    figures: UnitFigures


def resolve_unit(order: UnitChoice) -> OrderUnit:
    """The unit an order buys. The order is valid (``fleetcalc.plan`` checked it): a catalog
    model and mode, or both custom figures; a unit price or USD/TH."""
    if order.hashrate_th is not None and order.power_w is not None:
        cooling = order.cooling or CUSTOM_COOLING
        model_id = maker = CUSTOM_MODEL_ID
        name = f"custom {order.hashrate_th:g} TH/s"
        hashrate_th, power_w = order.hashrate_th, order.power_w
        defaults = cooling_figures(cooling)
    else:
        assert order.model is not None
        spec = get_model(order.model)
        cooling, model_id, maker, name = spec.cooling, spec.model_id, spec.maker, spec.model
        hashrate_th, power_w = spec.modes[order.mode]
        defaults = spec.figures
    overrides = {field.name: getattr(order, field.name) for field in UNIT_FIGURE_FIELDS}
    figures = replace(defaults, **{k: v for k, v in overrides.items() if v is not None})
    price = order.unit_price_usd
    if price is None:
        assert order.usd_per_th is not None
        price = order.usd_per_th * hashrate_th
    return OrderUnit(model_id=model_id, maker=maker, model=name, cooling=cooling,
                     hashrate_th=hashrate_th, power_w=power_w, unit_price_usd=price,
                     figures=figures)
