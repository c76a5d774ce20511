"""The breakeven searches' exact models of a plan's flows (``fleetcalc.local_models``): every
candidate they answer has the NPV the kernel gives, including candidates that turn rigs on or
off, on a plan whose curtailment starts just below its prices."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fleetcalc import engine
from fleetcalc.local_models import Candidates, CohortDays, LocalModels, thresholds
from fleetcalc.network import fleet_btc_per_th_day, market_rows
from fleetcalc.plan import Plan, default_plans
from fleetcalc.scenario import Scenario, load_scenario
from fleetcalc.tariffs import apply_overrides, load_schedule

# The BTC price factors and power price scales the NPVs are compared at: around 1, where the
# plan below starts to curtail (0.998 of its margin), and far on either side.
FACTORS = (0.5, 0.9, 0.99, 0.997, 0.999, 1.0, 1.001, 1.01, 1.5, 3.0)
SCALES = (0.0, 0.5, 0.99, 0.999, 1.0, 1.001, 1.003, 1.01, 1.2)


@pytest.fixture(scope="module")
def exogenous() -> Scenario:
    valid = Path(__file__).parent / "data/inputs/scenarios/valid.toml"
    return load_scenario(valid).with_changes(horizon_days=730)


def _runs(plan: Plan, scenario: Scenario):
    market = engine.scenario_market(scenario)
    schedule = apply_overrides(load_schedule(), scenario.tariff_overrides)
    runs, fleet_th_by_day = engine._site_runs(plan, scenario, market, schedule)
    return runs, market, fleet_th_by_day


def _npv_functions(plan: Plan, scenario: Scenario):
    """The search's NPV function with the plan's model and with every row on the kernel."""
    runs, market, fleet_th_by_day = _runs(plan, scenario)
    return [engine._npv_function(runs, market, scenario, plan.finance, fleet_th_by_day,
                                 modelled=modelled) for modelled in (True, False)]


def _at_the_margin(scenario: Scenario, quantity: int | None = None) -> Plan:
    """The first default plan at the power price that leaves its leanest day's revenue 0.2%
    above its energy cost on path 0: every day runs at the scenario's prices, and some stop at
    a BTC price 0.2% lower or a power price 0.2% higher."""
    plan = default_plans()[0].with_site(hosting_usd_per_kwh=0.0)
    if quantity is not None:
        plan = plan.with_order(0, quantity=quantity)
    runs, _, _ = _runs(plan, scenario.with_changes(failures="expected"))
    flows = runs[0].flows
    ran = flows.energy_cost_usd[0] > 0.0
    margin = (flows.revenue_usd[0, ran] / flows.energy_cost_usd[0, ran]).min()
    usd_per_kwh = plan.site.energy_usd_per_kwh * margin / 1.002
    return plan.with_site(power_usd_per_kwh=usd_per_kwh / plan.site.pue)


def _rows(n_paths: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every path at every factor (power at the site's price), then at every power scale."""
    paths = np.arange(n_paths)
    btc = [(p, f, np.nan) for f in FACTORS for p in paths]
    power = [(p, 1.0, s) for s in SCALES for p in paths]
    path_index, factor, scale = (np.array(column) for column in zip(*btc, *power, strict=True))
    return path_index.astype(np.int64), factor, scale


@pytest.mark.parametrize("failures", ["expected", "sampled"])
@pytest.mark.parametrize("network", ["exogenous", "responsive"])
def test_modelled_npv_equals_the_kernels_around_where_curtailment_starts(
    exogenous, failures, network,
) -> None:
    base = exogenous if network == "exogenous" else load_scenario(None).with_changes(
        horizon_days=730)
    scenario = base.with_changes(failures=failures, paths=2, seed=3, btc=dataclasses.replace(
        base.btc, annual_volatility=0.3))
    plan = _at_the_margin(scenario, quantity=300 if failures == "sampled" else None)
    modelled, kernel = _npv_functions(plan, scenario)
    path_index, factor, scale = _rows(scenario.paths)
    usd_per_kwh = np.where(np.isnan(scale), np.nan, scale * plan.site.energy_usd_per_kwh)
    # Twice: the second time a sampled fleet's model holds the runs the first time made.
    for _ in range(2):
        got = modelled(path_index, factor, usd_per_kwh)
        want = kernel(path_index, factor, usd_per_kwh)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * plan.orders[0].quantity)


