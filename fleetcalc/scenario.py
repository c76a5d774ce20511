"""Scenarios: the market and the network (TOML), parsed and validated into frozen objects."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from fleetcalc.errors import InputError
from fleetcalc.tariffs import TariffOverride
from fleetcalc.validate import ISO_ALPHA2, Field, load_toml, read_table

FAILURE_MODES = ("expected", "sampled")


@dataclass(frozen=True)
class BtcMarket:
    price_usd: float
    annual_drift: float = 0.0
    annual_volatility: float = 0.0


@dataclass(frozen=True)
class Network:
    hashrate_ehs: float
    block_height: int
    difficulty: float | None = None
    monthly_growth: float = 0.0
    annual_volatility: float = 0.0
    price_correlation: float = 0.0
    fees_btc_per_block: float = 0.0
    pool_fee: float = 0.0


@dataclass(frozen=True)
class Scenario:
    """Market and network inputs of one evaluation; hashable, so results can be cached."""

    start_date: dt.date
    horizon_days: int
    btc: BtcMarket
    network: Network
    seed: int = 1
    paths: int = 1
    failures: str = "expected"
    tariff_overrides: tuple[TariffOverride, ...] = ()
    # Origin risk: duty computed as if units of the key origin came from the value origin.
    tariff_origin_as: tuple[tuple[str, str], ...] = ()
    name: str = "scenario"
    # Which inputs are assumptions rather than observed facts (shown in UI and outputs).
    assumptions: tuple[str, ...] = ()
    source: str = "<memory>"

    @property
    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.horizon_days)

    def day_of(self, date: dt.date) -> int:
        return (date - self.start_date).days

    def tariff_origin(self, origin: str) -> str:
        return dict(self.tariff_origin_as).get(origin, origin)

    def with_changes(self, **changes: Any) -> Scenario:
        return replace(self, **changes)


_TOP = (
    Field("name", "str", "scenario"),
    Field("start_date", "date"),
    Field("horizon_days", "int", lo=1, hi=36_525),
    Field("seed", "int", 1, lo=0, hi=2**63 - 1),
    Field("paths", "int", 1, lo=1, hi=100_000),
    Field("failures", "str", "expected", choices=FAILURE_MODES),
)
_BTC = (
    Field("price_usd", "float", lo=0.0, hi=1e9, lo_open=True),
    Field("annual_drift", "float", 0.0, lo=-0.99, hi=10.0),
    Field("annual_volatility", "float", 0.0, lo=0.0, hi=5.0),
)
_NETWORK = (
    Field("hashrate_ehs", "float", lo=0.0, hi=1e9, lo_open=True),
    Field("difficulty", "float", None, lo=1.0, hi=1e30),
    Field("monthly_growth", "float", 0.0, lo=-0.5, hi=1.0),
    Field("annual_volatility", "float", 0.0, lo=0.0, hi=5.0),
    Field("price_correlation", "float", 0.0, lo=-1.0, hi=1.0),
    Field("block_height", "int", lo=0, hi=100_000_000),
    Field("fees_btc_per_block", "float", 0.0, lo=0.0, hi=1000.0),
    Field("pool_fee", "float", 0.0, lo=0.0, hi=0.99),
)
_OVERRIDE = (
    Field("origin", "origin"),
    Field("program", "str"),
    Field("rate", "float", lo=0.0, hi=10.0),
    Field("effective_from", "date"),
    Field("effective_to", "date", None),
)
_KNOWN_TABLES = ("btc", "network", "tariff_overrides", "tariff_origin_as", "assumptions")


def parse_scenario(data: dict[str, Any], source: str) -> Scenario:
    """Build a Scenario from parsed TOML; raises InputError naming the bad key."""
    top = {k: v for k, v in data.items() if k not in _KNOWN_TABLES}
    values = read_table(top, _TOP, source, "")
    btc = BtcMarket(**read_table(data.get("btc", None), _BTC, source, "btc"))
    network = Network(**read_table(data.get("network", None), _NETWORK, source, "network"))
    raw_overrides = data.get("tariff_overrides", [])
    if not isinstance(raw_overrides, list):
        raise InputError(source, "tariff_overrides", raw_overrides, "an array of tables")
    overrides = []
    for i, item in enumerate(raw_overrides):
        where = f"tariff_overrides[{i}]"
        row = read_table(item, _OVERRIDE, source, where)
        if row["effective_to"] is not None and row["effective_to"] < row["effective_from"]:
            raise InputError(
                source, f"{where}.effective_to", row["effective_to"].isoformat(),
                f"a date on or after effective_from ({row['effective_from'].isoformat()})",
            )
        overrides.append(TariffOverride(**row))
    remap = data.get("tariff_origin_as", {})
    if not isinstance(remap, dict):
        raise InputError(source, "tariff_origin_as", remap, "a table like {MY = \"CN\"}")
    for key in remap:
        if not ISO_ALPHA2.match(key):
            raise InputError(source, f"tariff_origin_as.{key}", key, "an ISO alpha-2 origin key")
    origin_as = read_table(remap, tuple(Field(k, "origin") for k in remap), source,
                           "tariff_origin_as")
    assumptions = data.get("assumptions", [])
    if not isinstance(assumptions, list) or not all(isinstance(a, str) for a in assumptions):
        raise InputError(source, "assumptions", assumptions, "a list of strings")
    return Scenario(
        btc=btc, network=network, tariff_overrides=tuple(overrides),
        tariff_origin_as=tuple(sorted(origin_as.items())), assumptions=tuple(assumptions),
        source=source, **values,
    )


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load a scenario TOML file; ``None`` gives the built-in default scenario."""
    if path is None:
        text = resources.files("fleetcalc").joinpath("data/default_scenario.toml").read_text()
        return parse_scenario(tomllib.loads(text), "built-in default scenario")
    data, source = load_toml(path)
    return parse_scenario(data, source)


def scenario_to_toml(scenario: Scenario) -> dict[str, Any]:
    """The TOML document of a scenario (round-trips through ``parse_scenario``)."""
    doc: dict[str, Any] = {
        "name": scenario.name, "start_date": scenario.start_date,
        "horizon_days": scenario.horizon_days, "seed": scenario.seed, "paths": scenario.paths,
        "failures": scenario.failures,
        "btc": {f.name: getattr(scenario.btc, f.name) for f in fields(scenario.btc)},
        "network": {
            f.name: getattr(scenario.network, f.name)
            for f in fields(scenario.network)
            if getattr(scenario.network, f.name) is not None
        },
    }
    if scenario.tariff_overrides:
        doc["tariff_overrides"] = [
            {k: v for k, v in vars(o).items() if v is not None} for o in scenario.tariff_overrides
        ]
    if scenario.tariff_origin_as:
        doc["tariff_origin_as"] = dict(scenario.tariff_origin_as)
    if scenario.assumptions:
        doc["assumptions"] = list(scenario.assumptions)
    return doc


__all__ = ["BtcMarket", "Network", "Scenario", "load_scenario", "parse_scenario"]
