"""A virtual Tindeq Progressor: its protocol at byte level, driven by device time.

Like ``VirtualBelt``, nothing here knows about bleak or D-Bus; a transport
calls ``connect``/``disconnect``/``write_control``/``advance(now_us)``.

Timing follows the real capture (shared/data/progressor-capture.txt):
samples every 11.467 ms (about 87 Hz) in notifications of 15, with one
empty sample slot between notifications, so about 81 Hz are delivered and
a notification leaves every 183 ms. The microsecond clock restarts at every
START (first sample at about 55 ms), and the unit stops measuring when the
link drops. Weights are float32 kg from the patient model's newtons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sensorapp.acquisition import progressor_protocol as pp

from .peripheral import GattProfile, GaugeLink, Notification

ForceFunction = Callable[[np.ndarray], np.ndarray]
"""Force in newtons at device times in seconds (since the unit was switched on)."""

PROGRESSOR_GATT_TABLE = (
    (
        pp.SERVICE_UUID,
        (
            (pp.DATA_CHAR_UUID, ("notify",)),
            (pp.CONTROL_CHAR_UUID, ("write", "write-without-response")),
        ),
    ),
)

PROGRESSOR_PROFILE = GattProfile(
    table=PROGRESSOR_GATT_TABLE,
    advertised_uuids=(),  # the real advertisement carries the name only
    control_uuid=pp.CONTROL_CHAR_UUID,
    reply_uuid=None,  # replies share the data point with the weights
)


@dataclass
class VirtualProgressorConfig:
    device_id: int = 0x5EED_0000_3A61  # GET_PROGRESSOR_ID, u64
    firmware: str = "1.2.3"
    slot_us: int = 11_467  # sample spacing inside a notification
    samples_per_frame: int = 15  # one more slot stays empty between notifications
    first_sample_us: int = 54_636  # device time of the first sample after START
    clock_start_us: int = 0  # the device clock at START (set near 2**32 to exercise the wrap)
    noise_kg: float = 0.005
    zero_offset_kg: float = 0.0  # what an unloaded unit reads before any tare
    battery_mv: int = 3950
    low_battery_after_s: float | None = None  # streaming time after which it warns and switches off
    packet_loss: float = 0.0  # probability that a notification never arrives
    seed: int = 1
    att_mtu: int = 247
    tare_window_samples: int = 10


@dataclass
class _Stream:
    start_us: int  # world time of START
    next_index: int = 0  # first sample not yet sent


@dataclass
class VirtualProgressor(GaugeLink):
    config: VirtualProgressorConfig
    force_fn: ForceFunction
    connected: bool = False
    asleep: bool = False
    tare_offset_kg: float = 0.0
    commands: list[int] = field(default_factory=list)  # every opcode received, for tests
    gatt_profile = PROGRESSOR_PROFILE
    _stream: _Stream | None = field(default=None, init=False)
    _now_us: int = field(default=0, init=False)
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.config.seed)

    @property
    def name(self) -> str:
        return f"{pp.NAME_PREFIX}_{self.config.device_id & 0xFFFF:04X}"

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    @property
    def stream_started_us(self) -> int | None:
        """World time of the last START while streaming (device time 0 of the stream)."""
        return self._stream.start_us if self._stream is not None else None

    def read(self, char_uuid: str) -> bytes:
        raise KeyError(f"characteristic {char_uuid} is not readable")

    # ------------------------------------------------------------ link

    def stop_stream(self) -> None:
        self._stream = None

    # ------------------------------------------------------------ control point

    def write_control(self, data: bytes, now_us: int) -> list[Notification]:
        out = self.advance(now_us)
        if not data:
            return out
        op = data[0]
        self.commands.append(op)
        if op == pp.Opcode.START_WEIGHT_MEAS:
            self._stream = _Stream(start_us=now_us)
        elif op == pp.Opcode.STOP_WEIGHT_MEAS:
            self._stream = None
        elif op == pp.Opcode.TARE_SCALE:
            if self._stream is not None:  # ignored while not streaming
                self._tare(now_us)
        elif op == pp.Opcode.GET_BATTERY_VOLTAGE:
            out.append(self._reply(int(self.config.battery_mv).to_bytes(4, "little")))
        elif op == pp.Opcode.GET_APP_VERSION:
            out.append(self._reply(self.config.firmware.encode("ascii")))
        elif op == pp.Opcode.GET_PROGRESSOR_ID:
            out.append(self._reply(self.config.device_id.to_bytes(8, "little").rstrip(b"\0") or b"\0"))
        elif op == pp.Opcode.ENTER_SLEEP:
            self._stream = None
            self.asleep = True
        # Any other opcode is ignored: the real unit answers nothing it does not know.
        return out

    @staticmethod
    def _reply(payload: bytes) -> Notification:
        return (pp.DATA_CHAR_UUID, pp.encode_frame(pp.Tag.COMMAND_RESPONSE, payload))

    def _tare(self, now_us: int) -> None:
        s = self._stream
        assert s is not None
        n = self.config.tare_window_samples
        last = self._index_before(s, now_us)
        idx = np.arange(max(0, last - n + 1), last + 1)
        if idx.size:
            self.tare_offset_kg = float(np.mean(self._raw_kg(s, idx, noise=False)))

    # ------------------------------------------------------------ time

    def _device_us(self, idx: np.ndarray) -> np.ndarray:
        """Device time (since START, unwrapped) of sample indices: one empty slot per notification."""
        cfg = self.config
        slot = idx + idx // cfg.samples_per_frame
        return cfg.first_sample_us + slot * cfg.slot_us

    def _index_before(self, s: _Stream, now_us: int) -> int:
        """The last sample index taken at or before world time ``now_us`` (-1 if none)."""
        cfg = self.config
        slots = (now_us - s.start_us - cfg.first_sample_us) // cfg.slot_us
        if slots < 0:
            return -1
        frames, within = divmod(int(slots), cfg.samples_per_frame + 1)
        return frames * cfg.samples_per_frame + min(within, cfg.samples_per_frame - 1)

    def _raw_kg(self, s: _Stream, idx: np.ndarray, noise: bool = True) -> np.ndarray:
        world_s = (s.start_us + self._device_us(idx)) / 1e6
        kg = np.asarray(self.force_fn(world_s), dtype=np.float64) / pp.STANDARD_GRAVITY + self.config.zero_offset_kg
        if noise and self.config.noise_kg > 0:
            kg = kg + self._rng.normal(0.0, self.config.noise_kg, size=kg.size)
        return kg

    def advance(self, now_us: int) -> list[Notification]:
        """Every notification sent up to world time ``now_us``, in order."""
        now_us = max(now_us, self._now_us)
        self._now_us = now_us
        out: list[Notification] = []
        s = self._stream
        cfg = self.config
        while s is not None and self.connected:
            idx = s.next_index + np.arange(cfg.samples_per_frame)
            t_dev = self._device_us(idx)
            sent_us = s.start_us + int(t_dev[-1])  # the notification leaves with its last sample
            if cfg.low_battery_after_s is not None and sent_us - s.start_us >= cfg.low_battery_after_s * 1e6:
                if s.start_us + cfg.low_battery_after_s * 1e6 <= now_us:
                    out.append((pp.DATA_CHAR_UUID, pp.encode_frame(pp.Tag.LOW_BATTERY)))
                    self._stream = None
                    self.asleep = True  # "turns itself off after sending this warning"
                break
            if sent_us > now_us:
                break
            kg = self._raw_kg(s, idx) - self.tare_offset_kg
            frame = pp.encode_weights(kg, cfg.clock_start_us + t_dev)
            s.next_index += cfg.samples_per_frame
            if cfg.packet_loss > 0 and self._rng.random() < cfg.packet_loss:
                continue
            out.append((pp.DATA_CHAR_UUID, frame))
        return out
