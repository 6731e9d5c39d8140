"""Find supported devices over Bluetooth."""

from __future__ import annotations

from bleak import BleakScanner
from bleak.backends.scanner import BaseBleakScanner

from firmware_protocol import gatt

from .base import DeviceDescriptor, DeviceNotFoundError
from .ble_source import BLE_ERRORS, bluetooth_error, scanner_backend_args
from .registry import classify


async def scan(
    timeout_s: float = 5.0,
    *,
    belts_only: bool = False,
    backend: type[BaseBleakScanner] | None = None,
) -> list[DeviceDescriptor]:
    """Devices in range that this app supports, strongest signal first.

    ``belts_only`` lets the OS filter by the belt's service UUID. Otherwise the
    scan is unfiltered, because the Progressor does not advertise its UUID,
    and each advertisement is classified by UUID or name prefix.
    Raises BluetoothUnavailableError when there is no usable adapter.
    """
    service_uuids = [gatt.BELT_SERVICE_UUID] if belts_only else None
    try:
        found = await BleakScanner.discover(
            timeout=timeout_s, return_adv=True, service_uuids=service_uuids, **scanner_backend_args(backend)  # type: ignore[call-overload]
        )
    except BLE_ERRORS as exc:
        raise bluetooth_error(exc, "scanning") from None
    result = []
    for device, adv in found.values():
        name = adv.local_name or device.name
        kind = classify(name, adv.service_uuids, dict(adv.manufacturer_data))
        if kind is None or (belts_only and kind.key != "belt"):
            continue
        result.append(DeviceDescriptor(kind=kind.key, address=device.address, name=name or device.address, rssi=adv.rssi, details=device))
    result.sort(key=lambda d: -(d.rssi if d.rssi is not None else -999))
    return result


async def resolve_address(
    address: str,
    timeout_s: float = 10.0,
    *,
    backend: type[BaseBleakScanner] | None = None,
) -> DeviceDescriptor:
    """Find one device by address and tell which kind it is from its advertisement."""
    wanted = address.upper()
    seen: dict[str, object] = {}

    def match(device: object, adv: object) -> bool:
        if getattr(device, "address", "").upper() != wanted:
            return False
        seen["adv"] = adv
        return True

    try:
        device = await BleakScanner.find_device_by_filter(match, timeout=timeout_s, **scanner_backend_args(backend))
    except BLE_ERRORS as exc:
        raise bluetooth_error(exc, f"scanning for {address}") from None
    if device is None:
        raise DeviceNotFoundError(f"no device with address {address} was found within {timeout_s:g} s; is it switched on and in range?")
    adv = seen.get("adv")
    name = getattr(adv, "local_name", None) or device.name
    kind = classify(name, list(getattr(adv, "service_uuids", []) or []), dict(getattr(adv, "manufacturer_data", {}) or {}))
    if kind is None:
        raise DeviceNotFoundError(f"{address} ({name or 'no name'}) is not a supported device (a GMBelt, Tindeq Progressor, PitchSix Force Board or WH-C06 scale)")
    return DeviceDescriptor(kind=kind.key, address=device.address, name=name or device.address, rssi=getattr(adv, "rssi", None), details=device)
