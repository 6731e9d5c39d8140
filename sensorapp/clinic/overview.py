"""A patient at a glance: last session, flags and pending progression advice, from the store.

The patient list, ``sensorapp patients``, ``sensorapp advice`` and the report all take this, so
they say the same thing. The prescription in force decides the sessions a day and the first day
judged: its start date, or the day it was set when it has none (a patient is not judged against
a prescription before it existed). Accepting or dismissing advice is recorded in the store with
the basis it was shown on; the prescription is never changed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sensorapp.storage.history import local_day
from sensorapp.storage.records import AdviceDecision, Patient, SessionRecord
from sensorapp.storage.store import SessionStore

from .advice import Advice, PastDecision, ProgressionCheck, advice_of, check_progression, is_pending
from .facts import SessionFacts, facts_from_record
from .flags import Flag, evaluate_flags
from .prescription import Prescription
from .thresholds import Thresholds, thresholds_for_data_dir

DECISIONS: tuple[str, ...] = ("accepted", "dismissed")


class NoPendingAdviceError(ValueError):
    """Accept or dismiss was asked for a patient with no advice pending."""


@dataclass(frozen=True)
class PatientOverview:
    """What the therapist sees of one patient. ``advice`` is only pending advice (None otherwise)."""

    patient: Patient
    last_session: SessionRecord | None
    flags: list[Flag]
    advice: Advice | None
    prescription: Prescription | None = None
    progression: ProgressionCheck | None = field(default=None, compare=False)  # every criterion, also unmet
    decisions: list[AdviceDecision] = field(default_factory=list, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The ``patients --json`` fields this module owns: flags as short strings, advice as a string."""
        return {
            "last_session": None if self.last_session is None else self.last_session.started_at.isoformat(),
            "flags": [f.text for f in self.flags],
            "advice": None if self.advice is None else self.advice.text,
        }

    def detail_dict(self) -> dict[str, Any]:
        """Everything, with the figures behind each flag and criterion (``advice --json``)."""
        return {
            "patient": {"id": self.patient.id, "name": self.patient.name, "external_id": self.patient.external_id},
            "last_session_id": None if self.last_session is None else self.last_session.id,
            "flags": [f.to_dict() for f in self.flags],
            "advice": None if self.advice is None else self.advice.to_dict(),
            "progression": None
            if self.progression is None
            else {
                "fires": self.progression.fires,
                "criteria": [c.to_dict() for c in self.progression.criteria],
            },
            "decisions": [d.to_dict() for d in self.decisions],
        }


def judged_from(prescription: Prescription | None, tz: tzinfo | None = None) -> date | None:
    """The first day the current prescription is judged on: its start date, else the day it was set."""
    if prescription is None:
        return None
    if prescription.start_date is not None:
        return prescription.start_date
    return None if prescription.created_at is None else local_day(prescription.created_at, tz)


def past_decisions(decisions: Sequence[AdviceDecision]) -> list[PastDecision]:
    return [PastDecision(d.rule_id, d.decided_at, dict(d.basis)) for d in decisions]


def patient_overview(
    store: SessionStore,
    patient: Patient,
    *,
    today: date | None = None,
    tz: tzinfo | None = None,
    thresholds: Thresholds | None = None,
    records: Sequence[SessionRecord] | None = None,
) -> PatientOverview:
    """Last session, flags and pending advice of ``patient`` as of ``today`` (default: today, local).

    ``records``: the patient's sessions (``store.sessions(patient.id)``) when the caller has read them already.

    ``thresholds`` default to the store's (``thresholds_for_data_dir``); a bad user file raises ThresholdsError.
    """
    th = thresholds or thresholds_for_data_dir(store.data_dir)
    today = today or local_day(datetime.now().astimezone(), tz)
    if records is None:
        records = store.sessions(patient.id)
    facts: list[SessionFacts] = [facts_from_record(r) for r in records]
    prescription = store.prescription(patient.id)
    flags = evaluate_flags(
        facts,
        today=today,
        sessions_per_day=None if prescription is None else prescription.sessions_per_day,
        start_date=judged_from(prescription, tz),
        tz=tz,
        thresholds=th,
    )
    check = check_progression(facts, involved_side=patient.involved_side, thresholds=th)
    decisions = store.advice_decisions(patient.id)
    advice = advice_of(check)
    if advice is not None and not is_pending(advice, past_decisions(decisions)):
        advice = None
    ended = [r for r in records if r.ended_at is not None]
    return PatientOverview(
        patient=patient,
        last_session=ended[-1] if ended else None,
        flags=flags,
        advice=advice,
        prescription=prescription,
        progression=check,
        decisions=decisions,
    )


def decide_advice(
    store: SessionStore,
    patient: Patient,
    decision: str,
    *,
    today: date | None = None,
    tz: tzinfo | None = None,
    thresholds: Thresholds | None = None,
) -> tuple[int, Advice]:
    """Record the therapist's decision on the patient's pending advice; returns (decision id, advice).

    NoPendingAdviceError when nothing is pending (no advice, or it was already decided on the
    same data). The prescription is left as it is: a new one is the therapist's own step.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be 'accepted' or 'dismissed', got {decision!r}")
    overview = patient_overview(store, patient, today=today, tz=tz, thresholds=thresholds)
    if overview.advice is None:
        fires = overview.progression is not None and overview.progression.fires
        why = "it was already decided on the same sessions" if fires else "the progression rule does not fire"
        raise NoPendingAdviceError(f"no advice is pending for {patient.name!r}: {why}")
    advice = overview.advice
    decision_id = store.record_advice_decision(
        patient.id, rule_id=advice.rule_id, advice_text=advice.text, decision=decision, basis=advice.basis
    )
    return decision_id, advice
