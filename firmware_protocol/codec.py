"""Encode and decode the belt's wire messages (SPEC.md sections 4-6 and 8).

Every decoder raises ``ProtocolError`` for malformed input and nothing else:
no IndexError, struct.error, OverflowError or ValueError escapes. Encoders
raise ``ProtocolError`` for values that do not fit the wire format. Each
``ProtocolError`` carries a ``reason`` (an ``ErrorReason``) that matches the
``error=`` key of the MALFORMED lines in golden_vectors.txt and the
``BELT_ERR_*`` codes of the C reference codec.

All multi-byte fields are little-endian.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag, StrEnum

import numpy as np

from .gatt import ATT_NOTIFICATION_OVERHEAD

PROTOCOL_VERSION = 1

# ---------------------------------------------------------------- errors


class ErrorReason(StrEnum):
    """Why bytes were rejected; the same names as the C codec's BELT_ERR_*."""

    TOO_SHORT = "TOO_SHORT"  # fewer bytes than the fixed part of the message
    TOO_LONG = "TOO_LONG"  # more bytes than the message may ever have
    PARTIAL_SAMPLE = "PARTIAL_SAMPLE"  # stream payload is not a whole number of samples
    BAD_VERSION = "BAD_VERSION"  # unknown protocol major version
    BAD_PERIOD = "BAD_PERIOD"  # sample period outside 1000..100000 us
    BAD_RESPONSE_CODE = "BAD_RESPONSE_CODE"  # indication does not start with 0x80
    BAD_VALUE = "BAD_VALUE"  # a field holds a value the spec forbids


class ProtocolError(Exception):
    """Malformed or unsupported bytes on the wire (or values that cannot be encoded)."""

    default_reason = ErrorReason.BAD_VALUE

    def __init__(self, message: str = "", *, reason: ErrorReason | None = None) -> None:
        super().__init__(message)
        self.reason: ErrorReason = reason if reason is not None else self.default_reason


class UnsupportedVersionError(ProtocolError):
    """A message of a protocol major version this codec does not speak: update the app."""

    default_reason = ErrorReason.BAD_VERSION


def _version_error(what: str, version: int) -> UnsupportedVersionError:
    return UnsupportedVersionError(
        f"{what} has protocol version {version}; this app speaks version {PROTOCOL_VERSION}. Update the app to use this belt."
    )


# ---------------------------------------------------------------- stream packets

STREAM_HEADER_LEN = 11  # version u8, flags u8, seq u16, t0_us u32, period_us u24
SAMPLE_LEN = 3  # int24 raw ADC counts
MAX_ATTRIBUTE_LEN = 512  # Bluetooth Core: no attribute value is longer
MAX_STREAM_PACKET_LEN = STREAM_HEADER_LEN + (MAX_ATTRIBUTE_LEN - STREAM_HEADER_LEN) // SAMPLE_LEN * SAMPLE_LEN  # 512
MAX_SAMPLES = (MAX_STREAM_PACKET_LEN - STREAM_HEADER_LEN) // SAMPLE_LEN  # 167
MIN_PERIOD_US = 1_000  # 1000 Hz
MAX_PERIOD_US = 100_000  # 10 Hz
COUNTS_MIN = -(1 << 23)
COUNTS_MAX = (1 << 23) - 1
U32_WRAP = 1 << 32
SEQ_WRAP = 1 << 16

_HEADER = struct.Struct("<BBHI")


class StreamFlags(IntFlag):
    """Bits of the stream packet's flags byte. Bits 3-7 are reserved: senders
    write 0, receivers ignore them (a later version may use them without a
    version bump). Decoding keeps the raw byte, so reserved bits survive a
    decode/encode round trip; test known bits only."""

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
    """Samples that fit one notification at this ATT MTU (3 at 23, 77 at 247, at most 167)."""
    if att_mtu < 23:
        raise ProtocolError(f"ATT MTU {att_mtu} is below the Bluetooth minimum of 23")
    value_len = min(att_mtu - ATT_NOTIFICATION_OVERHEAD, MAX_ATTRIBUTE_LEN)
    return (value_len - STREAM_HEADER_LEN) // SAMPLE_LEN


