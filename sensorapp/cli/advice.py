"""`sensorapp advice PATIENT [--accept | --dismiss] [--json]`: pending progression advice and its decision.

Without an option it shows the patient's flags, the advice if one is pending (with what it
suggests) and every criterion of the progression rule with the figures it was judged on.
``--accept`` / ``--dismiss`` record the therapist's decision on the pending advice; the
prescription stays as it is (``sensorapp prescribe`` changes it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sensorapp.storage.errors import StorageError

from .sessions import add_data_dir_argument, open_store_from_args, resolve_patient_from_args


def add_thresholds_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--thresholds",
        metavar="FILE",
        type=Path,
        help="a JSON file of flag and advice thresholds to use instead of the store's "
        "(default: clinic-thresholds.json in the data folder if present, else the shipped values)",
    )


def thresholds_from_args(args: argparse.Namespace, store: Any) -> Any:
    """The thresholds the command uses; a bad file becomes a one-line CLI error."""
    from sensorapp.clinic.thresholds import ThresholdsError, load_thresholds, thresholds_for_data_dir

    from . import fail

    try:
        if getattr(args, "thresholds", None) is not None:
            return load_thresholds(args.thresholds)
        return thresholds_for_data_dir(store.data_dir)
    except ThresholdsError as exc:
        fail(str(exc))


def register(sub: Any) -> None:
    p = sub.add_parser(
        "advice",
        help="a patient's flags and pending progression advice; --accept or --dismiss records the decision",
        description="Show a patient's flags and progression advice (with the figures behind them), "
        "or record the therapist's decision on the pending advice. The prescription is never changed.",
    )
    p.add_argument("patient", metavar="PATIENT", help="the patient's id, external id (record number) or unique name")
    decision = p.add_mutually_exclusive_group()
    decision.add_argument("--accept", action="store_true", help="record that the pending advice was accepted")
    decision.add_argument("--dismiss", action="store_true", help="record that the pending advice was dismissed")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_thresholds_argument(p)
    add_data_dir_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sensorapp.clinic.overview import NoPendingAdviceError, decide_advice, patient_overview

    from . import fail

    store = open_store_from_args(args)
    try:
        patient = resolve_patient_from_args(store, args.patient)
        thresholds = thresholds_from_args(args, store)
        recorded: dict[str, Any] | None = None
        if args.accept or args.dismiss:
            decision = "accepted" if args.accept else "dismissed"
            try:
                decision_id, advice = decide_advice(store, patient, decision, thresholds=thresholds)
            except NoPendingAdviceError as exc:
                fail(str(exc))
            except StorageError as exc:
                fail(str(exc))
            recorded = {"id": decision_id, "decision": decision, "rule_id": advice.rule_id, "advice": advice.text}
        overview = patient_overview(store, patient, thresholds=thresholds)
        if args.json:
            out = overview.detail_dict()
            out["recorded"] = recorded
            print(json.dumps(out, indent=2, allow_nan=False))
        else:
            if recorded is not None:
                print(
                    f"{recorded['decision']} (decision {recorded['id']}): {recorded['advice']}\n"
                    "the prescription is unchanged; change it with `sensorapp prescribe` if you want to"
                )
            print(format_overview(overview))
        return 0
    finally:
        store.close()


def format_overview(overview: Any) -> str:
    p = overview.patient
    ident = f"{p.name} (id {p.id}" + (f", record {p.external_id}" if p.external_id else "") + ")"
    lines = [ident]
    if overview.flags:
        lines.append("flags:")
        lines.extend(f"  [{f.severity}] {f.text}" for f in overview.flags)
    else:
        lines.append("flags: none")
    if overview.advice is not None:
        lines.append("advice pending: move on to harder hip exercises")
        lines.extend(f"  - {s}" for s in overview.advice.suggestions)
        lines.append(f"  decide with: sensorapp advice {p.id} --accept | --dismiss")
    elif overview.progression is not None and overview.progression.fires:
        last = overview.decisions[-1] if overview.decisions else None
        when = "" if last is None else f" ({last.decision} {last.decided_at.astimezone().strftime('%Y-%m-%d %H:%M')})"
        lines.append(f"advice: decided on these sessions{when}; shown again when newer sessions meet the rule")
    else:
        lines.append("advice: none (the progression rule does not fire)")
    if overview.progression is not None:
        lines.append("progression rule:")
        width = max(len(c.name) for c in overview.progression.criteria)
        lines.extend(
            f"  {c.name.ljust(width)}  {'met' if c.met else 'not met':7}  {c.detail}" for c in overview.progression.criteria
        )
    return "\n".join(lines)
