"""Supported force sources, as data: how a scan recognises each kind and
which module opens it. Modules are imported only when a source is opened, so
listing kinds never imports bleak."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware_protocol import gatt
from sensorapp.acquisition import forceboard_protocol, progressor_protocol, whc06_protocol

from .base import DeviceDescriptor, DeviceError, ForceSource


@dataclass(frozen=True)
class DeviceKind:
    key: str
    label: str
    module: str  # provides open_source(descriptor, **options) -> ForceSource
    name_prefixes: tuple[str, ...] = ()
    service_uuids: tuple[str, ...] = ()  # advertised UUIDs that identify the kind
    scannable: bool = True
    # advertisement-only devices: manufacturer data that identifies the kind (company id -> payload check)
    manufacturer_check: Callable[[dict[int, bytes]], bool] | None = None

    def matches(self, name: str | None, service_uuids: list[str], manufacturer_data: dict[int, bytes] | None = None) -> bool:
        if any(u.lower() in self.service_uuids for u in service_uuids):
            return True
        if self.manufacturer_check is not None and manufacturer_data and self.manufacturer_check(manufacturer_data):
            return True
        return bool(name) and any(name.startswith(p) for p in self.name_prefixes)  # type: ignore[union-attr]


PROGRESSOR_NAME_PREFIX = progressor_protocol.NAME_PREFIX
# Progressor-compatible clones that advertise a name of their own (the Crimpdeq firmware
# speaks the Progressor protocol, one sample per notification; anchors.md 1.4, 1.5).
PROGRESSOR_CLONE_NAME_PREFIXES = ("Crimpdeq", "crimpdeq", "CRIMPDEQ")

DEVICE_KINDS: dict[str, DeviceKind] = {
    k.key: k
    for k in (
        DeviceKind("belt", "GMBelt", "sensorapp.devices.belt", (gatt.ADVERTISED_NAME_PREFIX,), (gatt.BELT_SERVICE_UUID,)),
        # A real Progressor advertises its name only; some clones put the UUID in the scan response.
        DeviceKind(
            "progressor", "Tindeq Progressor", "sensorapp.devices.progressor",
            (PROGRESSOR_NAME_PREFIX, *PROGRESSOR_CLONE_NAME_PREFIXES), (progressor_protocol.SERVICE_UUID,),
        ),
        DeviceKind("forceboard", "PitchSix Force Board", "sensorapp.devices.forceboard", (forceboard_protocol.NAME_PREFIX,), (forceboard_protocol.SERVICE_UUID,)),
        # Advertisement only. The name alone is not enough ("IF_B7" is also a body scale's,
        # anchors.md 2.3): the payload must decode too, so a look-alike without it is not offered.
        DeviceKind("whc06", "WH-C06 hanging scale", "sensorapp.devices.whc06", manufacturer_check=whc06_protocol.looks_like_whc06),
        DeviceKind("simulated", "Simulated belt", "sensorapp.devices.simulated", scannable=False),
        DeviceKind("replay", "Recording replay", "sensorapp.devices.replay", scannable=False),
    )
}


def classify(name: str | None, service_uuids: list[str], manufacturer_data: dict[int, bytes] | None = None) -> DeviceKind | None:
    """The kind a scanned advertisement belongs to, or None if we do not support it."""
    for kind in DEVICE_KINDS.values():
        if kind.scannable and kind.matches(name, service_uuids, manufacturer_data):
            return kind
    return None


def open_source(descriptor: DeviceDescriptor, **options: Any) -> ForceSource:
    """A ForceSource for a descriptor, importing its implementation lazily."""
    try:
        kind = DEVICE_KINDS[descriptor.kind]
    except KeyError:
        raise DeviceError(f"unknown device kind {descriptor.kind!r}; known: {', '.join(DEVICE_KINDS)}") from None
    module = importlib.import_module(kind.module)
    source: ForceSource = module.open_source(descriptor, **options)
    return source
