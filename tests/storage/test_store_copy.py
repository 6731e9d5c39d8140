"""`sensorapp store copy` SQLite -> PostgreSQL -> SQLite is lossless; `store info` counts and masks."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
from storage_helpers import record_session, sensorapp, utc

from sensorapp.clinic.prescription import Prescription
from sensorapp.storage.store import SessionStore

TABLES = ("patients", "prescriptions", "advice_decisions", "sessions", "sample_chunks", "reps")


def _clinic_store(folder: Path) -> dict[str, str]:
    """Two patients with clinic details, prescriptions, pain, advice, an interrupted session; returns uuid -> hash."""
    with SessionStore.open(folder) as store:
        ann = store.add_patient("Ann O'Neil", external_id="MRN-1", birth_year=1970, sex="female", involved_side="left",
                                body_mass_kg=71.5, lever_arm_m=0.81, notes="post THA; ünïcode")  # fmt: skip
        bo = store.add_patient("Bo", external_id="MRN-2")
        store.set_prescription(ann.id, Prescription(reps_per_side=10, hold_s=8, target_kind="absolute_n", target_low=60,
                                                    target_high=90, start_date=date(2026, 3, 1)))  # fmt: skip
        store.set_prescription(ann.id, Prescription(sessions_per_day=2))
        store.record_advice_decision(ann.id, rule_id="progress", advice_text="Move on", decision="accepted", basis={"lsi_pct": 92.5})
        done = record_session(store, patient_id=ann.id, reps_per_side=2, started_at=utc(2026, 3, 2), prescription=store.prescription(ann.id))
        store.set_pain(done.id, before=3, after=1)
        record_session(store, patient_id=bo.id, seed=4, reps_per_side=1, started_at=utc(2026, 3, 3))
        rec = store.begin_session(patient_id=bo.id, side="right")
        rec.add_samples(np.arange(300) * 0.01, np.linspace(0, 40, 300))
        rec.flush()
        rec._lock.release()  # the recorder died: the next open recovers it as incomplete
    with SessionStore.open(folder) as store:
        return {s.uuid: str(s.samples_sha256) for s in store.sessions()}


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}
    finally:
        conn.close()


def test_copy_to_postgresql_and_back_is_lossless_and_verified(tmp_path: Path, pg_url: str) -> None:
    original = tmp_path / "laptop"
    hashes = _clinic_store(original)
    assert len(hashes) == 3
    there = sensorapp("store", "copy", "--from", str(original), "--to", pg_url)
    assert there.returncode == 0, there.stderr
    assert "copied 2 patients, 2 prescriptions, 1 advice decisions, 3 sessions" in there.stdout
    assert "3 sessions verified by their samples' SHA-256" in there.stdout
    listing = json.loads(sensorapp("sessions", "--json", "--store", pg_url).stdout)
    assert {s["uuid"]: s["state"] for s in listing} == dict(zip(hashes, ["complete", "complete", "incomplete"], strict=True))

    back = tmp_path / "back" / "sensorapp.db"
    again = sensorapp("store", "copy", "--from", pg_url, "--to", f"sqlite://{back}", "--json")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["sessions_verified"] == 3 and result["counts"]["patients"] == 2
    assert _rows(back) == _rows(original / "sensorapp.db")  # every row of every table, ids and sample bytes included
    with SessionStore.open(back.parent) as store:
        assert {s.uuid: s.samples_sha256 for s in store.sessions()} == hashes
    # Ids were copied, and the PostgreSQL copy goes on numbering after them.
    with SessionStore.open(tmp_path / "d", store_url=pg_url) as store:
        assert store.add_patient("Cy").id == 3


def test_store_info_shows_engine_version_counts_and_no_password(tmp_path: Path, pg_url: str) -> None:
    _clinic_store(tmp_path / "laptop")
    info = json.loads(sensorapp("store", "info", "--json", "--data-dir", str(tmp_path / "laptop")).stdout)
    assert (info["engine"], info["schema_version"]) == ("sqlite", 3)
    assert info["counts"] == {"patients": 2, "prescriptions": 2, "advice_decisions": 1, "sessions": 3,
                              "sample_chunks": info["counts"]["sample_chunks"], "reps": info["counts"]["reps"]}  # fmt: skip
    assert info["samples"] > 0 and info["recording"] == 0
    with_password = pg_url.replace("postgres@", "postgres:not-needed-here@")  # trust authentication ignores it
    shown = sensorapp("store", "info", "--store", with_password)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("PostgreSQL store postgresql://postgres:***@/") and "not-needed-here" not in shown.stdout
    assert "schema version 3" in shown.stdout


def test_a_copy_into_a_store_that_has_data_or_onto_itself_is_refused(tmp_path: Path, pg_url: str) -> None:
    _clinic_store(tmp_path / "laptop")
    with SessionStore.open(tmp_path / "d", store_url=pg_url) as store:
        store.add_patient("Already here")
    refused = sensorapp("store", "copy", "--from", str(tmp_path / "laptop"), "--to", pg_url)
    assert refused.returncode == 1 and "is not empty (patients)" in refused.stderr and "Traceback" not in refused.stderr
    itself = sensorapp("store", "copy", "--from", str(tmp_path / "laptop"), "--to", f"sqlite://{tmp_path}/laptop/sensorapp.db")
    assert itself.returncode == 1 and "the same store" in itself.stderr
