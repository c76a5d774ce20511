"""The fleet optimiser's core (``fleetcalc.optimize``): equal to brute-force enumeration on
generated small instances, never worse when a candidate is added or a limit relaxed, shadow
prices that are supergradients of the LP relaxation's value and predict a re-solve with one
more MW, and infeasible problems named by their conflicting constraints."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fleetcalc.errors import InputError
from fleetcalc.optimize import CVAR_TAIL, OBJECTIVES, Problem, cvar, solve

SITES = ("site", "east")
MAKERS = ("Bitmain", "MicroBT")
ORIGINS_DRAWN = ("MY", "US", "CN")
# Constraints are checked exactly (strict) and with this relative slack (loose): a solver
# works to feasibility tolerances, so its optimum lies between the two brute-force optima.
LOOSE = 1e-7


@st.composite
def problems(draw, n_max: int = 3, with_minimums: bool = True) -> Problem:
    """Small instances whose every plan can be enumerated: each candidate's lots are bounded by
    its site's MW (at most ~8 lots)."""
    n = draw(st.integers(1, n_max))
    n_paths = draw(st.integers(1, 5))
    two_sites = draw(st.booleans())
    site = tuple(draw(st.sampled_from(SITES if two_sites else SITES[:1])) for _ in range(n))
    site_mw = {s: draw(st.integers(1, 24)) / 1000.0 for s in dict.fromkeys(site)}
    unit_mw = np.array([draw(st.integers(1, 5)) / 1000.0 for _ in range(n)])
    lot = np.array([draw(st.integers(1, 3)) for _ in range(n)])
    npv = np.array([[draw(st.integers(-2000, 3000)) for _ in range(n_paths)] for _ in range(n)],
                   dtype=np.float64)
    cost = np.array([draw(st.integers(1, 9)) * 1000.0 for _ in range(n)])
    max_units = np.array([draw(st.one_of(st.just(-1), st.integers(0, 8))) for _ in range(n)])
    min_units = (np.array([draw(st.one_of(st.just(0), st.integers(0, 4))) for _ in range(n)])
                 if with_minimums else None)
    share_key = draw(st.sampled_from([None, "maker", "origin"]))
    return Problem(
        unit_npv_usd=npv, unit_cost_usd=cost, unit_mw=unit_mw, site=site,
        maker=tuple(draw(st.sampled_from(MAKERS)) for _ in range(n)),
        origin=tuple(draw(st.sampled_from(ORIGINS_DRAWN)) for _ in range(n)),
        site_mw=site_mw,
        budget_usd=draw(st.one_of(st.none(), st.integers(0, 60).map(lambda k: k * 1000.0))),
        min_units=min_units, max_units=max_units, lot=lot,
        pue={s: draw(st.sampled_from([1.0, 1.1, 1.3])) for s in site_mw},
        exclude_origins=tuple(draw(st.sets(st.sampled_from(ORIGINS_DRAWN), max_size=1))),
        max_share={} if share_key is None else {share_key: draw(st.sampled_from([0.4, 0.5, 0.7]))},
    )


def _cvar_by_definition(path_npv: np.ndarray) -> np.ndarray:
    """max over eta of eta - E[(eta - X)^+] / tail, per row; the maximum of this concave
    piecewise-linear function is at one of the X values (Rockafellar-Uryasev)."""
    eta = path_npv[:, :, None]  # [plans, candidates for eta, 1]
    shortfall = np.maximum(eta - path_npv[:, None, :], 0.0).mean(axis=2)
    return (path_npv - shortfall / CVAR_TAIL).max(axis=1)