def _as_int(value: object, what: str) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise ProtocolError(f"{what} {value!r} is not an integer") from None


def encode_stream_packet(packet: StreamPacket) -> bytes:
    counts = np.asarray(packet.counts)
    if counts.ndim != 1:
        raise ProtocolError(f"counts must be one-dimensional, got shape {counts.shape}")
    n = counts.size
    if n < 1:
        raise ProtocolError("a stream packet carries at least one sample", reason=ErrorReason.TOO_SHORT)
    if n > MAX_SAMPLES:
        raise ProtocolError(f"{n} samples do not fit one notification (at most {MAX_SAMPLES})", reason=ErrorReason.TOO_LONG)
    version = _as_int(packet.version, "version")
    seq = _as_int(packet.seq, "seq")
    t0_us = _as_int(packet.t0_us, "t0_us")
    period_us = _as_int(packet.period_us, "period_us")
    flags = _as_int(packet.flags, "flags")
    if not 0 <= version <= 0xFF:
        raise ProtocolError(f"version {version} does not fit u8")
    if not 0 <= seq < SEQ_WRAP:
        raise ProtocolError(f"seq {seq} does not fit u16")
    if not 0 <= t0_us < U32_WRAP:
        raise ProtocolError(f"t0_us {t0_us} does not fit u32")
    if not MIN_PERIOD_US <= period_us <= MAX_PERIOD_US:
        raise ProtocolError(f"period_us {period_us} outside {MIN_PERIOD_US}..{MAX_PERIOD_US}", reason=ErrorReason.BAD_PERIOD)
    if not 0 <= flags <= 0xFF:
        raise ProtocolError(f"flags {flags} do not fit u8")
    if counts.dtype.kind not in "iu":
        raise ProtocolError("counts must be integers")
    if int(counts.min()) < COUNTS_MIN or int(counts.max()) > COUNTS_MAX:
        raise ProtocolError("counts must fit int24")
    head = _HEADER.pack(version, flags, seq, t0_us) + period_us.to_bytes(3, "little")
    c = np.ascontiguousarray(counts, dtype="<i4")
    return head + c.view(np.uint8).reshape(n, 4)[:, :3].tobytes()


# Decoding. Small packets (the MTU-23 case) go through one precomputed struct
# that reads the whole packet, each int24 as (u16 low, i8 high): the sample is
# low | high << 16, sign-extended by the signed high byte. Larger packets use
# a strided int32 view that starts one byte before each sample, so every
# sample sits in the top three bytes of a little-endian int32 and an
# arithmetic shift right by 8 sign-extends it: two numpy calls for any N.
# Both paths copy, so the counts never alias the caller's (maybe mutable) buffer.
_SMALL_N = 8  # measured crossover of the two paths
_SMALL_STRUCTS = [struct.Struct("<BBHIHB" + "Hb" * n) if n else None for n in range(_SMALL_N + 1)]
_FLAGS = tuple(StreamFlags(i) for i in range(256))
_I32 = np.dtype("<i4")
_ndarray = np.ndarray
_array = np.array
_new_object = object.__new__


def _stream_packet(seq: int, t0_us: int, period_us: int, counts: np.ndarray, flags: StreamFlags, version: int) -> StreamPacket:
    # The frozen dataclass's __init__ sets each field through object.__setattr__;
    # filling __dict__ directly builds the same object in a third of the time.
    packet = _new_object(StreamPacket)
    packet.__dict__.update(seq=seq, t0_us=t0_us, period_us=period_us, counts=counts, flags=flags, version=version)
    return packet


