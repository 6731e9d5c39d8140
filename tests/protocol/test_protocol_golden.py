"""The Python codec against every golden vector: decode gives the key=values
(or the expected error), encode reproduces the bytes."""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest
from protocol_golden import GOLDEN_PATH, VECTORS, Vector, of_kind

from firmware_protocol import codec
from firmware_protocol.codec import (
    BeltCalibration,
    BeltState,
    DeviceInfo,
    ErrorReason,
    ProtocolError,
    Response,
    Status,
    StatusReport,
    StreamPacket,
    TareResult,
    UnsupportedVersionError,
)


def f32_bits(x: float) -> bytes:
    return struct.pack("<f", x)


def status_value(text: str) -> int:
    return Status[text] if text in Status.__members__ else int(text, 0)


def expect_calibration(cal: BeltCalibration, v: Vector) -> None:
    assert cal.zero_counts == v.int("zero_counts")
    assert f32_bits(cal.newtons_per_count) == f32_bits(float(v.kv["newtons_per_count"]))
    assert cal.calibrated_at_unix == v.int("calibrated_at_unix")
    assert f32_bits(cal.linearity_error_n) == f32_bits(float(v.kv["linearity_error_n"]))


def calibration_from(v: Vector) -> BeltCalibration:
    return BeltCalibration(
        v.int("zero_counts"), float(v.kv["newtons_per_count"]), v.int("calibrated_at_unix"), float(v.kv["linearity_error_n"])
    )


@pytest.mark.parametrize("v", of_kind("stream"), ids=str)
def test_stream_vector(v: Vector) -> None:
    counts = [int(c) for c in v.kv["counts"].split(",")]
    for buf in (v.data, bytearray(v.data), memoryview(v.data)):
        p = codec.decode_stream_packet(buf)
        assert p.version == v.int("version")
        assert int(p.flags) == v.int("flags")
        assert p.seq == v.int("seq")
        assert p.t0_us == v.int("t0_us")
        assert p.period_us == v.int("period_us")
        assert p.n_samples == v.int("n") == len(counts)
        assert p.counts.dtype == np.int32
        assert p.counts.tolist() == counts
    encoded = codec.encode_stream_packet(
        StreamPacket(
            seq=v.int("seq"),
            t0_us=v.int("t0_us"),
            period_us=v.int("period_us"),
            counts=np.array(counts, dtype=np.int32),
            flags=codec.StreamFlags(v.int("flags")),
            version=v.int("version"),
        )
    )
    assert encoded == v.data


def test_decoded_counts_do_not_alias_a_mutable_buffer() -> None:
    v = next(x for x in of_kind("stream") if x.int("n") > 8)
    small = next(x for x in of_kind("stream") if x.int("n") == 3)
    for vec in (v, small):
        buf = bytearray(vec.data)
        p = codec.decode_stream_packet(buf)
        before = p.counts.copy()
        buf[11:] = bytes(len(buf) - 11)
        assert np.array_equal(p.counts, before)


@pytest.mark.parametrize("v", of_kind("command"), ids=str)
def test_command_vector(v: Vector) -> None:
    cmd = codec.decode_command(v.data)
    assert cmd.opcode == v.int("opcode")
    expected = Status[v.kv["status"]]
    assert codec.check_command(cmd) == expected
    if expected != Status.SUCCESS:
        return
    op = cmd.opcode
    if op == codec.Opcode.START_STREAM:
        assert codec.decode_u16_param(cmd) == v.int("rate_hz")
        rebuilt = codec.start_stream_command(v.int("rate_hz"))
    elif op == codec.Opcode.TARE:
        assert codec.decode_u16_param(cmd) == v.int("window_ms")
        rebuilt = codec.tare_command(v.int("window_ms"))
    elif op == codec.Opcode.SET_CALIBRATION:
        expect_calibration(BeltCalibration.decode(cmd.payload), v)
        rebuilt = codec.set_calibration_command(calibration_from(v))
    else:
        rebuilt = codec.simple_command(codec.Opcode(op))
    assert codec.encode_command(rebuilt) == v.data


