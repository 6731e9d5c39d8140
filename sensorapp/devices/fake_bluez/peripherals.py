"""Ready-made peripherals for the fake BlueZ: a belt or a Progressor worn by a virtual patient."""

from __future__ import annotations

from typing import Any

from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.simulation.virtual_belt import VirtualBelt, VirtualBeltConfig
from sensorapp.simulation.virtual_progressor import VirtualProgressor, VirtualProgressorConfig
from sensorapp.simulation.world import LinkDrop, SimulatedDevice, simulated_address


def progressor_address(device_id: int) -> str:
    """A random-static-looking address for a virtual Progressor (top bits 11)."""
    low = (device_id & 0xFFFFFF).to_bytes(3, "big")
    return "C7:4E:17:" + ":".join(f"{x:02X}" for x in low)


def belt_device(
    serial: int = 0x0001E240,
    *,
    seed: int = 1,
    patient: PatientProfile | None = None,
    rssi_dbm: int = -58,
    link_drops: tuple[LinkDrop, ...] = (),
    fail_connects: int = 0,
    **config: Any,
) -> SimulatedDevice:
    """A virtual GMBelt (``config``: VirtualBeltConfig fields) around a virtual patient."""
    person = VirtualPatient(patient or PatientProfile(seed=seed))
    belt = VirtualBelt(VirtualBeltConfig(serial=serial, seed=seed, **config), force_fn=person.force_at)
    return _in_range(simulated_address(serial), belt, person, rssi_dbm, link_drops, fail_connects)


def progressor_device(
    device_id: int = 0x5EED_0000_3A61,
    *,
    seed: int = 1,
    patient: PatientProfile | None = None,
    rssi_dbm: int = -66,
    link_drops: tuple[LinkDrop, ...] = (),
    fail_connects: int = 0,
    **config: Any,
) -> SimulatedDevice:
    """A virtual Tindeq Progressor (``config``: VirtualProgressorConfig fields) around a virtual patient."""
    person = VirtualPatient(patient or PatientProfile(seed=seed))
    unit = VirtualProgressor(VirtualProgressorConfig(device_id=device_id, seed=seed, **config), force_fn=person.force_at)
    return _in_range(progressor_address(device_id), unit, person, rssi_dbm, link_drops, fail_connects)


def _in_range(
    address: str, unit: Any, person: VirtualPatient, rssi_dbm: int, link_drops: tuple[LinkDrop, ...], fail_connects: int
) -> SimulatedDevice:
    device = SimulatedDevice(address, unit, rssi_dbm=rssi_dbm, link_drops=link_drops, fail_connects=fail_connects)
    device.patient = person  # type: ignore[attr-defined]  # for tests comparing with the truth
    return device
