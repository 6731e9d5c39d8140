"""`sensorapp report (SESSION_ID | --patient REF) [--from DATE] [--to DATE] [--paper a4|letter] --out FILE.pdf`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sensorapp.storage.errors import StorageError

from .sessions import add_data_dir_argument, open_store_from_args


def register(sub: Any) -> None:
    from . import iso_date

    p = sub.add_parser(
        "report",
        help="a PDF report for the therapist: one session, or a patient's progress over a period",
        description=(
            "Writes a PDF: the patient and prescription, a table of the sessions (reps, holds met, best-3 plateau per side "
            "in N, N/kg and N\u00b7m/kg, LSI with its interval, pain), plateau and LSI over time, the latest session's force "
            "with its reps, flags and advice, and where the data came from (belt, calibration, sample rate)."
        ),
    )
    p.add_argument("session", nargs="?", metavar="SESSION_ID", help="one session's id (see `sensorapp sessions`) or UUID")
    p.add_argument("--patient", metavar="REF", help="a patient's id, record number (external id) or name, instead of one session")
    p.add_argument("--from", dest="date_from", type=iso_date, metavar="DATE", help="with --patient: first day (YYYY-MM-DD, local time)")
    p.add_argument("--to", dest="date_to", type=iso_date, metavar="DATE", help="with --patient: last day, inclusive")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="page size (default a4)")
    p.add_argument("--out", required=True, metavar="FILE.pdf", type=Path, help="the PDF to write (an existing file is kept unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing file (atomically: a failure leaves the old one)")
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from . import EXIT_USAGE, fail

    if (args.session is None) == (args.patient is None):
        fail("give either SESSION_ID or --patient REF", EXIT_USAGE)
    if args.session is not None and (args.date_from or args.date_to):
        fail("--from and --to go with --patient (a session report covers its own day)", EXIT_USAGE)
    if args.out.is_dir():
        fail(f"{args.out} is a folder; give the PDF's file name, e.g. {args.out / 'report.pdf'}")
    if args.out.exists() and not args.force:
        fail(f"{args.out} already exists; choose another --out or add --force to replace it")
    from sensorapp.reporting import ReportError, build_patient_report, build_session_report

    store = open_store_from_args(args)
    try:
        try:
            if args.session is not None:
                report = build_session_report(store, args.session)
            else:
                patient = store.resolve_patient(args.patient)
                report = build_patient_report(store, patient, date_from=args.date_from, date_to=args.date_to)
        except (StorageError, ReportError) as exc:
            fail(str(exc))
    finally:
        store.close()
    # A PDF needs Qt's fonts, not a window: the offscreen platform works with or without a display
    # and cannot trip over missing X11 libraries (which would abort the process).
    saved_platform = os.environ.get("QT_QPA_PLATFORM")
    if not saved_platform:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        from sensorapp.ui.report_pdf import ReportRenderError, render_report_pdf

        try:
            rendered = render_report_pdf(report, args.out, paper=args.paper)
        except (ReportRenderError, StorageError) as exc:
            fail(str(exc))
    finally:
        if not saved_platform:
            os.environ.pop("QT_QPA_PLATFORM", None)
    n = len(report.rows)
    print(f"{args.out}: {rendered.pages} page{'s' if rendered.pages != 1 else ''}, {n} session{'s' if n != 1 else ''}")
    return 0
