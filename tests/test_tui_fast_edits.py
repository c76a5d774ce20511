"""What makes an edit fast in the app keeps what it shows exact: the plan cache's numbers are
``evaluate()``'s bits for the inputs shown, and the results panel laid out as text paints the
cells the Rich table paints."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.message import Message
from textual.pilot import Pilot
from textual.strip import Strip

from fleetcalc.engine import evaluate
from tests.pins.cases import frame_digests
from tests.test_plan_cache import RESULT_FRAMES
from tests.tui_pilot import run_app, settle, type_into
from tui.app import FleetcalcApp
from tui.widgets.plan_results import PlanResults


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    # Text carries a mouse offset in its styles' meta (for selection), which paints nothing.
    return [(char, None if segment.style is None else segment.style.clear_meta_and_links())
            for segment in strip for char in segment.text]


def test_after_edits_the_app_shows_the_bits_evaluate_gives_for_its_inputs() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        quantity = app.plans[0].orders[0].quantity
        for fewer in (100, 150):  # (the default plans fill their 25 MW site)
            await type_into(pilot, "order-quantity", str(quantity - fewer))
        assert app.plans[0].orders[0].quantity == quantity - 150
        assert app.results is not None and not app.details_pending
        assert len(app.plan_cache) > len(app.plans)  # both stages keep their rows
        fresh = evaluate(list(app.plans), app.scenario)
        for name in RESULT_FRAMES:
            assert frame_digests(getattr(app.results, name)) == frame_digests(
                getattr(fresh, name)), name

    run_app(check)


def test_the_results_panel_paints_what_its_table_would() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await settle(pilot)
        panel = app.screen.query_one("#plan-results", PlanResults)
        assert panel.content_size.width > 0
        assert panel.content is not panel._table  # laid out as text
        region = panel.region.reset_offset
        laid_out = [_cells(strip) for strip in panel.render_lines(region)]
        assert panel._table is not None
        panel.update(panel._table)
        await pilot.pause()
        assert [_cells(strip) for strip in panel.render_lines(region)] == laid_out

    run_app(check)
