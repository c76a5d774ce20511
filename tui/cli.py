"""The ``fleetcalc`` console script: the TUI by default, every other subcommand in fleetcalc.cli.

It lives in ``tui`` because opening the app imports Textual, which ``fleetcalc`` never does;
everything else is handed to :func:`fleetcalc.cli.main` without importing Textual at all.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from fleetcalc.cli import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK
from fleetcalc.cli import main as cli_main
from fleetcalc.errors import InputError


def run_tui(argv: Sequence[str]) -> int:
    """Open the app on the given plans (default: the built-in four) and scenario."""
    import argparse

    parser = argparse.ArgumentParser(prog="fleetcalc tui")
    parser.add_argument("plans", nargs="*", help="plan TOML files (default: the built-in four)")
    parser.add_argument("--scenario", help="scenario TOML (default: built-in)")
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:
        return EXIT_OK if exit_.code in (0, None) else EXIT_BAD_INPUT
    try:
        from tui.app import FleetcalcApp

        app = FleetcalcApp.from_files(args.plans, args.scenario)
    except InputError as error:
        print(f"fleetcalc: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    app.run()
    return app.return_code or EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] == "tui":
        return run_tui(args[1:])
    if args[0].startswith("-") and args[0] not in ("-h", "--help"):
        return run_tui(args)
    return cli_main(args)


def entry_point() -> None:
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["EXIT_INTERNAL", "entry_point", "main"]
