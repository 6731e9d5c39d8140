"""Command line: ``sensorapp`` opens the GUI; subcommands work headless.

Every subcommand module exposes ``register(subparsers)`` (which sets
``func``) and returns an exit code. Errors meant for users are printed as one
line by ``fail`` with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from sensorapp import __version__

# Subcommand modules, in help order. Imported lazily so `sensorapp scan` never loads Qt.
SUBCOMMANDS: tuple[str, ...] = ("scan", "record", "analyze", "sessions", "export", "import_bundle")


class CliError(Exception):
    """A user-facing error: printed as one line, exit code in ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1) -> NoReturn:
    raise CliError(message, code)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sensorapp",
        description="Companion app for the GMBelt ankle load cell: guided isometric gluteus medius holds.",
        epilog="Run without a command to open the app window.",
    )
    parser.add_argument("--version", action="version", version=f"sensorapp {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    from . import gui_options

    gui_options.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    func = getattr(args, "func", None)
    try:
        if func is None:
            from . import gui_options

            return gui_options.run(args)
        return int(func(args))
    except CliError as exc:
        print(f"sensorapp: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("sensorapp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
