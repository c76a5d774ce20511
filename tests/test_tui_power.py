"""Pilot test of issue 15's app part (Build 5): the site editor takes a price file and a
contract, the order editor the allowed modes, and the order detail shows the modes each order
ran (shares of its unit-days), its hours run and its sell-back credits."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Select

from fleetcalc.metrics import format_value
from fleetcalc.synthetic_prices import SHIPPED
from tests.tui_pilot import paste_into, run_app, settle
from tui.app import FleetcalcApp
from tui.widgets.order_detail import mode_shares

# An S21 XP plan (the catalog has eco and turbo for it; the default plans' newer models have
# stock only) on a 25 MW site with room for turbo: the default plans before their re-basing.
S21_XP_PLAN = Path(__file__).parent / "pins" / "legacy_plans" / "1-bitmain.toml"


def _cell(table: DataTable, row: int, key: str) -> str:
    return str(table.get_row_at(row)[table.get_column_index(key)]).strip()


def test_the_editor_takes_a_price_file_contract_and_modes_and_the_detail_shows_them() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await settle(pilot)
        plan = app.plans[0]
        assert plan.site.power_price_series is None
        # The price file, typed relative to the plan's folder; the constant price stays, so
        # the contract is fixed and the series is the market its energy sells back to.
        series = os.path.relpath(SHIPPED, os.path.dirname(plan.source))
        await paste_into(pilot, "site-power_price_series", series)
        assert app.plans[0].site.contract == "fixed"
        for key, value in (("site-power_contract", "fixed"), ("site-sell_back", True)):
            app.screen.query_one(f"#{key}", Select).value = value
            await settle(pilot)
        await paste_into(pilot, "order-modes", "all")
        plan = app.plans[0]
        assert (plan.site.power_price_series, plan.site.contract, plan.site.sell_back) == (
            series, "fixed", True)
        assert plan.orders[0].modes is not None and len(plan.orders[0].modes) == 3
        assert app.error == ""

        app.screen.set_focus(None)  # out of the field, so "o" is a key binding, not text
        await pilot.press("o")
        await settle(pilot)
        assert app.results is not None
        orders = app.results.orders.filter(app.results.orders["plan"] == plan.name).sort(
            "order_index")
        row = orders.row(0, named=True)
        assert row["unit_hours_run"] > 0 and row["sell_back_credit_usd"] > 0
        shares = mode_shares(orders)[0]
        assert shares.count("%") >= 2  # more than one mode ran
        table = app.screen.query_one("#orders-table", DataTable)
        assert _cell(table, 0, "unit_hours_run") == format_value(row["unit_hours_run"], "count")
        assert _cell(table, 0, "sell_back_credit_usd") == format_value(
            row["sell_back_credit_usd"], "usd")
        assert _cell(table, 0, "mode_shares") == shares
        # The monthly table carries the credits too.
        monthly = app.screen.query_one("#monthly-table", DataTable)
        credits = [_cell(monthly, i, "sell_back_credit_usd") for i in range(monthly.row_count)]
        assert any(c not in ("0", "") for c in credits)

    run_app(check, FleetcalcApp.from_files([S21_XP_PLAN], None, cursor_blink=False))