def _stream_length_error(data: bytes | bytearray | memoryview, n_bytes: int) -> ProtocolError:
    # Version first: a later major version may have another layout, and the
    # user must hear "update the app", not "malformed packet".
    if n_bytes >= 1 and data[0] != PROTOCOL_VERSION:
        return _version_error("stream packet", data[0])
    if n_bytes < STREAM_HEADER_LEN + SAMPLE_LEN:
        return ProtocolError(
            f"stream packet of {n_bytes} bytes is shorter than header + one sample ({STREAM_HEADER_LEN + SAMPLE_LEN})",
            reason=ErrorReason.TOO_SHORT,
        )
    if n_bytes > MAX_STREAM_PACKET_LEN:
        return ProtocolError(f"stream packet of {n_bytes} bytes is longer than any ATT value ({MAX_STREAM_PACKET_LEN})", reason=ErrorReason.TOO_LONG)
    return ProtocolError(
        f"stream packet payload of {n_bytes - STREAM_HEADER_LEN} bytes is not a whole number of 3-byte samples",
        reason=ErrorReason.PARTIAL_SAMPLE,
    )


def _period_error(period_us: int) -> ProtocolError:
    return ProtocolError(f"sample period {period_us} us outside {MIN_PERIOD_US}..{MAX_PERIOD_US} us", reason=ErrorReason.BAD_PERIOD)


def decode_stream_packet(data: bytes | bytearray | memoryview) -> StreamPacket:
    """Decode one stream notification. Raises ProtocolError if malformed.

    Checks, in order: version (UnsupportedVersionError), length (TOO_SHORT,
    TOO_LONG, PARTIAL_SAMPLE), period (BAD_PERIOD).
    """
    n_bytes = len(data)
    if n_bytes < 14 or n_bytes > MAX_STREAM_PACKET_LEN or (n_bytes - 11) % 3:
        raise _stream_length_error(data, n_bytes)
    n = (n_bytes - 11) // 3
    if n <= _SMALL_N:
        v = _SMALL_STRUCTS[n].unpack_from(data)  # type: ignore[union-attr]
        if v[0] != 1:
            raise _version_error("stream packet", v[0])
        period_us = v[4] | (v[5] << 16)
        if period_us < 1000 or period_us > 100_000:
            raise _period_error(period_us)
        if n == 3:
            counts = _array((v[6] | (v[7] << 16), v[8] | (v[9] << 16), v[10] | (v[11] << 16)), _I32)
        else:
            counts = _array([lo | (hi << 16) for lo, hi in zip(v[6::2], v[7::2], strict=True)], _I32)
        return _stream_packet(v[2], v[3], period_us, counts, _FLAGS[v[1]], 1)
    version, flags, seq, t0_us = _HEADER.unpack_from(data)
    if version != 1:
        raise _version_error("stream packet", version)
    period_us = data[8] | (data[9] << 8) | (data[10] << 16)
    if period_us < 1000 or period_us > 100_000:
        raise _period_error(period_us)
    counts = _ndarray((n,), _I32, data, 10, (3,)) >> 8
    return _stream_packet(seq, t0_us, period_us, counts, _FLAGS[flags], 1)


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
MAX_COMMAND_LEN = 20  # one write at the default ATT MTU of 23
MAX_RESPONSE_LEN = 20  # one indication at the default ATT MTU of 23
RESPONSE_HEADER_LEN = 3  # 0x80, request opcode, status


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

# How long the app waits for a reply (SPEC.md section 5.1).
RESPONSE_TIMEOUT_S = 2.0


def response_timeout_s(command: Command) -> float:
    """The app's timeout for this command's reply: 2 s, or the tare window + 2 s."""
    if command.opcode == Opcode.TARE and len(command.payload) == 2:
        return RESPONSE_TIMEOUT_S + struct.unpack("<H", command.payload)[0] / 1000.0
    return RESPONSE_TIMEOUT_S


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


