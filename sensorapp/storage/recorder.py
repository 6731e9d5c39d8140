"""Recording a session into the store, crash-safe to about half a second.

``SessionRecorder`` is fed by whoever receives the samples (the GUI, or
``sensorapp record``): ``add_block`` for each ``SampleBlock``, ``set_side``
when the patient turns over, ``finish`` at the end. It buffers in memory and
commits the batch, on the ``add_block``/``add_samples``/``flush_if_due`` call
that makes it due, as soon as either

- the pending samples cover ``commit_span_s`` of device time (default 0.5 s),
  or
- ``commit_interval_s`` of wall time (default 0.5 s, at most 1 s) has passed
  since the last commit.

The device-time rule is what bounds a crash when the process is starved of
CPU: a process that wakes up and receives a burst of several seconds of
samples commits every ``commit_span_s`` of it *while* processing the burst
(a wall clock alone would see no time pass inside the burst and leave all of
it pending). Within one ``add_samples`` call, a large array is split at the
span boundaries and committed piece by piece before the rest is buffered.

So a process killed at any moment loses only samples it had received but
not committed: less than ``commit_span_s`` of device time plus one
notification, and never anything older than ``commit_interval_s`` of wall
time (plus one ``flush_if_due`` period when the stream is quiet). Samples the
process never received (still in the radio or the OS while it was starved)
are not its to lose. The next ``SessionStore.open`` closes the session as
incomplete (see ``SessionStore.recover_interrupted``).

The recorder depends only on ``SampleSink`` (what the store offers it), so
``store`` imports this module and not the other way round. Plain Python: no
Qt, no asyncio; call it from one thread.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from sensorapp.acquisition.blocks import SampleBlock
from sensorapp.signal import DetectorParams

from .errors import SessionClosedError, StorageError
from .locks import SessionLock
from .records import SessionRecord
from .sample_codec import SIDE_NAMES, side_code

log = logging.getLogger(__name__)

DEFAULT_COMMIT_SPAN_S = 0.5  # device seconds a pending batch may cover before it is committed


@dataclasses.dataclass(frozen=True)
class SampleSegment:
    """Consecutive samples of one side, ready to become one or more chunks."""

    side_code: int
    t_s: np.ndarray
    force_n: np.ndarray


class SampleSink(Protocol):
    """What a recorder needs from the store it writes one session into."""

    @property
    def path(self) -> os.PathLike[str] | str:
        """The store file, or a PostgreSQL store's URL with its password masked (for messages)."""
        ...

    def commit_segments(
        self, session_id: int, first_seq: int, segments: Sequence[SampleSegment], sample_count: int, duration_s: float
    ) -> int:
        """Durably add the segments and the session's progress in one transaction; returns the next chunk seq."""
        ...

    def finalise(self, session_id: int, *, complete: bool, reason: str, params: DetectorParams) -> SessionRecord:
        """Derive reps and summary from the stored samples and close the session."""
        ...

    def delete(self, session_id: int) -> None:
        """Delete the session and its samples."""
        ...

    def recording_ended(self, session_id: int) -> None:
        """The recorder of this session has stopped (finished, discarded or shut out)."""
        ...


