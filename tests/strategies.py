"""Hypothesis strategies for the TOML inputs: valid plan and scenario documents (as the dicts
``tomllib`` returns) and mutations of them that a user could plausibly make.

Valid documents respect every cross-field rule of the parsers (orders fit the site, delivery on
or after import, growth that keeps levels finite over the horizon), so a property can demand
that they parse. ``mutated`` breaks one thing: drops a key, swaps a value's type, puts a number
out of range or makes it NaN/inf, writes a bad date, names an unknown model or origin, or adds
an unknown key.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from fleetcalc.catalog import UNIT_FIGURE_FIELDS, get_model, model_ids
from fleetcalc.plan import FINANCE_FIELDS, ORDER_FIELDS, SITE_FIELDS
from fleetcalc.scenario import BTC_FIELDS, NETWORK_FIELDS, OVERRIDE_FIELDS, SCENARIO_FIELDS
from fleetcalc.validate import EARLIEST_DATE, ISO_3166_ALPHA2, LATEST_DATE, Field

Doc = dict[str, Any]
ORIGINS = sorted(ISO_3166_ALPHA2)
# Catalog units a valid order can buy: (model id, origin, mode, power_w) per combination.
_CATALOG_UNITS = [
    (model_id, origin, mode, power_w)
    for model_id in model_ids()
    for origin in get_model(model_id).origins
    for mode, (_, power_w) in get_model(model_id).modes.items()
]
MAX_SITE_MW = 100_000.0


def numbers(lo: float, hi: float, *, exclude_min: bool = False) -> st.SearchStrategy[float]:
    """Finite numbers in [lo, hi] as TOML gives them: floats, and integers where they fit."""
    floats = st.floats(lo, hi, exclude_min=exclude_min, allow_nan=False, allow_infinity=False)
    # Integers up to 2**53 only: larger ones are not exact as floats.
    ints = st.integers(math.ceil(lo) + (1 if exclude_min and float(lo).is_integer() else 0),
                       min(math.floor(hi), 2**53))
    return st.one_of(floats, ints) if math.floor(hi) >= math.ceil(lo) + 1 else floats


def field_numbers(
    fields: tuple[Field, ...], name: str, hi: float | None = None, lo: float | None = None,
) -> st.SearchStrategy[Any]:
    """Numbers a parser field accepts (its own bounds, so strategies follow the parser);
    ``hi`` lowers the upper bound and ``lo`` raises the lower one where another rule needs
    it (each only ever narrows the field's range)."""
    field = next(f for f in fields if f.name == name)
    assert field.lo is not None and field.hi is not None
    top = field.hi if hi is None else min(hi, field.hi)
    bottom, open_bottom = field.lo, field.lo_open
    if lo is not None and lo > field.lo:
        bottom, open_bottom = lo, False
    if field.kind == "int":
        return st.integers(math.ceil(bottom), int(top))
    return numbers(bottom, top, exclude_min=open_bottom)


def dates(lo: dt.date = EARLIEST_DATE, hi: dt.date = LATEST_DATE) -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=lo, max_value=hi)


names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda s: s.strip() != "")


