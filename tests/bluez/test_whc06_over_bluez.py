"""The WH-C06 / IF_B7 hanging scale (advertisement only) through real bleak and the fake BlueZ."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from sensorapp.acquisition import whc06_protocol as wp
from sensorapp.devices.base import DeviceError, LinkLost, LinkRestored, LinkState, Reconnecting
from sensorapp.devices.fake_bluez import FakeBlueZ, whc06_address, whc06_device
from sensorapp.devices.registry import open_source
from sensorapp.devices.scan import resolve_address, scan
from sensorapp.devices.whc06 import Whc06Source
from sensorapp.simulation.world import LinkDrop

pytestmark = pytest.mark.bluez

ADDRESS = whc06_address(0x00C0_6B07)


async def test_found_by_its_manufacturer_data_and_streams_about_8_hz(fake_bluez: FakeBlueZ, collector) -> None:
    hosted = fake_bluez.add(whc06_device())
    (desc,) = await scan(0.6)
    assert (desc.kind, desc.name, desc.address) == ("whc06", "IF_B7", ADDRESS)
    src = open_source(desc, acquire_notify=True)  # options for connected sources are ignored
    assert isinstance(src, Whc06Source)
    src.subscribe(collector)
    await src.connect()
    assert hosted.connects == 0  # it never connects
    info = src.info
    assert info is not None and (info.kind, info.model) == ("whc06", "WH-C06 hanging scale")
    assert not info.supports_rate_choice and info.supports_tare
    await src.start_stream()
    assert src.state == LinkState.STREAMING and src.info is not None and src.info.rate_hz == wp.NOMINAL_RATE_HZ
    await collector.until_device_time(3.0)
    await src.disconnect()
    t, f = collector.samples()
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    assert 7.0 < (len(t) - 1) / (t[-1] - t[0]) < 9.0
    assert src.stats.gaps == [] and src.stats.malformed_packets == 0
    assert 2.0 < float(np.median(f)) < 10.0  # the strap's rest tension, in newtons from kg


async def test_record_by_address_resolves_the_kind(fake_bluez: FakeBlueZ) -> None:
    fake_bluez.add(whc06_device())
    desc = await resolve_address(ADDRESS.lower(), 2.0)
    assert desc.kind == "whc06"


async def test_no_rate_choice_and_a_software_tare(fake_bluez: FakeBlueZ, collector) -> None:
    fake_bluez.add(whc06_device())
    src = Whc06Source(ADDRESS)
    src.subscribe(collector)
    await src.connect()
    with pytest.raises(DeviceError, match="cannot stream at 100 Hz"):
        await src.start_stream(100)
    removed = await src.tare()
    assert 2.0 < removed < 10.0
    n = len(collector.blocks)
    await src.start_stream()
    await collector.until_device_time(collector.blocks[-1].t_s[-1] + 1.5)
    await src.disconnect()
    after = np.concatenate([b.force_n for b in collector.blocks[n:]])
    assert abs(float(np.median(after))) < 1.0
    # tare streamed, paused and streamed again at once: nothing was lost in between
    assert src.stats.lost_packets == 0 and all(g.cause == "stream restart" for g in src.stats.gaps)


async def test_silence_is_a_link_loss_and_the_gap_is_recorded(fake_bluez: FakeBlueZ, collector) -> None:
    fake_bluez.add(whc06_device(link_drops=(LinkDrop(2.0, 3.0),)))
    src = Whc06Source(ADDRESS, lost_after_s=1.0)
    src.subscribe(collector)
    await src.connect()
    await src.start_stream()
    async with asyncio.timeout(15):
        while LinkRestored not in collector.kinds():
            await asyncio.sleep(0.05)
        resumed = len(collector.blocks)
        while len(collector.blocks) < resumed + 4:
            await asyncio.sleep(0.05)
    assert src.state == LinkState.STREAMING
    await src.disconnect()
    kinds = collector.kinds()
    assert kinds.index(LinkLost) < kinds.index(Reconnecting) < kinds.index(LinkRestored)
    assert [g.cause for g in src.stats.gaps] == ["link loss"]
    assert 2.7 < src.stats.gaps[0].duration_s < 3.5  # 3 s without advertisements
    restored = next(e for e in collector.events if isinstance(e, LinkRestored))
    assert 2.7 < restored.outage_s < 3.5
    t, _ = collector.samples()
    assert np.all(np.diff(t) > 0)
