"""Where the store lives (a SQLite file or a PostgreSQL database) and the small dialect layer between them.

The store's SQL is written once, in SQLite's dialect (``?`` placeholders,
``INTEGER PRIMARY KEY``, ``BLOB``, ``COLLATE NOCASE``). ``PgConnection`` wraps a
psycopg 3 connection so that the same statements run on PostgreSQL: it rewrites
placeholders, maps the DDL types (``BIGINT`` identity ids, ``DOUBLE PRECISION``
so floats stay 64-bit, ``BYTEA`` for the sample chunks, ``TEXT COLLATE "C"`` so
ISO times and names sort byte-wise as in SQLite), adds ``RETURNING id`` to
inserts (``lastrowid``) and turns psycopg's errors into ``EngineError`` with
any password removed. psycopg is imported only when a PostgreSQL store is opened.
"""

from __future__ import annotations

import os
import re
import sqlite3
import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .errors import EngineError, StorageError
from .paths import DB_FILENAME

STORE_ENV = "SENSORAPP_STORE"
SQLITE = "sqlite"
POSTGRESQL = "postgresql"

# Transaction-level advisory lock every write transaction but a recorder's commit takes:
# SQLite's BEGIN IMMEDIATE serialises writers, and the store's check-then-write steps rely on it.
WRITE_LOCK_KEY = 0x5E_45_0A_99


class DbCursor(Protocol):
    @property
    def lastrowid(self) -> int | None: ...

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class DbConnection(Protocol):
    """What the store and the migrations use of a connection: sqlite3.Connection and PgConnection both have it."""

    def execute(self, sql: str, parameters: Any = (), /) -> Any: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class StoreLocation:
    """A store's engine and address; ``display`` is safe to print (no password)."""

    engine: str
    sqlite_path: Path | None = None  # the SQLite file
    url: str | None = None  # the PostgreSQL connection URL, with its password if it has one

    @property
    def display(self) -> str:
        if self.engine == SQLITE:
            return str(self.sqlite_path)
        return mask_url(self.url or "")


def parse_store_url(text: str) -> StoreLocation:
    """``postgresql://...`` / ``postgres://...``, ``sqlite:///path/to/file.db``, or a folder (its sensorapp.db)."""
    value = str(text).strip()
    if not value:
        raise StorageError("no store given: use postgresql://..., sqlite:///path/to/sensorapp.db or a folder")
    scheme = value.split(":", 1)[0].lower() if "://" in value else ""
    if scheme in ("postgresql", "postgres"):
        return StoreLocation(POSTGRESQL, url=value)
    if scheme == "sqlite":
        file_part = unquote(urlsplit(value).path)
        if not file_part:
            raise StorageError(f"{value!r} names no file: use sqlite:///path/to/sensorapp.db")
        return StoreLocation(SQLITE, sqlite_path=Path(file_part))
    if scheme:
        raise StorageError(f"unknown store kind {scheme!r} in {mask_url(value)}: use postgresql://... or sqlite:///...")
    folder_or_file = Path(value).expanduser()
    return StoreLocation(
        SQLITE, sqlite_path=folder_or_file if folder_or_file.suffix == ".db" else folder_or_file / DB_FILENAME
    )


def store_from_environment() -> StoreLocation | None:
    """``$SENSORAPP_STORE`` when set and non-empty."""
    value = os.environ.get(STORE_ENV, "").strip()
    return parse_store_url(value) if value else None


_SECRET_KEYS = {"password", "sslpassword"}


