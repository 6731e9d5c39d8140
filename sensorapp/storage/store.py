"""The session store: patients, sessions, reps and every raw sample, in one SQLite file (WAL) or a PostgreSQL database.

Open it with ``SessionStore.open()``: that creates or upgrades the schema and
recovers any session whose recorder died (a crash, a kill): such a session is
closed as incomplete with its samples intact and its reps re-derived from
them. All SQL is parameterised. One store object per thread.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
import os
import re
import sqlite3
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from sensorapp import __version__
from sensorapp.clinic.prescription import Prescription
from sensorapp.signal import (
    DetectorParams,
    Rep,
    SessionSummary,
    SignalInputError,
    analyze_recording,
    summarize,
)

from .engines import (
    ENGINE_ERRORS,
    SQLITE,
    AdvisoryLock,
    DbConnection,
    DbCursor,
    PgConnection,
    StoreLocation,
    begin_write,
    parse_store_url,
    store_from_environment,
)
from .errors import (
    PatientNotFoundError,
    SessionClosedError,
    SessionNotFoundError,
    StorageError,
    storage_error,
)
from .locks import RecordingLock
from .paths import DB_FILENAME, LOCKS_DIRNAME, default_data_dir, ensure_private_dir
from .recorder import DEFAULT_COMMIT_SPAN_S, SampleSegment, SessionRecorder
from .records import (
    ADVICE_DECISIONS,
    PAIN_MAX,
    PAIN_MIN,
    SEXES,
    SIDES,
    AdviceDecision,
    Patient,
    SessionProtocol,
    SessionRecord,
    SessionSamples,
    as_plain_dict,
    json_ready,
)
from .sample_codec import (
    COMPACT_CHUNK_SAMPLES,
    DEFAULT_CODEC,
    SIDE_CODES,
    SIDE_NAMES,
    decode_f8,
    encode_f8,
    samples_sha256,
    side_code,
)
from .schema import SCHEMA_VERSION, migrate

log = logging.getLogger(__name__)

_UNCHANGED: Any = object()
_UUID_PREFIX = re.compile(r"[0-9a-f][0-9a-f-]{7,35}")

_SESSION_COLUMNS = (
    "s.id, s.uuid, s.patient_id, p.name, s.started_at, s.ended_at, s.complete, s.end_reason, s.protocol_json,"
    " s.device_json, s.calibration_json, s.app_version, s.sample_count, s.duration_s, s.samples_sha256,"
    " s.summary_json, s.notes, s.pain_before, s.pain_after, s.prescription_json"
)
_PATIENT_COLUMNS = (
    "id, uuid, name, involved_side, body_mass_kg, lever_arm_m, created_at, external_id, birth_year, sex, notes, archived"
)
_SESSION_FROM = "FROM sessions s LEFT JOIN patients p ON p.id = s.patient_id"


def utc_iso(moment: datetime) -> str:
    """The one text form of a moment in the store: UTC, microseconds, '+00:00' (sorts as text)."""
    if moment.tzinfo is None:
        raise ValueError("datetimes in the store must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def inserted_row_id(cur: DbCursor) -> int:
    """The id of the row an INSERT on ``cur`` just added."""
    if cur.lastrowid is None:  # only after a statement that inserted nothing
        raise StorageError("the database did not report the new row's id")
    return cur.lastrowid


class SessionStore:
    """Patients, sessions, reps and raw samples in ``<data dir>/sensorapp.db`` or a PostgreSQL database."""

    def __init__(
        self,
        conn: DbConnection,
        data_dir: Path,
        *,
        now: Callable[[], datetime] = _utc_now,
        location: StoreLocation | None = None,
    ) -> None:
        self._conn = conn
        self.data_dir = data_dir  # local files: recording locks (SQLite), clinic thresholds
        self.location = location or StoreLocation(SQLITE, sqlite_path=data_dir / DB_FILENAME)
        self.engine = self.location.engine
        # The SQLite file; for PostgreSQL, where a SQLite store would be (never opened): code that reads the
        # file directly is SQLite-only and checks ``engine``.
        self.path = self.location.sqlite_path or data_dir / DB_FILENAME
        self._now = now
        self._live_session_ids: set[int] = set()
        self.recovered_session_ids: list[int] = []
        self.recovery_errors: list[str] = []

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        recover: bool = True,
        now: Callable[[], datetime] = _utc_now,
        store_url: str | None = None,
    ) -> SessionStore:
        """Open (creating or upgrading) the store in ``data_dir`` (default: see ``paths.default_data_dir``).

        ``store_url`` (``postgresql://...``, ``sqlite:///file.db`` or a folder)
        names the database instead; without it and without ``data_dir``,
        ``$SENSORAPP_STORE`` does when set. ``data_dir`` still holds the local
        files (clinic thresholds). With ``recover`` (the default), sessions left
        open by a recorder that died are closed as incomplete and re-analysed
        (``recovered_session_ids``). Raises StorageError (SchemaTooNewError for
        a store from a newer app).
        """
        location = parse_store_url(store_url) if store_url else (store_from_environment() if data_dir is None else None)
        if location is not None and location.engine != SQLITE:
            return cls._open_postgresql(location, data_dir, recover=recover, now=now)
        if location is not None and location.sqlite_path is not None and data_dir is None:
            data_dir = location.sqlite_path.parent
        folder = Path(data_dir) if data_dir is not None else default_data_dir()
        try:
            ensure_private_dir(folder)
        except OSError as exc:
            raise storage_error(exc, f"create the data folder {folder}") from None
        path = location.sqlite_path if location is not None and location.sqlite_path is not None else folder / DB_FILENAME
        try:
            ensure_private_dir(path.parent)
        except OSError as exc:
            raise storage_error(exc, f"create the folder {path.parent}") from None
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise storage_error(exc, f"open the session store {path}") from None
        try:
            if os.name == "posix":
                os.chmod(path, 0o600)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"the session store {path} cannot use write-ahead logging (journal mode {mode!r})")
            conn.execute("PRAGMA synchronous = FULL")  # a commit survives a power cut, not only a crash
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, backup_to=path.parent / f"{path.name}.before-v{SCHEMA_VERSION}.bak")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StorageError(f"{path} is not a sensorapp session store or is damaged ({exc})") from None
        except BaseException:
            conn.close()
            raise
        store = cls(conn, folder, now=now, location=StoreLocation(SQLITE, sqlite_path=path))
        if recover:
            store.recover_interrupted()
        return store

    @classmethod
    def _open_postgresql(
        cls,
        location: StoreLocation,
        data_dir: str | os.PathLike[str] | None,
        *,
        recover: bool,
        now: Callable[[], datetime],
    ) -> SessionStore:
        folder = Path(data_dir) if data_dir is not None else default_data_dir()
        conn = PgConnection.connect(location)
        try:
            migrate(conn)
        except ENGINE_ERRORS as exc:
            conn.close()
            raise StorageError(f"{location.display} is not a usable sensorapp store ({exc})") from None
        except BaseException:
            conn.close()
            raise
        store = cls(conn, folder, now=now, location=location)
        if recover:
            store.recover_interrupted()
        return store

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def locks_dir(self) -> Path:
        return self.data_dir / LOCKS_DIRNAME

    def _lock_for(self, session_uuid: str) -> RecordingLock | AdvisoryLock:
        if isinstance(self._conn, PgConnection):
            return AdvisoryLock(self._conn, session_uuid)
        return RecordingLock(self.locks_dir / f"{session_uuid}.lock")

    @contextmanager
    def _transaction(self, doing: str, *, serialise_writers: bool = True) -> Iterator[DbConnection]:
        """BEGIN IMMEDIATE ... COMMIT; any error rolls back and becomes a StorageError saying what failed.

        On PostgreSQL, ``serialise_writers=False`` lets a transaction that only
        touches its own session's rows (a recorder's commit) run beside others.
        """
        try:
            begin_write(self._conn, serialise_writers=serialise_writers)
        except ENGINE_ERRORS as exc:
            raise storage_error(exc, doing) from None
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except ENGINE_ERRORS as exc:
            self._rollback()
            raise storage_error(exc, doing) from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except ENGINE_ERRORS:  # SQLite may have rolled back by itself (e.g. on SQLITE_FULL)
                pass

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except ENGINE_ERRORS as exc:
            raise storage_error(exc, "read the session store") from None

    # ------------------------------------------------------------------ patients

    def add_patient(
        self,
        name: str,
        *,
        external_id: str | None = None,
        birth_year: int | None = None,
        sex: str | None = None,
        involved_side: str | None = None,
        body_mass_kg: float | None = None,
        lever_arm_m: float | None = None,
        notes: str = "",
        patient_uuid: str | None = None,
    ) -> Patient:
        """A new patient (a name or a pseudonym; names need not be unique, external ids must be)."""
        values = validated_patient_fields(name, involved_side, body_mass_kg, lever_arm_m)
        clinic = validated_clinic_fields(external_id, birth_year, sex, notes, this_year=self._now().year)
        pid_uuid = _checked_uuid(patient_uuid) if patient_uuid else str(uuidlib.uuid4())
        with self._transaction(f"add the patient {values[0]!r}") as conn:
            self._check_external_id_free(conn, clinic[0], None)
            cur = conn.execute(
                "INSERT INTO patients (uuid, name, involved_side, body_mass_kg, lever_arm_m, created_at,"
                " external_id, birth_year, sex, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pid_uuid, *values, utc_iso(self._now()), *clinic),
            )
            new_id = inserted_row_id(cur)
        return self.patient(new_id)

    def update_patient(
        self,
        patient_id: int,
        *,
        name: str = _UNCHANGED,
        external_id: str | None = _UNCHANGED,
        birth_year: int | None = _UNCHANGED,
        sex: str | None = _UNCHANGED,
        involved_side: str | None = _UNCHANGED,
        body_mass_kg: float | None = _UNCHANGED,
        lever_arm_m: float | None = _UNCHANGED,
        notes: str = _UNCHANGED,
        archived: bool = _UNCHANGED,
    ) -> Patient:
        """Change some of a patient's fields (the others keep their values). Stored summaries are not redone."""
        old = self.patient(patient_id)

        def pick(new: Any, current: Any) -> Any:
            return current if new is _UNCHANGED else new

        values = validated_patient_fields(
            pick(name, old.name),
            pick(involved_side, old.involved_side),
            pick(body_mass_kg, old.body_mass_kg),
            pick(lever_arm_m, old.lever_arm_m),
        )
        clinic = validated_clinic_fields(
            pick(external_id, old.external_id),
            pick(birth_year, old.birth_year),
            pick(sex, old.sex),
            pick(notes, old.notes),
            this_year=self._now().year,
        )
        is_archived = pick(archived, old.archived)
        if not isinstance(is_archived, bool):
            raise ValueError(f"archived must be True or False, got {is_archived!r}")
        with self._transaction(f"update the patient {old.name!r}") as conn:
            self._check_external_id_free(conn, clinic[0], patient_id)
            conn.execute(
                "UPDATE patients SET name = ?, involved_side = ?, body_mass_kg = ?, lever_arm_m = ?,"
                " external_id = ?, birth_year = ?, sex = ?, notes = ?, archived = ? WHERE id = ?",
                (*values, *clinic, int(is_archived), patient_id),
            )
        return self.patient(patient_id)

    @staticmethod
    def _check_external_id_free(conn: DbConnection, external_id: str | None, patient_id: int | None) -> None:
        # Checked in the write transaction so the message names the other patient (the unique index is the backstop).
        if external_id is None:
            return
        row = conn.execute("SELECT id, name FROM patients WHERE external_id = ?", (external_id,)).fetchone()
        if row is not None and row[0] != patient_id:
            raise ValueError(f"the external id {external_id!r} is already patient {row[0]}'s ({row[1]})")

    def patient(self, patient_id: int) -> Patient:
        rows = self._read(f"SELECT {_PATIENT_COLUMNS} FROM patients WHERE id = ?", (patient_id,))
        if not rows:
            raise PatientNotFoundError(f"no patient with id {patient_id}")
        return _patient_from_row(rows[0])

    def patients(self, *, include_archived: bool = False) -> list[Patient]:
        """Patients by name (archived ones only with ``include_archived``)."""
        where = "" if include_archived else " WHERE archived = 0"
        rows = self._read(f"SELECT {_PATIENT_COLUMNS} FROM patients{where} ORDER BY name COLLATE NOCASE, id")
        return [_patient_from_row(r) for r in rows]

    def find_patients(self, name: str) -> list[Patient]:
        """Patients with exactly this name, ignoring case and surrounding spaces."""
        rows = self._read(
            f"SELECT {_PATIENT_COLUMNS} FROM patients WHERE lower(trim(name)) = lower(trim(?)) ORDER BY id",
            (name,),
        )
        return [_patient_from_row(r) for r in rows]

    def patient_by_name(self, name: str) -> Patient:
        """The one patient with this name; PatientNotFoundError when none or several match."""
        found = self.find_patients(name)
        if not found:
            raise PatientNotFoundError(f"no patient called {name!r}")
        if len(found) > 1:
            ids = ", ".join(str(p.id) for p in found)
            raise PatientNotFoundError(f"{len(found)} patients are called {name!r} (ids {ids}); tell them apart by id")
        return found[0]

    def patient_by_uuid(self, patient_uuid: str) -> Patient | None:
        rows = self._read(f"SELECT {_PATIENT_COLUMNS} FROM patients WHERE uuid = ?", (patient_uuid,))
        return _patient_from_row(rows[0]) if rows else None

    def patient_by_external_id(self, external_id: str) -> Patient | None:
        rows = self._read(f"SELECT {_PATIENT_COLUMNS} FROM patients WHERE external_id = ?", (str(external_id).strip(),))
        return _patient_from_row(rows[0]) if rows else None

    def resolve_patient(self, ref: str | int) -> Patient:
        """A patient by id, by external id (the clinic's record number) or by a unique name (archived ones too).

        PatientNotFoundError saying why when none matches, several share the
        name, or a number is one patient's id and another's external id.
        """
        if isinstance(ref, int) and not isinstance(ref, bool):
            return self.patient(ref)
        text = str(ref).strip()
        if not text:
            raise PatientNotFoundError("no patient given: use an id, an external id or a name")
        by_id: Patient | None = None
        if text.isdigit() and len(text) < 19:  # beyond, not an SQLite integer id
            try:
                by_id = self.patient(int(text))
            except PatientNotFoundError:
                by_id = None
        by_external = self.patient_by_external_id(text)
        if by_id is not None and by_external is not None and by_id.id != by_external.id:
            raise PatientNotFoundError(
                f"{text!r} is patient {by_id.id}'s id ({by_id.name}) and patient {by_external.id}'s external id"
                f" ({by_external.name}); give the name instead"
            )
        if by_external is not None:
            return by_external
        if by_id is not None:
            return by_id
        found = self.find_patients(text)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ", ".join(str(p.id) for p in found)
            raise PatientNotFoundError(f"{len(found)} patients are called {text!r} (ids {ids}); give the id instead")
        raise PatientNotFoundError(f"no patient with the id, external id or name {text!r}")

    # ------------------------------------------------------------------ prescriptions

    def set_prescription(self, patient_id: int, prescription: Prescription) -> Prescription:
        """Make ``prescription`` the patient's current one (the old ones stay as history); returns the stored copy."""
        if not isinstance(prescription, Prescription):
            raise TypeError(f"expected a Prescription, got {type(prescription).__name__}")
        patient = self.patient(patient_id)
        stored = dataclasses.replace(prescription, uuid=str(uuidlib.uuid4()), created_at=self._now())
        with self._transaction(f"set the prescription of {patient.name!r}") as conn:
            latest = conn.execute(
                "SELECT max(created_at) FROM prescriptions WHERE patient_id = ?", (patient_id,)
            ).fetchone()[0]
            if latest is not None and utc_iso(stored.created_at) <= latest:  # type: ignore[arg-type]
                # A clock that went back (or two changes in one microsecond): keep "newest is current" true.
                stored = dataclasses.replace(stored, created_at=parse_iso(latest) + timedelta(microseconds=1))
            conn.execute(
                "INSERT INTO prescriptions (uuid, patient_id, reps_per_side, hold_s, rest_s, first_side, target_kind,"
                " target_low, target_high, sessions_per_day, start_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.uuid,
                    patient_id,
                    stored.reps_per_side,
                    stored.hold_s,
                    stored.rest_s,
                    stored.first_side,
                    stored.target_kind,
                    stored.target_low,
                    stored.target_high,
                    stored.sessions_per_day,
                    None if stored.start_date is None else stored.start_date.isoformat(),
                    utc_iso(stored.created_at),  # type: ignore[arg-type]
                ),
            )
        return stored

    def prescription(self, patient_id: int) -> Prescription | None:
        """The patient's current prescription (the newest), or None when there is none."""
        history = self._prescriptions(patient_id, newest_only=True)
        return history[0] if history else None

    def prescription_history(self, patient_id: int) -> list[Prescription]:
        """Every prescription the patient had, oldest first."""
        return self._prescriptions(patient_id, newest_only=False)

    def _prescriptions(self, patient_id: int, *, newest_only: bool) -> list[Prescription]:
        self.patient(patient_id)
        order = "created_at DESC, id DESC LIMIT 1" if newest_only else "created_at, id"
        rows = self._read(
            "SELECT uuid, reps_per_side, hold_s, rest_s, first_side, target_kind, target_low, target_high,"
            f" sessions_per_day, start_date, created_at FROM prescriptions WHERE patient_id = ? ORDER BY {order}",
            (patient_id,),
        )
        return [
            Prescription(
                reps_per_side=int(r[1]),
                hold_s=float(r[2]),
                rest_s=float(r[3]),
                first_side=r[4],
                target_kind=r[5],
                target_low=r[6],
                target_high=r[7],
                sessions_per_day=int(r[8]),
                start_date=None if r[9] is None else date.fromisoformat(r[9]),
                uuid=r[0],
                created_at=parse_iso(r[10]),
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ pain and advice

    def set_pain(self, session_id: int, *, before: int | None = _UNCHANGED, after: int | None = _UNCHANGED) -> SessionRecord:
        """Store the 0-10 pain ratings given before and/or after the session (None: skipped)."""
        record = self.session(session_id)
        new_before = record.pain_before if before is _UNCHANGED else validated_pain(before, "before")
        new_after = record.pain_after if after is _UNCHANGED else validated_pain(after, "after")
        with self._transaction(f"save the pain ratings of session {session_id}") as conn:
            conn.execute("UPDATE sessions SET pain_before = ?, pain_after = ? WHERE id = ?", (new_before, new_after, session_id))
        return self.session(session_id)

    def record_advice_decision(
        self, patient_id: int, *, rule_id: str, advice_text: str, decision: str, basis: Mapping[str, Any]
    ) -> int:
        """Note that the therapist accepted or dismissed advice; returns the decision's id. The prescription is not changed."""
        patient = self.patient(patient_id)
        for label, text, limit in (("rule_id", rule_id, 200), ("advice_text", advice_text, 2000)):
            if not isinstance(text, str) or not text.strip() or len(text) > limit:
                raise ValueError(f"{label} must be non-empty text of at most {limit} characters, got {text!r}")
        if decision not in ADVICE_DECISIONS:
            raise ValueError(f"decision must be 'accepted' or 'dismissed', got {decision!r}")
        if not isinstance(basis, Mapping):
            raise ValueError(f"basis must be a mapping, got {type(basis).__name__}")
        basis_json = json.dumps(json_ready(dict(basis)), allow_nan=False)
        with self._transaction(f"record the advice decision for {patient.name!r}") as conn:
            cur = conn.execute(
                "INSERT INTO advice_decisions (patient_id, rule_id, advice_text, decision, decided_at, basis_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (patient_id, rule_id, advice_text, decision, utc_iso(self._now()), basis_json),
            )
            return inserted_row_id(cur)

    def advice_decisions(self, patient_id: int) -> list[AdviceDecision]:
        """The patient's advice decisions, oldest first."""
        self.patient(patient_id)
        rows = self._read(
            "SELECT id, patient_id, rule_id, advice_text, decision, decided_at, basis_json FROM advice_decisions"
            " WHERE patient_id = ? ORDER BY decided_at, id",
            (patient_id,),
        )
        return [
            AdviceDecision(int(r[0]), int(r[1]), r[2], r[3], r[4], parse_iso(r[5]), json.loads(r[6])) for r in rows
        ]

    # ------------------------------------------------------------------ recording

    def begin_session(
        self,
        *,
        patient_id: int | None = None,
        protocol: SessionProtocol | Mapping[str, Any] | None = None,
        prescription: Prescription | None = None,
        device: object = None,
        calibration: object = None,
        side: str | None = None,
        started_at: datetime | None = None,
        notes: str = "",
        commit_interval_s: float = 0.5,
        commit_span_s: float = DEFAULT_COMMIT_SPAN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> SessionRecorder:
        """Create a session and return the recorder that fills it.

        ``protocol`` defaults to the prescription's (else ``SessionProtocol()``);
        ``prescription`` is stored with the session as the snapshot it was done under.
        ``device`` and ``calibration``: dataclasses (``SourceInfo``,
        ``LinearCalibration``) or mappings, stored as JSON. ``side`` labels the
        samples until ``recorder.set_side``. ``commit_interval_s`` (wall time,
        <= 1 s) and ``commit_span_s`` (device time) bound what a crash can
        lose (see ``sensorapp.storage.recorder``); ``clock`` is injectable for tests.
        """
        if not 0 < commit_interval_s <= 1.0:
            raise ValueError(f"commit_interval_s must be in (0, 1] s, got {commit_interval_s!r}")
        if prescription is not None and not isinstance(prescription, Prescription):
            raise TypeError(f"expected a Prescription, got {type(prescription).__name__}")
        if protocol is None:
            protocol = prescription.to_protocol() if prescription is not None else SessionProtocol()
        if isinstance(protocol, SessionProtocol):
            protocol_fields = protocol.to_dict()
        else:  # validate the known keys, keep any others the GUI stores (e.g. its own cue settings)
            protocol_fields = {**json_ready(dict(protocol)), **SessionProtocol.from_dict(protocol).to_dict()}
        side_code(side)
        if patient_id is not None:
            self.patient(patient_id)
        session_uuid = str(uuidlib.uuid4())
        lock = self._lock_for(session_uuid)
        try:
            if not lock.try_acquire():  # a fresh uuid: only fails if the locks folder is broken
                raise StorageError(f"cannot lock {lock.path}")
        except OSError as exc:
            raise storage_error(exc, f"create the recording lock in {self.locks_dir}") from None
        start = started_at or self._now()
        try:
            with self._transaction("start a session") as conn:
                cur = conn.execute(
                    "INSERT INTO sessions (uuid, patient_id, protocol_json, device_json, calibration_json, started_at,"
                    " app_version, notes, last_saved_at, prescription_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session_uuid,
                        patient_id,
                        json.dumps(protocol_fields),
                        json.dumps(as_plain_dict(device)),
                        json.dumps(as_plain_dict(calibration)),
                        utc_iso(start),
                        __version__,
                        notes,
                        utc_iso(start),
                        None if prescription is None else json.dumps(prescription.to_dict()),
                    ),
                )
                session_id = inserted_row_id(cur)
        except BaseException:
            lock.release()
            raise
        self._live_session_ids.add(session_id)
        return SessionRecorder(
            _RecorderSink(self),
            session_id,
            session_uuid,
            lock,
            side=side,
            commit_interval_s=commit_interval_s,
            commit_span_s=commit_span_s,
            clock=clock,
        )

    def _commit_segments(
        self, session_id: int, first_seq: int, segments: Sequence[SampleSegment], sample_count: int, duration_s: float
    ) -> int:
        """One transaction: the segments as chunks plus the session's progress; returns the next seq.

        Raises SessionClosedError if the session has ended meanwhile (e.g.
        recovered by another process that found no live recorder).
        """
        seq = first_seq
        with self._transaction("save the recorded samples", serialise_writers=False) as conn:
            cur = conn.execute(
                "UPDATE sessions SET last_saved_at = ?, sample_count = ?, duration_s = ? WHERE id = ? AND ended_at IS NULL",
                (utc_iso(self._now()), sample_count, duration_s, session_id),
            )
            if cur.rowcount != 1:
                raise SessionClosedError(f"session {session_id} has ended; its recorder can no longer add samples")
            seq = self._insert_chunks(conn, session_id, seq, segments, chunk_samples=COMPACT_CHUNK_SAMPLES)
        return seq

    @staticmethod
    def _insert_chunks(
        conn: DbConnection, session_id: int, seq: int, segments: Sequence[SampleSegment], *, chunk_samples: int
    ) -> int:
        for seg in segments:
            for lo in range(0, seg.t_s.size, chunk_samples):
                t = seg.t_s[lo : lo + chunk_samples]
                f = seg.force_n[lo : lo + chunk_samples]
                conn.execute(
                    "INSERT INTO sample_chunks (session_id, seq, side, n, t_first_s, t_last_s, codec, t_s, force_n)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        seq,
                        SIDE_NAMES[seg.side_code],
                        int(t.size),
                        float(t[0]),
                        float(t[-1]),
                        DEFAULT_CODEC,
                        encode_f8(t),
                        encode_f8(f),
                    ),
                )
                seq += 1
        return seq

    def _recording_ended(self, session_id: int) -> None:
        self._live_session_ids.discard(session_id)

    # ------------------------------------------------------------------ finishing and recovery

    def _finalise(
        self,
        session_id: int,
        *,
        complete: bool,
        reason: str,
        ended_at: datetime,
        params: DetectorParams = DetectorParams(),
    ) -> SessionRecord:
        """Close an open session: compact its chunks, derive reps and summary from its samples, set the end."""
        record = self.session(session_id)
        if record.ended_at is not None:
            raise SessionClosedError(f"session {session_id} has already ended")
        samples = self.samples(session_id)
        patient = self.patient(record.patient_id) if record.patient_id is not None else None
        summary, analysis = self._analyse(samples, record.protocol, patient, params)
        digest = samples_sha256(samples.t_s, samples.force_n, samples.side_codes)
        segments = _segments_of(samples)
        compacted_chunks = sum(math.ceil(s.t_s.size / COMPACT_CHUNK_SAMPLES) for s in segments)
        with self._transaction(f"finish session {session_id}") as conn:
            still_open = conn.execute("SELECT ended_at IS NULL FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if not still_open or not still_open[0]:
                raise SessionClosedError(f"session {session_id} has already ended")
            stored_chunks = conn.execute("SELECT count(*) FROM sample_chunks WHERE session_id = ?", (session_id,)).fetchone()[0]
            if stored_chunks > compacted_chunks:
                conn.execute("DELETE FROM sample_chunks WHERE session_id = ?", (session_id,))
                self._insert_chunks(conn, session_id, 0, segments, chunk_samples=COMPACT_CHUNK_SAMPLES)
            self._replace_reps(conn, session_id, summary)
            conn.execute(
                "UPDATE sessions SET ended_at = ?, complete = ?, end_reason = ?, summary_json = ?, analysis_json = ?,"
                " samples_sha256 = ?, sample_count = ?, duration_s = ? WHERE id = ?",
                (
                    utc_iso(ended_at),
                    int(bool(complete)),
                    reason,
                    json.dumps(json_ready(summary.to_dict())),
                    json.dumps(analysis),
                    digest,
                    len(samples),
                    _duration(samples.t_s),
                    session_id,
                ),
            )
        self._live_session_ids.discard(session_id)
        return self.session(session_id)

    def recover_interrupted(self) -> list[int]:
        """Close every open session whose recorder is gone, as incomplete; returns their ids.

        A session whose recorder still holds its lock (this or another
        process) is left alone. A failure to recover one session (e.g. a full
        disk) is logged in ``recovery_errors`` and does not stop the store
        from opening; the next open tries again.
        """
        recovered: list[int] = []
        rows = self._read("SELECT id, uuid, started_at, last_saved_at FROM sessions WHERE ended_at IS NULL ORDER BY id")
        for session_id, session_uuid, started_at, last_saved_at in rows:
            if session_id in self._live_session_ids:
                continue
            lock = self._lock_for(session_uuid)
            try:
                if not lock.try_acquire():
                    continue  # its recorder is alive
            except OSError as exc:
                self.recovery_errors.append(f"session {session_id}: cannot check its recording lock: {exc}")
                continue
            try:
                self._finalise(
                    session_id, complete=False, reason="interrupted", ended_at=parse_iso(last_saved_at or started_at)
                )
                recovered.append(session_id)
                log.warning("recovered session %d (%s): its recording was interrupted; marked incomplete", session_id, session_uuid)
            except SessionClosedError:
                pass  # another process recovered it first
            except StorageError as exc:
                self.recovery_errors.append(f"session {session_id}: {exc}")
                log.error("could not recover session %d: %s", session_id, exc)
            finally:
                lock.release()
        self.recovered_session_ids.extend(recovered)
        return recovered

    def _analyse(
        self,
        samples: SessionSamples,
        protocol: Mapping[str, Any],
        patient: Patient | None,
        params: DetectorParams,
    ) -> tuple[SessionSummary, dict[str, Any]]:
        """Reps and summary of the samples (the signal layer's offline analysis), and a note of how."""
        target_hold_s = float(protocol.get("hold_s", params.target_hold_s))
        error: str | None = None
        reps: list[Rep] = []
        if len(samples):
            try:
                reps = analyze_recording(samples.t_s, samples.force_n, samples.analysis_side(), params)
            except SignalInputError as exc:
                error = str(exc)
                log.error("analysis failed: %s", exc)
            except Exception as exc:  # a detector bug must not stop a session from being closed or recovered
                error = f"{type(exc).__name__}: {exc}"
                log.exception("analysis crashed")
        summary = summarize(
            reps,
            target_hold_s=target_hold_s,
            involved_side=patient.involved_side if patient else None,
            body_mass_kg=patient.body_mass_kg if patient else None,
            lever_arm_m=patient.lever_arm_m if patient else None,
        )
        analysis = {
            "params": json_ready(dataclasses.asdict(params)),
            "analysed_at": utc_iso(self._now()),
            "app_version": __version__,
            "error": error,
        }
        return summary, analysis

    @staticmethod
    def _replace_reps(conn: DbConnection, session_id: int, summary: SessionSummary) -> None:
        conn.execute("DELETE FROM reps WHERE session_id = ?", (session_id,))
        SessionStore._insert_reps(conn, session_id, summary.reps)

    @staticmethod
    def _insert_reps(conn: DbConnection, session_id: int, reps: Sequence[Rep]) -> None:
        for rep in reps:
            conn.execute(
                "INSERT INTO reps (session_id, side, rep_index, onset_s, release_s, hold_s, baseline_n, plateau_n, peak_n,"
                " mean_n, impulse_ns, target_met, metrics_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    rep.side or "",
                    int(rep.index),
                    float(rep.onset_s),
                    float(rep.release_s),
                    float(rep.hold_s),
                    float(rep.baseline_n),
                    float(rep.plateau_n),
                    float(rep.peak_n),
                    float(rep.mean_n),
                    float(rep.impulse_ns),
                    int(bool(rep.target_met)),
                    json.dumps(rep_to_json(rep)),
                ),
            )

    # ------------------------------------------------------------------ reading sessions

    def sessions(self, patient_id: int | None = None) -> list[SessionRecord]:
        """Sessions in start order, of one patient or of all."""
        if patient_id is None:
            rows = self._read(f"SELECT {_SESSION_COLUMNS} {_SESSION_FROM} ORDER BY s.started_at, s.id")
        else:
            rows = self._read(
                f"SELECT {_SESSION_COLUMNS} {_SESSION_FROM} WHERE s.patient_id = ? ORDER BY s.started_at, s.id", (patient_id,)
            )
        return [_session_from_row(r) for r in rows]

    def latest_change(self) -> tuple[Any, ...]:
        """A cheap token that changes when a session or patient is added, ends or is deleted (by anyone).

        For a screen to poll: a recorder's progress commits do not change it, so
        History is not redrawn twice a second while someone records.
        """
        return tuple(
            self._read(
                "SELECT count(*), coalesce(max(id), 0), max(ended_at),"
                " (SELECT count(*) FROM patients), (SELECT coalesce(max(id), 0) FROM patients) FROM sessions"
            )[0]
        )

    def last_session(self, patient_id: int) -> SessionRecord | None:
        """The patient's most recently started session, or None."""
        rows = self._read(
            f"SELECT {_SESSION_COLUMNS} {_SESSION_FROM} WHERE s.patient_id = ? ORDER BY s.started_at DESC, s.id DESC LIMIT 1",
            (patient_id,),
        )
        return _session_from_row(rows[0]) if rows else None

    def session(self, session_id: int) -> SessionRecord:
        rows = self._read(f"SELECT {_SESSION_COLUMNS} {_SESSION_FROM} WHERE s.id = ?", (session_id,))
        if not rows:
            raise SessionNotFoundError(f"no session with id {session_id}")
        return _session_from_row(rows[0])

    def session_by_uuid(self, session_uuid: str) -> SessionRecord | None:
        rows = self._read(f"SELECT {_SESSION_COLUMNS} {_SESSION_FROM} WHERE s.uuid = ?", (session_uuid,))
        return _session_from_row(rows[0]) if rows else None

    def find_session(self, ref: str | int) -> SessionRecord:
        """A session by id ("12"), by UUID, or by a UUID prefix of at least 8 characters."""
        text = str(ref).strip()
        if text.isdigit():
            try:
                return self.session(int(text))
            except SessionNotFoundError:
                # 8+ digits may also be a UUID prefix (about 2 % of UUIDs start with 8 digits).
                if len(text) < 8:
                    raise
        if not _UUID_PREFIX.fullmatch(text.lower()):
            raise SessionNotFoundError(f"{text!r} is not a session id (a number) or a UUID (at least its first 8 characters)")
        pattern = text.lower() + "%"  # hex digits and dashes only: no LIKE wildcards
        rows = self._read(f"SELECT {_SESSION_COLUMNS} {_SESSION_FROM} WHERE s.uuid LIKE ? ORDER BY s.id", (pattern,))
        if not rows:
            raise SessionNotFoundError(f"no session with UUID {text}")
        if len(rows) > 1:
            raise SessionNotFoundError(f"{len(rows)} sessions have a UUID starting with {text}; give more of it")
        return _session_from_row(rows[0])

    def samples(self, session_id: int) -> SessionSamples:
        """Every raw sample of the session, exactly as recorded."""
        rows = self._read(
            "SELECT side, n, codec, t_s, force_n FROM sample_chunks WHERE session_id = ? ORDER BY seq", (session_id,)
        )
        if not rows:
            self.session(session_id)  # SessionNotFoundError if it does not exist
        total = sum(int(r[1]) for r in rows)
        t = np.empty(total, dtype=np.float64)
        f = np.empty(total, dtype=np.float64)
        codes = np.empty(total, dtype=np.uint8)
        at = 0
        for side, n, codec, t_blob, f_blob in rows:
            t[at : at + n] = decode_f8(t_blob, n, codec)
            f[at : at + n] = decode_f8(f_blob, n, codec)
            codes[at : at + n] = SIDE_CODES.get(side, 0)
            at += n
        return SessionSamples(t, f, codes)

    def reps(self, session_id: int) -> list[Rep]:
        """The stored reps, in order (side, then index within the side)."""
        rows = self._read(
            "SELECT metrics_json FROM reps WHERE session_id = ? ORDER BY CASE side WHEN 'left' THEN 0 WHEN 'right' THEN 1 ELSE 2 END,"
            " rep_index",
            (session_id,),
        )
        if not rows:
            self.session(session_id)
        try:
            return [rep_from_json(json.loads(r[0])) for r in rows]
        except (TypeError, ValueError):
            # Stored by a version whose Rep had other fields: derive them again from the samples.
            return list(self.reanalyse(session_id).reps)

    def summary(self, session_id: int) -> SessionSummary:
        """Per-side summaries and symmetry from the stored reps and the patient's current details."""
        record = self.session(session_id)
        patient = self.patient(record.patient_id) if record.patient_id is not None else None
        return summarize(
            self.reps(session_id),
            target_hold_s=record.target_hold_s,
            involved_side=patient.involved_side if patient else None,
            body_mass_kg=patient.body_mass_kg if patient else None,
            lever_arm_m=patient.lever_arm_m if patient else None,
        )

    def reanalyse(self, session_id: int, params: DetectorParams = DetectorParams(), *, save: bool = False) -> SessionSummary:
        """Run the analysis again on the raw samples with ``params``; ``save`` replaces the stored reps and summary."""
        record = self.session(session_id)
        if save and record.ended_at is None:
            raise StorageError(f"session {session_id} is still being recorded; re-analyse it once it has ended")
        patient = self.patient(record.patient_id) if record.patient_id is not None else None
        summary, analysis = self._analyse(self.samples(session_id), record.protocol, patient, params)
        if save:
            with self._transaction(f"save the new analysis of session {session_id}") as conn:
                self._replace_reps(conn, session_id, summary)
                conn.execute(
                    "UPDATE sessions SET summary_json = ?, analysis_json = ? WHERE id = ?",
                    (json.dumps(json_ready(summary.to_dict())), json.dumps(analysis), session_id),
                )
        return summary

    def analysis_info(self, session_id: int) -> dict[str, Any] | None:
        """How the stored reps were derived: detector params, when, app version, error if any."""
        rows = self._read("SELECT analysis_json FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            raise SessionNotFoundError(f"no session with id {session_id}")
        return json.loads(rows[0][0]) if rows[0][0] else None

    def delete_session(self, session_id: int) -> None:
        """Remove a session with its reps and samples. Refuses one that is being recorded."""
        record = self.session(session_id)
        if record.ended_at is None:
            lock = self._lock_for(record.uuid)
            if session_id in self._live_session_ids or not lock.try_acquire():
                raise StorageError(f"session {session_id} is being recorded; stop the recording first")
            lock.release()
        with self._transaction(f"delete session {session_id}") as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # ------------------------------------------------------------------ import (used by bundle.py)

    def _insert_finished_session(
        self,
        *,
        session_uuid: str,
        patient_id: int | None,
        protocol: Mapping[str, Any],
        device: Mapping[str, Any],
        calibration: Mapping[str, Any],
        started_at: datetime,
        ended_at: datetime | None,
        complete: bool,
        end_reason: str | None,
        app_version: str,
        notes: str,
        samples: SessionSamples,
        reps: Sequence[Rep],
        summary: Mapping[str, Any] | None,
        analysis: Mapping[str, Any] | None,
        conn: DbConnection,
        prescription: Mapping[str, Any] | None = None,
        pain_before: int | None = None,
        pain_after: int | None = None,
    ) -> int:
        """Insert a whole ended session inside the caller's transaction; returns its id."""
        cur = conn.execute(
            "INSERT INTO sessions (uuid, patient_id, protocol_json, device_json, calibration_json, started_at, ended_at,"
            " complete, end_reason, app_version, notes, last_saved_at, sample_count, duration_s, samples_sha256,"
            " summary_json, analysis_json, prescription_json, pain_before, pain_after)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session_uuid,
                patient_id,
                json.dumps(dict(protocol)),
                json.dumps(dict(device)),
                json.dumps(dict(calibration)),
                utc_iso(started_at),
                utc_iso(ended_at or started_at),
                int(bool(complete)),
                end_reason or ("finished" if complete else "interrupted"),
                app_version,
                notes,
                utc_iso(ended_at or started_at),
                len(samples),
                _duration(samples.t_s),
                samples_sha256(samples.t_s, samples.force_n, samples.side_codes),
                None if summary is None else json.dumps(json_ready(dict(summary))),
                None if analysis is None else json.dumps(json_ready(dict(analysis))),
                None if prescription is None else json.dumps(json_ready(dict(prescription))),
                validated_pain(pain_before, "before"),
                validated_pain(pain_after, "after"),
            ),
        )
        session_id = inserted_row_id(cur)
        self._insert_chunks(conn, session_id, 0, _segments_of(samples), chunk_samples=COMPACT_CHUNK_SAMPLES)
        self._insert_reps(conn, session_id, reps)
        return session_id


# ---------------------------------------------------------------------- helpers


def rep_to_json(rep: Rep) -> dict[str, Any]:
    """Every field of a Rep at full precision (``Rep.to_dict`` rounds, this does not)."""
    return dataclasses.asdict(rep)


def rep_from_json(data: Mapping[str, Any]) -> Rep:
    """A Rep from ``rep_to_json``; TypeError when the fields do not match this version's Rep."""
    known = {f.name for f in dataclasses.fields(Rep)}
    return Rep(**{k: v for k, v in data.items() if k in known})


class _RecorderSink:
    """The ``SampleSink`` a store gives its recorders: its recording methods, nothing else."""

    def __init__(self, store: SessionStore) -> None:
        self._store = store

    @property
    def path(self) -> os.PathLike[str] | str:
        store = self._store
        return store.path if store.engine == SQLITE else store.location.display

    def commit_segments(
        self, session_id: int, first_seq: int, segments: Sequence[SampleSegment], sample_count: int, duration_s: float
    ) -> int:
        return self._store._commit_segments(session_id, first_seq, segments, sample_count, duration_s)

    def finalise(self, session_id: int, *, complete: bool, reason: str, params: DetectorParams) -> SessionRecord:
        store = self._store
        return store._finalise(session_id, complete=complete, reason=reason, ended_at=store._now(), params=params)

    def delete(self, session_id: int) -> None:
        with self._store._transaction(f"discard session {session_id}") as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def recording_ended(self, session_id: int) -> None:
        self._store._recording_ended(session_id)


def _segments_of(samples: SessionSamples) -> list[SampleSegment]:
    """Runs of one side, in order."""
    n = len(samples)
    if n == 0:
        return []
    cuts = np.flatnonzero(np.diff(samples.side_codes.astype(np.int16)) != 0) + 1
    bounds = [0, *cuts.tolist(), n]
    return [
        SampleSegment(int(samples.side_codes[lo]), samples.t_s[lo:hi], samples.force_n[lo:hi])
        for lo, hi in itertools.pairwise(bounds)
    ]


def _duration(t_s: np.ndarray) -> float:
    return float(t_s[-1] - t_s[0]) if t_s.size else 0.0


def _checked_uuid(text: str) -> str:
    try:
        return str(uuidlib.UUID(str(text)))
    except ValueError:
        raise ValueError(f"{text!r} is not a UUID") from None


def validated_patient_fields(
    name: str, involved_side: str | None, body_mass_kg: float | None, lever_arm_m: float | None
) -> tuple[str, str | None, float | None, float | None]:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a patient needs a name or a pseudonym")
    clean = " ".join(name.split())
    if len(clean) > 200:
        raise ValueError("a patient name is at most 200 characters")
    if involved_side not in (None, *SIDES):
        raise ValueError(f"involved_side must be 'left', 'right' or None, got {involved_side!r}")
    for label, value in (("body_mass_kg", body_mass_kg), ("lever_arm_m", lever_arm_m)):
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{label} must be a positive number or None, got {value!r}")
    return (
        clean,
        involved_side,
        None if body_mass_kg is None else float(body_mass_kg),
        None if lever_arm_m is None else float(lever_arm_m),
    )


def validated_clinic_fields(
    external_id: str | None, birth_year: int | None, sex: str | None, notes: str, *, this_year: int
) -> tuple[str | None, int | None, str | None, str]:
    """External id (trimmed; empty means none), birth year 1900..this year, sex, notes; ValueError saying which is wrong."""
    if external_id is not None:
        if not isinstance(external_id, str):
            raise ValueError(f"an external id must be text, got {external_id!r}")
        external_id = external_id.strip() or None
        if external_id is not None and (len(external_id) > 100 or any(not ch.isprintable() for ch in external_id)):
            raise ValueError("an external id is at most 100 printable characters")
    if birth_year is not None and (
        not isinstance(birth_year, int) or isinstance(birth_year, bool) or not 1900 <= birth_year <= this_year
    ):
        raise ValueError(f"birth year must be a whole number from 1900 to {this_year}, got {birth_year!r}")
    if sex not in (None, *SEXES):
        raise ValueError(f"sex must be 'female', 'male', 'other' or None, got {sex!r}")
    if not isinstance(notes, str) or len(notes) > 100_000:
        raise ValueError("notes must be text of at most 100 000 characters")
    return external_id, birth_year, sex, notes


def validated_pain(value: int | None, when: str) -> int | None:
    """A 0-10 numeric rating scale score, or None (skipped)."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not PAIN_MIN <= value <= PAIN_MAX:
        raise ValueError(f"pain {when} must be a whole number from {PAIN_MIN} to {PAIN_MAX}, got {value!r}")
    return value


def _patient_from_row(row: tuple[Any, ...]) -> Patient:
    return Patient(
        id=int(row[0]),
        uuid=row[1],
        name=row[2],
        involved_side=row[3],
        body_mass_kg=row[4],
        lever_arm_m=row[5],
        created_at=parse_iso(row[6]),
        external_id=row[7],
        birth_year=row[8],
        sex=row[9],
        notes=row[10] or "",
        archived=bool(row[11]),
    )


def _session_from_row(row: tuple[Any, ...]) -> SessionRecord:
    return SessionRecord(
        id=int(row[0]),
        uuid=row[1],
        patient_id=row[2],
        patient_name=row[3],
        started_at=parse_iso(row[4]),
        ended_at=parse_iso(row[5]) if row[5] else None,
        complete=bool(row[6]),
        end_reason=row[7],
        protocol=json.loads(row[8]),
        device=json.loads(row[9]),
        calibration=json.loads(row[10]),
        app_version=row[11],
        sample_count=int(row[12]),
        duration_s=float(row[13]),
        samples_sha256=row[14],
        summary=json.loads(row[15]) if row[15] else None,
        notes=row[16] or "",
        pain_before=row[17],
        pain_after=row[18],
        prescription=json.loads(row[19]) if row[19] else None,
    )
