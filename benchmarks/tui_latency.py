"""Edit-to-result latency of the TUI on the default plans (a benchmark, not a test).

Runs the app headless at 120x40, opens the plan editor and commits N quantity edits (typed,
then Enter); for each, measures the wall time from the Enter key to the app receiving the
worker's ``EvaluationFinished`` (the numbers reach the UI) and to the end of Pilot's next
``pause()`` (every widget has processed its messages: an upper bound on the repaint).

    PYTHONPATH=. python -m benchmarks.tui_latency [--edits 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from textual.message import Message

from tui.app import FleetcalcApp


async def _measure(edits: int) -> list[tuple[float, float]]:
    app = FleetcalcApp.from_files([], None, cursor_blink=False)
    finished: list[float] = []

    def hook(message: Message) -> None:
        if isinstance(message, FleetcalcApp.EvaluationFinished):
            finished.append(time.perf_counter())

    samples = []
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        field: Any = app.screen.query_one("#order-quantity")
        for i in range(edits + 2):  # two warm-up edits
            field.focus()
            field.value = str(2000 + i)
            await pilot.pause()
            count = len(finished)
            start = time.perf_counter()
            await pilot.press("enter")
            while len(finished) == count:
                await asyncio.sleep(0.001)
            await pilot.pause()  # the refresh that shows the new numbers
            if i >= 2:
                samples.append((finished[-1] - start, time.perf_counter() - start))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    samples = asyncio.run(_measure(args.edits))
    to_result = [s[0] * 1000 for s in samples]
    to_screen = [s[1] * 1000 for s in samples]
    print(f"{len(samples)} edits: Enter -> result median {statistics.median(to_result):.1f} ms "
          f"(max {max(to_result):.1f}); Enter -> refreshed screen median "
          f"{statistics.median(to_screen):.1f} ms (max {max(to_screen):.1f})")


if __name__ == "__main__":
    main()
