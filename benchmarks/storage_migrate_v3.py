"""Upgrading a year of sessions from schema v2 to v3 (issue 9's caseload migration).

    python benchmarks/storage_migrate_v3.py                 # 1095 sessions (3 a day for a year), 5 min at 100 Hz each
    python benchmarks/storage_migrate_v3.py --sessions 200

Builds a v2 store by hand (schema steps 1-2, then rows as v2 wrote them): one
patient, a third of the sessions filed under her and the rest under no patient
(half of those carrying a patient name in their protocol JSON), each with a
5-minute 100 Hz session's samples as one chunk of real virtual-patient data.
Then times ``SessionStore.open`` (the pre-upgrade backup copy, the v3 step, no
recovery) and a second open (nothing to migrate), and checks nothing was lost.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.storage.sample_codec import DEFAULT_CODEC, encode_f8
from sensorapp.storage.schema import migrate
from sensorapp.storage.store import SessionStore


def build_v2_store(path: Path, sessions: int) -> None:
    vp = VirtualPatient(PatientProfile(seed=1))
    t = np.arange(30_000) / 100.0
    t_blob, f_blob = encode_f8(t, DEFAULT_CODEC), encode_f8(vp.force_at(t), DEFAULT_CODEC)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, target=2)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO patients (uuid, name, created_at) VALUES (?, 'Anna', '2025-01-01T08:00:00.000000+00:00')", (str(uuid.uuid4()),)
    )
    for n in range(sessions):
        day, slot = divmod(n, 3)
        start = f"2025-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{8 + 4 * slot:02d}:00:00.000000+00:00"
        patient_id = 1 if n % 3 == 0 else None
        protocol = {"hold_s": 6.0, **({"patient": f"Walk-in {n % 7}"} if n % 3 == 1 else {})}
        cur = conn.execute(
            "INSERT INTO sessions (uuid, patient_id, protocol_json, device_json, calibration_json, started_at, ended_at, complete,"
            " app_version, end_reason, sample_count, duration_s) VALUES (?, ?, ?, '{}', '{}', ?, ?, 1, '0.1.0', 'finished', ?, ?)",
            (str(uuid.uuid4()), patient_id, json.dumps(protocol), start, start, t.size, float(t[-1])),
        )
        conn.execute(
            "INSERT INTO sample_chunks (session_id, seq, side, n, t_first_s, t_last_s, codec, t_s, force_n)"
            " VALUES (?, 0, 'left', ?, 0, ?, ?, ?, ?)",
            (cur.lastrowid, t.size, float(t[-1]), DEFAULT_CODEC, t_blob, f_blob),
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1095)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        build_v2_store(data / "sensorapp.db", args.sessions)
        size_mb = (data / "sensorapp.db").stat().st_size / 1e6
        started = time.perf_counter()
        store = SessionStore.open(data, recover=False)
        upgrade_s = time.perf_counter() - started
        records = store.sessions()
        patients = store.patients()
        store.close()
        started = time.perf_counter()
        SessionStore.open(data, recover=False).close()
        reopen_s = time.perf_counter() - started
        lost = args.sessions - len(records)
        unfiled = sum(r.patient_id is None for r in records)
        print(
            f"v2 store: {args.sessions} sessions, {size_mb:.1f} MB; upgrade to v3 (backup + migration): {upgrade_s:.2f} s; "
            f"reopen: {reopen_s * 1000:.0f} ms; sessions lost {lost}, left with no patient {unfiled}; patients after: {len(patients)}"
        )
        return 0 if lost == 0 and unfiled == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