@st.composite
def orders(
    draw: st.DrawFn, first_delivery: dt.date = EARLIEST_DATE,
    last_delivery: dt.date = LATEST_DATE, max_quantity: int = 100_000,
) -> tuple[Doc, float]:
    """One valid order table and the power it draws in W."""
    delivery = draw(dates(first_delivery, last_delivery))
    earliest_import = max(EARLIEST_DATE, delivery - dt.timedelta(days=400))
    order: Doc = {
        "quantity": draw(st.integers(1, max_quantity)),
        "import_date": draw(dates(earliest_import, delivery)),
        "delivery_date": delivery,
    }
    if draw(st.booleans()):
        model_id, origin, mode, power_w = draw(st.sampled_from(_CATALOG_UNITS))
        order.update(model=model_id, origin=origin)
        if mode != "stock" or draw(st.booleans()):
            order["mode"] = mode
    else:  # a custom unit
        # At most 20 kW a unit, so that any drawn quantity fits the largest site.
        power_w = draw(field_numbers(ORDER_FIELDS, "power_w", hi=20_000.0))
        order.update(origin=draw(st.sampled_from(ORIGINS)),
                     hashrate_th=draw(field_numbers(ORDER_FIELDS, "hashrate_th")), power_w=power_w)
        if draw(st.booleans()):
            order["cooling"] = draw(st.sampled_from(("air", "hydro", "immersion")))
    if draw(st.booleans()):
        order["unit_price_usd"] = draw(field_numbers(ORDER_FIELDS, "unit_price_usd"))
    else:
        order["usd_per_th"] = draw(field_numbers(ORDER_FIELDS, "usd_per_th"))
    # The payment terms (their defaults otherwise): the order date on or before the import.
    terms = {
        "order_date": dates(max(EARLIEST_DATE, order["import_date"] - dt.timedelta(days=800)),
                            order["import_date"]),
        "deposit_share": field_numbers(ORDER_FIELDS, "deposit_share"),
        "balance_days_before_import": field_numbers(ORDER_FIELDS, "balance_days_before_import"),
        "shipped_by": st.sampled_from(("sea", "air")),
    }
    for key in draw(st.sets(st.sampled_from(sorted(terms)), max_size=2)):
        order[key] = draw(terms[key])
    # The unit figures an order may override (its cooling type's defaults otherwise).
    optional = {f.name: field_numbers(ORDER_FIELDS, f.name) for f in UNIT_FIGURE_FIELDS}
    for key in draw(st.sets(st.sampled_from(sorted(optional)), max_size=3)):
        order[key] = draw(optional[key])
    return order, float(power_w) * order["quantity"]


@st.composite
def plan_docs(
    draw: st.DrawFn, first_delivery: dt.date = EARLIEST_DATE,
    last_delivery: dt.date = LATEST_DATE, max_quantity: int = 100_000, max_orders: int = 3,
) -> Doc:
    """A valid plan document with deliveries in [first_delivery, last_delivery]."""
    drawn = draw(st.lists(orders(first_delivery, last_delivery, max_quantity),
                          min_size=1, max_size=max_orders))
    order_docs = [order for order, _ in drawn]
    power_mw = sum(power for _, power in drawn) / 1e6
    # The site's PUE multiplies the power the capacity must hold (the custom units' 20 kW cap
    # keeps the product under the largest site).
    pue = draw(st.one_of(st.just(None), field_numbers(SITE_FIELDS, "pue", hi=1.5)))
    # Headroom of at least a millionth keeps the parser's own sum (another order of float
    # additions) under the capacity.
    capacity_mw = min(MAX_SITE_MW, max(power_mw * (pue or 1.0) * draw(st.floats(1.000001, 3.0)),
                                       1e-3))
    site: Doc = {"power_usd_per_kwh": draw(field_numbers(SITE_FIELDS, "power_usd_per_kwh")),
                 "capacity_mw": capacity_mw}
    if pue is not None:
        site["pue"] = pue
    site_optional = {
        **{name: field_numbers(SITE_FIELDS, name)
           for name in ("hosting_usd_per_kwh", "hosting_usd_per_kw_month", "take_or_pay_share",
                        "build_usd_per_mw", "fixed_opex_usd_per_mw_month", "uptime")},
        "curtail_when_unprofitable": st.booleans(), "build": st.sampled_from(("plan", "site")),
    }
    for key in draw(st.sets(st.sampled_from(sorted(site_optional)))):
        site[key] = draw(site_optional[key])
    doc: Doc = {"name": draw(names), "site": site, "orders": order_docs}
    used = {order["origin"] for order in order_docs}
    excluded = draw(st.lists(st.sampled_from([o for o in ORIGINS if o not in used]),
                             max_size=3, unique=True))
    if excluded or draw(st.booleans()):
        doc["exclude_origins"] = excluded
    finance = draw(finance_tables())
    if finance or draw(st.booleans()):
        doc["finance"] = finance
    return doc


