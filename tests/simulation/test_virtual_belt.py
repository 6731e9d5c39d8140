"""The virtual belt answers exactly as the spec says a belt must."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_protocol import codec, gatt
from firmware_protocol.codec import (
    Command,
    Opcode,
    Status,
    StreamFlags,
    decode_response,
    decode_stream_packet,
    encode_command,
)
from sensorapp.simulation.virtual_belt import VirtualBelt, VirtualBeltConfig


def belt(**cfg: object) -> VirtualBelt:
    b = VirtualBelt(VirtualBeltConfig(**cfg), force_fn=lambda t: np.full(np.shape(t), 50.0))  # type: ignore[arg-type]
    b.connect(0)
    return b


def replies(out: list[tuple[str, bytes]]) -> list[codec.Response]:
    return [decode_response(v) for u, v in out if u == gatt.CONTROL_POINT_CHAR_UUID]


def packets(out: list[tuple[str, bytes]]) -> list[codec.StreamPacket]:
    return [decode_stream_packet(v) for u, v in out if u == gatt.FORCE_STREAM_CHAR_UUID]


def send(b: VirtualBelt, cmd: Command, now_us: int = 0) -> codec.Response:
    (resp,) = replies(b.write_control(encode_command(cmd), now_us))
    return resp


def test_reply_echoes_opcode_and_carries_status() -> None:
    b = belt()
    resp = send(b, Command(Opcode.GET_INFO))
    assert resp.opcode == Opcode.GET_INFO and resp.status == Status.SUCCESS
    info = codec.DeviceInfo.decode(resp.payload)
    assert info.serial == b.config.serial and info.protocol_version == codec.PROTOCOL_VERSION


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"\x42", Status.UNKNOWN_OPCODE),
        (b"\x01\xe8", Status.INVALID_LENGTH),
        (b"\x02\x00", Status.INVALID_LENGTH),
        (b"\x01\x05\x00", Status.INVALID_PARAMETER),  # 5 Hz
        (b"\x01\xe9\x03", Status.INVALID_PARAMETER),  # 1001 Hz
        (b"\x03\xe7\x03", Status.INVALID_PARAMETER),  # tare window 999 ms
    ],
)
def test_error_statuses(raw: bytes, status: Status) -> None:
    (resp,) = replies(belt().write_control(raw, 0))
    assert resp.opcode == raw[0] and resp.status == status


def test_busy_while_taring_then_tare_reply_with_rest_level() -> None:
    b = belt()
    assert replies(b.write_control(encode_command(codec.tare_command(1000)), 0)) == []  # reply comes later
    assert send(b, codec.start_stream_command(100), 500_000).status == Status.BUSY
    (resp,) = replies(b.advance(1_000_000))
    assert resp.opcode == Opcode.TARE and resp.ok
    result = codec.TareResult.decode(resp.payload)
    expected = b.config.true_zero_counts + 50.0 / b.gain
    assert result.zero_counts == pytest.approx(expected, abs=5)
    assert result.n_samples == 100
    assert send(b, codec.start_stream_command(100), 1_100_000).ok


def test_stream_rate_batching_and_flags_at_default_mtu() -> None:
    b = belt(att_mtu=23)
    assert send(b, codec.start_stream_command(1000)).ok
    # First sample one period after START; at the notify tick 1_001_000 us every
    # sample taken so far (indices 0..1000) has been sent, none invented.
    pk = packets(b.advance(1_001_000))
    assert all(p.n_samples <= 3 for p in pk) and pk[1].n_samples == 3
    assert sum(p.n_samples for p in pk) == 1001
    assert pk[0].flags & StreamFlags.STREAM_START and not pk[1].flags & StreamFlags.STREAM_START
    assert [p.seq for p in pk] == list(range(len(pk)))
    t = np.concatenate([p.t0_us + np.arange(p.n_samples) * p.period_us for p in pk])
    assert np.all(np.diff(t) == 1000)


def test_large_mtu_packets_fill_up_to_the_notify_interval() -> None:
    b = belt(att_mtu=247)
    send(b, codec.start_stream_command(1000))
    pk = packets(b.advance(2_000_000))
    assert max(p.n_samples for p in pk) <= 77
    assert np.median([p.n_samples for p in pk]) == 20  # 20 ms notify interval at 1 kHz


def test_output_does_not_depend_on_how_time_is_chopped() -> None:
    a, c = belt(seed=3, packet_loss=0.1), belt(seed=3, packet_loss=0.1)
    send(a, codec.start_stream_command(200))
    send(c, codec.start_stream_command(200))
    whole = a.advance(3_000_000)
    parts = []
    for now in range(7_919, 3_000_000, 7_919):
        parts += c.advance(now)
    parts += c.advance(3_000_000)
    stream = gatt.FORCE_STREAM_CHAR_UUID
    assert [v for u, v in whole if u == stream] == [v for u, v in parts if u == stream]
    assert len([1 for u, _ in whole if u == stream]) > 100


def test_packet_loss_skips_sequence_numbers() -> None:
    b = belt(packet_loss=0.2, seed=5)
    send(b, codec.start_stream_command(100))
    seqs = [p.seq for p in packets(b.advance(20_000_000))]
    missing = (seqs[-1] + 1) - len(seqs)
    assert 0.1 < missing / (seqs[-1] + 1) < 0.3


def test_saturation_sets_the_flag_and_status_overload() -> None:
    b = VirtualBelt(VirtualBeltConfig(), force_fn=lambda t: np.full(np.shape(t), 1e5))
    b.connect(0)
    send(b, codec.start_stream_command(100))
    pk = packets(b.advance(200_000))
    assert all(p.flags & StreamFlags.SATURATED for p in pk)
    assert all(int(p.counts.max()) == codec.COUNTS_MAX for p in pk)
    assert b.status().error_flags & codec.ErrorFlags.OVERLOAD


def test_disconnect_stops_the_stream() -> None:
    b = belt()
    send(b, codec.start_stream_command(100))
    b.disconnect(100_000)
    assert b.state == codec.BeltState.IDLE and packets(b.advance(1_000_000)) == []


def test_clock_offset_wraps_the_u32_timestamp() -> None:
    b = belt(boot_offset_us=2**32 - 50_000)
    send(b, codec.start_stream_command(100))
    t0s = [p.t0_us for p in packets(b.advance(200_000))]
    assert t0s[0] > 2**32 - 50_000 and min(t0s) < 100_000  # wrapped


def test_set_and_get_calibration() -> None:
    b = belt()
    cal = codec.BeltCalibration(1234, 0.0005, 1_800_000_000, 0.3).as_sent()
    assert send(b, Command(Opcode.SET_CALIBRATION, cal.encode())).ok
    assert codec.BeltCalibration.decode(send(b, Command(Opcode.GET_CALIBRATION)).payload) == cal
