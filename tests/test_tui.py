"""Pilot tests of the app: start-up, edits that recompute, inline errors, files.

Each test drives the app as a user would (keys, fields) and asserts on the app's state and the
messages it posts. Workers are awaited, never timed.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import tomli_w
from rich.console import Console
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from fleetcalc.errors import InputError
from fleetcalc.metrics import COMPARE, in_view
from fleetcalc.plan import default_plans, load_plan, plan_to_toml
from tests.tui_pilot import enter_path, paste_into, record, run_app, settle, type_into
from tui.app import FleetcalcApp
from tui.screens.path_prompt import PathPrompt

M70S_THAILAND = 1  # index of the MicroBT Whatsminer M70S, Thailand-built default plan


def test_starts_on_the_four_default_plans() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        defaults = [p.name for p in default_plans()]
        assert [p.name for p in app.plans] == defaults
        assert app.results is not None
        assert app.results.summary["plan"].to_list() == defaults
        assert any(isinstance(m, FleetcalcApp.EvaluationFinished) for m in messages)
        table = app.screen.query_one("#compare-table", DataTable)
        assert len(table.columns) == 1 + len(defaults)
        assert table.row_count == len(in_view(COMPARE))
        units = [str(c) for c in table.get_row("units")[1:]]
        assert units == [f"{r['units']:,}" for r in app.results.records()]
        assumptions = str(app.screen.query_one("#assumption-text", Static).render())
        assert app.results.scenario.assumptions[0] in assumptions.replace("\n", " ")

    run_app(check)


def test_raising_a_quantity_raises_capex_and_btc_mined() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        before = record(app, 0)
        await pilot.press("e")
        # The default plan fills its 25 MW site: more units need more MW first.
        await type_into(pilot, "site-capacity_mw", "30")
        before = record(app, 0)
        await type_into(pilot, "order-quantity", str(before["units"] + 200))
        after = record(app, 0)
        assert app.plans[0].orders[0].quantity == before["units"] + 200
        assert after["units"] == before["units"] + 200
        assert after["capex_usd"] > before["capex_usd"]
        assert after["btc_mined"] > before["btc_mined"]
        # The editor's results panel shows what the edit changed.
        console = Console(width=80, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#plan-results", Static).content)
        assert "+200" in console.export_text()
        # The other plans are untouched.
        assert record(app, 1)["capex_usd"] == pytest.approx(
            app.results.summary["capex_usd"][1])  # type: ignore[union-attr]

    run_app(check)


def test_switching_origin_to_china_adds_exactly_the_tariffs_shown_in_order_detail() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        app.selected = M70S_THAILAND
        await pilot.press("e")
        await pilot.pause()
        before = record(app, M70S_THAILAND)
        origin = app.screen.query_one("#order-origin", Select)
        assert "CN" in [value for _, value in origin._options]
        origin.value = "CN"
        await settle(pilot)
        after = record(app, M70S_THAILAND)
        assert app.plans[M70S_THAILAND].orders[0].origin == "CN"
        await pilot.press("o")
        await pilot.pause()
        table = app.screen.query_one("#orders-table", DataTable)
        shown_tariffs = float(str(table.get_row_at(0)[7]).replace(",", ""))
        assert str(table.get_row_at(0)[2]) == "CN"
        assert shown_tariffs == pytest.approx(after["tariffs_usd"], abs=0.5)
        added_capex = after["capex_usd"] - before["capex_usd"]
        added_tariffs = after["tariffs_usd"] - before["tariffs_usd"]
        assert added_capex > 0
        assert added_capex == pytest.approx(added_tariffs, rel=1e-12)

    run_app(check)


def test_picking_a_maker_then_a_model_switches_the_order_to_that_model() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        before = record(app, 0)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#order-maker", Select).value = "MicroBT"
        await pilot.pause()
        models = app.screen.query_one("#order-model", Select)
        offered = [value for _, value in models._options if isinstance(value, str)]
        assert "whatsminer-m70s" in offered and "antminer-s23" not in offered
        assert app.plans[0].orders[0].model == "antminer-s23"  # nothing changes yet
        models.value = "whatsminer-m70s"
        await settle(pilot)
        assert app.plans[0].orders[0].model == "whatsminer-m70s"
        assert app.error == ""
        assert record(app, 0)["hashrate_th"] != before["hashrate_th"]

    run_app(check)


def test_an_invalid_quantity_is_explained_inline_and_changes_nothing() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        plans, results = app.plans, app.results
        await pilot.press("e")
        error = app.screen.query_one("#error-order-quantity", Static)
        for typed in ("-5", "abc", "0", "2.5"):
            messages.clear()
            await type_into(pilot, "order-quantity", typed)
            assert error.display, typed
            text = str(error.render())
            assert "quantity" in text and "expected an integer" in text, typed
            assert app.plans == plans
            assert app.results is results
            assert not any(isinstance(m, FleetcalcApp.EvaluationFinished) for m in messages)
        # A valid value afterwards clears the error.
        await type_into(pilot, "order-quantity", "2000")
        assert not error.display
        assert app.plans[0].orders[0].quantity == 2000

    run_app(check)


def test_an_invalid_site_capacity_names_the_power_the_orders_draw() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        plans = app.plans
        await pilot.press("e")
        await type_into(pilot, "site-capacity_mw", "1")
        text = str(app.screen.query_one("#error-site-capacity_mw", Static).render())
        assert "MW the orders draw" in text
        assert app.plans == plans

    run_app(check)


def test_saving_then_reopening_a_plan_round_trips_it(tmp_path: Path) -> None:
    target = tmp_path / "saved.toml"

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        app.selected = 2
        original = app.plans[2]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        await enter_path(pilot, target)
        assert not isinstance(app.screen, PathPrompt)
        assert plan_to_toml(load_plan(target)) == plan_to_toml(original)
        app.action_remove_plan()
        await settle(pilot)
        assert len(app.plans) == 3
        await pilot.press("ctrl+o")
        await pilot.pause()
        await enter_path(pilot, target)
        assert len(app.plans) == 4
        assert app.plans[3].source == str(target)
        assert plan_to_toml(app.plans[3]) == plan_to_toml(original)
        assert app.selected == 3

    run_app(check)


def test_a_bad_path_keeps_the_dialog_open_with_the_error(tmp_path: Path) -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("ctrl+o")
        await pilot.pause()
        await enter_path(pilot, tmp_path / "missing.toml")
        assert isinstance(app.screen, PathPrompt)
        assert str(app.screen.query_one("#path-error", Static).render())
        await pilot.press("escape")
        assert not isinstance(app.screen, PathPrompt)
        assert len(app.plans) == 4

    run_app(check)


def test_export_writes_the_comparison(tmp_path: Path) -> None:
    target = tmp_path / "comparison.parquet"

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("ctrl+e")
        await pilot.pause()
        await enter_path(pilot, target)
        assert app.results is not None
        assert pl.read_parquet(target).equals(app.results.summary)
        assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temp file left

    run_app(check)


def test_ctrl_r_writes_the_html_report_and_a_bad_extension_stays_in_the_dialog(
    tmp_path: Path,
) -> None:
    target = tmp_path / "report.html"

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        await enter_path(pilot, tmp_path / "report.pdf")
        assert isinstance(app.screen, PathPrompt)
        error = str(app.screen.query_one("#path-error", Static).render())
        assert "report.pdf" in error and ".xlsx or .html" in error
        await enter_path(pilot, target)  # settles: waits for the worker writing the report
        assert not isinstance(app.screen, PathPrompt)
        assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temp file left
        text = target.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and "<svg" in text
        assert all(html.escape(plan.name) in text for plan in app.plans)
        assert any(f"Report written to {target}" in n.message for n in app._notifications)

    run_app(check)


def test_scenario_edits_recompute_and_monte_carlo_fills_the_distribution() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        before = record(app, 0)
        await pilot.press("s")
        await type_into(pilot, "scn-btc-price_usd", "120000")
        assert app.scenario is not None and app.scenario.btc.price_usd == 120_000
        assert record(app, 0)["revenue_usd"] > before["revenue_usd"]
        await type_into(pilot, "scn-top-paths", "40")
        assert app.results is not None and app.results.paths.height == 4 * 40
        await pilot.press("escape", "d")
        await pilot.pause()
        table = app.screen.query_one("#percentile-table", DataTable)
        assert table.row_count > 0 and app.screen.query_one("#distribution-body").display

    run_app(check)


def test_a_tariff_override_raises_the_tariffs_of_that_origin() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        before = record(app, 0)  # Bitmain, Malaysia-built, imported 2026-12-15
        await pilot.press("s")
        await paste_into(pilot, "override-new", "MY reciprocal 40% from 2026-01-01")
        assert app.scenario is not None and len(app.scenario.tariff_overrides) == 1
        assert record(app, 0)["tariffs_usd"] > before["tariffs_usd"]
        assert record(app, 3)["tariffs_usd"] == 0.0  # US-built: no duty
        await paste_into(pilot, "override-new", "Malaysia forty percent")
        assert "expected text like" in str(
            app.screen.query_one("#error-override-new", Static).render())
        assert len(app.scenario.tariff_overrides) == 1
        await pilot.click("#override-remove")
        await settle(pilot)
        assert app.scenario.tariff_overrides == ()
        assert record(app, 0)["tariffs_usd"] == pytest.approx(before["tariffs_usd"])

    run_app(check)


def test_brackets_switch_the_plan_the_order_detail_shows() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("o")
        await settle(pilot)
        table = app.screen.query_one("#orders-table", DataTable)
        assert str(table.get_row_at(0)[1]) == "Antminer S23"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.selected == 1
        assert str(table.get_row_at(0)[1]) == "Whatsminer M70S"
        assert app.screen.query_one("#orders-plan", Select).value == 1
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert app.selected == len(app.plans) - 1

    run_app(check)


def test_every_key_binding_has_a_command_in_the_palette() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        # Run each of the app's own palette commands with run_action recording instead of
        # acting: every bound action must be among them (Textual's own commands hold Quit).
        ran: list[str] = []

        async def record_action(action: str, *args: Any, **kwargs: Any) -> None:
            ran.append(action)

        app.run_action = record_action  # type: ignore[method-assign]
        commands = list(app.get_system_commands(app.screen))
        # Textual's own "Screenshot" is replaced by the app's (which saves in the app folder).
        assert [c.title for c in commands].count("Screenshot") == 1
        try:
            for command in commands:
                if command.callback.__qualname__.startswith("FleetcalcApp."):
                    await command.callback()
        finally:
            del app.run_action
        bound = {binding.action for binding in FleetcalcApp.BINDINGS} - {"quit"}
        assert bound <= set(ran), f"bound but not in the palette: {bound - set(ran)}"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        await pilot.press("f1")
        assert type(app.screen).__name__ == "HelpScreen"

    run_app(check)


def test_from_files_raises_input_error_on_a_bad_plan(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[site]\npower_usd_per_kwh = "cheap"\ncapacity_mw = 1.0\n')
    with pytest.raises(InputError) as caught:
        FleetcalcApp.from_files([str(bad)], None)
    assert "power_usd_per_kwh" in str(caught.value)


def test_the_screenshot_script_saves_the_evaluated_compare_screen(tmp_path: Path) -> None:
    from tui.screenshot import save_compare_screenshot

    svg = save_compare_screenshot(tmp_path / "compare.svg").read_text()
    assert svg.startswith("<svg")
    assert "Plans&#160;side&#160;by&#160;side" in svg
    assert "Up&#160;to&#160;date" in svg  # taken after the evaluation, not while computing


def test_from_files_raises_input_error_on_a_delivery_outside_the_horizon(tmp_path: Path) -> None:
    late = tmp_path / "late.toml"
    plan = plan_to_toml(default_plans()[0])
    plan["orders"][0]["delivery_date"] = dt.date(2040, 1, 1)
    late.write_text(tomli_w.dumps(plan))
    with pytest.raises(InputError, match="horizon"):
        FleetcalcApp.from_files([str(late)], None)


def test_the_finance_editor_takes_debt_and_tax_and_the_compare_rows_follow() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        app.selected = 3  # Auradine, the default plan with a positive NPV
        await pilot.press("e")
        await pilot.pause()
        # Debt without a loan rate is explained under the field and changes nothing.
        plans = app.plans
        await type_into(pilot, "finance-debt_share", "0.5")
        error = str(app.screen.query_one("#error-finance-debt_share", Static).render())
        assert "debt_rate" in error and app.plans == plans
        await type_into(pilot, "finance-debt_rate", "0.08")
        await type_into(pilot, "finance-debt_share", "0.5")
        await type_into(pilot, "finance-tax_rate", "0.21")
        finance = app.plans[3].finance
        assert (finance.debt_share, finance.debt_rate, finance.tax_rate) == (0.5, 0.08, 0.21)
        after = record(app, 3)
        assert after["debt_usd"] == pytest.approx(0.5 * after["capex_usd"], rel=1e-12)
        assert after["equity_npv_usd"] != after["npv_usd"]
        assert after["npv_after_tax_usd"] < after["npv_usd"]
        # Emptying an optional field gives it back its default (here: the US rule).
        await type_into(pilot, "finance-bonus_depreciation", "0.4")
        assert app.plans[3].finance.bonus_depreciation == 0.4
        await type_into(pilot, "finance-bonus_depreciation", "")
        assert app.plans[3].finance.bonus_depreciation is None
        assert record(app, 3)["npv_after_tax_usd"] == after["npv_after_tax_usd"]
        app.screen.set_focus(None)  # "c" typed into a field would stay there
        await pilot.press("c")
        await settle(pilot)
        table = app.screen.query_one("#compare-table", DataTable)
        shown = [str(cell) for cell in table.get_row("equity_npv_usd")[1:]]
        assert shown[3].replace(",", "") == f"{after['equity_npv_usd']:.0f}"
        assert {"npv_after_tax_usd", "equity_npv_after_tax_usd"} <= {
            str(key.value) for key in table.rows}

    run_app(check)


def test_an_earlier_order_date_pays_the_deposit_earlier_and_lowers_npv() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        before = record(app, 0)
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#order-order_date", Input).value == ""  # the default
        await type_into(pilot, "order-order_date", "2026-06-01")
        await type_into(pilot, "order-deposit_share", "0.5")
        order = app.plans[0].orders[0]
        assert (order.order_date, order.deposit_share) == (dt.date(2026, 6, 1), 0.5)
        assert record(app, 0)["npv_usd"] < before["npv_usd"]
        await type_into(pilot, "order-order_date", "")
        assert app.plans[0].orders[0].order_date is None

    run_app(check)
def test_order_detail_shows_the_modes_each_order_ran_as_shares_of_its_unit_days() -> None:
    from tui.widgets.order_detail import mode_shares

    orders = pl.DataFrame({"unit_days_stock": [10.0, 0.0, 0.0], "unit_days_eco": [30.0, 0.0, 5.0],
                           "unit_days_turbo": [60.0, 0.0, 0.0], "units": [1, 2, 3]})
    assert mode_shares(orders).to_list() == ["turbo 60% · eco 30% · stock 10%", "", "eco 100%"]


def test_the_help_says_what_monte_carlo_shows_of_the_breakevens() -> None:
    # The help said all-in breakevens were "solved for single-path scenarios only (Monte Carlo
    # shows n/a)": Monte Carlo solves them on every path and shows their median.
    from fleetcalc.engine import evaluate
    from fleetcalc.scenario import load_scenario
    from tui.screens.help import HELP_MARKDOWN

    scenario = load_scenario(None).with_changes(paths=3, horizon_days=400)
    record = evaluate(default_plans()[:1], scenario).records()[0]
    assert record["breakeven_btc_price_usd"] is not None
    help_text = " ".join(HELP_MARKDOWN.split())
    assert "single-path scenarios only" not in help_text
    assert "with Monte Carlo on every path: the row shows their median" in help_text
    assert "a row naming none is the same on every path" in help_text
