"""Scenarios: the market and the network (TOML), parsed and validated into frozen objects."""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from fleetcalc.errors import InputError
from fleetcalc.tariffs import OriginRisk, TariffOverride, shipped_overrides_path
from fleetcalc.validate import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    Field,
    check_fields,
    checked,
    is_origin,
    load_toml,
    parse_toml_text,
    read_table,
    table_fields,
)

FAILURE_MODES = ("expected", "sampled")
NETWORK_MODELS = ("exogenous", "responsive")
# [network] keys only one model reads: giving one to the other model is an error, so a value
# that would be ignored never looks like it was used.
EXOGENOUS_ONLY_KEYS = ("monthly_growth", "hashrate_series", "annual_volatility",
                       "price_correlation")
RESPONSIVE_ONLY_KEYS = (
    "power_median_usd_per_kwh", "power_price_log_sd", "online_response_days",
    "capex_usd_per_th", "target_payback_days", "supply_ehs_per_month", "order_lag_days",
    "service_life_years", "frontier_j_per_th", "frontier_improvement_per_year",
    "order_volatility",
)


# Every TOML key below is declared once, as a ``checked`` dataclass field (kind, bounds,
# default); the parser's field tables are read back from the classes.


@dataclass(frozen=True)
class BtcMarket:
    # On start_date; the series' first value when price_series is given.
    price_usd: float = checked("float", lo=0.01, hi=1e9, optional_in_file=True)
    annual_drift: float = checked("float", 0.0, lo=-0.99, hi=10.0)
    annual_volatility: float = checked("float", 0.0, lo=0.0, hi=2.0)
    # CSV file as written in the TOML (relative to it).
    price_series: str | None = checked("str", None)