@st.composite
def finance_tables(draw: st.DrawFn) -> Doc:
    """A valid ``[finance]`` table: any subset of its keys, with the cross-field rules kept
    (a loan rate with debt, 5 years with MACRS 5-year, no fixed share with market resale)."""
    strategies: dict[str, st.SearchStrategy[Any]] = {
        f.name: (st.sampled_from(f.choices) if f.choices else field_numbers(FINANCE_FIELDS, f.name))
        for f in FINANCE_FIELDS
    }
    finance = {key: draw(strategies[key])
               for key in draw(st.sets(st.sampled_from(sorted(strategies))))}
    if finance.get("debt_share", 0) > 0 and "debt_rate" not in finance:
        finance["debt_rate"] = draw(strategies["debt_rate"])
    if finance.get("depreciation", "macrs5") == "macrs5" and finance.get(
            "depreciation_years", 5) != 5:
        finance["depreciation"] = "straight_line"
    if finance.get("residual") == "market":  # a fixed share is for fixed resale only
        finance.pop("residual_fraction", None)
    return finance


def _growth_range(
    start: float, n_days: int, bounds: tuple[float, float], limits: tuple[float, float],
    log_annual: Callable[[float], float], inverse: Callable[[float], float],
) -> tuple[float, float]:
    """The growth rates within ``limits`` that keep start * growth ** years inside ``bounds``
    (with a margin, so rounding never crosses the parser's own check)."""
    if n_days <= 1:
        return limits
    years = (n_days - 1) / 365.0
    lo_log = (math.log(bounds[0]) - math.log(start)) / years * 0.999
    hi_log = (math.log(bounds[1]) - math.log(start)) / years * 0.999
    lo = max(limits[0], inverse(lo_log)) if lo_log > log_annual(limits[0]) else limits[0]
    hi = min(limits[1], inverse(hi_log)) if hi_log < log_annual(limits[1]) else limits[1]
    return lo, hi


@st.composite
def scenario_docs(
    draw: st.DrawFn, max_horizon_days: int = 36_525, max_paths: int = 8,
) -> Doc:
    """A valid scenario document (no CSV series: those are files, tested on their own); one
    in four uses the responsive network."""
    from fleetcalc.scenario import HASHRATE_BOUNDS_EHS, PRICE_BOUNDS_USD

    if draw(st.integers(0, 3)) == 0:
        return draw(responsive_scenario_docs(max_horizon_days, max_paths))

    n_days = draw(st.integers(1, max_horizon_days))
    doc: Doc = {"start_date": draw(dates()), "horizon_days": n_days}
    top_optional = {
        "name": names, "seed": field_numbers(SCENARIO_FIELDS, "seed"),
        "paths": field_numbers(SCENARIO_FIELDS, "paths", hi=max_paths),
        "failures": st.sampled_from(("expected", "sampled")),
    }
    for key in draw(st.sets(st.sampled_from(sorted(top_optional)))):
        doc[key] = draw(top_optional[key])
    price = draw(field_numbers(BTC_FIELDS, "price_usd"))
    drift_lo, drift_hi = _growth_range(float(price), n_days, PRICE_BOUNDS_USD, (-0.99, 10.0),
                                       math.log1p, math.expm1)
    btc: Doc = {"price_usd": price}
    if draw(st.booleans()):
        btc["annual_drift"] = draw(st.floats(drift_lo, drift_hi))
    if draw(st.booleans()):
        btc["annual_volatility"] = draw(field_numbers(BTC_FIELDS, "annual_volatility"))
    hashrate = draw(field_numbers(NETWORK_FIELDS, "hashrate_ehs"))
    growth_lo, growth_hi = _growth_range(
        float(hashrate), n_days, HASHRATE_BOUNDS_EHS, (-0.5, 1.0),
        lambda m: 12.0 * math.log1p(m), lambda x: math.expm1(x / 12.0))
    network: Doc = {"hashrate_ehs": hashrate,
                    "block_height": draw(field_numbers(NETWORK_FIELDS, "block_height"))}
    network_optional = {
        name: field_numbers(NETWORK_FIELDS, name)
        for name in ("difficulty", "annual_volatility", "price_correlation",
                     "fees_btc_per_block", "pool_fee")
    }
    network_optional["monthly_growth"] = st.floats(growth_lo, growth_hi)
    for key in draw(st.sets(st.sampled_from(sorted(network_optional)))):
        network[key] = draw(network_optional[key])
    doc.update(btc=btc, network=network)
    overrides = []
    for _ in range(draw(st.integers(0, 2))):
        start = draw(dates())
        override: Doc = {
            "origin": draw(st.sampled_from(ORIGINS)),
            "program": draw(st.from_regex(r"[a-z0-9_]{1,20}", fullmatch=True)),
            "rate": draw(field_numbers(OVERRIDE_FIELDS, "rate")), "effective_from": start,
        }
        if draw(st.booleans()):
            override["effective_to"] = draw(dates(start))
        overrides.append(override)
    if overrides:
        doc["tariff_overrides"] = overrides
    remap = draw(st.dictionaries(st.sampled_from(ORIGINS), st.sampled_from(ORIGINS), max_size=2))
    if remap:
        doc["tariff_origin_as"] = remap
    if draw(st.booleans()):
        doc["origin_risk"] = draw(st.fixed_dictionaries({}, optional={
            "deemed": st.sampled_from(ORIGINS), "us_assembled_deemed": st.booleans()}))
    if draw(st.booleans()):
        doc["assumptions"] = draw(st.lists(names, max_size=3))
    return doc


