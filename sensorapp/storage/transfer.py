"""Moving a store between engines (``sensorapp store copy``) and what is in one (``sensorapp store info``).

A copy takes every row of every table with its id, in one transaction on the
target, then checks it: the same rows in every table but the sample chunks,
and for each session the SHA-256 of the samples read back from the target
equal to the hash the source stored. The target must be empty; the source is
only read (apart from the usual recovery of interrupted sessions on opening).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .engines import POSTGRESQL, DbConnection, PgConnection
from .errors import StorageError
from .sample_codec import samples_sha256
from .schema import schema_version
from .store import SessionStore

# Parents before children (foreign keys).
TABLES: tuple[str, ...] = ("patients", "prescriptions", "advice_decisions", "sessions", "sample_chunks", "reps")


@dataclass(frozen=True)
class StoreInfo:
    engine: str
    location: str  # password masked
    schema_version: int
    counts: dict[str, int]
    samples: int
    recording: int  # sessions without an end (being recorded now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "location": self.location,
            "schema_version": self.schema_version,
            "counts": dict(self.counts),
            "samples": self.samples,
            "recording": self.recording,
        }


def store_info(store: SessionStore) -> StoreInfo:
    conn = store._conn
    counts = {table: _count(store, table) for table in TABLES}
    samples = int(store._read("SELECT coalesce(sum(sample_count), 0) FROM sessions")[0][0])
    recording = int(store._read("SELECT count(*) FROM sessions WHERE ended_at IS NULL")[0][0])
    return StoreInfo(store.engine, store.location.display, schema_version(conn), counts, samples, recording)


def _count(store: SessionStore, table: str) -> int:
    assert table in TABLES  # the name is formatted into the SQL: only the known tables
    return int(store._read(f"SELECT count(*) FROM {table}")[0][0])


@dataclass
class CopyResult:
    counts: dict[str, int]
    sessions_verified: int
    seconds: float
    hashes: dict[str, str] = field(default_factory=dict)  # session uuid -> samples_sha256


def copy_store(source: SessionStore, target: SessionStore) -> CopyResult:
    """Copy everything from ``source`` into the empty ``target`` and verify it; StorageError saying why not."""
    started = time.monotonic()
    if schema_version(source._conn) != schema_version(target._conn):
        raise StorageError("the two stores have different schema versions; open both with this sensorapp first")
    live = source._read("SELECT id FROM sessions WHERE ended_at IS NULL ORDER BY id")
    if live:
        ids = ", ".join(str(r[0]) for r in live)
        raise StorageError(f"session(s) {ids} are being recorded in the source; copy once they have ended")
    filled = [t for t in TABLES if _count(target, t)]
    if filled:
        raise StorageError(f"the target store {target.location.display} is not empty ({', '.join(filled)}); copy into a new one")
    session_ids = [int(r[0]) for r in source._read("SELECT id FROM sessions ORDER BY id")]
    with target._transaction(f"copy the store into {target.location.display}") as conn:
        for table in TABLES:
            if table == "sample_chunks":  # the bulk: a session at a time
                for sid in session_ids:
                    _copy_rows(source, conn, table, "WHERE session_id = ? ORDER BY seq", (sid,))
            else:
                _copy_rows(source, conn, table, "ORDER BY id", ())
        if isinstance(conn, PgConnection):
            for table in TABLES:  # explicit ids do not move an identity's sequence: the next insert would collide
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table} HAVING count(*) > 0"
                )
    result = CopyResult({t: _count(target, t) for t in TABLES}, 0, 0.0)
    _verify(source, target, result)
    result.seconds = time.monotonic() - started
    return result


def _copy_rows(source: SessionStore, conn: DbConnection, table: str, tail: str, params: Sequence[Any]) -> None:
    cur = source._conn.execute(f"SELECT * FROM {table} {tail}", params)
    names = [getattr(d, "name", None) or d[0] for d in cur.description]
    insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    for row in cur.fetchall():
        conn.execute(insert, tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))


def _verify(source: SessionStore, target: SessionStore, result: CopyResult) -> None:
    for table in TABLES:
        if result.counts[table] != _count(source, table):
            raise StorageError(f"the copy is not complete: {table} has {result.counts[table]} rows, the source {_count(source, table)}")
        if table == "sample_chunks":
            continue
        if source._read(f"SELECT * FROM {table} ORDER BY id") != target._read(f"SELECT * FROM {table} ORDER BY id"):
            raise StorageError(f"the copy differs from the source in {table}")
    for record in source.sessions():
        copied = target.samples(record.id)
        digest = samples_sha256(copied.t_s, copied.force_n, copied.side_codes)
        if digest != record.samples_sha256:
            raise StorageError(f"session {record.id} ({record.uuid}): its samples differ after the copy")
        result.hashes[record.uuid] = digest
        result.sessions_verified += 1


def engine_label(engine: str) -> str:
    return "PostgreSQL" if engine == POSTGRESQL else "SQLite"
