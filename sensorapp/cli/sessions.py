"""`sensorapp sessions`: the sessions in the store, one line each (or JSON), and adherence."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sensorapp.storage.errors import StorageError
from sensorapp.storage.records import SIDES

DATA_DIR_HELP = "the folder of the session store (default: $SENSORAPP_DATA_DIR, else the platform's data folder)"
STORE_HELP = (
    "the session store's database instead: postgresql://[user[:password]@]host/db[?sslmode=...] (password also from"
    " PGPASSWORD or ~/.pgpass), sqlite:///path/to/sensorapp.db or a folder (default: $SENSORAPP_STORE, else SQLite in"
    " the data folder)"
)


def add_data_dir_argument(parser: argparse.ArgumentParser, *, top_level: bool = False, store: bool = True) -> None:
    """``--data-dir`` (and ``--store``): on the top-level parser (before the command) and on each store command (after it).

    Below the top level the default is SUPPRESS, so a subcommand that is not given the option keeps
    the value given before the command instead of resetting it to None.
    """
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        default=None if top_level else argparse.SUPPRESS,
        help=DATA_DIR_HELP,
    )
    if store:
        parser.add_argument(
            "--store", metavar="URL", default=None if top_level else argparse.SUPPRESS, help=STORE_HELP
        )


def open_store_from_args(args: argparse.Namespace) -> Any:
    """The SessionStore the arguments name; a StorageError becomes a one-line CLI error."""
    from sensorapp.storage.store import SessionStore

    from . import fail

    try:
        return SessionStore.open(getattr(args, "data_dir", None), store_url=getattr(args, "store", None))
    except StorageError as exc:
        fail(str(exc))


def resolve_patient_from_args(store: Any, ref: str) -> Any:
    """The patient ``ref`` names (an id, an external id or a unique name); an unknown or ambiguous one is a one-line CLI error."""
    from . import fail

    try:
        return store.resolve_patient(ref)
    except StorageError as exc:
        fail(str(exc))


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sessions",
        help="list recorded sessions: patient, start, per-side reps/plateau/hold, LSI, complete or not",
        description="List the sessions in the store, oldest first.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--patient", metavar="REF", help="only this patient's sessions (an id, an external id or a name)")
    p.add_argument(
        "--adherence",
        action="store_true",
        help="with --patient: sessions per day against the patient's prescription (2-3 a day without one) instead of the list",
    )
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from . import fail

    store = open_store_from_args(args)
    try:
        patient_id = None
        if args.patient is not None:
            patient_id = resolve_patient_from_args(store, args.patient).id
        elif args.adherence:
            fail("--adherence needs --patient REF", 2)
        for message in store.recovery_errors:
            print(f"sensorapp: warning: {message}", file=sys.stderr)
        if args.adherence:
            from sensorapp.storage.history import adherence, prescribed_per_day

            result = adherence(store, patient_id, prescribed_per_day=prescribed_per_day(store, patient_id))
            if args.json:
                print(json.dumps(result.to_dict(), indent=2))
            else:
                print(format_adherence(result))
            return 0
        records = store.sessions(patient_id)
        if args.json:
            print(json.dumps([r.to_dict() for r in records], indent=2, allow_nan=False))
        elif not records:
            print("no sessions" + (f" for {args.patient}" if args.patient else "") + f" in {store.location.display}")
        else:
            print(format_table(records))
        if store.recovered_session_ids:
            ids = ", ".join(str(i) for i in store.recovered_session_ids)
            print(f"recovered interrupted session(s) {ids}: kept as incomplete", file=sys.stderr)
        return 0
    finally:
        store.close()


def _side_cell(side: dict[str, Any] | None) -> str:
    if not side or not side.get("reps"):
        return "-"
    plateau = side.get("plateau_n")
    hold = side.get("mean_hold_s")
    return (
        f"{side['reps']} reps ({side.get('reps_target_met', 0)} met) "
        f"{'-' if plateau is None else f'{plateau:.1f}'} N {'-' if hold is None else f'{hold:.1f}'} s"
    )


def _lsi_cell(sym: dict[str, Any] | None) -> str:
    if not sym:
        return "-"
    text = f"{sym['lsi_pct']:.1f} % {sym.get('band', '')}, {sym.get('weaker_side', '?')} weaker"
    return text + (" (uncertain)" if sym.get("uncertain") else "")


def _pain_cell(before: int | None, after: int | None) -> str:
    """Pain before -> after on the 0-10 scale ("-" for a rating not given)."""
    if before is None and after is None:
        return "-"
    return f"{'-' if before is None else before}->{'-' if after is None else after}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def format_table(records: list[Any]) -> str:
    # Reps recorded before a side was chosen are kept under their own key; show them rather than hide them.
    other_sides = sorted({k for r in records for k in r.side_summaries() if k not in SIDES})
    rows = [("id", "patient", "started", "length", "left", "right", *(f"side {k}" for k in other_sides), "LSI", "pain", "state")]
    for r in records:
        sides = r.side_summaries()
        rows.append(
            (
                str(r.id),
                r.patient_name or "-",
                r.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                _duration(r.duration_s),
                _side_cell(sides.get("left")),
                _side_cell(sides.get("right")),
                *(_side_cell(sides.get(k)) for k in other_sides),
                _lsi_cell(r.symmetry),
                _pain_cell(r.pain_before, r.pain_after),
                r.state if r.state != "incomplete" else f"incomplete ({r.end_reason})",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def format_adherence(result: Any) -> str:
    low, high = result.prescribed_min, result.prescribed_max
    lines = [f"prescribed {low if low == high else f'{low}-{high}'} sessions a day"]
    for d in result.days:
        lines.append(f"{d.day.isoformat()}  {d.sessions} session(s)  {d.status}")
    frac = result.fraction_days_met
    mean = result.mean_sessions_per_day
    if frac is not None and mean is not None:
        judged = len(result.judged_days)
        lines.append(
            f"{round(frac * judged)} of {judged} day(s) met the prescription ({100 * frac:.0f} %), {mean:.1f} sessions a day on average"
        )
    return "\n".join(lines)
