"""Property tests: every message kind round-trips, and no input makes a decoder
raise anything but ProtocolError."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firmware_protocol import codec
from firmware_protocol.codec import (
    BeltCalibration,
    BeltState,
    Command,
    DeviceInfo,
    ErrorFlags,
    ProtocolError,
    Response,
    StatusReport,
    StreamFlags,
    StreamPacket,
    TareResult,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
int24 = st.integers(codec.COUNTS_MIN, codec.COUNTS_MAX)
# Mostly packet sizes that occur (1..20 samples, 77), sometimes anything up to the 167 maximum.
n_samples = st.one_of(st.integers(1, 20), st.just(77), st.integers(1, codec.MAX_SAMPLES))
f32_positive = st.floats(min_value=2.0**-100, max_value=2.0**100, width=32, allow_nan=False, allow_infinity=False)
f32_nonneg = st.floats(min_value=0.0, max_value=2.0**100, width=32, allow_nan=False, allow_infinity=False)


@st.composite
def stream_packets(draw: st.DrawFn) -> StreamPacket:
    n = draw(n_samples)
    counts = np.array(draw(st.lists(int24, min_size=n, max_size=n)), dtype=np.int32)
    return StreamPacket(
        seq=draw(u16),
        t0_us=draw(u32),
        period_us=draw(st.integers(codec.MIN_PERIOD_US, codec.MAX_PERIOD_US)),
        counts=counts,
        flags=StreamFlags(draw(u8)),
    )


calibrations = st.builds(BeltCalibration, int24, f32_positive, u32, f32_nonneg)


# ------------------------------------------------------------------ round trips


@FAST
@given(stream_packets())
def test_stream_packet_round_trip(packet: StreamPacket) -> None:
    data = codec.encode_stream_packet(packet)
    assert len(data) == codec.STREAM_HEADER_LEN + 3 * packet.n_samples
    decoded = codec.decode_stream_packet(data)
    assert decoded == packet
    assert decoded.counts.dtype == np.int32
    assert codec.decode_stream_packet(bytearray(data)) == packet
    assert codec.decode_stream_packet(memoryview(data)) == packet


@FAST
@given(st.integers(codec.MIN_RATE_HZ, codec.MAX_RATE_HZ), st.integers(codec.MIN_TARE_WINDOW_MS, codec.MAX_TARE_WINDOW_MS))
def test_parameter_commands_round_trip(rate_hz: int, window_ms: int) -> None:
    for cmd, value in ((codec.start_stream_command(rate_hz), rate_hz), (codec.tare_command(window_ms), window_ms)):
        decoded = codec.decode_command(codec.encode_command(cmd))
        assert decoded == cmd
        assert codec.check_command(decoded) == codec.Status.SUCCESS
        assert codec.decode_u16_param(decoded) == value


@FAST
@given(calibrations)
def test_calibration_round_trip(cal: BeltCalibration) -> None:
    cmd = codec.decode_command(codec.encode_command(codec.set_calibration_command(cal)))
    assert codec.check_command(cmd) == codec.Status.SUCCESS
    assert BeltCalibration.decode(cmd.payload) == cal.as_sent() == cal  # the strategy draws float32 values
    reply = codec.decode_response(codec.encode_response(Response(codec.Opcode.GET_CALIBRATION, 0, cal.encode())))
    assert codec.parse_response_payload(reply) == cal


@FAST
@given(st.integers(0, 0xFF).filter(lambda op: op != codec.RESPONSE_CODE), st.binary(max_size=codec.MAX_COMMAND_LEN - 1))
def test_any_command_round_trip(opcode: int, payload: bytes) -> None:
    cmd = Command(opcode, payload)
    assert codec.decode_command(codec.encode_command(cmd)) == cmd


@FAST
@given(u8, u8, st.binary(max_size=codec.MAX_RESPONSE_LEN - 3))
def test_any_response_round_trip(opcode: int, status: int, payload: bytes) -> None:
    r = Response(opcode, status, payload)
    assert codec.decode_response(codec.encode_response(r)) == r


@FAST
@given(st.builds(TareResult, int24, st.integers(1, 0xFFFF), u16))
def test_tare_result_round_trip(result: TareResult) -> None:
    reply = codec.decode_response(codec.encode_response(Response(codec.Opcode.TARE, 0, result.encode())))
    assert codec.parse_response_payload(reply) == result


@FAST
@given(st.builds(DeviceInfo, st.just(codec.PROTOCOL_VERSION), u8, st.tuples(u8, u8, u8), u32))
def test_device_info_round_trip(info: DeviceInfo) -> None:
    reply = codec.decode_response(codec.encode_response(Response(codec.Opcode.GET_INFO, 0, info.encode())))
    assert codec.parse_response_payload(reply) == info
    assert info.serial_text == f"GMB-{info.serial:08X}"


@FAST
@given(
    st.builds(
        StatusReport,
        st.integers(0, 100),
        st.sampled_from(BeltState),
        st.builds(ErrorFlags, u16),
        st.one_of(st.just(0), st.integers(codec.MIN_RATE_HZ, codec.MAX_RATE_HZ)),
    )
)
def test_status_round_trip(report: StatusReport) -> None:
    assert StatusReport.decode(report.encode()) == report


# ------------------------------------------------------------------ decoders never crash

ALL_DECODERS = {
    "stream": codec.decode_stream_packet,
    "command": lambda b: codec.check_command(codec.decode_command(b)),
    "response": lambda b: codec.parse_response_payload(codec.decode_response(b)),
    "status": StatusReport.decode,
    "calibration": BeltCalibration.decode,
    "tare": TareResult.decode,
    "info": DeviceInfo.decode,
}


def only_protocol_errors(data: bytes) -> None:
    for name, decode in ALL_DECODERS.items():
        for buf in (data, bytearray(data), memoryview(data)):
            try:
                decode(buf)
            except ProtocolError as exc:
                assert isinstance(exc.reason, codec.ErrorReason), name
            # anything else propagates and fails the test


# Plain random bytes rarely pass the first check (version 1, or 0x80 for replies): bias the first byte.
arbitrary_bytes = st.one_of(
    st.binary(max_size=600),
    st.binary(max_size=40).map(lambda b: b"\x01" + b),
    st.binary(max_size=40).map(lambda b: b"\x80" + b),
    st.binary(max_size=20).map(lambda b: b"\x80\x04\x00" + b),
)


@settings(max_examples=400, deadline=None)
@given(arbitrary_bytes)
@example(b"")
@example(b"\x01")
@example(b"\x80")
@example(bytes(520))
@example(b"\x01" * 515)
def test_arbitrary_bytes_raise_only_protocol_error(data: bytes) -> None:
    only_protocol_errors(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid message of some kind, then byte flips, truncation or extension."""
    base = draw(
        st.one_of(
            stream_packets().map(codec.encode_stream_packet),
            calibrations.map(lambda c: codec.encode_command(codec.set_calibration_command(c))),
            calibrations.map(lambda c: codec.encode_response(Response(codec.Opcode.GET_CALIBRATION, 0, c.encode()))),
            st.sampled_from([bytes.fromhex("800300c7cfffff64002500"), bytes.fromhex("800600010102030000a2b301"), bytes.fromhex("01570100006400")]),
        )
    )
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 2))
        if op == 0 and data:
            data[draw(st.integers(0, len(data) - 1))] = draw(u8)
        elif op == 1:
            del data[draw(st.integers(0, len(data))) :]
        else:
            data += draw(st.binary(min_size=1, max_size=6))
    return bytes(data)


