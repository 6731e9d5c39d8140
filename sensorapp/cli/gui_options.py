"""Options of the bare `sensorapp` command, which opens the app window."""

from __future__ import annotations

import argparse
import importlib.util


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from . import positive_float

    g = parser.add_argument_group("app window")
    g.add_argument("--simulate", action="store_true", help="connect the simulated belt at start; a virtual patient does the exercise")
    g.add_argument("--speed", type=positive_float, default=1.0, metavar="X", help="run the simulated belt X times faster than real time")
    g.add_argument("--seed", type=int, default=1, help="seed of the simulated patient (default 1)")
    g.add_argument("--exit-after", type=positive_float, metavar="S", help="quit cleanly after S seconds")
    g.add_argument("--screenshot", metavar="PATH.png", help="save the main window as a PNG just before exit")


def run(args: argparse.Namespace) -> int:
    from . import fail

    if importlib.util.find_spec("sensorapp.ui.app") is not None:
        from sensorapp.ui.app import run_app

        return run_app(args)
    # Until the window exists, the bare command records the simulated belt headless.
    if not args.simulate:
        fail("the app window is not built yet; use `sensorapp --simulate` or `sensorapp record --help`", 2)
    from . import main

    argv = ["record", "--simulate", "--speed", str(args.speed), "--seed", str(args.seed), "--out", "recording.csv"]
    if args.exit_after:
        argv += ["--duration", str(args.exit_after * args.speed)]
    return main(argv)
