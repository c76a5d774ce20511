"""Stand-ins for ``kernels.hourly`` in the rig-day kernel's daily-only variant.

``kernels.rigdays`` compiles a second copy of its task body with ``hourly`` meaning this module
(``kernels._jit.jit_variant``), used when no rig is on hourly prices or several modes: Numba
then never compiles the hourly path, about half of the kernel's compile with an empty cache.
The branch that would call these never runs there (no rig has a site), so they only have to
type-check, with the parameters of the functions they stand for (a changed signature there
fails here at compile). ``alike_nb`` and ``class_work_nb`` are inlined (no compile of their
own); ``simulate_class_nb`` cannot be: Python passes a call of more than 30 arguments as
``*args``, which Numba's inliner refuses. Calling it anyway is a bug, and says so.
"""

from __future__ import annotations

from kernels._jit import jit


@jit(inline=True)
def class_work_nb(power, n_days):
    """No scratch: the hourly path it is for never runs (the block only passes it on)."""
    return 0


@jit(inline=True)
def alike_nb(a, b, hashrate_th, weight, decay_per_day, uptime, failure_per_day, repair_days,
             repair_cost_usd, energy_usd_per_kwh, curtail, group, site_of, mode_first,
             mode_count):
    """Never called: no rig of the daily-only variant is on the hourly path (a bool, as the
    loop that would call it expects)."""
    return False


@jit()
def simulate_class_nb(
    first, last, path, hashrate_th, weight, delivery_day, retire_day, decay_per_day, uptime,
    failure_per_day, repair_days, repair_cost_usd, energy_usd_per_kwh, curtail, rig_key, group,
    site_of, mode_first, mode_count, mode_hashrate_th, mode_power_w, mode_slot, price,
    energy_prefix, credit_prefix, peak_rank, hours_on, btc_unit_per_th, usd_per_th, sampled,
    seed, day_acc, power_acc, group_acc, power_group_acc, work,
):
    """Never called: no rig of the daily-only variant is on the hourly path."""
    raise AssertionError("kernels.daily_only.simulate_class_nb called: a rig on the hourly path")
