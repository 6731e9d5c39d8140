"""Schema v3 (issue 9): patients' clinic details, prescriptions with history, pain, advice decisions."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from storage_helpers import record_session

from sensorapp.clinic.prescription import Prescription
from sensorapp.storage.errors import PatientNotFoundError, SchemaTooNewError, StorageError
from sensorapp.storage.sample_codec import CODEC_F8, encode_f8
from sensorapp.storage.schema import SCHEMA_VERSION, UNASSIGNED_PATIENT_NAME, migrate, schema_version
from sensorapp.storage.store import SessionStore


def _make_v2_store(path: Path) -> dict[str, str]:
    """A v2 store with one patient and five sessions, four filed under no patient; returns uuid -> expected patient name."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    assert migrate(conn, target=2) == [1, 2]
    conn.execute(
        "INSERT INTO patients (uuid, name, involved_side, created_at) VALUES (?, 'Anna', 'left', '2025-01-01T10:00:00.000000+00:00')",
        (str(uuid.uuid4()),),
    )
    expected: dict[str, str] = {}
    sessions = [
        (1, {"hold_s": 6.0}, "Anna"),
        (None, {"hold_s": 6.0, "patient": "Bob  Builder"}, "Bob Builder"),
        (None, {"hold_s": 6.0, "patient_name": " anna "}, "Anna"),  # the same name as a patient: filed under her
        (None, {"hold_s": 6.0}, UNASSIGNED_PATIENT_NAME),
        (None, {"hold_s": 5.0}, UNASSIGNED_PATIENT_NAME),
    ]
    t = np.arange(500) / 100.0
    for n, (patient_id, protocol, name) in enumerate(sessions):
        session_uuid = str(uuid.uuid4())
        expected[session_uuid] = name
        cur = conn.execute(
            "INSERT INTO sessions (uuid, patient_id, protocol_json, device_json, calibration_json, started_at, ended_at, complete,"
            " app_version, end_reason, sample_count, duration_s) VALUES (?, ?, ?, '{}', '{}', ?, ?, 1, '0.1.0', 'finished', 500, 4.99)",
            (session_uuid, patient_id, json.dumps(protocol), f"2025-02-0{n + 1}T10:00:00.000000+00:00", f"2025-02-0{n + 1}T10:05:00.000000+00:00"),
        )
        conn.execute(
            "INSERT INTO sample_chunks (session_id, seq, side, n, t_first_s, t_last_s, codec, t_s, force_n) VALUES (?, 0, 'left', 500, 0, 4.99, ?, ?, ?)",
            (cur.lastrowid, CODEC_F8, encode_f8(t, CODEC_F8), encode_f8(t * 10 + n, CODEC_F8)),
        )
    conn.close()
    return expected


def test_a_v2_store_migrates_with_every_session_filed_under_a_patient_and_nothing_lost(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    expected = _make_v2_store(data / "sensorapp.db")

    store = SessionStore.open(data)
    records = store.sessions()
    assert {r.uuid: r.patient_name for r in records} == expected
    assert all(r.patient_id is not None for r in records)
    names = sorted(p.name for p in store.patients())
    assert names == ["Anna", "Bob Builder", UNASSIGNED_PATIENT_NAME]  # two unnamed sessions share one "Unassigned"
    for n, record in enumerate(records):
        samples = store.samples(record.id)
        assert len(samples) == 500
        np.testing.assert_array_equal(samples.force_n, np.arange(500) / 100.0 * 10 + n)
        assert (record.pain_before, record.pain_after, record.prescription) == (None, None, None)
    anna = store.patient_by_name("Anna")
    assert (anna.external_id, anna.birth_year, anna.sex, anna.notes, anna.archived) == (None, None, None, "", False)
    assert anna.involved_side == "left"
    store.close()
    backup = sqlite3.connect(data / "sensorapp.db.before-v3.bak")
    assert schema_version(backup) == 2
    assert backup.execute("SELECT count(*) FROM sessions WHERE patient_id IS NULL").fetchone()[0] == 4
    backup.close()

    # The v3 store reopens as it is: no second migration, the same patients.
    again = SessionStore.open(data)
    conn = sqlite3.connect(again.path)
    assert schema_version(conn) == SCHEMA_VERSION == 3
    conn.close()
    assert sorted(p.name for p in again.patients()) == names
    again.close()


def test_a_store_newer_than_v3_is_still_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    SessionStore.open(data).close()
    conn = sqlite3.connect(data / "sensorapp.db")
    conn.execute("PRAGMA user_version = 4")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="schema version 4"):
        SessionStore.open(data)


