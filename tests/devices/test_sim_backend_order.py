"""The simulated radio keeps the belt's notifications in order around a control-point write."""

from __future__ import annotations

import asyncio

import numpy as np
from bleak import BleakClient

from firmware_protocol import codec, gatt
from firmware_protocol.codec import Command, Opcode
from sensorapp.devices.sim_backend import SimulatedBleakClient, install_world
from sensorapp.simulation.virtual_belt import VirtualBelt, VirtualBeltConfig
from sensorapp.simulation.world import SimClock, SimulatedDevice, SimulatedWorld

ADDRESS = "5A:1E:00:01:E2:40"


async def test_stream_packets_sampled_before_a_command_arrive_before_its_reply() -> None:
    host_s = [0.0]  # a hand-driven host clock: the pump cannot run between the steps below
    world = SimulatedWorld(SimClock(clock=lambda: host_s[0]))
    world.add(SimulatedDevice(ADDRESS, VirtualBelt(VirtualBeltConfig(), force_fn=lambda t: np.zeros_like(t))))
    install_world(world)
    client = BleakClient(ADDRESS, backend=SimulatedBleakClient)
    await client.connect()
    got: list[tuple[str, bytes]] = []
    try:
        await client.start_notify(gatt.FORCE_STREAM_CHAR_UUID, lambda _c, d: got.append(("stream", bytes(d))))
        await client.start_notify(gatt.CONTROL_POINT_CHAR_UUID, lambda _c, d: got.append(("reply", bytes(d))))
        await client.write_gatt_char(gatt.CONTROL_POINT_CHAR_UUID, codec.encode_command(codec.start_stream_command(100)), response=True)
        await asyncio.sleep(0)  # START_STREAM's reply
        assert [kind for kind, _ in got] == ["reply"]
        host_s[0] += 1.0  # one second of samples waits in the belt
        await client.write_gatt_char(gatt.CONTROL_POINT_CHAR_UUID, codec.encode_command(Command(Opcode.GET_CALIBRATION)), response=True)
        # Already delivered: the packets sampled before the command (a deferred delivery let the pump
        # slip newer packets in first, and the decoder saw the belt's clock go back).
        stream = [codec.decode_stream_packet(v) for kind, v in got if kind == "stream"]
        assert sum(p.counts.size for p in stream) >= 95 and [kind for kind, _ in got][-1] == "stream"
        assert [p.seq for p in stream] == list(range(len(stream)))
        await asyncio.sleep(0)
        assert got[-1][0] == "reply" and codec.decode_response(got[-1][1]).opcode == Opcode.GET_CALIBRATION
    finally:
        await client.disconnect()
        install_world(None)
