"""Candidates files: a plan whose orders have no quantities, for ``fleetcalc optimize``.

A candidates file holds the plan's ``name``, ``exclude_origins``, ``[site]`` (or ``[[sites]]``,
each candidate then naming its ``site`` as a plan's orders do) and ``[finance]``,
plus ``budget_usd`` (landed capex the plan may spend), ``max_share`` (capex share caps by
``maker`` or ``origin``) and ``[[candidates]]``: every order field except ``quantity``, plus
``min_units``, ``max_units`` and ``lot``. Candidates of an excluded origin stay in the file and
are simply never bought, so a compliance rule is one line to toggle.

Each candidate is checked exactly as a plan's order is (the plan parser runs on the candidates
as one-unit orders, its messages renamed to ``candidates[i]``), and priced by the engine as a
one-unit plan: its landed cost per unit and its NPV per unit on every Monte Carlo path.

A plan's NPV is the sum of its orders' quantities times those per-unit NPVs when every order is
a cohort simulated in expectation: the kernel scales a cohort's flows by its quantity, the
curtailment decision is per unit and day, capex, residual and kept BTC are per unit, so are
the site's build and fixed opex for the MW a unit uses, its hosting fees and take-or-pay floor,
and nothing in the model depends on how many units a site holds (a site built whole, ``build =
"site"``, costs the same whatever is bought: it is left out of the per-unit NPVs). The other
exception is the merchandise processing fee, paid per customs entry (an order) between a
minimum and a cap (``fleetcalc.customs_fees``): a candidate's per-unit cost and NPV leave it
out, and ``Priced.entry_fees_usd`` gives, for chosen quantities, the present value the plan's
fees take off the sum (so the optimum is the optimum of the rest, within a cap per order
bought, and the reported NPV is the plan's exactly). With ``failures = "sampled"``
each unit draws its own failures, so per-unit NPVs are linear only in expectation: the
optimiser then prices candidates with expected failures (and says so), and the plan's metrics
come from the scenario as given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fleetcalc.customs_fees import add_customs_fees, import_discount
from fleetcalc.errors import InputError
from fleetcalc.optimize import SHARE_KEYS, Problem
from fleetcalc.plan import (
    ORDER_FIELDS,
    PLAN_FIELDS,
    SITE_FIELDS,
    Finance,
    Order,
    Plan,
    Site,
    check_plan_against_scenario,
    parse_plan,
    parse_sites,
    plan_to_toml,
)
from fleetcalc.scenario import Scenario
from fleetcalc.text import printable
from fleetcalc.validate import Field, load_toml, read_table

MAX_UNITS = 10_000_000
CANDIDATE_FIELDS = (
    *(f for f in ORDER_FIELDS if f.name != "quantity"),
    Field("min_units", "int", 0, lo=0, hi=MAX_UNITS),
    Field("max_units", "int", None, lo=0, hi=MAX_UNITS),
    Field("lot", "int", 1, lo=1, hi=MAX_UNITS),
)
CANDIDATE_EXTRA_KEYS = ("min_units", "max_units", "lot")
CANDIDATE_SET_FIELDS = (*PLAN_FIELDS, Field("budget_usd", "float", None, lo=0.0, hi=1e12))
SHARE_FIELDS = tuple(Field(key, "float", None, lo=0.0, hi=1.0, lo_open=True)
                     for key in SHARE_KEYS)
# The plan parser checks one unit of every candidate against the site's capacity; the
# candidates' own capacity is the optimiser's constraint, so that check runs on the largest
# capacity a site may have.
_ANY_CAPACITY_MW = next(f.hi for f in SITE_FIELDS if f.name == "capacity_mw")


@dataclass(frozen=True)
class Candidate:
    order: Order  # every order field; quantity 1 (one unit)
    min_units: int = 0
    max_units: int | None = None
    lot: int = 1


@dataclass(frozen=True)
class CandidateSet:
    name: str
    sites: tuple[Site, ...]  # as a plan's; each candidate is installed at one
    finance: Finance
    candidates: tuple[Candidate, ...]
    budget_usd: float | None = None
    exclude_origins: tuple[str, ...] = ()
    max_share: tuple[tuple[str, float], ...] = ()  # (maker | origin, cap)
    source: str = "<memory>"

    @property
    def site(self) -> Site:
        """The only site of a one-site file."""
        return self._as_plan(self.sites, ()).site

    @property
    def site_wide_costs(self) -> bool:
        """True when a site is built whole (``build = "site"``) at a cost: its build and fixed
        opex are the same whatever is bought, so no candidate's per-unit NPV carries them (the
        plan's own metrics do)."""
        return any(_built_whole_at_a_cost(site) for site in self.sites)

    def site_of(self, index: int) -> Site:
        """The site candidate ``index`` is installed at."""
        order = self.candidates[index].order
        return self.sites[self._as_plan(self.sites, ()).site_index(order)]

    def _as_plan(self, sites: tuple[Site, ...], orders: tuple[Order, ...], name: str = "",
                 exclude_origins: tuple[str, ...] | None = None) -> Plan:
        exclude = self.exclude_origins if exclude_origins is None else exclude_origins
        return Plan(name=name or self.name, sites=sites, orders=orders, finance=self.finance,
                    exclude_origins=exclude, source=self.source)

    def unit_plan(self, index: int) -> Plan:
        """Candidate ``index`` as a plan of one unit at its site (named ``candidates[index]``),
        without the costs of a site built whole (see ``site_wide_costs``).

        Without the file's ``exclude_origins``: a candidate of an excluded origin is priced
        like any other (and never bought), and a plan breaking its own exclusion is invalid."""
        site = self.site_of(index)
        if _built_whole_at_a_cost(site):
            site = replace(site, build_usd_per_mw=0.0, fixed_opex_usd_per_mw_month=0.0)
        return self._as_plan((site,), (self.candidates[index].order,), f"candidates[{index}]",
                             exclude_origins=())

    def plan(self, units: np.ndarray, name: str) -> Plan | None:
        """The plan buying ``units[i]`` of candidate i at its site (None when it buys
        nothing); a site where nothing is bought is left out."""
        bought = [i for i, q in enumerate(units) if q > 0]
        if not bought:
            return None
        orders = tuple(replace(self.candidates[i].order, quantity=int(units[i]))
                       for i in bought)
        used = {self.site_of(i).name for i in bought}
        return self._as_plan(tuple(s for s in self.sites if s.name in used), orders, name)