@settings(max_examples=400, deadline=None)
@given(mutated())
def test_mutated_messages_raise_only_protocol_error(data: bytes) -> None:
    only_protocol_errors(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(mutated(), st.binary(min_size=14, max_size=40)))
def test_whatever_decodes_reencodes_identically(data: bytes) -> None:
    """The decoders lose nothing: accepted bytes come back unchanged from the encoders."""
    try:
        packet = codec.decode_stream_packet(data)
    except ProtocolError:
        pass
    else:
        assert codec.encode_stream_packet(packet) == data
    try:
        status = StatusReport.decode(data)
    except ProtocolError:
        pass
    else:
        assert status.encode() == data[: codec.STATUS_LEN]
    try:
        response = codec.decode_response(data)
    except ProtocolError:
        pass
    else:
        assert codec.encode_response(response) == data


# ------------------------------------------------------------------ encoders reject, never crash


@FAST
@given(
    st.one_of(st.integers(), st.floats()),
    st.floats(),
    st.integers(),
    st.floats(),
)
def test_calibration_encode_rejects_only_with_protocol_error(zero: object, gain: float, when: int, lin: float) -> None:
    cal = BeltCalibration(zero, gain, when, lin)  # type: ignore[arg-type]
    try:
        data = cal.encode()
    except ProtocolError:
        return
    back = BeltCalibration.decode(data)
    assert back.zero_counts == int(zero)  # type: ignore[call-overload]
    assert math.isfinite(back.newtons_per_count) and back.newtons_per_count > 0


