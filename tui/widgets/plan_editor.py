"""The plan editor: site power price and capacity, each order's model, quantity, origin, unit
price, dates and payment terms, and the plan's finance (every key of ``[finance]``, read from
its field table: discount rate, debt, tax). In a plan of several sites the site fields are
those of the selected order's site.

An edit is applied when the user presses Enter or leaves the field (text) or picks an option
(drop-downs). It is validated by the same parser as a plan file; an invalid value is explained
under its field and changes nothing. A valid one is posted up as ``PlanEdited``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from fleetcalc.catalog import get_model, load_catalog, makers
from fleetcalc.errors import InputError
from fleetcalc.plan import FINANCE_FIELDS, Plan
from tui import edits
from tui.format import number_text, plain
from tui.widgets.plan_picker import PlanPicker
from tui.widgets.plan_results import PlanResults

# (id, label) of the text fields; the id is "<table>-<key>" with table "site" or "order".
SITE_INPUTS = (
    ("site-power_usd_per_kwh", "Power price (USD/kWh)"),
    ("site-capacity_mw", "Site capacity (MW)"),
)
ORDER_INPUTS = (
    ("order-quantity", "Quantity (units)"),
    ("order-unit_price_usd", "Unit price (USD)"),
    ("order-import_date", "Import date (tariffs)"),
    ("order-delivery_date", "Delivery (first mining)"),
)
# The payment terms (``fleetcalc.schedule``): (id, label, what an empty field means).
ORDER_TERM_INPUTS = (
    ("order-order_date", "Order date (deposit)", "the start date"),
    ("order-deposit_share", "Deposit (share of price)", "0.3"),
    ("order-balance_days_before_import", "Balance, days before import", "30"),
    ("order-shipped_by", "Shipped by (sea, air)", "sea"),
)
# Labels and empty-field meanings of the [finance] keys; every key of the table gets a row
# (one added to ``fleetcalc.plan.Finance`` shows under its own name until labelled here).
FINANCE_LABELS = {
    "discount_rate": ("Discount rate (a year)", ""),
    "residual_fraction": ("Residual (share of price)", ""),
    "hodl_fraction": ("BTC kept (share)", ""),
    "debt_share": ("Debt (share of capex)", ""),
    "debt_rate": ("Loan rate (a year)", "needed with debt"),
    "debt_term_years": ("Loan term (years)", ""),
    "tax_rate": ("Tax rate", ""),
    "depreciation": ("Depreciation method", "macrs5 or straight_line"),
    "depreciation_years": ("Depreciation years", ""),
    "bonus_depreciation": ("Bonus depreciation (share)", "US rule by order date"),
}
FINANCE_INPUTS = tuple(
    (f"finance-{field.name}", *FINANCE_LABELS.get(field.name, (field.name, "")))
    for field in FINANCE_FIELDS
)


class PlanEditor(Widget):
    @dataclass
    class PlanEdited(Message):
        """Plan ``index`` was validly edited into ``plan``."""

        index: int
        plan: Plan

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._order_index = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="editor-columns"):
            with VerticalScroll(id="editor-form"):
                with Horizontal(classes="field"):
                    yield Label("Plan", classes="field-label")
                    yield PlanPicker(id="editor-plan")
                yield Label("Site", id="site-section", classes="section")
                for field_id, label in SITE_INPUTS:
                    yield from self._input_row(field_id, label)
                yield Label("Order", classes="section")
                yield from self._select_row("order-index", "Order line", prompt="Order")
                yield from self._select_row("order-maker", "Maker", prompt="Maker")
                yield from self._select_row("order-model", "Model", prompt="Pick a model")
                yield Static("", id="model-info", classes="hint")
                yield from self._input_row(*ORDER_INPUTS[0])
                yield from self._select_row("order-origin", "Origin (built in)", prompt="Origin")
                for field_id, label in ORDER_INPUTS[1:]:
                    yield from self._input_row(field_id, label)
                for field_id, label, empty in ORDER_TERM_INPUTS:
                    yield from self._input_row(field_id, label, empty)
                yield Label("Finance", classes="section")
                for field_id, label, empty in FINANCE_INPUTS:
                    yield from self._input_row(field_id, label, empty)
                yield Static("Enter or leaving a field applies it; results update at once.",
                             classes="hint")
            yield PlanResults(id="plan-results")

    def _input_row(self, field_id: str, label: str, empty: str = "") -> Iterator[Widget]:
        """A labelled text field; ``empty`` is what leaving it empty means (its default)."""
        with Horizontal(classes="field"):
            yield Label(label, classes="field-label")
            yield Input(id=field_id, compact=True, select_on_focus=True, placeholder=empty)
        yield Static("", id=f"error-{field_id}", classes="error")

    def _select_row(self, field_id: str, label: str, prompt: str) -> Iterator[Widget]:
        with Horizontal(classes="field"):
            yield Label(label, classes="field-label")
            yield Select[Any]([], id=field_id, prompt=prompt, compact=True)
        yield Static("", id=f"error-{field_id}", classes="error")

    def on_mount(self) -> None:
        self._options: dict[str, list[tuple[str, Any]]] = {}
        self.watch(self.app, "plans", self._load_form)
        self.watch(self.app, "selected", self._plan_changed)

    # -- filling the form from the plan -------------------------------------------------

    @property
    def plan(self) -> Plan:
        app: Any = self.app
        return app.plans[app.selected]

    def _plan_changed(self, _value: Any = None) -> None:
        self._order_index = 0
        self._load_form()

    def _set_select(self, field_id: str, options: list[tuple[str, Any]], value: Any) -> None:
        select = self.query_one(f"#{field_id}", Select)
        with select.prevent(Select.Changed):
            # Rebuilding a Select's options restyles its whole option list: tens of ms on every
            # edit for nothing when, as usual, only a number of the plan changed.
            if self._options.get(field_id) != options:
                select.set_options(options)
                self._options[field_id] = list(options)
            select.value = value if any(v == value for _, v in options) else Select.NULL

    def _load_form(self, _value: Any = None) -> None:
        from fleetcalc.units import resolve_unit

        plan = self.plan
        self._order_index = min(self._order_index, len(plan.orders) - 1)
        order = plan.orders[self._order_index]
        unit = resolve_unit(order)
        site = plan.sites[plan.site_index(order)]
        self.query_one("#site-section", Label).update(
            "Site" if len(plan.sites) == 1 else f"Site {site.name} (of the selected order)")
        values: dict[str, str] = {
            "site-power_usd_per_kwh": number_text(site.power_usd_per_kwh),
            "site-capacity_mw": number_text(site.capacity_mw),
            "order-quantity": number_text(order.quantity),
            "order-unit_price_usd": number_text(unit.unit_price_usd),
            "order-import_date": order.import_date.isoformat(),
            "order-delivery_date": order.delivery_date.isoformat(),
            **{field_id: _text(getattr(order, field_id.split("-", 1)[1]))
               for field_id, _, _ in ORDER_TERM_INPUTS},
            **{field_id: _text(getattr(plan.finance, field_id.split("-", 1)[1]))
               for field_id, _, _ in FINANCE_INPUTS},
        }
        for field_id, text in values.items():
            self.query_one(f"#{field_id}", Input).value = text
        for error in self.query(".error").results(Static):
            error.update("")
            error.remove_class("-shown")
        self._set_select("order-index", [
            (f"{i + 1} of {len(plan.orders)}: {o.quantity:,} x {o.model or 'custom unit'}"
             + (f" at {o.site}" if o.site else ""), i)
            for i, o in enumerate(plan.orders)], self._order_index)
        maker = get_model(order.model).maker if order.model else None
        self._set_select("order-maker", [(m, m) for m in makers()], maker)
        self._fill_models(maker, order.model)
        spec = get_model(order.model) if order.model else None
        origins = spec.origins if spec else (order.origin,)
        self._set_select("order-origin", [(o, o) for o in origins], order.origin)
        price_hint = (f" · order priced at {order.usd_per_th:g} USD/TH"
                      if order.usd_per_th is not None else "")
        self.query_one("#model-info", Static).update(
            f"{unit.hashrate_th:,.0f} TH/s · {unit.power_w:,.0f} W · "
            f"{unit.power_w / unit.hashrate_th:.1f} J/TH · {unit.cooling} · "
            f"built in {', '.join(origins)}{price_hint}"
        )

    def _fill_models(self, maker: str | None, model_id: str | None) -> None:
        catalog = load_catalog()
        rows = catalog.filter(catalog["maker"] == maker) if maker else catalog.clear()
        self._set_select("order-model", [
            (f"{name} · {eff:.1f} J/TH", mid)
            for mid, name, eff in rows.select(
                "model_id", "model", "efficiency_j_per_th").iter_rows()
        ], model_id)

    # -- applying edits ------------------------------------------------------------------

    def _show_error(self, field_id: str, error: InputError | None) -> None:
        label = self.query_one(f"#error-{field_id}", Static)
        label.update(plain(error.detail) if error else "")
        label.set_class(error is not None, "-shown")

    def _apply(self, field_id: str, build: Any) -> None:
        """Validate ``build()`` (a new Plan); post it, or show why it is invalid."""
        app: Any = self.app
        try:
            plan = build()
        except InputError as error:
            self._show_error(field_id, error)
            return
        self._show_error(field_id, None)
        if plan != self.plan:
            self.post_message(self.PlanEdited(app.selected, plan))

    def _site(self) -> Any:
        """The site of the selected order (a plan's only site, or one of its sites)."""
        plan = self.plan
        return plan.sites[plan.site_index(plan.orders[self._order_index])]

    def _current_value(self, field_id: str) -> Any:
        table, key = field_id.split("-", 1)
        if table == "site":
            return getattr(self._site(), key)
        if table == "finance":
            return getattr(self.plan.finance, key)
        if key == "unit_price_usd":
            from fleetcalc.units import resolve_unit

            return resolve_unit(self.plan.orders[self._order_index]).unit_price_usd
        return getattr(self.plan.orders[self._order_index], key)

    @on(Input.Submitted)
    @on(Input.Blurred)
    def _text_committed(self, event: Input.Submitted | Input.Blurred) -> None:
        field_id = event.input.id or ""
        if not field_id.startswith(("site-", "order-", "finance-")):
            return
        event.stop()
        table, key = field_id.split("-", 1)
        kind = {"site": edits.SITE_FIELDS, "order": edits.ORDER_FIELDS,
                "finance": edits.FINANCE_FIELDS}[table][key]
        typed = edits.coerce(event.value, kind) if event.value.strip() else None
        if typed == self._current_value(field_id):
            self._show_error(field_id, None)
            return
        scenario = self.app.scenario  # type: ignore[attr-defined]
        if table == "site":
            site = self.plan.site_index(self.plan.orders[self._order_index])
            self._apply(field_id, lambda: edits.edit_site(
                self.plan, scenario, key, event.value, site))
        elif table == "finance":
            self._apply(field_id, lambda: edits.edit_finance(self.plan, scenario, key,
                                                             event.value))
        else:
            self._apply(field_id, lambda: edits.edit_order(
                self.plan, scenario, self._order_index, key, event.value))

    @on(Select.Changed, "#order-index")
    def _order_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, int):
            self._order_index = event.value
            self._load_form()

    @on(Select.Changed, "#order-maker")
    def _maker_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str):
            order = self.plan.orders[self._order_index]
            current = order.model if order.model and get_model(
                order.model).maker == event.value else None
            self._fill_models(event.value, current)
            hint = None if current else InputError(
                "editor", "model", "(none)", f"a {event.value} model: pick one below")
            self._show_error("order-maker", hint)

    @on(Select.Changed, "#order-model")
    def _model_chosen(self, event: Select.Changed) -> None:
        event.stop()
        model_id = event.value
        if not isinstance(model_id, str) or model_id == self.plan.orders[self._order_index].model:
            return
        self._show_error("order-maker", None)
        scenario = self.app.scenario  # type: ignore[attr-defined]
        self._apply("order-model", lambda: edits.change_model(
            self.plan, scenario, self._order_index, model_id))

    @on(Select.Changed, "#order-origin")
    def _origin_chosen(self, event: Select.Changed) -> None:
        event.stop()
        origin = event.value
        if not isinstance(origin, str) or origin == self.plan.orders[self._order_index].origin:
            return
        scenario = self.app.scenario  # type: ignore[attr-defined]
        self._apply("order-origin", lambda: edits.change_origin(
            self.plan, scenario, self._order_index, origin))


def _text(value: Any) -> str:
    """A plan value as its field shows it: numbers with separators, dates ISO, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int | float):
        return number_text(value)
    return value.isoformat()
