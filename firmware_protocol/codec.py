"""Encode and decode the belt's wire messages (SPEC.md sections 3-6).

Every decoder raises ``ProtocolError`` for malformed input and nothing else:
no IndexError, struct.error or ValueError escapes. Encoders raise
``ProtocolError`` for values that do not fit the wire format.

All multi-byte fields are little-endian.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag

import numpy as np

from .gatt import ATT_NOTIFICATION_OVERHEAD

PROTOCOL_VERSION = 1

# ---------------------------------------------------------------- errors


class ProtocolError(Exception):
    """Malformed or unsupported bytes on the wire."""


class UnsupportedVersionError(ProtocolError):
    """A packet of a protocol major version this codec does not speak."""


# ---------------------------------------------------------------- stream packets

STREAM_HEADER_LEN = 11  # version u8, flags u8, seq u16, t0_us u32, period_us u24
SAMPLE_LEN = 3  # int24 raw ADC counts
MIN_PERIOD_US = 1_000  # 1000 Hz
MAX_PERIOD_US = 100_000  # 10 Hz
COUNTS_MIN = -(1 << 23)
COUNTS_MAX = (1 << 23) - 1
U32_WRAP = 1 << 32
SEQ_WRAP = 1 << 16

_HEADER = struct.Struct("<BBHI")


class StreamFlags(IntFlag):
    """Bits of the stream packet's flags byte. Bits 3-7 are reserved: senders
    write 0, receivers ignore them (a later minor version may use them)."""

    NONE = 0
    SATURATED = 0x01  # at least one sample in this packet is at an ADC rail
    TARE_IN_PROGRESS = 0x02  # the belt is averaging for a TARE command
    STREAM_START = 0x04  # first packet after START_STREAM (seq restarts at 0)


KNOWN_STREAM_FLAGS = StreamFlags.SATURATED | StreamFlags.TARE_IN_PROGRESS | StreamFlags.STREAM_START


@dataclass(frozen=True, eq=False)
class StreamPacket:
    """One force-stream notification: N consecutive samples.

    ``t0_us`` is the belt's free-running microsecond clock (mod 2**32) at the
    first sample; sample i was taken at ``t0_us + i * period_us``.
    """

    seq: int
    t0_us: int
    period_us: int
    counts: np.ndarray  # int32, raw ADC counts
    flags: StreamFlags = StreamFlags.NONE
    version: int = PROTOCOL_VERSION

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamPacket):
            return NotImplemented
        return (
            self.seq == other.seq
            and self.t0_us == other.t0_us
            and self.period_us == other.period_us
            and int(self.flags) == int(other.flags)
            and self.version == other.version
            and np.array_equal(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def n_samples(self) -> int:
        return int(self.counts.size)


def max_samples_per_packet(att_mtu: int) -> int:
    """Samples that fit one notification at this ATT MTU (3 at 23, 77 at 247)."""
    if att_mtu < 23:
        raise ProtocolError(f"ATT MTU {att_mtu} is below the Bluetooth minimum of 23")
    return (att_mtu - ATT_NOTIFICATION_OVERHEAD - STREAM_HEADER_LEN) // SAMPLE_LEN


def encode_stream_packet(packet: StreamPacket) -> bytes:
    counts = np.asarray(packet.counts)
    n = counts.size
    if n < 1:
        raise ProtocolError("a stream packet carries at least one sample")
    if not 0 <= packet.seq < SEQ_WRAP:
        raise ProtocolError(f"seq {packet.seq} does not fit u16")
    if not 0 <= packet.t0_us < U32_WRAP:
        raise ProtocolError(f"t0_us {packet.t0_us} does not fit u32")
    if not MIN_PERIOD_US <= packet.period_us <= MAX_PERIOD_US:
        raise ProtocolError(f"period_us {packet.period_us} outside {MIN_PERIOD_US}..{MAX_PERIOD_US}")
    if not 0 <= int(packet.flags) <= 0xFF:
        raise ProtocolError(f"flags {int(packet.flags)} do not fit u8")
    if counts.dtype.kind not in "iu":
        raise ProtocolError("counts must be integers")
    if n and (int(counts.min()) < COUNTS_MIN or int(counts.max()) > COUNTS_MAX):
        raise ProtocolError("counts must fit int24")
    head = _HEADER.pack(packet.version, int(packet.flags), packet.seq, packet.t0_us) + packet.period_us.to_bytes(3, "little")
    c = counts.astype("<i4", copy=False)
    body = c.view(np.uint8).reshape(n, 4)[:, :3].tobytes()
    return head + body


# Sign extension of int24 via a lookup on the high byte keeps decoding to a few numpy calls.
_SIGN_EXT = np.where(np.arange(256) >= 128, 0xFF, 0).astype(np.uint8)


def decode_stream_packet(data: bytes | bytearray | memoryview) -> StreamPacket:
    """Decode one stream notification. Raises ProtocolError if malformed."""
    n_bytes = len(data)
    if n_bytes < STREAM_HEADER_LEN + SAMPLE_LEN:
        raise ProtocolError(f"stream packet of {n_bytes} bytes is shorter than header + one sample ({STREAM_HEADER_LEN + SAMPLE_LEN})")
    rem = (n_bytes - STREAM_HEADER_LEN) % SAMPLE_LEN
    if rem:
        raise ProtocolError(f"stream packet payload of {n_bytes - STREAM_HEADER_LEN} bytes is not a whole number of 3-byte samples")
    version, flags, seq, t0_us = _HEADER.unpack_from(data, 0)
    if version != PROTOCOL_VERSION:
        raise UnsupportedVersionError(f"stream packet version {version}, this app speaks version {PROTOCOL_VERSION}")
    period_us = data[8] | (data[9] << 8) | (data[10] << 16)
    if not MIN_PERIOD_US <= period_us <= MAX_PERIOD_US:
        raise ProtocolError(f"sample period {period_us} us outside {MIN_PERIOD_US}..{MAX_PERIOD_US} us")
    n = (n_bytes - STREAM_HEADER_LEN) // SAMPLE_LEN
    raw = np.frombuffer(data, dtype=np.uint8, count=n * SAMPLE_LEN, offset=STREAM_HEADER_LEN).reshape(n, SAMPLE_LEN)
    wide = np.empty((n, 4), dtype=np.uint8)
    wide[:, :3] = raw
    wide[:, 3] = _SIGN_EXT[raw[:, 2]]
    counts = wide.view("<i4").reshape(n)
    return StreamPacket(seq=seq, t0_us=t0_us, period_us=period_us, counts=counts, flags=StreamFlags(flags & 0xFF), version=version)


# ---------------------------------------------------------------- control point


class Opcode(IntEnum):
    START_STREAM = 0x01
    STOP_STREAM = 0x02
    TARE = 0x03
    GET_CALIBRATION = 0x04
    SET_CALIBRATION = 0x05
    GET_INFO = 0x06
    SLEEP = 0x07


RESPONSE_CODE = 0x80  # first byte of every control-point indication


class Status(IntEnum):
    SUCCESS = 0x00
    UNKNOWN_OPCODE = 0x01
    INVALID_LENGTH = 0x02
    INVALID_PARAMETER = 0x03
    BUSY = 0x04
    INTERNAL_ERROR = 0x05


STATUS_TEXT: dict[int, str] = {
    Status.SUCCESS: "success",
    Status.UNKNOWN_OPCODE: "the belt does not know this command (firmware too old?)",
    Status.INVALID_LENGTH: "the command had the wrong length",
    Status.INVALID_PARAMETER: "a command parameter was out of range",
    Status.BUSY: "the belt is busy (a tare is running)",
    Status.INTERNAL_ERROR: "the belt reported an internal error",
}

# Request payload length per opcode, exactly. A firmware answers INVALID_LENGTH otherwise.
COMMAND_PAYLOAD_LEN: dict[int, int] = {
    Opcode.START_STREAM: 2,
    Opcode.STOP_STREAM: 0,
    Opcode.TARE: 2,
    Opcode.GET_CALIBRATION: 0,
    Opcode.SET_CALIBRATION: 16,
    Opcode.GET_INFO: 0,
    Opcode.SLEEP: 0,
}

MIN_RATE_HZ = 10
MAX_RATE_HZ = 1000
MIN_TARE_WINDOW_MS = 1000
MAX_TARE_WINDOW_MS = 10_000


@dataclass(frozen=True)
class Command:
    """A control-point write: opcode byte then payload."""

    opcode: int
    payload: bytes = b""

    @property
    def name(self) -> str:
        return opcode_name(self.opcode)


@dataclass(frozen=True)
class Response:
    """A control-point indication: 0x80, the request's opcode, a status, payload."""

    opcode: int
    status: int
    payload: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == Status.SUCCESS

    def describe(self) -> str:
        return f"{opcode_name(self.opcode)}: {STATUS_TEXT.get(self.status, f'unknown status 0x{self.status:02x}')}"


