"""A full disk: a clear error, the store stays consistent, and recording resumes once there is room.

Two ways to fill it: a real 3 MB tmpfs (needs root to mount; skipped otherwise)
and SQLite's own size limit (``PRAGMA max_page_count``), which takes the same
SQLITE_FULL path inside SQLite and runs everywhere.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from storage_helpers import record_session

from sensorapp.storage.bundle import export_bundle
from sensorapp.storage.errors import StorageFullError
from sensorapp.storage.export import export_csv
from sensorapp.storage.store import SessionStore


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A freshly mounted 3 MB tmpfs, unmounted afterwards."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the max_page_count test covers SQLITE_FULL without it")
    mount = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (container without CAP_SYS_ADMIN?): {proc.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(folder: Path, leave_bytes: int) -> Path:
    """A filler file that leaves about ``leave_bytes`` free on the file system of ``folder``."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    filler = folder / "filler.bin"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))
    return filler


def _record_until_full(store: SessionStore, max_samples: int) -> tuple[object, np.ndarray, np.ndarray, StorageFullError]:
    clock = [0.0]
    rec = store.begin_session(side="left", clock=lambda: clock[0])
    rng = np.random.default_rng(0)
    t = np.arange(max_samples) / 1000.0
    f = rng.normal(50, 20, max_samples)  # noise barely compresses
    for lo in range(0, max_samples, 500):
        clock[0] += 0.5
        try:
            rec.add_samples(t[lo : lo + 500], f[lo : lo + 500])
        except StorageFullError as exc:
            return rec, t, f, exc
    pytest.fail("the disk never filled up")


def _check_consistent(data_dir: Path, session_id: int, t: np.ndarray, f: np.ndarray, committed: int) -> None:
    conn = sqlite3.connect(data_dir / "sensorapp.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    reader = SessionStore.open(data_dir, recover=False)
    samples = reader.samples(session_id)
    np.testing.assert_array_equal(samples.t_s, t[:committed])
    np.testing.assert_array_equal(samples.force_n, f[:committed])
    assert reader.session(session_id).sample_count == committed
    reader.close()


def test_a_full_tmpfs_stops_the_recorder_cleanly_and_it_resumes_after_space_is_freed(small_disk: Path) -> None:
    store = SessionStore.open(small_disk)
    filler = _fill(small_disk, leave_bytes=400_000)
    rec, t, f, exc = _record_until_full(store, 400_000)
    assert "disk is full" in str(exc) and "intact" in str(exc)
    committed = rec.samples_committed
    assert committed > 0 and rec.samples_pending > 0 and not rec.closed
    _check_consistent(small_disk, rec.session_id, t, f, committed)
    # Free the space: the buffered samples go in on the next flush, and the session finishes whole.
    filler.unlink()
    rec.flush()
    assert rec.samples_pending == 0
    record = rec.finish()
    n = rec.samples_committed
    assert record.sample_count == n > committed
    np.testing.assert_array_equal(store.samples(record.id).force_n, f[:n])
    store.close()


def test_an_export_to_a_full_disk_fails_cleanly_and_leaves_nothing(small_disk: Path, store: SessionStore) -> None:
    record = record_session(store, reps_per_side=7, rate_hz=1000.0)  # 270 k samples, ~4.6 MB raw
    previous = small_disk / "pat.zip"
    previous.write_bytes(b"yesterday's export")
    _fill(small_disk, leave_bytes=300_000)
    with pytest.raises(StorageFullError, match="disk is full"):
        export_bundle(store, record.id, previous)
    with pytest.raises(StorageFullError, match="disk is full"):
        export_csv(store, record.id, small_disk / "pat.csv")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler.bin", "pat.zip"]
    assert previous.read_bytes() == b"yesterday's export"


def test_sqlite_full_from_the_size_limit_is_a_clear_error_and_the_store_stays_consistent(store: SessionStore) -> None:
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages + 40}")  # ~160 kB more
    rec, t, f, exc = _record_until_full(store, 200_000)
    assert "disk is full" in str(exc)
    committed = rec.samples_committed
    assert committed > 0 and rec.last_error is exc
    _check_consistent(store.data_dir, rec.session_id, t, f, committed)
    with pytest.raises(StorageFullError):
        rec.finish()  # still full: the session stays open for a retry or for recovery
    assert store.session(rec.session_id).state == "recording"
    store._conn.execute("PRAGMA max_page_count = 1073741823")
    record = rec.finish()
    assert record.state == "complete" and record.sample_count == rec.samples_committed > committed
