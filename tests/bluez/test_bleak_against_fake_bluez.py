"""Unmodified bleak (BlueZ backend) against the fake BlueZ: what the app's
device layer relies on, checked at bleak's own API."""

from __future__ import annotations

import asyncio
import time

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError, BleakGATTProtocolError, BleakGATTProtocolErrorCode

from firmware_protocol import codec, gatt
from sensorapp.acquisition import progressor_protocol as pp
from sensorapp.devices.fake_bluez import FakeBlueZ, belt_device, progressor_device

pytestmark = pytest.mark.bluez

BELT = "5A:1E:00:01:E2:40"
BELT2 = "5A:1E:00:01:E2:41"
PROGRESSOR = "C7:4E:17:00:3A:61"


def three_devices(fake: FakeBlueZ) -> None:
    fake.add(belt_device(0x0001E240, rssi_dbm=-50))
    fake.add(belt_device(0x0001E241, rssi_dbm=-80))
    fake.add(progressor_device(0x5EED_0000_3A61, rssi_dbm=-66))


async def test_scan_reports_name_rssi_and_uuids(fake_bluez: FakeBlueZ) -> None:
    three_devices(fake_bluez)
    found = await BleakScanner.discover(timeout=0.5, return_adv=True)
    by_address = {d.address: (d, adv) for d, adv in found.values()}
    assert set(by_address) == {BELT, BELT2, PROGRESSOR}
    device, adv = by_address[BELT]
    assert device.name == "GMBelt-E240" and adv.service_uuids == [gatt.BELT_SERVICE_UUID]
    assert -55 <= adv.rssi <= -45  # -50 dBm with the simulated +-4 dB wobble
    _, padv = by_address[PROGRESSOR]
    assert padv.local_name == "Progressor_3A61" and padv.service_uuids == []  # like the real one
    # bleak's BlueZ path: the scanner knows the D-Bus object of each device.
    assert device.details["path"] == "/org/bluez/hci0/dev_5A_1E_00_01_E2_40"


async def test_scan_service_filter_and_rssi_threshold(fake_bluez: FakeBlueZ) -> None:
    three_devices(fake_bluez)
    belts = await BleakScanner.discover(timeout=0.5, service_uuids=[gatt.BELT_SERVICE_UUID])
    assert {d.address for d in belts} == {BELT, BELT2}  # the Progressor does not advertise a UUID
    near = await BleakScanner.discover(timeout=0.5, bluez={"filters": {"RSSI": -70}})
    assert {d.address for d in near} == {BELT, PROGRESSOR}
    assert not fake_bluez.adapter.discovering  # every session was stopped


