"""The simulated belt: a virtual patient in a virtual belt, reached through
the simulated bleak backend, so it runs the real belt's code path. A virtual
Tindeq Progressor can take the belt's place (``SimulationOptions(device="progressor")``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firmware_protocol import gatt
from sensorapp.simulation.hanging_mass import HangingMassRig
from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.simulation.virtual_belt import VirtualBelt, VirtualBeltConfig
from sensorapp.simulation.virtual_crimpdeq import virtual_crimpdeq
from sensorapp.simulation.virtual_forceboard import VirtualForceBoard, VirtualForceBoardConfig
from sensorapp.simulation.virtual_progressor import VirtualProgressor, VirtualProgressorConfig
from sensorapp.simulation.virtual_whc06 import VirtualWhc06, VirtualWhc06Config
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
    device: str = "belt"  # or "progressor", "crimpdeq", "forceboard", "whc06": that virtual device instead of the belt
    max_step_s: float | None = None  # a virtual clock for tests: see SimClock (None: device time follows the host)
    hanging_mass: bool = False  # the belt hangs on a calibration bench (known masses) instead of a patient's ankles


# The bench belt's bow: its gain changes by this fraction at full capacity (0.125 % of full scale from the terminal line).
BENCH_NONLINEARITY = 0.005


@dataclass
class Simulation:
    world: SimulatedWorld
    patient: VirtualPatient
    belt: VirtualBelt  # a VirtualProgressor when options.device == "progressor"
    device: SimulatedDevice
    descriptor: DeviceDescriptor
    options: SimulationOptions = field(default_factory=SimulationOptions)
    rig: HangingMassRig | None = None  # set while the belt hangs on the calibration bench

    def to_bench(self) -> HangingMassRig:
        """Take the belt off the patient and hang it on the calibration bench, nothing hung yet (belt only)."""
        if not isinstance(self.belt, VirtualBelt):
            raise ValueError("only the simulated belt can hang known masses")
        if self.rig is None:
            self.rig = HangingMassRig()
            self.belt.force_fn = self.rig.force_at
            self.belt.config.nonlinearity_at_capacity = BENCH_NONLINEARITY
        return self.rig

    def to_patient(self) -> None:
        """Back on the patient's ankles (the bench's masses are gone)."""
        if self.rig is not None and isinstance(self.belt, VirtualBelt):
            self.belt.force_fn = self.patient.force_at
            self.belt.config.nonlinearity_at_capacity = 0.0
        self.rig = None

    def hang_mass(self, mass_kg: float) -> None:
        """Hang ``mass_kg`` from the bench belt now (device time); 0 takes it off."""
        self.to_bench().hang(mass_kg, self.world.now_us() / 1e6)


_current: Simulation | None = None


OTHER_DEVICES: dict[str, Callable[[SimulationOptions, VirtualPatient], Any]] = {
    "crimpdeq": lambda o, p: virtual_crimpdeq(p.force_at, device_id=0xC1DE, seed=o.seed, packet_loss=o.packet_loss),
    "forceboard": lambda o, p: VirtualForceBoard(VirtualForceBoardConfig(seed=o.seed, packet_loss=o.packet_loss, att_mtu=o.att_mtu), force_fn=p.force_at),
    "whc06": lambda o, p: VirtualWhc06(VirtualWhc06Config(seed=o.seed, packet_loss=o.packet_loss), force_fn=p.force_at),
}
"""Virtual devices that can take the belt's place besides the Progressor (``SimulationOptions.device``)."""


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
    elif options.device in OTHER_DEVICES:
        belt = OTHER_DEVICES[options.device](options, patient)
        address = simulated_address(belt.config.serial if hasattr(belt.config, "serial") else belt.config.device_id & 0xFFFFFFFF)
    else:
        raise ValueError(f"simulated device must be one of belt, progressor, {', '.join(OTHER_DEVICES)}; not {options.device!r}")
    world = SimulatedWorld(SimClock(options.speed, max_step_s=options.max_step_s))
    device = world.add(SimulatedDevice(address, belt, link_drops=options.link_drops, fail_connects=options.fail_connects))  # type: ignore[arg-type]
    install_world(world)
    descriptor = DeviceDescriptor("simulated", address, f"{belt.name} (simulated)", device.rssi(0))
    _current = Simulation(world, patient, belt, device, descriptor, options)  # type: ignore[arg-type]
    if options.hanging_mass:
        _current.to_bench()
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
    kind = _current.options.device if _current is not None and _current.descriptor.address == descriptor.address else "belt"
    if kind in ("whc06", "forceboard"):
        assert _current is not None
        world = _current.world
        opener = "sensorapp.devices.whc06" if kind == "whc06" else "sensorapp.devices.forceboard"
        import importlib

        backend = {"scanner_backend": SimulatedBleakScanner} if kind == "whc06" else {"client_backend": SimulatedBleakClient, "scanner_backend": SimulatedBleakScanner}
        source: ForceSource = importlib.import_module(opener).open_source(
            DeviceDescriptor(kind, descriptor.address, descriptor.name), timeline_clock=lambda: world.now_us() / 1e6, **backend, **options
        )
        return source
    if kind in ("progressor", "crimpdeq"):
        from .progressor import ProgressorSource

        assert _current is not None
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