@dataclass(frozen=True, kw_only=True)
class Network:
    # On start_date; the series' first value when hashrate_series is given.
    hashrate_ehs: float = checked("float", lo=1e-6, hi=1e9, optional_in_file=True)
    # CSV file as written in the TOML (relative to it).
    hashrate_series: str | None = checked("str", None)
    difficulty: float | None = checked("float", None, lo=1.0, hi=1e30)
    monthly_growth: float = checked("float", 0.0, lo=-0.5, hi=1.0)
    annual_volatility: float = checked("float", 0.0, lo=0.0, hi=2.0)
    price_correlation: float = checked("float", 0.0, lo=-1.0, hi=1.0)
    block_height: int = checked("int", lo=0, hi=100_000_000)
    fees_btc_per_block: float = checked("float", 0.0, lo=0.0, hi=1000.0)
    pool_fee: float = checked("float", 0.0, lo=0.0, hi=0.99)
    # "exogenous": hashrate grows at monthly_growth (or follows hashrate_series);
    # "responsive": it comes from the economics of the network's miners (fleetcalc.tiers,
    # kernels.responsive). The responsive model's parameters follow; the calibrated ones are
    # the fit of `python -m benchmarks.backtest_network --fit` on 2024-2026.
    model: str = checked("str", "exogenous", choices=NETWORK_MODELS)
    # Median all-in power price of the network's miners (calibrated; facts 4: self-miners
    # ~2-4 c/kWh, hosted 5-9 c).
    power_median_usd_per_kwh: float = checked("float", 0.04778, lo=0.001, hi=1.0)
    # Spread of the miners' power prices: the standard deviation of their log, of a
    # log-logistic distribution (facts 4's range, 2-9 c/kWh as the 10th-90th percentiles).
    power_price_log_sd: float = checked("float", 0.5, lo=0.05, hi=3.0)
    # Time constant (days) of the moving averages of hashprice miners act on (calibrated).
    online_response_days: float = checked("float", 30.0, lo=1.0, hi=365.0)
    # Capex of a new machine plus its share of a site, USD per TH/s (facts 1.2: new machines
    # USD 13-26/TH 2024-2026; facts 4: USD 0.3-0.8M per MW, ~USD 7/TH at 14 J/TH). ASSUMPTION.
    capex_usd_per_th: float = checked("float", 24.0, lo=0.1, hi=1000.0)
    # Payback at which the frontier machine is ordered at the full supply rate (calibrated).
    target_payback_days: float = checked("float", 641.7, lo=1.0, hi=10_000.0)
    # Most new hashrate the makers deliver a month, EH/s (calibrated).
    supply_ehs_per_month: float = checked("float", 34.24, lo=0.0, hi=1e6)
    # Days from an order to mining (calibrated among 60, 90, 120 and 180).
    order_lag_days: int = checked("int", 60, lo=1, hi=3650)
    # Machines retire this long after installation. ASSUMPTION (filings depreciate over 2-5
    # years, facts 4; machines run longer while they earn).
    service_life_years: float = checked("float", 6.0, lo=0.5, hi=50.0)
    # Efficiency of the machines ordered at the start (J/TH); default from the date
    # (fleetcalc.tiers.default_frontier_j_per_th).
    frontier_j_per_th: float | None = checked("float", None, lo=1.0, hi=1000.0)
    frontier_improvement_per_year: float = checked("float", 0.10, lo=0.0, hi=0.9)
    # Monte Carlo (paths > 1): standard deviation of the log of each month's order factor.
    # ASSUMPTION.
    order_volatility: float = checked("float", 0.25, lo=0.0, hi=2.0)


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """Market and network inputs of one evaluation; hashable, so results can be cached."""

    name: str = checked("str", "scenario", max_chars=MAX_NAME_CHARS)
    start_date: dt.date = checked("date")
    horizon_days: int = checked("int", lo=1, hi=36_525)
    seed: int = checked("int", 1, lo=0, hi=2**63 - 1)
    paths: int = checked("int", 1, lo=1, hi=100_000)
    failures: str = checked("str", "expected", choices=FAILURE_MODES)
    btc: BtcMarket
    network: Network
    tariff_overrides: tuple[TariffOverride, ...] = ()
    # Origin risk: duty computed as if units of the key origin came from the value origin.
    tariff_origin_as: tuple[tuple[str, str], ...] = ()
    # Origin risk: the duty also reported as if customs deemed orders of another origin.
    origin_risk: OriginRisk = field(default_factory=OriginRisk)
    # Which inputs are assumptions rather than observed facts (shown in UI and outputs).
    assumptions: tuple[str, ...] = ()
    source: str = "<memory>"
    # Daily values from btc.price_series / network.hashrate_series, one per horizon day; they
    # replace the generated paths (tuples keep the Scenario hashable).
    price_series_usd: tuple[float, ...] | None = field(default=None, repr=False)
    hashrate_series_ehs: tuple[float, ...] | None = field(default=None, repr=False)

    @property
    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.horizon_days)

    def day_of(self, date: dt.date) -> int:
        return (date - self.start_date).days

    def tariff_origin(self, origin: str) -> str:
        return dict(self.tariff_origin_as).get(origin, origin)

    def with_changes(self, **changes: Any) -> Scenario:
        """This scenario with fields changed, checked as the scenario parser checks a file
        (``InputError`` naming the key)."""
        return replace(self, **changes).validate()

    def validate(self) -> Scenario:
        """This scenario if it passes every check the parser makes on a file; ``InputError``
        naming the key otherwise, ``TypeError`` for a part that is not of its class. For
        scenarios built or changed in memory: ``evaluate`` calls it."""
        source = self.source
        for name, part, cls in (("btc", self.btc, BtcMarket), ("network", self.network, Network),
                                ("origin_risk", self.origin_risk, OriginRisk)):
            if not isinstance(part, cls):
                raise TypeError(f"Scenario.{name} must be a fleetcalc {cls.__name__}, not "
                                f"{type(part).__name__}")
        check_fields(self, source, "")
        _check_path_days(source, self.paths, self.horizon_days)
        for prefix, part in (("btc", self.btc), ("network", self.network),
                             ("origin_risk", self.origin_risk)):
            check_fields(part, source, prefix)
        _check_levels(self)
        for i, override in enumerate(self.tariff_overrides):
            if not isinstance(override, TariffOverride):
                raise TypeError(f"Scenario.tariff_overrides[{i}] must be a fleetcalc "
                                f"TariffOverride, not {type(override).__name__}")
            check_fields(override, source, f"tariff_overrides[{i}]")
            _check_override_dates(override, source, f"tariff_overrides[{i}]")
        _check_origin_map(dict(self.tariff_origin_as), source)
        _check_assumptions(self.assumptions, source)
        return self


