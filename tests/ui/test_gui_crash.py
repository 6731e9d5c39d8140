"""Killing the app mid-session loses at most about a second, and the next
start recovers the session as incomplete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


def test_sigkill_mid_session_loses_at_most_a_second(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["SENSORAPP_DATA_DIR"] = str(data)
    # No display: the app runs offscreen and narrates, so we see when the session starts.
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorapp", "--simulate", "--speed", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        started = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "Lie on your left side" in line:
                started = time.monotonic()
                break
        assert started is not None, "the session never started"
        time.sleep(4.0)
        killed_after_s = time.monotonic() - started
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()

    from sensorapp.storage import SessionStore

    with SessionStore.open(data) as store:
        assert store.recovered_session_ids
        (record,) = store.sessions()
        assert record.state == "incomplete"
        samples = store.samples(record.id)
    recorded_s = float(samples.t_s[-1] - samples.t_s[0])
    # The store started with the session; everything up to ~1 s before the kill survived.
    print(f"killed after {killed_after_s:.2f} s, recorded {recorded_s:.2f} s")
    assert recorded_s >= killed_after_s - 1.3, (recorded_s, killed_after_s)
    assert len(samples.t_s) >= 100 * (killed_after_s - 1.3)


def test_sigterm_closes_the_session_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["SENSORAPP_DATA_DIR"] = str(data)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorapp", "--simulate", "--speed", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Lie on your left side" not in proc.stdout.readline():
            pass
        time.sleep(2.0)
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
    from sensorapp.storage import SessionStore

    with SessionStore.open(data) as store:
        assert store.recovered_session_ids == []  # nothing was left open
        (record,) = store.sessions()
        assert record.state == "incomplete" and record.end_reason == "app closed"
        assert record.sample_count > 0
