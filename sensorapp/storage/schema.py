"""The store's schema and its ordered migrations.

The version lives in SQLite's ``PRAGMA user_version``, or on PostgreSQL in the
one-row table ``sensorapp_schema``. The steps are written in SQLite's dialect;
``engines.PgConnection`` runs them on PostgreSQL. Each step runs in its
own transaction together with the version bump, so a failed step leaves the
store exactly at the previous version. A store newer than this code is never
touched. Add a step by appending to ``MIGRATIONS``; never edit a released one.
"""

from __future__ import annotations

import json
import sqlite3
import uuid as uuidlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .engines import DbConnection, PgConnection, begin_write
from .errors import EngineError, SchemaTooNewError, StorageError, storage_error
from .sample_codec import SIDE_CODES, decode_f8, samples_sha256


@dataclass(frozen=True)
class Migration:
    version: int  # the schema version after this step
    description: str
    apply: Callable[[DbConnection], None]


def _v1_initial(conn: DbConnection) -> None:
    # One execute per statement: executescript() would COMMIT the migration's transaction first.
    for statement in _split_ddl(
        """
        CREATE TABLE patients (
            id            INTEGER PRIMARY KEY,
            uuid          TEXT NOT NULL UNIQUE,
            name          TEXT NOT NULL CHECK (length(trim(name)) > 0),
            involved_side TEXT CHECK (involved_side IN ('left', 'right')),
            body_mass_kg  REAL CHECK (body_mass_kg > 0),
            lever_arm_m   REAL CHECK (lever_arm_m > 0),
            created_at    TEXT NOT NULL
        );
        CREATE TABLE sessions (
            id               INTEGER PRIMARY KEY,
            uuid             TEXT NOT NULL UNIQUE,
            patient_id       INTEGER REFERENCES patients(id) ON DELETE RESTRICT,
            protocol_json    TEXT NOT NULL,
            device_json      TEXT NOT NULL,
            calibration_json TEXT NOT NULL,
            started_at       TEXT NOT NULL,
            ended_at         TEXT,
            complete         INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
            app_version      TEXT NOT NULL,
            summary_json     TEXT
        );
        CREATE TABLE sample_chunks (
            id         INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq        INTEGER NOT NULL,
            side       TEXT NOT NULL CHECK (side IN ('', 'left', 'right')),
            n          INTEGER NOT NULL CHECK (n > 0),
            t_first_s  REAL NOT NULL,
            t_last_s   REAL NOT NULL,
            codec      TEXT NOT NULL,
            t_s        BLOB NOT NULL,
            force_n    BLOB NOT NULL,
            UNIQUE (session_id, seq)
        );
        CREATE TABLE reps (
            id           INTEGER PRIMARY KEY,
            session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            side         TEXT NOT NULL,
            rep_index    INTEGER NOT NULL,
            onset_s      REAL NOT NULL,
            release_s    REAL NOT NULL,
            hold_s       REAL NOT NULL,
            baseline_n   REAL NOT NULL,
            plateau_n    REAL NOT NULL,
            peak_n       REAL NOT NULL,
            mean_n       REAL NOT NULL,
            impulse_ns   REAL NOT NULL,
            target_met   INTEGER NOT NULL CHECK (target_met IN (0, 1)),
            metrics_json TEXT NOT NULL,
            UNIQUE (session_id, side, rep_index)
        );
        """
    ):
        conn.execute(statement)


def _split_ddl(script: str) -> list[str]:
    return [stmt.strip() for stmt in script.split(";") if stmt.strip()]


def _v2_recovery_and_identity(conn: DbConnection) -> None:
    """Crash-recovery bookkeeping, a content hash for import de-duplication, and a history index."""
    for ddl in (
        "ALTER TABLE sessions ADD COLUMN end_reason TEXT",
        "ALTER TABLE sessions ADD COLUMN last_saved_at TEXT",
        "ALTER TABLE sessions ADD COLUMN sample_count INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN duration_s REAL NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN samples_sha256 TEXT",
        "ALTER TABLE sessions ADD COLUMN analysis_json TEXT",
        "ALTER TABLE sessions ADD COLUMN notes TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX sessions_by_patient_start ON sessions (patient_id, started_at)",
        "CREATE INDEX sessions_open ON sessions (id) WHERE ended_at IS NULL",
    ):
        conn.execute(ddl)
    conn.execute(
        "UPDATE sessions SET end_reason = CASE WHEN complete = 1 THEN 'finished' ELSE 'interrupted' END WHERE ended_at IS NOT NULL"
    )
    for (session_id,) in conn.execute("SELECT id FROM sessions").fetchall():
        rows = conn.execute(
            "SELECT side, n, codec, t_s, force_n FROM sample_chunks WHERE session_id = ? ORDER BY seq", (session_id,)
        ).fetchall()
        if rows:
            t = np.concatenate([decode_f8(r[3], r[1], r[2]) for r in rows])
            f = np.concatenate([decode_f8(r[4], r[1], r[2]) for r in rows])
            codes = np.concatenate([np.full(r[1], SIDE_CODES[r[0]], dtype=np.uint8) for r in rows])
            count, duration, digest = int(t.size), float(t[-1] - t[0]), samples_sha256(t, f, codes)
        else:
            count, duration, digest = 0, 0.0, samples_sha256(np.empty(0), np.empty(0), np.empty(0, np.uint8))
        conn.execute(
            "UPDATE sessions SET sample_count = ?, duration_s = ?, samples_sha256 = ?, analysis_json = ? WHERE id = ?",
            (count, duration, digest, json.dumps({"params": None, "note": "analysed before schema v2"}), session_id),
        )