# Memory of the market arrays grows with paths x days: ten arrays of 8 bytes per path-day, so
# this caps them near 1.6 GB (e.g. 10,000 paths over five years).
MAX_PATH_DAYS = 20_000_000
# The deterministic price and hashrate paths must stay inside these bounds over the horizon:
# beyond them a drift compounds to overflow (inf) or underflow (0) in the daily arrays.
PRICE_BOUNDS_USD = (1e-6, 1e15)
HASHRATE_BOUNDS_EHS = (1e-9, 1e15)
SCENARIO_FIELDS = table_fields(Scenario)
BTC_FIELDS = table_fields(BtcMarket)
NETWORK_FIELDS = table_fields(Network)
OVERRIDE_FIELDS = table_fields(TariffOverride)
ORIGIN_RISK_FIELDS = table_fields(OriginRisk)
_KNOWN_TABLES = ("btc", "network", "tariff_overrides", "tariff_origin_as", "origin_risk",
                 "assumptions")


def _series_path(source: str, value: str) -> Path:
    return Path(os.path.normpath(Path(source).parent / value))


def series_files(scenario: Scenario) -> dict[str, Path]:
    """The CSV files the scenario's series keys name (``btc.price_series``,
    ``network.hashrate_series``), resolved as the parser resolved them."""
    named = {"btc.price_series": scenario.btc.price_series,
             "network.hashrate_series": scenario.network.hashrate_series}
    return {key: _series_path(scenario.source, value)
            for key, value in named.items() if value is not None}


def _series_file(source: str, where: str, value: str) -> Path:
    """The CSV a series key names, relative to the scenario file's folder."""
    path = _series_path(source, value)
    if not path.is_file():
        state = "is a directory" if path.is_dir() else "does not exist"
        raise InputError(source, where, value,
                         f"a CSV file, relative to the scenario's folder ({path} {state})")
    return path


def _level_from_series(
    table: dict[str, Any], values: dict[str, Any], level_key: str, growth_key: str,
    series_key: str, prefix: str, source: str,
) -> None:
    """A series replaces the start level and its growth: giving both is an error, so a value
    that would be ignored never looks like it was used."""
    if values[series_key] is None:
        if values[level_key] is None:
            field = next(f for f in (BTC_FIELDS + NETWORK_FIELDS) if f.name == level_key)
            raise InputError(source, f"{prefix}.{level_key}", "(missing)",
                             f"{field.expected()} (or {prefix}.{series_key}, a CSV file)")
        return
    for key in (level_key, growth_key):
        if key in table:
            raise InputError(source, f"{prefix}.{key}", table[key],
                             f"no {key} when {prefix}.{series_key} is given "
                             "(the series sets it day by day)")


def _check_level(
    source: str, where: str, value: float, start: float, annual_growth: float, n_days: int,
    bounds: tuple[float, float], unit: str,
) -> None:
    """The deterministic path start * (1 + g) ** (t / 365) must stay inside ``bounds``."""
    log_end = math.log(start) + math.log1p(annual_growth) * (n_days - 1) / 365.0
    lo, hi = bounds
    if not math.log(lo) <= log_end <= math.log(hi):
        raise InputError(source, where, value,
                         f"a growth keeping the level within [{lo:g}, {hi:g}] {unit} over "
                         f"the horizon (it would reach about 1e{log_end / math.log(10):.0f})")