def _payload_bytes(payload: object) -> bytes:
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ProtocolError(f"payload must be bytes, got {type(payload).__name__}")
    return bytes(payload)


def encode_command(command: Command) -> bytes:
    opcode = _as_int(command.opcode, "opcode")
    if not 0 <= opcode <= 0xFF:
        raise ProtocolError(f"opcode {opcode} does not fit u8")
    if opcode == RESPONSE_CODE:
        raise ProtocolError("0x80 is reserved for responses")
    out = bytes([opcode]) + _payload_bytes(command.payload)
    if len(out) > MAX_COMMAND_LEN:
        raise ProtocolError(f"command of {len(out)} bytes does not fit one write at MTU 23 ({MAX_COMMAND_LEN})", reason=ErrorReason.TOO_LONG)
    return out


def decode_command(data: bytes | bytearray | memoryview) -> Command:
    """Split a control-point write. Length and parameter checks are the receiver's
    job (``check_command``) so that it can answer with the right status."""
    if len(data) < 1:
        raise ProtocolError("empty control-point write", reason=ErrorReason.TOO_SHORT)
    return Command(opcode=data[0], payload=bytes(data[1:]))


def check_command_length(command: Command) -> Status:
    """The status a belt answers for this command's opcode and length (SUCCESS if right)."""
    expected = COMMAND_PAYLOAD_LEN.get(command.opcode)
    if expected is None:
        return Status.UNKNOWN_OPCODE
    return Status.SUCCESS if len(command.payload) == expected else Status.INVALID_LENGTH


def check_command(command: Command) -> Status:
    """The status a belt answers for this command, apart from BUSY.

    Order (SPEC.md 5.4): UNKNOWN_OPCODE, INVALID_LENGTH, INVALID_PARAMETER.
    The belt answers BUSY instead of SUCCESS while another command is pending.
    """
    status = check_command_length(command)
    if status != Status.SUCCESS:
        return status
    op = command.opcode
    if op == Opcode.START_STREAM:
        ok = MIN_RATE_HZ <= decode_u16_param(command) <= MAX_RATE_HZ
    elif op == Opcode.TARE:
        ok = MIN_TARE_WINDOW_MS <= decode_u16_param(command) <= MAX_TARE_WINDOW_MS
    elif op == Opcode.SET_CALIBRATION:
        try:
            BeltCalibration.decode(command.payload)
            ok = True
        except ProtocolError:
            ok = False
    else:
        ok = True
    return Status.SUCCESS if ok else Status.INVALID_PARAMETER


def encode_response(response: Response) -> bytes:
    opcode = _as_int(response.opcode, "opcode")
    status = _as_int(response.status, "status")
    if not (0 <= opcode <= 0xFF and 0 <= status <= 0xFF):
        raise ProtocolError("opcode and status must fit u8")
    out = bytes([RESPONSE_CODE, opcode, status]) + _payload_bytes(response.payload)
    if len(out) > MAX_RESPONSE_LEN:
        raise ProtocolError(f"response of {len(out)} bytes does not fit one indication at MTU 23 ({MAX_RESPONSE_LEN})", reason=ErrorReason.TOO_LONG)
    return out


def decode_response(data: bytes | bytearray | memoryview) -> Response:
    """Split a control-point indication; see ``parse_response_payload`` for its payload."""
    if len(data) < RESPONSE_HEADER_LEN:
        raise ProtocolError(f"control-point indication of {len(data)} bytes, expected at least 3", reason=ErrorReason.TOO_SHORT)
    if data[0] != RESPONSE_CODE:
        raise ProtocolError(f"control-point indication starts with 0x{data[0]:02x}, expected 0x80", reason=ErrorReason.BAD_RESPONSE_CODE)
    if len(data) > MAX_RESPONSE_LEN:
        raise ProtocolError(f"control-point indication of {len(data)} bytes, at most {MAX_RESPONSE_LEN}", reason=ErrorReason.TOO_LONG)
    return Response(opcode=data[1], status=data[2], payload=bytes(data[3:]))


