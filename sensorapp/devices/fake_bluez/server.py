"""A fake ``org.bluez`` on a D-Bus bus, hosting virtual peripherals.

Unmodified bleak (its BlueZ backend) scans, connects, subscribes, writes and
receives notifications from it exactly as from bluetoothd, so CI exercises
bleak's real Linux code path without a radio. What bleak needs, and why the
details below matter, is in shared/research/ble-testing.md sections 1 and 3.

- One adapter ``/org/bluez/hci0``, powered, roles central and peripheral.
- Devices are exported (InterfacesAdded) when a discovery session sees them
  advertise, then an RSSI PropertiesChanged per advertising interval: bleak
  reports a device only when a signal arrives while it scans. The discovery
  filter's UUIDs, RSSI threshold and name/address Pattern are applied.
- Exact BlueZ object paths: ``<adapter>/dev_AA_BB_..``,
  ``<dev>/serviceXXXX/charYYYY[/descZZZZ]``; bleak derives handles and the
  device of a notification from them.
- Connect sets Connected, exports the GATT objects, then ServicesResolved
  (unless a device is told never to resolve). Disconnect and link loss
  reverse it. A client that vanishes leaves the device connected, like
  BlueZ (bluez/bluez#89).
- Notifications: PropertiesChanged on ``Value`` after StartNotify, or
  datagrams on a SOCK_SEQPACKET socket passed by AcquireNotify.

Each hosted peripheral is a ``SimulatedDevice`` from the simulated world
(link drops, connect failures, muted replies) around a virtual belt or
virtual Progressor driven by device time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.constants import RequestNameReply
from dbus_fast.errors import DBusError

from firmware_protocol import gatt
from sensorapp.simulation.peripheral import GattProfile, profile_of
from sensorapp.simulation.world import SimulatedDevice, SimulatedWorld

from .eagain import install_eagain_fix
from .interfaces import (
    GATT_CHARACTERISTIC_INTERFACE,
    Adapter1,
    Device1,
    GattCharacteristic1,
    GattDescriptor1,
    GattService1,
    NotifyingGattCharacteristic1,
)

log = logging.getLogger(__name__)

BLUEZ_SERVICE = "org.bluez"
ERROR_FAILED = "org.bluez.Error.Failed"
ERROR_NOT_PERMITTED = "org.bluez.Error.NotPermitted"
ERROR_NOT_SUPPORTED = "org.bluez.Error.NotSupported"
ERROR_IN_PROGRESS = "org.bluez.Error.InProgress"
ERROR_NOT_CONNECTED = "org.bluez.Error.NotConnected"
ERROR_DOES_NOT_EXIST = "org.bluez.Error.DoesNotExist"
# What BlueZ answers when an LE connection cannot be established (ECONNABORTED).
CONNECT_ABORTED = "Software caused connection abort"

SendListener = Callable[[str, str, bytes, float], None]
"""(device address, characteristic UUID, value, time.monotonic() just before sending)."""


def device_path(adapter_path: str, address: str) -> str:
    return f"{adapter_path}/dev_{address.upper().replace(':', '_')}"


@dataclass
class CharacteristicState:
    uuid: str
    path: str
    service_path: str
    handle: int
    flags: tuple[str, ...]
    mtu: int
    value: bytes = b""
    notifying: bool = False
    acquired: socket.socket | None = None  # our end of an AcquireNotify socket pair
    iface: GattCharacteristic1 | None = None


@dataclass
class HostedDevice:
    """One peripheral in the fake's radio, and the fake's view of its link.

    Faults: ``never_resolve`` (Connect works but ServicesResolved never
    becomes true), plus those of ``sim`` (``fail_connects``, ``link_drops``,
    ``mute_replies``).
    """

    sim: SimulatedDevice
    adapter_path: str
    resolve_delay_s: float = 0.05  # Connect -> ServicesResolved
    connect_latency_s: float = 0.02
    out_of_range_connect_s: float = 0.5  # how long a Connect to a silent device takes to fail
    never_resolve: bool = False
    # link state, read live by the Device1 properties
    connected: bool = False
    services_resolved: bool = False
    paired: bool = False
    trusted: bool = False
    rssi: int = -127
    iface: Device1 | None = None  # exported once discovered
    chars: dict[str, CharacteristicState] = field(default_factory=dict)  # by UUID
    gatt_paths: list[tuple[str, Any]] = field(default_factory=list)  # exported GATT objects, in export order
    notify_modes: dict[str, str] = field(default_factory=dict)  # UUID -> "start" | "acquire", last used
    connects: int = 0
    link_losses: int = 0
    # advertisement-only devices (a WH-C06 scale): the manufacturer data of the last advertisement
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    _connecting: bool = False
    _cancel_connect: bool = False
    _last_pump_us: int = 0
    _next_advert_us: int = 0

    @property
    def address(self) -> str:
        return self.sim.address.upper()

    @property
    def path(self) -> str:
        return device_path(self.adapter_path, self.address)

    @property
    def peripheral(self) -> Any:
        return self.sim.belt

    @property
    def profile(self) -> GattProfile:
        return profile_of(self.sim.belt)

    @property
    def local_name(self) -> str:
        return str(self.sim.belt.name)

    @property
    def uuids(self) -> tuple[str, ...]:
        return self.profile.advertised_uuids

    @property
    def advertising_interval_s(self) -> float | None:
        """The peripheral's own advertising interval, when it has one (a scale broadcasting readings)."""
        value = getattr(self.sim.belt, "advertising_interval_s", None)
        return float(value) if value is not None else None


