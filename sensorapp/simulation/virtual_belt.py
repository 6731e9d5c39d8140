"""A virtual belt: the firmware's behaviour at byte level, driven by device time.

Nothing here knows about bleak, D-Bus or asyncio. A transport (the simulated
bleak backend, or the fake BlueZ in the integration tests) calls
``connect``/``disconnect``, passes control-point writes to ``write_control``
and pulls notifications with ``advance(now_us)``. Output bytes are exactly
what a real belt sends, so the app's decoder, calibration and stream handling
run unchanged.

Determinism: samples are taken at fixed device times, packets are cut on a
fixed device-time schedule (full, or every ``notify_interval_ms``), and the
noise and loss generators are consumed in packet order. However a transport
chops time into ``advance`` calls, the bytes are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from firmware_protocol import codec, gatt
from firmware_protocol.capabilities import capabilities_for
from firmware_protocol.codec import (
    BeltCalibration,
    BeltState,
    Command,
    DeviceInfo,
    ErrorFlags,
    Opcode,
    Response,
    Status,
    StatusReport,
    StreamFlags,
    StreamPacket,
    TareResult,
)

ForceFunction = Callable[[np.ndarray], np.ndarray]
"""Force in newtons at device times in seconds (since the belt was switched on)."""

Notification = tuple[str, bytes]
"""(characteristic UUID, value) as the belt would notify or indicate it."""


@dataclass
class VirtualBeltConfig:
    serial: int = 0x0001E240
    model_id: int = 1
    firmware: tuple[int, int, int] = (1, 0, 0)
    true_zero_counts: int = 14_000  # bridge imbalance at no load
    true_newtons_per_count: float | None = None  # None: the model's nominal gain
    factory_zero_error_counts: int = 120  # the factory calibration is close, not exact
    factory_gain_error: float = 0.002
    adc_noise_counts: float = 17.0  # about 0.01 N rms: electronics only (strap noise is the patient model's)
    att_mtu: int = gatt.PREFERRED_ATT_MTU
    notify_interval_ms: int | None = None  # None: the model's
    packet_loss: float = 0.0  # probability that a notification never arrives
    seed: int = 1
    battery_pct: float = 87.0
    battery_drain_pct_per_h: float = 10.0  # while streaming
    boot_offset_us: int = 0  # device clock at t = 0, to exercise the 2**32 wrap
    tare_internal_rate_hz: int = 100
    calibrated: bool = True  # False: GET_CALIBRATION answers INTERNAL_ERROR (SPEC)
    # The cell's bow: the gain changes by this fraction at full capacity (counts = F/gain * (1 + k F/capacity)).
    # 0 keeps the transfer straight (every recording so far); the calibration bench uses a small one.
    nonlinearity_at_capacity: float = 0.0


@dataclass
class _Tare:
    started_us: int
    until_us: int


@dataclass
class _Stream:
    start_us: int
    period_us: int
    next_index: int = 0  # first sample not yet packed
    next_tick: int = 1  # next notify-timer tick number
    seq: int = 0
    first_packet: bool = True


@dataclass
class VirtualBelt:
    config: VirtualBeltConfig
    force_fn: ForceFunction
    connected: bool = False
    asleep: bool = False
    state: BeltState = BeltState.IDLE
    rate_hz: int = 0
    stored_calibration: BeltCalibration = field(init=False)  # the calibration in use (RAM)
    persisted_calibration: BeltCalibration | None = field(init=False)  # flash: what power-on restores
    overload_seen: bool = False
    _stream: _Stream | None = field(default=None, init=False)
    _tare: _Tare | None = field(default=None, init=False)
    _rng: np.random.Generator = field(init=False)
    _now_us: int = field(default=0, init=False)
    _streamed_us: int = field(default=0, init=False)
    _last_battery_notified: int = field(default=-1, init=False)  # set in __post_init__

    def __post_init__(self) -> None:
        cfg = self.config
        caps = capabilities_for(cfg.model_id)
        self.capabilities = caps
        self.gain = cfg.true_newtons_per_count or caps.nominal_newtons_per_count
        self.max_samples = codec.max_samples_per_packet(cfg.att_mtu)
        self.notify_interval_us = 1000 * (cfg.notify_interval_ms or caps.notify_interval_ms)
        self._rng = np.random.default_rng(cfg.seed)
        self.stored_calibration = BeltCalibration(
            zero_counts=cfg.true_zero_counts + cfg.factory_zero_error_counts,
            newtons_per_count=self.gain * (1.0 + cfg.factory_gain_error),
            calibrated_at_unix=1_767_225_600,  # 2026-01-01, the factory date
            linearity_error_n=0.8,
        ).as_sent()
        self.persisted_calibration = self.stored_calibration if cfg.calibrated else None
        self._last_battery_notified = self.battery_level  # notify changes only

    # ------------------------------------------------------------ identity

    @property
    def name(self) -> str:
        return gatt.advertised_name(self.config.serial)

    @property
    def info(self) -> DeviceInfo:
        return DeviceInfo(codec.PROTOCOL_VERSION, self.config.model_id, self.config.firmware, self.config.serial)

    def read(self, char_uuid: str) -> bytes:
        """Value of a readable characteristic."""
        cfg = self.config
        values = {
            gatt.STATUS_CHAR_UUID: lambda: self.status().encode(),
            gatt.BATTERY_LEVEL_CHAR_UUID: lambda: bytes([self.battery_level]),
            gatt.MANUFACTURER_NAME_CHAR_UUID: lambda: b"sensorapp reference design",
            gatt.MODEL_NUMBER_CHAR_UUID: lambda: self.capabilities.name.encode(),
            gatt.SERIAL_NUMBER_CHAR_UUID: lambda: codec.format_serial(cfg.serial).encode(),
            gatt.HARDWARE_REVISION_CHAR_UUID: lambda: b"A1",
            gatt.FIRMWARE_REVISION_CHAR_UUID: lambda: ".".join(map(str, cfg.firmware)).encode(),
        }
        try:
            return values[char_uuid]()
        except KeyError:
            raise KeyError(f"characteristic {char_uuid} is not readable") from None

    @property
    def battery_level(self) -> int:
        return max(0, min(100, round(self.config.battery_pct)))

    def status(self) -> StatusReport:
        flags = ErrorFlags.NONE
        if self.overload_seen:
            flags |= ErrorFlags.OVERLOAD
        if self.battery_level <= 10:
            flags |= ErrorFlags.BATTERY_LOW
        if not self.config.calibrated:
            flags |= ErrorFlags.CALIBRATION_MISSING
        return StatusReport(self.battery_level, self.state, flags, self.rate_hz)

    # ------------------------------------------------------------ link

    def connect(self, now_us: int) -> None:
        self._now_us = now_us
        self.connected = True

    def disconnect(self, now_us: int) -> None:
        """Link gone: a real belt stops streaming and abandons a running tare."""
        self.advance(now_us)
        self._drop_link()

    def _drop_link(self) -> None:
        self.connected = False
        self._stream = None
        self._tare = None
        self.state = BeltState.IDLE
        self.rate_hz = 0

    # ------------------------------------------------------------ control point

    def write_control(self, data: bytes, now_us: int) -> list[Notification]:
        """Handle a control-point write; return the indications it causes now.

        A TARE's reply comes later, from ``advance`` when the window ends.
        """
        out = self.advance(now_us)
        try:
            cmd = codec.decode_command(data)
        except codec.ProtocolError:
            # An empty write cannot be answered with an opcode; real firmware ignores it.
            return out
        check = codec.check_command(cmd)  # SPEC order: opcode, length, parameters
        if check != Status.SUCCESS:
            return out + [self._reply(cmd.opcode, check)]
        if self._tare is not None:
            return out + [self._reply(cmd.opcode, Status.BUSY)]
        handler = {
            Opcode.START_STREAM: self._start_stream,
            Opcode.STOP_STREAM: self._stop_stream,
            Opcode.TARE: self._start_tare,
            Opcode.GET_CALIBRATION: self._get_calibration,
            Opcode.SET_CALIBRATION: self._set_calibration,
            Opcode.GET_INFO: lambda c, t: (Status.SUCCESS, self.info.encode()),
            Opcode.SLEEP: self._sleep,
        }[Opcode(cmd.opcode)]
        result = handler(cmd, now_us)
        if result is None:  # deferred (TARE)
            return out + self._status_notification()
        status, payload = result
        return out + [self._reply(cmd.opcode, status, payload)] + self._status_notification()

    @staticmethod
    def _reply(opcode: int, status: int, payload: bytes = b"") -> Notification:
        return (gatt.CONTROL_POINT_CHAR_UUID, codec.encode_response(Response(opcode, status, payload)))

    def _status_notification(self) -> list[Notification]:
        return [(gatt.STATUS_CHAR_UUID, self.status().encode())]

    def _start_stream(self, cmd: Command, now_us: int) -> tuple[int, bytes]:
        rate = codec.decode_u16_param(cmd)
        period = round(1e6 / rate)
        # The first sample falls on the next whole period after the command.
        self._stream = _Stream(start_us=now_us + period, period_us=period)
        self.rate_hz = rate
        self.state = BeltState.STREAMING
        self.overload_seen = False  # START_STREAM clears OVERLOAD (SPEC)
        return Status.SUCCESS, b""

    def _stop_stream(self, cmd: Command, now_us: int) -> tuple[int, bytes]:
        self._stream = None
        self.rate_hz = 0
        self.state = BeltState.IDLE
        return Status.SUCCESS, b""

    def _start_tare(self, cmd: Command, now_us: int) -> tuple[int, bytes] | None:
        window_ms = codec.decode_u16_param(cmd)
        self._tare = _Tare(started_us=now_us, until_us=now_us + 1000 * window_ms)
        self.state = BeltState.TARING
        return None

    def _get_calibration(self, cmd: Command, now_us: int) -> tuple[int, bytes]:
        if not self.config.calibrated:
            return Status.INTERNAL_ERROR, b""
        return Status.SUCCESS, self.stored_calibration.encode()

    def _set_calibration(self, cmd: Command, now_us: int) -> tuple[int, bytes]:
        self.stored_calibration = BeltCalibration.decode(cmd.payload)  # check_command validated it
        self.persisted_calibration = self.stored_calibration  # SPEC: persistent, survives power-off
        self.config.calibrated = True
        return Status.SUCCESS, b""

    def power_cycle(self) -> None:
        """Switch the belt off and on: the link and any tare in RAM are gone, the flash calibration is back (SPEC 5.2)."""
        self._drop_link()
        if self.persisted_calibration is not None:
            self.stored_calibration = self.persisted_calibration

    def _sleep(self, cmd: Command, now_us: int) -> tuple[int, bytes]:
        self.asleep = True
        return Status.SUCCESS, b""

    # ------------------------------------------------------------ time

    def advance(self, now_us: int) -> list[Notification]:
        """Everything the belt sends up to device time ``now_us``, in order."""
        if now_us < self._now_us:
            now_us = self._now_us
        out: list[Notification] = []
        stream = self._stream
        if stream is not None and self.connected:
            out.extend(self._packets_until(stream, now_us))
            self._battery(now_us, out)
        if self._tare is not None and now_us >= self._tare.until_us:
            out.extend(self._finish_tare())
        self._now_us = now_us
        return out

    def _battery(self, now_us: int, out: list[Notification]) -> None:
        dt_h = max(0, now_us - self._now_us) / 3.6e9
        self.config.battery_pct = max(0.0, self.config.battery_pct - dt_h * self.config.battery_drain_pct_per_h)
        level = self.battery_level
        if level != self._last_battery_notified:
            self._last_battery_notified = level
            out.append((gatt.BATTERY_LEVEL_CHAR_UUID, bytes([level])))

    def _packets_until(self, s: _Stream, now_us: int) -> list[Notification]:
        out: list[Notification] = []
        while True:
            tick_us = s.start_us + s.next_tick * self.notify_interval_us
            # Samples already taken at the tick: indices < taken.
            taken = max(0, (tick_us - s.start_us) // s.period_us + 1)
            pending = taken - s.next_index
            if pending >= self.max_samples:
                n = self.max_samples
                send_us = s.start_us + (s.next_index + n - 1) * s.period_us
            else:
                n = pending
                send_us = tick_us
            if send_us > now_us:
                break
            if n > 0:
                packet = self._packet(s, n)
                if packet is not None:
                    out.append(packet)
            if pending < self.max_samples:
                s.next_tick += 1
        return out

    def _packet(self, s: _Stream, n: int) -> Notification | None:
        """Cut the next packet; None when it is lost on air (seq still advances)."""
        idx = s.next_index + np.arange(n)
        t_us = s.start_us + idx * s.period_us
        counts, saturated = self._adc(t_us)
        flags = StreamFlags.NONE
        if saturated:
            flags |= StreamFlags.SATURATED
            self.overload_seen = True
        if s.first_packet:
            flags |= StreamFlags.STREAM_START
        if self._tare is not None and t_us[0] <= self._tare.until_us:
            flags |= StreamFlags.TARE_IN_PROGRESS
        t0 = (self.config.boot_offset_us + int(t_us[0])) % codec.U32_WRAP
        payload = codec.encode_stream_packet(StreamPacket(seq=s.seq, t0_us=t0, period_us=s.period_us, counts=counts, flags=flags))
        s.seq = (s.seq + 1) % codec.SEQ_WRAP
        s.next_index += n
        s.first_packet = False
        self._streamed_us = int(t_us[-1])
        if self.config.packet_loss > 0 and self._rng.random() < self.config.packet_loss:
            return None
        return (gatt.FORCE_STREAM_CHAR_UUID, payload)

    def _adc(self, t_us: np.ndarray) -> tuple[np.ndarray, bool]:
        force_n = np.asarray(self.force_fn(t_us / 1e6), dtype=np.float64)
        noise = self._rng.normal(0.0, self.config.adc_noise_counts, size=force_n.size)
        ideal = force_n / self.gain
        if self.config.nonlinearity_at_capacity:
            ideal = ideal * (1.0 + self.config.nonlinearity_at_capacity * force_n / self.capabilities.capacity_n)
        raw = np.rint(self.config.true_zero_counts + ideal + noise)
        clipped = np.clip(raw, codec.COUNTS_MIN, codec.COUNTS_MAX)
        saturated = bool(np.any(clipped != raw) or np.any(clipped == codec.COUNTS_MAX) or np.any(clipped == codec.COUNTS_MIN))
        return clipped.astype(np.int32), saturated

    def _finish_tare(self) -> list[Notification]:
        tare = self._tare
        assert tare is not None
        step = round(1e6 / self.config.tare_internal_rate_hz)
        t_us = np.arange(tare.started_us, tare.until_us, step)
        counts, _ = self._adc(t_us)
        zero = int(np.rint(counts.mean()))
        self._tare = None
        self.stored_calibration = BeltCalibration(
            zero, self.stored_calibration.newtons_per_count, self.stored_calibration.calibrated_at_unix, self.stored_calibration.linearity_error_n
        )
        self.state = BeltState.STREAMING if self._stream is not None else BeltState.IDLE
        result = TareResult(zero_counts=zero, n_samples=int(counts.size), spread_counts=int(counts.max() - counts.min()))
        return [self._reply(Opcode.TARE, Status.SUCCESS, result.encode())] + self._status_notification()

