"""The org.bluez D-Bus interfaces of the fake, as dbus-fast ServiceInterfaces.

They hold properties and turn method calls into calls on the ``FakeBlueZ``
(``server``), which owns the behaviour. Two rules of dbus-fast shape this file:

- No ``from __future__ import annotations``: dbus-fast reads the D-Bus
  signatures from the annotations ('a{sv}', 'ay'); postponed annotations
  would turn them into strings of strings.
- Never assign ``self.name``: it is the D-Bus interface name of a
  ServiceInterface (a Device1 storing its device name there would announce
  its signals as coming from an interface called "GMBelt-E240").
"""
# D-Bus signature strings as annotations look like bad forward references to linters:
# ruff: noqa: F722, F821

from typing import Any

from dbus_fast import PropertyAccess, Variant
from dbus_fast.service import ServiceInterface, dbus_property, method

ADAPTER_INTERFACE = "org.bluez.Adapter1"
DEVICE_INTERFACE = "org.bluez.Device1"
GATT_SERVICE_INTERFACE = "org.bluez.GattService1"
GATT_CHARACTERISTIC_INTERFACE = "org.bluez.GattCharacteristic1"
GATT_DESCRIPTOR_INTERFACE = "org.bluez.GattDescriptor1"

READ = PropertyAccess.READ


class Adapter1(ServiceInterface):
    def __init__(self, server: Any, address: str, alias: str) -> None:
        super().__init__(ADAPTER_INTERFACE)
        self._server = server
        self._address = address
        self._alias = alias
        self.discovering = False

    @method()
    def StartDiscovery(self):
        self._server.start_discovery()

    @method()
    def StopDiscovery(self):
        self._server.stop_discovery()

    @method()
    def SetDiscoveryFilter(self, properties: "a{sv}"):
        self._server.set_discovery_filter(properties)

    @method()
    def GetDiscoveryFilters(self) -> "as":
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable", "Pattern"]

    @method()
    def RemoveDevice(self, device: "o"):
        self._server.remove_device(device)

    @dbus_property(access=READ)
    def Address(self) -> "s":
        return self._address

    @dbus_property(access=READ)
    def AddressType(self) -> "s":
        return "public"

    @dbus_property(access=READ)
    def Name(self) -> "s":
        return self._alias

    @dbus_property(access=READ)
    def Alias(self) -> "s":
        return self._alias

    @dbus_property(access=READ)
    def Class(self) -> "u":
        return 0

    @dbus_property(access=READ)
    def Powered(self) -> "b":
        return True

    @dbus_property(access=READ)
    def Discoverable(self) -> "b":
        return False

    @dbus_property(access=READ)
    def Pairable(self) -> "b":
        return True

    @dbus_property(access=READ)
    def Discovering(self) -> "b":
        return self.discovering

    @dbus_property(access=READ)
    def UUIDs(self) -> "as":
        return []

    @dbus_property(access=READ)
    def Modalias(self) -> "s":
        return "usb:v1D6Bp0246d0542"

    @dbus_property(access=READ)
    def Roles(self) -> "as":
        return ["central", "peripheral"]


class Device1(ServiceInterface):
    """One remote device. ``state`` is the server's record of it (address,
    names, advertisement, link flags); the getters read it live."""

    def __init__(self, server: Any, state: Any) -> None:
        super().__init__(DEVICE_INTERFACE)
        self._server = server
        self._state = state

    @method()
    async def Connect(self):
        await self._server.connect(self._state)

    @method()
    async def Disconnect(self):
        await self._server.disconnect(self._state)

    @method()
    async def Pair(self):
        await self._server.pair(self._state)

    @method()
    def CancelPairing(self):
        pass

    @dbus_property(access=READ)
    def Address(self) -> "s":
        return self._state.address

    @dbus_property(access=READ)
    def AddressType(self) -> "s":
        return "random"

    @dbus_property(access=READ)
    def Name(self) -> "s":
        return self._state.local_name

    @dbus_property(access=READ)
    def Alias(self) -> "s":
        return self._state.local_name

    @dbus_property(access=READ)
    def Paired(self) -> "b":
        return self._state.paired

    @dbus_property(access=READ)
    def Bonded(self) -> "b":
        return self._state.paired

    @dbus_property()
    def Trusted(self) -> "b":
        return self._state.trusted

    @Trusted.setter
    def Trusted(self, value: "b"):
        self._state.trusted = bool(value)

    @dbus_property()
    def Blocked(self) -> "b":
        return False

    @Blocked.setter
    def Blocked(self, value: "b"):
        pass

    @dbus_property(access=READ)
    def LegacyPairing(self) -> "b":
        return False

    @dbus_property(access=READ)
    def Connected(self) -> "b":
        return self._state.connected

    @dbus_property(access=READ)
    def ServicesResolved(self) -> "b":
        return self._state.services_resolved

    @dbus_property(access=READ)
    def UUIDs(self) -> "as":
        return list(self._state.uuids)

    @dbus_property(access=READ)
    def RSSI(self) -> "n":
        return self._state.rssi

    @dbus_property(access=READ)
    def TxPower(self) -> "n":
        return 0

    @dbus_property(access=READ)
    def ManufacturerData(self) -> "a{qv}":
        return {k: Variant("ay", v) for k, v in self._state.manufacturer_data.items()}

    @dbus_property(access=READ)
    def ServiceData(self) -> "a{sv}":
        return {}

    @dbus_property(access=READ)
    def Adapter(self) -> "o":
        return self._state.adapter_path


