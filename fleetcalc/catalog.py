"""ASIC catalog: models, operating modes and per-cooling-type defaults, shipped as CSV data.

Three tables live in ``fleetcalc/data`` and each row carries its source:

- ``catalog.csv``: one row per model at its stock operating point (hashrate, wall power, cooling,
  the plants it may be built in) and its default price where one is sourced, with the price's
  date and basis (``PRICE_BASES``: maker shop, reseller, a disclosed order, or the dated ASIC
  price index by efficiency tier times the model's TH/s);
- ``price_index.csv``: that index, USD per TH/s by efficiency tier, dated;
- ``modes.csv``: other published operating points (bins, eco/turbo), never the ``stock`` one;
- ``cooling_defaults.csv``: degradation, failure, repair, service life, freight and install
  defaults per cooling type (the fields of ``UnitFigures``). They are labelled assumptions: no
  authoritative figures exist.

Each table's schema is declared once here and checked when the file is read, so a broken data
file fails loudly at load time instead of producing a silently wrong evaluation.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from types import MappingProxyType
from typing import Any

import polars as pl

from fleetcalc.validate import ISO_3166_ALPHA2, checked, table_fields

COOLING_TYPES = ("air", "hydro", "immersion")
CONFIDENCE_LEVELS = ("high", "medium-high", "medium", "low-medium", "low")
STOCK_MODE = "stock"

# What a catalog price is: the basis is shown next to every default price, so a tier-index
# estimate is never mistaken for a quote.
PRICE_BASES: dict[str, str] = {
    "list": "maker's published list price",
    "shop": "maker's web shop price",
    "reseller": "reseller price (new unit)",
    "order": "price implied by a disclosed bulk order",
    "tier_index": "ASIC price index of the model's efficiency tier x its TH/s (traded units)",
}
TIER_INDEX_BASIS = "tier_index"
# A default price older than this on the day it is used is flagged (issue 11: stale list prices
# were copied silently into orders), and a shipped quote older than this when the newest price
# index was taken must give way to the index.
PRICE_MAX_AGE_MONTHS = 6

@dataclass(frozen=True, kw_only=True)
class UnitFigures:
    """The per-unit figures a cooling type supplies by default and any order may override.

    Declared once, here: the columns of ``cooling_defaults.csv`` and their checks, the optional
    ``[[orders]]`` keys of a plan with their bounds (``fleetcalc.plan.Order``) and the figures of
    a resolved unit (``fleetcalc.units.OrderUnit``) all come from these fields. The bounds are
    the plan's: a shipped default must be a value an order could give.
    """

    annual_degradation: float = checked("float", lo=0.0, hi=0.99)
    annual_failure_rate: float = checked("float", lo=0.0, hi=50.0)
    repair_days: int = checked("int", lo=0, hi=3650)
    repair_cost_usd: float = checked("float", lo=0.0, hi=1e7)
    # From one day of service (below it a unit would retire before it mines).
    service_life_years: float = checked("float", lo=1 / 365, hi=50.0)
    freight_usd_per_unit: float = checked("float", lo=0.0, hi=1e7)
    install_usd_per_unit: float = checked("float", lo=0.0, hi=1e7)


UNIT_FIGURE_FIELDS = table_fields(UnitFigures)
_POLARS_TYPES = {"float": pl.Float64(), "int": pl.Int64()}

CATALOG_SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String(),
    "maker": pl.String(),
    "model": pl.String(),
    "hashrate_th": pl.Float64(),
    "power_w": pl.Float64(),
    "efficiency_j_per_th": pl.Float64(),
    "cooling": pl.String(),
    "release": pl.String(),
    "price_usd": pl.Float64(),  # default unit price; empty when no price is sourced
    "price_usd_per_th": pl.Float64(),
    "price_date": pl.String(),  # YYYY-MM-DD, or YYYY-MM when the source gives only the month
    "price_basis": pl.String(),  # a PRICE_BASES key
    # Stored in the CSV as "MY;ID;TH"; the loaded frame holds a list, first entry = the plant the
    # reference names first.
    "origins": pl.List(pl.String()),
    "origin_basis": pl.String(),
    "spec_source": pl.String(),
    "price_source": pl.String(),
    "confidence": pl.String(),
    "notes": pl.String(),
}

MODES_SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String(),
    "mode": pl.String(),
    "hashrate_th": pl.Float64(),
    "power_w": pl.Float64(),
    "source": pl.String(),
}

PRICE_INDEX_SCHEMA: dict[str, pl.DataType] = {
    "tier": pl.String(),
    "j_per_th_from": pl.Float64(),  # tiers are half-open: from <= J/TH < to
    "j_per_th_to": pl.Float64(),
    "usd_per_th": pl.Float64(),
    "index_date": pl.Date(),
    "source": pl.String(),
    "confidence": pl.String(),
    "notes": pl.String(),
}

COOLING_DEFAULTS_SCHEMA: dict[str, pl.DataType] = {
    "cooling": pl.String(),
    **{f.name: _POLARS_TYPES[f.kind] for f in UNIT_FIGURE_FIELDS},
    "status": pl.String(),
    "source": pl.String(),
}

_MODEL_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_PRICE_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
# The reference rounds J/TH to 0.1; published power and hashrate agree with it within ~0.5 %.
_EFFICIENCY_REL_TOL = 0.01


class DataFileError(ValueError):
    """A shipped data file breaks its declared schema or value rules (a packaging bug)."""


def read_data_csv(name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Read ``fleetcalc/data/<name>`` with exactly ``schema`` (column names, order and types)."""
    raw = files("fleetcalc").joinpath("data", name).read_bytes()
    header = raw.split(b"\n", 1)[0].decode().strip().split(",")
    if header != list(schema):
        raise DataFileError(f"{name}: columns {header}; expected {list(schema)}")
    try:
        return pl.read_csv(io.BytesIO(raw), schema=schema)
    except pl.exceptions.PolarsError as exc:
        raise DataFileError(f"{name}: {exc}") from exc


