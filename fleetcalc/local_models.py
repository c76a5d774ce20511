"""Exact models of a plan's daily flows at a breakeven search's candidate prices, so that most
candidates need no kernel run.

A rig on the daily path runs on day t when its revenue covers its energy, ``h_r(t) * u[t] >=
E_r``, with ``u[t]`` the day's net USD per TH/s (BTC per TH/s x (1 - pool fee) x BTC price) and
``E_r`` the energy cost of its full day at the site's price; nothing else in the day depends on
prices. So a rig runs exactly when ``u[t]`` is at least its threshold ``theta_r(t) = E_r /
h_r(t)`` (``thresholds``). At power price x instead of the site's x0 every ``E_r`` scales by x /
x0, which is ``u`` scaled by x0 / x: a candidate's day values are ``w[t] = u[t] * x0 / x``. BTC
and revenue are the day's hashrate mined with times the candidate's BTC and USD per TH/s (the
kernel forms them so), energy cost scales with x; a responsive network's answer to the price is
in the candidate's ``u`` (its own network run, as the kernel's rows get).

Two models, each exact (the kernel's flows up to the order of a day's sums):

- ``CohortDays``, failures in expectation: each cohort's day is the same whenever it runs (no
  failure clock), so a day's totals are the sum over cohorts running that day (``w[t] >=
  theta_k(t)``) of what each adds, taken from a kernel run of that cohort alone, never curtailed.
  Every candidate is modelled.
- ``LocalModels``, sampled failures: a run's decisions hold for every ``w`` with ``lo[t] <= w[t]
  < hi[t]`` on every day, ``lo[t]`` the highest threshold of a class of alike rigs that ran that
  day (-inf if none) and ``hi[t]`` the lowest of one that was curtailed (+inf if none): the
  run's *invariance range*. Within it every rig-day is the same (which rigs run, their failures,
  since a failure clock counts running days, downtime, repairs, kWh), so the run's daily totals
  give the candidate's flows. Candidates outside every run's range run on the kernel, and their
  runs are held in turn.

Only one site on the daily path with one mode per rig and no take-or-pay floor is modelled
(``thresholds`` returns None otherwise): hourly prices, several modes and the floor make a rig's
day depend on prices in other ways, and the searches run those candidates on the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fleetcalc.cashflows import FleetArrays, KernelFlows

# Most classes (cohorts, or runs of alike sampled rigs) a model holds: each costs a pass over
# the candidates' days; a fleet of more (such as rigs each with its own power price) runs every
# candidate on the kernel.
MAX_CLASSES = 32
# The daily totals a model gives: what the cash flows read besides the market (BTC and
# revenue follow from the hashrate mined with). Power and running units are not modelled.
DAY_FIELDS = ("hashrate_th", "energy_cost_usd", "repair_cost_usd")


@dataclass(frozen=True)
class Thresholds:
    """``usd_per_th[K, T]``: per class and day, the net USD per TH/s-day at or above which the
    class's units run (at the site's power price): -inf if it is never curtailed, NaN on days
    it is not in service. ``first_rig[K]``: a rig of each class."""

    usd_per_th: np.ndarray
    first_rig: np.ndarray


def modelled(fleet: FleetArrays) -> bool:
    """Whether a fleet's days are modelled (see the module docstring)."""
    return not fleet.rigs.hourly and fleet.site.take_or_pay_usd() is None


