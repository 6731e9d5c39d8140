"""Options of the bare `sensorapp` command, which opens the app window."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from . import positive_float

    g = parser.add_argument_group("app window")
    g.add_argument("--simulate", action="store_true", help="connect the simulated belt at start; a virtual patient does the exercise")
    g.add_argument("--speed", type=positive_float, default=1.0, metavar="X", help="run the simulated belt X times faster than real time")
    g.add_argument("--seed", type=int, default=1, help="seed of the simulated patient (default 1)")
    g.add_argument("--exit-after", type=positive_float, metavar="S", help="quit cleanly after S seconds")
    g.add_argument("--screenshot", metavar="PATH.png", help="save the main window as a PNG just before exit")


def run(args: argparse.Namespace) -> int:
    from sensorapp.ui.app import run_app  # only now: other commands never load Qt

    return run_app(args)
