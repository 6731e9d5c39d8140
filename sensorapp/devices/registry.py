"""Supported force sources, as data: how a scan recognises each kind and
which module opens it. Modules are imported only when a source is opened, so
listing kinds never imports bleak."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from firmware_protocol import gatt
from sensorapp.acquisition import progressor_protocol

from .base import DeviceDescriptor, DeviceError, ForceSource


@dataclass(frozen=True)
class DeviceKind:
    key: str
    label: str
    module: str  # provides open_source(descriptor, **options) -> ForceSource
    name_prefixes: tuple[str, ...] = ()
    service_uuids: tuple[str, ...] = ()  # advertised UUIDs that identify the kind
    scannable: bool = True

    def matches(self, name: str | None, service_uuids: list[str]) -> bool:
        if any(u.lower() in self.service_uuids for u in service_uuids):
            return True
        return bool(name) and any(name.startswith(p) for p in self.name_prefixes)  # type: ignore[union-attr]


PROGRESSOR_NAME_PREFIX = progressor_protocol.NAME_PREFIX

DEVICE_KINDS: dict[str, DeviceKind] = {
    k.key: k
    for k in (
        DeviceKind("belt", "GMBelt", "sensorapp.devices.belt", (gatt.ADVERTISED_NAME_PREFIX,), (gatt.BELT_SERVICE_UUID,)),
        # A real Progressor advertises its name only; some clones put the UUID in the scan response.
        DeviceKind("progressor", "Tindeq Progressor", "sensorapp.devices.progressor", (PROGRESSOR_NAME_PREFIX,), (progressor_protocol.SERVICE_UUID,)),
        DeviceKind("simulated", "Simulated belt", "sensorapp.devices.simulated", scannable=False),
        DeviceKind("replay", "Recording replay", "sensorapp.devices.replay", scannable=False),
    )
}


def classify(name: str | None, service_uuids: list[str]) -> DeviceKind | None:
    """The kind a scanned advertisement belongs to, or None if we do not support it."""
    for kind in DEVICE_KINDS.values():
        if kind.scannable and kind.matches(name, service_uuids):
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
