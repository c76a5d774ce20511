"""Write the compare screen as SVG, saved by the app itself: ``python -m tui.screenshot OUT``.

docs/compare.svg is made this way (``PYTHONPATH=. python -m tui.screenshot docs/compare.svg``):
the app runs headless on the built-in plans and scenario at 120x40, waits for its evaluation
and saves a screenshot with its own "Screenshot" action (key f2).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tui.app import FleetcalcApp

SIZE = (120, 40)


async def _save(path: Path, size: tuple[int, int]) -> None:
    app = FleetcalcApp.from_files([], None, cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        # The evaluation runs in two stages (main numbers, then breakevens and percentiles):
        # the second stage's worker starts when the first one's result is handled, so wait
        # until no worker is left running (a bounded number of rounds).
        for _ in range(20):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if not any(worker.is_running for worker in app.workers):
                break
        app.action_save_screenshot(str(path))
        await pilot.pause()


def save_compare_screenshot(path: str | Path, size: tuple[int, int] = SIZE) -> Path:
    """Save the compare screen of the default plans to ``path`` (SVG)."""
    target = Path(path).resolve()
    asyncio.run(_save(target, size))
    return target


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].endswith(".svg"):
        print("usage: python -m tui.screenshot OUT.svg", file=sys.stderr)
        return 2
    print(save_compare_screenshot(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
