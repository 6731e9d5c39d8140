"""The WH-C06 / "IF_B7" hanging scale's advertisement: no connection, the
weight is broadcast in manufacturer-specific data.

Facts and sources: shared/research/anchors.md section 2.3 (hangtime
wh-c06.model.ts, TheLastKiwi/Dyna DataCollector.java, grip_gains_companion):

- Manufacturer data under company id 0x0100; 17 payload bytes after the id
  (bleak's ``AdvertisementData.manufacturer_data`` is ``{company_id: payload}``,
  so offsets below are into the payload, as on Android and Web Bluetooth).
- Weight: ``payload[10:12]`` big-endian unsigned, / 100, in the unit the
  scale displays.
- ``payload[14]``: low nibble = unit (1 kg, 2 lb, 3 st, 4 jin), high nibble =
  stable flag.
- About 8 advertisements per second. Nothing in the payload counts readings,
  so a repeated advertisement cannot be told from a new reading of the same
  weight (see sensorapp/acquisition/whc06_stream.py for what that means).

Pure code: the decoder, the registry, the app's source and the virtual scale
all use this one description.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .progressor_protocol import STANDARD_GRAVITY

COMPANY_ID = 0x0100
NAME = "IF_B7"
PAYLOAD_LEN = 17
WEIGHT_OFFSET = 10
STATUS_OFFSET = 14
NOMINAL_RATE_HZ = 8.0  # advertisements per second (not settable)
MAX_DISPLAY_WEIGHT = 0xFFFF / 100  # 655.35 in the display unit

KG_PER_LB = 0.45359237
KG_PER_JIN = 0.5


class Unit(IntEnum):
    KG = 1
    LB = 2
    ST = 3
    JIN = 4


# kg per display unit. Stones are left out on purpose: a scale showing "st"
# may mean stones and pounds, and a force must not depend on guessing.
_KG_PER_UNIT = {Unit.KG: 1.0, Unit.LB: KG_PER_LB, Unit.JIN: KG_PER_JIN}


class Whc06ProtocolError(Exception):
    """Manufacturer data that is not a WH-C06 reading the app can convert."""


@dataclass(frozen=True)
class Reading:
    weight: float  # in ``unit``, as the scale displays it
    unit: int  # the low nibble of the status byte (a Unit for known codes)
    stable: bool

    @property
    def kg(self) -> float:
        try:
            return self.weight * _KG_PER_UNIT[Unit(self.unit)]
        except (KeyError, ValueError):
            raise Whc06ProtocolError(f"unit code {self.unit} cannot be converted to a force (kg, lb and jin can)") from None

    @property
    def force_n(self) -> float:
        return self.kg * STANDARD_GRAVITY


def decode_payload(payload: bytes | bytearray | memoryview) -> Reading:
    """The reading in one advertisement's company-0x0100 payload.

    Raises Whc06ProtocolError for a payload of the wrong length or an unknown unit code.
    """
    data = bytes(payload)
    if len(data) != PAYLOAD_LEN:
        raise Whc06ProtocolError(f"manufacturer data of {len(data)} bytes, a WH-C06 sends {PAYLOAD_LEN}")
    status = data[STATUS_OFFSET]
    unit = status & 0x0F
    if unit not in Unit.__members__.values():
        raise Whc06ProtocolError(f"unit code {unit} in status byte 0x{status:02x} is not one the scale uses (1..4)")
    raw = int.from_bytes(data[WEIGHT_OFFSET : WEIGHT_OFFSET + 2], "big")
    return Reading(weight=raw / 100.0, unit=unit, stable=bool(status >> 4))


def looks_like_whc06(manufacturer_data: dict[int, bytes] | None) -> bool:
    """True when an advertisement carries a plausible WH-C06 payload (company id,
    length and unit code): company 0x0100 is also TomTom's, so the id alone is not enough."""
    if not manufacturer_data or COMPANY_ID not in manufacturer_data:
        return False
    try:
        decode_payload(manufacturer_data[COMPANY_ID])
    except Whc06ProtocolError:
        return False
    return True


def encode_payload(weight: float, unit: int = Unit.KG, stable: bool = False, *, header: bytes = bytes(WEIGHT_OFFSET)) -> bytes:
    """A 17-byte payload (for the virtual scale and tests). ``weight`` is in the
    display unit, rounded to 0.01 and clipped to 0..655.35 (the field is unsigned)."""
    if len(header) != WEIGHT_OFFSET:
        raise Whc06ProtocolError(f"the header before the weight is {WEIGHT_OFFSET} bytes, not {len(header)}")
    if not 0 <= unit <= 0x0F:
        raise Whc06ProtocolError(f"unit code {unit} does not fit a nibble")
    raw = min(0xFFFF, max(0, round(weight * 100)))
    status = ((1 if stable else 0) << 4) | int(unit)
    return bytes(header) + raw.to_bytes(2, "big") + bytes(2) + bytes([status]) + bytes(PAYLOAD_LEN - STATUS_OFFSET - 1)
