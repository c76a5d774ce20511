"""The app shows the plausibility warnings of its results in the status line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w
from textual.pilot import Pilot
from textual.widgets import Static

from fleetcalc.plan import default_plans, plan_to_toml
from tests.tui_pilot import run_app
from tui.app import FleetcalcApp


def test_the_status_line_shows_a_warning_on_an_implausible_input(tmp_path: Path) -> None:
    plan = default_plans()[0].with_site(power_usd_per_kwh=6.0)  # cents typed as dollars
    path = tmp_path / "cents.toml"
    path.write_text(tomli_w.dumps(plan_to_toml(plan)))
    app = FleetcalcApp.from_files([str(path)], None, cursor_blink=False)

    async def check(app: FleetcalcApp, pilot: Pilot[Any], messages: list) -> None:
        assert app.results is not None
        (warning,) = app.results.summary["warnings"][0]
        status = app.screen.query_one("#status", Static)
        assert str(status.render()) == f"Warning: {warning}"
        assert "site.power_usd_per_kwh" in warning and status.has_class("-busy")

    run_app(check, app)
