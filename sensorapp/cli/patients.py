"""`sensorapp patients`: the caseload (list, add, edit) with each patient's last session, flags and advice."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sensorapp.storage.errors import StorageError
from sensorapp.storage.records import SEXES, Patient

from .sessions import add_data_dir_argument, open_store_from_args

INVOLVED_CHOICES = ("left", "right", "none")


def birth_year(text: str) -> int:
    this_year = datetime.now(UTC).year
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year") from None
    if not 1900 <= value <= this_year:
        raise argparse.ArgumentTypeError(f"{value} is outside 1900..{this_year}")
    return value


def _add_detail_options(p: argparse.ArgumentParser, *, name_required: bool) -> None:
    from . import positive_float

    p.add_argument("--name", required=name_required, metavar="N", help="name or pseudonym")
    p.add_argument("--external-id", metavar="X", help="the clinic's record number (unique; '' clears it)")
    p.add_argument("--involved", choices=INVOLVED_CHOICES, help="the involved (weaker, operated) side, or none")
    p.add_argument("--body-mass", type=positive_float, metavar="KG", help="body mass in kg (force per kg)")
    p.add_argument("--lever-arm", type=positive_float, metavar="M", help="hip to belt in m (torque)")
    p.add_argument("--birth-year", type=birth_year, metavar="Y", help="year of birth")
    p.add_argument("--sex", choices=SEXES, help="sex (optional)")
    p.add_argument("--notes", metavar="TEXT", help="free-text notes")
    p.add_argument("--json", action="store_true", help="print the patient as JSON")
    add_data_dir_argument(p)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "patients",
        help="the caseload: id, name, external id, involved side, last session (add, edit)",
        description="List the patients (archived ones with --all), or add or edit one.",
    )
    p.add_argument("--json", action="store_true", help="print JSON: one object per patient, with flags and advice")
    p.add_argument("--all", action="store_true", help="include archived patients")
    add_data_dir_argument(p)
    p.set_defaults(func=run_list)
    actions = p.add_subparsers(dest="patients_action", metavar="ACTION")
    add = actions.add_parser("add", help="add a patient", description="Add a patient to the store.")
    _add_detail_options(add, name_required=True)
    add.set_defaults(func=run_add)
    edit = actions.add_parser("edit", help="change a patient's details", description="Change some of a patient's details.")
    edit.add_argument("patient", metavar="ID", help="the patient: an id, an external id or a unique name")
    _add_detail_options(edit, name_required=False)
    archive = edit.add_mutually_exclusive_group()
    archive.add_argument("--archive", dest="archived", action="store_const", const=True, help="hide the patient from the list")
    archive.add_argument("--unarchive", dest="archived", action="store_const", const=False, help="show an archived patient again")
    edit.set_defaults(func=run_edit, archived=None)


def _flags_and_advice(
    store: Any, patient: Patient, today: date, thresholds: Any = None
) -> tuple[list[str], str | None]:
    """The patient's flags (short texts) and pending advice (its text) from ``clinic.overview.patient_overview``."""
    from sensorapp.clinic.overview import patient_overview

    overview = patient_overview(store, patient, today=today, thresholds=thresholds or _store_thresholds(store))
    return [f.text for f in overview.flags], None if overview.advice is None else overview.advice.text


def _store_thresholds(store: Any) -> Any:
    """The store's flag and advice thresholds; a bad clinic-thresholds.json is a one-line error."""
    from sensorapp.clinic.thresholds import ThresholdsError, thresholds_for_data_dir

    from . import fail

    try:
        return thresholds_for_data_dir(store.data_dir)
    except ThresholdsError as exc:
        fail(str(exc))


def patient_entry(store: Any, patient: Patient, today: date, thresholds: Any = None) -> dict[str, Any]:
    """The ``patients --json`` object: the patient's details, current prescription, last session, flags, advice."""
    last = store.last_session(patient.id)
    prescription = store.prescription(patient.id)
    flags, advice = _flags_and_advice(store, patient, today, thresholds)
    return {
        **patient.to_dict(),
        "last_session": None
        if last is None
        else {"id": last.id, "started_at": last.started_at.isoformat(), "state": last.state, "symmetry": last.symmetry},
        "prescription": None if prescription is None else prescription.to_dict(),
        "flags": flags,
        "advice": advice,
    }