def opcode_name(opcode: int) -> str:
    try:
        return Opcode(opcode).name
    except ValueError:
        return f"OPCODE_0x{opcode:02x}"


def encode_command(command: Command) -> bytes:
    if not 0 <= command.opcode <= 0xFF:
        raise ProtocolError(f"opcode {command.opcode} does not fit u8")
    if command.opcode == RESPONSE_CODE:
        raise ProtocolError("0x80 is reserved for responses")
    return bytes([command.opcode]) + bytes(command.payload)


def decode_command(data: bytes | bytearray | memoryview) -> Command:
    """Split a control-point write. Length checks per opcode are the receiver's job
    (``check_command_length``) so that it can answer with the right status."""
    if len(data) < 1:
        raise ProtocolError("empty control-point write")
    return Command(opcode=data[0], payload=bytes(data[1:]))


def check_command_length(command: Command) -> Status:
    """The status a belt answers for this command's length (SUCCESS if right)."""
    expected = COMMAND_PAYLOAD_LEN.get(command.opcode)
    if expected is None:
        return Status.UNKNOWN_OPCODE
    return Status.SUCCESS if len(command.payload) == expected else Status.INVALID_LENGTH


def encode_response(response: Response) -> bytes:
    if not (0 <= response.opcode <= 0xFF and 0 <= response.status <= 0xFF):
        raise ProtocolError("opcode and status must fit u8")
    return bytes([RESPONSE_CODE, response.opcode, response.status]) + bytes(response.payload)


