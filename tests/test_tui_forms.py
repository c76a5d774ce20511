"""Pilot tests of the forms: every plan and scenario key has a field, orders and plans are added
and removed, an edited scenario says so, a model change says what it did to the price, and no
key typed in a burst is lost."""

from __future__ import annotations

from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static, TabbedContent

from fleetcalc.plan import FINANCE_FIELDS, ORDER_FIELDS, PLAN_FIELDS, SITES_FIELDS
from fleetcalc.scenario import BTC_FIELDS, NETWORK_FIELDS, ORIGIN_RISK_FIELDS, SCENARIO_FIELDS
from tests.tui_pilot import burst, notified, paste_into, record, run_app, settle, type_into
from tui.app import FleetcalcApp

# Every field table of a plan and a scenario, with the id prefix of its form's fields (a
# site's with its [[sites]] name). A
# scenario's top level also takes `assumptions`, which its parser checks apart from the field
# table (the form had no field for it).
FORM_TABLES = (
    ("plan", PLAN_FIELDS), ("site", SITES_FIELDS), ("finance", FINANCE_FIELDS),
    ("order", tuple(f for f in ORDER_FIELDS if f.name not in ("model", "origin", "mode"))),
    ("scn-top", (*SCENARIO_FIELDS, *(f for f in PLAN_FIELDS if f.name == "assumptions"))),
    ("scn-btc", BTC_FIELDS), ("scn-network", NETWORK_FIELDS),
    ("scn-origin_risk", ORIGIN_RISK_FIELDS),
)


def shown(app: FleetcalcApp, selector: str) -> str:
    """The text of a Static, if it is displayed ('' if hidden)."""
    widget = app.screen.query_one(selector, Static)
    return str(widget.render()) if widget.display else ""


def test_every_key_of_the_field_tables_has_a_field() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        ids = {widget.id for widget in app.screen.query("Input, Select")}
        for prefix, fields in FORM_TABLES:
            for field in fields:
                assert f"{prefix}-{field.name}" in ids, (prefix, field.name)
        for key in ("model", "origin", "mode"):  # drop-downs of what the catalog allows
            assert f"order-{key}" in ids
        # Each shows the current value.
        assert app.screen.query_one("#finance-discount_rate", Input).value == "0.15"
        assert app.screen.query_one("#scn-network-block_height", Input).value == "978,200"

    run_app(check)


# (tab key, field id, typed text or option, the value it must set)
PLAN_EDITS = (
    ("finance-discount_rate", "0.2", lambda p: p.finance.discount_rate, 0.2),
    ("finance-residual_fraction", "0.05", lambda p: p.finance.residual_fraction, 0.05),
    ("site-uptime", "0.9", lambda p: p.site.uptime, 0.9),
    ("site-hosting_usd_per_kwh", "0.01", lambda p: p.site.hosting_usd_per_kwh, 0.01),
    ("site-curtail_when_unprofitable", False, lambda p: p.site.curtail_when_unprofitable, False),
    ("order-annual_failure_rate", "0.2", lambda p: p.orders[0].annual_failure_rate, 0.2),
    ("plan-exclude_origins", "CN, HK", lambda p: p.exclude_origins, ("CN", "HK")),
)
SCENARIO_EDITS = (
    ("scn-top-start_date", "2026-11-01", lambda s: s.start_date.isoformat(), "2026-11-01"),
    ("scn-top-horizon_days", "2,000", lambda s: s.horizon_days, 2000),
    ("scn-top-failures", "sampled", lambda s: s.failures, "sampled"),
    ("scn-network-block_height", "978,000", lambda s: s.network.block_height, 978_000),
    ("scn-network-supply_ehs_per_month", "40", lambda s: s.network.supply_ehs_per_month, 40.0),
    # The exogenous network's keys, greyed out under the default responsive one.
    ("scn-network-model", "exogenous", lambda s: s.network.model, "exogenous"),
    ("scn-network-annual_volatility", "0.3", lambda s: s.network.annual_volatility, 0.3),
    ("scn-network-price_correlation", "-0.2", lambda s: s.network.price_correlation, -0.2),
    ("scn-network-difficulty", "1.5e14", lambda s: s.network.difficulty, 1.5e14),
    ("scn-origin_risk-us_assembled_deemed", True,
     lambda s: s.origin_risk.us_assembled_deemed, True),
)


