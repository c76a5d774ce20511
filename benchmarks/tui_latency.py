"""Edit-to-result latency of the TUI on the default plans (a benchmark, not a test).

Runs the app headless at 120x40, opens the plan editor and commits N quantity edits (typed,
then Enter); for each, measures the wall time from the Enter key to the app receiving the
main numbers (the first stage's ``EvaluationFinished``) and to the end of Pilot's next
``pause()`` (every widget has processed its messages: an upper bound on the repaint). The next
edit follows at once, so it lands while the previous edit's breakevens and percentiles (the
second stage) are being computed, and cancels them, as a user typing would. After the last
edit it waits for that edit's second stage (``DetailsFinished``) and reports it too.

    PYTHONPATH=. python -m benchmarks.tui_latency [--edits 20] [--paths 1,200]

``--paths``: the scenario's Monte Carlo paths, one run per count (issue 16 bounds the main
numbers with 200 paths at 300 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from textual.message import Message

from fleetcalc.plan import default_plans
from fleetcalc.scenario import load_scenario
from tui.app import FleetcalcApp


async def _measure(edits: int, paths: int) -> tuple[list[tuple[float, float]], float]:
    scenario = load_scenario(None)
    if paths != scenario.paths:
        scenario = scenario.with_changes(paths=paths)
    app = FleetcalcApp(default_plans(), scenario, cursor_blink=False)
    finished: list[float] = []
    details: list[float] = []

    def hook(message: Message) -> None:
        if isinstance(message, FleetcalcApp.EvaluationFinished):
            finished.append(time.perf_counter())
        elif isinstance(message, FleetcalcApp.DetailsFinished):
            details.append(time.perf_counter())

    samples = []
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        while not details:  # the first complete evaluation (loads the kernels)
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
            complete = len(details)  # the second stages finished before this edit
            start = time.perf_counter()
            await pilot.press("enter")
            while len(finished) == count:
                await asyncio.sleep(0.001)
            await pilot.pause()  # the refresh that shows the new numbers
            if i >= 2:
                samples.append((finished[-1] - start, time.perf_counter() - start))
        while len(details) == complete:
            await asyncio.sleep(0.01)
        to_details = details[-1] - start
    return samples, to_details


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--paths", default="1,200")
    args = parser.parse_args()
    for paths in (int(p) for p in args.paths.split(",")):
        samples, to_details = asyncio.run(_measure(args.edits, paths))
        to_result = [s[0] * 1000 for s in samples]
        to_screen = [s[1] * 1000 for s in samples]
        print(f"{paths} path(s), {len(samples)} edits: Enter -> main numbers median "
              f"{statistics.median(to_result):.1f} ms (max {max(to_result):.1f}); Enter -> "
              f"refreshed screen median {statistics.median(to_screen):.1f} ms "
              f"(max {max(to_screen):.1f}); last edit -> breakevens and percentiles "
              f"{to_details * 1000:.0f} ms")


if __name__ == "__main__":
    main()