UNASSIGNED_PATIENT_NAME = "Unassigned"


def _v3_caseload(conn: DbConnection) -> None:
    """Patients' clinic details, prescriptions with history, pain per session, advice decisions.

    Sessions filed under no patient are filed under one: the patient name the
    session's protocol JSON carries (``patient`` or ``patient_name``, written
    by some front ends), else "Unassigned", so every session has a patient.
    """
    for ddl in _split_ddl(
        """
        ALTER TABLE patients ADD COLUMN external_id TEXT CHECK (external_id IS NULL OR length(trim(external_id)) > 0);
        ALTER TABLE patients ADD COLUMN birth_year INTEGER CHECK (birth_year IS NULL OR birth_year >= 1900);
        ALTER TABLE patients ADD COLUMN sex TEXT CHECK (sex IS NULL OR sex IN ('female', 'male', 'other'));
        ALTER TABLE patients ADD COLUMN notes TEXT NOT NULL DEFAULT '';
        ALTER TABLE patients ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
        CREATE UNIQUE INDEX patients_external_id ON patients (external_id) WHERE external_id IS NOT NULL;
        CREATE TABLE prescriptions (
            id               INTEGER PRIMARY KEY,
            uuid             TEXT NOT NULL UNIQUE,
            patient_id       INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
            reps_per_side    INTEGER NOT NULL CHECK (reps_per_side >= 1),
            hold_s           REAL NOT NULL CHECK (hold_s > 0),
            rest_s           REAL NOT NULL CHECK (rest_s >= 0),
            first_side       TEXT NOT NULL CHECK (first_side IN ('left', 'right')),
            target_kind      TEXT CHECK (target_kind IS NULL OR target_kind IN ('percent_of_best', 'absolute_n')),
            target_low       REAL,
            target_high      REAL,
            sessions_per_day INTEGER NOT NULL CHECK (sessions_per_day >= 1),
            start_date       TEXT,
            created_at       TEXT NOT NULL
        );
        CREATE INDEX prescriptions_by_patient ON prescriptions (patient_id, created_at);
        ALTER TABLE sessions ADD COLUMN prescription_json TEXT;
        ALTER TABLE sessions ADD COLUMN pain_before INTEGER CHECK (pain_before IS NULL OR pain_before BETWEEN 0 AND 10);
        ALTER TABLE sessions ADD COLUMN pain_after INTEGER CHECK (pain_after IS NULL OR pain_after BETWEEN 0 AND 10);
        CREATE TABLE advice_decisions (
            id          INTEGER PRIMARY KEY,
            patient_id  INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
            rule_id     TEXT NOT NULL,
            advice_text TEXT NOT NULL,
            decision    TEXT NOT NULL CHECK (decision IN ('accepted', 'dismissed')),
            decided_at  TEXT NOT NULL,
            basis_json  TEXT NOT NULL
        );
        CREATE INDEX advice_decisions_by_patient ON advice_decisions (patient_id, decided_at)
        """
    ):
        conn.execute(ddl)
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    created: dict[str, int] = {}  # one new patient per distinct name
    rows = conn.execute("SELECT id, protocol_json FROM sessions WHERE patient_id IS NULL ORDER BY id").fetchall()
    for session_id, protocol_json in rows:
        name = " ".join(_stored_patient_name(protocol_json).split())[:200] or UNASSIGNED_PATIENT_NAME
        key = name.lower()
        if key not in created:
            same = conn.execute(
                "SELECT id FROM patients WHERE lower(trim(name)) = ? ORDER BY id", (key,)
            ).fetchall()
            if len(same) == 1:
                created[key] = int(same[0][0])
            else:  # none, or several that cannot be told apart: a new patient keeps the sessions together
                cur = conn.execute(
                    "INSERT INTO patients (uuid, name, created_at, notes) VALUES (?, ?, ?, ?)",
                    (str(uuidlib.uuid4()), name, now, "made when upgrading the store: sessions recorded under no patient"),
                )
                created[key] = int(cur.lastrowid or 0)
        conn.execute("UPDATE sessions SET patient_id = ? WHERE id = ?", (created[key], session_id))


