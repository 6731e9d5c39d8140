"""A bleak backend whose radio is the simulated world.

``BleakScanner(backend=SimulatedBleakScanner)`` and
``BleakClient(..., backend=SimulatedBleakClient)`` behave like bleak on real
hardware but talk to ``VirtualBelt`` (or ``VirtualProgressor``) objects, so the simulated belt walks the
same code path (bleak's public API, bleak-retry-connector, our BeltSource and
decoder) as a real one. The world is process-wide: ``install_world``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from firmware_protocol import gatt
from sensorapp.simulation.peripheral import profile_of
from sensorapp.simulation.world import SimulatedDevice, SimulatedWorld

from .base import cancel_and_wait

log = logging.getLogger(__name__)

_world: SimulatedWorld | None = None

# How often the radio delivers what the belts produced; 5 ms of host time.
PUMP_INTERVAL_S = 0.005
CONNECT_LATENCY_S = 0.02
ADVERTISING_INTERVAL_S = 0.1


def install_world(world: SimulatedWorld | None) -> None:
    global _world
    _world = world


def current_world() -> SimulatedWorld:
    if _world is None:
        raise BleakError("no simulated world is installed")
    return _world


class SimulatedBleakScanner(BaseBleakScanner):
    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None = None,
        service_uuids: list[str] | None = None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._task = asyncio.create_task(self._advertise())

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _advertise(self) -> None:
        world = current_world()
        next_due: dict[str, int] = {}
        while True:
            now = world.now_us()
            tick_s = ADVERTISING_INTERVAL_S
            for dev in list(world.devices.values()):
                if not dev.advertising(now):
                    continue
                # a device that broadcasts readings (a WH-C06 scale) advertises on its own interval, with them
                own_interval_s = getattr(dev.belt, "advertising_interval_s", None)
                manufacturer_data: dict[int, bytes] = {}
                if own_interval_s is not None:
                    tick_s = min(tick_s, own_interval_s / 4 / world.clock.speed)
                    if now < next_due.get(dev.address, 0):
                        continue
                    next_due[dev.address] = max(next_due.get(dev.address, 0) + int(own_interval_s * 1e6), now)
                    reading = getattr(dev.belt, "manufacturer_data")(now)  # noqa: B009 - only broadcasting devices have it
                    if reading is None:
                        continue  # this advertisement was not received
                    manufacturer_data = reading
                adv = AdvertisementData(
                    local_name=dev.belt.name,
                    manufacturer_data=manufacturer_data,
                    service_data={},
                    service_uuids=list(profile_of(dev.belt).advertised_uuids),
                    tx_power=0,
                    rssi=dev.rssi(now),
                    platform_data=(),
                )
                if not self.is_allowed_uuid(adv.service_uuids):
                    continue
                device = self.create_or_update_device(dev.address, dev.address, dev.belt.name, {"simulated": True}, adv)
                self.call_detection_callbacks(device, adv)
            await asyncio.sleep(tick_s)


class SimulatedBleakClient(BaseBleakClient):
    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._device: SimulatedDevice | None = None
        self._connected = False
        self._callbacks: dict[str, NotifyCallback] = {}
        self._pump_task: asyncio.Task[None] | None = None
        self._by_uuid: dict[str, BleakGATTCharacteristic] = {}

    @property
    def name(self) -> str:
        return self._device.belt.name if self._device else self.address

    @property
    def mtu_size(self) -> int:
        return self._device.belt.config.att_mtu if self._device else gatt.DEFAULT_ATT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        world = current_world()
        dev = world.get(self.address)
        if dev is None:
            raise BleakDeviceNotFoundError(self.address, f"Device with address {self.address} was not found.")
        await asyncio.sleep(CONNECT_LATENCY_S)
        now = world.now_us()
        if dev.fail_connects > 0:
            dev.fail_connects -= 1
            raise BleakError(f"{self.address}: simulated connection failure (le-connection-abort-by-local)")
        if not dev.in_range(now) or not dev.awake(now):
            raise BleakDeviceNotFoundError(self.address, f"Device with address {self.address} was not found (out of range).")
        if dev.belt.connected:
            raise BleakError(f"{self.address}: already connected to another central")
        self._device = dev
        dev.belt.connect(now)
        self.services = self._build_services(dev)
        self._connected = True
        self._last_pump_us = now
        self._pump_task = asyncio.create_task(self._pump())

    def _build_services(self, dev: SimulatedDevice) -> BleakGATTServiceCollection:
        services = BleakGATTServiceCollection()
        handle = 1
        mtu = dev.belt.config.att_mtu
        for service_uuid, chars in profile_of(dev.belt).table:
            service = BleakGATTService(None, handle, service_uuid)
            services.add_service(service)
            handle += 1
            for char_uuid, props in chars:
                char = BleakGATTCharacteristic(None, handle, char_uuid, list(props), lambda: mtu - 3, service)  # type: ignore[arg-type]  # props are GATT property names
                services.add_characteristic(char)
                self._by_uuid[char_uuid] = char
                handle += 2
        return services

    async def disconnect(self) -> None:
        await self._stop_pump()
        if self._connected and self._device is not None:
            self._device.belt.disconnect(current_world().now_us())
        self._connected = False
        self._callbacks.clear()

    async def _stop_pump(self) -> None:
        task, self._pump_task = self._pump_task, None
        await cancel_and_wait(task)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    def _require(self) -> SimulatedDevice:
        if not self._connected or self._device is None:
            raise BleakError("Not connected")
        return self._device

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any) -> bytearray:
        dev = self._require()
        try:
            return bytearray(dev.belt.read(characteristic.uuid))
        except KeyError as exc:
            raise BleakError(str(exc)) from None

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any) -> bytearray:
        raise BleakError("the simulated belt exposes no readable descriptors")

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        dev = self._require()
        if characteristic.uuid != profile_of(dev.belt).control_uuid:
            raise BleakError(f"characteristic {characteristic.uuid} is not writable")
        out = dev.belt.write_control(bytes(data), current_world().now_us())
        # Stream packets the belt sent up to the write go out now, in order: deferred, the pump could
        # deliver newer ones first (the decoder would see the belt's clock go back). The command's
        # indications arrive after the write response, as over the air.
        reply_uuid = profile_of(dev.belt).reply_uuid
        first_reply = next((i for i, (uuid, _value) in enumerate(out) if uuid == reply_uuid), len(out))
        self._deliver(out[:first_reply])
        asyncio.get_running_loop().call_soon(self._deliver, out[first_reply:])

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        raise BleakError("the simulated belt exposes no writable descriptors")

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any) -> None:
        self._require()
        if not {"notify", "indicate"} & set(characteristic.properties):
            raise BleakError(f"characteristic {characteristic.uuid} does not notify")
        self._callbacks[characteristic.uuid] = callback

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._callbacks.pop(characteristic.uuid, None)

    def _deliver(self, notifications: list[tuple[str, bytes]]) -> None:
        if not self._connected:
            return
        mute = self._device is not None and self._device.mute_replies
        reply_uuid = profile_of(self._device.belt).reply_uuid if self._device is not None else None
        for uuid, value in notifications:
            if mute and uuid == reply_uuid:
                continue
            cb = self._callbacks.get(uuid)
            if cb is not None:
                cb(bytearray(value))

    async def _pump(self) -> None:
        world = current_world()
        dev = self._device
        assert dev is not None
        try:
            while self._connected:
                await asyncio.sleep(PUMP_INTERVAL_S)
                now = world.now_us()
                if dev.drop_between(self._last_pump_us, now) or not dev.in_range(now):
                    self._link_lost(now)
                    return
                self._last_pump_us = now
                self._deliver(dev.belt.advance(now))
                if dev.belt.asleep:  # SLEEP: the belt closes the link after replying
                    self._link_lost(now)
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("simulated radio failed")
            self._link_lost(world.now_us())

    def _link_lost(self, now_us: int) -> None:
        assert self._device is not None
        self._device.belt.disconnect(now_us)
        self._connected = False
        self._callbacks.clear()
        self._pump_task = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()