async def test_connect_by_address_gives_the_gatt_table(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(belt_device())
    async with BleakClient(BELT, timeout=5.0) as client:
        uuids = {s.uuid: {c.uuid: c for c in s.characteristics} for s in client.services}
        for service_uuid, chars in gatt.GATT_TABLE:
            assert set(uuids[service_uuid]) == {c for c, _ in chars}
            for char_uuid, props in chars:
                assert sorted(uuids[service_uuid][char_uuid].properties) == sorted(props)
        stream = client.services.get_characteristic(gatt.FORCE_STREAM_CHAR_UUID)
        assert stream is not None
        # Handles come from the object paths; the CCCD exists for notify characteristics.
        assert stream.obj[0].endswith(f"/char{stream.handle:04x}")
        assert [d.uuid for d in stream.descriptors] == [gatt.CCCD_UUID]
        assert stream.max_write_without_response_size == gatt.PREFERRED_ATT_MTU - 3
        assert await client.read_gatt_char(gatt.MODEL_NUMBER_CHAR_UUID) == b"GMBelt A1"
        assert fake_bluez.device(BELT).connected
    await asyncio.sleep(0.05)
    assert not fake_bluez.device(BELT).connected  # bleak's Disconnect reached the fake
    assert fake_bluez.device(BELT).chars == {}  # and the GATT objects went with the link


async def test_gatt_errors_reach_bleak_as_protocol_errors(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(belt_device())
    async with BleakClient(BELT, timeout=5.0) as client:
        with pytest.raises(BleakGATTProtocolError) as write_err:
            await client.write_gatt_char(gatt.FORCE_STREAM_CHAR_UUID, b"\x01", response=True)
        assert write_err.value.code == BleakGATTProtocolErrorCode.WRITE_NOT_PERMITTED
        with pytest.raises(BleakGATTProtocolError) as read_err:
            await client.read_gatt_char(gatt.CONTROL_POINT_CHAR_UUID)
        assert read_err.value.code == BleakGATTProtocolErrorCode.READ_NOT_PERMITTED
        # The control point takes write requests only, not write commands.
        with pytest.raises(BleakGATTProtocolError) as cmd_err:
            await client.write_gatt_char(gatt.CONTROL_POINT_CHAR_UUID, b"\x06", response=False)
        assert cmd_err.value.code == BleakGATTProtocolErrorCode.REQUEST_NOT_SUPPORTED


async def test_indicated_reply_to_a_write(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(belt_device())
    replies: asyncio.Queue[bytes] = asyncio.Queue()
    async with BleakClient(BELT, timeout=5.0) as client:
        await client.start_notify(gatt.CONTROL_POINT_CHAR_UUID, lambda _c, data: replies.put_nowait(bytes(data)))
        await client.write_gatt_char(gatt.CONTROL_POINT_CHAR_UUID, b"\x7e", response=True)
        reply = codec.decode_response(await asyncio.wait_for(replies.get(), 2.0))
        assert (reply.opcode, reply.status) == (0x7E, codec.Status.UNKNOWN_OPCODE)
        await client.write_gatt_char(gatt.CONTROL_POINT_CHAR_UUID, codec.encode_command(codec.Command(codec.Opcode.GET_INFO)), response=True)
        info = codec.DeviceInfo.decode(codec.decode_response(await asyncio.wait_for(replies.get(), 2.0)).payload)
        assert info.serial == 0x0001E240


@pytest.mark.parametrize("use_start_notify", [True, False], ids=["StartNotify", "AcquireNotify"])
async def test_progressor_frames_through_both_notify_paths(fake_bluez: FakeBlueZ, use_start_notify: bool) -> None:
    hosted = fake_bluez.add(progressor_device())
    frames: list[bytes] = []
    async with BleakClient(PROGRESSOR, timeout=5.0) as client:
        await client.start_notify(pp.DATA_CHAR_UUID, lambda _c, d: frames.append(bytes(d)), bluez={"use_start_notify": use_start_notify})
        assert hosted.notify_modes[pp.DATA_CHAR_UUID] == ("start" if use_start_notify else "acquire")
        await client.write_gatt_char(pp.CONTROL_CHAR_UUID, pp.encode_command(pp.Opcode.GET_BATTERY_VOLTAGE), response=True)
        await client.write_gatt_char(pp.CONTROL_CHAR_UUID, pp.encode_command(pp.Opcode.START_WEIGHT_MEAS), response=False)
        async with asyncio.timeout(5):
            while len(frames) < 4:
                await asyncio.sleep(0.02)
        await client.stop_notify(pp.DATA_CHAR_UUID)
        if not use_start_notify:
            async with asyncio.timeout(2):  # bleak closed its fd: the fake sees EOF
                while hosted.chars[pp.DATA_CHAR_UUID].acquired is not None:
                    await asyncio.sleep(0.01)
        else:
            assert not hosted.chars[pp.DATA_CHAR_UUID].notifying
    assert pp.parse_reply(pp.Opcode.GET_BATTERY_VOLTAGE, pp.parse_frame(frames[0]).payload) == 3950
    weights = [pp.parse_frame(f) for f in frames[1:]]
    assert all(f.tag == pp.Tag.WEIGHT_MEASUREMENT and f.declared_len == 120 for f in weights)


async def test_pair_and_mtu(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(belt_device())
    async with BleakClient(BELT, timeout=5.0, pair=True) as client:
        assert fake_bluez.device(BELT).paired and fake_bluez.device(BELT).trusted
        await client._backend._acquire_mtu()  # type: ignore[attr-defined]  # bleak's BlueZ helper, via AcquireNotify
        assert client.mtu_size == gatt.PREFERRED_ATT_MTU


async def test_link_loss_calls_back_and_fails_writes(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(belt_device())
    lost = asyncio.Event()
    client = BleakClient(BELT, timeout=5.0, disconnected_callback=lambda _c: lost.set())
    await client.connect()
    fake_bluez.simulate_link_loss(BELT)
    await asyncio.wait_for(lost.wait(), 2.0)
    assert not client.is_connected
    with pytest.raises(BleakError):
        await client.write_gatt_char(gatt.CONTROL_POINT_CHAR_UUID, b"\x06", response=True)
    await client.disconnect()  # after a link loss bleak still holds its D-Bus connection until this


async def test_connect_failure_is_a_bleak_error(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(belt_device(fail_connects=1))
    client = BleakClient(BELT, timeout=5.0)
    with pytest.raises(BleakError, match="Software caused connection abort"):
        await client.connect()
    assert not client.is_connected
    await client.connect()  # the next attempt works
    await client.disconnect()


async def test_services_that_never_resolve_time_out(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(belt_device(), never_resolve=True)
    client = BleakClient(BELT, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await client.connect()
    assert 0.9 < time.monotonic() - started < 3.0
    await asyncio.sleep(0.05)
    assert not fake_bluez.device(BELT).connected  # bleak cancelled with Disconnect
