"""A fake BlueZ: real, unmodified bleak against virtual belts and Progressors
over a private D-Bus, so CI runs bleak's Linux code path without a radio.

    bus = PrivateBus(); bus.start()              # dbus-daemon, permissive config
    os.environ.update(bus.environment())         # DBUS_SYSTEM_BUS_ADDRESS, bluetoothctl shim
    fake = FakeBlueZ(); fake.add(belt_device())
    await fake.start()                           # owns org.bluez on that bus
    ... BleakScanner / BleakClient / BeltSource as on hardware ...
    await fake.stop(); bus.stop()

By hand: ``python -m sensorapp.devices.fake_bluez --help``; see docs/ble-testing.md.
"""

from __future__ import annotations

from .bus import DbusDaemonMissingError, PrivateBus, dbus_daemon_path, write_bluetoothctl_shim
from .eagain import eagain_fix_installed, install_eagain_fix, uninstall_eagain_fix
from .peripherals import (
    belt_device,
    crimpdeq_device,
    forceboard_address,
    forceboard_device,
    progressor_address,
    progressor_device,
    whc06_address,
    whc06_device,
)
from .server import FakeBlueZ, HostedDevice, device_path

__all__ = [
    "DbusDaemonMissingError",
    "FakeBlueZ",
    "HostedDevice",
    "PrivateBus",
    "belt_device",
    "crimpdeq_device",
    "dbus_daemon_path",
    "device_path",
    "eagain_fix_installed",
    "forceboard_address",
    "forceboard_device",
    "install_eagain_fix",
    "progressor_address",
    "progressor_device",
    "uninstall_eagain_fix",
    "whc06_address",
    "whc06_device",
    "write_bluetoothctl_shim",
]