async def set_field(pilot: Pilot[Any], field_id: str, value: Any) -> None:
    """Type ``value`` into an Input (Enter applies it) or pick it in a Select."""
    widget = pilot.app.screen.query_one(f"#{field_id}")
    if isinstance(widget, Select):
        widget.value = value
        await settle(pilot)
    else:
        await paste_into(pilot, field_id, value)


@pytest.mark.parametrize("tab, edits, state", [
    ("e", PLAN_EDITS, lambda app: app.plans[0]),
    ("s", SCENARIO_EDITS, lambda app: app.scenario),
], ids=["plan", "scenario"])
def test_fields_that_could_not_be_edited_before_are_applied_and_recomputed(
    tab: str, edits: tuple[Any, ...], state: Any,
) -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press(tab)
        await settle(pilot)
        for field_id, value, read, expected in edits:
            results = app.results
            await set_field(pilot, field_id, value)
            assert read(state(app)) == expected, field_id
            assert shown(app, f"#error-{field_id}") == "", field_id
            assert app.results is not results, f"{field_id}: not recomputed"
        assert app.error == ""

    run_app(check)


def test_a_bad_value_in_a_new_field_is_explained_and_changes_nothing() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("s")
        scenario = app.scenario
        await type_into(pilot, "scn-network-pool_fee", "2")
        assert "network.pool_fee" in shown(app, "#error-scn-network-pool_fee")
        # A key the network model does not read is greyed out, saying why.
        growth = app.screen.query_one("#scn-network-monthly_growth", Input)
        assert growth.disabled and growth.placeholder == "not read (responsive)"
        # A start date after the orders' deliveries is refused: the plans must fit the horizon.
        await paste_into(pilot, "scn-top-start_date", "2030-01-01")
        assert "horizon" in shown(app, "#error-scn-top-start_date")
        assert app.scenario is scenario

    run_app(check)


def test_orders_are_added_and_removed() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await type_into(pilot, "order-quantity", "2000")  # room on the site for another order
        await pilot.click("#order-add")
        await settle(pilot)
        plan = app.plans[0]
        assert len(plan.orders) == 2 and plan.orders[1].quantity == 1
        assert app.screen.query_one("#order-index", Select).value == 1  # the new one is shown
        assert app.screen.query_one("#order-quantity", Input).value == "1"
        assert record(app, 0)["units"] == 2001
        # The shown order moves to a new site, a copy of its own, named in the site form.
        button = app.screen.query_one("#order-new-site", Button)
        button.focus()  # scrolls the form to it, as tabbing there does
        await settle(pilot)
        assert button.region.right <= button.parent.region.right  # not cut off
        await pilot.press("enter")
        await settle(pilot)
        assert [site.name for site in app.plans[0].sites] == ["site 1", "site 2"]
        assert app.screen.query_one("#site-name", Input).value == "site 2"
        await type_into(pilot, "site-name", "annex")
        assert [o.site for o in app.plans[0].orders] == ["site 1", "annex"]
        assert "annex" in str(app.screen.query_one("#site-section", Static).render())
        app.screen.query_one("#order-remove", Button).focus()
        await pilot.press("enter")  # the site goes with its last order
        await settle(pilot)
        assert len(app.plans[0].orders) == 1 and record(app, 0)["units"] == 2000
        assert [site.name for site in app.plans[0].sites] == ["site 1"]
        await pilot.click("#order-remove")  # the last order stays
        await settle(pilot)
        assert len(app.plans[0].orders) == 1
        assert "at least one order" in shown(app, "#error-order-index")

    run_app(check)


