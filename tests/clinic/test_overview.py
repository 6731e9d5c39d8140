"""patient_overview on a real store: flags from stored sessions, advice pending, accepted, dismissed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from clinic_store_helpers import record_patient_session

from sensorapp.clinic.advice import RULE_ID
from sensorapp.clinic.overview import NoPendingAdviceError, decide_advice, patient_overview
from sensorapp.clinic.prescription import Prescription
from sensorapp.storage.store import SessionStore

DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> list[datetime]:
    return [DAY0]


@pytest.fixture
def store(tmp_path: Path, clock: list[datetime]) -> Iterator[SessionStore]:
    s = SessionStore.open(tmp_path / "data", now=lambda: clock[0])
    yield s
    s.close()


def test_a_new_patient_has_no_flags_and_no_advice(store: SessionStore) -> None:
    p = store.add_patient("Anna")
    ov = patient_overview(store, p, today=DAY0.date(), tz=UTC)
    assert ov.last_session is None and ov.flags == [] and ov.advice is None
    assert ov.to_dict() == {"last_session": None, "flags": [], "advice": None}
    assert ov.progression is not None and ov.progression.criteria[0].detail == "0 sessions with an LSI, need 3"


def test_flags_come_from_the_stored_sessions_with_their_figures(store: SessionStore) -> None:
    p = store.add_patient("Ben", involved_side="left")
    store.set_prescription(p.id, Prescription(sessions_per_day=2, start_date=DAY0.date()))
    first = record_patient_session(store, p.id, DAY0, seed=2, asymmetry_pct=3.0, pain=(1, 1))
    weak = record_patient_session(store, p.id, DAY0 + timedelta(days=1), seed=3, asymmetry_pct=25.0, pain=(1, 4))
    sym = weak.symmetry
    assert sym is not None and sym["lsi_ci95_pct"][1] < 90.0  # the whole interval is below the band
    today = DAY0.date() + timedelta(days=4)
    ov = patient_overview(store, p, today=today, tz=UTC)
    codes = {f.code: f for f in ov.flags}
    assert set(codes) == {"asymmetry", "pain", "adherence", "inactivity"}
    assert codes["asymmetry"].figures["session_id"] == weak.id
    assert codes["asymmetry"].figures["lsi_pct"] == round(sym["lsi_pct"], 2)
    assert codes["asymmetry"].severity == "alert"  # LSI ~75 %: red
    assert codes["pain"].figures == {
        "session_id": weak.id, "pain": 4, "pain_before": 1, "pain_after": 4, "baseline": 1.0, "rise": 3.0, "threshold_points": 2,
    }
    # Prescribed 2 a day from day 0; days 0-3 judged, 2 sessions done of 8.
    assert codes["adherence"].figures["sessions"] == 2 and codes["adherence"].figures["expected"] == 8
    assert codes["inactivity"].figures["days_without"] == 3
    assert ov.last_session is not None and ov.last_session.id == weak.id
    d = ov.to_dict()
    assert d["last_session"] == weak.started_at.isoformat()
    assert all(isinstance(t, str) for t in d["flags"]) and d["flags"][0].startswith(("asymmetry", "pain"))
    assert first.id < weak.id


def _ready_patient(store: SessionStore, days: int = 8) -> tuple[int, list[int]]:
    p = store.add_patient("Cleo", involved_side="left")
    ids = [
        record_patient_session(store, p.id, DAY0 + timedelta(days=d), seed=10 + d, asymmetry_pct=2.0, pain=(1, 1)).id
        for d in range(days)
    ]
    return p.id, ids


def test_advice_is_pending_until_a_decision_then_back_after_a_newer_session(
    store: SessionStore, clock: list[datetime]
) -> None:
    pid, ids = _ready_patient(store)
    patient = store.patient(pid)
    today = DAY0.date() + timedelta(days=8)
    ov = patient_overview(store, patient, today=today, tz=UTC)
    assert ov.progression is not None
    assert [c.name for c in ov.progression.criteria if not c.met] == [], ov.progression.criteria
    assert ov.advice is not None and ov.advice.rule_id == RULE_ID
    assert ov.advice.basis["latest_session_id"] == ids[-1]
    assert ov.to_dict()["advice"] == ov.advice.text
    prescription_before = store.prescription(pid)

    clock[0] = DAY0 + timedelta(days=8)
    decision_id, advice = decide_advice(store, patient, "dismissed", today=today, tz=UTC)
    stored = store.advice_decisions(pid)
    assert [d.id for d in stored] == [decision_id] and stored[0].decision == "dismissed"
    assert stored[0].basis["latest_session_id"] == ids[-1] and stored[0].advice_text == advice.text
    assert store.prescription(pid) == prescription_before  # never changed by itself
    assert patient_overview(store, patient, today=today, tz=UTC).advice is None
    with pytest.raises(NoPendingAdviceError, match="already decided on the same sessions"):
        decide_advice(store, patient, "accepted", today=today, tz=UTC)

    # A session after the decision: the rule fires on it, so the advice is back.
    newer = record_patient_session(store, pid, DAY0 + timedelta(days=8, hours=2), seed=40, asymmetry_pct=2.0, pain=(0, 1))
    ov = patient_overview(store, patient, today=today, tz=UTC)
    assert ov.advice is not None and ov.advice.basis["latest_session_id"] == newer.id
    clock[0] = DAY0 + timedelta(days=8, hours=3)
    decide_advice(store, patient, "accepted", today=today, tz=UTC)
    assert patient_overview(store, patient, today=today, tz=UTC).advice is None
    assert [d.decision for d in store.advice_decisions(pid)] == ["dismissed", "accepted"]


def test_a_newer_session_that_does_not_meet_the_rule_keeps_it_quiet(store: SessionStore, clock: list[datetime]) -> None:
    pid, _ = _ready_patient(store)
    patient = store.patient(pid)
    today = DAY0.date() + timedelta(days=8)
    clock[0] = DAY0 + timedelta(days=8)
    decide_advice(store, patient, "dismissed", today=today, tz=UTC)
    record_patient_session(store, pid, DAY0 + timedelta(days=8, hours=2), seed=41, asymmetry_pct=2.0, pain=(4, 5))
    ov = patient_overview(store, patient, today=today, tz=UTC)
    assert ov.advice is None
    assert ov.progression is not None and not ov.progression.fires
    assert [c.name for c in ov.progression.criteria if not c.met] == ["pain"]
    with pytest.raises(NoPendingAdviceError, match="does not fire"):
        decide_advice(store, patient, "accepted", today=today, tz=UTC)


def test_decide_advice_refuses_an_unknown_decision(store: SessionStore) -> None:
    p = store.add_patient("Dora")
    with pytest.raises(ValueError, match="'accepted' or 'dismissed'"):
        decide_advice(store, p, "maybe", today=date(2026, 11, 2))
    assert store.advice_decisions(p.id) == []