# Ranges of the responsive network's market parameters (the start's hashprice within a factor
# of ~3 of the default's, before the 2028 halving) where its other keys are drawn from the
# parser's own bounds; the three the start check reads (service life, the miners' power
# prices) come from the parser's bounds narrowed by that check (``_start_checked``).
_RESPONSIVE_MARKET = {"fees_btc_per_block": st.floats(0.0, 0.5), "pool_fee": st.floats(0.0, 0.1)}
_RESPONSIVE_OPTIONAL = [
    "capex_usd_per_th", "frontier_improvement_per_year", "frontier_j_per_th",
    "online_response_days", "order_lag_days", "order_volatility", "power_price_log_sd",
    "service_life_years", "supply_ehs_per_month", "target_payback_days",
]


@st.composite
def responsive_scenario_docs(
    draw: st.DrawFn, max_horizon_days: int = 36_525, max_paths: int = 8,
) -> Doc:
    """A valid scenario document with ``network.model = "responsive"``: its keys within the
    parser's field bounds and the installed base partly online at the start, as
    ``fleetcalc.network.responsive_inputs`` demands."""
    from fleetcalc.tiers import DAYS_PER_YEAR, snapshot_dates, tier_snapshot

    first = snapshot_dates()[0]
    doc: Doc = {"start_date": draw(dates(first, dt.date(2030, 12, 31))),
                "horizon_days": draw(st.integers(1, min(max_horizon_days, 7305)))}
    if draw(st.booleans()):
        doc["paths"] = draw(st.integers(1, max_paths))
    price = draw(st.floats(3e4, 3e5))
    btc: Doc = {"price_usd": price}
    if draw(st.booleans()):
        btc["annual_volatility"] = draw(st.floats(0.0, 1.0))
    hashrate = price / 84_714.0 * 964.0 * draw(st.floats(0.5, 1.5))
    network: Doc = {"model": "responsive", "hashrate_ehs": hashrate,
                    "block_height": draw(st.integers(900_000, 1_040_000))}
    for key in draw(st.sets(st.sampled_from(sorted(_RESPONSIVE_MARKET)))):
        network[key] = draw(_RESPONSIVE_MARKET[key])
    # Machines retire after their service life: one shorter than the time from the newest
    # tier's installation to the start leaves no installed base to run.
    newest = max(tier_snapshot(doc["start_date"]).installed_to)
    retired_years = (doc["start_date"] - newest).days / DAYS_PER_YEAR
    for key in draw(st.sets(st.sampled_from(_RESPONSIVE_OPTIONAL))):
        low = retired_years + 1.0 if key == "service_life_years" else None
        network[key] = draw(field_numbers(NETWORK_FIELDS, key, lo=low))
    doc.update(btc=btc, network=network)
    # The median power price: drawn, or where the default fails the start check, set.
    highest = _highest_power_median(doc)
    default = next(f for f in NETWORK_FIELDS if f.name == "power_median_usd_per_kwh").default
    if draw(st.booleans()) or default > highest:
        network["power_median_usd_per_kwh"] = draw(
            field_numbers(NETWORK_FIELDS, "power_median_usd_per_kwh", hi=highest))
    return doc