def _check_network_model(
    net_table: dict[str, Any], model: str, source: str, start: dt.date
) -> None:
    """Keys of the other model are errors; the responsive model needs an installed-base
    snapshot dated on or before the start."""
    other = EXOGENOUS_ONLY_KEYS if model == "responsive" else RESPONSIVE_ONLY_KEYS
    for key in other:
        if key in net_table:
            needs = "exogenous" if model == "responsive" else "responsive"
            default = "" if "model" in net_table else "the default; "
            raise InputError(source, f"network.{key}", net_table[key],
                             f"no {key} with network.model = '{model}' ({default}only the "
                             f"'{needs}' model reads it)")
    if model == "responsive":
        from fleetcalc.tiers import check_start_date

        check_start_date(start, source)


def _read_market(
    data: dict[str, Any], source: str, start: dt.date, n_days: int,
) -> tuple[BtcMarket, Network, tuple[float, ...] | None, tuple[float, ...] | None]:
    """The ``[btc]`` and ``[network]`` tables, with the daily series they name (or None)."""
    from fleetcalc.series import HASHRATE_SERIES, PRICE_SERIES, load_series

    btc_table, net_table = data.get("btc"), data.get("network")
    btc_values = read_table(btc_table, BTC_FIELDS, source, "btc")
    net_values = read_table(net_table, NETWORK_FIELDS, source, "network")
    assert isinstance(btc_table, dict) and isinstance(net_table, dict)  # read_table checked
    _check_network_model(net_table, net_values["model"], source, start)
    _level_from_series(btc_table, btc_values, "price_usd", "annual_drift", "price_series",
                       "btc", source)
    _level_from_series(net_table, net_values, "hashrate_ehs", "monthly_growth",
                       "hashrate_series", "network", source)
    price_series = hashrate_series = None
    if btc_values["price_series"] is not None:
        path = _series_file(source, "btc.price_series", btc_values["price_series"])
        price_series = load_series(path, PRICE_SERIES, start, n_days)
        btc_values["price_usd"] = price_series[0]
    if net_values["hashrate_series"] is not None:
        path = _series_file(source, "network.hashrate_series", net_values["hashrate_series"])
        hashrate_series = load_series(path, HASHRATE_SERIES, start, n_days)
        net_values["hashrate_ehs"] = hashrate_series[0]
    return BtcMarket(**btc_values), Network(**net_values), price_series, hashrate_series


def _check_path_days(source: str, paths: int, n_days: int) -> None:
    if paths * n_days > MAX_PATH_DAYS:
        raise InputError(source, "paths", paths,
                         f"at most {MAX_PATH_DAYS:,} path-days (paths x horizon_days), so at "
                         f"most {MAX_PATH_DAYS // n_days:,} paths over {n_days} days")


def _check_levels(scenario: Scenario) -> None:
    """A series covers the horizon; without one, the growth keeps the level in bounds."""
    from fleetcalc.series import HASHRATE_SERIES, PRICE_SERIES

    btc, net, n_days = scenario.btc, scenario.network, scenario.horizon_days
    for series, kind in ((scenario.price_series_usd, PRICE_SERIES),
                         (scenario.hashrate_series_ehs, HASHRATE_SERIES)):
        if series is not None and len(series) < n_days:
            raise InputError(scenario.source, kind.key, f"{len(series)} days of data",
                             f"a series covering the {n_days}-day horizon")
    if scenario.price_series_usd is None:
        _check_level(scenario.source, "btc.annual_drift", btc.annual_drift, btc.price_usd,
                     btc.annual_drift, n_days, PRICE_BOUNDS_USD, "USD")
    if scenario.hashrate_series_ehs is None:
        _check_level(scenario.source, "network.monthly_growth", net.monthly_growth,
                     net.hashrate_ehs, (1.0 + net.monthly_growth) ** 12 - 1.0, n_days,
                     HASHRATE_BOUNDS_EHS, "EH/s")