class GattService1(ServiceInterface):
    def __init__(self, uuid: str, device_path: str, handle: int) -> None:
        super().__init__(GATT_SERVICE_INTERFACE)
        self._uuid = uuid
        self._device_path = device_path
        self._handle = handle

    @dbus_property(access=READ)
    def UUID(self) -> "s":
        return self._uuid

    @dbus_property(access=READ)
    def Device(self) -> "o":
        return self._device_path

    @dbus_property(access=READ)
    def Primary(self) -> "b":
        return True

    @dbus_property(access=READ)
    def Includes(self) -> "ao":
        return []

    @dbus_property(access=READ)
    def Handle(self) -> "q":
        return self._handle


class GattCharacteristic1(ServiceInterface):
    """A characteristic; ``state`` is the server's record (flags, value,
    notifying, acquired socket). AcquireNotify is answered by the server's
    message handler, which needs the reply's send to finish before it closes
    its copy of the file descriptor."""

    def __init__(self, server: Any, state: Any) -> None:
        super().__init__(GATT_CHARACTERISTIC_INTERFACE)
        self._server = server
        self._state = state

    @method()
    def ReadValue(self, options: "a{sv}") -> "ay":
        return self._server.read_value(self._state, options)

    @method()
    def WriteValue(self, value: "ay", options: "a{sv}"):
        self._server.write_value(self._state, bytes(value), options)

    @method()
    def StartNotify(self):
        self._server.start_notify(self._state)

    @method()
    def StopNotify(self):
        self._server.stop_notify(self._state)

    @dbus_property(access=READ)
    def UUID(self) -> "s":
        return self._state.uuid

    @dbus_property(access=READ)
    def Service(self) -> "o":
        return self._state.service_path

    @dbus_property(access=READ)
    def Value(self) -> "ay":
        return self._state.value

    @dbus_property(access=READ)
    def Notifying(self) -> "b":
        return self._state.notifying

    @dbus_property(access=READ)
    def Flags(self) -> "as":
        return list(self._state.flags)

    @dbus_property(access=READ)
    def MTU(self) -> "q":
        return self._state.mtu

    @dbus_property(access=READ)
    def Handle(self) -> "q":
        return self._state.handle


class NotifyingGattCharacteristic1(GattCharacteristic1):
    """A characteristic with the notify property: BlueZ adds NotifyAcquired,
    and bleak uses AcquireNotify only when that property exists."""

    @dbus_property(access=READ)
    def NotifyAcquired(self) -> "b":
        return self._state.acquired is not None


class GattDescriptor1(ServiceInterface):
    def __init__(self, uuid: str, characteristic_path: str, handle: int) -> None:
        super().__init__(GATT_DESCRIPTOR_INTERFACE)
        self._uuid = uuid
        self._characteristic_path = characteristic_path
        self._handle = handle

    @method()
    def ReadValue(self, options: "a{sv}") -> "ay":
        return b"\x00\x00"

    @dbus_property(access=READ)
    def UUID(self) -> "s":
        return self._uuid

    @dbus_property(access=READ)
    def Characteristic(self) -> "o":
        return self._characteristic_path

    @dbus_property(access=READ)
    def Value(self) -> "ay":
        return b""

    @dbus_property(access=READ)
    def Flags(self) -> "as":
        return ["read", "write"]

    @dbus_property(access=READ)
    def Handle(self) -> "q":
        return self._handle