def _highest_power_median(doc: Doc) -> float:
    """The highest median power price (within its field's bounds) at which the start check
    of a responsive scenario document passes: at least MIN_START_ONLINE_SHARE of the
    installed base runs at the start's hashprice. The share falls as the price rises, so a
    bisection on the check's own function finds it."""
    from fleetcalc.network import responsive_start
    from fleetcalc.scenario import parse_scenario
    from fleetcalc.tiers import MIN_START_ONLINE_SHARE, start_online_share

    scenario = parse_scenario(doc, "scenario.toml")
    snapshot, capacity, hashprice0 = responsive_start(scenario)
    field = next(f for f in NETWORK_FIELDS if f.name == "power_median_usd_per_kwh")

    def runs(median: float) -> bool:
        share = start_online_share(capacity[:1], snapshot.j_per_th, hashprice0, median,
                                   scenario.network.power_price_log_sd)
        return share >= MIN_START_ONLINE_SHARE

    low, high = float(field.lo), float(field.hi)
    assert runs(low), "no median power price within its bounds runs 1% of the base"
    if runs(high):
        return high
    for _ in range(60):  # geometric bisection: 60 halvings of a 1,000x range
        middle = math.sqrt(low * high)
        low, high = (middle, high) if runs(middle) else (low, middle)
    return low


def fleet_hashrate_th(plan: Doc) -> float:
    """The nameplate TH/s of every order of a plan document."""
    total = 0.0
    for order in plan["orders"]:
        if "hashrate_th" in order:
            unit_th = order["hashrate_th"]
        else:
            unit_th = get_model(order["model"]).modes[order.get("mode", "stock")][0]
        total += unit_th * order["quantity"]
    return total


@st.composite
def plan_and_scenario_docs(
    draw: st.DrawFn, max_horizon_days: int = 120, max_quantity: int = 200,
) -> tuple[Doc, Doc]:
    """A valid scenario with a short horizon and a small plan delivering inside it: what the
    CLI property runs end to end.

    The network is raised where needed so that the fleet stays within its share of it
    (``MAX_FLEET_SHARE``) on every day, however the network shrinks: an exogenous one by its
    growth and, over Monte Carlo paths, its volatility; a responsive one (raised with the
    price, so its hashprice and the part of its installed base that runs stay as drawn) is
    given twenty times the room."""
    from fleetcalc.network import MAX_FLEET_SHARE, TH_PER_EH

    scenario = draw(scenario_docs(max_horizon_days=max_horizon_days, max_paths=3))
    start = scenario["start_date"]
    # Dates in a plan stop at LATEST_DATE even where the horizon runs past it.
    last = min(start + dt.timedelta(days=scenario["horizon_days"] - 1), LATEST_DATE)
    plan = draw(plan_docs(start, last, max_quantity=max_quantity, max_orders=2))
    network = scenario["network"]
    if network.get("model") == "responsive":
        shrink = 0.05
    else:
        monthly = network.get("monthly_growth", 0.0)
        years = (scenario["horizon_days"] - 1) / 365.0
        log_shrink = min(0.0, 12.0 * math.log1p(monthly)) * years  # lowest / start
        sigma = network.get("annual_volatility", 0.0) if scenario.get("paths", 1) > 1 else 0.0
        # Monte Carlo paths fall further: their drift (-sigma^2/2 a year) and a walk 8 sigma
        # down (the chance a path goes lower is ~1e-15).
        shrink = math.exp(log_shrink - 0.5 * sigma * sigma * years - 8.0 * sigma * years ** 0.5)
    needed_ehs = fleet_hashrate_th(plan) / TH_PER_EH / MAX_FLEET_SHARE / shrink * 1.001
    factor = needed_ehs / network["hashrate_ehs"]
    if factor > 1.0:
        network["hashrate_ehs"] = needed_ehs
        if network.get("model") == "responsive":
            scenario["btc"]["price_usd"] *= factor
    return plan, scenario


