"""The simulated belt: a virtual patient in a virtual belt, reached through
the simulated bleak backend, so it runs the real belt's code path. A virtual
Tindeq Progressor can take the belt's place (``SimulationOptions(device="progressor")``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from firmware_protocol import gatt
from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.simulation.virtual_belt import VirtualBelt, VirtualBeltConfig
from sensorapp.simulation.virtual_progressor import VirtualProgressor, VirtualProgressorConfig
from sensorapp.simulation.world import LinkDrop, SimClock, SimulatedDevice, SimulatedWorld, simulated_address

from .base import DeviceDescriptor, ForceSource
from .belt import BeltSource, default_calibration_store
from .sim_backend import SimulatedBleakClient, SimulatedBleakScanner, install_world


@dataclass(frozen=True)
class SimulationOptions:
    speed: float = 1.0
    seed: int = 1
    packet_loss: float = 0.0
    link_drops: tuple[LinkDrop, ...] = ()
    att_mtu: int = gatt.PREFERRED_ATT_MTU
    boot_offset_us: int = 0
    fail_connects: int = 0
    patient: PatientProfile | None = None  # None: the default patient with this seed
    device: str = "belt"  # or "progressor": a virtual Tindeq Progressor instead of the belt
    max_step_s: float | None = None  # a virtual clock for tests: see SimClock (None: device time follows the host)


@dataclass
class Simulation:
    world: SimulatedWorld
    patient: VirtualPatient
    belt: VirtualBelt  # a VirtualProgressor when options.device == "progressor"
    device: SimulatedDevice
    descriptor: DeviceDescriptor
    options: SimulationOptions = field(default_factory=SimulationOptions)


_current: Simulation | None = None


def start_simulation(options: SimulationOptions = SimulationOptions()) -> DeviceDescriptor:
    """Build a world with one simulated belt, install it, return its descriptor."""
    global _current
    profile = options.patient or PatientProfile(seed=options.seed)
    patient = VirtualPatient(profile)
    belt: VirtualBelt | VirtualProgressor
    if options.device == "progressor":
        belt = VirtualProgressor(
            VirtualProgressorConfig(seed=options.seed, packet_loss=options.packet_loss, att_mtu=options.att_mtu), force_fn=patient.force_at
        )
        address = simulated_address(belt.config.device_id & 0xFFFFFFFF)
    elif options.device == "belt":
        belt = VirtualBelt(
            VirtualBeltConfig(
                seed=options.seed,
                packet_loss=options.packet_loss,
                att_mtu=options.att_mtu,
                boot_offset_us=options.boot_offset_us,
            ),
            force_fn=patient.force_at,
        )
        address = simulated_address(belt.config.serial)
    else:
        raise ValueError(f"simulated device must be 'belt' or 'progressor', not {options.device!r}")
    world = SimulatedWorld(SimClock(options.speed, max_step_s=options.max_step_s))
    device = world.add(SimulatedDevice(address, belt, link_drops=options.link_drops, fail_connects=options.fail_connects))  # type: ignore[arg-type]
    install_world(world)
    descriptor = DeviceDescriptor("simulated", address, f"{belt.name} (simulated)", device.rssi(0))
    _current = Simulation(world, patient, belt, device, descriptor, options)  # type: ignore[arg-type]
    return descriptor


def current_simulation() -> Simulation | None:
    return _current


def patient_begins_session() -> bool:
    """The app starts a guided session on the simulated belt: the virtual patient
    does the exercise from now (device time), unless it has not started its first one yet."""
    if _current is None:
        return False
    return _current.patient.begin_session_at(_current.world.now_us() / 1e6)


def open_source(descriptor: DeviceDescriptor, **options: Any) -> ForceSource:
    """Registry entry point: the same source class as hardware, on the simulated radio."""
    if _current is not None and _current.descriptor.address == descriptor.address and _current.options.device == "progressor":
        from .progressor import ProgressorSource

        world = _current.world
        return ProgressorSource(
            descriptor.address,
            name=descriptor.name,
            client_backend=SimulatedBleakClient,
            scanner_backend=SimulatedBleakScanner,
            timeline_clock=lambda: world.now_us() / 1e6,  # the world may run faster than the host
            **options,
        )
    options.setdefault("calibration_store", default_calibration_store())
    return BeltSource(
        descriptor.address,
        name=descriptor.name,
        client_backend=SimulatedBleakClient,
        scanner_backend=SimulatedBleakScanner,
        kind="simulated",
        **options,
    )
