"""The plan editor: every key of the selected plan (name, compliance, site, finance) and of each
of its orders, orders added and removed, plans created, copied and removed. In a plan of
several sites the site fields are those of the selected order's site.

The forms are ``FieldForm``s over the plan parser's field tables, so a key added to a plan
class is editable here with no code. Model, origin and mode are drop-downs that offer what the
catalog allows. An edit is applied when the user presses Enter or leaves the field (text) or
picks an option (drop-downs). It is validated by the same parser as a plan file; an invalid
value is explained under its field and changes nothing. A valid one is posted up as
``PlanEdited``, which carries the edit rather than the edited plan: the app makes it on its plan
as it is then. In a burst of keys the editor commits the next field before the app has applied
the previous edit (the message takes a turn per widget on its way up), and a plan made from the
editor's view then would undo that edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Label, Select, Static

from fleetcalc.catalog import UNIT_FIGURE_FIELDS, get_model, load_catalog, makers
from fleetcalc.errors import InputError
from fleetcalc.plan import Plan
from fleetcalc.scenario import Scenario
from tui import edits
from tui.widgets.deferred import update_if_changed
from tui.widgets.field_form import FieldForm, apply_edit, show_error_line
from tui.widgets.plan_picker import PlanPicker
from tui.widgets.plan_results import PlanResults

# Order keys with drop-downs of their own (what the catalog allows for the model).
ORDER_CHOICE_KEYS = ("model", "origin", "mode")
# Order keys that describe the unit (custom units, per-order overrides of the model's cooling
# type's figures): a second form, where a blank field shows the default in effect.
UNIT_KEYS = ("hashrate_th", "power_w", "cooling", *(f.name for f in UNIT_FIGURE_FIELDS))
ORDER_MAIN = tuple(f for f in edits.PLAN_TABLES["orders"]
                   if f.name not in (*ORDER_CHOICE_KEYS, *UNIT_KEYS))
ORDER_UNIT = tuple(f for f in edits.PLAN_TABLES["orders"] if f.name in UNIT_KEYS)


class PlanEditor(Widget):
    @dataclass
    class PlanEdited(Message):
        """The user validly edited plan ``index``: ``edit`` makes the edited plan from that plan
        as the app has it (edits still on their way included; raises ``InputError``); ``note``
        says anything the edit did besides what was typed (a model change replacing the
        price)."""

        index: int
        edit: Callable[[Plan], Plan]
        note: str = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._order_index = 0
        self._options: dict[str, list[tuple[str, Any]]] = {}
        # Set when an order is added or removed: the next reload shows another order line.
        self._force_reload = False
        self._plan_count = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="editor-columns"):
            with VerticalScroll(id="editor-form"):
                with Horizontal(classes="field"):
                    yield Label("Plan", classes="field-label")
                    yield PlanPicker(id="editor-plan")
                with Horizontal(classes="buttons"):
                    yield Button("New plan", id="plan-new", compact=True)
                    yield Button("Copy", id="plan-copy", compact=True)
                    yield Button("Remove", id="plan-remove", compact=True)
                yield FieldForm("", edits.PLAN_TABLES[""], prefix="plan", id="plan-form")
                yield Label("Site", id="site-section", classes="section")
                yield FieldForm("site", edits.PLAN_TABLES["site"], prefix="site", id="site-form")
                yield Label("Finance", classes="section")
                yield FieldForm("finance", edits.PLAN_TABLES["finance"], prefix="finance",
                                id="finance-form")
                yield Label("Orders", classes="section")
                yield from self._select_row("order-index", "Order line", prompt="Order")
                with Horizontal(classes="buttons"):
                    yield Button("Add order", id="order-add", compact=True)
                    # Short labels: the three fit the form's 33 columns.
                    yield Button("Remove", id="order-remove", compact=True)
                    yield Button("New site", id="order-new-site", compact=True)
                yield Static("", id="error-order-index", classes="error")
                yield from self._select_row("order-maker", "Maker", prompt="Maker")
                yield from self._select_row("order-model", "Model", prompt="Pick a model")
                yield Static("", id="model-info", classes="hint")
                yield from self._select_row("order-origin", "Origin (built in)", prompt="Origin")
                yield from self._select_row("order-mode", "Operating mode", prompt="Mode")
                yield FieldForm("orders", ORDER_MAIN, prefix="order", notes=("unit_price_usd",),
                                id="order-form")
                yield Label("Unit figures (blank: the model's or cooling type's default)",
                            classes="section")
                yield FieldForm("orders", ORDER_UNIT, prefix="order", id="unit-form")
                yield Static("Enter or leaving a field applies it; results update at once. "
                             "A blank field takes the default shown in grey.", classes="hint")
            yield PlanResults(id="plan-results")

    def _select_row(self, field_id: str, label: str, prompt: str) -> Iterator[Widget]:
        with Horizontal(classes="field"):
            yield Label(label, classes="field-label")
            yield Select[Any]([], id=field_id, prompt=prompt, compact=True)
        if field_id != "order-index":
            yield Static("", id=f"error-{field_id}", classes="error")

    def on_mount(self) -> None:
        self.watch(self.app, "plans", self._plans_changed)
        self.watch(self.app, "selected", self._plan_changed)

    # -- filling the form from the plan -------------------------------------------------

    @property
    def plan(self) -> Plan:
        app: Any = self.app
        return app.plans[app.selected]

    @property
    def scenario(self) -> Scenario:
        return self.app.scenario  # type: ignore[attr-defined]

    def _plans_changed(self, _value: Any = None) -> None:
        # A plan added or removed may put another plan under the same index: shown afresh.
        app: Any = self.app
        force = self._force_reload or len(app.plans) != self._plan_count
        self._force_reload = False
        self._load_form(force=force)

    def _plan_changed(self, _value: Any = None) -> None:
        self._order_index = 0
        self._load_form(force=True)

    def _set_select(self, field_id: str, options: list[tuple[str, Any]], value: Any) -> None:
        select = self.query_one(f"#{field_id}", Select)
        with select.prevent(Select.Changed):
            # Rebuilding a Select's options restyles its whole option list: tens of ms on every
            # edit for nothing when, as usual, only a number of the plan changed.
            if self._options.get(field_id) != options:
                select.set_options(options)
                self._options[field_id] = list(options)
            select.value = value if any(v == value for _, v in options) else Select.NULL

    def _load_form(self, force: bool) -> None:
        """Show the selected plan; ``force``: also replace text the user has not committed
        (another plan or order is shown)."""
        from fleetcalc.units import resolve_unit

        plan = self.plan
        self._plan_count = len(self.app.plans)  # type: ignore[attr-defined]
        self._order_index = min(self._order_index, len(plan.orders) - 1)
        order = plan.orders[self._order_index]
        unit = resolve_unit(order)
        # In a plan of several sites, the site of the selected order.
        site = edits.plan_part(plan, "site", self._order_index)
        update_if_changed(
            self.query_one("#site-section", Label),
            "Site" if len(plan.sites) == 1 else f"Site {site.name} (of the selected order)")
        for form_id, part in (("plan-form", plan), ("site-form", site),
                              ("finance-form", plan.finance)):
            self.query_one(f"#{form_id}", FieldForm).load(_values(part), force=force)
        order_values = _values(order)
        order_form = self.query_one("#order-form", FieldForm)
        order_form.load(order_values, force=force)
        order_form.set_note("unit_price_usd",
                            edits.catalog_price_note(plan, self._order_index, self.scenario))
        # A blank unit figure shows the value in effect (the model's or its cooling type's).
        defaults = {key: f"default {edits.value_text(getattr(unit, key, None))}"
                    for key in UNIT_KEYS}
        self.query_one("#unit-form", FieldForm).load(order_values, force=force,
                                                    placeholders=defaults)
        if force:
            self.query_one("#error-order-index", Static).remove_class("-shown")
        self._load_choices(plan, unit)

    def _load_choices(self, plan: Plan, unit: Any) -> None:
        order = plan.orders[self._order_index]
        self._set_select("order-index", [
            (f"{i + 1} of {len(plan.orders)}: {o.quantity:,} x {o.model or 'custom unit'}"
             + (f" at {o.site}" if o.site else ""), i)
            for i, o in enumerate(plan.orders)], self._order_index)
        maker = get_model(order.model).maker if order.model else None
        self._set_select("order-maker", [(m, m) for m in makers()], maker)
        self._fill_models(maker, order.model)
        spec = get_model(order.model) if order.model and order.hashrate_th is None else None
        origins = spec.origins if spec else (order.origin,)
        self._set_select("order-origin", [(o, o) for o in origins], order.origin)
        modes = tuple(spec.modes) if spec else (order.mode,)
        self._set_select("order-mode", [(m, m) for m in modes], order.mode)
        for field_id in ("order-maker", "order-model", "order-origin", "order-mode"):
            self._show_error(field_id, None)
        update_if_changed(
            self.query_one("#model-info", Static),
            f"{unit.hashrate_th:,.0f} TH/s · {unit.power_w:,.0f} W · "
            f"{unit.power_w / unit.hashrate_th:.1f} J/TH · {unit.cooling} · "
            f"built in {', '.join(origins)}")

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
        show_error_line(self.query_one(f"#error-{field_id}", Static), error)

    def _apply(self, show: Callable[[InputError | None], None], edit: Callable[[Plan], Plan],
               note: str = "", then: Callable[[], None] | None = None) -> None:
        """Check ``edit`` on the plan shown and post it, or ``show`` why it is invalid; ``then``
        runs when it is posted. Posted even if it changes nothing here: the app may have a plan
        an earlier edit changed (a field typed over and back in one burst); the app skips an
        edit that changes nothing."""
        app: Any = self.app
        index = app.selected

        def post(_plan: Plan) -> None:
            if then is not None:
                then()
            self.post_message(self.PlanEdited(index, edit, note))

        apply_edit(lambda: edit(self.plan), show, post)

    @on(FieldForm.FieldCommitted)
    def _field_committed(self, event: FieldForm.FieldCommitted) -> None:
        event.stop()
        form, key, order_index = event.form, event.key, self._order_index
        app: Any = self.app
        index = app.selected

        def edit(plan: Plan) -> Plan:
            edited = edits.edit_plan(plan, self.scenario, form.table, key, event.value,
                                     order_index)
            if form.table == "" and key == "name":
                edits.check_unique_name(edited, app.plans, index)
            return edited

        self._apply(lambda error: form.show_error(key, error), edit)

    @on(Select.Changed, "#order-index")
    def _order_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, int):
            self._order_index = event.value
            self._load_form(force=True)

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
        order_index = self._order_index
        try:
            # What the change does to the price, as it reads on the plan shown.
            note = edits.change_model(self.plan, self.scenario, order_index, model_id).note
        except InputError as error:
            self._show_error("order-model", error)
            return
        self._apply(lambda error: self._show_error("order-model", error),
                    lambda plan: edits.change_model(plan, self.scenario, order_index,
                                                    model_id).plan, note)

    @on(Select.Changed, "#order-origin")
    @on(Select.Changed, "#order-mode")
    def _choice_chosen(self, event: Select.Changed) -> None:
        event.stop()
        key = (event.select.id or "").removeprefix("order-")
        value = event.value
        if not isinstance(value, str) or value == getattr(
                self.plan.orders[self._order_index], key):
            return
        order_index = self._order_index
        self._apply(lambda error: self._show_error(f"order-{key}", error),
                    lambda plan: edits.edit_plan(plan, self.scenario, "orders", key, value,
                                                 order_index))

    def _apply_orders(self, edit: Callable[[Plan], Plan], show_index: int) -> None:
        """Apply an order added or removed, then show order ``show_index`` (clipped)."""
        def then() -> None:
            self._order_index, self._force_reload = show_index, True

        self._apply(lambda error: self._show_error("order-index", error), edit, then=then)

    @on(Button.Pressed, "#order-add")
    def _add_order(self, event: Button.Pressed) -> None:
        event.stop()
        order_index = self._order_index
        self._apply_orders(lambda plan: edits.add_order(plan, self.scenario, order_index),
                           len(self.plan.orders))

    @on(Button.Pressed, "#order-remove")
    def _remove_order(self, event: Button.Pressed) -> None:
        event.stop()
        if len(self.plan.orders) == 1:
            self._show_error("order-index", InputError(
                "editor", "orders", "(the only order)",
                "at least one order per plan: add another first, or remove the plan"))
            return
        order_index = self._order_index
        self._apply_orders(lambda plan: edits.remove_order(plan, self.scenario, order_index),
                           max(order_index - 1, 0))

    @on(Button.Pressed, "#order-new-site")
    def _order_to_new_site(self, event: Button.Pressed) -> None:
        # The shown order moves to a copy of its site, whose name and figures are then edited
        # in the site form (the way to a plan of several sites, as Add order is to orders).
        event.stop()
        order_index = self._order_index
        self._apply_orders(
            lambda plan: edits.order_to_new_site(plan, self.scenario, order_index), order_index)

    @on(Button.Pressed, "#plan-new")
    @on(Button.Pressed, "#plan-copy")
    @on(Button.Pressed, "#plan-remove")
    async def _plan_button(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"plan-new": "new_plan", "plan-copy": "copy_plan",
                  "plan-remove": "remove_plan"}[event.button.id or ""]
        await self.run_action(f"app.{action}")


def _values(obj: Any) -> dict[str, Any]:
    """A plan part's values by key (its dataclass fields)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}