def _check_override_dates(override: TariffOverride, source: str, where: str) -> None:
    if override.effective_to is not None and override.effective_to < override.effective_from:
        raise InputError(
            source, f"{where}.effective_to", override.effective_to.isoformat(),
            f"a date on or after effective_from ({override.effective_from.isoformat()})",
        )


def _check_origin_map(remap: Mapping[Any, Any], source: str) -> dict[str, str]:
    """``tariff_origin_as``: ISO origin codes as keys and values."""
    for key in remap:
        if not is_origin(key):
            raise InputError(source, f"tariff_origin_as.{key}", key,
                             "an ISO 3166 alpha-2 country code like 'MY' as the key")
    return read_table(remap, tuple(Field(k, "origin") for k in remap), source,
                      "tariff_origin_as")


MAX_ASSUMPTIONS = 100
_ASSUMPTIONS_WORDS = (f"a list of at most {MAX_ASSUMPTIONS} non-empty strings of at most "
                      f"{MAX_TEXT_CHARS:,} characters")


def _check_assumptions(assumptions: Sequence[Any], source: str) -> None:
    # Every summary row repeats them, so they are bounded like any other text.
    if len(assumptions) > MAX_ASSUMPTIONS:
        raise InputError(source, "assumptions", f"({len(assumptions):,} items)",
                         _ASSUMPTIONS_WORDS)
    for i, item in enumerate(assumptions):
        if not (isinstance(item, str) and item.strip() and len(item) <= MAX_TEXT_CHARS):
            raise InputError(source, f"assumptions[{i}]", item, _ASSUMPTIONS_WORDS)


