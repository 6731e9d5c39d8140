"""The PitchSix Force Board's public BLE protocol: UUIDs, modes and frames.

Facts and sources: shared/research/anchors.md section 2.2 (vendor PDF "Force
Board Public API v1.0" as implemented by hangtime forceboard.model.ts and
grip_gains_companion PitchSixService.kt, which agree):

- Advertised name "Force Board".
- Force data: notify on ``9a88d682-...`` in service ``9a88d67f-...``:
  ``[count u16 BE][count x 3-byte sample]``; a sample is
  ``b0 * 32768 + b1 * 256 + b2`` pounds (32768, not 65536, "as per PitchSix
  protocol"; integer pounds).
- Device Mode ``467a8517-...`` (service ``467a8516-...``): write 0x04 stream,
  0x05 tare, 0x06 quick start, 0x07 idle.
- No per-sample timestamp and no documented sample rate: the decoder times
  samples on the host clock (sensorapp/acquisition/forceboard_stream.py).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from .progressor_protocol import STANDARD_GRAVITY

NAME_PREFIX = "Force Board"
SERVICE_UUID = "9a88d67f-8df2-4afe-9e0d-c2bbbe773dd0"
FORCE_DATA_CHAR_UUID = "9a88d682-8df2-4afe-9e0d-c2bbbe773dd0"  # notify
TARE_CHAR_UUID = "9a88d683-8df2-4afe-9e0d-c2bbbe773dd0"  # write 0x01 (the app tares through the mode instead)
WEIGHT_SERVICE_UUID = "467a8516-6e39-11eb-9439-0242ac130002"
DEVICE_MODE_CHAR_UUID = "467a8517-6e39-11eb-9439-0242ac130002"  # write: a Mode byte
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_CHAR_UUID = "00002a19-0000-1000-8000-00805f9b34fb"

KG_PER_LB = 0.45359237
NEWTONS_PER_LB = KG_PER_LB * STANDARD_GRAVITY
SAMPLE_LEN = 3
HEADER_LEN = 2
MAX_SAMPLE_VALUE = 255 * 32768 + 255 * 256 + 255
MAX_ENCODABLE_VALUE = 255 * 32768 + 32767  # with b1 < 128 every value has one encoding


class Mode(IntEnum):
    STREAM = 0x04
    TARE = 0x05
    QUICK_START = 0x06  # streams only while the force is above the threshold: not used
    IDLE = 0x07


class ForceBoardProtocolError(Exception):
    """Bytes that are not a Force Board force notification."""


def decode_notification(data: bytes | bytearray | memoryview) -> np.ndarray:
    """The samples of one force notification, in pounds (float64).

    Raises ForceBoardProtocolError when the header is missing or the bytes do
    not hold the number of samples the header declares (a truncated frame is
    refused whole: without timestamps, a partial frame cannot be placed in time
    any better than a lost one).
    """
    raw = bytes(data)
    if len(raw) < HEADER_LEN:
        raise ForceBoardProtocolError(f"notification of {len(raw)} bytes is shorter than its 2-byte sample count")
    count = int.from_bytes(raw[:HEADER_LEN], "big")
    body = raw[HEADER_LEN:]
    if count == 0:
        raise ForceBoardProtocolError("notification declares 0 samples")
    if len(body) != count * SAMPLE_LEN:
        raise ForceBoardProtocolError(f"notification declares {count} samples ({count * SAMPLE_LEN} bytes) but carries {len(body)} bytes")
    b = np.frombuffer(body, dtype=np.uint8).reshape(count, SAMPLE_LEN).astype(np.int64)
    return (b[:, 0] * 32768 + b[:, 1] * 256 + b[:, 2]).astype(np.float64)


def encode_notification(lbs: np.ndarray | list[float]) -> bytes:
    """A force notification for whole pounds (rounded, clipped to the 3-byte range; for the virtual board and tests)."""
    values = np.clip(np.rint(np.asarray(lbs, dtype=np.float64)), 0, MAX_ENCODABLE_VALUE).astype(np.int64)
    if values.ndim != 1 or not 1 <= values.size <= 0xFFFF:
        raise ForceBoardProtocolError("a notification carries 1..65535 samples in a one-dimensional array")
    out = bytearray(values.size.to_bytes(2, "big"))
    for v in values.tolist():
        # invert b0*32768 + b1*256 + b2 with b1 < 128, the representation the formula's overlap allows uniquely
        b0, rest = divmod(v, 32768)
        b1, b2 = divmod(rest, 256)
        out += bytes([b0, b1, b2])
    return bytes(out)


def encode_mode(mode: int) -> bytes:
    if not 0 <= int(mode) <= 0xFF:
        raise ForceBoardProtocolError(f"mode {mode} does not fit u8")
    return bytes([int(mode)])
