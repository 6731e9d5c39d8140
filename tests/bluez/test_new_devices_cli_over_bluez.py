"""`sensorapp scan` and `sensorapp record --device` with the WH-C06 scale, the Force Board
and a Crimpdeq, as a user runs them against the fake BlueZ (the CLI in a subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bluez_cli import sensorapp

from sensorapp.devices.fake_bluez import (
    FakeBlueZ,
    crimpdeq_device,
    forceboard_address,
    forceboard_device,
    progressor_address,
    whc06_address,
    whc06_device,
)
from sensorapp.storage.samples_csv import read_samples_csv

pytestmark = pytest.mark.bluez


async def test_scan_lists_each_kind(fake_bluez: FakeBlueZ, tmp_path: Path) -> None:
    fake_bluez.add(whc06_device(rssi_dbm=-50))
    fake_bluez.add(forceboard_device(rssi_dbm=-60))
    fake_bluez.add(crimpdeq_device(rssi_dbm=-70))
    code, out, err = await sensorapp(tmp_path, "scan", "--json", "--timeout", "1")
    assert code == 0, err
    found = json.loads(out)
    assert [(d["name"], d["kind"]) for d in found] == [("IF_B7", "whc06"), ("Force Board B0A4", "forceboard"), ("Crimpdeq", "progressor")]
    code, out, err = await sensorapp(tmp_path, "scan", "--timeout", "1")
    assert code == 0, err
    assert "IF_B7" in out and "whc06" in out and "forceboard" in out


@pytest.mark.parametrize(
    ("make", "address", "rate_range"),
    [
        (whc06_device, whc06_address(0x00C0_6B07), (7.0, 9.0)),
        (forceboard_device, forceboard_address(0x00F0_B0A4), (36.0, 44.0)),
        (crimpdeq_device, progressor_address(0x0000_0000_C1DE), (76.0, 84.0)),
    ],
    ids=["whc06", "forceboard", "crimpdeq"],
)
async def test_record_from_each(fake_bluez: FakeBlueZ, tmp_path: Path, make, address: str, rate_range: tuple[float, float]) -> None:
    fake_bluez.add(make())
    code, _, err = await sensorapp(tmp_path, "record", "--device", address, "--duration", "3", "--side", "left", "--out", "x.csv")
    assert code == 0, err
    assert "Traceback" not in err
    table = read_samples_csv(tmp_path / "x.csv")
    assert table.t_s[0] == 0.0 and table.t_s[-1] < 3.0 and np.all(np.diff(table.t_s) > 0)
    lo, hi = rate_range
    assert lo < (len(table) - 1) / (table.t_s[-1] - table.t_s[0]) < hi
    assert set(table.side) == {"left"}
    assert "lost 0 (0.00%)" in err and "gaps 0" in err
    code, out, err = await sensorapp(tmp_path, "analyze", "x.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["recording"]["samples"] == len(table)


async def test_record_refuses_a_rate_for_the_scale(fake_bluez: FakeBlueZ, tmp_path: Path) -> None:
    fake_bluez.add(whc06_device())
    code, _, err = await sensorapp(tmp_path, "record", "--device", whc06_address(0x00C0_6B07), "--rate", "100", "--out", "x.csv")
    assert code == 1
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "cannot stream at 100 Hz" in errors[0]
    assert "Traceback" not in err and not (tmp_path / "x.csv").exists()