def parse_scenario(data: dict[str, Any], source: str) -> Scenario:
    """Build a Scenario from parsed TOML; raises InputError naming the bad key.

    CSV series (``btc.price_series``, ``network.hashrate_series``) are read here, relative to
    the folder of ``source``.
    """
    if not isinstance(data, dict):
        raise InputError(source, "(top level)", data, "a TOML document (a table)")
    top = {k: v for k, v in data.items() if k not in _KNOWN_TABLES}
    values = read_table(top, SCENARIO_FIELDS, source, "", tables=_KNOWN_TABLES)
    n_days = values["horizon_days"]
    _check_path_days(source, values["paths"], n_days)
    btc, network, price_series, hashrate_series = _read_market(
        data, source, values["start_date"], n_days)
    raw_overrides = data.get("tariff_overrides", [])
    if not isinstance(raw_overrides, list):
        shown = "(a single table)" if isinstance(raw_overrides, dict) else raw_overrides
        raise InputError(source, "tariff_overrides", shown,
                         "an array of tables, each headed [[tariff_overrides]]")
    overrides = []
    for i, item in enumerate(raw_overrides):
        where = f"tariff_overrides[{i}]"
        override = TariffOverride(**read_table(item, OVERRIDE_FIELDS, source, where))
        _check_override_dates(override, source, where)
        overrides.append(override)
    remap = data.get("tariff_origin_as", {})
    if not isinstance(remap, dict):
        raise InputError(source, "tariff_origin_as", remap, "a table like {MY = \"CN\"}")
    origin_as = _check_origin_map(remap, source)
    assumptions = data.get("assumptions", [])
    if not isinstance(assumptions, list):
        raise InputError(source, "assumptions", assumptions, _ASSUMPTIONS_WORDS)
    _check_assumptions(assumptions, source)
    origin_risk = OriginRisk(**read_table(data.get("origin_risk", {}), ORIGIN_RISK_FIELDS,
                                          source, "origin_risk"))
    scenario = Scenario(
        btc=btc, network=network, tariff_overrides=tuple(overrides), origin_risk=origin_risk,
        tariff_origin_as=tuple(sorted(origin_as.items())), assumptions=tuple(assumptions),
        price_series_usd=price_series, hashrate_series_ehs=hashrate_series,
        source=source, **values,
    )
    _check_levels(scenario)
    return scenario


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load a scenario TOML file; ``None`` gives the built-in default scenario."""
    if path is None:
        text = resources.files("fleetcalc").joinpath("data/default_scenario.toml").read_text()
        return parse_scenario(parse_toml_text(text, "built-in default scenario"),
                              "built-in default scenario")
    data, source = load_toml(path)
    return parse_scenario(data, source)


def scenario_to_toml(scenario: Scenario) -> dict[str, Any]:
    """The TOML document of a scenario (round-trips through ``parse_scenario`` with the same
    ``source``, against which series paths resolve).

    With a series file the level and growth it replaces are left out, as the parser requires.
    """

    def present(obj: Any, replaced: tuple[str, ...]) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in fields(obj)
                if getattr(obj, f.name) is not None and f.name not in replaced}

    btc, net = scenario.btc, scenario.network
    replaced = ("hashrate_ehs", "monthly_growth") if net.hashrate_series else ()
    other_model = EXOGENOUS_ONLY_KEYS if net.model == "responsive" else RESPONSIVE_ONLY_KEYS
    doc: dict[str, Any] = {
        "name": scenario.name, "start_date": scenario.start_date,
        "horizon_days": scenario.horizon_days, "seed": scenario.seed, "paths": scenario.paths,
        "failures": scenario.failures,
        "btc": present(btc, ("price_usd", "annual_drift") if btc.price_series else ()),
        "network": present(net, replaced + other_model),
    }
    if scenario.tariff_overrides:
        doc["tariff_overrides"] = [
            {k: v for k, v in vars(o).items() if v is not None} for o in scenario.tariff_overrides
        ]
    if scenario.tariff_origin_as:
        doc["tariff_origin_as"] = dict(scenario.tariff_origin_as)
    if scenario.origin_risk != OriginRisk():
        doc["origin_risk"] = asdict(scenario.origin_risk)
    if scenario.assumptions:
        doc["assumptions"] = list(scenario.assumptions)
    return doc


__all__ = ["BtcMarket", "Network", "Scenario", "load_scenario", "parse_scenario"]


@dataclass(frozen=True)
class OverrideFile:
    """A tariff overrides file: a scenario fragment of ``[[tariff_overrides]]`` tables and the
    ``assumptions`` they rest on (see ``load_tariff_overrides``)."""

    overrides: tuple[TariffOverride, ...]
    assumptions: tuple[str, ...]
    source: str

    def add_to(self, scenario: Scenario) -> Scenario:
        """``scenario`` with these overrides after its own (so they win where both apply) and
        these assumptions listed after its own."""
        return scenario.with_changes(
            tariff_overrides=scenario.tariff_overrides + self.overrides,
            assumptions=scenario.assumptions
            + tuple(a for a in self.assumptions if a not in scenario.assumptions),
        )


_OVERRIDE_FILE_KEYS = ("assumptions", "tariff_overrides")


def load_tariff_overrides(path: str | Path | None = None) -> OverrideFile:
    """Read a tariff overrides file (the shipped Section 301 forced-labor one when ``path`` is
    None): ``[[tariff_overrides]]`` tables exactly as in a scenario, plus an optional
    ``assumptions`` list, nothing else. Bad input raises ``InputError`` naming the file and key.
    """
    data, source = load_toml(shipped_overrides_path() if path is None else path)
    for key in data:
        if key not in _OVERRIDE_FILE_KEYS:
            raise InputError(source, key, key, "only the keys " + ", ".join(_OVERRIDE_FILE_KEYS)
                             + " in a tariff overrides file")
    # The tables are parsed inside the default scenario, so their format, checks and messages
    # are the scenario's own: one parser for [[tariff_overrides]].
    doc = {**scenario_to_toml(load_scenario(None)), "tariff_overrides": [], "assumptions": []}
    parsed = parse_scenario({**doc, **data}, source)
    return OverrideFile(parsed.tariff_overrides, parsed.assumptions, source)