def parse_response_payload(response: Response) -> BeltCalibration | TareResult | DeviceInfo | None:
    """The typed payload of a successful GET_CALIBRATION, TARE or GET_INFO reply.

    None for every other reply (error replies carry no payload; receivers
    ignore any bytes there). Raises ProtocolError if the payload is malformed.
    """
    if response.status != Status.SUCCESS:
        return None
    if response.opcode == Opcode.GET_CALIBRATION:
        return BeltCalibration.decode(response.payload)
    if response.opcode == Opcode.TARE:
        return TareResult.decode(response.payload)
    if response.opcode == Opcode.GET_INFO:
        return DeviceInfo.decode(response.payload)
    return None


# ---- command builders


def start_stream_command(rate_hz: int) -> Command:
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        raise ProtocolError(f"rate {rate_hz} Hz outside {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz")
    return Command(Opcode.START_STREAM, struct.pack("<H", rate_hz))


def tare_command(window_ms: int = MIN_TARE_WINDOW_MS) -> Command:
    if not MIN_TARE_WINDOW_MS <= window_ms <= MAX_TARE_WINDOW_MS:
        raise ProtocolError(f"tare window {window_ms} ms outside {MIN_TARE_WINDOW_MS}..{MAX_TARE_WINDOW_MS} ms")
    return Command(Opcode.TARE, struct.pack("<H", window_ms))


def set_calibration_command(calibration: BeltCalibration) -> Command:
    return Command(Opcode.SET_CALIBRATION, calibration.encode())


def simple_command(opcode: Opcode) -> Command:
    if COMMAND_PAYLOAD_LEN[opcode] != 0:
        raise ProtocolError(f"{opcode.name} takes a payload")
    return Command(opcode)


def decode_u16_param(command: Command) -> int:
    """The u16 parameter of START_STREAM or TARE (length already checked)."""
    if len(command.payload) != 2:
        raise ProtocolError(f"{command.name} expects a 2-byte parameter", reason=ErrorReason.TOO_SHORT if len(command.payload) < 2 else ErrorReason.TOO_LONG)
    return struct.unpack("<H", command.payload)[0]


# ---------------------------------------------------------------- payloads


def _f32_exact(value: float) -> float:
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except (OverflowError, struct.error, TypeError):
        raise ProtocolError(f"{value!r} does not fit float32") from None


_CAL = struct.Struct("<ifIf")
CALIBRATION_LEN = _CAL.size  # 16


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
        zero = _as_int(self.zero_counts, "zero_counts")
        when = _as_int(self.calibrated_at_unix, "calibrated_at_unix")
        if not COUNTS_MIN <= zero <= COUNTS_MAX:
            raise ProtocolError("zero_counts must fit int24 range")
        gain = _f32_exact(self.newtons_per_count)
        if not (math.isfinite(gain) and gain > 0):
            raise ProtocolError("newtons_per_count must be finite and positive as float32")
        if not 0 <= when < U32_WRAP:
            raise ProtocolError("calibrated_at_unix must fit u32")
        lin = _f32_exact(self.linearity_error_n)
        if not (math.isfinite(lin) and lin >= 0):
            raise ProtocolError("linearity_error_n must be finite and >= 0 as float32")
        return _CAL.pack(zero, gain, when, lin)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> BeltCalibration:
        """Decode the 16 calibration bytes; trailing bytes (a later addition) are ignored."""
        if len(payload) < _CAL.size:
            raise ProtocolError(f"calibration payload of {len(payload)} bytes, expected {_CAL.size}", reason=ErrorReason.TOO_SHORT)
        zero, gain, when, lin = _CAL.unpack_from(payload, 0)
        if not (math.isfinite(gain) and gain > 0):
            raise ProtocolError(f"calibration gain {gain!r} N/count is not a positive number")
        if not COUNTS_MIN <= zero <= COUNTS_MAX:
            raise ProtocolError(f"calibration zero {zero} counts outside the int24 range")
        if not (math.isfinite(lin) and lin >= 0):
            raise ProtocolError(f"calibration linearity error {lin!r} N is invalid")
        return cls(zero, gain, when, lin)

    def as_sent(self) -> BeltCalibration:
        """This calibration after a float32 round trip, as the belt stores it."""
        return BeltCalibration(self.zero_counts, _f32_exact(self.newtons_per_count), self.calibrated_at_unix, _f32_exact(self.linearity_error_n))