def thresholds(fleet: FleetArrays, n_days: int, per_rig: bool) -> Thresholds | None:
    """The thresholds of each rig (``per_rig``: cohorts) or of each class of alike curtailable
    rigs (the others always run, so they never change a decision); None when the fleet is not
    ``modelled`` or its classes are more than ``MAX_CLASSES``."""
    rigs = fleet.rigs
    if not modelled(fleet):
        return None
    arrays = (rigs.hashrate_th, rigs.decay_per_day, rigs.power_w, rigs.energy_usd_per_kwh,
              rigs.delivery_day, rigs.retire_day, rigs.curtail)
    if per_rig:
        first_rig = np.arange(rigs.n_rigs)
    else:
        # Rigs of an order are consecutive and alike but for their keys: a run of them is one
        # class (found array by array: 100,000 rigs' columns stacked cost ~7 ms).
        starts = np.zeros(rigs.n_rigs, dtype=bool)
        starts[:1] = True
        for values in arrays:
            starts[1:] |= values[1:] != values[:-1]
        first_rig = np.flatnonzero(starts)
        first_rig = first_rig[(rigs.curtail[first_rig] != 0)
                              & (rigs.delivery_day[first_rig] < rigs.retire_day[first_rig])]
        if first_rig.size > MAX_CLASSES:  # (runs of one class apart: one class)
            columns = np.stack([values[first_rig].astype(np.float64) for values in arrays],
                               axis=1)
            _, unique = np.unique(columns, axis=0, return_index=True)
            first_rig = first_rig[np.sort(unique)]
    if first_rig.size > MAX_CLASSES:
        return None
    hashrate, decay, power_w, usd_per_kwh, delivery, retire, curtail = (
        values[first_rig].astype(np.float64) for values in arrays)
    days = np.arange(n_days)[None, :]
    age = days - delivery[:, None]
    in_service = (age >= 0) & (days < retire[:, None])
    with np.errstate(all="ignore"):  # (a zero hashrate never runs: threshold +inf)
        h = hashrate[:, None] * decay[:, None] ** np.where(in_service, age, 0)
        energy_day_usd = power_w / 1000.0 * 24.0 * usd_per_kwh
        theta = np.where(curtail[:, None] != 0, energy_day_usd[:, None] / h, -np.inf)
    return Thresholds(np.where(in_service, theta, np.nan), first_rig)


@dataclass(frozen=True)
class Candidates:
    """Rows of a search round as the models read them: market paths ``path_index[n]``, gross
    BTC per TH/s-day the fleet earns (after ``network.fleet_btc_per_th_day``) and BTC price
    ``[n, T]``, power prices ``usd_per_kwh[n]`` (the site's for a BTC price row)."""

    path_index: np.ndarray
    btc_per_th_day: np.ndarray
    price_usd: np.ndarray
    usd_per_kwh: np.ndarray

    def subset(self, rows: np.ndarray) -> Candidates:
        return Candidates(self.path_index[rows], self.btc_per_th_day[rows],
                          self.price_usd[rows], self.usd_per_kwh[rows])