def _fail_if(frame: pl.DataFrame, bad: pl.Expr, name: str, rule: str, key: str) -> None:
    offenders = frame.filter(bad.fill_null(True))
    if offenders.height:
        raise DataFileError(f"{name}: {rule}; offending {key}: {offenders[key].to_list()}")


def _require_text(frame: pl.DataFrame, name: str, columns: tuple[str, ...], key: str) -> None:
    for column in columns:
        blank = pl.col(column).str.strip_chars().str.len_chars() == 0
        _fail_if(frame, blank, name, f"{column} must be non-empty", key)


def _validate_catalog(frame: pl.DataFrame) -> None:
    name, key = "catalog.csv", "model_id"
    _require_text(frame, name, ("model_id", "maker", "model", "cooling", "spec_source",
                                "origin_basis", "confidence"), key)
    _fail_if(frame, ~pl.col("model_id").str.contains(_MODEL_ID.pattern), name,
             "model_id must be a lowercase slug", key)
    _fail_if(frame, pl.col("model_id").is_duplicated(), name, "model_id must be unique", key)
    _fail_if(frame, (pl.col("hashrate_th") <= 0) | (pl.col("power_w") <= 0), name,
             "hashrate_th and power_w must be positive", key)
    implied = pl.col("power_w") / pl.col("hashrate_th")
    _fail_if(frame, (implied / pl.col("efficiency_j_per_th") - 1).abs() > _EFFICIENCY_REL_TOL,
             name, "efficiency_j_per_th must match power_w / hashrate_th", key)
    _fail_if(frame, ~pl.col("cooling").is_in(COOLING_TYPES), name,
             f"cooling must be one of {COOLING_TYPES}", key)
    _fail_if(frame, ~pl.col("confidence").is_in(CONFIDENCE_LEVELS), name,
             f"confidence must be one of {CONFIDENCE_LEVELS}", key)
    _fail_if(frame, pl.col("origins").list.len() == 0, name, "origins must list a plant", key)
    bad_origin = pl.col("origins").list.eval(~pl.element().is_in(list(ISO_3166_ALPHA2))).list.any()
    _fail_if(frame, bad_origin, name, "origins must be ISO 3166 alpha-2 codes", key)
    check_prices(frame, load_price_index())


def _price_date_expr() -> pl.Expr:
    """``price_date`` as a date: a month-only date counts from the 1st (the oldest it can be)."""
    text = pl.col("price_date")
    padded = pl.when(text.str.len_chars() == 7).then(text + "-01").otherwise(text)
    return padded.str.to_date("%Y-%m-%d", strict=False)