def test_new_and_copied_plans_join_and_a_duplicate_name_is_refused() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await pilot.click("#plan-new")
        await settle(pilot)
        assert [p.name for p in app.plans][-1] == "New plan" and app.selected == 4
        assert record(app, 4)["units"] == 1
        await pilot.click("#plan-new")
        await settle(pilot)
        assert app.plans[-1].name == "New plan 2"
        app.selected = 0
        await pilot.click("#plan-copy")
        await settle(pilot)
        assert app.plans[-1].name == f"{app.plans[0].name} (copy)" and app.selected == 6
        assert app.plans[-1].orders == app.plans[0].orders
        # Renaming a plan to a name another plan has is refused, not merged.
        plans = app.plans
        await paste_into(pilot, "plan-name", "New plan")
        assert "a name no other plan" in shown(app, "#error-plan-name")
        assert app.plans == plans
        await paste_into(pilot, "plan-name", "Mine")
        assert app.plans[6].name == "Mine"
        assert record(app, 6)["plan"] == "Mine"

    run_app(check)


def test_a_model_change_says_it_replaced_the_price_with_the_catalogs() -> None:
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await type_into(pilot, "order-unit_price_usd", "4000")
        assert shown(app, "#note-order-unit_price_usd") == ""  # the user's own price
        app.screen.query_one("#order-maker", Select).value = "MicroBT"
        await pilot.pause()
        app.screen.query_one("#order-model", Select).value = "whatsminer-m70s"
        await settle(pilot)
        order = app.plans[0].orders[0]
        assert order.model == "whatsminer-m70s" and order.unit_price_usd != 4000
        note = shown(app, "#note-order-unit_price_usd")
        assert "the catalog price" in note and "dated" in note
        told = notified(messages)
        assert any("USD 4,000.00 replaced by the catalog price" in m and "dated" in m
                   for m in told), told
        # A model with no catalog price keeps the order's USD/TH, and says so; its modes are
        # offered.
        app.screen.query_one("#order-model", Select).value = "whatsminer-m60s"
        await settle(pilot)
        assert app.plans[0].orders[0].usd_per_th is not None
        assert "USD/TH" in shown(app, "#note-order-unit_price_usd")
        assert any("the order's USD/TH applied to the new model" in m
                   for m in notified(messages))
        await set_field(pilot, "order-mode", "bin_190")
        assert app.plans[0].orders[0].mode == "bin_190"

    run_app(check)


def test_an_edited_scenario_is_named_and_listed_as_edited_and_saved_so(tmp_path: Any) -> None:
    from fleetcalc.scenario import load_scenario

    target = tmp_path / "edited.toml"

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        base = app.scenario
        assert base is not None
        await pilot.press("s")
        await type_into(pilot, "scn-btc-price_usd", "120000")
        assert app.scenario is not None and app.scenario.name == f"{base.name} (edited)"
        assert app.sub_title == app.scenario.name  # the header's title
        line = "edited: btc.price_usd = 120,000 (was 84,714)"
        assert app.scenario.assumptions[0] == line
        await pilot.press("escape", "c")
        await settle(pilot)
        assert line in shown(app, "#assumption-text")
        app.action_save_scenario()
        await pilot.pause()
        await paste_into(pilot, "path", str(target))
        saved = load_scenario(target)
        assert saved.name == app.scenario.name and saved.assumptions == app.scenario.assumptions
        # Undoing the edit undoes the name and the line.
        await pilot.press("s")
        await type_into(pilot, "scn-btc-price_usd", "84714")
        assert app.scenario.name == base.name and app.scenario.assumptions == base.assumptions
        # The scenario's own assumptions, a key the form had no field for (every scenario key).
        assert app.screen.query_one("#scn-top-assumptions", Input).value.startswith(
            base.assumptions[0])
        await paste_into(pilot, "scn-top-assumptions", "BTC at the desk's 2027 view; PUE 1.1")
        assert app.scenario.name == f"{base.name} (edited)"
        assert app.scenario.assumptions == (
            "edited: assumptions rewritten", "BTC at the desk's 2027 view", "PUE 1.1")
        await type_into(pilot, "scn-btc-price_usd", "120000")  # later edits keep them
        assert app.scenario.assumptions == (
            "edited: assumptions rewritten", "edited: btc.price_usd = 120,000 (was 84,714)",
            "BTC at the desk's 2027 view", "PUE 1.1")
        app.action_save_scenario()
        await pilot.pause()
        await paste_into(pilot, "path", str(target))
        assert load_scenario(target).assumptions == app.scenario.assumptions

    run_app(check)


