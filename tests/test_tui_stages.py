"""The app's two stages: main numbers first, then breakevens and percentiles, never stale.

A gate in front of ``fleetcalc.engine.evaluate`` holds the second stage (the complete
evaluation) until the test lets it go or the app cancels it, so the tests see the screen
between the stages and make an edit during the breakeven computation. Nothing is timed: the
tests wait on events the workers set.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

import fleetcalc.engine
from fleetcalc.engine import EvaluationCancelled, evaluate
from tests.tui_pilot import run_app, settle
from tui.app import FleetcalcApp
from tui.format import PENDING

real_evaluate = evaluate


class Gate:
    """Holds every complete evaluation (the app's second stage) while closed, until it is
    opened or its ``cancelled`` hook says the app cancelled it."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()  # a second stage is waiting at the closed gate
        self.exited = threading.Event()  # a second stage has left the gate
        self.left: list[tuple[int, bool]] = []  # (first plan's quantity, cancelled) per exit

    def evaluate(self, plans: Any, scenario: Any, *, breakevens: bool = True,
                 percentiles: bool = True, cancelled: Any = None, cache: Any = None) -> Any:
        if breakevens and cancelled is not None and not self.open.is_set():
            self.entered.set()
            while not (self.open.is_set() or cancelled()):
                self.open.wait(0.01)  # re-check the hook: the app cancels by setting a flag
            self.left.append((plans[0].orders[0].quantity, cancelled()))
            self.exited.set()
        return real_evaluate(plans, scenario, breakevens=breakevens, percentiles=percentiles,
                             cancelled=cancelled, cache=cache)


async def _wait(event: threading.Event) -> None:
    # A bound on the wait so that an edit the app refuses (no evaluation: the event never
    # comes) fails the test instead of hanging the run; it is no timing of the app.
    came = await asyncio.get_running_loop().run_in_executor(None, event.wait, 600.0)
    assert came, "the app never reached the awaited stage (was the edit refused?)"


async def _edit_quantity(pilot: Pilot[Any], quantity: int) -> None:
    """Commit a quantity in the editor without waiting for the evaluation."""
    field = pilot.app.screen.query_one("#order-quantity", Input)
    field.focus()
    await pilot.pause()
    field.value = str(quantity)
    await pilot.press("enter")


def _cell(app: FleetcalcApp, row: str, plan: int = 0) -> str:
    table = app.screen.query_one("#compare-table", DataTable)
    return str(table.get_cell(row, f"plan-{plan}"))


def _finished(messages: list[Message], kind: type, quantity: int) -> list[int]:
    """Positions in ``messages`` of ``kind`` messages for a first order of ``quantity``."""
    return [i for i, m in enumerate(messages)
            if isinstance(m, kind) and m.plans[0].orders[0].quantity == quantity]  # type: ignore[attr-defined]


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate = Gate()
    monkeypatch.setattr(fleetcalc.engine, "evaluate", gate.evaluate)
    return gate


def test_the_main_numbers_are_shown_before_the_breakevens(gate: Gate) -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        # Fewer units: the default plans fill their 25 MW site, so more would be refused.
        quantity = app.plans[0].orders[0].quantity - 100
        await pilot.press("e")
        gate.open.clear()
        await _edit_quantity(pilot, quantity)
        await _wait(gate.entered)  # the main numbers are in; the breakevens wait at the gate
        app.action_show_tab("compare")  # (a key would go to the focused field)
        await pilot.pause()
        assert app.details_pending and not app.computing
        assert app.plans[0].orders[0].quantity == quantity
        assert _finished(messages, FleetcalcApp.EvaluationFinished, quantity)
        assert not _finished(messages, FleetcalcApp.DetailsFinished, quantity)
        assert _cell(app, "breakeven_btc_price_usd") == PENDING
        assert _cell(app, "npv_usd") not in (PENDING, "n/a")
        status = str(app.screen.query_one("StatusLine", Static).content)
        assert "Computing breakevens" in status
        gate.open.set()
        await settle(pilot)
        main = _finished(messages, FleetcalcApp.EvaluationFinished, quantity)
        details = _finished(messages, FleetcalcApp.DetailsFinished, quantity)
        assert len(details) == 1 and main[0] < details[0]
        assert not app.details_pending
        assert _cell(app, "breakeven_btc_price_usd") != PENDING
        assert app.results is not None
        assert app.results.records()[0]["breakeven_btc_price_usd"] is not None

    run_app(check)


def test_an_edit_during_the_breakevens_cancels_them_and_older_ones_are_never_shown(
    gate: Gate,
) -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        first = app.plans[0].orders[0].quantity - 200  # (the 25 MW site is full)
        second = first + 100
        await pilot.press("e")
        gate.open.clear()
        await _edit_quantity(pilot, first)
        await _wait(gate.entered)  # the first edit's breakevens are being computed
        gate.entered.clear()
        await _edit_quantity(pilot, second)
        await _wait(gate.exited)
        # The first edit's second stage was cancelled, not left to run to the end.
        assert gate.left == [(first, True)]
        await _wait(gate.entered)  # the second edit's breakevens wait at the gate in turn
        gate.open.set()
        await settle(pilot)
        assert gate.left == [(first, True), (second, False)]
        assert not _finished(messages, FleetcalcApp.DetailsFinished, first)
        assert len(_finished(messages, FleetcalcApp.DetailsFinished, second)) == 1
        # The breakevens shown are the second edit's own.
        assert app.results is not None and not app.details_pending
        expected = real_evaluate(list(app.plans), app.scenario).records()[0]
        shown = app.results.records()[0]
        assert shown["units"] == expected["units"]
        assert shown["breakeven_btc_price_usd"] == expected["breakeven_btc_price_usd"]
        assert shown["breakeven_power_usd_per_kwh"] == expected["breakeven_power_usd_per_kwh"]

    run_app(check)


def test_a_cancelled_evaluation_stops_with_evaluation_cancelled() -> None:
    asked: list[int] = []

    def cancel_on_the_third_question() -> bool:
        asked.append(1)
        return len(asked) >= 3

    with pytest.raises(EvaluationCancelled):
        real_evaluate(None, None, cancelled=cancel_on_the_third_question)
    assert len(asked) == 3


def test_a_cancelled_evaluation_stops_before_a_plans_path_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The app's next edit waits on a stale second stage's Python work (the GIL): it is asked
    # between a plan's long steps, not only between plans and breakeven re-runs.
    solved: list[int] = []
    real = fleetcalc.engine.path_metrics

    def counted(*args: Any, **kwargs: Any) -> Any:
        solved.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fleetcalc.engine, "path_metrics", counted)
    asked: list[int] = []

    def cancel_after_the_kernel() -> bool:
        asked.append(1)
        return len(asked) == 2  # the first question is before the plan, the second after its run

    with pytest.raises(EvaluationCancelled):
        real_evaluate(None, None, breakevens=False, cancelled=cancel_after_the_kernel)
    assert len(asked) == 2 and not solved
