"""Field indices of the rig-day kernel's outputs and scratch, in one place.

``kernels.rigdays`` (the daily path) and ``kernels.hourly`` (hourly prices and operating modes)
write the same outputs; both read their field numbers from here. Numba freezes these globals
into compiled code, and its cache only notices edits to a function's own file: clear
``NUMBA_CACHE_DIR`` after editing this one.
"""

from __future__ import annotations

# daily_out[P, N_DAILY, T]: fleet totals per day.
DAILY_HASHRATE_TH = 0  # hashrate mined with (hour-weighted: a rig running 12 h counts half)
DAILY_POWER_W = 1  # mean power drawn over the day
DAILY_BTC = 2
DAILY_REVENUE_USD = 3
DAILY_ENERGY_USD = 4
DAILY_REPAIR_USD = 5
DAILY_RUNNING_UNITS = 6  # unit-days run (a unit running 12 h counts half)
N_DAILY = 7

# group_out[P, G, N_GROUP]: totals per group (an order) over the horizon.
GROUP_BTC = 0
GROUP_REVENUE_USD = 1
GROUP_ENERGY_USD = 2
GROUP_REPAIR_USD = 3
GROUP_RUNNING_UNIT_DAYS = 4
GROUP_FAILURES = 5
N_GROUP = 6

# Fields of the per-task day accumulator, adjacent in memory for each day.
ACC_HASHRATE_TH = 0  # sum of h * scale
ACC_RUNNING_RIGS = 1  # running rigs of the current rig class (see rigdays._flush_class_nb)
ACC_POWER_W = 2
ACC_ENERGY_USD = 3
ACC_RUNNING_UNITS = 4
ACC_REPAIR_USD = 5
N_ACC = 6

# power_daily_out[P, N_POWER_DAILY + S, T] and the per-task power_acc[task, T, N_POWER_DAILY + S]:
# what only rigs on hourly prices or with several modes produce; then one field per mode slot
# (unit-days run in that mode).
POWER_CREDIT_USD = 0  # sell-back credits: contracted energy not drawn, sold at market
POWER_PEAK_LOAD_W = 1  # load drawn in the day's marked peak hour (4CP), W
N_POWER_DAILY = 2

# power_group_out[P, G, N_POWER_GROUP + S] and power_group_acc[task, G, N_POWER_GROUP + S]: per
# group, then unit-days per mode slot.
POWER_GROUP_CREDIT_USD = 0
N_POWER_GROUP = 1
