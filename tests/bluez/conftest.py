"""The fake BlueZ harness: a private dbus-daemon per test module, a fresh fake
``org.bluez`` per test (a client that vanished leaves a device connected,
exactly like BlueZ, so state must not leak between tests)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from sensorapp.devices.fake_bluez import FakeBlueZ, PrivateBus, dbus_daemon_path

pytestmark = pytest.mark.bluez


@pytest.fixture(scope="module")
def private_bus() -> Iterator[PrivateBus]:
    """A dbus-daemon of our own; DBUS_SYSTEM_BUS_ADDRESS and a bluetoothctl stand-in point bleak at it."""
    if dbus_daemon_path() is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus-daemon; .ci/run does it): the fake BlueZ needs a private D-Bus")
    bus = PrivateBus()
    bus.start()
    saved = {k: os.environ.get(k) for k in ("DBUS_SYSTEM_BUS_ADDRESS", "PATH")}
    os.environ.update(bus.environment())
    _forget_missing_system_bus()
    try:
        yield bus
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        bus.stop()
        _forget_missing_system_bus()


def _forget_missing_system_bus() -> None:
    # bleak-retry-connector remembers, process-wide, that a system bus was
    # missing (e.g. after the simulated-backend tests ran on a machine without
    # one) and then skips its BlueZ helpers; make it look again, as a real
    # process would on a machine with BlueZ.
    from bleak_retry_connector import bleak_manager

    reset = getattr(bleak_manager, "_reset_dbus_socket_cache", None)
    if reset is not None:
        reset()


@pytest.fixture
async def fake_bluez(private_bus: PrivateBus) -> AsyncIterator[FakeBlueZ]:
    """A started fake BlueZ with no devices yet: add them with ``fake_bluez.add``."""
    fake = FakeBlueZ()
    await fake.start(private_bus.address)
    try:
        yield fake
    finally:
        await fake.stop()
        _close_bleak_manager()


def _close_bleak_manager() -> None:
    # bleak keeps one manager connection per event loop and never closes it;
    # each test has its own loop, so close it here rather than leave a stale
    # connection on the shared daemon that still subscribes to every signal.
    from bleak.backends.bluezdbus import manager

    instance = manager._global_instances.pop(asyncio.get_running_loop(), None)
    bus = getattr(instance, "_bus", None)
    if bus is not None:
        bus.disconnect()
