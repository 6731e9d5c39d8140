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


def start_app(tmp_path: Path, speed: float) -> tuple[subprocess.Popen[str], Path, float]:
    """The app with no display (offscreen, narrating); returns it, its data dir and when the session started."""
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["SENSORAPP_DATA_DIR"] = str(data)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorapp", "--simulate", "--speed", str(speed)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "Lie on your left side" in proc.stdout.readline():
            return proc, data, time.monotonic()
    proc.kill()
    raise AssertionError("the session never started")


def test_sigkill_mid_session_loses_at_most_a_second(tmp_path: Path) -> None:
    proc, data, started = start_app(tmp_path, speed=1)
    try:
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
    proc, data, _ = start_app(tmp_path, speed=5)
    try:
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
