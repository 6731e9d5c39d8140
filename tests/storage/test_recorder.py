"""SessionRecorder: the commit bound, sides, finishing, discarding, and recovery after a kill."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from storage_helpers import patient_recording, record_session, reopen

from sensorapp.acquisition.blocks import SampleBlock
from sensorapp.signal import DetectorParams, analyze_recording
from sensorapp.storage.errors import SessionClosedError
from sensorapp.storage.sample_codec import COMPACT_CHUNK_SAMPLES
from sensorapp.storage.store import SessionStore, rep_to_json


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _committed(store: SessionStore, session_id: int) -> int:
    """Samples another connection can see: what is committed (and so survives a crash)."""
    other = reopen(store, recover=False)
    try:
        return len(other.samples(session_id))
    finally:
        other.close()


@pytest.mark.both_engines
def test_samples_are_committed_within_the_interval_of_wall_time(store: SessionStore) -> None:
    clock = FakeClock()
    rec = store.begin_session(side="left", commit_interval_s=0.5, clock=clock)
    t = np.arange(3000) / 1000.0
    f = np.sin(t)
    worst_uncommitted_s = 0.0
    for i in range(0, t.size, 20):  # 1 kHz in 20-sample notifications, every 20 ms of wall time
        clock.now += 0.02
        rec.add_block(SampleBlock(t[i : i + 20], f[i : i + 20]))
        assert rec.seconds_since_commit < 0.5 or rec.samples_pending == 0
        worst_uncommitted_s = max(worst_uncommitted_s, rec.samples_pending / 1000.0)
        if i in (480, 1480):  # just before / after a commit boundary, check what another process sees
            assert _committed(store, rec.session_id) == rec.samples_committed
    assert rec.commits == 5  # 3 s of wall time / 0.5 s (last commit at 3.0 s)
    assert worst_uncommitted_s <= 0.5 + 1e-9
    assert rec.samples_committed + rec.samples_pending == 3000
    rec.finish()


@pytest.mark.both_engines
def test_a_quiet_stream_is_committed_by_flush_if_due(store: SessionStore) -> None:
    clock = FakeClock()
    rec = store.begin_session(clock=clock)
    rec.add_samples(np.arange(5) * 0.01, np.ones(5))
    assert rec.samples_pending == 5
    clock.now += 0.4
    rec.flush_if_due()
    assert rec.samples_committed == 0
    clock.now += 0.2
    rec.flush_if_due()
    assert rec.samples_committed == 5 and _committed(store, rec.session_id) == 5
    rec.discard()


@pytest.mark.both_engines
def test_commit_interval_above_one_second_is_refused(store: SessionStore) -> None:
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        store.begin_session(commit_interval_s=2.0)


@pytest.mark.both_engines
def test_side_changes_label_samples_and_reps(store: SessionStore) -> None:
    record = record_session(store, reps_per_side=3)
    samples = store.samples(record.id)
    t, f, turn = patient_recording(reps_per_side=3)
    np.testing.assert_array_equal(samples.t_s, t)
    np.testing.assert_array_equal(samples.force_n, f)
    first_right = int(np.argmax(samples.side_codes == 2))
    assert set(samples.side_codes[:first_right].tolist()) == {1} and set(samples.side_codes[first_right:].tolist()) == {2}
    # set_side takes effect from the next block (10 samples here): the first block starting after the turn.
    assert first_right % 10 == 0 and t[first_right] >= turn > t[first_right - 10]
    reps = store.reps(record.id)
    assert [(r.side, r.index) for r in reps] == [("left", 1), ("left", 2), ("left", 3), ("right", 1), ("right", 2), ("right", 3)]
    # The stored reps are exactly the signal layer's analysis of the stored samples.
    expected = analyze_recording(samples.t_s, samples.force_n, samples.side)
    assert [rep_to_json(r) for r in reps] == [rep_to_json(r) for r in expected]
    assert record.state == "complete" and record.end_reason == "finished"
    assert record.summary is not None and record.symmetry is not None


@pytest.mark.both_engines
def test_finish_compacts_the_small_commit_chunks(store: SessionStore) -> None:
    clock = FakeClock()
    rec = store.begin_session(side="left", clock=clock)
    t = np.arange(70_000) / 1000.0
    for i in range(0, t.size, 500):
        clock.now += 0.5
        rec.add_samples(t[i : i + 500], np.zeros(500))
    assert store._read("SELECT count(*) FROM sample_chunks")[0][0] >= 139
    record = rec.finish()
    sizes = [n for (n,) in store._read("SELECT n FROM sample_chunks ORDER BY seq")]
    assert sizes == [COMPACT_CHUNK_SAMPLES, 70_000 - COMPACT_CHUNK_SAMPLES]
    np.testing.assert_array_equal(store.samples(record.id).t_s, t)


@pytest.mark.both_engines
def test_samples_that_cannot_be_analysed_are_dropped_and_counted(store: SessionStore) -> None:
    rec = store.begin_session()
    rec.add_samples(np.array([0.0, 0.01, 0.02]), np.array([1.0, 2.0, 3.0]))
    rec.add_samples(np.array([0.02, 0.015, 0.03, np.nan, 0.05]), np.array([9.0, 9.0, 4.0, 5.0, np.inf]))
    rec.add_samples(np.array([0.04]), np.array([6.0]))
    with pytest.raises(ValueError, match="force_n has"):
        rec.add_samples(np.zeros(2), np.zeros(3))
    record = rec.finish()
    samples = store.samples(record.id)
    np.testing.assert_array_equal(samples.t_s, [0.0, 0.01, 0.02, 0.03, 0.04])
    np.testing.assert_array_equal(samples.force_n, [1.0, 2.0, 3.0, 4.0, 6.0])
    assert rec.dropped_samples == 4


@pytest.mark.both_engines
def test_an_aborted_session_is_kept_as_incomplete_and_a_discarded_one_is_gone(store: SessionStore) -> None:
    rec = store.begin_session()
    rec.add_samples(np.arange(100) * 0.01, np.zeros(100))
    record = rec.finish(complete=False, reason="aborted")
    assert (record.state, record.end_reason, record.sample_count) == ("incomplete", "aborted", 100)
    with pytest.raises(SessionClosedError):
        rec.add_samples(np.array([5.0]), np.array([0.0]))
    rec2 = store.begin_session()
    rec2.add_samples(np.arange(10) * 0.01, np.zeros(10))
    rec2.flush()
    rec2.discard()
    assert [r.id for r in store.sessions()] == [record.id]
    assert store._read("SELECT count(*) FROM sample_chunks WHERE session_id = ?", (rec2.session_id,))[0][0] == 0


@pytest.mark.both_engines
def test_a_live_recording_is_not_recovered_by_another_store(store: SessionStore) -> None:
    rec = store.begin_session()
    rec.add_samples(np.arange(10) * 0.01, np.zeros(10))
    rec.flush()
    other = reopen(store)  # as `sensorapp sessions` would, while the GUI records
    assert other.recovered_session_ids == []
    assert other.session(rec.session_id).state == "recording"
    with pytest.raises(Exception, match="being recorded"):
        other.delete_session(rec.session_id)
    other.close()
    rec.add_samples(np.arange(10, 20) * 0.01, np.zeros(10))
    assert rec.finish().sample_count == 20


@pytest.mark.both_engines
def test_a_recorder_whose_session_was_closed_elsewhere_stops(store: SessionStore) -> None:
    rec = store.begin_session()
    rec.add_samples(np.arange(10) * 0.01, np.zeros(10))
    store._conn.execute("UPDATE sessions SET ended_at = started_at WHERE id = ?", (rec.session_id,))
    with pytest.raises(SessionClosedError):
        rec.flush()
    assert rec.closed


_CRASHING_RECORDER = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {helpers!r})
    from storage_helpers import patient_recording
    from sensorapp.storage.store import SessionStore

    class Clock:
        now = 0.0
        def __call__(self):
            return self.now

    clock = Clock()
    store = SessionStore.open({data!r})
    patient = store.add_patient("Kim", involved_side="right")
    t, f, turn = patient_recording(seed=2, reps_per_side=3)
    rec = store.begin_session(patient_id=patient.id, side="left", clock=clock)
    for lo in range(0, {committed}, 10):
        if rec.side == "left" and t[lo] >= turn:
            rec.set_side("right")
        rec.add_samples(t[lo:lo + 10], f[lo:lo + 10])
    rec.flush()
    rec.add_samples(t[{committed}:{committed} + 40], f[{committed}:{committed} + 40])  # buffered, not yet due
    print(rec.session_id, rec.samples_committed, rec.samples_pending, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_recorder_loses_only_its_uncommitted_batch_and_is_recovered(tmp_path: Path) -> None:
    data = tmp_path / "data"
    t, f, _turn = patient_recording(seed=2, reps_per_side=3)
    committed = int(np.searchsorted(t, t[-1] * 0.8))  # both sides, 80 % of the session
    committed -= committed % 10
    script = _CRASHING_RECORDER.format(helpers=str(Path(__file__).parent), data=str(data), committed=committed)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    session_id, n_committed, n_pending = map(int, proc.stdout.split())
    assert (n_committed, n_pending) == (committed, 40)

    store = SessionStore.open(data)
    assert store.recovered_session_ids == [session_id]
    record = store.session(session_id)
    assert (record.state, record.end_reason, record.patient_name) == ("incomplete", "interrupted", "Kim")
    samples = store.samples(session_id)
    np.testing.assert_array_equal(samples.t_s, t[:committed])
    np.testing.assert_array_equal(samples.force_n, f[:committed])
    reps = store.reps(session_id)
    expected = analyze_recording(samples.t_s, samples.force_n, samples.side)
    assert [rep_to_json(r) for r in reps] == [rep_to_json(r) for r in expected]
    assert {r.side for r in reps} == {"left", "right"}
    assert record.summary is not None and record.summary["sides"]["left"]["reps"] == 3
    assert json.loads(json.dumps(store.analysis_info(session_id)))["params"] == json.loads(
        json.dumps(__import__("dataclasses").asdict(DetectorParams()))
    )
    assert list((data / "locks").iterdir()) == []
    store.close()
    # Opening again recovers nothing more and changes nothing.
    again = SessionStore.open(data)
    assert again.recovered_session_ids == [] and again.session(session_id) == record
    again.close()


@pytest.mark.both_engines
def test_the_protocol_is_validated_and_extra_keys_are_kept(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="first_side"):
        store.begin_session(protocol={"first_side": "middle"})
    rec = store.begin_session(protocol={"reps_per_side": 5, "hold_s": 8.0, "cue_volume": 0.3, "target_band_pct": [60, 80]})
    rec.add_samples(np.arange(10) * 0.01, np.zeros(10))
    record = rec.finish()
    assert record.protocol == {
        "reps_per_side": 5, "hold_s": 8.0, "rest_s": 10.0, "first_side": "left", "target_band_pct": [60.0, 80.0], "cue_volume": 0.3
    }  # fmt: skip
    assert record.target_hold_s == 8.0 and record.summary["target_hold_s"] == 8.0


@pytest.mark.both_engines
def test_a_session_that_cannot_be_recovered_does_not_stop_the_store_from_opening(store: SessionStore) -> None:
    rec = store.begin_session()
    rec.add_samples(np.arange(10) * 0.01, np.zeros(10))
    rec.flush()
    store._conn.execute("UPDATE sample_chunks SET force_n = ? WHERE session_id = ?", (b"garbage", rec.session_id))
    rec._lock.release()  # as if the process had died
    other = reopen(store)
    assert other.recovered_session_ids == []
    assert len(other.recovery_errors) == 1 and "corrupt sample chunk" in other.recovery_errors[0]
    assert other.session(rec.session_id).state == "recording"  # left as it was, tried again next time
    other.close()


@pytest.mark.both_engines
def test_a_burst_is_committed_every_half_second_of_device_time_while_the_wall_clock_stands_still(store: SessionStore) -> None:
    # A CPU-starved process wakes up and receives 4 s of samples at once: no wall time passes inside the burst,
    # so only the device-time rule can commit it. A kill at any point of the burst may lose < 0.5 s of it.
    clock = FakeClock()
    rec = store.begin_session(side="left", clock=clock)
    t = np.arange(4000) / 1000.0
    committed_before: list[int] = []
    for i in range(0, t.size, 20):
        committed_before.append(rec.samples_committed)
        rec.add_block(SampleBlock(t[i : i + 20], np.zeros(20)))
        assert rec.pending_span_s < rec.commit_span_s
        assert _committed(store, rec.session_id) == rec.samples_committed
    assert rec.commits == 7  # 4 s of device time / 0.5 s; the last 0.5 s still pending
    assert t[rec.samples_committed - 1] - t[0] >= 3.5
    rec.finish()


@pytest.mark.both_engines
def test_one_long_array_is_committed_in_half_second_pieces_before_the_rest_is_buffered(store: SessionStore) -> None:
    clock = FakeClock()
    rec = store.begin_session(clock=clock)
    t = np.arange(10_000) / 1000.0  # 10 s in a single call
    rec.add_samples(t, np.ones(t.size))
    assert rec.commits == 19 and rec.pending_span_s < 0.5
    chunks = store._read("SELECT t_first_s, t_last_s FROM sample_chunks WHERE session_id = ? ORDER BY seq", (rec.session_id,))
    assert [round(b - a, 3) for a, b in chunks] == [0.5] * 19
    assert _committed(store, rec.session_id) == rec.samples_committed == 19 * 501
    rec.finish()


@pytest.mark.both_engines
def test_a_failed_commit_keeps_the_whole_burst_and_is_retried_by_wall_time_only(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from sensorapp.storage.errors import StorageFullError

    clock = FakeClock()
    rec = store.begin_session(clock=clock)
    attempts = []

    def full(*args: object) -> int:
        attempts.append(1)
        raise StorageFullError("the disk is full")

    real_commit = store._commit_segments
    monkeypatch.setattr(store, "_commit_segments", full)
    t = np.arange(3000) / 1000.0
    with pytest.raises(StorageFullError):
        rec.add_samples(t, np.ones(t.size))
    assert rec.samples_pending == 3000 and len(attempts) == 1  # nothing received is lost
    rec.add_samples(np.array([3.0]), np.array([1.0]))  # device time is due, but no retry before the interval
    assert len(attempts) == 1
    monkeypatch.setattr(store, "_commit_segments", real_commit)
    clock.now += 0.5
    rec.flush_if_due()
    assert rec.samples_committed == 3001 and rec.last_error is None
    np.testing.assert_array_equal(rec.finish() and store.samples(rec.session_id).t_s, np.append(t, 3.0))


@pytest.mark.both_engines
def test_commit_span_must_be_positive(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="commit_span_s"):
        store.begin_session(commit_span_s=0.0)
