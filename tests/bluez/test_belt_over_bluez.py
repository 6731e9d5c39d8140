"""The GMBelt through real bleak and the fake BlueZ: BeltSource, the decoder
and calibration exactly as on hardware (only the radio is virtual)."""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest

from firmware_protocol import codec, gatt
from sensorapp.devices.base import CommandError, ConnectError, LinkLost, LinkRestored, LinkState
from sensorapp.devices.belt import BeltSource
from sensorapp.devices.fake_bluez import FakeBlueZ, belt_device, progressor_device
from sensorapp.devices.registry import open_source
from sensorapp.devices.scan import resolve_address, scan
from sensorapp.simulation.patient import PatientProfile
from sensorapp.simulation.world import LinkDrop, SimClock

pytestmark = pytest.mark.bluez

BELT = "5A:1E:00:01:E2:40"


@pytest.mark.parametrize(
    ("acquire", "mtu"),
    [(False, 247), (False, 23), (True, 23)],
    ids=["StartNotify-MTU247", "StartNotify-MTU23", "AcquireNotify-MTU23"],
)
async def test_1khz_stream_without_loss(fake_bluez: FakeBlueZ, collector, acquire: bool, mtu: int) -> None:
    """1000 samples/s for 2 s: 50 notifications/s at MTU 247, 333/s at MTU 23."""
    hosted = fake_bluez.add(belt_device(att_mtu=mtu))
    src = BeltSource(BELT, acquire_notify=acquire)
    src.subscribe(collector)
    await src.connect()
    await src.start_stream(1000)
    await collector.until_device_time(2.0)
    await src.disconnect()
    assert hosted.notify_modes[gatt.FORCE_STREAM_CHAR_UUID] == ("acquire" if acquire else "start")
    t, f = collector.samples()
    assert len(t) >= 2000
    np.testing.assert_allclose(np.diff(t), 0.001, atol=1e-9)  # every sample, in order, nothing invented
    assert src.stats.lost_packets == 0 and src.stats.gaps == [] and src.stats.malformed_packets == 0
    assert src.stats.rate_hz == 1000
    # Calibrated newtons that follow the virtual patient (at rest: its pre-tension).
    assert 1.0 < float(np.median(f)) < 12.0


