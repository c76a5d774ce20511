"""Hypothesis strategies for random fleets and market paths, shared by kernel tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernels import hourly
from kernels._jit import Tier, compiled
from kernels.rigdays import BLOCK_RIGS, N_DAILY, N_GROUP, scratch_shapes, simulate_rigdays


def run_kernel(kwargs: dict, n_groups: int, *, threads: int | None = None,
               block_rigs: int = BLOCK_RIGS, power: hourly.PowerInputs | None = None,
               tier: Tier = compiled) -> tuple:
    """Run the rig-day kernel into fresh buffers: on ``threads`` threads (None: the default
    count), rigs split in blocks of at most ``block_rigs`` (small ones exercise the reduction
    on small fleets), jitted code run as ``tier`` says. With ``power``, returns the power
    outputs too."""
    n_rigs = kwargs["hashrate_th"].shape[0]
    n_paths, n_days = kwargs["btc_per_th_day"].shape
    daily = np.empty((n_paths, N_DAILY, n_days))
    groups = np.empty((n_paths, n_groups, N_GROUP))
    day_shape, group_shape = scratch_shapes(n_rigs, n_paths, n_days, n_groups, block_rigs)
    buffers = (None if power is None else
               hourly.power_buffers(power, day_shape[0], n_paths, n_days, n_groups))
    simulate_rigdays(**kwargs, daily_out=daily, group_out=groups, day_acc=np.empty(day_shape),
                     group_acc=np.empty(group_shape), threads=threads, power=power,
                     power_buffers=buffers, tier=tier)
    if power is None:
        return daily, groups
    return daily, groups, buffers.daily_out, buffers.group_out


def digest(*arrays: np.ndarray) -> str:
    """SHA-256 of the arrays' bytes: equal digests, equal bits."""
    return hashlib.sha256(b"".join(a.tobytes() for a in arrays)).hexdigest()


def thread_test_fleet() -> dict:
    """Kernel inputs with enough tasks for any thread count (3 x BLOCK_RIGS + 17 rigs on two
    paths: 16 tasks), sampled failures and curtailment; 3 groups. The first half of the rigs
    are 3 orders of alike rigs delivered on 8 days (the kernel's class path), the rest all
    different (walked rig by rig)."""
    rng = np.random.default_rng(3)
    n, days = 3 * BLOCK_RIGS + 17, 200
    fleet = {
        "hashrate_th": rng.uniform(100, 300, n), "power_w": rng.uniform(3000, 6000, n),
        "weight": np.ones(n), "delivery_day": rng.integers(0, 50, n),
        "retire_day": np.full(n, days), "decay_per_day": np.full(n, 0.95 ** (1 / 365)),
        "uptime": np.full(n, 0.97), "failure_per_day": np.full(n, 0.5 / 365),
        "repair_days": np.full(n, 5), "repair_cost_usd": np.full(n, 300.0),
        "energy_usd_per_kwh": rng.uniform(0.02, 0.1, n), "curtail": np.ones(n, dtype=np.int64),
        "rig_key": np.arange(n), "group": rng.integers(0, 3, n),
        "btc_per_th_day": rng.uniform(3e-7, 6e-7, (2, days)),
        "price_usd": rng.uniform(5e4, 1.2e5, (2, days)), "pool_fee": 0.02, "sampled": True,
        "seed": 11,
    }
    half = n // 2
    order = np.sort(rng.integers(0, 3, half))
    for name in ("hashrate_th", "power_w", "energy_usd_per_kwh"):
        fleet[name][:half] = fleet[name][order]
    fleet["group"][:half] = order
    fleet["delivery_day"][:half] = rng.integers(0, 8, half) * 6
    return fleet


@dataclass(frozen=True)
class Case:
    arrays: dict
    n_groups: int

    def kwargs(self, **changes):
        out = dict(self.arrays)
        out.update(changes)
        return out


def _floats(lo, hi, allow_subnormal=None):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False,
                     allow_subnormal=allow_subnormal)


def _prices(lo, hi):
    """Power prices, USD/kWh: no subnormal (below 2.2e-308), at which the reference's
    difference of two modes' energy costs underflows to 0, a tie the kernel's price thresholds
    do not see. Tiny normal prices (1e-294) stay: there the reference ranks modes as exact
    arithmetic does (``kernels.reference._hourly_day``)."""
    return _floats(lo, hi, allow_subnormal=False)


@st.composite
def fleets(draw, max_rigs=40, max_days=60, max_paths=3, sampled=None):
    n = draw(st.integers(1, max_rigs))
    t = draw(st.integers(1, max_days))
    p = draw(st.integers(1, max_paths))
    g = draw(st.integers(1, 4))

    def vec(lo, hi, size=n):
        return draw(hnp.arrays(np.float64, size, elements=_floats(lo, hi)))

    delivery = draw(hnp.arrays(np.int64, n, elements=st.integers(0, t - 1)))
    span = draw(hnp.arrays(np.int64, n, elements=st.integers(0, t)))
    arrays = {
        "hashrate_th": vec(1.0, 1000.0),
        "power_w": vec(100.0, 12000.0),
        "weight": vec(1.0, 5.0) if draw(st.booleans()) else np.ones(n),
        "delivery_day": delivery,
        "retire_day": np.minimum(delivery + span, t).astype(np.int64),
        "decay_per_day": (1.0 - vec(0.0, 0.3)) ** (1 / 365),
        "uptime": vec(0.5, 1.0),
        "failure_per_day": vec(0.0, 20.0) / 365,
        "repair_days": draw(hnp.arrays(np.int64, n, elements=st.integers(0, 10))),
        "repair_cost_usd": vec(0.0, 1000.0),
        "energy_usd_per_kwh": vec(0.0, 0.2),
        "curtail": draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1))),
        "rig_key": np.arange(n, dtype=np.int64),
        "group": draw(hnp.arrays(np.int64, n, elements=st.integers(0, g - 1))),
        "btc_per_th_day": draw(hnp.arrays(np.float64, (p, t), elements=_floats(1e-8, 2e-6))),
        "price_usd": draw(hnp.arrays(np.float64, (p, t), elements=_floats(1.0, 300_000.0))),
        "pool_fee": draw(_floats(0.0, 0.05)),
        "sampled": draw(st.booleans()) if sampled is None else sampled,
        "seed": draw(st.integers(0, 2**40)),
    }
    return Case(arrays, g)