def _stored_patient_name(protocol_json: str | None) -> str:
    try:
        protocol = json.loads(protocol_json or "{}")
    except ValueError:
        return ""
    if not isinstance(protocol, dict):
        return ""
    for key in ("patient", "patient_name"):
        value = protocol.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "patients, sessions, sample chunks, reps", _v1_initial),
    Migration(2, "recovery bookkeeping, samples hash, history index", _v2_recovery_and_identity),
    Migration(3, "patients' clinic details, prescriptions, pain, advice decisions", _v3_caseload),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


PG_VERSION_TABLE = "sensorapp_schema"
MIGRATION_LOCK_KEY = 0x5E_45_0A_98  # PostgreSQL advisory lock: one process migrates at a time


def schema_version(conn: DbConnection) -> int:
    if isinstance(conn, PgConnection):
        exists = conn.execute("SELECT to_regclass('public.sensorapp_schema') IS NOT NULL").fetchone()[0]
        if not exists:
            return 0
        row = conn.execute("SELECT version FROM sensorapp_schema").fetchone()
        return int(row[0]) if row else 0
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _set_schema_version(conn: DbConnection, version: int) -> None:
    if isinstance(conn, PgConnection):
        conn.execute("CREATE TABLE IF NOT EXISTS sensorapp_schema (version INTEGER NOT NULL)")
        conn.execute("DELETE FROM sensorapp_schema")
        conn.execute("INSERT INTO sensorapp_schema (version) VALUES (?) RETURNING version", (int(version),))
        return
    # PRAGMA takes no bound parameters; the value is an int from this module, not user input.
    conn.execute(f"PRAGMA user_version = {int(version)}")


def migrate(
    conn: DbConnection,
    *,
    steps: Sequence[Migration] = MIGRATIONS,
    target: int | None = None,
    backup_to: Path | None = None,
) -> list[int]:
    """Bring the store up to ``target`` (default: the last step); returns the versions applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``). With
    ``backup_to``, a SQLite store that already holds data is copied there
    (SQLite online backup) before the first step (a PostgreSQL server is
    backed up by its administrator, e.g. with pg_dump). Each step re-reads the
    version inside its write transaction, so two processes opening a new store
    at once apply each step once. Raises SchemaTooNewError for a store
    newer than ``steps`` and StorageError when a step fails (the store then
    stays at the last version that succeeded).
    """
    versions = [s.version for s in steps]
    if versions != list(range(1, len(steps) + 1)):
        raise ValueError(f"migration steps must be numbered 1, 2, 3...; got {versions}")
    target = len(steps) if target is None else target
    if not isinstance(conn, PgConnection):
        return _migrate(conn, steps, target, backup_to)
    # Held across the steps, taken before any of their transactions begins: a transaction that began
    # before another process's step committed would not see that step's new tables in its catalog cache.
    conn.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK_KEY,))
    try:
        return _migrate(conn, steps, target, backup_to)
    finally:
        conn.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK_KEY,))


def _migrate(conn: DbConnection, steps: Sequence[Migration], target: int, backup_to: Path | None) -> list[int]:
    current = schema_version(conn)
    if current > len(steps):
        raise SchemaTooNewError(
            f"this store has schema version {current}, written by a newer sensorapp (this one knows up to {len(steps)}); "
            "it was not changed: update sensorapp to open it"
        )
    pending = [s for s in steps if current < s.version <= target]
    if pending and current > 0 and backup_to is not None and isinstance(conn, sqlite3.Connection):
        try:
            backup = sqlite3.connect(backup_to)
            with backup:
                conn.backup(backup)
            backup.close()
        except (sqlite3.Error, EngineError, OSError) as exc:
            raise storage_error(exc, f"back up the store to {backup_to} before upgrading it") from None
    applied: list[int] = []
    for step in pending:
        try:
            begin_write(conn)
            if schema_version(conn) >= step.version:  # another process applied it meanwhile
                conn.execute("COMMIT")
                continue
            step.apply(conn)
            _set_schema_version(conn, step.version)
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, StorageError):
                raise
            err = storage_error(exc, f"upgrade the store to schema version {step.version} ({step.description})")
            raise type(err)(f"{err}; the store is unchanged at version {schema_version(conn)}") from exc
        applied.append(step.version)
    return applied