def _built_whole_at_a_cost(site: Site) -> bool:
    return site.build == "site" and (site.build_usd_per_mw > 0.0
                                     or site.fixed_opex_usd_per_mw_month > 0.0)


def _renamed(error: InputError, index: int | None = None) -> InputError:
    """A plan-parser message about ``orders[i]`` reworded for ``candidates[i]`` (``index``:
    the candidate a one-unit plan's ``orders[0]`` stands for)."""
    where = error.where
    if index is not None:
        where = where.replace("orders[0]", f"candidates[{index}]", 1)
    elif where.startswith("orders["):
        where = "candidates[" + where.removeprefix("orders[")
    return InputError(error.source, where, error.value, error.expected)


def parse_candidates(data: dict[str, Any], source: str) -> CandidateSet:
    """Build a CandidateSet from parsed TOML; raises InputError naming the bad key."""
    if not isinstance(data, dict):
        raise InputError(source, "(top level)", data, "a TOML document (a table)")
    tables = ("candidates", "finance", "max_share", "site", "sites")
    top = {k: v for k, v in data.items() if k not in tables}
    values = read_table(top, CANDIDATE_SET_FIELDS, source, "", tables=tables)
    sites, _ = parse_sites(data, source)
    shares = read_table(data.get("max_share", {}), SHARE_FIELDS, source, "max_share")
    raw = data.get("candidates")
    if not isinstance(raw, list) or not raw:
        shown = {type(None): "(missing)", dict: "(a single [candidates] table)"}.get(
            type(raw), raw)
        raise InputError(source, "candidates", shown, "at least one [[candidates]] table")
    extras = [read_table(item, CANDIDATE_FIELDS, source, f"candidates[{i}]")
              for i, item in enumerate(raw)]
    # Orders are checked by the plan parser itself (model, origin, mode, price, dates), as
    # one-unit orders on a site big enough for all of them.
    orders_doc = [{**{k: v for k, v in item.items() if k not in CANDIDATE_EXTRA_KEYS},
                   "quantity": 1} for item in raw]
    site_tables = ({"sites": [{**table, "capacity_mw": _ANY_CAPACITY_MW}
                              for table in data["sites"]]} if "sites" in data
                   else {"site": {**data["site"], "capacity_mw": _ANY_CAPACITY_MW}})
    as_plan = {"name": values["name"], **site_tables, "orders": orders_doc}
    if "finance" in data:
        as_plan["finance"] = data["finance"]
    try:
        plan = parse_plan(as_plan, source)
    except InputError as error:
        raise _renamed(error) from None
    candidates = tuple(
        Candidate(order, extra["min_units"], extra["max_units"], extra["lot"])
        for order, extra in zip(plan.orders, extras, strict=True)
    )
    return CandidateSet(
        name=values["name"], sites=sites,
        finance=plan.finance, candidates=candidates, budget_usd=values["budget_usd"],
        exclude_origins=values["exclude_origins"],
        max_share=tuple((k, v) for k, v in shares.items() if v is not None), source=source,
    )


