"""Synthetic fleets and market paths for the rig-day benchmarks, deterministic for a seed.

A fleet is four orders of current air-cooled models (hashrate, power and price as in the shipped
catalog), delivered over the first 180 days and mined to the horizon, on a USD 0.02-0.035/kWh
site with curtailment on, 5% a year degradation, 5-10% annual failure rate and 14 days a
repair. The market comes from the default scenario (``fleetcalc.network.market_paths``, the
NumPy chain): a flat price for one path, the scenario's volatilities for Monte Carlo. Power is
cheap enough that most rig-days run (a curtailed day is cheaper to simulate, so a fleet idle
after the 2028 halving would flatter the figures); curtailment is still decided every day and
binds on the Monte Carlo paths where the price falls. The benchmark reports the running share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

HORIZON_DAYS = 1826
# (hashrate TH/s, power W, annual failure rate) per order: S21 XP, M66S, A1566, Teraflux AT2880.
ORDER_UNITS = ((270.0, 3645.0, 0.06), (298.0, 5513.0, 0.08), (185.0, 3420.0, 0.10),
               (260.0, 4160.0, 0.05))
SITE_USD_PER_KWH = (0.025, 0.03, 0.022, 0.033)  # all-in power price of each order's site
ORDER_DELIVERY_DAYS = (0, 45, 90, 170)  # with ``one_delivery_per_order``


def market(n_paths: int, n_days: int = HORIZON_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """``(btc_per_th_day, price_usd)``, each ``[n_paths, n_days]``, from the default scenario."""
    from fleetcalc.network import market_paths
    from fleetcalc.scenario import load_scenario

    scenario = load_scenario(None).with_changes(paths=n_paths, horizon_days=n_days)
    paths = market_paths(scenario)
    return (np.ascontiguousarray(paths.btc_per_th_day), np.ascontiguousarray(paths.price_usd))


def fleet(
    n_rigs: int, n_paths: int = 1, n_days: int = HORIZON_DAYS, *, sampled: bool = True,
    seed: int = 7, market_arrays: tuple[np.ndarray, np.ndarray] | None = None,
    distinct_sites: bool = False, one_delivery_per_order: bool = False,
) -> tuple[dict[str, Any], int]:
    """Keyword arguments of ``simulate_rigdays`` (less outputs and scratch) and the group
    count. ``sampled`` rigs have weight 1 and their own failure streams. Rigs of an order
    share a site and its power price, as in ``fleetcalc.fleet.rig_arrays``; with
    ``distinct_sites`` every rig has its own price (no two rigs alike: the kernel's worst case).
    ``one_delivery_per_order``: each order's rigs are delivered on one day (order i on day
    ``ORDER_DELIVERY_DAYS[i]``), as a plan delivers them: orders of alike rigs that differ only
    in their failures.
    """
    rng = np.random.default_rng(seed)
    n_groups = len(ORDER_UNITS)
    # Rigs in order of their orders, as ``rig_arrays`` lays them out.
    group = np.sort(rng.integers(0, n_groups, n_rigs)).astype(np.int64)
    units = np.array(ORDER_UNITS)
    btc_per_th_day, price_usd = market_arrays if market_arrays is not None else market(
        n_paths, n_days)
    delivery_day = rng.integers(0, min(180, n_days), n_rigs).astype(np.int64)
    if one_delivery_per_order:
        delivery_day = np.array(ORDER_DELIVERY_DAYS, dtype=np.int64)[group].clip(0, n_days - 1)
    kwargs = {
        "hashrate_th": units[group, 0].copy(),
        "power_w": units[group, 1].copy(),
        "weight": np.ones(n_rigs),
        "delivery_day": delivery_day,
        "retire_day": np.full(n_rigs, n_days, dtype=np.int64),
        "decay_per_day": np.full(n_rigs, 0.95 ** (1 / 365)),
        "uptime": np.full(n_rigs, 0.97),
        "failure_per_day": units[group, 2] / 365.0,
        "repair_days": np.full(n_rigs, 14, dtype=np.int64),
        "repair_cost_usd": np.full(n_rigs, 300.0),
        "energy_usd_per_kwh": (rng.uniform(0.02, 0.035, n_rigs) if distinct_sites
                               else np.array(SITE_USD_PER_KWH)[group]),
        "curtail": np.ones(n_rigs, dtype=np.int64),
        "rig_key": np.arange(n_rigs, dtype=np.int64),
        "group": group,
        "btc_per_th_day": btc_per_th_day,
        "price_usd": price_usd,
        "pool_fee": 0.02,
        "sampled": sampled,
        "seed": 1,
    }
    return kwargs, n_groups


def subsample(kwargs: dict[str, Any], n_rigs: int, n_paths: int | None = None) -> dict[str, Any]:
    """The first ``n_rigs`` rigs (and first ``n_paths`` paths) of a fleet: the same workload,
    smaller, for the slow reference."""
    total = kwargs["hashrate_th"].shape[0]
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, np.ndarray) and value.shape == (total,):
            value = np.ascontiguousarray(value[:n_rigs])
        elif isinstance(value, np.ndarray) and n_paths is not None:
            value = np.ascontiguousarray(value[:n_paths])
        out[key] = value
    return out


def rig_days(kwargs: dict[str, Any]) -> int:
    """Distinct rig-days of a fleet: in-service days of every rig, times the paths."""
    n_paths = kwargs["btc_per_th_day"].shape[0]
    return int((kwargs["retire_day"] - kwargs["delivery_day"]).clip(0).sum()) * n_paths
