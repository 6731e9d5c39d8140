"""Recording a session into the store, crash-safe to about half a second.

``SessionRecorder`` is fed by whoever receives the samples (the GUI, or
``sensorapp record``): ``add_block`` for each ``SampleBlock``, ``set_side``
when the patient turns over, ``finish`` at the end. It buffers in memory and
commits a batch whenever ``commit_interval_s`` (default 0.5 s, at most 1 s)
of wall-clock time has passed since the last commit, on the next
``add_block`` or ``flush_if_due`` call. A process killed at any moment loses
only the uncommitted batch; the next ``SessionStore.open`` closes the session
as incomplete (see ``SessionStore.recover_interrupted``). Plain Python: no
Qt, no asyncio; call it from one thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sensorapp.acquisition.blocks import SampleBlock
from sensorapp.signal import DetectorParams

from .errors import SessionClosedError, StorageError
from .locks import RecordingLock
from .records import SessionRecord
from .sample_codec import SIDE_NAMES, side_code

if TYPE_CHECKING:
    from .store import SessionStore

log = logging.getLogger(__name__)


class SessionRecorder:
    """Writes one session's samples to the store in batches; create it with ``SessionStore.begin_session``."""

    def __init__(
        self,
        store: SessionStore,
        session_id: int,
        session_uuid: str,
        lock: RecordingLock,
        *,
        side: str | None = None,
        commit_interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.session_id = session_id
        self.session_uuid = session_uuid
        self._lock = lock
        self._side_code = side_code(side)
        self.commit_interval_s = commit_interval_s
        self._clock = clock
        self._pending: list[tuple[int, list[np.ndarray], list[np.ndarray]]] = []  # (side code, t parts, force parts)
        self._pending_n = 0
        self._next_seq = 0
        self._committed_n = 0
        self._first_t_s: float | None = None
        self._last_t_s = -np.inf
        self._last_commit = clock()
        self.dropped_samples = 0  # non-finite, or not after the previous sample in time
        self.commits = 0
        self.closed = False
        self.last_error: StorageError | None = None  # the last failed commit, None once one succeeds again

    # ------------------------------------------------------------------ state

    @property
    def store_path(self) -> os.PathLike[str]:
        """The store file this recorder writes to (for messages)."""
        return self._store.path

    @property
    def side(self) -> str | None:
        return SIDE_NAMES[self._side_code] or None

    @property
    def samples_committed(self) -> int:
        return self._committed_n

    @property
    def samples_pending(self) -> int:
        return self._pending_n

    @property
    def seconds_since_commit(self) -> float:
        return self._clock() - self._last_commit

    # ------------------------------------------------------------------ feeding

    def set_side(self, side: str | None) -> None:
        """Label the samples that follow with ``side`` ("left", "right", or None for unknown)."""
        self._side_code = side_code(side)

    def add_block(self, block: SampleBlock) -> None:
        """Add one notification's samples (and commit if the interval has passed)."""
        self.add_samples(block.t_s, block.force_n)

    def add_samples(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        """Add samples on the device clock; they must come after everything added before.

        Samples that are not finite or not later than the previous one cannot
        be analysed: they are dropped and counted in ``dropped_samples``.
        Raises StorageError when a due commit fails (the samples stay
        buffered and the next call retries after another interval).
        """
        if self.closed:
            raise SessionClosedError(f"session {self.session_id} has ended; start a new one")
        t = np.array(t_s, dtype=np.float64, copy=True).reshape(-1)
        f = np.array(force_n, dtype=np.float64, copy=True).reshape(-1)
        if t.size != f.size:
            raise ValueError(f"t_s has {t.size} samples but force_n has {f.size}")
        if t.size:
            ok = np.isfinite(t) & np.isfinite(f)
            before = np.maximum.accumulate(np.concatenate(([self._last_t_s], np.where(ok, t, -np.inf))))[:-1]
            ok &= t > before
            if not ok.all():
                dropped = int(t.size - ok.sum())
                if self.dropped_samples == 0:
                    log.warning("session %d: dropping samples that are not finite or go back in time", self.session_id)
                self.dropped_samples += dropped
                t, f = t[ok], f[ok]
        if t.size:
            if self._pending and self._pending[-1][0] == self._side_code:
                self._pending[-1][1].append(t)
                self._pending[-1][2].append(f)
            else:
                self._pending.append((self._side_code, [t], [f]))
            self._pending_n += int(t.size)
            if self._first_t_s is None:
                self._first_t_s = float(t[0])
            self._last_t_s = float(t[-1])
        self.flush_if_due()

    def flush_if_due(self) -> None:
        """Commit if ``commit_interval_s`` has passed since the last commit (call it from a timer when idle)."""
        if self._clock() - self._last_commit >= self.commit_interval_s:
            self.flush()

    def flush(self) -> int:
        """Commit everything buffered now; returns how many samples were committed."""
        if self.closed:
            return 0
        if not self._pending:
            self._last_commit = self._clock()
            return 0
        from .store import SampleSegment

        segments = [SampleSegment(code, np.concatenate(ts), np.concatenate(fs)) for code, ts, fs in self._pending]
        n = self._pending_n
        duration_s = self._last_t_s - (self._first_t_s if self._first_t_s is not None else self._last_t_s)
        try:
            self._next_seq = self._store._commit_segments(
                self.session_id, self._next_seq, segments, self._committed_n + n, duration_s
            )
        except SessionClosedError:
            self._close(release_lock=True)
            raise
        except StorageError as exc:
            self._last_commit = self._clock()  # retry after another interval, not on every block
            self.last_error = exc
            raise
        self._pending.clear()
        self._pending_n = 0
        self._committed_n += n
        self.commits += 1
        self._last_commit = self._clock()
        self.last_error = None
        return n

    # ------------------------------------------------------------------ ending

    def finish(
        self, *, complete: bool = True, reason: str = "finished", params: DetectorParams = DetectorParams()
    ) -> SessionRecord:
        """Commit the rest, derive reps and summary from the stored samples, close the session.

        ``complete=False`` with a reason (e.g. "aborted", "source failed")
        keeps the session but marks it incomplete. If this raises (a full
        disk), the session stays open and recoverable: retry, or let the next
        ``SessionStore.open`` recover it.
        """
        if self.closed:
            raise SessionClosedError(f"session {self.session_id} has already ended")
        self.flush()
        record = self._store._finalise(
            self.session_id, complete=complete, reason=reason, ended_at=self._store._now(), params=params
        )
        self._close(release_lock=True)
        return record

    def discard(self) -> None:
        """Delete the session and everything recorded in it (the patient chose not to keep it)."""
        if self.closed:
            raise SessionClosedError(f"session {self.session_id} has already ended")
        self._pending.clear()
        self._pending_n = 0
        with self._store._transaction(f"discard session {self.session_id}") as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (self.session_id,))
        self._close(release_lock=True)

    def _close(self, *, release_lock: bool) -> None:
        self.closed = True
        self._store._recording_ended(self.session_id)
        if release_lock:
            self._lock.release()

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Finish on a normal exit; on an exception, close the session as incomplete if the store allows."""
        if self.closed:
            return
        if exc_type is None:
            self.finish()
            return
        try:
            self.finish(complete=False, reason=f"stopped by an error: {exc}")
        except StorageError as err:
            log.error("session %d left open for recovery: %s", self.session_id, err)
