"""Hypothesis strategies for random fleets and market paths, shared by kernel tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernels.rigdays import N_DAILY, N_GROUP, scratch_shapes, simulate_rigdays_nb


def run_kernel(kwargs: dict, n_groups: int, kernel=simulate_rigdays_nb) -> tuple:
    """Run a rig-day kernel (the threaded one unless told) into fresh buffers."""
    n_rigs = kwargs["hashrate_th"].shape[0]
    n_paths, n_days = kwargs["btc_per_th_day"].shape
    daily = np.empty((n_paths, N_DAILY, n_days))
    groups = np.empty((n_paths, n_groups, N_GROUP))
    day_shape, group_shape = scratch_shapes(n_rigs, n_paths, n_days, n_groups)
    kernel(**kwargs, daily_out=daily, group_out=groups, day_acc=np.empty(day_shape),
           group_acc=np.empty(group_shape))
    return daily, groups


@dataclass(frozen=True)
class Case:
    arrays: dict
    n_groups: int

    def kwargs(self, **changes):
        out = dict(self.arrays)
        out.update(changes)
        return out


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


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
