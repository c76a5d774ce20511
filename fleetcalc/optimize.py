"""The best fleet: a mixed-integer program over candidate orders, solved by HiGHS.

The problem (``Problem``) is pure numbers; nothing here calls the engine. Candidate i buys
``units_i = lot_i x k_i`` units (``k_i`` an integer number of lots) and each unit brings
``unit_npv_usd[i, p]`` of NPV on path p, so a plan's NPV on path p is
``sum_i units_i x unit_npv_usd[i, p]`` (linear in quantities: see ``fleetcalc.candidates``
for when that holds). Subject to

- budget: ``sum_i unit_cost_usd_i x units_i <= budget_usd``;
- megawatts per site s: ``sum_{i at s} pue_s x unit_mw_i x units_i <= site_mw_s``;
- supplier caps ``max_share = {key: cap}`` (key ``maker`` or ``origin``): for every value v
  of the key, ``sum_{i: key_i = v} cost_i units_i <= cap x sum_i cost_i units_i``. Shares are
  of capex, not of units: a unit of one maker is not a unit of another (a 200 TH air unit vs
  a 500 TH hydro one), and what diversification limits is the money riding on one supplier
  or one customs ruling;
- compliance: candidates of an excluded origin buy nothing;
- per candidate ``min_units <= units_i <= max_units`` (``min_units`` is a commitment, so a
  minimum nobody can afford makes the problem infeasible).

Objectives: ``npv`` maximises the mean NPV over paths; ``cvar10`` the mean NPV of the worst
10% of paths, linearised as Rockafellar and Uryasev (2000): maximise
``eta - sum_p u_p / (0.1 N)`` with ``u_p >= eta - NPV_p``, ``u_p >= 0`` (a fractional path
enters with its fraction when 0.1 N is not whole).

Shadow prices are the duals of the LP relaxation (lots continuous): the objective's change
per extra USD of budget, per extra MW of a site and per extra percentage point of a share
cap, valid near the optimum. An infeasible problem raises ``InputError`` naming an
irreducible set of the constraints that cannot hold together (found by a deletion filter).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from fleetcalc.errors import InputError

OBJECTIVES = ("npv", "cvar10")
CVAR_TAIL = 0.10
SHARE_KEYS = ("maker", "origin")
# HiGHS stops at a relative gap of 1e-4 by default; the optimiser promises the optimum (tests
# compare it with brute force), and the problems are small enough to prove it.
MIP_REL_GAP = 0.0
DEFAULT_TIME_LIMIT_S = 60.0
# A dual whose effect over the whole limit is below this share of the objective is zero.
DUAL_ZERO = 1e-9


@dataclass(frozen=True)
class Problem:
    """Candidates (one entry per candidate order, arrays of length n) and the limits."""

    unit_npv_usd: np.ndarray  # [n, paths] NPV of one unit per Monte Carlo path
    unit_cost_usd: np.ndarray  # [n] what one unit takes from the budget (landed capex)
    unit_mw: np.ndarray  # [n] power one unit draws, MW, before the site's PUE
    site: tuple[str, ...]  # [n] the site each candidate is installed at
    maker: tuple[str, ...]  # [n]
    origin: tuple[str, ...]  # [n] ISO 3166 alpha-2
    site_mw: Mapping[str, float]  # MW each site can draw from the grid
    budget_usd: float | None = None  # None: no budget limit
    min_units: np.ndarray | None = None  # [n] int; None: all 0
    max_units: np.ndarray | None = None  # [n] int, -1 for no cap; None: no caps
    lot: np.ndarray | None = None  # [n] int, units per lot; None: all 1
    pue: Mapping[str, float] = field(default_factory=dict)  # per site; missing: 1.0
    exclude_origins: tuple[str, ...] = ()
    max_share: Mapping[str, float] = field(default_factory=dict)  # key in SHARE_KEYS -> cap
    names: tuple[str, ...] | None = None  # how messages name candidates (candidates[i])
    source: str = "<memory>"  # the file messages name

    @property
    def n(self) -> int:
        return int(self.unit_npv_usd.shape[0])

    def name(self, i: int) -> str:
        return self.names[i] if self.names is not None else f"candidates[{i}]"

    def ints(self, which: str) -> np.ndarray:
        """``min_units``, ``max_units`` or ``lot`` as int64 [n] with its default filled in."""
        value = getattr(self, which)
        if value is None:
            default = {"min_units": 0, "max_units": -1, "lot": 1}[which]
            return np.full(self.n, default, dtype=np.int64)
        return np.asarray(value, dtype=np.int64)


@dataclass(frozen=True)
class Limit:
    """One constraint of the optimum: its limit, what the plan uses, and its shadow price."""

    name: str  # budget_usd, <site>.capacity_mw, max_share.maker (Bitmain)
    unit: str  # "USD", "MW", "pt" (a percentage point of share)
    limit: float
    used: float
    # Objective USD per extra unit of the limit (LP relaxation dual); a percentage point of
    # share for caps.
    shadow_price_usd: float
    binding: bool  # the LP relaxation's dual is not zero: more of it would raise the optimum

    @property
    def unused(self) -> float:
        return self.limit - self.used


@dataclass(frozen=True)
class Solution:
    objective: str
    units: np.ndarray  # [n] int64, multiples of each lot
    objective_usd: float  # the objective at ``units``, recomputed from the integers
    npv_usd: float  # mean NPV over paths at ``units``
    path_npv_usd: np.ndarray  # [paths]
    lp_objective_usd: float  # optimum of the LP relaxation (an upper bound)
    mip_gap: float  # relative gap HiGHS proved (0: optimal)
    limits: tuple[Limit, ...]

    def shadow_prices(self) -> dict[str, object]:
        """``{"budget_usd": USD per USD or None, "mw": {site: USD per MW}}``."""
        budget = next((lim.shadow_price_usd for lim in self.limits if lim.name == "budget_usd"),
                      None)
        mw = {lim.name.removesuffix(".capacity_mw"): lim.shadow_price_usd
              for lim in self.limits if lim.unit == "MW"}
        return {"budget_usd": budget, "mw": mw}


def cvar(values: np.ndarray, tail: float = CVAR_TAIL) -> float:
    """Mean of the worst ``tail`` share of ``values`` (a fractional value enters with its
    fraction): what the Rockafellar-Uryasev program attains at its optimum."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    weight = tail * ordered.size
    whole = min(math.floor(weight), ordered.size)
    total = ordered[:whole].sum()
    if whole < ordered.size:
        total += (weight - whole) * ordered[whole]
    return float(total / weight)