class _Model:
    """What both models share: the day values candidates are judged by, and their flows from
    daily totals."""

    def __init__(self, limits: Thresholds, site_usd_per_kwh: float, pool_fee: float) -> None:
        self._theta = limits.usd_per_th
        self._site_usd_per_kwh = site_usd_per_kwh
        self._pool_fee = pool_fee

    def _units(self, rows: Candidates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Net BTC and USD per TH/s-day, formed as ``kernels.rigdays.simulate_rigdays`` forms
        them (the same bits), and the day values ``w[n, T]`` the rigs' thresholds are compared
        with."""
        with np.errstate(over="ignore"):  # (extreme prices: IEEE infinities, as the kernel's)
            btc_unit = rows.btc_per_th_day * (1.0 - self._pool_fee)
            usd_unit = btc_unit * rows.price_usd
            return btc_unit, usd_unit, usd_unit * (self._site_usd_per_kwh
                                                   / rows.usd_per_kwh)[:, None]

    @staticmethod
    def _flows(rows: Candidates, units: tuple[np.ndarray, ...], days: dict[str, np.ndarray],
               energy_scale: np.ndarray, template: KernelFlows) -> KernelFlows:
        """The rows' flows from their daily totals ``days`` (``DAY_FIELDS``, energy cost at
        ``usd_per_kwh / energy_scale``) and ``units`` (``_units``); ``template`` (a run's
        flows) gives the mode names."""
        btc_unit, usd_unit, _ = units
        hashrate = days["hashrate_th"]
        days["energy_cost_usd"] *= energy_scale[:, None]
        final_price = rows.price_usd[:, -1]
        unknown = np.broadcast_to(np.nan, hashrate.shape)
        return replace(
            template, **days, btc=hashrate * btc_unit, revenue_usd=hashrate * usd_unit,
            final_price_usd=final_price,
            final_hashprice_usd_per_ph_day=rows.btc_per_th_day[:, -1] * final_price * 1000.0,
            # Not modelled (the cash flows do not read them): NaN, so that no total misleads.
            power_w=unknown, running_units=unknown,
            order_totals=np.full((rows.path_index.size, 0, template.order_totals.shape[2]),
                                 np.nan),
            power=None)


class CohortDays(_Model):
    """The exact model of a fleet of cohorts with failures in expectation: per cohort and day,
    what it adds when it runs (``DAY_FIELDS``, from a kernel run of the cohort alone never
    curtailed, at the site's price), summed over the cohorts running."""

    def __init__(self, limits: Thresholds, site_usd_per_kwh: float, pool_fee: float,
                 cohort_days: dict[str, np.ndarray]) -> None:
        super().__init__(limits, site_usd_per_kwh, pool_fee)
        self._days = cohort_days  # [K, T] each

    def flows(self, rows: Candidates, template: KernelFlows) -> tuple[np.ndarray, KernelFlows]:
        """Every row's flows (all rows modelled)."""
        units = self._units(rows)
        w = units[2]
        days = {name: np.zeros(w.shape) for name in DAY_FIELDS}
        adds = np.empty(w.shape)
        with np.errstate(invalid="ignore"):  # (NaN: out of service, adds nothing)
            for k, theta in enumerate(self._theta):
                runs = w >= theta
                for name, values in days.items():
                    values += np.multiply(runs, self._days[name][k], out=adds)
        return (np.arange(rows.path_index.size),
                self._flows(rows, units, days, rows.usd_per_kwh / self._site_usd_per_kwh,
                            template))

    def add(self, rows: Candidates, flows: KernelFlows) -> None:
        """Nothing to hold: every candidate is modelled."""


@dataclass(frozen=True)
class _Runs:
    """Runs held as models: at most one per market path (``entry[path]``, -1: none)."""

    entry: np.ndarray  # [P] int
    lo: np.ndarray  # [n, T] each run's invariance range in w
    hi: np.ndarray
    usd_per_kwh: np.ndarray  # [n] the run's power price
    days: dict[str, np.ndarray]  # [n, T] each: the run's daily totals (``DAY_FIELDS``)


class LocalModels(_Model):
    """The runs of a fleet with sampled failures made so far in a breakeven search, each an
    exact model of the flows at any candidate in its invariance range."""

    def __init__(self, limits: Thresholds, site_usd_per_kwh: float, pool_fee: float,
                 n_paths: int) -> None:
        super().__init__(limits, site_usd_per_kwh, pool_fee)
        self._n_paths = n_paths
        self._runs: list[_Runs] = []

    def add(self, rows: Candidates, flows: KernelFlows) -> None:
        """Hold the runs of ``rows`` (their ``flows``) as models; of rows on one path the last
        is kept."""
        w = self._units(rows)[2]
        lo = np.full(w.shape, -np.inf)
        hi = np.full(w.shape, np.inf)
        with np.errstate(invalid="ignore"):  # (NaN: out of service, neither ran nor idle)
            for theta in self._theta:
                np.maximum(lo, np.where(theta <= w, theta, -np.inf), out=lo)
                np.minimum(hi, np.where(theta > w, theta, np.inf), out=hi)
        entry = np.full(self._n_paths, -1)
        entry[rows.path_index] = np.arange(rows.path_index.size)
        self._runs.append(_Runs(entry, lo, hi, rows.usd_per_kwh.copy(),
                                {name: getattr(flows, name).copy() for name in DAY_FIELDS}))

    def flows(self, rows: Candidates,
              template: KernelFlows) -> tuple[np.ndarray, KernelFlows | None]:
        """Which rows a held run models, and their flows (None if none)."""
        w = self._units(rows)[2]
        which = np.full(rows.path_index.size, -1)
        run_of = np.full(rows.path_index.size, -1)
        for k, runs in enumerate(self._runs):
            open_rows = np.flatnonzero(which < 0)
            entry = runs.entry[rows.path_index[open_rows]]
            held, entry = open_rows[entry >= 0], entry[entry >= 0]
            inside = ((runs.lo[entry] <= w[held]) & (w[held] < runs.hi[entry])).all(axis=1)
            which[held[inside]] = entry[inside]
            run_of[held[inside]] = k
        chosen = np.flatnonzero(which >= 0)
        if chosen.size == 0:
            return chosen, None
        days = {name: np.empty((chosen.size, w.shape[1])) for name in DAY_FIELDS}
        energy_scale = np.empty(chosen.size)
        for k, runs in enumerate(self._runs):
            mine = np.flatnonzero(run_of[chosen] == k)
            entry = which[chosen[mine]]
            for name, values in runs.days.items():
                days[name][mine] = values[entry]
            energy_scale[mine] = rows.usd_per_kwh[chosen[mine]] / runs.usd_per_kwh[entry]
        chosen_rows = rows.subset(chosen)
        return chosen, self._flows(chosen_rows, self._units(chosen_rows), days, energy_scale,
                                   template)
