"""GATT layout and advertising of the belt (see SPEC.md section 1 and 2).

The custom service uses one 128-bit base; characteristics differ in the
second 16-bit group, as the Bluetooth SIG does for its own base UUID.
"""

from __future__ import annotations

# Custom 128-bit base: 4a1e0000-7b3c-4f5e-9d2a-6c8b0e1f2a3b (randomly generated, version 4).
_BASE = "4a1e{:04x}-7b3c-4f5e-9d2a-6c8b0e1f2a3b"

BELT_SERVICE_UUID = _BASE.format(0x0001)
FORCE_STREAM_CHAR_UUID = _BASE.format(0x0002)  # notify: stream packets
CONTROL_POINT_CHAR_UUID = _BASE.format(0x0003)  # write with response + indicate: commands/replies
STATUS_CHAR_UUID = _BASE.format(0x0004)  # read + notify: battery, state, error flags, rate


def sig_uuid(short: int) -> str:
    """Full 128-bit form of a 16-bit Bluetooth SIG UUID."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


DEVICE_INFORMATION_SERVICE_UUID = sig_uuid(0x180A)
MANUFACTURER_NAME_CHAR_UUID = sig_uuid(0x2A29)
MODEL_NUMBER_CHAR_UUID = sig_uuid(0x2A24)
SERIAL_NUMBER_CHAR_UUID = sig_uuid(0x2A25)
HARDWARE_REVISION_CHAR_UUID = sig_uuid(0x2A27)
FIRMWARE_REVISION_CHAR_UUID = sig_uuid(0x2A26)

BATTERY_SERVICE_UUID = sig_uuid(0x180F)
BATTERY_LEVEL_CHAR_UUID = sig_uuid(0x2A19)  # read + notify, uint8 percent

CCCD_UUID = sig_uuid(0x2902)

# Advertising (SPEC.md): the advertisement carries flags, BELT_SERVICE_UUID in the
# complete list of 128-bit UUIDs (so scans can filter) and the shortened name
# "GMBelt"; the scan response carries the complete name: this prefix and the last
# four hex digits of the serial ("GMBelt-1A2B"), and the TX power.
ADVERTISED_NAME_PREFIX = "GMBelt-"

DEFAULT_ATT_MTU = 23
PREFERRED_ATT_MTU = 247
ATT_NOTIFICATION_OVERHEAD = 3  # opcode + handle


def advertised_name(serial: int) -> str:
    """The advertised local name for a belt serial number."""
    return f"{ADVERTISED_NAME_PREFIX}{serial & 0xFFFF:04X}"


# The belt's GATT table: (service UUID, ((characteristic UUID, properties), ...)).
# Transports that host a virtual belt (the simulator, the fake BlueZ) build from this.
GATT_TABLE: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    (
        BELT_SERVICE_UUID,
        (
            (FORCE_STREAM_CHAR_UUID, ("notify",)),
            (CONTROL_POINT_CHAR_UUID, ("write", "indicate")),
            (STATUS_CHAR_UUID, ("read", "notify")),
        ),
    ),
    (
        DEVICE_INFORMATION_SERVICE_UUID,
        (
            (MANUFACTURER_NAME_CHAR_UUID, ("read",)),
            (MODEL_NUMBER_CHAR_UUID, ("read",)),
            (SERIAL_NUMBER_CHAR_UUID, ("read",)),
            (HARDWARE_REVISION_CHAR_UUID, ("read",)),
            (FIRMWARE_REVISION_CHAR_UUID, ("read",)),
        ),
    ),
    (BATTERY_SERVICE_UUID, ((BATTERY_LEVEL_CHAR_UUID, ("read", "notify")),)),
)