# --- mutations ---------------------------------------------------------------------------

def key_paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a document, tables and arrays included (``("orders", 0, "model")``)."""
    paths = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(
        doc, list) else ()
    for key, value in items:
        path = (*prefix, key)
        paths.append(path)
        paths.extend(key_paths(value, path))
    return paths


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    return _get(doc, path[:-1])


toml_values = st.recursive(
    st.one_of(
        st.text(max_size=10), st.booleans(), st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=True, allow_infinity=True), dates(dt.date(1, 1, 1),
                                                              dt.date(9999, 12, 31)),
        st.datetimes(), st.times(),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3)),
    max_leaves=5,
)
out_of_range_numbers = st.one_of(
    st.integers(-(2**63), -1), st.integers(10**8, 2**63 - 1),
    st.floats(-1e300, -1e-300), st.floats(1e9, 1e300), st.just(0), st.just(0.0),
)
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
bad_dates = st.one_of(
    st.just("2027-02-30"), st.just("2027/01/31"), dates(dt.date(1, 1, 1), dt.date(2009, 1, 2)),
    dates(dt.date(2200, 1, 1), dt.date(9999, 12, 31)), st.datetimes(), st.times(),
)
bad_origins = st.one_of(st.text(max_size=4), st.from_regex(r"[A-Za-z]{2}", fullmatch=True))
MUTATIONS = ("drop", "wrong_type", "out_of_range", "non_finite", "bad_date", "unknown_model",
             "unknown_origin", "unknown_key")


@st.composite
def mutated(draw: st.DrawFn, docs: st.SearchStrategy[Doc]) -> Doc:
    """A valid document from ``docs`` with one thing broken (which may, rarely, still be
    valid: replacing a name by another string, say)."""
    doc = copy.deepcopy(draw(docs))
    kind = draw(st.sampled_from(MUTATIONS))
    paths = key_paths(doc)
    if kind == "unknown_key":
        tables = [()] + [p for p in paths if isinstance(_get(doc, p), dict)]
        table = _get(doc, draw(st.sampled_from(tables)))
        table[draw(st.text(min_size=1, max_size=12))] = draw(toml_values)
        return doc
    if kind == "unknown_model":
        targets = [p for p in paths if p[-1] == "model"] or paths
    elif kind == "unknown_origin":
        targets = [p for p in paths if p[-1] in ("origin", "exclude_origins")] or paths
    elif kind == "bad_date":
        targets = [p for p in paths if isinstance(_get(doc, p), dt.date)] or paths
    else:
        targets = paths
    path = draw(st.sampled_from(targets))
    parent = _parent(doc, path)
    if kind == "drop":
        del parent[path[-1]]
        return doc
    replacement = {
        "wrong_type": toml_values, "out_of_range": out_of_range_numbers,
        "non_finite": non_finite, "bad_date": bad_dates,
        "unknown_model": st.text(max_size=30), "unknown_origin": bad_origins,
    }[kind]
    parent[path[-1]] = draw(replacement)
    return doc
