"""Edit-to-result latency of the TUI on the default plans (a benchmark, not a test).

Runs the app headless at 120x40, opens the plan editor and commits N quantity edits (typed,
then Enter; ``plan``: the cache re-evaluates the edited plan only), or opens the scenario tab
and commits N edits of the BTC price (``scenario``: every plan is evaluated again); for each,
measures the wall time from the Enter key to the app receiving the
main numbers (the first stage's ``EvaluationFinished``, posted by the worker), to the end of
the refresh that drew them (the app starts the second stage right after it) and to the end of
Pilot's next ``pause()`` (every widget has processed its messages and the process looks idle:
it waits up to 1 s for CPU idle, which the second stage's worker delays). The next
edit follows at once, so it lands while the previous edit's breakevens and percentiles (the
second stage) are being computed, and cancels them, as a user typing would. After the last
edit it waits for that edit's second stage (``DetailsFinished``) and reports it too.

    PYTHONPATH=. python -m benchmarks.tui_latency [--edits 20] [--paths 1,200] \
        [--cases plan,scenario]

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

# case -> (the tab's key, the field's id, its value at edit i): each edit a new value, so
# nothing is taken from the app's plan cache but what the case leaves unchanged.
CASES = {
    "plan": ("e", "#order-quantity", lambda i: str(2000 + i)),
    "scenario": ("s", "#scn-btc-price_usd", lambda i: str(100_000 + 100 * i)),
}


async def _measure(
    edits: int, paths: int, case: str = "plan",
) -> tuple[list[tuple[float, float, float]], float]:
    scenario = load_scenario(None)
    if paths != scenario.paths:
        scenario = scenario.with_changes(paths=paths)
    app = FleetcalcApp(default_plans(), scenario, cursor_blink=False)
    finished: list[float] = []
    details: list[float] = []
    painted: list[float] = []
    start_details = app._start_details

    def paint_then_details(*args: Any) -> None:
        # The app starts the second stage after the refresh that drew the main numbers.
        painted.append(time.perf_counter())
        start_details(*args)

    app._start_details = paint_then_details  # type: ignore[method-assign]

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
        tab_key, field_id, value = CASES[case]
        await pilot.press(tab_key)
        await pilot.pause()
        field: Any = app.screen.query_one(field_id)
        for i in range(edits + 2):  # two warm-up edits
            field.focus()
            field.value = value(i)
            await pilot.pause()
            count, drawn = len(finished), len(painted)
            complete = len(details)  # the second stages finished before this edit
            start = time.perf_counter()
            await pilot.press("enter")
            while len(finished) == count or len(painted) == drawn:
                await asyncio.sleep(0.001)
            await pilot.pause()  # every widget has processed its messages
            if i >= 2:
                samples.append((finished[-1] - start, painted[-1] - start,
                                time.perf_counter() - start))
        while len(details) == complete:
            await asyncio.sleep(0.01)
        to_details = details[-1] - start
    return samples, to_details


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--paths", default="1,200")
    parser.add_argument("--cases", default="plan,scenario",
                        help=f"comma-separated, of {', '.join(CASES)}")
    args = parser.parse_args()
    cases = args.cases.split(",")
    if unknown := set(cases) - set(CASES):
        parser.error(f"--cases: unknown {', '.join(sorted(unknown))}; expected {', '.join(CASES)}")
    for case in cases:
        for paths in (int(p) for p in args.paths.split(",")):
            _report(case, paths, *asyncio.run(_measure(args.edits, paths, case)))


def _report(
    case: str, paths: int, samples: list[tuple[float, float, float]], to_details: float,
) -> None:
    to_result, to_paint, to_idle = ([s[k] * 1000 for s in samples] for k in range(3))
    print(f"{case} edits, {paths} path(s), {len(samples)} edits, medians (max): Enter -> main "
          f"numbers "
          f"{_ms(to_result)}; -> drawn {_ms(to_paint)}; -> pilot.pause() {_ms(to_idle)}; "
          f"last edit -> breakevens and percentiles {to_details * 1000:.0f} ms")


def _ms(samples_ms: list[float]) -> str:
    return f"{statistics.median(samples_ms):.1f} ms ({max(samples_ms):.1f})"


if __name__ == "__main__":
    main()
