"""ASIC catalog: models, operating modes and per-cooling-type defaults, shipped as CSV data.

Three tables live in ``fleetcalc/data`` and each row carries its source:

- ``catalog.csv``: one row per model at its stock operating point (hashrate, wall power, cooling,
  a dated list price where one was published, the plants it may be built in);
- ``modes.csv``: other published operating points (bins, eco/turbo), never the ``stock`` one;
- ``cooling_defaults.csv``: degradation, failure, repair, service life, freight and install
  defaults per cooling type (the fields of ``UnitFigures``). They are labelled assumptions: no
  authoritative figures exist.

Each table's schema is declared once here and checked when the file is read, so a broken data
file fails loudly at load time instead of producing a silently wrong evaluation.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from importlib.resources import files

import polars as pl

from fleetcalc.validate import ISO_3166_ALPHA2, checked, table_fields

COOLING_TYPES = ("air", "hydro", "immersion")
CONFIDENCE_LEVELS = ("high", "medium-high", "medium", "low-medium", "low")
STOCK_MODE = "stock"


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
    "list_price_usd": pl.Float64(),
    "list_price_usd_per_th": pl.Float64(),
    "price_date": pl.String(),
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
    # A price is only meaningful with its date and source; both or neither.
    priced = pl.col("list_price_usd").is_not_null()
    _fail_if(frame.filter(priced), (pl.col("list_price_usd") <= 0)
             | ~pl.col("price_date").str.contains(_PRICE_DATE.pattern)
             | (pl.col("price_source").str.len_chars() == 0)
             | ((pl.col("list_price_usd") / pl.col("hashrate_th")
                 - pl.col("list_price_usd_per_th")).abs() > 0.01),
             name, "a list price needs a positive value, YYYY-MM[-DD] price_date, price_source and "
             "a matching list_price_usd_per_th", key)
    _fail_if(frame.filter(~priced), pl.col("price_date").is_not_null()
             | pl.col("list_price_usd_per_th").is_not_null(), name,
             "price_date and list_price_usd_per_th must be empty without a list price", key)


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
    list_price_usd: float | None
    price_date: str | None
    figures: UnitFigures  # its cooling type's
    # mode -> (hashrate_th, power_w); always holds "stock" (the catalog row).
    modes: dict[str, tuple[float, float]]
    spec_source: str


def get_model(model_id: str) -> ModelSpec:
    """The catalog model ``model_id``; raises ``KeyError(model_id)`` if there is none."""
    match = load_catalog().filter(pl.col("model_id") == model_id)
    if match.height == 0:
        raise KeyError(model_id)
    row = match.row(0, named=True)
    modes = {STOCK_MODE: (row["hashrate_th"], row["power_w"])}
    extra = load_modes().filter(pl.col("model_id") == model_id)
    modes.update({m: (h, p) for m, h, p in extra.select("mode", "hashrate_th", "power_w").rows()})
    return ModelSpec(
        model_id=row["model_id"], maker=row["maker"], model=row["model"],
        hashrate_th=row["hashrate_th"], power_w=row["power_w"],
        efficiency_j_per_th=row["efficiency_j_per_th"], cooling=row["cooling"],
        origins=tuple(row["origins"]), list_price_usd=row["list_price_usd"],
        price_date=row["price_date"], figures=cooling_figures(row["cooling"]), modes=modes,
        spec_source=row["spec_source"],
    )


def model_ids() -> list[str]:
    """Every catalog model id, in catalog order."""
    return load_catalog()["model_id"].to_list()


def makers() -> list[str]:
    """Every maker in the catalog, in order of first appearance."""
    return load_catalog()["maker"].unique(maintain_order=True).to_list()
