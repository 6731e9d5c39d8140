"""`sensorapp analyze FILE.csv`: find the reps in a recording and score the session.

Reads the samples CSV (``time_s,force_n[,side]``, any rate from 10 to 1000 Hz,
irregular timestamps and gaps allowed), runs the same detector as the live
session (sensorapp.signal) and prints a table, or JSON with ``--json``.
Bad input prints one line to stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any

from sensorapp.signal import DetectorParams, SignalInputError, analyze, summarize
from sensorapp.signal.report import analysis_document, recording_info, render_text
from sensorapp.storage.samples_csv import SamplesCsvError, read_samples_csv

EXIT_BAD_INPUT = 1  # a missing or malformed file is a file error (README: Exit codes); bad options exit 2 via argparse


def _number(kind: str, minimum: float, maximum: float = math.inf) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and minimum < value <= maximum):
            raise argparse.ArgumentTypeError(f"{kind} must be more than {minimum:g}, got {text}")
        return value

    return parse


def register(subparsers: Any) -> None:
    """Add the ``analyze`` subcommand (``func=run``)."""
    p = subparsers.add_parser(
        "analyze",
        help="find the reps in a samples CSV and score holds and symmetry",
        description=(
            "Detect each contraction in a recording (time_s,force_n[,side]), time its hold against "
            "the target and score left/right symmetry. The same algorithm as the live session."
        ),
    )
    p.add_argument("file", metavar="FILE.csv", help="samples CSV: time_s,force_n[,side]")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--target-hold",
        type=_number("the target hold", 0.0, 600.0),
        default=DetectorParams().target_hold_s,
        metavar="S",
        help="hold target in seconds (default 6); a rep meets it at >= S - 0.5 s",
    )
    p.add_argument(
        "--side",
        choices=("left", "right"),
        help="the side of every rep (overrides the file's side column)",
    )
    p.add_argument(
        "--involved",
        choices=("left", "right"),
        help="the involved side: LSI = involved / uninvolved instead of weaker / stronger",
    )
    p.add_argument("--body-mass", type=_number("the body mass", 0.0), metavar="KG", help="adds N/kg and N m/kg")
    p.add_argument("--lever-arm", type=_number("the lever arm", 0.0, 3.0), metavar="M", help="hip to belt, m: adds torque")
    p.set_defaults(func=run)


def _error(message: str) -> int:
    print(f"sensorapp analyze: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run(args: argparse.Namespace) -> int:
    """Analyse ``args.file``; 0 on success, 1 for a missing or malformed file."""
    try:
        table = read_samples_csv(args.file)
    except SamplesCsvError as exc:
        return _error(str(exc))
    side = args.side if args.side else table.analysis_side()
    params = DetectorParams(target_hold_s=float(args.target_hold))
    try:
        result = analyze(table.t_s, table.force_n, side, params)
    except SignalInputError as exc:
        where = f"row {exc.sample_index + 2}: " if exc.sample_index is not None else ""
        return _error(f"{args.file}: {where}{exc}")
    summary = summarize(
        result.reps,
        target_hold_s=params.target_hold_s,
        involved_side=args.involved,
        body_mass_kg=args.body_mass,
        lever_arm_m=args.lever_arm,
        target_tolerance_s=params.target_tolerance_s,
    )
    info = recording_info(table.t_s)
    if args.json:
        json.dump(analysis_document(summary, result.rejections, info), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(summary, result.rejections, info, source=str(args.file)))
    return 0
