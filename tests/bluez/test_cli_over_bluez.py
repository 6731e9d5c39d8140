"""`sensorapp scan` and `sensorapp record --device` as a user runs them,
against the fake BlueZ (the fake runs in the test, the CLI in a subprocess)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from bluez_cli import sensorapp

from sensorapp.devices.fake_bluez import FakeBlueZ, belt_device, progressor_device
from sensorapp.storage.samples_csv import read_samples_csv

pytestmark = pytest.mark.bluez

PROGRESSOR = "C7:4E:17:00:3A:61"




async def test_scan_lists_belts_and_the_progressor_with_their_kinds(fake_bluez: FakeBlueZ, tmp_path: Path) -> None:
    fake_bluez.add(belt_device(rssi_dbm=-50))
    fake_bluez.add(progressor_device(rssi_dbm=-70))
    code, out, err = await sensorapp(tmp_path, "scan", "--json", "--timeout", "1")
    assert code == 0, err
    found = json.loads(out)
    assert [(d["name"], d["kind"]) for d in found] == [("GMBelt-E240", "belt"), ("Progressor_3A61", "progressor")]
    assert all(isinstance(d["rssi"], int) for d in found)
    assert "Could not determine BlueZ version" not in err  # the bluetoothctl stand-in answered


async def test_record_from_the_progressor(fake_bluez: FakeBlueZ, tmp_path: Path) -> None:
    fake_bluez.add(progressor_device())
    code, _, err = await sensorapp(tmp_path, "record", "--device", PROGRESSOR, "--duration", "2", "--side", "right", "--out", "p.csv")
    assert code == 0, err
    assert "connected: Progressor_3A61 Tindeq Progressor 5EED00003A61 firmware 1.2.3" in err
    table = read_samples_csv(tmp_path / "p.csv")
    assert table.t_s[0] == 0.0 and table.t_s[-1] < 2.0 and np.all(np.diff(table.t_s) > 0)
    assert 150 <= len(table) <= 170  # about 81 samples/s for 2 s
    assert set(table.side) == {"right"}
    assert "lost 0 (0.00%)" in err and "gaps 0" in err


async def test_record_refuses_a_rate_for_the_progressor(fake_bluez: FakeBlueZ, tmp_path: Path) -> None:
    fake_bluez.add(progressor_device())
    code, _, err = await sensorapp(tmp_path, "record", "--device", PROGRESSOR, "--rate", "100", "--out", "p.csv")
    assert code == 1
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "fixed rate (about 80 Hz); it cannot stream at 100 Hz" in errors[0]
    assert "Traceback" not in err and not (tmp_path / "p.csv").exists()


async def test_record_from_a_belt_at_1khz(fake_bluez: FakeBlueZ, tmp_path: Path) -> None:
    fake_bluez.add(belt_device())
    code, _, err = await sensorapp(tmp_path, "record", "--device", "5A:1E:00:01:E2:40", "--duration", "1.5", "--rate", "1000", "--out", "b.csv")
    assert code == 0, err
    table = read_samples_csv(tmp_path / "b.csv")
    assert len(table) == 1500
    np.testing.assert_allclose(np.diff(table.t_s), 0.001, atol=2e-6)


async def test_the_stand_alone_fake_serves_a_demo(private_bus, tmp_path: Path) -> None:
    """`python -m sensorapp.devices.fake_bluez` in its own process, as in docs/ble-testing.md."""
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sensorapp.devices.fake_bluez", "--bus", private_bus.address, "--belts", "2", "--progressors", "1",
        "--duration", "30", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert fake.stdout is not None
        lines = []
        async with asyncio.timeout(20):
            while not lines or lines[-1] != "# fake BlueZ ready":
                lines.append((await fake.stdout.readline()).decode().strip())
        assert lines[0] == f"export DBUS_SYSTEM_BUS_ADDRESS={private_bus.address}"
        code, out, err = await sensorapp(tmp_path, "scan", "--json", "--timeout", "1")
        assert code == 0, err
        assert sorted(d["name"] for d in json.loads(out)) == ["GMBelt-E240", "GMBelt-E241", "Progressor_3A61"]
    finally:
        fake.terminate()
        _, err_bytes = await asyncio.wait_for(fake.communicate(), 10)
    assert fake.returncode == 0, err_bytes.decode()
    assert "serving Progressor_3A61  C7:4E:17:00:3A:61" in err_bytes.decode()


def test_the_stand_alone_fake_refuses_bad_arguments() -> None:
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "sensorapp.devices.fake_bluez", "--belts", "0", "--progressors", "0"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "serve at least one device" in proc.stderr
