"""`sensorapp calibrate --device` against the fake BlueZ, with real bleak over D-Bus: the test plays
the person at the bench, hanging each mass when the CLI asks for it; the Progressor is only zeroed."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from bluez_cli import sensorapp

from sensorapp.devices.fake_bluez import FakeBlueZ, belt_device, progressor_device
from sensorapp.simulation.hanging_mass import HangingMassRig
from sensorapp.simulation.virtual_belt import VirtualBelt

pytestmark = pytest.mark.bluez

BELT = "5A:1E:00:01:E2:40"
PROGRESSOR = "C7:4E:17:00:3A:61"


async def test_calibrate_a_belt_over_bluez_while_a_person_hangs_the_masses(fake_bluez: FakeBlueZ, tmp_path: Path) -> None:
    device = belt_device(nonlinearity_at_capacity=0.005)
    fake_bluez.add(device)
    belt = device.belt
    assert isinstance(belt, VirtualBelt)
    rig = HangingMassRig()
    belt.force_fn = rig.force_at  # on the bench, nothing hung
    env = dict(os.environ, SENSORAPP_DATA_DIR=str(tmp_path / "data"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sensorapp", "calibrate", "--device", BELT, "--mass", "2", "--mass", "5", "--yes", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path,
    )
    assert proc.stderr is not None and proc.stdout is not None
    err_lines: list[str] = []
    async with asyncio.timeout(120):  # only a hang fails, not a slow machine
        while line := (await proc.stderr.readline()).decode():
            err_lines.append(line)
            for mass in (2.0, 5.0):
                if line.startswith(f"hang {mass:g} kg: waiting"):
                    rig.hang(mass, fake_bluez.world.now_us() / 1e6)  # the person does what the CLI asks
        out = (await proc.stdout.read()).decode()
        code = await proc.wait()
    assert code == 0, "".join(err_lines)
    result = json.loads(out)
    assert [p["mass_kg"] for p in result["points"]] == [0.0, 2.0, 5.0]
    assert result["newtons_per_count"] == pytest.approx(belt.gain, rel=0.001)
    assert result["written_to_belt"] and (tmp_path / "data" / "calibrations.json").exists()
    held = belt.persisted_calibration  # the belt's flash, written through BlueZ
    assert held is not None
    assert (held.zero_counts, held.newtons_per_count) == (result["belt_readback"]["zero_counts"], result["belt_readback"]["newtons_per_count"])


async def test_calibrate_a_progressor_over_bluez_only_zeroes_it(fake_bluez: FakeBlueZ, tmp_path: Path) -> None:
    fake_bluez.add(progressor_device())
    code, out, err = await sensorapp(tmp_path, "calibrate", "--device", PROGRESSOR, "--mass", "2", "--mass", "5", "--yes", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["tare_only"] is True and abs(result["removed_n"]) < 25
    assert "calibrates itself: only zeroing it" in err
    assert not (tmp_path / "data" / "calibrations.json").exists()


async def test_nobody_hangs_the_mass_so_calibrate_gives_up_after_the_settle_timeout(fake_bluez: FakeBlueZ, tmp_path: Path) -> None:
    device = belt_device()
    fake_bluez.add(device)
    rig = HangingMassRig()
    device.belt.force_fn = rig.force_at  # type: ignore[attr-defined]  # on the bench; nobody comes to hang 2 kg
    code, out, err = await sensorapp(tmp_path, "calibrate", "--device", BELT, "--mass", "2", "--mass", "5", "--yes", "--settle-timeout", "3")
    assert code == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("sensorapp: error: waited 3 s for the belt to settle on 2 kg; it reads ")
    assert "hang 2 kg from the belt and try again" in last
    assert "captured 0 kg" in err and out == ""
    assert not (tmp_path / "data" / "calibrations.json").exists()
