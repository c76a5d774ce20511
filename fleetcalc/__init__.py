"""fleetcalc: ASIC fleet economics with tariffs by origin, per rig and per day.

The package import is cheap: polars, Numba and the kernels load on first use.

    >>> import fleetcalc
    >>> results = fleetcalc.evaluate()          # the four default plans, default scenario
    >>> results.summary                         # a polars DataFrame, one row per plan
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fleetcalc.errors import InputError

if TYPE_CHECKING:
    from fleetcalc.engine import Results, evaluate
    from fleetcalc.plan import Plan, load_plan
    from fleetcalc.scenario import Scenario, load_scenario

__all__ = ["InputError", "Plan", "Results", "Scenario", "evaluate", "load_plan", "load_scenario"]

_LAZY = {
    "evaluate": "fleetcalc.engine", "Results": "fleetcalc.engine", "Plan": "fleetcalc.plan",
    "load_plan": "fleetcalc.plan", "Scenario": "fleetcalc.scenario",
    "load_scenario": "fleetcalc.scenario",
}


def __dir__() -> list[str]:
    """The module's names including the lazy ones, so ``dir()`` and completion show them."""
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fleetcalc' has no attribute {name!r}")