def _with_index_tier(frame: pl.DataFrame, index: pl.DataFrame) -> pl.DataFrame:
    """Add ``_tier_usd_per_th`` and ``_tier_date``: the index tier holding the model's J/TH
    (null outside every tier), keeping ``frame``'s row order."""
    tiers = index.select("j_per_th_from", "j_per_th_to", _tier_usd_per_th="usd_per_th",
                         _tier_date="index_date").sort("j_per_th_from")
    keyed = frame.with_row_index("_row").sort("efficiency_j_per_th")
    joined = keyed.join_asof(tiers, left_on="efficiency_j_per_th", right_on="j_per_th_from")
    outside = pl.col("efficiency_j_per_th") >= pl.col("j_per_th_to")
    return (
        joined.with_columns(
            pl.when(outside).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("_tier_usd_per_th", "_tier_date")
        )
        .sort("_row")
        .drop("_row", "j_per_th_from", "j_per_th_to")
    )


def check_prices(frame: pl.DataFrame, index: pl.DataFrame) -> None:
    """Raise ``DataFileError`` unless every price of ``frame`` (catalog rows) has a date, basis
    and source, every ``tier_index`` price is ``index``'s value and date for the model's tier,
    and no other price was already stale on the newest index date (``load_catalog`` runs it on
    the shipped files; public so tests can feed it broken rows)."""
    name, key = "catalog.csv", "model_id"
    # A price is only meaningful with its date, basis and source; all or none.
    priced = pl.col("price_usd").is_not_null()
    _fail_if(frame.filter(priced), (pl.col("price_usd") <= 0)
             | ~pl.col("price_date").str.contains(_PRICE_DATE.pattern)
             | _price_date_expr().is_null()
             | ~pl.col("price_basis").is_in(list(PRICE_BASES))
             | (pl.col("price_source").str.len_chars() == 0)
             | ((pl.col("price_usd") / pl.col("hashrate_th")
                 - pl.col("price_usd_per_th")).abs() > 0.01),
             name, "a price needs a positive value, a YYYY-MM[-DD] price_date, a price_basis of "
             f"{list(PRICE_BASES)}, a price_source and a matching price_usd_per_th", key)
    _fail_if(frame.filter(~priced), pl.col("price_date").is_not_null()
             | pl.col("price_usd_per_th").is_not_null() | pl.col("price_basis").is_not_null(),
             name, "price_date, price_usd_per_th and price_basis must be empty without a price",
             key)
    tiered = _with_index_tier(frame.filter(priced), index)
    from_index = pl.col("price_basis") == TIER_INDEX_BASIS
    _fail_if(tiered.filter(from_index),
             (pl.col("price_usd_per_th") != pl.col("_tier_usd_per_th"))
             | (_price_date_expr() != pl.col("_tier_date")),
             name, "a tier_index price must be price_index.csv's USD/TH and date for the model's "
             "efficiency tier", key)
    # Prefer the dated index over a stale quote: a quote must still be fresh on the index date.
    newest_index = index["index_date"].max()
    expires = _price_date_expr().dt.offset_by(f"{PRICE_MAX_AGE_MONTHS}mo")
    _fail_if(tiered.filter(~from_index & pl.col("_tier_usd_per_th").is_not_null()),
             expires < pl.lit(newest_index), name,
             f"a quote older than {PRICE_MAX_AGE_MONTHS} months on the newest price index date "
             f"({newest_index}) must give way to the tier_index price", key)


@functools.cache
def load_price_index() -> pl.DataFrame:
    """The ASIC price index by efficiency tier, schema ``PRICE_INDEX_SCHEMA``, sorted by tier."""
    frame = read_data_csv("price_index.csv", PRICE_INDEX_SCHEMA).sort("j_per_th_from")
    name, key = "price_index.csv", "tier"
    _require_text(frame, name, ("tier", "source", "confidence"), key)
    _fail_if(frame, pl.col("tier").is_duplicated(), name, "tier must be unique", key)
    _fail_if(frame, (pl.col("j_per_th_from") < 0)
             | (pl.col("j_per_th_to") <= pl.col("j_per_th_from")), name,
             "tiers need 0 <= j_per_th_from < j_per_th_to", key)
    _fail_if(frame, pl.col("j_per_th_from") < pl.col("j_per_th_to").shift(1).fill_null(0.0),
             name, "tiers must not overlap", key)
    _fail_if(frame, pl.col("usd_per_th") <= 0, name, "usd_per_th must be positive", key)
    _fail_if(frame, ~pl.col("confidence").is_in(CONFIDENCE_LEVELS), name,
             f"confidence must be one of {CONFIDENCE_LEVELS}", key)
    return frame


