"""Batch progress on stderr: a rich progress bar on a terminal, a log line every few seconds
otherwise (a pipe, a CI log), or nothing with ``--quiet``."""

from __future__ import annotations

import sys
import time
from typing import Any

LOG_EVERY_S = 5.0


class Progress:
    """A rich progress bar on a terminal, a log line every few seconds otherwise, or nothing."""

    def __init__(self, total: int, done: int, n_variants: int, quiet: bool) -> None:
        self.total, self.done, self.n_variants = total, done, n_variants
        self.started_done = done
        self.start_s = time.monotonic()
        self.last_log_s = self.start_s
        self.mode = "none" if quiet else ("bar" if sys.stderr.isatty() else "log")
        self._bar: Any = None
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                TimeRemainingColumn(), console=Console(stderr=True),
            )
            self._bar.start()
            self._task = self._bar.add_task("batch", total=total, completed=done, rate="")
        elif self.mode == "log" and done:
            print(f"fleetcalc batch: resuming, {done}/{total} units already checkpointed",
                  file=sys.stderr, flush=True)

    def _plans_per_s(self) -> float:
        elapsed_s = max(time.monotonic() - self.start_s, 1e-9)
        return (self.done - self.started_done) / elapsed_s / self.n_variants

    def _log(self) -> None:
        rate = self._plans_per_s()
        left = self.total - self.done
        eta = f"{left / (rate * self.n_variants):,.0f} s" if rate > 0 else "unknown"
        print(f"fleetcalc batch: {self.done}/{self.total} units (plan x variant), "
              f"{rate:.2f} plans/s, ETA {eta}", file=sys.stderr, flush=True)

    def advance(self) -> None:
        self.done += 1
        if self.mode == "bar":
            self._bar.update(self._task, advance=1, rate=f"{self._plans_per_s():.2f} plans/s")
        elif self.mode == "log":
            now = time.monotonic()
            if now - self.last_log_s >= LOG_EVERY_S or self.done == self.total:
                self.last_log_s = now
                self._log()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

