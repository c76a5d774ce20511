"""Snapshot tests of the app at 120x40: compare screen, plan editor, scenario panel, Monte Carlo
distribution.

Deterministic by construction: the built-in plans and scenario, a fixed seed, no clock in the
header, the text cursor not blinking, and every evaluation finished before the screenshot.
Regenerate after an intended change with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and review the SVGs in tests/__snapshots__/.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from fleetcalc.plan import default_plans
from fleetcalc.scenario import load_scenario
from tui.app import FleetcalcApp

SIZE = (120, 40)
MONTE_CARLO_PATHS = 200


def default_app(paths: int = 1) -> FleetcalcApp:
    scenario = load_scenario(None).with_changes(paths=paths, seed=1)
    return FleetcalcApp(default_plans(), scenario, cursor_blink=False)


MAX_TURNS = 400


async def settled(pilot: Pilot[Any]) -> None:
    """Both stages of the evaluation are done and shown: the main numbers, then the details
    (breakevens, percentiles), whose worker starts only after the main numbers are drawn, so
    waiting for the workers running at one moment is not enough. Then a few turns for the
    redraws."""
    app = pilot.app
    for _ in range(MAX_TURNS):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if (app.results is not None and not app.computing and not app.details_pending
                and not any(worker.is_running for worker in app.workers)):
            break
    else:
        raise AssertionError("the app's evaluation did not finish")
    for _ in range(4):
        await pilot.pause()


def test_compare_screen(snap_compare: Any) -> None:
    assert snap_compare(default_app(), terminal_size=SIZE, run_before=settled)


def on_tab(key: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """A ``run_before`` that opens the tab of ``key`` once the app has settled."""

    async def open_tab(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press(key)
        await settled(pilot)

    return open_tab


def test_plan_editor(snap_compare: Any) -> None:
    assert snap_compare(default_app(), terminal_size=SIZE, run_before=on_tab("e"))


def test_scenario_panel(snap_compare: Any) -> None:
    assert snap_compare(default_app(), terminal_size=SIZE, run_before=on_tab("s"))


def test_distribution_view(snap_compare: Any) -> None:
    assert snap_compare(default_app(MONTE_CARLO_PATHS), terminal_size=SIZE,
                        run_before=on_tab("d"))
