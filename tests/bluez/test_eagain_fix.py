"""The opt-in fix for dbus-fast's writer dying on EAGAIN (a full socket)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from dbus_fast import Message, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.aio import message_bus as aio_bus

from sensorapp.devices.fake_bluez import (
    FakeBlueZ,
    PrivateBus,
    eagain_fix_installed,
    install_eagain_fix,
    uninstall_eagain_fix,
)

pytestmark = pytest.mark.bluez


@pytest.fixture
def restore_writer() -> Iterator[None]:
    original = aio_bus._MessageWriter.write_callback
    yield
    aio_bus._MessageWriter.write_callback = original


async def test_the_fix_is_opt_in(private_bus: PrivateBus, restore_writer: None) -> None:
    assert not eagain_fix_installed()  # importing the harness patches nothing
    fake = FakeBlueZ()
    await fake.start(private_bus.address)
    assert not eagain_fix_installed()  # nor does a default fake
    await fake.stop()
    fixed = FakeBlueZ(eagain_fix=True)
    await fixed.start(private_bus.address)
    assert eagain_fix_installed()
    await fixed.stop()
    uninstall_eagain_fix()
    assert not eagain_fix_installed()


async def test_a_flood_of_signals_survives_with_the_fix(private_bus: PrivateBus, restore_writer: None) -> None:
    """20 000 notification-sized signals queued at once: without the fix the
    sender's bus dies with BlockingIOError (reproduced with dbus-fast 5.2.0)."""
    install_eagain_fix()
    rx = await MessageBus(bus_address=private_bus.address).connect()
    tx = await MessageBus(bus_address=private_bus.address).connect()
    try:
        received = 0
        done = asyncio.Event()
        n = 20_000

        def on_message(msg: Message) -> None:
            nonlocal received
            if msg.member == "PropertiesChanged" and msg.path == "/flood":
                received += 1
                if received == n:
                    done.set()

        rx.add_message_handler(on_message)
        await rx.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=["type='signal',path='/flood'"],
            )
        )
        body = ["org.bluez.GattCharacteristic1", {"Value": Variant("ay", bytes(200))}, []]
        sent = [tx.send(Message.new_signal("/flood", "org.freedesktop.DBus.Properties", "PropertiesChanged", "sa{sv}as", body)) for _ in range(n)]
        await asyncio.wait_for(asyncio.gather(*sent), 30)
        await asyncio.wait_for(done.wait(), 30)
        assert tx.connected and received == n
    finally:
        tx.disconnect()
        rx.disconnect()
