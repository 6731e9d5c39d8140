"""`sensorapp import BUNDLE`: add a session bundle to this store (once, however often it is imported)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sensorapp.storage.errors import StorageError

from .sessions import add_data_dir_argument, open_store_from_args


def register(sub: Any) -> None:
    p = sub.add_parser(
        "import",
        help="import a session bundle made by `sensorapp export --format bundle`",
        description=(
            "Checks the bundle (manifest, checksums, and every field and sample as untrusted input: a bundle is "
            "not signed) and adds its session; a bundle already imported is not added twice, and a damaged or "
            "malformed one is refused in one line without writing anything."
        ),
    )
    p.add_argument("bundle", metavar="BUNDLE", type=Path)
    p.add_argument(
        "--patient", metavar="REF",
        help="file the session under this existing patient (an id, an external id or a name) instead of the bundle's",
    )
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sensorapp.storage.bundle import import_bundle

    from . import fail

    store = open_store_from_args(args)
    try:
        try:
            patient_id = store.resolve_patient(args.patient).id if args.patient else None
            result = import_bundle(store, args.bundle, patient_id=patient_id)
        except StorageError as exc:
            fail(str(exc))
    finally:
        store.close()
    print(result.message)
    return 0
