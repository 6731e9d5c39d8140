"""A virtual WH-C06 / "IF_B7" hanging scale: it never connects; it measures
about 8 times a second and broadcasts each reading in its advertisement's
manufacturer data (exact bytes: sensorapp.acquisition.whc06_protocol).

Transports (the simulated bleak backend, the fake BlueZ) ask
``manufacturer_data(now_us)`` for the advertisement at a device time and send
one advertisement per ``advertising_interval_s``. It has no GATT services;
the VirtualPeripheral methods are there so a transport can host it, and a
connection attempt is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sensorapp.acquisition import whc06_protocol as wp

from .peripheral import GattProfile, Notification

ForceFunction = Callable[[np.ndarray], np.ndarray]

WHC06_PROFILE = GattProfile(table=(), advertised_uuids=(), control_uuid="", reply_uuid=None)


class NotConnectableError(Exception):
    """The scale only advertises."""


@dataclass
class VirtualWhc06Config:
    serial: int = 0x00C0_6B07  # only for the address
    unit: int = wp.Unit.KG
    measure_interval_s: float = 1.0 / wp.NOMINAL_RATE_HZ  # one new reading per advertisement
    noise_kg: float = 0.01
    packet_loss: float = 0.0  # probability that an advertisement is not received
    seed: int = 1
    att_mtu: int = 23  # never used: nothing connects


@dataclass
class VirtualWhc06:
    config: VirtualWhc06Config
    force_fn: ForceFunction
    connected: bool = False
    asleep: bool = False
    gatt_profile = WHC06_PROFILE
    _rng: np.random.Generator = field(init=False)
    _last_index: int = field(default=-1, init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.config.seed)

    @property
    def name(self) -> str:
        return wp.NAME

    @property
    def advertising_interval_s(self) -> float:
        return self.config.measure_interval_s

    def manufacturer_data(self, now_us: int) -> dict[int, bytes] | None:
        """The advertisement at device time ``now_us``: the latest reading, or
        None when this advertisement is lost (``packet_loss``)."""
        cfg = self.config
        index = int(now_us / 1e6 // cfg.measure_interval_s)
        t_s = index * cfg.measure_interval_s
        kg = float(np.asarray(self.force_fn(np.array([t_s])), dtype=np.float64)[0]) / wp.STANDARD_GRAVITY
        if cfg.noise_kg > 0:
            kg += float(self._rng.normal(0.0, cfg.noise_kg))
        stable = index > self._last_index + 1 or abs(kg) < 0.05  # a rough "settled" flag; the app does not use it
        self._last_index = index
        if cfg.packet_loss > 0 and self._rng.random() < cfg.packet_loss:
            return None
        per_unit = {wp.Unit.KG: 1.0, wp.Unit.LB: wp.KG_PER_LB, wp.Unit.JIN: wp.KG_PER_JIN}.get(wp.Unit(cfg.unit), 1.0)
        return {wp.COMPANY_ID: wp.encode_payload(kg / per_unit, cfg.unit, stable)}

    # ------------------------------------------------------------ what a transport may call

    def connect(self, now_us: int) -> None:
        raise NotConnectableError(f"{self.name} only advertises; it cannot be connected")

    def disconnect(self, now_us: int) -> None:
        self.connected = False

    def write_control(self, data: bytes, now_us: int) -> list[Notification]:
        return []

    def read(self, char_uuid: str) -> bytes:
        raise KeyError(f"characteristic {char_uuid} is not readable")

    def advance(self, now_us: int) -> list[Notification]:
        return []
