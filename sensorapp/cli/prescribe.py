"""`sensorapp prescribe`: set a patient's prescription (the old one stays in the history), or show it."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from sensorapp.clinic.prescription import Prescription
from sensorapp.storage.errors import StorageError

from .sessions import add_data_dir_argument, open_store_from_args, resolve_patient_from_args


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def register(sub: Any) -> None:
    from . import iso_date

    p = sub.add_parser(
        "prescribe",
        help="set a patient's prescription: reps, hold, rest, first side, sessions a day, target band",
        description=(
            "Set the patient's prescription; options not given keep the current value (or the default: 7 reps, "
            "6 s hold, 10 s rest, left first, 3 a day). Without options, show the current one."
        ),
    )
    p.add_argument("patient", metavar="PATIENT", help="an id, an external id or a unique name")
    p.add_argument("--reps", type=whole_number, metavar="N", help="reps per side")
    p.add_argument("--hold", type=number, metavar="S", help="hold, seconds")
    p.add_argument("--rest", type=number, metavar="S", help="rest between reps, seconds")
    p.add_argument("--first-side", choices=("left", "right"), help="the side done first")
    p.add_argument("--sessions-per-day", type=whole_number, metavar="N", help="sessions a day")
    band = p.add_mutually_exclusive_group()
    band.add_argument("--target-percent", type=number, nargs=2, metavar=("LO", "HI"), help="target band, % of the patient's best")
    band.add_argument("--target-newtons", type=number, nargs=2, metavar=("LO", "HI"), help="target band in N")
    band.add_argument("--no-target", action="store_true", help="no target band")
    p.add_argument("--start", type=iso_date, metavar="DATE", help="start date, YYYY-MM-DD")
    p.add_argument("--history", action="store_true", help="list every prescription the patient had, oldest first")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    from . import given_options

    changes = given_options(
        args,
        (
            ("reps", "reps_per_side"),
            ("hold", "hold_s"),
            ("rest", "rest_s"),
            ("first_side", "first_side"),
            ("sessions_per_day", "sessions_per_day"),
            ("start", "start_date"),
        ),
    )
    if args.target_percent is not None:
        changes.update(target_kind="percent_of_best", target_low=args.target_percent[0], target_high=args.target_percent[1])
    elif args.target_newtons is not None:
        changes.update(target_kind="absolute_n", target_low=args.target_newtons[0], target_high=args.target_newtons[1])
    elif args.no_target:
        changes.update(target_kind=None, target_low=None, target_high=None)
    return changes


def describe(prescription: Prescription) -> str:
    when = "" if prescription.created_at is None else f" (set {prescription.created_at.astimezone().strftime('%Y-%m-%d %H:%M')})"
    return prescription.describe() + when


def run(args: argparse.Namespace) -> int:
    from . import EXIT_USAGE, fail

    changes = _changes(args)
    if args.history and changes:
        fail("--history only lists; give the new values without it", EXIT_USAGE)
    store = open_store_from_args(args)
    try:
        patient = resolve_patient_from_args(store, args.patient)
        if args.history:
            history = store.prescription_history(patient.id)
            if args.json:
                print(json.dumps([{"patient_id": patient.id, **p.to_dict()} for p in history], indent=2, allow_nan=False))
            elif not history:
                print(f"patient {patient.id} ({patient.name}) has no prescription yet")
            else:
                for n, p in enumerate(history, 1):
                    print(f"{n}. {describe(p)}" + ("  <- current" if n == len(history) else ""))
            return 0
        current = store.prescription(patient.id)
        if changes:
            base = current if current is not None else Prescription()
            try:
                new = dataclasses.replace(base, uuid=None, created_at=None, **changes)
                current = store.set_prescription(patient.id, new)
            except ValueError as exc:
                fail(str(exc), EXIT_USAGE)
            except StorageError as exc:
                fail(str(exc))
        if args.json:
            print(json.dumps(None if current is None else {"patient_id": patient.id, **current.to_dict()}, indent=2))
        elif current is None:
            print(f"patient {patient.id} ({patient.name}) has no prescription yet; set one with --reps, --hold, ...")
        else:
            print(f"patient {patient.id} ({patient.name}): {describe(current)}")
        return 0
    finally:
        store.close()
