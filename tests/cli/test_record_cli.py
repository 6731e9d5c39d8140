"""`sensorapp record` and `scan` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sensorapp.storage.samples_csv import read_samples_csv


def sensorapp(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sensorapp", *args], capture_output=True, text=True, timeout=timeout)


def test_record_60_s_at_speed_20_writes_every_sample(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    proc = sensorapp("record", "--simulate", "--duration", "60", "--speed", "20", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("time_s,force_n,side\n")
    table = read_samples_csv(out)
    assert len(table) == 6000  # 60 s at the belt's default 100 Hz
    assert table.t_s[0] == 0.0
    np.testing.assert_allclose(np.diff(table.t_s), 0.01, atol=2e-6)
    assert table.t_s[-1] == pytest.approx(59.99)
    assert table.force_n.max() > 50  # the virtual patient pressed
    # Labelled as the GUI's session model does: the first side (left by default) until its 7 reps are done (> 60 s).
    assert set(table.side) == {"left"}
    assert "lost 0 (0.00%)" in proc.stderr and "gaps 0" in proc.stderr


def test_record_with_packet_loss_leaves_gaps_and_reports_them(tmp_path: Path) -> None:
    out = tmp_path / "lossy.csv"
    proc = sensorapp("record", "--simulate", "--duration", "20", "--speed", "20", "--rate", "200", "--packet-loss", "0.05", "--side", "left", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    table = read_samples_csv(out)
    steps = np.diff(table.t_s)
    holes = int(np.sum(steps > 0.0075))
    assert holes > 0
    assert 0.8 * 4000 < len(table) < 4000  # samples missing, none invented
    np.testing.assert_allclose(steps[steps < 0.0075], 0.005, atol=2e-6)
    assert set(table.side) == {"left"}
    # The closing line is authoritative and counts exactly what is in the file (the source may have received
    # more after --duration was reached: how much depends on how busy the machine is, so it is not counted).
    closing = re.search(
        r"recorded (\d+) samples \(([\d.]+) s of device time .*; packets (\d+), lost (\d+) \([\d.]+%\), gaps (\d+) \(([\d.]+) s\)",
        proc.stderr,
    )
    assert closing is not None, proc.stderr
    rows, span_s, packets, lost, gaps, gap_time_s = closing.groups()
    assert int(rows) == len(table)
    assert float(span_s) == pytest.approx(table.t_s[-1] - table.t_s[0], abs=0.05)
    assert int(gaps) == holes
    assert float(gap_time_s) == pytest.approx(float(np.sum(steps[steps > 0.0075] - 0.005)), abs=0.006)
    assert holes <= int(lost) and int(packets) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["record", "--simulate", "--rate", "5000", "--out", "o.csv"], "outside 10..1000 Hz"),
        (["record", "--simulate", "--speed", "0", "--out", "o.csv"], "must be a positive number"),
        (["record", "--out", "o.csv"], "one of the arguments --simulate --device --replay is required"),
        (["record", "--simulate", "--link-drop", "soon", "--out", "o.csv"], "expected AT:DURATION"),
        (["record", "--device", "AA:BB:CC:DD:EE:FF", "--speed", "2", "--out", "o.csv"], "--speed only applies"),
        (["record", "--device", "AA:BB:CC:DD:EE:FF", "--virtual-clock", "0.02", "--out", "o.csv"], "--virtual-clock only applies"),
        (["record", "--simulate", "--virtual-clock", "-1", "--out", "o.csv"], "must be a positive number"),
        (["record", "--replay", "missing.csv", "--out", "o.csv"], "missing.csv: no such file"),
        (["record", "--simulate", "--out", "/no/such/dir/o.csv"], "the folder /no/such/dir does not exist"),
    ],
)
def test_bad_arguments_print_one_line_and_fail(tmp_path: Path, args: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "sensorapp", *args], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert not (tmp_path / "o.csv").exists()


def test_replay_of_a_recording_reproduces_it(tmp_path: Path) -> None:
    src = tmp_path / "src.csv"
    assert sensorapp("record", "--simulate", "--duration", "10", "--speed", "20", "--out", str(src)).returncode == 0
    out = tmp_path / "replayed.csv"
    proc = sensorapp("record", "--replay", str(src), "--speed", "50", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    a, b = read_samples_csv(src), read_samples_csv(out)
    np.testing.assert_array_equal(a.t_s, b.t_s)
    np.testing.assert_allclose(a.force_n, b.force_n, atol=1e-4)


def test_scan_simulated_json() -> None:
    proc = sensorapp("scan", "--simulate", "--timeout", "0.5", "--json")
    assert proc.returncode == 0, proc.stderr
    (dev,) = json.loads(proc.stdout)
    assert dev["kind"] == "simulated" and dev["name"].startswith("GMBelt-") and isinstance(dev["rssi"], int)


def test_scan_without_bluetooth_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "sensorapp", "scan", "--timeout", "1"], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("sensorapp: error: Bluetooth is not available")
    assert "Traceback" not in proc.stderr