@pytest.mark.parametrize("v", of_kind("response"), ids=str)
def test_response_vector(v: Vector) -> None:
    r = codec.decode_response(v.data)
    assert r.opcode == v.int("opcode")
    assert r.status == status_value(v.kv["status"])
    typed = codec.parse_response_payload(r)
    payload = b""
    if r.status == Status.SUCCESS and r.opcode == codec.Opcode.TARE:
        assert isinstance(typed, TareResult)
        assert (typed.zero_counts, typed.n_samples, typed.spread_counts) == (v.int("zero_counts"), v.int("n_samples"), v.int("spread_counts"))
        payload = typed.encode()
    elif r.status == Status.SUCCESS and r.opcode == codec.Opcode.GET_CALIBRATION:
        assert isinstance(typed, BeltCalibration)
        expect_calibration(typed, v)
        payload = calibration_from(v).encode()
    elif r.status == Status.SUCCESS and r.opcode == codec.Opcode.GET_INFO:
        assert isinstance(typed, DeviceInfo)
        assert typed.protocol_version == v.int("protocol_version")
        assert typed.model_id == v.int("model_id")
        assert typed.firmware_text == v.kv["firmware"]
        assert typed.serial == v.int("serial")
        payload = typed.encode()
    else:
        assert typed is None
    if r.status in Status._value2member_map_:
        assert r.describe().endswith(codec.STATUS_TEXT[r.status])
    else:
        assert f"unknown status 0x{r.status:02x}" in r.describe()
    assert codec.encode_response(Response(v.int("opcode"), status_value(v.kv["status"]), payload)) == v.data[: len(v.data) - v.extra()]


@pytest.mark.parametrize("v", of_kind("status"), ids=str)
def test_status_vector(v: Vector) -> None:
    s = StatusReport.decode(v.data)
    assert s.version == v.int("version")
    assert s.battery_pct == v.int("battery_pct")
    assert s.state == BeltState[v.kv["state"]]
    assert int(s.error_flags) == v.int("error_flags")
    assert s.rate_hz == v.int("rate_hz")
    rebuilt = StatusReport(v.int("battery_pct"), BeltState[v.kv["state"]], codec.ErrorFlags(v.int("error_flags")), v.int("rate_hz"))
    assert rebuilt.encode() == v.data[: len(v.data) - v.extra()]


DECODERS = {
    "stream": codec.decode_stream_packet,
    "command": codec.decode_command,
    "response": lambda data: codec.parse_response_payload(codec.decode_response(data)),
    "status": StatusReport.decode,
}


@pytest.mark.parametrize("v", of_kind("malformed"), ids=str)
def test_malformed_vector(v: Vector) -> None:
    with pytest.raises(ProtocolError) as info:
        DECODERS[v.kv["decoder"]](v.data)
    assert info.value.reason == ErrorReason(v.kv["error"])
    assert isinstance(info.value, UnsupportedVersionError) == (v.kv["error"] == "BAD_VERSION")


def test_vectors_cover_the_protocol() -> None:
    """The file exercises every opcode, status, flag, state, error reason and both MTU sizes."""
    streams = of_kind("stream")
    flags = 0
    for v in streams:
        flags |= v.int("flags")
    assert flags & 0x07 == 0x07 and flags & 0xF8, "every flag bit, reserved ones too"
    sizes = {len(v.data) for v in streams}
    assert {14, 20, 242, 512} <= sizes, "1 sample, MTU 23 (3 samples), MTU 247 (77), the 512-byte maximum"
    all_counts = [int(c) for v in streams for c in v.kv["counts"].split(",")]
    assert min(all_counts) == codec.COUNTS_MIN and max(all_counts) == codec.COUNTS_MAX
    assert {0, 65535} <= {v.int("seq") for v in streams}
    assert max(v.int("t0_us") for v in streams) == codec.U32_WRAP - 1
    ok_commands = {v.int("opcode") for v in of_kind("command") if v.kv["status"] == "SUCCESS"}
    assert ok_commands == set(codec.Opcode)
    assert {v.kv["status"] for v in of_kind("command")} == {"SUCCESS", "UNKNOWN_OPCODE", "INVALID_LENGTH", "INVALID_PARAMETER"}
    ok_responses = {v.int("opcode") for v in of_kind("response") if v.kv["status"] == "SUCCESS"}
    assert ok_responses == set(codec.Opcode)
    assert {s.name for s in Status} <= {v.kv["status"] for v in of_kind("response")}
    assert {s.name for s in BeltState} == {v.kv["state"] for v in of_kind("status")}
    assert {r.value for r in ErrorReason} == {v.kv["error"] for v in of_kind("malformed")}
    assert {"stream", "command", "response", "status"} == {v.kv["decoder"] for v in of_kind("malformed")}
    assert len(VECTORS) >= 140
    assert len({v.name for v in VECTORS}) == len(VECTORS), "names are unique"


def test_file_matches_its_generator() -> None:
    """golden_vectors.txt is exactly what make_golden_vectors.py writes (no hand edits drift)."""
    gen = GOLDEN_PATH.parents[1] / "tests" / "protocol" / "make_golden_vectors.py"
    out = subprocess.run([sys.executable, str(gen)], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout == GOLDEN_PATH.read_text(encoding="ascii")
