"""The Tindeq Progressor through real bleak and the fake BlueZ."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from sensorapp.acquisition import progressor_protocol as pp
from sensorapp.devices.base import BatteryLow, DeviceError, LinkLost, LinkRestored, LinkState, SourceFailed
from sensorapp.devices.fake_bluez import FakeBlueZ, progressor_device
from sensorapp.devices.progressor import ProgressorSource
from sensorapp.devices.registry import open_source
from sensorapp.devices.scan import scan
from sensorapp.simulation.world import LinkDrop

pytestmark = pytest.mark.bluez

ADDRESS = "C7:4E:17:00:3A:61"


@pytest.mark.parametrize("acquire", [False, True], ids=["StartNotify", "AcquireNotify"])
async def test_found_by_name_and_streams_about_80_hz(fake_bluez: FakeBlueZ, collector, acquire: bool) -> None:
    hosted = fake_bluez.add(progressor_device())
    (desc,) = await scan(0.5)
    assert (desc.kind, desc.name, desc.address) == ("progressor", "Progressor_3A61", ADDRESS)
    src = open_source(desc, acquire_notify=acquire)
    assert isinstance(src, ProgressorSource)
    src.subscribe(collector)
    await src.connect()
    info = src.info
    assert info is not None
    assert (info.kind, info.model, info.firmware, info.serial) == ("progressor", "Tindeq Progressor", "1.2.3", "5EED00003A61")
    assert not info.supports_rate_choice and info.supports_tare
    assert src.battery_pct == pp.battery_percent_estimate(3950)
    await src.start_stream()
    assert src.info is not None and src.info.rate_hz == pp.NOMINAL_RATE_HZ
    await collector.until_device_time(1.6)
    await src.disconnect()
    assert hosted.notify_modes[pp.DATA_CHAR_UUID] == ("acquire" if acquire else "start")
    t, f = collector.samples()
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    assert 78 < (len(t) - 1) / (t[-1] - t[0]) < 84  # delivered rate, like the real capture
    assert src.stats.gaps == [] and src.stats.malformed_packets == 0
    # At rest the virtual patient's leg just tensions the strap: a few newtons.
    assert 2.0 < float(np.median(f)) < 10.0
    assert hosted.peripheral.commands[-1] == pp.Opcode.STOP_WEIGHT_MEAS  # disconnect stopped the stream first


async def test_tare_restart_and_link_loss(fake_bluez: FakeBlueZ, collector) -> None:
    hosted = fake_bluez.add(progressor_device(link_drops=(LinkDrop(3.0, 0.6),)))
    src = ProgressorSource(ADDRESS)
    src.subscribe(collector)
    await src.connect()
    removed_n = await src.tare()  # the unit tares only while streaming: tare() starts and stops it
    assert 2.0 < removed_n < 10.0
    assert hosted.peripheral.commands[-3:] == [pp.Opcode.START_WEIGHT_MEAS, pp.Opcode.TARE_SCALE, pp.Opcode.STOP_WEIGHT_MEAS]
    assert src.info is not None and src.info.calibration.endswith("+ tare")
    n_tare_blocks = len(collector.blocks)
    await src.start_stream()
    await collector.until_device_time(collector.blocks[-1].t_s[-1] + 0.5)
    after_tare = np.concatenate([b.force_n for b in collector.blocks[n_tare_blocks:]])
    assert abs(float(np.median(after_tare))) < 0.5  # zeroed
    # The device clock restarted at START: one time line, a "stream restart" gap.
    assert [g.cause for g in src.stats.gaps] == ["stream restart"]
    async with asyncio.timeout(15):
        while LinkRestored not in collector.kinds():
            await asyncio.sleep(0.05)
        resumed = len(collector.blocks)
        while len(collector.blocks) < resumed + 3:  # the stream came back
            await asyncio.sleep(0.05)
    assert src.state == LinkState.STREAMING
    await src.disconnect()
    kinds = collector.kinds()
    assert kinds.index(LinkLost) < kinds.index(LinkRestored)
    assert [g.cause for g in src.stats.gaps] == ["stream restart", "link loss"]
    link_gap = src.stats.gaps[1]
    assert 0.6 <= link_gap.duration_s < 6.0  # out of range 0.6 s, plus reconnecting
    t, _ = collector.samples()
    assert np.all(np.diff(t) > 0)
    assert hosted.connects == 2


async def test_no_rate_choice(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(progressor_device())
    src = ProgressorSource(ADDRESS)
    await src.connect()
    with pytest.raises(DeviceError, match="fixed rate .*cannot stream at 100 Hz"):
        await src.start_stream(100)
    await src.disconnect()


async def test_low_battery_warning_ends_the_source(fake_bluez: FakeBlueZ, collector) -> None:
    hosted = fake_bluez.add(progressor_device(low_battery_after_s=0.6))
    src = ProgressorSource(ADDRESS)
    src.subscribe(collector)
    await src.connect()
    await src.start_stream()
    async with asyncio.timeout(5):
        while SourceFailed not in collector.kinds():
            await asyncio.sleep(0.02)
    low = [e for e in collector.events if isinstance(e, BatteryLow)]
    failed = [e for e in collector.events if isinstance(e, SourceFailed)]
    assert len(low) == 1 and "battery low" in low[0].message
    assert failed[0].message == low[0].message  # no pointless reconnecting to a unit that switched off
    assert src.state == LinkState.DISCONNECTED and hosted.connects == 1
    assert collector.blocks  # it streamed until the warning