def test_no_key_is_lost_when_a_burst_moves_the_focus() -> None:
    """Every value typed is valid and differs from the field's, so a key or an edit lost
    anywhere in the burst changes the result (issue 11)."""
    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#site-power_usd_per_kwh", Input).focus()
        await settle(pilot)
        # Five fields typed in one read (the site's form runs power, hosting per kWh and per
        # kW-month, take-or-pay, capacity): the later ones arrive before the app has handled
        # the Tab that leaves the first, and each edit is committed before the one before it
        # has reached the app. Focus selects a field's text: End keeps the power price's 0.04
        # and the "5" goes after it; Backspace takes back a typo in the capacity.
        await burst(pilot, "end", "5", "tab", *"0.01", "tab", *"2", "tab", *"0.5", "tab",
                    "3", "1", "backspace", "0", "enter")
        site = app.plans[0].site
        assert (site.power_usd_per_kwh, site.hosting_usd_per_kwh, site.hosting_usd_per_kw_month,
                site.take_or_pay_share, site.capacity_mw) == (0.045, 0.01, 2.0, 0.5, 30.0)
        assert app.screen.query_one("#site-capacity_mw", Input).value == "30"
        # Escape leaves the field before the next key: "s" opens the Scenario tab.
        await burst(pilot, "escape", "s")
        assert app.screen.query_one("#tabs", TabbedContent).active == "scenario"
        assert app.plans[0].site.capacity_mw == 30.0
        # The same in the scenario's forms, then Escape and "c" back to the comparison.
        app.screen.query_one("#scn-btc-price_usd", Input).focus()
        await settle(pilot)
        await burst(pilot, *"90000", "tab", *"0.05", "tab", *"0.6", "backspace", "7", "enter",
                    "escape", "c")
        btc = app.scenario.btc
        assert (btc.price_usd, btc.annual_drift, btc.annual_volatility) == (90000.0, 0.05, 0.7)
        assert app.screen.query_one("#tabs", TabbedContent).active == "compare"
        assert app.plans[0].site.capacity_mw == 30.0

    run_app(check)


def test_in_a_plan_of_several_sites_the_site_fields_are_the_selected_orders() -> None:
    from pathlib import Path

    from fleetcalc.plan import load_plan
    from fleetcalc.scenario import load_scenario

    plan = load_plan(Path(__file__).resolve().parents[1] / "docs/examples/two-sites.toml")
    at_ohio = next(i for i, order in enumerate(plan.orders) if order.site == "ohio")
    app = FleetcalcApp([plan], load_scenario(None), cursor_blink=False)

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list[Message]) -> None:
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#order-index", Select).value = at_ohio
        await settle(pilot)
        assert "ohio" in str(app.screen.query_one("#site-section", Static).render())
        await type_into(pilot, "site-power_usd_per_kwh", "0.06")
        ohio = next(s for s in app.plans[0].sites if s.name == "ohio")
        others = [s for s in app.plans[0].sites if s.name != "ohio"]
        assert ohio.power_usd_per_kwh == 0.06
        assert [s.power_usd_per_kwh for s in others] == [
            s.power_usd_per_kwh for s in plan.sites if s.name != "ohio"]

    run_app(check, app)
