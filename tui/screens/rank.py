"""The catalog ranking on a screen of its own: every model and mode at a power price, from an
origin, under the app's scenario (``fleetcalc.rank``), computed in a worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from fleetcalc.errors import InputError
from fleetcalc.rank import DEFAULT_POWER_USD_PER_KWH, RANK_COLUMNS, Ranking
from fleetcalc.text import printable
from tui.format import plain
from tui.keys import FOCUS_BINDINGS
from tui.widgets.text_field import TextField

LOWEST_DUTY = "lowest duty"


class RankScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Back"),
                                             *FOCUS_BINDINGS]

    @dataclass
    class RankingComputed(Message):
        request: tuple[Any, ...]
        ranking: Ranking

    def compose(self) -> ComposeResult:
        from fleetcalc.catalog import load_catalog

        origins = sorted({o for row in load_catalog()["origins"].to_list() for o in row})
        yield Header()
        with Horizontal(id="rank-controls"):
            yield Label("Power USD/kWh", classes="inline-label")
            yield TextField(f"{DEFAULT_POWER_USD_PER_KWH:g}", id="rank-power", compact=True)
            yield Label("From", classes="inline-label")
            yield Select([("lowest-duty plant", LOWEST_DUTY), *((o, o) for o in origins)],
                         id="rank-origin", value=LOWEST_DUTY, allow_blank=False, compact=True)
            yield Label("Sort by", classes="inline-label")
            yield Select([(c.label, c.name) for c in RANK_COLUMNS], id="rank-sort",
                         value="profit_usd_per_day", allow_blank=False, compact=True)
        yield Static("", id="rank-note", classes="hint")
        yield DataTable(id="rank-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Every catalog machine, ranked (escape: back)"
        self._refresh()

    def _request(self) -> tuple[Any, ...]:
        app: Any = self.app
        origin = self.query_one("#rank-origin", Select).value
        return (app.scenario, self.query_one("#rank-power", Input).value.strip(),
                None if origin == LOWEST_DUTY else origin,
                str(self.query_one("#rank-sort", Select).value))

    def _refresh(self) -> None:
        self.query_one("#rank-note", Static).update("Ranking every model and mode…")
        self._compute(self._request())

    @on(Input.Submitted, "#rank-power")
    @on(Select.Changed, "#rank-origin, #rank-sort")
    def _controls_changed(self, event: Message) -> None:
        event.stop()
        self._refresh()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rank")
    def _compute(self, request: tuple[Any, ...]) -> None:
        from fleetcalc.plan import SITE_FIELDS
        from fleetcalc.rank import rank
        from fleetcalc.validate import command_line_value

        scenario, power_text, origin, sort = request
        field = next(f for f in SITE_FIELDS if f.name == "power_usd_per_kwh")
        power = command_line_value(field, power_text, "power price")
        ranking = rank(scenario, power, None, origin, sort)
        if not get_current_worker().is_cancelled:
            self.post_message(self.RankingComputed(request, ranking))

    @on(RankingComputed)
    def _show(self, message: RankingComputed) -> None:
        if message.request != self._request():
            return
        ranking = message.ranking
        table = self.query_one("#rank-table", DataTable)
        table.clear(columns=True)
        table.add_columns("Model", "Mode", "From", *(c.label for c in RANK_COLUMNS))
        for row in ranking.table.iter_rows(named=True):
            style = "dim" if row["profit_usd_per_day"] < 0 else ""
            table.add_row(Text(row["model_id"], style=style), Text(row["mode"], style=style),
                          row["origin"], *(Text(c.text(row[c.name]), style=style,
                                                justify="right") for c in RANK_COLUMNS))
        scenario = ranking.scenario
        self.query_one("#rank-note", Static).update(plain(
            f"{ranking.table.height} units on {ranking.on} under '{scenario.name}': per unit at "
            "full uptime, shutdown prices where the day's revenue equals its energy cost, NPV "
            f"of one unit over {scenario.horizon_days:,} days. Dim rows lose money. "
            + " ".join(ranking.notes)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "rank" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        text = error.detail if isinstance(error, InputError) else (
            f"internal error: {type(error).__name__}: {error}")
        self.query_one("#rank-note", Static).update(plain(text))
        self.notify(printable(str(error)), title="Could not rank", severity="error", timeout=10,
                    markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
