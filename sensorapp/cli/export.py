"""`sensorapp export SESSION_ID --format csv|json|bundle|fhir --out PATH`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sensorapp.storage.errors import StorageError

from .sessions import add_data_dir_argument, open_store_from_args


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a session: samples+reps CSV, JSON, a lossless bundle for the therapist, or FHIR R4",
        description=(
            "csv: the samples as time_s,force_n,side (what `analyze` reads) plus NAME.reps.csv next to it; "
            "json: the session with its reps and metrics; bundle: one zip with everything, checksummed, "
            "for `sensorapp import` on another computer; fhir: a FHIR R4 Bundle (collection) with the patient, "
            "the device, one Observation per side and the LSI, for a health record."
        ),
    )
    p.add_argument("session", metavar="SESSION_ID", help="the session's id (see `sensorapp sessions`) or UUID")
    p.add_argument("--format", choices=("csv", "json", "bundle", "fhir"), required=True)
    p.add_argument("--out", required=True, metavar="PATH", type=Path, help="the file to write (an existing file is kept unless --force)")
    p.add_argument("--force", action="store_true", help="replace existing files (atomically: a failed export leaves the old file)")
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sensorapp.storage.export import export_paths, export_session

    from . import fail

    existing = [p for p in export_paths(args.format, args.out) if p.exists()]
    if existing and not args.force:
        names = " and ".join(str(p) for p in existing)
        fail(f"{names} already exist{'s' if len(existing) == 1 else ''}; choose another --out or add --force to replace")
    store = open_store_from_args(args)
    try:
        try:
            record = store.find_session(args.session)
            written = export_session(store, record.id, args.format, args.out)
        except StorageError as exc:
            fail(str(exc))
    finally:
        store.close()
    for path in written:
        print(path)
    return 0