def decode_response(data: bytes | bytearray | memoryview) -> Response:
    if len(data) < 3:
        raise ProtocolError(f"control-point indication of {len(data)} bytes, expected at least 3")
    if data[0] != RESPONSE_CODE:
        raise ProtocolError(f"control-point indication starts with 0x{data[0]:02x}, expected 0x80")
    return Response(opcode=data[1], status=data[2], payload=bytes(data[3:]))


# ---- command builders


def start_stream_command(rate_hz: int) -> Command:
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        raise ProtocolError(f"rate {rate_hz} Hz outside {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz")
    return Command(Opcode.START_STREAM, struct.pack("<H", rate_hz))


def tare_command(window_ms: int = MIN_TARE_WINDOW_MS) -> Command:
    if not MIN_TARE_WINDOW_MS <= window_ms <= MAX_TARE_WINDOW_MS:
        raise ProtocolError(f"tare window {window_ms} ms outside {MIN_TARE_WINDOW_MS}..{MAX_TARE_WINDOW_MS} ms")
    return Command(Opcode.TARE, struct.pack("<H", window_ms))


def simple_command(opcode: Opcode) -> Command:
    if COMMAND_PAYLOAD_LEN[opcode] != 0:
        raise ProtocolError(f"{opcode.name} takes a payload")
    return Command(opcode)