def objective_value(units: np.ndarray, unit_npv_usd: np.ndarray, objective: str) -> float:
    path_npv = np.asarray(units, dtype=np.float64) @ unit_npv_usd
    return float(path_npv.mean()) if objective == "npv" else cvar(path_npv)


# --- the model --------------------------------------------------------------------------------


@dataclass
class _Rows:
    """A model under construction: rows as (label, coefficients over the lots, upper bound)."""

    labels: list[str] = field(default_factory=list)
    coefficients: list[np.ndarray] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)

    def add(self, label: str, coefficients: np.ndarray, upper: float) -> None:
        self.labels.append(label)
        self.coefficients.append(coefficients)
        self.upper.append(upper)


def _site_label(site: str) -> str:
    return f"{site}.capacity_mw"


def _share_groups(problem: Problem) -> list[tuple[str, str, float]]:
    """(key, value, cap) for every cap below 1 and every value of the key among candidates."""
    groups = []
    for key, cap in problem.max_share.items():
        if cap < 1.0:
            values = getattr(problem, key)
            groups.extend((key, v, cap) for v in dict.fromkeys(values))
    return groups


def _bounds(problem: Problem, drop: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds on the number of lots of each candidate (upper inf: no cap)."""
    lot = problem.ints("lot")
    min_units, max_units = problem.ints("min_units"), problem.ints("max_units")
    lower = np.zeros(problem.n)
    upper = np.full(problem.n, np.inf)
    for i in range(problem.n):
        name = problem.name(i)
        size = 1 if f"{name}.lot" in drop else lot[i]
        if f"{name}.min_units" not in drop:
            lower[i] = math.ceil(min_units[i] / size)
        if max_units[i] >= 0 and f"{name}.max_units" not in drop:
            upper[i] = max_units[i] // size
        if problem.origin[i] in problem.exclude_origins and (
                f"exclude_origins ({problem.origin[i]})" not in drop):
            upper[i] = 0.0
    return lower, upper


def _lot_sizes(problem: Problem, drop: frozenset[str]) -> np.ndarray:
    lot = problem.ints("lot").astype(np.float64)
    return np.array([1.0 if f"{problem.name(i)}.lot" in drop else lot[i]
                     for i in range(problem.n)])


def _limit_rows(problem: Problem, drop: frozenset[str]) -> _Rows:
    """Budget, site MW and share rows over the lot variables, less the dropped ones."""
    lot = _lot_sizes(problem, drop)
    cost_per_lot = problem.unit_cost_usd * lot
    rows = _Rows()
    if problem.budget_usd is not None and "budget_usd" not in drop:
        rows.add("budget_usd", cost_per_lot, problem.budget_usd)
    sites = np.asarray(problem.site)
    for site, capacity in problem.site_mw.items():
        if _site_label(site) not in drop:
            pue = problem.pue.get(site, 1.0)
            rows.add(_site_label(site), np.where(sites == site, pue * problem.unit_mw * lot, 0.0),
                     capacity)
    for key, value, cap in _share_groups(problem):
        label = f"max_share.{key} ({value})"
        if label not in drop:
            member = np.asarray(getattr(problem, key)) == value
            rows.add(label, (member - cap) * cost_per_lot, 0.0)
    return rows


@dataclass(frozen=True)
class _Solved:
    status: str  # "optimal", "infeasible", "time_limit", or HiGHS's word for it
    lots: np.ndarray
    objective_usd: float
    row_duals: np.ndarray
    mip_gap: float


def _run_highs(
    cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, matrix: np.ndarray,
    row_lower: np.ndarray, row_upper: np.ndarray, integer: np.ndarray, time_limit_s: float,
) -> _Solved:
    """Maximise ``cost @ x`` over ``lower <= x <= upper``, ``row_lower <= matrix @ x <=
    row_upper``, ``x[integer]`` integral."""
    # highspy.Highs() registers its Python callbacks in the constructor, and with logging on
    # (the default until an option is set) that prints HiGHS's banner on the C stdout, which
    # would corrupt `optimize --json` (ERGO-Code/HiGHS#1702, #2749). The core class takes the
    # option before doing anything.
    from highspy import HighsLp, HighsModelStatus, HighsVarType, MatrixFormat, ObjSense, _Highs

    highs = _Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    highs.setOptionValue("time_limit", float(time_limit_s))
    n_rows, n_cols = matrix.shape
    lp = HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.sense_ = ObjSense.kMaximize
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    sparse = matrix.T.copy()  # column-wise: column j's nonzeros are row j of the transpose
    nonzero = sparse != 0.0
    lp.a_matrix_.format_ = MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(nonzero.sum(axis=1))]).astype(np.int32)
    lp.a_matrix_.index_ = np.nonzero(nonzero)[1].astype(np.int32)
    lp.a_matrix_.value_ = sparse[nonzero]
    if integer.any():
        lp.integrality_ = [HighsVarType.kInteger if flag else HighsVarType.kContinuous
                           for flag in integer]
    highs.passModel(lp)
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    solution = highs.getSolution()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    # Every column is bounded or priced down (eta, the shortfalls), so "unbounded or
    # infeasible" from presolve can only mean infeasible.
    word = {HighsModelStatus.kOptimal: "optimal", HighsModelStatus.kInfeasible: "infeasible",
            HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
            HighsModelStatus.kTimeLimit: "time_limit"}.get(status, str(status))
    if word == "time_limit" and not has_solution:
        word = "time_limit_without_solution"
    if word == "optimal" and n_cols == 0:
        has_solution = True
    return _Solved(
        status=word,
        lots=np.array(solution.col_value) if has_solution else np.zeros(n_cols),
        objective_usd=float(info.objective_function_value),
        row_duals=np.array(solution.row_dual) if solution.dual_valid else np.zeros(n_rows),
        mip_gap=float(info.mip_gap) if integer.any() and math.isfinite(info.mip_gap) else 0.0,
    )


def _solve_model(
    problem: Problem, objective: str, integer: bool, drop: frozenset[str], time_limit_s: float,
) -> tuple[_Solved, _Rows]:
    """Build and solve the program (``integer=False``: the LP relaxation). Columns are the n
    lot counts, then for ``cvar10`` eta and one shortfall u_p per path."""
    rows = _limit_rows(problem, drop)
    lower, upper = _bounds(problem, drop)
    lot = _lot_sizes(problem, drop)
    npv_per_lot = problem.unit_npv_usd * lot[:, None]  # [n, paths]
    n, n_paths = npv_per_lot.shape
    limit_matrix = (np.array(rows.coefficients) if rows.labels else np.zeros((0, n)))
    row_upper = np.array(rows.upper, dtype=np.float64)
    if objective == "npv":
        cost = npv_per_lot.mean(axis=1)
        matrix, row_lower = limit_matrix, np.full(len(rows.labels), -np.inf)
    else:
        # Columns [lots (n), eta, u (paths)]; rows: the limits, then per path
        # NPV_p(lots) - eta + u_p >= 0.
        cost = np.concatenate([np.zeros(n), [1.0], np.full(n_paths, -1.0 / (CVAR_TAIL * n_paths))])
        lower = np.concatenate([lower, [-np.inf], np.zeros(n_paths)])
        upper = np.concatenate([upper, [np.inf], np.full(n_paths, np.inf)])
        tail_rows = np.hstack([npv_per_lot.T, -np.ones((n_paths, 1)), np.eye(n_paths)])
        matrix = np.vstack([np.hstack([limit_matrix, np.zeros((len(rows.labels), 1 + n_paths))]),
                            tail_rows])
        row_lower = np.concatenate([np.full(len(rows.labels), -np.inf), np.zeros(n_paths)])
        row_upper = np.concatenate([row_upper, np.full(n_paths, np.inf)])
    integral = np.zeros(cost.size, dtype=bool)
    integral[:n] = integer
    solved = _run_highs(cost, lower, upper, matrix, row_lower, row_upper, integral, time_limit_s)
    return solved, rows


# --- infeasibility ---------------------------------------------------------------------------


def _groups(problem: Problem) -> list[str]:
    """Every constraint a deletion filter may drop, candidates' own first."""
    min_units, max_units, lot = (problem.ints(k) for k in ("min_units", "max_units", "lot"))
    groups = []
    for i in range(problem.n):
        name = problem.name(i)
        if min_units[i] > 0:
            groups.append(f"{name}.min_units")
        if max_units[i] >= 0:
            groups.append(f"{name}.max_units")
        if lot[i] > 1:
            groups.append(f"{name}.lot")
    groups += [f"exclude_origins ({o})" for o in dict.fromkeys(problem.origin)
               if o in problem.exclude_origins]
    groups += [f"max_share.{key} ({value})" for key, value, _ in _share_groups(problem)]
    groups += [_site_label(site) for site in problem.site_mw]
    if problem.budget_usd is not None:
        groups.append("budget_usd")
    return groups


def _feasible(problem: Problem, drop: frozenset[str], time_limit_s: float) -> bool:
    lower, upper = _bounds(problem, drop)
    if (lower > upper).any():
        return False
    zero_npv = replace(problem, unit_npv_usd=np.zeros((problem.n, 1)))
    solved, _ = _solve_model(zero_npv, "npv", True, drop, time_limit_s)
    return solved.status != "infeasible"


def _describe(problem: Problem, label: str, need_usd: float, need_mw: dict[str, float]) -> str:
    """One constraint of a conflict, with the numbers that make it one."""
    names = [problem.name(i) for i in range(problem.n)]
    if label.endswith((".min_units", ".max_units", ".lot")):
        name, _, key = label.rpartition(".")
        return f"{label} = {int(problem.ints(key)[names.index(name)])}"
    if label == "budget_usd":
        return (f"budget_usd = {problem.budget_usd:,.0f} (the minimums cost {need_usd:,.0f})")
    if label.endswith(".capacity_mw"):
        site = label.removesuffix(".capacity_mw")
        return (f"{label} = {problem.site_mw[site]:g} (the minimums draw "
                f"{need_mw.get(site, 0.0):,.3f} MW)")
    if label.startswith("max_share."):
        key = label.removeprefix("max_share.").split(" ")[0]
        return f"{label} = {problem.max_share[key]:g} of capex"
    return label  # exclude_origins (CN)


def _infeasible_error(problem: Problem, time_limit_s: float) -> InputError:
    """An InputError naming an irreducible set of constraints that cannot all hold.

    Deletion filter (Chinneck): drop each constraint in turn and keep it dropped while the rest
    stays infeasible; what remains is infeasible, and dropping any one of it makes it feasible.
    """
    groups = _groups(problem)
    drop: frozenset[str] = frozenset()
    for group in groups:
        if not _feasible(problem, drop | {group}, time_limit_s):
            drop = drop | {group}
    conflict = [g for g in groups if g not in drop]
    lower, _ = _bounds(problem, frozenset(drop))
    units = lower * _lot_sizes(problem, frozenset(drop))
    need_usd = float(units @ problem.unit_cost_usd)
    need_mw: dict[str, float] = {}
    for i, site in enumerate(problem.site):
        need_mw[site] = need_mw.get(site, 0.0) + units[i] * problem.unit_mw[i] * problem.pue.get(
            site, 1.0)
    described = "; ".join(_describe(problem, g, need_usd, need_mw) for g in conflict)
    return InputError(problem.source, " + ".join(conflict), described,
                      "constraints some plan can meet together: lower a minimum or raise a "
                      "limit (no plan meets these, and dropping any one of them makes one)")


# --- the solution ----------------------------------------------------------------------------


def _limits(
    problem: Problem, rows: _Rows, units: np.ndarray, lp: _Solved,
) -> tuple[Limit, ...]:
    """Each limit row at the integer optimum ``units``, priced by the LP relaxation's duals."""
    out = []
    lot = _lot_sizes(problem, frozenset())
    capex = float(units @ problem.unit_cost_usd)
    lp_capex = float((lp.lots[: problem.n] * lot) @ problem.unit_cost_usd)
    scale = max(abs(lp.objective_usd), 1.0)
    for r, label in enumerate(rows.labels):
        dual = float(lp.row_duals[r])
        if label.startswith("max_share."):
            key, value = label.removeprefix("max_share.").rstrip(")").split(" (")
            member = np.asarray(getattr(problem, key)) == value
            used = float(units[member] @ problem.unit_cost_usd[member]) / capex if capex else 0.0
            # The cap multiplies the plan's capex in its row, so d(objective)/d(cap) is the
            # dual times the LP optimum's capex (envelope theorem); quoted per point.
            price = dual * lp_capex / 100.0
            binding = abs(price) * 100.0 > DUAL_ZERO * scale
            out.append(Limit(label, "pt", problem.max_share[key] * 100.0, used * 100.0,
                             price if binding else 0.0, binding))
            continue
        limit = rows.upper[r]
        binding = abs(dual) * limit > DUAL_ZERO * scale
        out.append(Limit(label, "USD" if label == "budget_usd" else "MW", limit,
                         float((rows.coefficients[r] / lot) @ units), dual if binding else 0.0,
                         binding))
    return tuple(out)


def solve(
    problem: Problem, objective: str = "npv", *, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> Solution:
    """The quantities that maximise ``objective`` under the problem's limits.

    Raises ``InputError`` when no plan meets the constraints (naming a conflicting set), and
    ``RuntimeError`` when HiGHS fails or finds no plan within ``time_limit_s``.
    """
    if objective not in OBJECTIVES:
        raise InputError(problem.source, "objective", objective,
                         "one of " + ", ".join(repr(o) for o in OBJECTIVES))
    lower, upper = _bounds(problem, frozenset())
    if (lower > upper).any():
        raise _infeasible_error(problem, time_limit_s)
    mip, rows = _solve_model(problem, objective, True, frozenset(), time_limit_s)
    if mip.status == "infeasible":
        raise _infeasible_error(problem, time_limit_s)
    if mip.status not in ("optimal", "time_limit"):
        raise RuntimeError(f"HiGHS could not solve the fleet program: {mip.status}")
    lot = problem.ints("lot")
    units = np.rint(mip.lots[: problem.n]).astype(np.int64) * lot
    lp, _ = _solve_model(problem, objective, False, frozenset(), time_limit_s)
    path_npv = units.astype(np.float64) @ problem.unit_npv_usd
    return Solution(
        objective=objective, units=units,
        objective_usd=objective_value(units, problem.unit_npv_usd, objective),
        npv_usd=float(path_npv.mean()), path_npv_usd=path_npv,
        lp_objective_usd=lp.objective_usd, mip_gap=mip.mip_gap,
        limits=_limits(problem, rows, units, lp),
    )

