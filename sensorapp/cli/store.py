"""`sensorapp store info` and `sensorapp store copy --from URL --to URL`: what a store holds, and moving it."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sensorapp.storage.errors import StorageError

from .sessions import add_data_dir_argument, open_store_from_args

URL_FORMS = "postgresql://user@host/db (password from PGPASSWORD or ~/.pgpass), sqlite:///path/to/sensorapp.db or a folder"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "store",
        help="the session store: its engine, schema version and counts; copy it to another engine",
        description="Look at the session store, or copy one store into another (SQLite <-> PostgreSQL).",
    )
    actions = p.add_subparsers(dest="store_action", metavar="ACTION", required=True)
    info = actions.add_parser("info", help="engine, schema version and counts (password masked)")
    info.add_argument("--json", action="store_true", help="print JSON")
    add_data_dir_argument(info)
    info.set_defaults(func=run_info)
    copy = actions.add_parser(
        "copy",
        help="copy every patient, prescription, advice decision, session and sample into an empty store, and verify it",
        description=(
            "Copies everything, ids included, in one transaction, then checks every table row by row and every "
            f"session's samples by their SHA-256. The target must be empty. URL: {URL_FORMS}."
        ),
    )
    copy.add_argument("--from", dest="source", metavar="URL", required=True, help="the store to copy")
    copy.add_argument("--to", dest="target", metavar="URL", required=True, help="the empty store to fill")
    copy.add_argument("--json", action="store_true", help="print the result as JSON")
    copy.set_defaults(func=run_copy)


def run_info(args: argparse.Namespace) -> int:
    from sensorapp.storage.transfer import engine_label, store_info

    from . import fail

    store = open_store_from_args(args)
    try:
        info = store_info(store)
    except StorageError as exc:
        fail(str(exc))
    finally:
        store.close()
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
        return 0
    print(f"{engine_label(info.engine)} store {info.location}, schema version {info.schema_version}")
    for table, n in info.counts.items():
        print(f"  {table.replace('_', ' '):<17} {n}")
    print(f"  {'samples':<17} {info.samples}")
    if info.recording:
        print(f"  {info.recording} session(s) being recorded now")
    return 0


def run_copy(args: argparse.Namespace) -> int:
    from sensorapp.storage.engines import parse_store_url
    from sensorapp.storage.store import SessionStore
    from sensorapp.storage.transfer import copy_store

    from . import fail

    try:
        if parse_store_url(args.source) == parse_store_url(args.target):
            fail("--from and --to name the same store")
        source = SessionStore.open(getattr(args, "data_dir", None), store_url=args.source)
    except StorageError as exc:
        fail(str(exc))
    try:
        try:
            target = SessionStore.open(getattr(args, "data_dir", None), store_url=args.target)
        except StorageError as exc:
            fail(str(exc))
        try:
            result = copy_store(source, target)
        except StorageError as exc:
            fail(str(exc))
        finally:
            target.close()
        shown = (source.location.display, target.location.display)
    finally:
        source.close()
    if args.json:
        print(json.dumps({"from": shown[0], "to": shown[1], "counts": result.counts,
                          "sessions_verified": result.sessions_verified, "seconds": round(result.seconds, 3)}, indent=2))  # fmt: skip
        return 0
    counts = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in result.counts.items())
    print(f"copied {counts} from {shown[0]} to {shown[1]} in {result.seconds:.1f} s;"
          f" {result.sessions_verified} sessions verified by their samples' SHA-256")  # fmt: skip
    return 0