class SessionRecorder:
    """Writes one session's samples to the store in batches; create it with ``SessionStore.begin_session``."""

    def __init__(
        self,
        store: SampleSink,
        session_id: int,
        session_uuid: str,
        lock: SessionLock,
        *,
        side: str | None = None,
        commit_interval_s: float = 0.5,
        commit_span_s: float = DEFAULT_COMMIT_SPAN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not commit_span_s > 0:
            raise ValueError(f"commit_span_s must be > 0 s of device time, got {commit_span_s!r}")
        self._store = store
        self.session_id = session_id
        self.session_uuid = session_uuid
        self._lock = lock
        self._side_code = side_code(side)
        self.commit_interval_s = commit_interval_s
        self.commit_span_s = commit_span_s
        self._clock = clock
        self._pending: list[tuple[int, list[np.ndarray], list[np.ndarray]]] = []  # (side code, t parts, force parts)
        self._pending_n = 0
        self._pending_first_t_s = 0.0  # device time of the oldest pending sample (when any)
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
    def store_path(self) -> os.PathLike[str] | str:
        """The store this recorder writes to (for messages): its file, or its URL with the password masked."""
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

    @property
    def pending_span_s(self) -> float:
        """Device time covered by the samples not yet committed (0 when none are pending)."""
        return self._last_t_s - self._pending_first_t_s if self._pending_n else 0.0

    # ------------------------------------------------------------------ feeding

    def set_side(self, side: str | None) -> None:
        """Label the samples that follow with ``side`` ("left", "right", or None for unknown)."""
        self._side_code = side_code(side)

    def add_block(self, block: SampleBlock) -> None:
        """Add one notification's samples (and commit if due)."""
        self.add_samples(block.t_s, block.force_n)

    def add_samples(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        """Add samples on the device clock; they must come after everything added before.

        Samples that are not finite or not later than the previous one cannot
        be analysed: they are dropped and counted in ``dropped_samples``.
        A batch is committed as soon as it covers ``commit_span_s`` of device
        time, also in the middle of a long array, so a burst is never held in
        memory whole. Raises StorageError when a due commit fails (the samples
        stay buffered and the next call retries after ``commit_interval_s``).
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
        while t.size and self.last_error is None:
            start_s = self._pending_first_t_s if self._pending_n else float(t[0])
            # the first sample that makes the batch cover commit_span_s: buffer up to it, commit, go on
            cut = int(np.searchsorted(t, start_s + self.commit_span_s, side="left"))
            if cut >= t.size:
                break
            self._buffer(t[: cut + 1], f[: cut + 1])
            t, f = t[cut + 1 :], f[cut + 1 :]
            try:
                self.flush()
            except SessionClosedError:
                raise
            except StorageError:
                self._buffer(t, f)  # keep the rest of the burst: nothing received is dropped
                raise
        self._buffer(t, f)
        self.flush_if_due()

    def _buffer(self, t: np.ndarray, f: np.ndarray) -> None:
        if not t.size:
            return
        if self._pending and self._pending[-1][0] == self._side_code:
            self._pending[-1][1].append(t)
            self._pending[-1][2].append(f)
        else:
            self._pending.append((self._side_code, [t], [f]))
        if not self._pending_n:
            self._pending_first_t_s = float(t[0])
        self._pending_n += int(t.size)
        if self._first_t_s is None:
            self._first_t_s = float(t[0])
        self._last_t_s = float(t[-1])

    def flush_if_due(self) -> None:
        """Commit if the batch covers ``commit_span_s`` of device time or ``commit_interval_s`` of wall time has passed.

        Call it from a timer so a quiet stream still commits. After a failed
        commit only the wall-time rule applies, so a full disk is retried once
        per interval, not on every notification.
        """
        wall_due = self._clock() - self._last_commit >= self.commit_interval_s
        span_due = self.last_error is None and self._pending_n > 0 and self.pending_span_s >= self.commit_span_s
        if wall_due or span_due:
            self.flush()

    def flush(self) -> int:
        """Commit everything buffered now; returns how many samples were committed."""
        if self.closed:
            return 0
        if not self._pending:
            self._last_commit = self._clock()
            return 0
        segments = [SampleSegment(code, np.concatenate(ts), np.concatenate(fs)) for code, ts, fs in self._pending]
        n = self._pending_n
        duration_s = self._last_t_s - (self._first_t_s if self._first_t_s is not None else self._last_t_s)
        try:
            self._next_seq = self._store.commit_segments(self.session_id, self._next_seq, segments, self._committed_n + n, duration_s)
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
        record = self._store.finalise(self.session_id, complete=complete, reason=reason, params=params)
        self._close(release_lock=True)
        return record

    def discard(self) -> None:
        """Delete the session and everything recorded in it (the patient chose not to keep it)."""
        if self.closed:
            raise SessionClosedError(f"session {self.session_id} has already ended")
        self._pending.clear()
        self._pending_n = 0
        self._store.delete(self.session_id)
        self._close(release_lock=True)

    def _close(self, *, release_lock: bool) -> None:
        self.closed = True
        self._store.recording_ended(self.session_id)
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
