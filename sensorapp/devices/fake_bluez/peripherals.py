"""Ready-made peripherals for the fake BlueZ: a belt, a Progressor (or a Crimpdeq clone),
a WH-C06 scale or a PitchSix Force Board worn by a virtual patient."""

from __future__ import annotations

from typing import Any

from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.simulation.virtual_belt import VirtualBelt, VirtualBeltConfig
from sensorapp.simulation.virtual_crimpdeq import virtual_crimpdeq
from sensorapp.simulation.virtual_forceboard import VirtualForceBoard, VirtualForceBoardConfig
from sensorapp.simulation.virtual_progressor import VirtualProgressor, VirtualProgressorConfig
from sensorapp.simulation.virtual_whc06 import VirtualWhc06, VirtualWhc06Config
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


def whc06_address(serial: int) -> str:
    return "D6:C0:6B:" + ":".join(f"{x:02X}" for x in (serial & 0xFFFFFF).to_bytes(3, "big"))


def forceboard_address(serial: int) -> str:
    return "E5:F0:B0:" + ":".join(f"{x:02X}" for x in (serial & 0xFFFFFF).to_bytes(3, "big"))


def crimpdeq_device(
    device_id: int = 0x0000_0000_C1DE,
    *,
    name: str = "Crimpdeq",
    seed: int = 1,
    patient: PatientProfile | None = None,
    rssi_dbm: int = -64,
    link_drops: tuple[LinkDrop, ...] = (),
    **config: Any,
) -> SimulatedDevice:
    """A Crimpdeq: one sample per notification at 80 Hz (``config``: VirtualProgressorConfig fields)."""
    person = VirtualPatient(patient or PatientProfile(seed=seed))
    unit = virtual_crimpdeq(person.force_at, name, device_id=device_id, seed=seed, **config)
    return _in_range(progressor_address(device_id), unit, person, rssi_dbm, link_drops, 0)


def whc06_device(
    serial: int = 0x00C0_6B07,
    *,
    seed: int = 1,
    patient: PatientProfile | None = None,
    rssi_dbm: int = -62,
    link_drops: tuple[LinkDrop, ...] = (),
    **config: Any,
) -> SimulatedDevice:
    """A virtual WH-C06 scale (``config``: VirtualWhc06Config fields); ``link_drops`` silence its advertisements."""
    person = VirtualPatient(patient or PatientProfile(seed=seed))
    scale = VirtualWhc06(VirtualWhc06Config(serial=serial, seed=seed, **config), force_fn=person.force_at)
    return _in_range(whc06_address(serial), scale, person, rssi_dbm, link_drops, 0)


def forceboard_device(
    serial: int = 0x00F0_B0A4,
    *,
    seed: int = 1,
    patient: PatientProfile | None = None,
    rssi_dbm: int = -60,
    link_drops: tuple[LinkDrop, ...] = (),
    fail_connects: int = 0,
    **config: Any,
) -> SimulatedDevice:
    """A virtual PitchSix Force Board (``config``: VirtualForceBoardConfig fields)."""
    person = VirtualPatient(patient or PatientProfile(seed=seed))
    board = VirtualForceBoard(VirtualForceBoardConfig(serial=serial, seed=seed, **config), force_fn=person.force_at)
    return _in_range(forceboard_address(serial), board, person, rssi_dbm, link_drops, fail_connects)


def _in_range(
    address: str, unit: Any, person: VirtualPatient, rssi_dbm: int, link_drops: tuple[LinkDrop, ...], fail_connects: int
) -> SimulatedDevice:
    device = SimulatedDevice(address, unit, rssi_dbm=rssi_dbm, link_drops=link_drops, fail_connects=fail_connects)
    device.patient = person  # type: ignore[attr-defined]  # for tests comparing with the truth
    return device