@functools.cache
def load_catalog() -> pl.DataFrame:
    """All catalog models, schema ``CATALOG_SCHEMA``, in file order (grouped by maker)."""
    raw = read_data_csv("catalog.csv", {**CATALOG_SCHEMA, "origins": pl.String()})
    frame = raw.with_columns(pl.col("origins").fill_null("").str.split(";")
                             .list.eval(pl.element().filter(pl.element() != "")))
    _validate_catalog(frame)
    return frame


@functools.cache
def load_modes() -> pl.DataFrame:
    """Non-stock operating points, schema ``MODES_SCHEMA``; each model_id is in the catalog."""
    frame = read_data_csv("modes.csv", MODES_SCHEMA)
    name, key = "modes.csv", "model_id"
    _require_text(frame, name, ("model_id", "mode", "source"), key)
    _fail_if(frame, ~pl.col("model_id").is_in(load_catalog()["model_id"].implode()), name,
             "model_id must be a catalog model", key)
    _fail_if(frame, pl.col("mode") == STOCK_MODE, name,
             "the stock mode is the catalog row; do not repeat it", key)
    _fail_if(frame, pl.struct("model_id", "mode").is_duplicated(), name,
             "(model_id, mode) must be unique", key)
    _fail_if(frame, (pl.col("hashrate_th") <= 0) | (pl.col("power_w") <= 0), name,
             "hashrate_th and power_w must be positive", key)
    return frame


@functools.cache
def load_cooling_defaults() -> pl.DataFrame:
    """Per-cooling-type defaults, schema ``COOLING_DEFAULTS_SCHEMA``, one row per cooling type."""
    frame = read_data_csv("cooling_defaults.csv", COOLING_DEFAULTS_SCHEMA)
    name, key = "cooling_defaults.csv", "cooling"
    _require_text(frame, name, ("status", "source"), key)
    if sorted(frame["cooling"].to_list()) != sorted(COOLING_TYPES):
        raise DataFileError(f"{name}: needs exactly one row per cooling type {COOLING_TYPES}")
    for field in UNIT_FIGURE_FIELDS:
        assert field.lo is not None and field.hi is not None and not field.lo_open
        _fail_if(frame, ~pl.col(field.name).is_between(field.lo, field.hi), name,
                 f"{field.name} must be {field.expected()}", key)
    return frame


@functools.cache
def cooling_figures(cooling: str) -> UnitFigures:
    """The default figures of a unit of cooling type ``cooling`` (one of ``COOLING_TYPES``)."""
    row = load_cooling_defaults().filter(pl.col("cooling") == cooling).row(0, named=True)
    return UnitFigures(**{field.name: row[field.name] for field in UNIT_FIGURE_FIELDS})


@dataclass(frozen=True)
class ModelSpec:
    """One catalog model with its cooling type's figures and every operating mode resolved."""

    model_id: str
    maker: str
    model: str
    hashrate_th: float
    power_w: float
    efficiency_j_per_th: float
    cooling: str
    origins: tuple[str, ...]
    # The default unit price as the catalog states it (see default_price() for its date, basis
    # and age); None when no price is sourced.
    price_usd: float | None
    price_date: str | None
    price_basis: str | None
    figures: UnitFigures  # its cooling type's
    # mode -> (hashrate_th, power_w); always holds "stock" (the catalog row). Read-only: specs
    # are shared (``get_model`` caches them).
    modes: Mapping[str, tuple[float, float]]
    spec_source: str


def _catalog_row(model_id: str) -> dict[str, Any]:
    match = load_catalog().filter(pl.col("model_id") == model_id)
    if match.height == 0:
        raise KeyError(model_id)
    return match.row(0, named=True)


