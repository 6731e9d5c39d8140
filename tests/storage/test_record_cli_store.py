"""`sensorapp record` writes the store too: a normal run, and a SIGKILL in the middle of one."""

from __future__ import annotations

import json
import os
import re
import select
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
STATUS = re.compile(r"\r\s*(\d+\.\d\d) s ")  # the live line on a terminal: device time first


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


def _committed_t(db: Path, store_url: str | None = None) -> float | None:
    """Latest committed device time, read as another process would (None before the first commit)."""
    if store_url is not None:
        import psycopg

        with psycopg.connect(store_url, autocommit=True) as pg:
            value = pg.execute("SELECT max(t_last_s) FROM sample_chunks").fetchone()
        return None if value is None or value[0] is None else float(value[0])
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


@pytest.mark.both_engines
def test_sigkill_of_a_recording_loses_at_most_about_a_second_and_is_recovered(
    tmp_path: Path, _private_data_dir: Path, store_url: str | None
) -> None:
    out = tmp_path / "killed.csv"
    db = _private_data_dir / "sensorapp.db"
    # "Lost" is what the recorder had received and the store does not hold. `record` on a terminal redraws its
    # status line (device time of the last sample it wrote and stored) every 0.25 s: give it a pty and read it.
    # The last status before the kill is a lower bound of what it had received. (The host clock is no measure
    # on a busy machine: a starved process has not received what the belt would have produced by then.)
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorapp", "record", "--simulate", "--speed", str(SPEED), "--side", "left", "--patient", "Ada", "--out", str(out),
         *(["--store", store_url] if store_url else [])],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        text=True,
    )
    os.close(slave)
    observations: list[tuple[float, float]] = []  # (wall time, committed device time)
    received_s = 0.0
    shown = ""
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and received_s < 70.0:  # past the first reps
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    shown = (shown + os.read(master, 65536).decode(errors="replace"))[-4096:]
                except OSError:  # the process ended: its pty closed
                    break
                statuses = STATUS.findall(shown)
                if statuses:
                    received_s = float(statuses[-1])
            t = _committed_t(db, store_url)
            if t is not None:
                observations.append((time.monotonic(), t))
            assert proc.poll() is None, shown
        else:
            if received_s < 70.0:
                pytest.fail(f"the recording did not reach 70 s of device time within 90 s: {shown[-300:]!r}")
        proc.send_signal(signal.SIGKILL)  # right after a status line: samples are buffered, not all committed
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)
    assert proc.returncode == -signal.SIGKILL

    assert len({t for _, t in observations}) >= 4  # commits were seen as it ran (their timing: test_recorder.py)
    seen_t = max(t for _, t in observations)

    store = SessionStore.open(_private_data_dir, store_url=store_url)
    (record,) = store.sessions()
    assert store.recovered_session_ids == [record.id]
    assert (record.state, record.end_reason, record.patient_name) == ("incomplete", "interrupted", "Ada")
    samples = store.samples(record.id)
    steps = np.diff(samples.t_s)
    assert samples.t_s[0] == 0.0 and np.allclose(steps, 1 / RATE_HZ, atol=2e-6)  # nothing missing inside
    assert samples.t_s[-1] >= seen_t  # everything seen committed survived
    # At --speed 20 the recorder commits every 0.5 s of the source's pace (10 s of device time): a kill loses
    # less than that plus one notification of what it had received.
    lost_s = received_s - samples.t_s[-1]
    print(f"record sigkill ({store.engine}): received >= {received_s:.2f} s, stored up to {samples.t_s[-1]:.2f} s: lost {lost_s:.2f} s of device time ({lost_s / SPEED:.2f} s at the source's pace)")
    assert lost_s <= 0.5 * SPEED + 0.1, f"lost {lost_s:.1f} s of device time that the recorder had received"
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
    listing = json.loads(sensorapp("sessions", "--json", *(["--store", store_url] if store_url else [])).stdout)
    assert listing[0]["complete"] is False and listing[0]["state"] == "incomplete"