def decode_u16_param(command: Command) -> int:
    """The u16 parameter of START_STREAM or TARE (length already checked)."""
    if len(command.payload) != 2:
        raise ProtocolError(f"{command.name} expects a 2-byte parameter")
    return struct.unpack("<H", command.payload)[0]


# ---------------------------------------------------------------- payloads


def _f32_exact(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


_CAL = struct.Struct("<ifIf")


@dataclass(frozen=True)
class BeltCalibration:
    """The calibration stored on the belt (factory or written by the app).

    force_n = (counts - zero_counts) * newtons_per_count
    """

    zero_counts: int
    newtons_per_count: float
    calibrated_at_unix: int = 0
    linearity_error_n: float = 0.0

    def encode(self) -> bytes:
        if not COUNTS_MIN <= self.zero_counts <= COUNTS_MAX:
            raise ProtocolError("zero_counts must fit int24 range")
        if not (math.isfinite(self.newtons_per_count) and self.newtons_per_count > 0):
            raise ProtocolError("newtons_per_count must be finite and positive")
        if not 0 <= self.calibrated_at_unix < U32_WRAP:
            raise ProtocolError("calibrated_at_unix must fit u32")
        if not (math.isfinite(self.linearity_error_n) and self.linearity_error_n >= 0):
            raise ProtocolError("linearity_error_n must be finite and >= 0")
        return _CAL.pack(self.zero_counts, self.newtons_per_count, self.calibrated_at_unix, self.linearity_error_n)

    @classmethod
    def decode(cls, payload: bytes) -> "BeltCalibration":
        if len(payload) != _CAL.size:
            raise ProtocolError(f"calibration payload of {len(payload)} bytes, expected {_CAL.size}")
        zero, gain, when, lin = _CAL.unpack(payload)
        if not (math.isfinite(gain) and gain > 0):
            raise ProtocolError(f"calibration gain {gain!r} N/count is not a positive number")
        if not COUNTS_MIN <= zero <= COUNTS_MAX:
            raise ProtocolError(f"calibration zero {zero} counts outside the int24 range")
        if not (math.isfinite(lin) and lin >= 0):
            raise ProtocolError(f"calibration linearity error {lin!r} N is invalid")
        return cls(zero, gain, when, lin)

    def as_sent(self) -> "BeltCalibration":
        """This calibration after a float32 round trip, as the belt stores it."""
        return BeltCalibration(self.zero_counts, _f32_exact(self.newtons_per_count), self.calibrated_at_unix, _f32_exact(self.linearity_error_n))


_INFO = struct.Struct("<BBBBBI")


@dataclass(frozen=True)
class DeviceInfo:
    """GET_INFO reply: protocol version, model id, firmware version, serial."""

    protocol_version: int
    model_id: int
    firmware: tuple[int, int, int]
    serial: int

    @property
    def serial_text(self) -> str:
        return format_serial(self.serial)

    @property
    def firmware_text(self) -> str:
        return ".".join(str(x) for x in self.firmware)

    def encode(self) -> bytes:
        try:
            return _INFO.pack(self.protocol_version, self.model_id, *self.firmware, self.serial)
        except struct.error as exc:
            raise ProtocolError(f"device info does not fit the wire format: {exc}") from None

    @classmethod
    def decode(cls, payload: bytes) -> "DeviceInfo":
        # Later minor versions may append fields: read the known prefix, ignore the rest.
        if len(payload) < _INFO.size:
            raise ProtocolError(f"device info payload of {len(payload)} bytes, expected at least {_INFO.size}")
        pv, model, major, minor, patch, serial = _INFO.unpack_from(payload, 0)
        return cls(pv, model, (major, minor, patch), serial)


def format_serial(serial: int) -> str:
    """Printed form of a belt serial, as in Device Information and the calibration store."""
    return f"GMB-{serial:08X}"


_TARE = struct.Struct("<iHH")


@dataclass(frozen=True)
class TareResult:
    """TARE reply: mean counts over the window, samples used, max-min spread."""

    zero_counts: int
    n_samples: int
    spread_counts: int  # saturates at 65535

    def encode(self) -> bytes:
        try:
            return _TARE.pack(self.zero_counts, self.n_samples, min(self.spread_counts, 0xFFFF))
        except struct.error as exc:
            raise ProtocolError(f"tare result does not fit the wire format: {exc}") from None

    @classmethod
    def decode(cls, payload: bytes) -> "TareResult":
        if len(payload) < _TARE.size:
            raise ProtocolError(f"tare payload of {len(payload)} bytes, expected at least {_TARE.size}")
        return cls(*_TARE.unpack_from(payload, 0))


class BeltState(IntEnum):
    IDLE = 0
    STREAMING = 1
    TARING = 2
    ERROR = 3


class ErrorFlags(IntFlag):
    NONE = 0
    ADC_FAULT = 0x0001
    OVERLOAD = 0x0002  # a sample hit an ADC rail since the last status read
    BATTERY_LOW = 0x0004
    CALIBRATION_MISSING = 0x0008
    TX_OVERFLOW = 0x0010  # the belt dropped packets because the link could not keep up


_STATUS = struct.Struct("<BBBHH")


@dataclass(frozen=True)
class StatusReport:
    """Status characteristic: battery %, state, error flags, current rate."""

    battery_pct: int
    state: BeltState
    error_flags: ErrorFlags
    rate_hz: int
    version: int = PROTOCOL_VERSION

    def encode(self) -> bytes:
        try:
            return _STATUS.pack(self.version, self.battery_pct, int(self.state), int(self.error_flags), self.rate_hz)
        except struct.error as exc:
            raise ProtocolError(f"status does not fit the wire format: {exc}") from None

    @classmethod
    def decode(cls, payload: bytes | bytearray) -> "StatusReport":
        if len(payload) < _STATUS.size:
            raise ProtocolError(f"status of {len(payload)} bytes, expected at least {_STATUS.size}")
        version, battery, state, flags, rate = _STATUS.unpack_from(payload, 0)
        if version != PROTOCOL_VERSION:
            raise UnsupportedVersionError(f"status version {version}, this app speaks version {PROTOCOL_VERSION}")
        if battery > 100:
            raise ProtocolError(f"battery {battery}% is above 100")
        try:
            st = BeltState(state)
        except ValueError:
            raise ProtocolError(f"unknown belt state {state}") from None
        return cls(battery, st, ErrorFlags(flags), rate, version)


# ---------------------------------------------------------------- receiver helpers


@dataclass
class DeviceClock:
    """Unwraps the belt's u32 microsecond clock into a monotonic int.

    Rule (SPEC.md): the clock is free-running since power-on and wraps every
    2**32 us (71.6 min). The unwrapped time is the one nearest to where the
    previous packet plus the host's elapsed time says it should be. Without a
    host hint (consecutive packets, well under half a wrap apart) a backwards
    jump of more than half a wrap is one wrap forward.
    """

    _last_us: int | None = None

    def unwrap(self, raw_us: int, host_elapsed_us: int = 0) -> int:
        if self._last_us is None:
            self._last_us = raw_us
            return raw_us
        expected = self._last_us + host_elapsed_us
        k = round((expected - raw_us) / U32_WRAP)
        value = raw_us + k * U32_WRAP
        self._last_us = value
        return value

    def reset(self) -> None:
        self._last_us = None


@dataclass
class SequenceTracker:
    """Counts packets lost between consecutive u16 sequence numbers."""

    expected: int | None = None
    lost_packets: int = 0
    events: list[tuple[int, int]] = field(default_factory=list)  # (seq received, packets lost before it)

    def accept(self, seq: int, stream_start: bool = False) -> int:
        """Record a packet; return how many packets were lost just before it."""
        lost = 0
        if self.expected is not None and not stream_start:
            lost = (seq - self.expected) % SEQ_WRAP
            if lost:
                self.lost_packets += lost
                self.events.append((seq, lost))
        self.expected = (seq + 1) % SEQ_WRAP
        return lost

    def restart(self) -> None:
        self.expected = None