@dataclass
class DiscoveryFilter:
    uuids: frozenset[str] = frozenset()
    rssi: int | None = None
    pattern: str = ""

    @classmethod
    def from_dbus(cls, props: dict[str, Variant]) -> DiscoveryFilter:
        def value(key: str, default: Any) -> Any:
            v = props.get(key)
            return default if v is None else v.value

        return cls(
            uuids=frozenset(u.lower() for u in value("UUIDs", [])),
            rssi=value("RSSI", None),
            pattern=value("Pattern", ""),
        )

    def accepts(self, h: HostedDevice) -> bool:
        if self.uuids and not self.uuids & {u.lower() for u in h.uuids}:
            return False
        if self.rssi is not None and h.rssi < self.rssi:
            return False
        return not self.pattern or h.address.startswith(self.pattern.upper()) or h.local_name.startswith(self.pattern)


class FakeBlueZ:
    """Serve a fake ``org.bluez`` for the devices of a simulated world.

    ``await start(bus_address)`` connects to a bus (default: the system bus,
    i.e. ``DBUS_SYSTEM_BUS_ADDRESS``), exports the adapter and owns the name;
    ``await stop()`` undoes it. ``eagain_fix`` patches dbus-fast process-wide
    (see ``eagain``): leave it off when bleak runs in the same process unless
    the test floods the bus.
    """

    def __init__(
        self,
        world: SimulatedWorld | None = None,
        *,
        adapter: str = "hci0",
        adapter_address: str = "00:1A:7D:DA:71:13",
        eagain_fix: bool = False,
        pump_interval_s: float = 0.002,
        advertising_interval_s: float = 0.1,
        send_listener: SendListener | None = None,
    ) -> None:
        self.world = world or SimulatedWorld()
        self.adapter_path = f"/org/bluez/{adapter}"
        self.adapter = Adapter1(self, adapter_address, f"fake BlueZ {adapter}")
        self.eagain_fix = eagain_fix
        self.pump_interval_s = pump_interval_s
        self.advertising_interval_s = advertising_interval_s
        self.send_listener = send_listener
        self.devices: dict[str, HostedDevice] = {}
        self.bus: MessageBus | None = None
        self._discovery_sessions = 0
        self._filter = DiscoveryFilter()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._discovery_wakeup = asyncio.Event()

    # ------------------------------------------------------------ hosting

    def add(self, sim: SimulatedDevice, **options: Any) -> HostedDevice:
        """Host a simulated device; ``options`` are HostedDevice fields (faults, delays)."""
        self.world.add(sim)
        h = HostedDevice(sim=sim, adapter_path=self.adapter_path, **options)
        h.rssi = sim.rssi(self.world.now_us())
        self.devices[h.address] = h
        return h

    def device(self, address: str) -> HostedDevice:
        return self.devices[address.upper()]

    # ------------------------------------------------------------ life cycle

    async def start(self, bus_address: str | None = None) -> None:
        if self.eagain_fix:
            install_eagain_fix()
        bus = MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM, negotiate_unix_fd=True)
        await bus.connect()
        self.bus = bus
        bus.add_message_handler(self._handle_acquire_notify)
        bus.export(self.adapter_path, self.adapter)
        reply = await bus.request_name(BLUEZ_SERVICE)
        if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
            bus.disconnect()
            self.bus = None
            raise RuntimeError(f"cannot own {BLUEZ_SERVICE} on this bus ({reply.name}): is another BlueZ (real or fake) running there?")
        self._discovery_wakeup = asyncio.Event()
        self._tasks = [asyncio.create_task(self._pump()), asyncio.create_task(self._advertise())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in [*self._tasks, *self._background]:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down: a task's failure was already logged
                pass
        self._tasks = []
        for h in self.devices.values():
            if h.connected:
                self._drop_link(h, "fake BlueZ stopped")
        bus, self.bus = self.bus, None
        if bus is not None and bus.connected:
            bus.disconnect()
            try:
                await asyncio.wait_for(bus.wait_for_disconnect(), 2.0)
            except (TimeoutError, Exception):  # noqa: BLE001 - shutting down: the bus may already be gone
                pass

    async def __aenter__(self) -> FakeBlueZ:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------ discovery (Adapter1)

    def start_discovery(self) -> None:
        self._discovery_sessions += 1
        self._set_discovering(True)
        self._discovery_wakeup.set()

    def stop_discovery(self) -> None:
        if self._discovery_sessions == 0:
            raise DBusError(ERROR_FAILED, "No discovery started")
        self._discovery_sessions -= 1
        if self._discovery_sessions == 0:
            self._set_discovering(False)

    def set_discovery_filter(self, props: dict[str, Variant]) -> None:
        self._filter = DiscoveryFilter.from_dbus(props)

    def remove_device(self, path: str) -> None:
        for h in self.devices.values():
            if h.path == path:
                if h.connected:
                    self._drop_link(h, "device removed")
                if h.iface is not None and self.bus is not None:
                    self.bus.unexport(h.path, h.iface)
                    h.iface = None
                return
        raise DBusError(ERROR_DOES_NOT_EXIST, "Does Not Exist")

    def _set_discovering(self, on: bool) -> None:
        if self.adapter.discovering != on:
            self.adapter.discovering = on
            self.adapter.emit_properties_changed({"Discovering": on})

    async def _advertise(self) -> None:
        """While anyone discovers: one advertisement per device per interval
        (the fake's, or the peripheral's own when it broadcasts data in its
        advertisements; each then carries that advertisement's manufacturer data)."""
        while True:
            if self._discovery_sessions == 0:
                self._discovery_wakeup.clear()
                await self._discovery_wakeup.wait()
            now = self.world.now_us()
            tick_s = self.advertising_interval_s
            for h in list(self.devices.values()):
                own_interval = h.advertising_interval_s
                if own_interval is not None:
                    tick_s = min(tick_s, max(0.005, own_interval / 4))
                    if now < h._next_advert_us:
                        continue
                    # the next slot on the device's own schedule (no catching up on missed ones)
                    h._next_advert_us = max(h._next_advert_us + int(own_interval * 1e6), now)
                if h.connected or not h.sim.advertising(now):
                    continue
                h.rssi = h.sim.rssi(now)
                if not self._filter.accepts(h):
                    continue
                changed: dict[str, Any] = {"RSSI": h.rssi}
                advert = getattr(h.peripheral, "manufacturer_data", None)
                if advert is not None:
                    data = advert(now)
                    if data is None:
                        continue  # this advertisement was not received
                    h.manufacturer_data = data
                    changed["ManufacturerData"] = {k: Variant("ay", v) for k, v in data.items()}
                if h.iface is None:
                    h.iface = Device1(self, h)
                    assert self.bus is not None
                    self.bus.export(h.path, h.iface)  # InterfacesAdded
                else:
                    h.iface.emit_properties_changed(changed)
            await asyncio.sleep(tick_s)

    # ------------------------------------------------------------ connections (Device1)

    async def connect(self, h: HostedDevice) -> None:
        if h.connected:
            return
        if h._connecting:
            raise DBusError(ERROR_IN_PROGRESS, "In Progress")
        h._connecting = True
        h._cancel_connect = False
        try:
            await asyncio.sleep(h.connect_latency_s)
            now = self.world.now_us()
            if h.sim.fail_connects > 0:
                h.sim.fail_connects -= 1
                raise DBusError(ERROR_FAILED, CONNECT_ABORTED)
            if not h.sim.in_range(now) or not h.sim.awake(now):
                await asyncio.sleep(h.out_of_range_connect_s)  # the controller tries, nobody answers
                raise DBusError(ERROR_FAILED, CONNECT_ABORTED)
            if h._cancel_connect:
                raise DBusError(ERROR_FAILED, "Operation aborted")
            h.peripheral.connect(now)
            h._last_pump_us = now
            h.connected = True
            h.connects += 1
            self._device_changed(h, Connected=True)
            self._export_gatt(h)
            if not h.never_resolve:
                self._spawn(self._resolve_services(h, h.connects))
        finally:
            h._connecting = False

    async def pair(self, h: HostedDevice) -> None:
        await self.connect(h)
        if not h.paired:
            h.paired = True
            self._device_changed(h, Paired=True, Bonded=True)

    async def _resolve_services(self, h: HostedDevice, connection: int) -> None:
        await asyncio.sleep(h.resolve_delay_s)
        if h.connected and h.connects == connection and not h.services_resolved:
            h.services_resolved = True
            self._device_changed(h, ServicesResolved=True)

    async def disconnect(self, h: HostedDevice) -> None:
        if h._connecting:
            h._cancel_connect = True
        if h.connected:
            self._drop_link(h, "disconnected by the central")

    def simulate_link_loss(self, address: str) -> None:
        """The peripheral vanishes now (as after a supervision timeout)."""
        h = self.device(address)
        if h.connected:
            self._drop_link(h, "link loss")

    def _drop_link(self, h: HostedDevice, reason: str) -> None:
        log.debug("%s: link down (%s)", h.address, reason)
        if reason == "link loss":
            h.link_losses += 1
        h.peripheral.disconnect(self.world.now_us())
        for c in h.chars.values():
            self._release_acquired(c)
            c.notifying = False
        was_resolved = h.services_resolved
        h.services_resolved = False
        h.connected = False
        if was_resolved:
            self._device_changed(h, ServicesResolved=False)
        self._device_changed(h, Connected=False)
        self._unexport_gatt(h)

    def _device_changed(self, h: HostedDevice, **props: Any) -> None:
        if h.iface is not None:
            h.iface.emit_properties_changed(props)

    # ------------------------------------------------------------ GATT objects

    def _export_gatt(self, h: HostedDevice) -> None:
        assert self.bus is not None
        if h.iface is None:  # connected without a scan first (bleak always scans, but be safe)
            h.iface = Device1(self, h)
            self.bus.export(h.path, h.iface)
        mtu = int(h.peripheral.config.att_mtu)
        handle = 0x000A  # BlueZ hides the GAP and GATT services below this
        h.chars.clear()
        h.gatt_paths.clear()
        for service_uuid, chars in h.profile.table:
            service_path = f"{h.path}/service{handle:04x}"
            self._export(h, service_path, GattService1(service_uuid, h.path, handle))
            handle += 1
            for char_uuid, flags in chars:
                char_path = f"{service_path}/char{handle:04x}"
                state = CharacteristicState(char_uuid, char_path, service_path, handle, tuple(flags), mtu)
                cls = NotifyingGattCharacteristic1 if "notify" in flags else GattCharacteristic1
                state.iface = cls(self, state)
                h.chars[char_uuid] = state
                self._export(h, char_path, state.iface)
                handle += 2  # declaration and value
                if "notify" in flags or "indicate" in flags:
                    self._export(h, f"{char_path}/desc{handle:04x}", GattDescriptor1(gatt.CCCD_UUID, char_path, handle))
                    handle += 1

    def _export(self, h: HostedDevice, path: str, iface: Any) -> None:
        assert self.bus is not None
        self.bus.export(path, iface)
        h.gatt_paths.append((path, iface))

    def _unexport_gatt(self, h: HostedDevice) -> None:
        # An unbonded device's GATT objects go with the connection (InterfacesRemoved).
        if self.bus is not None and self.bus.connected:
            for path, iface in reversed(h.gatt_paths):
                self.bus.unexport(path, iface)
        h.gatt_paths.clear()
        h.chars.clear()

    def _owner_of(self, c: CharacteristicState) -> HostedDevice:
        for h in self.devices.values():
            if h.chars.get(c.uuid) is c:
                return h
        raise DBusError(ERROR_NOT_CONNECTED, "Not Connected")

    # ------------------------------------------------------------ GATT I/O (GattCharacteristic1)

    def read_value(self, c: CharacteristicState, options: dict[str, Variant]) -> bytes:
        h = self._owner_of(c)
        if "read" not in c.flags:
            raise DBusError(ERROR_NOT_PERMITTED, "Read not permitted")
        try:
            value = bytes(h.peripheral.read(c.uuid))
        except KeyError:
            raise DBusError(ERROR_NOT_PERMITTED, "Read not permitted") from None
        # bluetoothd caches what it read in Value and announces the change; a
        # client notified on this characteristic sees the read value arrive too.
        self._set_value(c, value)
        return value

    def write_value(self, c: CharacteristicState, value: bytes, options: dict[str, Variant]) -> None:
        h = self._owner_of(c)
        kind = options["type"].value if "type" in options else "request"
        if kind == "command":
            if "write-without-response" not in c.flags:
                raise DBusError(ERROR_NOT_SUPPORTED, "Operation is not supported")
        elif "write" not in c.flags:
            raise DBusError(ERROR_NOT_PERMITTED, "Write not permitted")
        if c.uuid != h.profile.control_uuid:
            raise DBusError(ERROR_NOT_PERMITTED, "Write not permitted")
        out = h.peripheral.write_control(value, self.world.now_us())
        # Replies go out after the write's own reply, as over the air.
        self._spawn(self._deliver(h, out))

    def start_notify(self, c: CharacteristicState) -> None:
        h = self._owner_of(c)
        if not {"notify", "indicate"} & set(c.flags):
            raise DBusError(ERROR_NOT_SUPPORTED, "Operation is not supported")
        if c.acquired is not None:
            raise DBusError(ERROR_NOT_PERMITTED, "Notify acquired")
        h.notify_modes[c.uuid] = "start"
        if not c.notifying:
            c.notifying = True
            self._char_changed(c, Notifying=True)

    def stop_notify(self, c: CharacteristicState) -> None:
        self._owner_of(c)
        if c.notifying:
            c.notifying = False
            self._char_changed(c, Notifying=False)

    def _handle_acquire_notify(self, msg: Message) -> bool | None:
        """AcquireNotify returns (fd, mtu); we close our copy of the fd only once
        the reply carrying it has been written, so it is answered here."""
        if msg.message_type != MessageType.METHOD_CALL or msg.interface != GATT_CHARACTERISTIC_INTERFACE or msg.member != "AcquireNotify":
            return None
        assert self.bus is not None
        c = next((c for h in self.devices.values() for c in h.chars.values() if c.path == msg.path), None)
        if c is None:
            raise DBusError("org.freedesktop.DBus.Error.UnknownObject", f"no characteristic at {msg.path}")
        h = self._owner_of(c)
        if "notify" not in c.flags:
            raise DBusError(ERROR_NOT_SUPPORTED, "Operation is not supported")
        if c.notifying or c.acquired is not None:
            raise DBusError(ERROR_IN_PROGRESS, "Notify already started")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        c.acquired = ours
        h.notify_modes[c.uuid] = "acquire"
        their_fd = theirs.detach()
        reply = Message.new_method_return(msg, "hq", [0, c.mtu], unix_fds=[their_fd])
        sent = self.bus.send(reply)
        sent.add_done_callback(lambda _f: os.close(their_fd))
        loop = asyncio.get_running_loop()
        loop.add_reader(ours.fileno(), self._on_acquired_readable, c, ours)
        self._char_changed(c, NotifyAcquired=True)
        return True

    def _on_acquired_readable(self, c: CharacteristicState, sock: socket.socket) -> None:
        # bleak's stop_notify() just closes its fd: we see EOF (or a reset).
        try:
            data = sock.recv(1024)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data and c.acquired is sock:
            self._release_acquired(c)
            self._char_changed(c, NotifyAcquired=False)

    def _release_acquired(self, c: CharacteristicState) -> None:
        sock, c.acquired = c.acquired, None
        if sock is not None:
            try:
                asyncio.get_running_loop().remove_reader(sock.fileno())
            except (RuntimeError, ValueError):
                pass
            sock.close()

    def _char_changed(self, c: CharacteristicState, **props: Any) -> None:
        if c.iface is not None:
            c.iface.emit_properties_changed(props)

    def _set_value(self, c: CharacteristicState, value: bytes) -> asyncio.Future[None] | None:
        c.value = value
        if self.bus is None or not self.bus.connected:
            return None
        msg = Message.new_signal(
            c.path,
            "org.freedesktop.DBus.Properties",
            "PropertiesChanged",
            "sa{sv}as",
            [GATT_CHARACTERISTIC_INTERFACE, {"Value": Variant("ay", value)}, []],
        )
        return self.bus.send(msg)

    # ------------------------------------------------------------ the radio

    async def _deliver(self, h: HostedDevice, notifications: list[tuple[str, bytes]]) -> None:
        last: asyncio.Future[None] | None = None
        mute = h.sim.mute_replies
        reply_uuid = h.profile.reply_uuid
        for uuid, value in notifications:
            if not h.connected:
                return
            if mute and uuid == reply_uuid:
                continue
            c = h.chars.get(uuid)
            if c is None:
                continue
            if c.acquired is not None:
                sent_at = time.monotonic()
                try:
                    c.acquired.send(value)
                except BlockingIOError:
                    await asyncio.get_running_loop().sock_sendall(c.acquired, value)  # back-pressure, never drop
                except OSError:
                    self._release_acquired(c)  # the client closed its end
                    continue
            elif c.notifying:
                sent_at = time.monotonic()
                last = self._set_value(c, value)
            else:
                continue  # nobody enabled notifications: a real peripheral sends nothing
            if self.send_listener is not None:
                self.send_listener(h.address, uuid, value, sent_at)
        if last is not None:
            await last  # back-pressure: the bus socket has taken everything

    async def _pump(self) -> None:
        """Advance every connected peripheral to the world's now and send what it produced."""
        while True:
            await asyncio.sleep(self.pump_interval_s)
            now = self.world.now_us()
            for h in list(self.devices.values()):
                if not h.connected:
                    continue
                try:
                    if h.sim.drop_between(h._last_pump_us, now) or not h.sim.in_range(now):
                        self._drop_link(h, "link loss")
                        continue
                    h._last_pump_us = now
                    await self._deliver(h, h.peripheral.advance(now))
                    if h.peripheral.asleep and h.connected:  # SLEEP or a flat battery: it goes away
                        self._drop_link(h, "link loss")
                except Exception:
                    log.exception("fake BlueZ: %s failed; dropping its link", h.address)
                    if h.connected:
                        self._drop_link(h, "link loss")