@pytest.mark.both_engines
def test_patients_carry_their_clinic_details_and_validate_them(store: SessionStore) -> None:
    p = store.add_patient(
        "  Carla  Diaz ", external_id="  MRN-0042 ", birth_year=1961, sex="female", involved_side="right",
        body_mass_kg=68.5, lever_arm_m=0.8, notes="post THA, 6 weeks",
    )
    assert (p.name, p.external_id, p.birth_year, p.sex, p.notes, p.archived) == (
        "Carla Diaz", "MRN-0042", 1961, "female", "post THA, 6 weeks", False,
    )
    d = p.to_dict()
    assert {"external_id", "birth_year", "sex", "notes", "archived"} <= d.keys() and d["external_id"] == "MRN-0042"
    this_year = datetime.now(UTC).year
    for kwargs, message in (
        ({"birth_year": 1899}, "birth year"),
        ({"birth_year": this_year + 1}, f"1900 to {this_year}"),
        ({"birth_year": 1970.0}, "birth year"),
        ({"sex": "F"}, "sex"),
        ({"external_id": "x" * 101}, "external id"),
        ({"external_id": "A\nB"}, "external id"),
        ({"external_id": "mrn-0042 "}, None),  # ids are compared exactly after trimming: a different id
        ({"external_id": "MRN-0042"}, "already patient"),
    ):
        if message is None:
            store.add_patient("Other", **kwargs)  # type: ignore[arg-type]
            continue
        before = len(store.patients(include_archived=True))
        with pytest.raises(ValueError, match=message):
            store.add_patient("Someone", **kwargs)  # type: ignore[arg-type]
        assert len(store.patients(include_archived=True)) == before
    # An empty external id means none, and several patients may have none.
    assert store.add_patient("E1", external_id="  ").external_id is None
    assert store.add_patient("E2").external_id is None


@pytest.mark.both_engines
def test_update_patient_changes_only_what_is_given_and_archives(store: SessionStore) -> None:
    a = store.add_patient("Anna", external_id="A1", birth_year=1980)
    b = store.add_patient("Bea", external_id="B1")
    a2 = store.update_patient(a.id, sex="other", notes="keeps a diary")
    assert (a2.external_id, a2.birth_year, a2.sex, a2.notes) == ("A1", 1980, "other", "keeps a diary")
    with pytest.raises(ValueError, match="already patient"):
        store.update_patient(b.id, external_id="A1")
    assert store.patient(b.id).external_id == "B1"
    assert store.update_patient(a.id, external_id="A1").external_id == "A1"  # its own id is no clash
    assert store.update_patient(a.id, external_id=None).external_id is None
    store.update_patient(b.id, archived=True)
    assert [p.name for p in store.patients()] == ["Anna"]
    assert [p.name for p in store.patients(include_archived=True)] == ["Anna", "Bea"]
    assert store.update_patient(b.id, archived=False).archived is False
    with pytest.raises(ValueError, match="archived"):
        store.update_patient(b.id, archived=1)  # type: ignore[arg-type]


@pytest.mark.both_engines
def test_resolve_patient_takes_an_id_an_external_id_or_a_unique_name(store: SessionStore) -> None:
    anna = store.add_patient("Anna", external_id="MRN-7")
    bob = store.add_patient("Bob")
    store.add_patient("Twin")
    store.add_patient("twin")
    assert store.resolve_patient(anna.id) == anna
    assert store.resolve_patient(str(bob.id)) == bob
    assert store.resolve_patient(" MRN-7 ") == anna
    assert store.resolve_patient("anna") == anna
    with pytest.raises(PatientNotFoundError, match="2 patients are called 'Twin'"):
        store.resolve_patient("Twin")
    with pytest.raises(PatientNotFoundError, match="no patient with the id, external id or name 'Carl'"):
        store.resolve_patient("Carl")
    with pytest.raises(PatientNotFoundError, match="no patient with id 99"):
        store.resolve_patient(99)
    # A number that is one patient's id and another's external id is ambiguous.
    store.update_patient(bob.id, external_id=str(anna.id))
    with pytest.raises(PatientNotFoundError, match="give the name"):
        store.resolve_patient(str(anna.id))


