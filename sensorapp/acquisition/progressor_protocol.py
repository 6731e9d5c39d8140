"""The Tindeq Progressor's public BLE protocol: UUIDs, opcodes and frames.

Facts and sources: shared/research/anchors.md section 1 (the official API
README and sample client, and the clients and clone firmwares that agree
with it). Pure code: the decoder, the app's ProgressorSource and the virtual
Progressor all use this one description of the wire.

The data point notifies TLV frames ``[tag u8][len u8][payload]``:

- tag 0x01: weights, ``len / 8`` samples of (float32 LE kg, uint32 LE us since
  the stream started). Real devices send up to 15 per frame, clones 1.
- tag 0x00: the reply to the last command sent; it does not name the command.
- tag 0x04: low battery; the device switches itself off right after it.

Commands are one opcode byte written to the control point.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

SERVICE_UUID = "7e4e1701-1ea6-40c9-9dcc-13d34ffead57"
DATA_CHAR_UUID = "7e4e1702-1ea6-40c9-9dcc-13d34ffead57"  # notify: frames
CONTROL_CHAR_UUID = "7e4e1703-1ea6-40c9-9dcc-13d34ffead57"  # write: opcodes

# The advertisement carries the name ("Progressor_1234") but not the service UUID.
NAME_PREFIX = "Progressor"

STANDARD_GRAVITY = 9.80665  # m/s^2: kg on the wire, newtons in the app
NOMINAL_RATE_HZ = 80.0  # the documented rate; a real unit delivers about 81 Hz
MAX_PLAUSIBLE_KG = 1000.0  # no Progressor measures this; larger values are corruption

U32_WRAP = 1 << 32


class Opcode(IntEnum):
    TARE_SCALE = 0x64  # only while streaming
    START_WEIGHT_MEAS = 0x65  # the us clock restarts at 0
    STOP_WEIGHT_MEAS = 0x66  # stop before asking for the battery voltage
    GET_APP_VERSION = 0x6B  # reply: ASCII
    ENTER_SLEEP = 0x6E  # the device disconnects
    GET_BATTERY_VOLTAGE = 0x6F  # reply: uint32 LE millivolts
    GET_PROGRESSOR_ID = 0x70  # reply: u64 LE, trailing zero bytes may be omitted


# Opcodes a device answers with a tag 0x00 frame; the others are silent.
OPCODES_WITH_REPLY = frozenset({Opcode.GET_APP_VERSION, Opcode.GET_BATTERY_VOLTAGE, Opcode.GET_PROGRESSOR_ID})


class Tag(IntEnum):
    COMMAND_RESPONSE = 0x00
    WEIGHT_MEASUREMENT = 0x01
    PEAK_RFD = 0x02
    PEAK_RFD_SERIES = 0x03
    LOW_BATTERY = 0x04


class ProgressorProtocolError(Exception):
    """Bytes that are not a Progressor frame (or values that cannot be encoded)."""


SAMPLE = struct.Struct("<fI")
SAMPLE_LEN = SAMPLE.size  # 8
MAX_PAYLOAD_LEN = 255  # the length field is one byte
MAX_SAMPLES_PER_FRAME = MAX_PAYLOAD_LEN // SAMPLE_LEN  # 31
_SAMPLE_DTYPE = np.dtype([("kg", "<f4"), ("us", "<u4")])


@dataclass(frozen=True)
class Frame:
    """One data-point notification.

    ``payload`` is clipped to the bytes that arrived: ``declared_len`` larger
    than ``len(payload)`` means a truncated notification.
    """

    tag: int
    declared_len: int
    payload: bytes

    @property
    def truncated(self) -> bool:
        return self.declared_len > len(self.payload)


def parse_frame(data: bytes | bytearray | memoryview) -> Frame:
    """Split a notification into tag, declared length and (clipped) payload.

    Bytes after the declared length are ignored. Raises ProgressorProtocolError
    for fewer than the two header bytes.
    """
    if len(data) < 2:
        raise ProgressorProtocolError(f"frame of {len(data)} bytes is shorter than its 2-byte header")
    declared = data[1]
    return Frame(tag=data[0], declared_len=declared, payload=bytes(data[2 : 2 + declared]))


@dataclass(frozen=True)
class Weights:
    """The samples of a tag 0x01 frame: float64 kg and raw uint32 us (int64 array)."""

    kg: np.ndarray
    us: np.ndarray
    trailing_bytes: int  # bytes after the last whole sample (0 for a well-formed frame)


def decode_weights(payload: bytes) -> Weights:
    """Decode every whole 8-byte sample; a partial sample at the end is reported, not decoded."""
    n = len(payload) // SAMPLE_LEN
    records = np.frombuffer(payload, dtype=_SAMPLE_DTYPE, count=n)
    with np.errstate(invalid="ignore"):  # corrupt bytes may hold signalling NaNs; callers drop non-finite weights
        kg = records["kg"].astype(np.float64)
    return Weights(kg=kg, us=records["us"].astype(np.int64), trailing_bytes=len(payload) - n * SAMPLE_LEN)


def encode_frame(tag: int, payload: bytes = b"") -> bytes:
    if not 0 <= tag <= 0xFF:
        raise ProgressorProtocolError(f"tag {tag} does not fit u8")
    if len(payload) > MAX_PAYLOAD_LEN:
        raise ProgressorProtocolError(f"payload of {len(payload)} bytes does not fit the one-byte length")
    return bytes([tag, len(payload)]) + bytes(payload)


def encode_weights(kg: np.ndarray, us: np.ndarray) -> bytes:
    """A tag 0x01 frame; ``us`` is taken modulo 2**32 (the device clock wraps)."""
    kg = np.asarray(kg, dtype=np.float64)
    us = np.asarray(us)
    if kg.shape != us.shape or kg.ndim != 1:
        raise ProgressorProtocolError("kg and us must be one-dimensional and the same length")
    if not 1 <= kg.size <= MAX_SAMPLES_PER_FRAME:
        raise ProgressorProtocolError(f"a weight frame carries 1..{MAX_SAMPLES_PER_FRAME} samples, not {kg.size}")
    records = np.empty(kg.size, dtype=_SAMPLE_DTYPE)
    records["kg"] = kg
    records["us"] = np.mod(us.astype(np.int64), U32_WRAP)
    return encode_frame(Tag.WEIGHT_MEASUREMENT, records.tobytes())


def encode_command(opcode: int) -> bytes:
    """A control-point write: the opcode byte alone, as the official sample sends it."""
    if not 0 <= int(opcode) <= 0xFF:
        raise ProgressorProtocolError(f"opcode {opcode} does not fit u8")
    return bytes([int(opcode)])


def parse_reply(opcode: int, payload: bytes) -> int | str:
    """The value of a tag 0x00 reply, read as the answer to ``opcode`` (the
    last command sent: the frame itself does not say)."""
    if opcode == Opcode.GET_BATTERY_VOLTAGE:
        if len(payload) < 4:
            raise ProgressorProtocolError(f"battery reply of {len(payload)} bytes, expected 4")
        return int(struct.unpack_from("<I", payload)[0])
    if opcode == Opcode.GET_PROGRESSOR_ID:
        if not 1 <= len(payload) <= 8:
            raise ProgressorProtocolError(f"device id reply of {len(payload)} bytes, expected 1..8")
        return int.from_bytes(payload, "little")
    if opcode == Opcode.GET_APP_VERSION:
        return payload.split(b"\0", 1)[0].decode("ascii", "replace").strip()
    raise ProgressorProtocolError(f"opcode 0x{opcode:02x} has no reply")


def format_progressor_id(device_id: int) -> str:
    """The id as the official app shows it: hex, most significant byte first."""
    return f"{device_id:X}"


def battery_percent_estimate(millivolts: int) -> int:
    """A rough charge estimate from the cell voltage (linear 3.3 V = 0 % to 4.2 V = 100 %).

    The Progressor reports volts only; this is for a battery icon, not a gauge.
    """
    return max(0, min(100, round((millivolts - 3300) / 9)))
