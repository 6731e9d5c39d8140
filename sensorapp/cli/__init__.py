"""Command line: ``sensorapp`` opens the GUI; subcommands work headless.

Every subcommand module exposes ``register(subparsers)`` (which sets
``func``) and returns an exit code. Errors meant for users are printed as one
line by ``fail`` with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NoReturn

from sensorapp import __version__
from sensorapp.storage.paths import DATA_DIR_ENV

STORE_ENV = "SENSORAPP_STORE"  # sensorapp.storage.engines.STORE_ENV (not imported here: it would load the store)

# Subcommand modules, in help order. Imported lazily so `sensorapp scan` never loads Qt.
SUBCOMMANDS: tuple[str, ...] = (
    "scan",
    "record",
    "calibrate",
    "analyze",
    "sessions",
    "patients",
    "prescribe",
    "advice",
    "export",
    "report",
    "import_bundle",
    "store",
)


# Every exit code the command line uses (README "Exit codes"; tests/cli/test_cli_conventions.py checks both).
EXIT_OK = 0
EXIT_FAILURE = 1  # a device, file or store error: the one line on stderr says which
EXIT_USAGE = 2  # bad arguments or an option combination that cannot work
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away, as in `sensorapp analyze --json x.csv | head` (128 + SIGPIPE)
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILURE: "a device, file or store error (one line on stderr says what)",
    EXIT_USAGE: "bad arguments (one line on stderr, with the usage)",
    EXIT_INTERRUPTED: "interrupted with Ctrl-C",
    EXIT_BROKEN_PIPE: "the output pipe was closed early (e.g. by `head`); nothing is printed",
}


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


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def given_options(args: argparse.Namespace, option_keys: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The options given on the command line (not None), under their keyword names: ``(option, key)`` pairs."""
    return {key: getattr(args, option) for option, key in option_keys if getattr(args, option) is not None}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sensorapp",
        description="Companion app for the GMBelt ankle load cell: guided isometric gluteus medius holds.",
        epilog="Run without a command to open the app window.",
    )
    parser.add_argument("--version", action="version", version=f"sensorapp {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    from . import gui_options
    from .sessions import add_data_dir_argument

    add_data_dir_argument(parser, top_level=True)

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
    saved = {name: os.environ.get(name) for name in (DATA_DIR_ENV, STORE_ENV)}
    given = {DATA_DIR_ENV: args.data_dir, STORE_ENV: getattr(args, "store", None)}
    for name, value in given.items():
        if value is not None:
            # One place decides where the store is: the window and every command read it like the user's own setting.
            os.environ[name] = str(value)
    func = getattr(args, "func", None)
    try:
        try:
            if func is None:
                from . import gui_options

                return gui_options.run(args)
            return int(func(args))
        finally:
            for name, value in given.items():  # leave the caller's environment as it was (main() also runs in-process)
                if value is None:
                    continue
                if saved[name] is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = str(saved[name])
            sys.stdout.flush()  # a closed pipe shows here, inside the handler below, not at interpreter exit
    except CliError as exc:
        print(f"sensorapp: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("sensorapp: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