def format_patients(store: Any, patients: list[Patient], today: date | None = None, thresholds: Any = None) -> str:
    today = today or datetime.now(UTC).astimezone().date()
    thresholds = thresholds or _store_thresholds(store)
    rows = [("id", "name", "external id", "involved", "last session", "flags", "advice", "")]
    pending = []
    for p in patients:
        last = store.last_session(p.id)
        flags, advice = _flags_and_advice(store, p, today, thresholds)
        if advice is not None:
            pending.append(str(p.id))
        rows.append(
            (
                str(p.id),
                p.name,
                p.external_id or "-",
                p.involved_side or "none",
                "-" if last is None else f"{last.started_at.astimezone().strftime('%Y-%m-%d %H:%M')} (#{last.id})",
                "; ".join(flags) or "-",
                "ready to progress" if advice is not None else "-",
                "archived" if p.archived else "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)
    if pending:
        table += f"\nadvice pending for patient(s) {', '.join(pending)}: see `sensorapp advice ID`"
    return table


def describe_patient(patient: Patient) -> str:
    details = [
        f"external id {patient.external_id}" if patient.external_id else None,
        f"involved {patient.involved_side}" if patient.involved_side else "no involved side",
        f"born {patient.birth_year}" if patient.birth_year else None,
        patient.sex,
        f"{patient.body_mass_kg:g} kg" if patient.body_mass_kg else None,
        f"lever arm {patient.lever_arm_m:g} m" if patient.lever_arm_m else None,
        "archived" if patient.archived else None,
    ]
    return f"patient {patient.id}: {patient.name} (" + ", ".join(d for d in details if d) + ")"


def run_list(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    try:
        patients = store.patients(include_archived=args.all)
        today = datetime.now(UTC).astimezone().date()
        thresholds = _store_thresholds(store)
        if args.json:
            print(json.dumps([patient_entry(store, p, today, thresholds) for p in patients], indent=2, allow_nan=False))
        elif not patients:
            print(f"no patients in {store.location.display}" + ("" if args.all else " (archived ones: --all)"))
        else:
            print(format_patients(store, patients, today, thresholds))
        return 0
    finally:
        store.close()


def _detail_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The details given on the command line, as store keyword arguments (absent options are left out)."""
    from . import given_options

    given = given_options(
        args,
        (
            ("name", "name"),
            ("external_id", "external_id"),
            ("body_mass", "body_mass_kg"),
            ("lever_arm", "lever_arm_m"),
            ("birth_year", "birth_year"),
            ("sex", "sex"),
            ("notes", "notes"),
        ),
    )
    if args.involved is not None:
        given["involved_side"] = None if args.involved == "none" else args.involved
    return given


def _save_and_print(store: Any, save: Callable[[], Patient], as_json: bool) -> int:
    """Runs ``save`` (an add or an update) and prints the saved patient; a rejected value or a store error is one line."""
    from . import EXIT_USAGE, fail

    try:
        patient = save()
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    except StorageError as exc:
        fail(str(exc))
    _print_patient(store, patient, as_json)
    return 0


def _print_patient(store: Any, patient: Patient, as_json: bool) -> None:
    if as_json:
        today = datetime.now(UTC).astimezone().date()
        print(json.dumps(patient_entry(store, patient, today), indent=2, allow_nan=False))
    else:
        print(describe_patient(patient))


def run_add(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    try:
        kwargs = _detail_kwargs(args)
        return _save_and_print(store, lambda: store.add_patient(kwargs.pop("name"), **kwargs), args.json)
    finally:
        store.close()


def run_edit(args: argparse.Namespace) -> int:
    from . import EXIT_USAGE, fail

    store = open_store_from_args(args)
    try:
        kwargs = _detail_kwargs(args)
        if args.archived is not None:
            kwargs["archived"] = args.archived
        if not kwargs:
            fail("nothing to change: give at least one of the options (see sensorapp patients edit --help)", EXIT_USAGE)
        return _save_and_print(
            store, lambda: store.update_patient(store.resolve_patient(args.patient).id, **kwargs), args.json
        )
    finally:
        store.close()