async def test_scan_classifies_and_resolves(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(belt_device(rssi_dbm=-50))
    fake_bluez.add(progressor_device(rssi_dbm=-70))
    found = await scan(0.5)
    assert [(d.kind, d.name) for d in found] == [("belt", "GMBelt-E240"), ("progressor", "Progressor_3A61")]  # strongest first
    assert [d.kind for d in await scan(0.5, belts_only=True)] == ["belt"]
    desc = await resolve_address(BELT.lower(), timeout_s=2.0)
    assert desc.kind == "belt" and desc.address == BELT
    src = open_source(desc)
    await src.connect()
    assert src.info is not None and src.info.serial == "GMB-0001E240" and src.info.kind == "belt"
    await src.disconnect()


async def test_commands_and_their_error_replies(fake_bluez: FakeBlueZ, caplog: pytest.LogCaptureFixture) -> None:
    fake_bluez.add(belt_device())
    src = BeltSource(BELT)
    await src.connect()
    info = codec.DeviceInfo.decode((await src.command(codec.Command(codec.Opcode.GET_INFO))).payload)
    assert info.serial == 0x0001E240
    with pytest.raises(CommandError, match="OPCODE_0x7e: the belt does not know this command") as unknown:
        await src.command(codec.Command(0x7E))
    assert unknown.value.status == codec.Status.UNKNOWN_OPCODE
    with pytest.raises(CommandError, match="START_STREAM: a command parameter was out of range") as bad_rate:
        await src.command(codec.Command(codec.Opcode.START_STREAM, struct.pack("<H", 5)))
    assert bad_rate.value.status == codec.Status.INVALID_PARAMETER
    with pytest.raises(CommandError, match="the command had the wrong length"):
        await src.command(codec.Command(codec.Opcode.GET_INFO, b"\x00"))
    # A tare keeps the belt busy: a command written meanwhile (beside our
    # command lock, as a second app would) is refused with BUSY.
    await src.start_stream(100)
    tare = asyncio.ensure_future(src.tare())
    await asyncio.sleep(0.2)
    with caplog.at_level("WARNING", logger="sensorapp.devices.belt"):
        await src.client.write_gatt_char(gatt.CONTROL_POINT_CHAR_UUID, bytes([codec.Opcode.STOP_STREAM]), response=True)
        removed = await tare
    assert 1.0 < removed < 10.0  # the belt's pre-tension, measured at rest
    assert "unexpected reply STOP_STREAM: the belt is busy" in caplog.text
    await src.disconnect()


async def test_link_loss_mid_rep_reconnects_and_records_the_gap(fake_bluez: FakeBlueZ, collector) -> None:
    # The first rep holds from about 1.9 s to 8 s of device time; the link drops at 4 s for 1 s.
    fake_bluez.world.clock = SimClock(speed=2.0)
    patient = PatientProfile(seed=3, start_rest_s=1.0)
    hosted = fake_bluez.add(belt_device(patient=patient, link_drops=(LinkDrop(4.0, 1.0),)))
    rep = hosted.sim.patient.truth[0]  # type: ignore[attr-defined]
    assert rep.hold_start_s < 4.0 and rep.hold_end_s > 5.0
    src = BeltSource(BELT)
    src.subscribe(collector)
    await src.connect()
    await src.start_stream(200)
    await collector.until_device_time(7.0, timeout_s=30)
    assert src.state == LinkState.STREAMING
    await src.disconnect()
    kinds = collector.kinds()
    assert kinds.index(LinkLost) < kinds.index(LinkRestored)
    assert src.stats.reconnects == 1 and hosted.link_losses == 1
    (gap,) = src.stats.gaps
    assert gap.cause == "link loss"
    # Out of range 1 s of device time, plus the reconnect (>= 0.25 s host backoff = 0.5 s device).
    assert 1.0 <= gap.duration_s < 1.0 + 2 * 3.0
    t, f = collector.samples()
    steps = np.diff(t)
    assert np.all(steps > 0) and int(np.sum(steps > 0.0075)) == 1  # one hole, nothing invented
    hole = int(np.argmax(steps))
    # The hole is inside the rep: the patient pressed before it and still presses after it.
    baseline = rep.baseline_n
    assert f[hole] - baseline > 0.5 * rep.plateau_n and f[hole + 1] - baseline > 0.5 * rep.plateau_n


async def test_connect_failure_is_one_clear_error(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(belt_device(fail_connects=100))
    src = BeltSource(BELT, connect_attempts=1)
    with pytest.raises(ConnectError, match="could not connect to GMBelt-E240: .*Software caused connection abort"):
        await src.connect()
    assert src.state == LinkState.DISCONNECTED


async def test_connect_retries_after_a_failure(fake_bluez: FakeBlueZ) -> None:
    hosted = fake_bluez.add(belt_device(fail_connects=1))
    src = BeltSource(BELT, connect_attempts=3)
    await src.connect()
    assert src.state == LinkState.CONNECTED and hosted.connects == 1
    await src.disconnect()


async def test_services_that_never_resolve_give_a_timeout_error(fake_bluez: FakeBlueZ) -> None:
    hosted = fake_bluez.add(belt_device(), never_resolve=True)
    src = BeltSource(BELT, connect_attempts=1, connect_timeout_s=1.0)
    with pytest.raises(ConnectError, match="could not connect to GMBelt-E240: no usable connection after 1 s .*never finished service discovery"):
        await src.connect()
    assert src.state == LinkState.DISCONNECTED
    await asyncio.sleep(0.05)
    assert hosted.connects == 1 and not hosted.connected  # bleak gave up and disconnected