_INFO = struct.Struct("<BBBBBI")
INFO_LEN = _INFO.size  # 9


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
        except (struct.error, TypeError) as exc:
            raise ProtocolError(f"device info does not fit the wire format: {exc}") from None

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> DeviceInfo:
        """Decode GET_INFO's payload. Its first byte, the protocol version, is
        checked first: this layout is frozen so that any app can read it."""
        if len(payload) < 1:
            raise ProtocolError("empty device info payload", reason=ErrorReason.TOO_SHORT)
        if payload[0] != PROTOCOL_VERSION:
            raise _version_error("the belt", payload[0])
        # Later versions may append fields: read the known prefix, ignore the rest.
        if len(payload) < _INFO.size:
            raise ProtocolError(f"device info payload of {len(payload)} bytes, expected at least {_INFO.size}", reason=ErrorReason.TOO_SHORT)
        pv, model, major, minor, patch, serial = _INFO.unpack_from(payload, 0)
        return cls(pv, model, (major, minor, patch), serial)


def format_serial(serial: int) -> str:
    """Printed form of a belt serial, as in Device Information and the calibration store."""
    return f"GMB-{serial:08X}"


_TARE = struct.Struct("<iHH")
TARE_RESULT_LEN = _TARE.size  # 8


@dataclass(frozen=True)
class TareResult:
    """TARE reply: mean counts over the window, samples used, max-min spread."""

    zero_counts: int
    n_samples: int
    spread_counts: int  # saturates at 65535

    def encode(self) -> bytes:
        zero = _as_int(self.zero_counts, "zero_counts")
        n = _as_int(self.n_samples, "n_samples")
        spread = _as_int(self.spread_counts, "spread_counts")
        if not COUNTS_MIN <= zero <= COUNTS_MAX:
            raise ProtocolError("tare zero_counts must fit int24 range")
        if not 1 <= n <= 0xFFFF:
            raise ProtocolError("tare n_samples must be 1..65535")
        if spread < 0:
            raise ProtocolError("tare spread_counts must be >= 0")
        return _TARE.pack(zero, n, min(spread, 0xFFFF))

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> TareResult:
        if len(payload) < _TARE.size:
            raise ProtocolError(f"tare payload of {len(payload)} bytes, expected at least {_TARE.size}", reason=ErrorReason.TOO_SHORT)
        zero, n, spread = _TARE.unpack_from(payload, 0)
        if not COUNTS_MIN <= zero <= COUNTS_MAX:
            raise ProtocolError(f"tare zero {zero} counts outside the int24 range")
        if n == 0:
            raise ProtocolError("tare over 0 samples")
        return cls(zero, n, spread)


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
STATUS_LEN = _STATUS.size  # 7


def _valid_status_rate(rate_hz: int) -> bool:
    return rate_hz == 0 or MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ


