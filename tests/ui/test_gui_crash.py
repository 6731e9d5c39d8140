"""Killing the app mid-session loses at most about a second, and the next
start recovers the session as incomplete."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
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


NARRATED = re.compile(r"^\s+(\d+\.\d) s  ")  # "    4.2 s  Rep 1 of 7, left side: ..." (device time)


def test_sigkill_mid_session_loses_at_most_a_second(tmp_path: Path) -> None:
    # "Lost" is what the app had received and the store does not hold. A narrated line at device time T is
    # printed after the app processed the samples up to T, so T is a lower bound of what it had received;
    # kill right after reading one. (The host clock is no measure: a starved app has not received what the
    # simulated belt would have produced by now, and the belt is not its to lose.)
    proc, data, started = start_app(tmp_path, speed=1)
    assert proc.stdout is not None
    received_s = 0.0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and received_s < 4.0:
            match = NARRATED.match(proc.stdout.readline())
            if match:
                received_s = float(match.group(1)) - 0.05  # printed to 0.1 s
        killed_after_s = time.monotonic() - started
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert received_s >= 4.0, "the session never got 4 s into the first rep"

    from sensorapp.storage import SessionStore

    with SessionStore.open(data) as store:
        assert store.recovered_session_ids
        (record,) = store.sessions()
        assert record.state == "incomplete"
        samples = store.samples(record.id)
    last_s = float(samples.t_s[-1])
    print(f"received >= {received_s:.2f} s (host {killed_after_s:.2f} s after the start), stored up to {last_s:.2f} s")
    assert last_s >= received_s - 1.0, f"lost {received_s - last_s:.2f} s of received samples"
    assert len(samples.t_s) >= 100 * (received_s - 1.0)
    assert np.all(np.diff(samples.t_s) > 0)


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