@FAST
@given(st.integers(-10, 300), st.integers(-2, 6), st.integers(-5, 1200), st.integers(-1, 0x1FFFF))
def test_status_encode_rejects_only_with_protocol_error(battery: int, state: int, rate: int, flags: int) -> None:
    report = StatusReport(battery, state, flags, rate)  # type: ignore[arg-type]
    try:
        data = report.encode()
    except ProtocolError:
        return
    assert StatusReport.decode(data).encode() == data


@FAST
@given(st.integers(-2, 70000), st.integers(-2**33, 2**33), st.integers(0, 200_000), st.lists(st.integers(-2**24, 2**24), max_size=170))
def test_stream_encode_rejects_only_with_protocol_error(seq: int, t0: int, period: int, counts: list[int]) -> None:
    packet = StreamPacket(seq=seq, t0_us=t0, period_us=period, counts=np.array(counts, dtype=np.int64))
    try:
        data = codec.encode_stream_packet(packet)
    except ProtocolError:
        return
    assert codec.decode_stream_packet(data) == packet


# ------------------------------------------------------------------ specific encoder cases


def test_encoders_raise_protocol_error_with_reasons() -> None:
    with pytest.raises(ProtocolError) as e:
        codec.encode_response(Response(codec.Opcode.GET_CALIBRATION, 0, bytes(18)))
    assert e.value.reason == codec.ErrorReason.TOO_LONG
    with pytest.raises(ProtocolError) as e:
        codec.encode_command(Command(codec.Opcode.SET_CALIBRATION, bytes(20)))
    assert e.value.reason == codec.ErrorReason.TOO_LONG
    with pytest.raises(ProtocolError):
        codec.encode_command(Command(codec.RESPONSE_CODE))
    with pytest.raises(ProtocolError):
        codec.encode_command(Command(1, 5))  # type: ignore[arg-type]  # not bytes(5)
    with pytest.raises(ProtocolError):
        BeltCalibration(0, 1e39, 0, 0.0).encode()  # float32 overflow, not OverflowError
    with pytest.raises(ProtocolError):
        BeltCalibration(0, 1e-50, 0, 0.0).encode()  # rounds to 0 in float32
    with pytest.raises(ProtocolError):
        codec.encode_stream_packet(StreamPacket(0, 0, 1000, np.zeros((2, 2), dtype=np.int32)))
    with pytest.raises(ProtocolError) as e:
        codec.encode_stream_packet(StreamPacket(0, 0, 1000, np.zeros(codec.MAX_SAMPLES + 1, dtype=np.int32)))
    assert e.value.reason == codec.ErrorReason.TOO_LONG
    with pytest.raises(ProtocolError):
        TareResult(0, 0, 0).encode()


def test_stream_encoder_accepts_strided_and_wide_counts() -> None:
    counts = np.arange(10, dtype=np.int64)[::2]  # not contiguous, not int32
    data = codec.encode_stream_packet(StreamPacket(1, 2, 1000, counts))
    assert codec.decode_stream_packet(data).counts.tolist() == [0, 2, 4, 6, 8]


def test_max_samples_per_packet() -> None:
    assert codec.max_samples_per_packet(23) == 3
    assert codec.max_samples_per_packet(247) == 77
    assert codec.max_samples_per_packet(517) == codec.MAX_SAMPLES == 167
    with pytest.raises(ProtocolError):
        codec.max_samples_per_packet(22)


def test_response_timeouts() -> None:
    assert codec.response_timeout_s(codec.simple_command(codec.Opcode.GET_INFO)) == 2.0
    assert codec.response_timeout_s(codec.tare_command(3000)) == 5.0


def test_reserved_flag_bits_are_kept_and_ignored() -> None:
    data = bytearray(codec.encode_stream_packet(StreamPacket(0, 0, 1000, np.array([1, 2, 3]), StreamFlags.SATURATED)))
    data[1] |= 0xF8
    packet = codec.decode_stream_packet(bytes(data))
    assert packet.flags & StreamFlags.SATURATED
    assert not packet.flags & StreamFlags.STREAM_START
    assert int(packet.flags) == 0xF9


def test_float32_text_in_vectors_is_exact() -> None:
    # The golden file writes float32 as shortest decimals; reading one as a double
    # then rounding to float32 must land on the same float as strtof would.
    for text in ("0.000596", "0.35", "1e-06", "3.4e+38", "12.5"):
        assert struct.unpack("<f", struct.pack("<f", float(text)))[0] == np.float32(text)