def test_the_plan_at_the_margin_curtails_just_below_its_prices(exogenous) -> None:
    # What the test above relies on: at the scenario's prices every day runs, 0.3% below some
    # stop (so a model that missed the thresholds would give other NPVs there).
    scenario = exogenous.with_changes(failures="expected", paths=1)
    plan = _at_the_margin(scenario)
    runs, market, fleet_th_by_day = _runs(plan, scenario)
    rows = market_rows(market, scenario, np.array([0, 0]), np.array([1.0, 0.997]))
    flows = engine.kernel_flows(runs[0].fleet, market, scenario,
                                fleet_th_by_day=fleet_th_by_day, rows=rows)
    in_service = fleet_th_by_day > 0.0
    idle = (flows.energy_cost_usd == 0.0) & in_service
    assert idle[0].sum() == 0 and idle[1].sum() > 0


def test_a_held_run_models_only_candidates_that_switch_no_rig(exogenous) -> None:
    # Sampled failures: the plan's own run models a higher BTC price (every day still runs)
    # and not one 0.3% lower, which stops rigs on some days (its invariance range ends there).
    scenario = exogenous.with_changes(failures="sampled", paths=1)
    plan = _at_the_margin(scenario, quantity=300)
    runs, market, fleet_th_by_day = _runs(plan, scenario)
    model = engine._flow_model(runs, market, scenario, fleet_th_by_day, own_runs=True)
    assert isinstance(model, LocalModels)
    rows = market_rows(market, scenario, np.array([0, 0, 0]), np.array([1.2, 1.0, 0.997]))
    candidates = Candidates(rows.path_index, fleet_btc_per_th_day(
        rows.btc_per_th_day, rows.hashrate_ehs, fleet_th_by_day), rows.price_usd,
        np.full(3, plan.site.energy_usd_per_kwh))
    modelled, flows = model.flows(candidates, runs[0].flows)
    assert modelled.tolist() == [0, 1]
    np.testing.assert_array_equal(flows.revenue_usd[1], runs[0].flows.revenue_usd[0])


def test_cohort_model_of_expected_failures(exogenous) -> None:
    scenario = exogenous.with_changes(failures="expected", paths=1)
    runs, market, fleet_th_by_day = _runs(default_plans()[0], scenario)
    assert isinstance(engine._flow_model(runs, market, scenario, fleet_th_by_day, True),
                      CohortDays)


def test_take_or_pay_and_several_sites_run_every_candidate_on_the_kernel(exogenous) -> None:
    # The fallback: the floor makes a rig's day depend on prices in other ways; two sites each
    # price their rigs. Their search rows run on the kernel, as before the models.
    scenario = exogenous.with_changes(failures="expected", paths=1)
    floor = default_plans()[0].with_site(take_or_pay_share=0.5)
    runs, market, fleet_th_by_day = _runs(floor, scenario)
    assert thresholds(runs[0].fleet, market.n_days, per_rig=True) is None
    assert engine._flow_model(runs, market, scenario, fleet_th_by_day, True) is None
    modelled, kernel = _npv_functions(floor, scenario)
    path_index, factor, scale = _rows(1)
    usd_per_kwh = np.where(np.isnan(scale), np.nan, scale * floor.site.energy_usd_per_kwh)
    np.testing.assert_array_equal(modelled(path_index, factor, usd_per_kwh),
                                  kernel(path_index, factor, usd_per_kwh))


ROOT = Path(__file__).resolve().parent.parent
# Breakeven columns of a small sampled Monte Carlo (local models and kernel rows) and of the
# default plans on the default network (cohort models), printed as a digest.
_BREAKEVEN_DIGEST = """
import dataclasses, hashlib
import numpy as np
import fleetcalc
from fleetcalc.plan import default_plans
from kernels.tasks import default_threads
base = fleetcalc.load_scenario(None).with_changes(horizon_days=365)
sampled = base.with_changes(failures="sampled", paths=3, seed=4,
                            btc=dataclasses.replace(base.btc, annual_volatility=0.5))
plan = default_plans()[0].with_order(0, quantity=2000)
digest = hashlib.sha256()
for plans, scenario in (([plan], sampled), (None, base.with_changes(paths=40))):
    paths = fleetcalc.evaluate(plans, scenario).paths
    for name in ("breakeven_btc_price_usd", "breakeven_power_usd_per_kwh"):
        digest.update(np.ascontiguousarray(paths[name].to_numpy()).tobytes())
print(default_threads(), digest.hexdigest())
"""


def _breakeven_digest(threads: int) -> list[str]:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _BREAKEVEN_DIGEST], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_breakevens_bit_identical_on_one_and_two_threads_in_fresh_processes() -> None:
    one, two = _breakeven_digest(1), _breakeven_digest(2)
    assert one[0] == "1" and two[0] == "2"
    assert one[1] == two[1]