@dataclass(frozen=True)
class StatusReport:
    """Status characteristic: battery %, state, error flags, current rate (0 when not streaming)."""

    battery_pct: int
    state: BeltState
    error_flags: ErrorFlags
    rate_hz: int
    version: int = PROTOCOL_VERSION

    def encode(self) -> bytes:
        try:
            battery, state, rate = int(self.battery_pct), int(self.state), int(self.rate_hz)
        except (TypeError, ValueError):
            raise ProtocolError("status fields must be integers") from None
        if not 0 <= battery <= 100:
            raise ProtocolError(f"battery {battery}% outside 0..100")
        if state not in BeltState._value2member_map_:
            raise ProtocolError(f"unknown belt state {state}")
        if not _valid_status_rate(rate):
            raise ProtocolError(f"status rate {rate} Hz is neither 0 nor {MIN_RATE_HZ}..{MAX_RATE_HZ}")
        try:
            return _STATUS.pack(self.version, battery, state, int(self.error_flags), rate)
        except (struct.error, TypeError) as exc:
            raise ProtocolError(f"status does not fit the wire format: {exc}") from None

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> StatusReport:
        if len(payload) < 1:
            raise ProtocolError("empty status", reason=ErrorReason.TOO_SHORT)
        if payload[0] != PROTOCOL_VERSION:
            raise _version_error("belt status", payload[0])
        if len(payload) < _STATUS.size:
            raise ProtocolError(f"status of {len(payload)} bytes, expected at least {_STATUS.size}", reason=ErrorReason.TOO_SHORT)
        version, battery, state, flags, rate = _STATUS.unpack_from(payload, 0)
        if battery > 100:
            raise ProtocolError(f"battery {battery}% is above 100")
        try:
            st = BeltState(state)
        except ValueError:
            raise ProtocolError(f"unknown belt state {state}") from None
        if not _valid_status_rate(rate):
            raise ProtocolError(f"status rate {rate} Hz is neither 0 nor {MIN_RATE_HZ}..{MAX_RATE_HZ}")
        return cls(battery, st, ErrorFlags(flags), rate, version)


# ---------------------------------------------------------------- receiver helpers

_HALF_WRAP = U32_WRAP // 2


@dataclass
class DeviceClock:
    """Unwraps the belt's u32 microsecond clock into a monotonic int.

    Rule (SPEC.md 4.3): the clock is free-running since power-on and wraps
    every 2**32 us (71.6 min). The unwrapped time is ``raw + k * 2**32`` for
    the integer k that puts it nearest to the previous unwrapped time plus
    the host's elapsed time (an exact tie goes to the later candidate).
    Without a host hint (consecutive packets, well under half a wrap apart)
    a backwards jump of more than half a wrap is one wrap forward.
    """

    _last_us: int | None = None

    def unwrap(self, raw_us: int, host_elapsed_us: int = 0) -> int:
        raw_us = int(raw_us)
        if self._last_us is None:
            self._last_us = raw_us
            return raw_us
        expected = self._last_us + int(host_elapsed_us)
        k = (expected - raw_us + _HALF_WRAP) // U32_WRAP  # exact integer rounding
        value = raw_us + k * U32_WRAP
        self._last_us = value
        return value

    def reset(self) -> None:
        self._last_us = None


@dataclass
class SequenceTracker:
    """Counts packets lost between consecutive u16 sequence numbers.

    A seq 1..32767 ahead of the expected one means that many packets were
    lost. A seq behind it (by 1..32768: a duplicate, a reordered packet or a
    new stream whose STREAM_START packet was lost) is not a loss: it is
    counted in ``out_of_order`` and the tracker continues from it.
    """

    expected: int | None = None
    lost_packets: int = 0
    events: list[tuple[int, int]] = field(default_factory=list)  # (seq received, packets lost before it)
    out_of_order: int = 0

    def accept(self, seq: int, stream_start: bool = False) -> int:
        """Record a packet; return how many packets were lost just before it."""
        lost = 0
        if self.expected is not None and not stream_start:
            delta = (seq - self.expected) % SEQ_WRAP
            if delta >= SEQ_WRAP // 2:
                self.out_of_order += 1
            elif delta:
                lost = delta
                self.lost_packets += lost
                self.events.append((seq, lost))
        self.expected = (seq + 1) % SEQ_WRAP
        return lost

    def restart(self) -> None:
        self.expected = None
