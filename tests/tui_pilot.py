"""Driving the app headless in Pilot tests: run it, wait until it is quiet, type into fields.

Tests assert on the app's state and the messages it posts; workers are awaited, never timed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input

from tui.app import FleetcalcApp

SIZE = (120, 40)


def run_app(
    scenario_test: Callable[[FleetcalcApp, Pilot[Any], list[Message]], Awaitable[None]],
    app: FleetcalcApp | None = None,
) -> None:
    """Run the app headless at 120x40 and hand it, its pilot and its posted messages over."""
    app = app or FleetcalcApp.from_files([], None, cursor_blink=False)
    messages: list[Message] = []

    def hook(message: Message) -> None:
        messages.append(message)
        # pilot.pause() itself posts a Callback to every widget: not the app's own activity.
        if not isinstance(message, events.Callback):
            POSTED.append(message)

    async def main() -> None:
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            await settle(pilot)
            await scenario_test(app, pilot, messages)

    asyncio.run(main())


# Every message the running app posts (run_test's message_hook), so settle() can tell when the
# app has gone quiet.
POSTED: list[Message] = []
MAX_TURNS = 200


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the app is quiet: no message posted during two processing turns and no
    evaluation running. An edit bubbles one widget up per turn on its way to the app, so a
    fixed number of pauses would be either too few or slow."""
    quiet_turns = 0
    for _ in range(MAX_TURNS):
        posted = len(POSTED)
        await pilot.pause()
        if any(w.is_running for w in pilot.app.workers):
            await pilot.app.workers.wait_for_complete()
            quiet_turns = 0
        elif len(POSTED) == posted:
            quiet_turns += 1
            if quiet_turns == 2:
                return
        else:
            quiet_turns = 0
    raise AssertionError("the app did not settle")


async def type_into(pilot: Pilot[Any], field_id: str, text: str) -> None:
    """Replace a field's text by typing ``text`` and press Enter."""
    field = pilot.app.screen.query_one(f"#{field_id}", Input)
    field.focus()
    await pilot.pause()
    field.value = ""
    await pilot.press(*text, "enter")
    await settle(pilot)


async def paste_into(pilot: Pilot[Any], field_id: str, text: str) -> None:
    """Set a field's text at once (long text typed key by key is slow) and press Enter."""
    field = pilot.app.screen.query_one(f"#{field_id}", Input)
    field.focus()
    field.value = text
    await pilot.press("enter")
    await settle(pilot)


async def enter_path(pilot: Pilot[Any], path: Path) -> None:
    await paste_into(pilot, "path", str(path))


def record(app: FleetcalcApp, index: int) -> dict[str, Any]:
    assert app.results is not None
    return app.results.records()[index]


async def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Deliver ``keys`` as a terminal delivers a fast typist's keys or a paste: all in one read,
    queued at the app before it handles the first (``pilot.press`` waits after each key), then
    wait until the app is quiet."""
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        pilot.app.post_message(event)
    await settle(pilot)


def notified(messages: list[Message]) -> list[str]:
    """The texts of the notifications the app posted (each once), however long ago: a
    notification's own timeout would make a check of what is on screen depend on speed."""
    from textual.notifications import Notify

    seen = {id(m): m.notification.message for m in messages if isinstance(m, Notify)}
    return list(seen.values())
