"""What a transport needs to host a virtual peripheral: its GATT layout.

A transport (the simulated bleak backend, the fake BlueZ) hosts objects that
behave like ``VirtualBelt``: ``name``, ``connected``, ``asleep``,
``config.att_mtu``, ``connect(now_us)``, ``disconnect(now_us)``,
``write_control(data, now_us)``, ``read(char_uuid)`` (KeyError when not
readable) and ``advance(now_us)``, the last two returning
``(characteristic UUID, value)`` notifications. ``profile_of`` tells the
transport which GATT table to build, what to advertise and where commands go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from firmware_protocol import gatt

GattTable = tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]
"""(service UUID, ((characteristic UUID, properties), ...)), as firmware_protocol.gatt.GATT_TABLE."""

Notification = tuple[str, bytes]


@dataclass(frozen=True)
class GattProfile:
    table: GattTable
    advertised_uuids: tuple[str, ...]  # service UUIDs in the advertisement
    control_uuid: str  # writes to this characteristic go to write_control
    reply_uuid: str | None  # where command replies come from (muted by SimulatedDevice.mute_replies)


BELT_PROFILE = GattProfile(gatt.GATT_TABLE, (gatt.BELT_SERVICE_UUID,), gatt.CONTROL_POINT_CHAR_UUID, gatt.CONTROL_POINT_CHAR_UUID)


class VirtualPeripheral(Protocol):
    connected: bool
    asleep: bool
    config: Any  # has att_mtu

    @property
    def name(self) -> str: ...

    def connect(self, now_us: int) -> None: ...

    def disconnect(self, now_us: int) -> None: ...

    def write_control(self, data: bytes, now_us: int) -> list[Notification]: ...

    def read(self, char_uuid: str) -> bytes: ...

    def advance(self, now_us: int) -> list[Notification]: ...


class GaugeLink:
    """Link bookkeeping of the connectable third-party gauges (Progressor, Force Board): the world
    clock never runs backwards, and a dropped link leaves the gauge idle, as the real units do."""

    connected: bool
    _now_us: int

    def connect(self, now_us: int) -> None:
        self._now_us = max(self._now_us, now_us)
        self.connected = True

    def disconnect(self, now_us: int) -> None:
        self.advance(now_us)
        self.connected = False
        self.stop_stream()

    def advance(self, now_us: int) -> list[Notification]:
        raise NotImplementedError

    def stop_stream(self) -> None:
        raise NotImplementedError


def profile_of(peripheral: object) -> GattProfile:
    """The peripheral's GATT profile; a virtual belt unless it says otherwise."""
    profile = getattr(peripheral, "gatt_profile", BELT_PROFILE)
    assert isinstance(profile, GattProfile)
    return profile
