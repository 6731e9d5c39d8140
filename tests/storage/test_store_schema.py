"""The store file: location, WAL, migrations from empty and from v1, refusing what it cannot read."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import numpy as np
import pytest
from storage_helpers import patient_recording, record_session

from sensorapp.signal import analyze_recording
from sensorapp.storage import paths
from sensorapp.storage.errors import SchemaTooNewError, StorageError
from sensorapp.storage.sample_codec import CODEC_F8, encode_f8, samples_sha256
from sensorapp.storage.schema import MIGRATIONS, SCHEMA_VERSION, Migration, migrate, schema_version
from sensorapp.storage.store import SessionStore


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def test_data_dir_comes_from_the_environment_or_platformdirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    assert paths.default_data_dir() == tmp_path / "elsewhere"
    store = SessionStore.open()
    assert store.path == tmp_path / "elsewhere" / "sensorapp.db" and store.path.exists()
    store.close()
    monkeypatch.delenv(paths.DATA_DIR_ENV)
    import platformdirs

    assert paths.default_data_dir() == Path(platformdirs.user_data_dir("sensorapp", appauthor=False))


def test_a_new_store_is_wal_at_the_latest_schema_and_private(store: SessionStore) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(conn) == SCHEMA_VERSION == len(MIGRATIONS)
    assert {"patients", "sessions", "reps", "sample_chunks"} <= _tables(conn)
    assert {"end_reason", "last_saved_at", "samples_sha256"} <= _columns(conn, "sessions")
    conn.close()
    assert (store.path.stat().st_mode & 0o077) == 0
    assert (store.data_dir.stat().st_mode & 0o077) == 0


def _make_v1_store(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A store exactly as schema v1 left it, with one finished session (written by hand, chunked raw)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    assert migrate(conn, target=1) == [1]
    t, f, turn = patient_recording(seed=3, reps_per_side=2)
    codes = np.where(t < turn, 1, 2).astype(np.uint8)
    conn.execute(
        "INSERT INTO patients (uuid, name, involved_side, body_mass_kg, lever_arm_m, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (str(uuid.uuid4()), "Old Timer", "right", 70.0, None, "2025-01-01T10:00:00.000000+00:00"),
    )
    conn.execute(
        "INSERT INTO sessions (uuid, patient_id, protocol_json, device_json, calibration_json, started_at, ended_at, complete,"
        " app_version, summary_json) VALUES (?, 1, '{\"hold_s\": 6.0}', '{}', '{}', ?, ?, 1, '0.0.9', NULL)",
        (str(uuid.uuid4()), "2025-01-02T10:00:00.000000+00:00", "2025-01-02T10:05:00.000000+00:00"),
    )
    seq = 0
    for side, mask in (("left", codes == 1), ("right", codes == 2)):
        tt, ff = t[mask], f[mask]
        for lo in range(0, tt.size, 1000):
            a, b = tt[lo : lo + 1000], ff[lo : lo + 1000]
            conn.execute(
                "INSERT INTO sample_chunks (session_id, seq, side, n, t_first_s, t_last_s, codec, t_s, force_n) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, side, a.size, a[0], a[-1], CODEC_F8, encode_f8(a, CODEC_F8), encode_f8(b, CODEC_F8)),
            )
            seq += 1
    conn.close()
    return t, f, codes


def test_a_v1_store_is_upgraded_with_its_data_intact_and_backed_up(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    t, f, codes = _make_v1_store(data / "sensorapp.db")

    store = SessionStore.open(data)
    conn = sqlite3.connect(store.path)
    assert schema_version(conn) == SCHEMA_VERSION
    assert {"end_reason", "sample_count", "samples_sha256", "analysis_json", "notes"} <= _columns(conn, "sessions")
    conn.close()
    (record,) = store.sessions()
    assert record.state == "complete" and record.end_reason == "finished"
    assert record.sample_count == t.size and record.duration_s == pytest.approx(t[-1] - t[0])
    assert record.samples_sha256 == samples_sha256(t, f, codes)
    assert record.patient_name == "Old Timer"
    samples = store.samples(record.id)
    np.testing.assert_array_equal(samples.t_s, t)
    np.testing.assert_array_equal(samples.force_n, f)
    np.testing.assert_array_equal(samples.side_codes, codes)
    # The v1 session can be analysed and its analysis saved in the new schema.
    summary = store.reanalyse(record.id, save=True)
    assert len(summary.reps) == len(analyze_recording(t, f, samples.side)) > 0
    assert {s for s in summary.sides} == {"left", "right"}
    # The pre-upgrade copy is a readable v1 store.
    backup = sqlite3.connect(data / f"sensorapp.db.before-v{SCHEMA_VERSION}.bak")
    assert schema_version(backup) == 1 and backup.execute("SELECT count(*) FROM sample_chunks").fetchone()[0] > 0
    backup.close()
    store.close()


def test_a_failed_migration_step_leaves_the_store_at_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _make_v1_store(path)

    def half_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sessions ADD COLUMN half_done TEXT")
        raise RuntimeError("boom")

    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(StorageError, match="schema version 2.*unchanged at version 1"):
        migrate(conn, steps=(MIGRATIONS[0], Migration(2, "broken", half_then_fail)))
    assert schema_version(conn) == 1
    assert "half_done" not in _columns(conn, "sessions")
    # And the real step still applies afterwards.
    assert migrate(conn) == [2, 3]
    conn.close()


def test_migration_steps_must_be_numbered_in_order() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    with pytest.raises(ValueError, match="numbered"):
        migrate(conn, steps=(MIGRATIONS[1], MIGRATIONS[0]))


def test_a_store_from_a_newer_app_is_refused_and_left_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    SessionStore.open(data).close()
    conn = sqlite3.connect(data / "sensorapp.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = (data / "sensorapp.db").read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer sensorapp"):
        SessionStore.open(data)
    assert (data / "sensorapp.db").read_bytes() == before


def test_a_file_that_is_not_a_store_gives_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "sensorapp.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StorageError, match="not a sensorapp session store or is damaged"):
        SessionStore.open(data)


@pytest.mark.both_engines
def test_sql_is_parameterised_hostile_text_is_stored_verbatim(store: SessionStore) -> None:
    hostile = "Robert'); DROP TABLE sessions; --"
    patient = store.add_patient(hostile, involved_side="left")
    record = record_session(store, patient_id=patient.id, reps_per_side=1)
    assert store.patient(patient.id).name == hostile
    assert store.find_patients(hostile.upper())[0].id == patient.id
    assert store.sessions(patient.id)[0].id == record.id
    # LIKE wildcards in a UUID prefix do not match everything.
    with pytest.raises(StorageError):
        store.find_session("%%%%%%%%%%")


@pytest.mark.both_engines
def test_patient_fields_are_validated(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="name"):
        store.add_patient("   ")
    with pytest.raises(ValueError, match="involved_side"):
        store.add_patient("A", involved_side="both")
    with pytest.raises(ValueError, match="body_mass_kg"):
        store.add_patient("A", body_mass_kg=-3)
    p = store.add_patient("  Anna   B ", body_mass_kg=60)
    assert p.name == "Anna B"
    p2 = store.update_patient(p.id, lever_arm_m=0.8)
    assert (p2.body_mass_kg, p2.lever_arm_m, p2.name) == (60.0, 0.8, "Anna B")
    store.add_patient("anna b")
    with pytest.raises(StorageError, match="2 patients are called"):
        store.patient_by_name("Anna B")


@pytest.mark.both_engines
def test_session_lookup_by_id_uuid_and_prefix(store: SessionStore) -> None:
    record = record_session(store, reps_per_side=1)
    assert store.find_session(str(record.id)).uuid == record.uuid
    assert store.find_session(record.uuid).id == record.id
    assert store.find_session(record.uuid[:8].upper()).id == record.id
    with pytest.raises(StorageError, match="no session with id 99"):
        store.find_session("99")
    assert json.loads(json.dumps(record.to_dict()))["uuid"] == record.uuid


@pytest.mark.both_engines
def test_a_uuid_prefix_made_only_of_digits_is_still_found(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    import sensorapp.storage.store as store_module

    fixed = uuid.UUID("44680191-0000-4000-8000-000000000001")
    monkeypatch.setattr(store_module.uuidlib, "uuid4", lambda: fixed)
    record = record_session(store, reps_per_side=1)
    assert record.uuid == str(fixed)
    assert store.find_session("44680191").id == record.id  # not an id: a UUID prefix
    assert store.find_session(str(record.id)).id == record.id  # a short number is an id