def mask_url(url: str) -> str:
    """The URL with its password (in the user part or as ``?password=``) shown as ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<an unreadable store URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = [(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in parse_qsl(query, keep_blank_values=True)]
        query = urlencode(pairs, safe="/*")
    # Built by hand: urlunsplit drops the empty host of postgresql:///db?host=/socket/dir.
    masked = f"{parts.scheme}://{netloc}{parts.path}" if "://" in url else netloc + parts.path
    return masked + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _secrets_of(url: str) -> list[str]:
    parts = urlsplit(url)
    found = [unquote(parts.password)] if parts.password else []
    found += [v for k, v in parse_qsl(parts.query) if k.lower() in _SECRET_KEYS and v]
    env_password = os.environ.get("PGPASSWORD")
    if env_password:
        found.append(env_password)
    return [s for s in found if s]


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` on one line with every secret replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return " ".join(text.split())


# ---------------------------------------------------------------------- SQL translation

_DDL_TYPES = (
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),  # PostgreSQL's REAL is 32-bit
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'),  # byte order, as SQLite's default BINARY collation
)
_NOCASE = re.compile(r"([\w.]+) COLLATE NOCASE")


@lru_cache(maxsize=512)
def to_postgresql(sql: str, with_params: bool) -> str:
    """One SQLite-dialect statement of the store as PostgreSQL runs it."""
    text = sql.strip()
    head = text[:12].upper()
    if head.startswith(("CREATE TABLE", "ALTER TABLE")):
        for pattern, replacement in _DDL_TYPES:
            text = pattern.sub(replacement, text)
    text = _NOCASE.sub(r"lower(\1)", text)  # NOCASE folds ASCII only; so does lower() under the C collation
    if head.startswith("INSERT INTO") and "RETURNING" not in text.upper():
        text += " RETURNING id"
    out: list[str] = []
    in_literal = False
    for ch in text:
        if ch == "'":
            in_literal = not in_literal
        if not in_literal and ch == "?":
            out.append("%s")
        elif ch == "%" and with_params:
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class PgCursor:
    """A psycopg cursor's results with sqlite3's ``lastrowid``."""

    def __init__(self, rows: list[Any] | None, rowcount: int, description: Any, lastrowid: int | None) -> None:
        self._rows = rows or []
        self._at = 0
        self.rowcount = rowcount
        self.description = description
        self.lastrowid = lastrowid

    def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        row = self._rows[self._at]
        self._at += 1
        return row

    def fetchall(self) -> list[Any]:
        rest = self._rows[self._at :]
        self._at = len(self._rows)
        return rest


class PgConnection:
    """A psycopg 3 connection (autocommit; transactions are explicit) that runs the store's SQLite-dialect SQL."""

    engine = POSTGRESQL

    def __init__(self, raw: Any, location: StoreLocation) -> None:
        self.raw = raw
        self.location = location
        self._secrets = _secrets_of(location.url or "")

    @classmethod
    def connect(cls, location: StoreLocation) -> PgConnection:
        """Connect with the URL's settings; libpq adds PGPASSWORD, PGSSLMODE, ~/.pgpass and the other PG* variables."""
        import psycopg

        try:
            raw = psycopg.connect(location.url or "", autocommit=True, application_name="sensorapp")
        except psycopg.Error as exc:  # a malformed URL too (ProgrammingError from libpq's parser)
            reason = scrub(str(exc), _secrets_of(location.url or ""))
            raise StorageError(f"could not connect to the store {location.display}: {reason}") from None
        return cls(raw, location)

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        import psycopg

        params = tuple(parameters) if parameters else None
        statement = to_postgresql(sql, params is not None)
        try:
            cur = self.raw.execute(statement, params)
            rows = cur.fetchall() if cur.description is not None else None
        except psycopg.Error as exc:
            raise self._engine_error(exc) from None
        lastrowid = None
        if rows and statement.endswith("RETURNING id") and len(rows) == 1:
            lastrowid = int(rows[0][0])
        return PgCursor(rows, cur.rowcount, cur.description, lastrowid)

    def _engine_error(self, exc: Exception) -> EngineError:
        sqlstate = getattr(exc, "sqlstate", None)
        message = scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, self._secrets)
        if self.raw.closed or (sqlstate is None and "connection" in message.lower()):
            message = f"the connection to {self.location.display} was lost ({message})"
        return EngineError(message, sqlstate=sqlstate)

    def begin(self, *, serialise_writers: bool) -> None:
        self.execute("BEGIN")
        if serialise_writers:
            self.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK_KEY,))

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.raw.info.transaction_status != TransactionStatus.IDLE)

    def close(self) -> None:
        self.raw.close()


def begin_write(conn: DbConnection, *, serialise_writers: bool = True) -> None:
    """Start a write transaction: BEGIN IMMEDIATE on SQLite; BEGIN (+ the writers' lock) on PostgreSQL."""
    if isinstance(conn, PgConnection):
        conn.begin(serialise_writers=serialise_writers)
    else:
        conn.execute("BEGIN IMMEDIATE")


def engine_of(conn: DbConnection) -> str:
    return POSTGRESQL if isinstance(conn, PgConnection) else SQLITE


ENGINE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, EngineError)


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock standing for one recording (``RecordingLock`` on SQLite).

    The server drops it when the recorder's connection ends, however its
    process ends, so another workstation that can take it knows nobody is
    recording that session any more.
    """

    def __init__(self, conn: PgConnection, session_uuid: str) -> None:
        self._conn = conn
        self.key = int.from_bytes(uuidlib.UUID(session_uuid).bytes[:8], "big", signed=True)
        self.path = Path(f"pg_advisory_lock({self.key})")  # for messages only
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def try_acquire(self) -> bool:
        if self._held:
            return True
        row = self._conn.execute("SELECT pg_try_advisory_lock(?)", (self.key,)).fetchone()
        self._held = bool(row[0])
        return self._held

    def release(self, *, remove: bool = True) -> None:
        if not self._held:
            return
        self._held = False
        if self._conn.raw.closed:
            return  # the server dropped it with the connection
        try:
            self._conn.execute("SELECT pg_advisory_unlock(?)", (self.key,))
        except EngineError:
            pass  # the connection is gone, and the lock with it
