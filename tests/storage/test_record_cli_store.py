"""`sensorapp record` writes the store too: a normal run, and a SIGKILL in the middle of one."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from storage_helpers import sensorapp

from sensorapp.signal import analyze_recording
from sensorapp.storage.samples_csv import read_samples_csv
from sensorapp.storage.store import SessionStore, rep_to_json

SPEED = 20.0  # device seconds per wall second
RATE_HZ = 100


def test_a_recording_appears_in_sessions_with_the_same_samples_as_its_csv(tmp_path: Path, _private_data_dir: Path) -> None:
    out = tmp_path / "r.csv"
    proc = sensorapp("record", "--simulate", "--duration", "60", "--speed", "40", "--side", "right", "--patient", "Lee", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "saved as session 1 (complete" in proc.stderr
    listing = sensorapp("sessions", "--json")
    assert listing.returncode == 0, listing.stderr
    (entry,) = json.loads(listing.stdout)
    assert (entry["id"], entry["patient"], entry["complete"], entry["state"]) == (1, "Lee", True, "complete")
    assert entry["samples"] == 6000 and list(entry["sides"]) == ["right"] and entry["sides"]["right"]["reps"] >= 2
    assert entry["symmetry"] is None  # one side only
    store = SessionStore.open(_private_data_dir)
    samples = store.samples(1)
    csv = read_samples_csv(out)
    np.testing.assert_allclose(samples.t_s, csv.t_s, atol=5e-7)
    np.testing.assert_allclose(samples.force_n, csv.force_n, atol=5e-5)
    assert set(samples.side.tolist()) == {"right"}
    record = store.session(1)
    assert record.device["kind"] == "simulated" and record.device["serial"]
    assert record.calibration["note"].startswith("belt") and "newtons_per_count" in record.calibration
    store.close()


def test_no_store_writes_only_the_csv(tmp_path: Path, _private_data_dir: Path) -> None:
    proc = sensorapp("record", "--simulate", "--duration", "5", "--speed", "50", "--no-store", "--out", str(tmp_path / "x.csv"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert not (_private_data_dir / "sensorapp.db").exists()


def _committed_t(db: Path) -> float | None:
    """Latest committed device time, read as another process would (None before the first commit)."""
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
        try:
            row = conn.execute("SELECT max(t_last_s) FROM sample_chunks").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None or row[0] is None else float(row[0])


def test_sigkill_of_a_recording_loses_at_most_about_a_second_and_is_recovered(tmp_path: Path, _private_data_dir: Path) -> None:
    out = tmp_path / "killed.csv"
    db = _private_data_dir / "sensorapp.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorapp", "record", "--simulate", "--speed", str(SPEED), "--side", "left", "--patient", "Ada", "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    observations: list[tuple[float, float]] = []  # (wall time, committed device time)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            t = _committed_t(db)
            if t is not None:
                observations.append((time.monotonic(), t))
                if t >= 70.0:  # past the first reps: 3.5 s of wall time into the stream
                    break
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.05)
        else:
            pytest.fail("the recording did not commit 70 s of samples within 60 s")
        time.sleep(0.3)  # kill between commits, with samples buffered
        killed_at = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    # Commits came at least once a second of wall time (0.5 s is the design; 50 ms polling).
    change_walls = [w for (w, t), (_, t_before) in zip(observations[1:], observations[:-1]) if t != t_before]
    assert len(change_walls) >= 4
    assert max(np.diff(change_walls)) <= 1.0
    # Device time runs SPEED x wall time. Each committed time is at most the device time when it was seen,
    # so the largest (committed - SPEED x wall) is a lower bound of the device clock's offset.
    offset = max(t - SPEED * w for w, t in observations)
    device_t_at_kill = SPEED * killed_at + offset
    seen_t = observations[-1][1]

    store = SessionStore.open(_private_data_dir)
    (record,) = store.sessions()
    assert store.recovered_session_ids == [record.id]
    assert (record.state, record.end_reason, record.patient_name) == ("incomplete", "interrupted", "Ada")
    samples = store.samples(record.id)
    steps = np.diff(samples.t_s)
    assert samples.t_s[0] == 0.0 and np.allclose(steps, 1 / RATE_HZ, atol=2e-6)  # nothing missing inside
    assert samples.t_s[-1] >= seen_t  # everything seen committed survived
    lost_wall_s = (device_t_at_kill - samples.t_s[-1]) / SPEED
    assert lost_wall_s <= 1.0, f"lost {lost_wall_s:.2f} s of wall time ({device_t_at_kill - samples.t_s[-1]:.1f} s of device time)"
    assert record.sample_count == len(samples)
    # The CSV written alongside holds the same samples (to its 4 decimals) up to where either stops.
    csv = read_samples_csv(out, allow_truncated_tail=True)
    n = min(len(csv), len(samples))
    assert n > 0.9 * len(samples)
    np.testing.assert_allclose(samples.force_n[:n], csv.force_n[:n], atol=5e-5)
    # Reps were re-derived from the surviving samples.
    reps = store.reps(record.id)
    assert len(reps) >= 3
    assert [rep_to_json(r) for r in reps] == [rep_to_json(r) for r in analyze_recording(samples.t_s, samples.force_n, "left")]
    store.close()
    listing = json.loads(sensorapp("sessions", "--json").stdout)
    assert listing[0]["complete"] is False and listing[0]["state"] == "incomplete"