def test_prescriptions_keep_their_history_and_the_newest_is_current(tmp_path: Path) -> None:
    clock = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC)]
    store = SessionStore.open(tmp_path / "data", now=lambda: clock[0])
    p = store.add_patient("Anna")
    assert store.prescription(p.id) is None and store.prescription_history(p.id) == []
    first = store.set_prescription(p.id, Prescription(start_date=date(2026, 3, 1)))
    assert first.uuid is not None and first.created_at == clock[0]
    clock[0] += timedelta(days=7)
    second = store.set_prescription(p.id, Prescription(reps_per_side=10, hold_s=8, target_kind="absolute_n", target_low=60, target_high=90))
    assert store.prescription(p.id) == second
    assert store.prescription_history(p.id) == [first, second]
    # A clock that went back still makes the newest change current.
    clock[0] -= timedelta(days=30)
    third = store.set_prescription(p.id, Prescription(sessions_per_day=2))
    assert third.created_at is not None and second.created_at is not None and third.created_at > second.created_at
    assert store.prescription(p.id) == third
    assert [x.sessions_per_day for x in store.prescription_history(p.id)] == [3, 3, 2]
    with pytest.raises(PatientNotFoundError):
        store.set_prescription(999, Prescription())
    with pytest.raises(TypeError):
        store.set_prescription(p.id, {"reps_per_side": 7})  # type: ignore[arg-type]
    store.close()


@pytest.mark.both_engines
def test_a_session_stores_its_prescription_snapshot_and_takes_its_protocol(store: SessionStore) -> None:
    p = store.add_patient("Anna")
    current = store.set_prescription(p.id, Prescription(reps_per_side=5, hold_s=8, first_side="right"))
    rec = store.begin_session(patient_id=p.id, prescription=current, side="right")
    rec.add_samples(np.arange(100) / 100.0, np.zeros(100))
    record = rec.finish()
    assert record.prescription == current.to_dict() and record.prescription["uuid"] == current.uuid
    assert record.protocol["reps_per_side"] == 5 and record.protocol["first_side"] == "right" and record.target_hold_s == 8
    assert Prescription.from_dict(record.prescription) == current
    # A later change does not rewrite what the session was done under.
    store.set_prescription(p.id, Prescription())
    assert store.session(record.id).prescription == current.to_dict()
    assert store.session(record.id).to_dict()["prescription"]["reps_per_side"] == 5


@pytest.mark.both_engines
def test_pain_before_and_after_are_stored_validated_and_shown(store: SessionStore) -> None:
    record = record_session(store, patient_id=store.add_patient("Anna").id, reps_per_side=1)
    assert (record.pain_before, record.pain_after) == (None, None)
    assert store.set_pain(record.id, before=3).pain_before == 3
    after = store.set_pain(record.id, after=5)
    assert (after.pain_before, after.pain_after) == (3, 5)
    assert {"pain_before": 3, "pain_after": 5}.items() <= after.to_dict().items()
    for bad in (11, -1, 2.5, True, "4"):
        with pytest.raises(ValueError, match="pain before must be a whole number from 0 to 10"):
            store.set_pain(record.id, before=bad)  # type: ignore[arg-type]
    assert store.set_pain(record.id, before=None).pain_before is None  # skipped
    assert store.session(record.id).pain_after == 5
    with pytest.raises(StorageError, match="no session"):
        store.set_pain(12345, before=1)


def test_advice_decisions_are_kept_in_order_with_their_basis(tmp_path: Path) -> None:
    clock = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC)]
    store = SessionStore.open(tmp_path / "data", now=lambda: clock[0])
    p = store.add_patient("Anna")
    first = store.record_advice_decision(
        p.id, rule_id="progress-to-advanced-hip", advice_text="Move on", decision="dismissed", basis={"lsi_pct": 92.5, "sessions": [1, 2]}
    )
    clock[0] += timedelta(days=3)
    second = store.record_advice_decision(p.id, rule_id="progress-to-advanced-hip", advice_text="Move on", decision="accepted", basis={})
    decisions = store.advice_decisions(p.id)
    assert [(d.id, d.decision) for d in decisions] == [(first, "dismissed"), (second, "accepted")]
    assert decisions[0].basis == {"lsi_pct": 92.5, "sessions": [1, 2]} and decisions[1].decided_at == clock[0]
    assert decisions[0].to_dict()["decided_at"] == "2026-03-01T09:00:00+00:00"
    for kwargs, message in (
        ({"decision": "maybe"}, "decision"),
        ({"rule_id": " "}, "rule_id"),
        ({"basis": [1]}, "basis"),
    ):
        args = {"rule_id": "r", "advice_text": "t", "decision": "accepted", "basis": {}, **kwargs}
        with pytest.raises(ValueError, match=message):
            store.record_advice_decision(p.id, **args)  # type: ignore[arg-type]
    assert len(store.advice_decisions(p.id)) == 2
    with pytest.raises(PatientNotFoundError):
        store.advice_decisions(999)
    store.close()