def default_candidates_path() -> Path:
    return Path(str(resources.files("fleetcalc").joinpath("data/candidates/default.toml")))


def load_candidates(path: str | Path | None = None) -> CandidateSet:
    """A candidates file (None: the shipped default)."""
    data, source = load_toml(default_candidates_path() if path is None else path)
    return parse_candidates(data, source)


@dataclass(frozen=True)
class Priced:
    """Candidates with their per-unit economics, ready for ``fleetcalc.optimize.solve``."""

    problem: Problem
    model_id: tuple[str, ...]
    scenario: Scenario  # the scenario the candidates were priced under (expected failures)
    # The one-unit orders (``Results.orders``, one row per candidate, with the discount factor
    # of its import day): what ``entry_fees_usd`` prices the fees from.
    orders: pl.DataFrame

    def entry_fees_usd(self, units: np.ndarray) -> float:
        """Present value at day 0 of the merchandise processing fees of the plan buying
        ``units[i]`` of candidate i (one entry per candidate bought)."""
        bought = self.orders.with_columns(quantity=pl.Series(np.asarray(units, dtype=np.int64)))
        fees = add_customs_fees(bought.filter(pl.col("quantity") > 0))
        return float((fees["mpf_usd"] * fees["discount_factor"]).sum())


def price_candidates(cset: CandidateSet, scenario: Scenario) -> Priced:
    """Landed cost and NPV per unit per path of every candidate, as one-unit plans through
    ``fleetcalc.engine.evaluate`` (expected failures: see the module docstring)."""
    from fleetcalc.engine import evaluate

    priced_under = replace(scenario, failures="expected")
    plans = [cset.unit_plan(i) for i in range(len(cset.candidates))]
    for i, plan in enumerate(plans):
        try:
            check_plan_against_scenario(plan, scenario.start_date, scenario.end_date)
        except InputError as error:
            raise _renamed(error, i) from None
    results = evaluate(plans, priced_under, breakevens=False)
    order = {plan.name: i for i, plan in enumerate(plans)}
    paths = results.paths.sort("path")
    unit_npv = np.zeros((len(plans), scenario.paths))
    for name, frame in paths.group_by("plan"):
        unit_npv[order[name[0]]] = frame["npv_usd"].to_numpy()
    orders = results.orders.sort(results.orders["plan"].replace_strict(order))
    # A one-unit order pays the merchandise processing fee's minimum, a fee per order, not per
    # unit: left out of the per-unit figures, and priced for the chosen quantities apart.
    discount = import_discount(orders, priced_under.start_date, cset.finance.discount_rate)
    mpf_usd = orders["mpf_usd"].to_numpy()
    unit_npv += (mpf_usd * discount)[:, None]
    n = len(cset.candidates)
    problem = Problem(
        unit_npv_usd=unit_npv,
        unit_cost_usd=(orders["landed_cost_usd"].to_numpy() - mpf_usd).astype(np.float64),
        unit_mw=orders["power_w"].to_numpy() / 1e6,
        site=tuple(cset.site_of(i).name for i in range(n)),
        maker=tuple(orders["maker"].to_list()), origin=tuple(orders["origin"].to_list()),
        site_mw={site.name: site.capacity_mw for site in cset.sites},
        pue={site.name: site.pue for site in cset.sites}, budget_usd=cset.budget_usd,
        min_units=np.array([c.min_units for c in cset.candidates], dtype=np.int64),
        max_units=np.array([-1 if c.max_units is None else c.max_units
                            for c in cset.candidates], dtype=np.int64),
        lot=np.array([c.lot for c in cset.candidates], dtype=np.int64),
        exclude_origins=cset.exclude_origins, max_share=dict(cset.max_share),
        source=cset.source,
    )
    fee_columns = ("tariff_origin", "import_date", "quantity", "customs_value_usd", "shipped_by")
    return Priced(problem, tuple(orders["model_id"].to_list()), priced_under,
                  orders.select(*fee_columns, discount_factor=pl.Series(discount)))


def plan_toml_text(plan: Plan, header: list[str]) -> str:
    """The plan as TOML (``fleetcalc compare`` reads it), with ``header`` as comment lines."""
    import tomli_w

    # A comment ends at a newline: names (file, scenario) are user text, shown escaped.
    comments = "".join("# " + printable(line) + "\n" for line in header)
    return comments + tomli_w.dumps(plan_to_toml(plan))
