"""The storage layer's exceptions: one family, messages meant for users as they are."""

from __future__ import annotations

import errno
import sqlite3


class StorageError(Exception):
    """A problem with the session store or an exported file; the message is shown to users as is."""


class StorageFullError(StorageError):
    """The disk (or the store's size limit) is full; whatever was committed before is intact."""


class SchemaTooNewError(StorageError):
    """The store was written by a newer sensorapp; this version leaves it untouched."""


class SessionNotFoundError(StorageError, LookupError):
    pass


class PatientNotFoundError(StorageError, LookupError):
    pass


class SessionClosedError(StorageError):
    """A recorder wrote to a session that has ended (finished, or recovered by another process)."""


class EngineError(Exception):
    """A database engine's error other than SQLite's (PostgreSQL via psycopg): one line, no password in it."""

    def __init__(self, message: str, *, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class BundleError(StorageError):
    """A session bundle that cannot be imported: corrupt, tampered with, or not a bundle. Nothing was written."""


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100) and ENOSPC/EDQUOT from the OS."""
    if isinstance(exc, EngineError):
        return exc.sqlstate == "53100"
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and (code & 0xFF) == sqlite3.SQLITE_FULL:
            return True
        return "database or disk is full" in str(exc)
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    return False


def storage_error(exc: BaseException, doing: str) -> StorageError:
    """Translate a sqlite3 or OS error into a one-line StorageError saying what failed."""
    if is_disk_full(exc):
        return StorageFullError(
            f"the disk is full: could not {doing}; everything saved before is intact, free some space and try again"
        )
    if isinstance(exc, OSError):
        return StorageError(f"could not {doing}: {exc.strerror or exc}")
    return StorageError(f"could not {doing}: {exc}")
