"""First result with an empty Numba cache against the warm first result, in one run.

    PYTHONPATH=. python -m benchmarks.first_run [--warm-runs 3] [--cases library,compare,tui]

Each case is a fresh process timed from the parent (``time.perf_counter`` around
``subprocess.run``; its CPU seconds from ``RUSAGE_CHILDREN``): once with ``NUMBA_CACHE_DIR`` a
new empty folder (every kernel the case needs compiles), then ``--warm-runs`` times with a
folder the cold run filled (the median is reported). The ratio cold / warm is the figure issue
16 bounds (<= 3x). Cases:

- ``library``: ``python -c "import fleetcalc; fleetcalc.evaluate()"`` (the default plans and
  scenario, breakevens included);
- ``compare``: ``fleetcalc compare`` (the same through the command line, its table printed;
  run as ``tui.cli.main(["compare"])``, the console script's function);
- ``tui``: the app headless at 120x40 (``python -m benchmarks.first_run --tui-child``) until
  its first numbers (the main evaluation's ``EvaluationFinished``) arrive.

With an empty cache a small workload's kernels run as plain Python while a background
process compiles them into the cache (``fleetcalc.compile_ahead.tier_for``): each cold run is
followed by a wait until that process is done (``FLEETCALC_COMPILE_LOCK``), so the warm runs
are warm; the line ``background`` gives its seconds after the cold run ended and its CPU
seconds (not in the cold run's). ``--compile-in-process`` sets ``FLEETCALC_COMPILE_AHEAD=0``:
every kernel compiles in the process that needs it, as before the first tier.

It also lists which jitted functions compiled in a cold ``library`` run compiling in process
(Numba's ``numba:compile`` events; nested calls indented), so a kernel the default path does
not need shows up.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "library": [sys.executable, "-c", "import fleetcalc; fleetcalc.evaluate()"],
    "compare": [sys.executable, "-c",
                "import sys; from tui.cli import main; sys.exit(main(['compare']))"],
    "tui": [sys.executable, "-m", "benchmarks.first_run", "--tui-child"],
}

# Run in the cold ``library`` process: prints each compile (depth, name, seconds) as it ends.
_COMPILE_LOG = """
import sys, time
from numba.core import event

class Log(event.Listener):
    def __init__(self):
        self.open = []
    def on_start(self, ev):
        self.open.append(time.perf_counter())
    def on_end(self, ev):
        start = self.open.pop()
        func = ev.data["dispatcher"].py_func
        name = f"{func.__module__}.{func.__qualname__}"
        print(f"{len(self.open)}\\t{name}\\t{time.perf_counter() - start:.3f}", file=sys.stderr)

event.register("numba:compile", Log())
import fleetcalc
fleetcalc.evaluate()
"""


# Extra environment of every timed run (``--compile-in-process``).
RUN_ENV: dict[str, str] = {}


def _run(command: list[str], cache_dir: str, **env_vars: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of one process with this Numba cache folder, and its stderr."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT), **RUN_ENV,
           **env_vars}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr


def measure(case: str, warm_runs: int) -> dict[str, float]:
    """One cold run, the wait for its background compiles, then ``warm_runs`` runs on the
    cache they filled."""
    with tempfile.TemporaryDirectory(prefix="fleetcalc-numba-") as cache_dir:
        lock = Path(cache_dir) / "background.lock"
        cold_wall, cold_cpu, _ = _run(CASES[case], cache_dir, FLEETCALC_COMPILE_LOCK=str(lock))
        start = time.perf_counter()
        background_cpu = 0.0
        if lock.exists():
            with lock.open() as held:
                fcntl.flock(held, fcntl.LOCK_EX)  # free once the background process ended
                background_cpu = float(held.read() or 0.0)
        background_wall = time.perf_counter() - start if lock.exists() else 0.0
        warm = [_run(CASES[case], cache_dir)[:2] for _ in range(warm_runs)]
    warm_wall = statistics.median(w for w, _ in warm)
    warm_cpu = statistics.median(c for _, c in warm)
    return {"cold_s": cold_wall, "cold_cpu_s": cold_cpu, "warm_s": warm_wall,
            "warm_cpu_s": warm_cpu, "ratio": cold_wall / warm_wall,
            "background_s": background_wall, "background_cpu_s": background_cpu}


def compiled_functions() -> list[tuple[int, str, float]]:
    """(depth, qualified name, seconds) of every compile in a cold ``library`` run."""
    with tempfile.TemporaryDirectory(prefix="fleetcalc-numba-") as cache_dir:
        # Every compile in this one process (no helper: fleetcalc.compile_ahead).
        _, _, log = _run([sys.executable, "-c", _COMPILE_LOG], cache_dir,
                         FLEETCALC_COMPILE_AHEAD="0")
    rows = []
    for line in log.splitlines():
        depth, name, seconds = line.split("\t")
        rows.append((int(depth), name, float(seconds)))
    return rows


async def _tui_first_numbers() -> None:
    """The app headless until the first numbers reach it (the ``tui`` case's process)."""
    from textual.message import Message

    from tui.app import FleetcalcApp

    app = FleetcalcApp.from_files([], None, cursor_blink=False)
    arrived = asyncio.Event()

    def hook(message: Message) -> None:
        if isinstance(message, FleetcalcApp.EvaluationFinished):
            arrived.set()

    async with app.run_test(size=(120, 40), message_hook=hook):
        await arrived.wait()
        app.exit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--no-compile-list", action="store_true")
    parser.add_argument("--compile-in-process", action="store_true",
                        help="FLEETCALC_COMPILE_AHEAD=0: no first tier, no helper process")
    parser.add_argument("--tui-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tui_child:
        asyncio.run(_tui_first_numbers())
        return
    if args.compile_in_process:
        RUN_ENV["FLEETCALC_COMPILE_AHEAD"] = "0"
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    if not args.no_compile_list:
        rows = compiled_functions()
        print("compiled with an empty cache (library case; nested calls indented):")
        for depth, name, seconds in rows:
            if name.startswith("kernels."):  # NumPy's and Numba's own are counted below
                print(f"  {'  ' * depth}{name:<44} {seconds:6.2f} s")
        print(f"  {len(rows)} compiles (NumPy and builtin implementations included)")
    for case in args.cases.split(","):
        r = measure(case, args.warm_runs)
        print(f"{case:8} cold {r['cold_s']:6.2f} s ({r['cold_cpu_s']:5.2f} s CPU)  "
              f"warm {r['warm_s']:5.2f} s ({r['warm_cpu_s']:4.2f} s CPU)  "
              f"ratio {r['ratio']:4.1f}x  (CPU {r['cold_cpu_s'] / r['warm_cpu_s']:4.1f}x)")
        if r["background_s"]:
            print(f"{'':8} background compile {r['background_s']:5.1f} s more "
                  f"({r['background_cpu_s']:5.2f} s CPU)")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
