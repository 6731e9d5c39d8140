"""Is the process recording this session still alive? An OS file lock answers it.

The recorder holds an exclusive, non-blocking lock on ``locks/<uuid>.lock``
for as long as it records. The kernel drops the lock when the process dies,
however it dies (SIGKILL, power cut of the process, crash), so a store that
can take the lock knows nobody is recording that session any more and may
recover it; a store that cannot take it leaves the live session alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Protocol

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class SessionLock(Protocol):
    """Held while a session is recorded; dropped by the OS (or the database server) when its holder dies."""

    @property
    def held(self) -> bool: ...

    def try_acquire(self) -> bool: ...

    def release(self, *, remove: bool = True) -> None: ...


class RecordingLock:
    """An exclusive lock on one file, held until ``release`` or process death."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock without waiting; False when another open file (any process) holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if _try_lock(fd):
            self._fd = fd
            return True
        os.close(fd)
        return False

    def release(self, *, remove: bool = True) -> None:
        """Drop the lock; ``remove`` deletes the lock file first (while still holding it)."""
        if self._fd is None:
            return
        if remove:
            try:
                self.path.unlink(missing_ok=True)
            except OSError:
                pass
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = None
