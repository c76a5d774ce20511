"""Stand-ins for ``kernels.hourly`` in the rig-day kernel's daily-only variant.

``kernels.rigdays`` compiles a second copy of its task body with ``hourly`` meaning this module
(``kernels._jit.jit_variant``), used when no rig is on hourly prices or several modes: Numba
then never compiles the hourly path, about half of the kernel's compile with an empty cache.
The branch that would call these never runs there (no rig has a site), so they only have to
type-check; calling one anyway is a bug, and says so.
"""

from __future__ import annotations

from kernels._jit import jit
from kernels.hourly import HOURS  # noqa: F401  (read by the task body's scratch sizes)


@jit()
def alike_nb(*args):
    """Never called: no rig of the daily-only variant is on the hourly path (a bool, as the
    loop that would call it expects)."""
    return False


@jit()
def simulate_class_nb(*args):
    """Never called: no rig of the daily-only variant is on the hourly path."""
    raise AssertionError("kernels._daily_only.simulate_class_nb called: a rig on the hourly path")
