"""A virtual PitchSix Force Board: its protocol at byte level, driven by device time.

Like ``VirtualProgressor``, nothing here knows about bleak or D-Bus. The
Device Mode characteristic takes the mode byte (0x04 stream, 0x05 tare,
0x07 idle); force notifications carry ``samples_per_notification`` whole
pounds (sensorapp.acquisition.forceboard_protocol). The public protocol
states no rate: the virtual board streams at 40 Hz in notifications of 4
(10 a second), an assumption of this simulation, not a device fact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sensorapp.acquisition import forceboard_protocol as fp

from .peripheral import GattProfile, GaugeLink, Notification

ForceFunction = Callable[[np.ndarray], np.ndarray]

FORCEBOARD_GATT_TABLE = (
    (fp.BATTERY_SERVICE_UUID, ((fp.BATTERY_LEVEL_CHAR_UUID, ("read",)),)),
    (
        fp.SERVICE_UUID,
        (
            (fp.FORCE_DATA_CHAR_UUID, ("notify",)),
            (fp.TARE_CHAR_UUID, ("write",)),
        ),
    ),
    (fp.WEIGHT_SERVICE_UUID, ((fp.DEVICE_MODE_CHAR_UUID, ("write", "write-without-response")),)),
)

FORCEBOARD_PROFILE = GattProfile(
    table=FORCEBOARD_GATT_TABLE,
    advertised_uuids=(),  # found by its name, as every client does
    control_uuid=fp.DEVICE_MODE_CHAR_UUID,
    reply_uuid=None,
)


@dataclass
class VirtualForceBoardConfig:
    serial: int = 0x00F0_B0A4  # only for the address
    rate_hz: float = 40.0
    samples_per_notification: int = 4
    noise_lbs: float = 0.3
    battery_pct: int = 87
    packet_loss: float = 0.0
    seed: int = 1
    att_mtu: int = 247


@dataclass
class VirtualForceBoard(GaugeLink):
    config: VirtualForceBoardConfig
    force_fn: ForceFunction
    connected: bool = False
    asleep: bool = False
    tare_offset_lbs: float = 0.0
    modes: list[int] = field(default_factory=list)  # every mode byte received, for tests
    gatt_profile = FORCEBOARD_PROFILE
    _stream_start_us: int | None = field(default=None, init=False)
    _next_index: int = field(default=0, init=False)
    _now_us: int = field(default=0, init=False)
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.config.seed)

    @property
    def name(self) -> str:
        return f"{fp.NAME_PREFIX} {self.config.serial & 0xFFFF:04X}"

    @property
    def streaming(self) -> bool:
        return self._stream_start_us is not None

    def read(self, char_uuid: str) -> bytes:
        if char_uuid == fp.BATTERY_LEVEL_CHAR_UUID:
            return bytes([self.config.battery_pct])
        raise KeyError(f"characteristic {char_uuid} is not readable")

    def stop_stream(self) -> None:
        self._stream_start_us = None

    def write_control(self, data: bytes, now_us: int) -> list[Notification]:
        out = self.advance(now_us)
        if not data:
            return out
        mode = data[0]
        self.modes.append(mode)
        if mode == fp.Mode.STREAM and self._stream_start_us is None:
            self._stream_start_us = now_us
            self._next_index = 0
        elif mode == fp.Mode.IDLE:
            self._stream_start_us = None
        elif mode == fp.Mode.TARE:
            self.tare_offset_lbs = float(self._raw_lbs(np.array([now_us / 1e6]), noise=False)[0]) + self.tare_offset_lbs
        return out

    def _raw_lbs(self, t_s: np.ndarray, noise: bool = True) -> np.ndarray:
        lbs = np.asarray(self.force_fn(t_s), dtype=np.float64) / fp.NEWTONS_PER_LB - self.tare_offset_lbs
        if noise and self.config.noise_lbs > 0:
            lbs = lbs + self._rng.normal(0.0, self.config.noise_lbs, size=lbs.size)
        return lbs

    def advance(self, now_us: int) -> list[Notification]:
        now_us = max(now_us, self._now_us)
        self._now_us = now_us
        out: list[Notification] = []
        cfg = self.config
        period_us = 1e6 / cfg.rate_hz
        while self._stream_start_us is not None and self.connected:
            idx = self._next_index + np.arange(cfg.samples_per_notification)
            t_us = self._stream_start_us + (idx + 1) * period_us
            if t_us[-1] > now_us:
                break
            self._next_index += cfg.samples_per_notification
            frame = fp.encode_notification(self._raw_lbs(t_us / 1e6))
            if cfg.packet_loss > 0 and self._rng.random() < cfg.packet_loss:
                continue
            out.append((fp.FORCE_DATA_CHAR_UUID, frame))
        return out
