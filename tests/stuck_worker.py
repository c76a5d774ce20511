"""A batch whose units block, for tests that stop a run while its workers are busy.

``evaluate_forever`` stands in for ``fleetcalc.batch.units.evaluate_unit``: it writes a marker
``<pid>.started`` into ``$FLEETCALC_TEST_MARKERS`` and then waits forever, so a test can poll for
the markers (readiness) and then kill the parent, a worker, or send a signal, without depending
on how fast the machine evaluates a unit. With ``$FLEETCALC_TEST_STUCK_PLAN`` set, only units of
plan files whose name contains it block; the others are evaluated for real (and checkpointed).

Run a batch with it from a subprocess (the functions travel to spawned workers by module name,
so they must live in an importable module, not in ``__main__``)::

    python -c "$STUCK_CLI" [--no-death-signal] batch PLANS... --out FILE ...

``--no-death-signal`` starts the workers without the Linux parent-death signal, leaving the
watchdog thread alone to end them.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

MARKERS_ENV = "FLEETCALC_TEST_MARKERS"
STUCK_PLAN_ENV = "FLEETCALC_TEST_STUCK_PLAN"
STUCK_CLI = "import sys; from tests.stuck_worker import main; sys.exit(main(sys.argv[1:]))"


def evaluate_forever(plan: Any, variant: Any, breakevens: bool) -> Any:
    stuck = os.environ.get(STUCK_PLAN_ENV)
    if stuck and stuck not in plan.source:
        from fleetcalc.batch.units import evaluate_unit

        return evaluate_unit(plan, variant, breakevens)
    (Path(os.environ[MARKERS_ENV]) / f"{os.getpid()}.started").touch()
    threading.Event().wait()
    raise AssertionError("unreachable")


def init_without_death_signal(parent_pid: int) -> None:
    """The workers' initializer minus the parent-death signal: the watchdog alone."""
    from fleetcalc.batch import runners

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=runners._watch_parent, args=(parent_pid,), daemon=True).start()


def main(argv: list[str]) -> int:
    from fleetcalc.batch import runners
    from fleetcalc.cli import main as cli_main

    runners.evaluate_unit = evaluate_forever
    if argv[0] == "--no-death-signal":
        runners._init_worker = init_without_death_signal
        argv = argv[1:]
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