def brute_force(problem: Problem, objective: str, slack: float) -> float | None:
    """The best objective over every plan meeting the constraints within ``slack`` (relative),
    or None when no plan does."""
    lot = problem.ints("lot")
    bounds = []
    for i in range(problem.n):
        pue = problem.pue.get(problem.site[i], 1.0)
        per_lot_mw = pue * problem.unit_mw[i] * lot[i]
        bounds.append(int(problem.site_mw[problem.site[i]] * (1 + slack) // per_lot_mw) + 1)
    units = np.array(list(itertools.product(*(range(b + 1) for b in bounds))), dtype=np.float64)
    units *= lot
    ok = np.ones(len(units), dtype=bool)
    min_units, max_units = problem.ints("min_units"), problem.ints("max_units")
    for i in range(problem.n):
        ok &= units[:, i] >= min_units[i]
        if max_units[i] >= 0:
            ok &= units[:, i] <= max_units[i]
        if problem.origin[i] in problem.exclude_origins:
            ok &= units[:, i] == 0
    capex = units @ problem.unit_cost_usd
    if problem.budget_usd is not None:
        ok &= capex <= problem.budget_usd * (1 + slack) + slack
    for s, capacity in problem.site_mw.items():
        at = np.array([x == s for x in problem.site])
        draw_mw = units[:, at] @ (problem.unit_mw[at] * problem.pue.get(s, 1.0))
        ok &= draw_mw <= capacity * (1 + slack)
    for key, cap in problem.max_share.items():
        labels = np.array(getattr(problem, key))
        for value in set(labels):
            member = units[:, labels == value] @ problem.unit_cost_usd[labels == value]
            ok &= member <= cap * capex + slack * (1 + capex)
    if not ok.any():
        return None
    path_npv = units[ok] @ problem.unit_npv_usd
    values = path_npv.mean(axis=1) if objective == "npv" else _cvar_by_definition(path_npv)
    return float(values.max())


@given(problem=problems(), objective=st.sampled_from(OBJECTIVES))
def test_optimum_equals_brute_force(problem: Problem, objective: str) -> None:
    strict = brute_force(problem, objective, 0.0)
    loose = brute_force(problem, objective, LOOSE)
    if loose is None:
        with pytest.raises(InputError, match="min_units"):
            solve(problem, objective)
        return
    assume(strict is not None)  # feasible only within tolerance: either answer is right
    solution = solve(problem, objective)
    tol = 1e-6 * (1.0 + abs(loose))
    assert strict - tol <= solution.objective_usd <= loose + tol
    assert solution.mip_gap == 0.0
    assert (solution.units % problem.ints("lot") == 0).all()


@given(problem=problems(with_minimums=False), objective=st.sampled_from(OBJECTIVES))
def test_the_lp_relaxation_bounds_the_optimum(problem: Problem, objective: str) -> None:
    solution = solve(problem, objective)
    assert solution.objective_usd <= solution.lp_objective_usd + 1e-6 * (
        1 + abs(solution.lp_objective_usd))


def _relaxations(problem: Problem, data: st.DataObject) -> dict[str, Problem]:
    """One copy per way of loosening the problem (or offering one more candidate)."""
    n_paths = problem.unit_npv_usd.shape[1]
    extra_npv = [[data.draw(st.integers(-2000, 3000)) for _ in range(n_paths)]]
    one_more = replace(
        problem,
        unit_npv_usd=np.vstack([problem.unit_npv_usd, np.array(extra_npv, dtype=np.float64)]),
        unit_cost_usd=np.append(problem.unit_cost_usd, data.draw(st.integers(1, 9)) * 1000.0),
        unit_mw=np.append(problem.unit_mw, data.draw(st.integers(1, 5)) / 1000.0),
        site=(*problem.site, data.draw(st.sampled_from(sorted(problem.site_mw)))),
        maker=(*problem.maker, data.draw(st.sampled_from([*MAKERS, "Canaan"]))),
        origin=(*problem.origin, data.draw(st.sampled_from(ORIGINS_DRAWN))),
        min_units=np.append(problem.ints("min_units"), 0),
        max_units=np.append(problem.ints("max_units"), -1),
        lot=np.append(problem.ints("lot"), data.draw(st.integers(1, 3))),
    )
    return {
        "budget": replace(problem, budget_usd=None if problem.budget_usd is None
                          else problem.budget_usd * 1.5 + 1000.0),
        "site_mw": replace(problem, site_mw={s: mw * 1.5 for s, mw in problem.site_mw.items()}),
        "no max_units": replace(problem, max_units=None),
        "no min_units": replace(problem, min_units=None),
        "lot 1": replace(problem, lot=None),
        "no exclusions": replace(problem, exclude_origins=()),
        "no share cap": replace(problem, max_share={}),
        "lower PUE": replace(problem, pue={}),
        "one more candidate": one_more,
    }


@given(problem=problems(), data=st.data(), objective=st.sampled_from(OBJECTIVES))
def test_relaxing_a_constraint_or_adding_a_candidate_never_lowers_the_optimum(
    problem: Problem, data: st.DataObject, objective: str
) -> None:
    try:
        base = solve(problem, objective).objective_usd
    except InputError:
        assume(False)
    for name, looser in _relaxations(problem, data).items():
        value = solve(looser, objective).objective_usd
        assert value >= base - 1e-6 * (1 + abs(base)), name


@given(problem=problems(with_minimums=False), objective=st.sampled_from(OBJECTIVES),
       step=st.sampled_from([-0.5, -0.1, 0.1, 0.5, 2.0]))
def test_shadow_prices_are_supergradients_of_the_lp_value(
    problem: Problem, objective: str, step: float
) -> None:
    """The LP relaxation's optimum v(b) is concave in each limit b and its dual y is a
    supergradient: v(b + d) <= v(b) + y d for every d, up or down."""
    solution = solve(problem, objective)
    prices = solution.shadow_prices()
    base = solution.lp_objective_usd
    tol = 1e-6 * (1 + abs(base))
    if problem.budget_usd is not None and problem.budget_usd > 0:
        delta = step * problem.budget_usd
        moved = solve(replace(problem, budget_usd=problem.budget_usd + delta), objective)
        assert moved.lp_objective_usd <= base + prices["budget_usd"] * delta + tol
    for site, capacity in problem.site_mw.items():
        delta = step * capacity
        moved = solve(replace(problem, site_mw={**problem.site_mw, site: capacity + delta}),
                      objective)
        assert moved.lp_objective_usd <= base + prices["mw"][site] * delta + tol
    for lim in solution.limits:
        assert lim.binding == (lim.shadow_price_usd != 0.0)
        assert lim.shadow_price_usd >= 0.0


def _mw_bound_problem(site_mw: float) -> Problem:
    """Three current air units (MW per unit, landed cost, NPV per unit as the shipped
    candidates give them) on one site with more budget than megawatts."""
    return Problem(
        unit_npv_usd=np.array([[1850.0], [1420.0], [610.0]]),
        unit_cost_usd=np.array([5510.0, 3870.0, 1680.0]),
        unit_mw=np.array([3645.0, 3348.0, 4160.0]) / 1e6, site=("site",) * 3,
        maker=("Bitmain", "MicroBT", "Auradine"), origin=("MY", "TH", "US"),
        site_mw={"site": site_mw}, budget_usd=80e6, max_units=np.array([4000, -1, -1]),
    )


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_shadow_price_of_a_megawatt_matches_resolving_with_one_more(objective: str) -> None:
    base = solve(_mw_bound_problem(25.0), objective)
    more = solve(_mw_bound_problem(26.0), objective)
    price = base.shadow_prices()["mw"]["site"]
    assert price > 0
    assert more.objective_usd - base.objective_usd == pytest.approx(price, rel=0.01)


def test_budget_shadow_price_matches_resolving_with_more_budget() -> None:
    problem = replace(_mw_bound_problem(25.0), budget_usd=15e6)
    base = solve(problem)
    price = base.shadow_prices()["budget_usd"]
    more = solve(replace(problem, budget_usd=16e6))
    assert (more.objective_usd - base.objective_usd) / 1e6 == pytest.approx(price, rel=0.01)
    assert base.shadow_prices()["mw"]["site"] == 0.0


def test_cvar_is_the_mean_of_the_worst_tenth() -> None:
    values = np.arange(20.0)[::-1]  # worst two of twenty: 0 and 1
    assert cvar(values) == pytest.approx(0.5)
    assert cvar(np.array([7.0])) == 7.0
    assert cvar(np.arange(15.0)) == pytest.approx((0 + 0.5 * 1) / 1.5)  # 1.5 paths


def test_capex_shares_cap_each_maker() -> None:
    problem = Problem(
        unit_npv_usd=np.array([[1000.0], [1500.0]]), unit_cost_usd=np.array([5000.0, 6000.0]),
        unit_mw=np.array([3.5e-3, 3.6e-3]), site=("site", "site"), maker=("A", "B"),
        origin=("MY", "US"), site_mw={"site": 25.0}, budget_usd=15e6, max_share={"maker": 0.6},
    )
    solution = solve(problem)
    assert solution.units.tolist() == [1200, 1500]  # B holds exactly 60% of USD 15M
    share = {lim.name: lim for lim in solution.limits}["max_share.maker (B)"]
    assert share.binding and share.used == pytest.approx(60.0)
    # One more point of cap moves USD 150k of capex from A to B: +25 units of B, -30 of A.
    assert share.shadow_price_usd == pytest.approx(25 * 1500 - 30 * 1000)


def test_nothing_worth_buying_buys_nothing() -> None:
    problem = replace(_mw_bound_problem(25.0), unit_npv_usd=-np.ones((3, 1)))
    solution = solve(problem)
    assert solution.units.tolist() == [0, 0, 0]
    assert solution.objective_usd == 0.0
    assert all(not lim.binding for lim in solution.limits)


@pytest.mark.parametrize(("changes", "named", "numbers"), [
    ({"min_units": np.array([3000, 0, 0]), "budget_usd": 15e6},
     "candidates[0].min_units + budget_usd", "budget_usd = 15,000,000 (the minimums cost "
     "16,530,000)"),
    ({"min_units": np.array([0, 8000, 0])}, "candidates[1].min_units + site.capacity_mw",
     "site.capacity_mw = 25 (the minimums draw 26.784 MW)"),
    ({"min_units": np.array([0, 0, 50]), "exclude_origins": ("US",)},
     "candidates[2].min_units + exclude_origins (US)", "exclude_origins (US)"),
    ({"min_units": np.array([11, 0, 0]), "max_units": np.array([14, -1, -1]),
      "lot": np.array([5, 1, 1])},
     "candidates[0].min_units + candidates[0].max_units + candidates[0].lot",
     "candidates[0].lot = 5"),
    ({"min_units": np.array([10, 0, 0]), "max_units": np.array([4000, 0, 0]),
      "max_share": {"maker": 0.5}},
     "candidates[0].min_units + candidates[1].max_units + candidates[2].max_units + "
     "max_share.maker (Bitmain)", "max_share.maker (Bitmain) = 0.5 of capex"),
])
def test_infeasible_constraints_are_named(changes, named, numbers) -> None:
    problem = replace(_mw_bound_problem(25.0), source="cands.toml", **changes)
    with pytest.raises(InputError) as caught:
        solve(problem)
    message = str(caught.value)
    assert message.startswith(f"cands.toml: {named}: got ")
    assert numbers in message
    assert "HiGHS" not in message


def test_an_unknown_objective_is_an_input_error() -> None:
    with pytest.raises(InputError, match="objective: got 'cvar5'"):
        solve(_mw_bound_problem(25.0), "cvar5")