@dataclass(frozen=True)
class PowerCase:
    """A fleet (``Case``) with some rigs on hourly prices and several modes."""

    case: Case
    power: hourly.PowerInputs
    raw: hourly.RawHours


@st.composite
def power_fleets(draw, max_rigs=24, max_days=30, max_paths=2, sampled=None, sell_back=None,
                 max_modes=3, alike=None, every_feature=False):
    """Fleets where each rig is on the daily path or on one of 1-2 sites' hourly prices, with
    1..``max_modes`` modes; sites are market (prices may be negative) or fixed with sell-back;
    some hours forced off, one peak hour a day. ``alike``: runs of rigs of one order (same
    unit, different delivery days), the kernel's shared-day case. ``every_feature``: every
    draw has them all (built in, not filtered: a filter would discard most draws): the first
    rig on an hourly site, 2+ modes, an hour forced off, sell-back with an hour above the
    contract."""
    sell_back = True if every_feature else sell_back
    case = draw(fleets(max_rigs=max_rigs, max_days=max_days, max_paths=max_paths,
                       sampled=sampled))
    a = dict(case.arrays)
    n = a["hashrate_th"].shape[0]
    t = a["btc_per_th_day"].shape[1]
    alike = alike if alike is not None else draw(st.booleans())
    if alike:
        for key in ("hashrate_th", "power_w", "weight", "decay_per_day", "uptime",
                    "failure_per_day", "repair_days", "repair_cost_usd", "curtail", "group"):
            a[key] = np.full(n, a[key][0])
    n_sites = draw(st.integers(1, 2))
    market = draw(hnp.arrays(np.float64, (n_sites, t, 24), elements=_prices(-0.05, 0.4)))
    forced_off = draw(hnp.arrays(np.bool_, (n_sites, t, 24), elements=st.booleans())) & (
        every_feature or draw(st.sampled_from([False, True])))
    if every_feature:
        forced_off[0, 0, draw(st.integers(0, 23))] = True
    peak_hour = draw(st.integers(0, 23))
    peak = np.zeros((n_sites, t, 24), dtype=bool)
    peak[:, :, peak_hour] = True
    if sell_back if sell_back is not None else draw(st.booleans()):
        contract = draw(_prices(0.0, 0.2))
        if every_feature:
            market[0, 0, draw(st.integers(0, 23))] = contract + draw(_prices(1e-3, 0.2))
        credit = np.maximum(market - contract, 0.0)
        raw = hourly.RawHours(contract + credit, np.full_like(market, contract), credit,
                              forced_off, peak)
    else:
        raw = hourly.RawHours(market, market, np.zeros_like(market), forced_off, peak)
    n_modes = draw(st.integers(2 if every_feature else 1, max_modes))
    # One mode table for every hourly rig: stock is the rig's own unit; others scale it.
    mode_hashrate = np.concatenate([[1.0], draw(hnp.arrays(np.float64, n_modes - 1,
                                                           elements=_floats(0.5, 1.5)))])
    mode_power = np.concatenate([[1.0], draw(hnp.arrays(np.float64, n_modes - 1,
                                                        elements=_floats(0.5, 1.5)))])
    hourly_rig = draw(hnp.arrays(np.bool_, n, elements=st.booleans()))
    hourly_rig[0] |= every_feature
    site_of = np.where(hourly_rig, draw(hnp.arrays(np.int64, n,
                                                    elements=st.integers(0, n_sites - 1))), -1)
    if alike:
        site_of = np.full(n, site_of[0])
    # Mode rows per rig (rigs differ in unit): rig r's rows are r * n_modes ... + n_modes.
    rows_h = (a["hashrate_th"][:, None] * mode_hashrate[None]).ravel()
    rows_w = (a["power_w"][:, None] * mode_power[None]).ravel()
    mode_first = np.arange(n, dtype=np.int64) * n_modes
    if alike:
        mode_first = np.zeros(n, dtype=np.int64)
    a["energy_usd_per_kwh"] = np.where(site_of >= 0, draw(_floats(0.5, 2.0)),
                                       a["energy_usd_per_kwh"])
    power = hourly.PowerInputs(
        hourly.prepare_site_hours(raw), site_of.astype(np.int64), mode_first,
        np.full(n, n_modes, dtype=np.int64), rows_h, rows_w,
        np.tile(np.arange(n_modes, dtype=np.int64), n), n_modes)
    return PowerCase(Case(a, case.n_groups), power, raw)