@functools.cache
def get_model(model_id: str) -> ModelSpec:
    """The catalog model ``model_id``; raises ``KeyError(model_id)`` if there is none.

    Cached (the catalog is shipped data, read once per process): every plan check, unit and
    editor refresh asks, ~1 ms a filter of the catalog frame, a dozen times an app edit."""
    row = _catalog_row(model_id)
    modes = {STOCK_MODE: (row["hashrate_th"], row["power_w"])}
    extra = load_modes().filter(pl.col("model_id") == model_id)
    modes.update({m: (h, p) for m, h, p in extra.select("mode", "hashrate_th", "power_w").rows()})
    return ModelSpec(
        model_id=row["model_id"], maker=row["maker"], model=row["model"],
        hashrate_th=row["hashrate_th"], power_w=row["power_w"],
        efficiency_j_per_th=row["efficiency_j_per_th"], cooling=row["cooling"],
        origins=tuple(row["origins"]), price_usd=row["price_usd"],
        price_date=row["price_date"], price_basis=row["price_basis"],
        figures=cooling_figures(row["cooling"]), modes=MappingProxyType(modes),
        spec_source=row["spec_source"],
    )


def price_date_start(text: str) -> dt.date:
    """A catalog ``price_date`` as a date; ``YYYY-MM`` counts from the 1st of the month, the
    oldest the price can be, so its age is never understated."""
    return dt.date.fromisoformat(f"{text}-01" if len(text) == 7 else text)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar ``months``, clipped to the month's last day (Aug 31 + 6 months
    is Feb 28 or 29), as polars' ``offset_by("6mo")`` does in the catalog checks."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last_day))


@dataclass(frozen=True)
class CatalogPrice:
    """A model's price with everything a user needs to judge it (see ``default_price``)."""

    model_id: str
    price_usd: float  # per unit, at the model's stock hashrate
    price_usd_per_th: float
    price_date: dt.date  # a month-only source date counts from the 1st of the month
    price_date_text: str  # as the source gives it: "2026-10" or "2026-09-27"
    basis: str  # a PRICE_BASES key
    basis_label: str  # PRICE_BASES[basis], for display
    source: str
    on: dt.date  # the day the age is judged on
    age_days: int  # days from price_date to on (negative if the price is dated after on)
    stale: bool  # older than PRICE_MAX_AGE_MONTHS on `on`


def _catalog_price(model_id: str, usd_per_th: float, price_usd: float, date_text: str,
                   basis: str, source: str, on: dt.date) -> CatalogPrice:
    dated = price_date_start(date_text)
    return CatalogPrice(
        model_id=model_id, price_usd=price_usd, price_usd_per_th=usd_per_th,
        price_date=dated, price_date_text=date_text, basis=basis,
        basis_label=PRICE_BASES[basis], source=source, on=on, age_days=(on - dated).days,
        stale=on > add_months(dated, PRICE_MAX_AGE_MONTHS),
    )


def default_price(model_id: str, on: dt.date) -> CatalogPrice | None:
    """The price fleetcalc offers for ``model_id`` when the user gives none (e.g. on a model
    change in the TUI), with its date, basis and source, and whether it is older than
    ``PRICE_MAX_AGE_MONTHS`` months on ``on`` (a price dated ``YYYY-MM`` counts from the 1st).

    None when the catalog has no sourced price for the model; ``KeyError(model_id)`` for an
    unknown model. Callers that use a stale price as a default should warn, never refuse.
    """
    row = _catalog_row(model_id)
    if row["price_usd"] is None:
        return None
    return _catalog_price(model_id, row["price_usd_per_th"], row["price_usd"], row["price_date"],
                          row["price_basis"], row["price_source"], on)


def index_price(model_id: str, on: dt.date) -> CatalogPrice | None:
    """The newest ASIC price index value for ``model_id``'s efficiency tier times its stock
    hashrate, labelled ``tier_index`` (a market reference for any model, priced or not).

    None when the model's J/TH is outside every tier; ``KeyError(model_id)`` for an unknown
    model.
    """
    spec = get_model(model_id)
    tiers = load_price_index().filter(
        (pl.col("j_per_th_from") <= spec.efficiency_j_per_th)
        & (spec.efficiency_j_per_th < pl.col("j_per_th_to"))
    )
    if tiers.height == 0:
        return None
    tier = tiers.row(0, named=True)
    usd_per_th = tier["usd_per_th"]
    return _catalog_price(model_id, usd_per_th, round(usd_per_th * spec.hashrate_th, 2),
                          tier["index_date"].isoformat(), TIER_INDEX_BASIS, tier["source"], on)


def model_ids() -> list[str]:
    """Every catalog model id, in catalog order."""
    return load_catalog()["model_id"].to_list()


def makers() -> list[str]:
    """Every maker in the catalog, in order of first appearance."""
    return load_catalog()["maker"].unique(maintain_order=True).to_list()
