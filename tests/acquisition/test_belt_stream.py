"""The belt stream decoder: clock unwrap, loss accounting, duplicates, calibration."""

from __future__ import annotations

import numpy as np
import pytest

from calibration import LinearCalibration
from firmware_protocol import StreamFlags, StreamPacket, UnsupportedVersionError, encode_stream_packet
from sensorapp.acquisition.belt_stream import BeltStreamDecoder

CAL = LinearCalibration(zero_counts=1000.0, newtons_per_count=0.01)


def packet(seq: int, t0_us: int, n: int = 4, period_us: int = 10_000, flags: StreamFlags = StreamFlags.NONE, first: int = 1000) -> bytes:
    counts = np.arange(first, first + n, dtype=np.int32)
    return encode_stream_packet(StreamPacket(seq=seq, t0_us=t0_us % 2**32, period_us=period_us, counts=counts, flags=flags))


def test_times_start_at_zero_and_follow_the_device_clock() -> None:
    dec = BeltStreamDecoder(CAL)
    b1 = dec.decode(packet(0, 5_000_000, flags=StreamFlags.STREAM_START), received_at=0.0)
    b2 = dec.decode(packet(1, 5_040_000), received_at=0.04)
    assert b1 is not None and b2 is not None
    np.testing.assert_allclose(b1.t_s, [0.0, 0.01, 0.02, 0.03])
    np.testing.assert_allclose(b2.t_s, [0.04, 0.05, 0.06, 0.07])
    np.testing.assert_allclose(b1.force_n, (np.arange(1000, 1004) - 1000) * 0.01)
    assert dec.stats.gaps == [] and dec.stats.lost_packets == 0


def test_clock_wrap_at_2_32_keeps_time_increasing() -> None:
    dec = BeltStreamDecoder(CAL)
    t0 = 2**32 - 20_000
    times = []
    for i in range(4):
        b = dec.decode(packet(i, t0 + i * 40_000), received_at=i * 0.04)
        assert b is not None
        times.append(b.t_s)
    t = np.concatenate(times)
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(np.diff(t), 0.01, atol=1e-9)
    assert dec.stats.gaps == []


def test_lost_packets_become_a_gap_never_filled_in() -> None:
    dec = BeltStreamDecoder(CAL)
    dec.decode(packet(0, 0), received_at=0.0)
    b = dec.decode(packet(3, 3 * 40_000), received_at=0.12)  # packets 1 and 2 lost
    assert b is not None
    assert b.lost_packets_before == 2
    assert b.gap_before_s == pytest.approx(0.08)
    assert dec.stats.lost_packets == 2
    assert dec.stats.lost_samples_est == 8
    (gap,) = dec.stats.gaps
    assert gap.t_s == pytest.approx(0.04) and gap.duration_s == pytest.approx(0.08) and gap.cause == "packet loss"
    assert dec.stats.samples == 8  # nothing invented


def test_sequence_wrap_is_not_a_loss() -> None:
    dec = BeltStreamDecoder(CAL)
    dec.decode(packet(65535, 0), received_at=0.0)
    dec.decode(packet(0, 40_000), received_at=0.04)
    assert dec.stats.lost_packets == 0 and dec.stats.gaps == []


def test_duplicate_packet_is_dropped() -> None:
    dec = BeltStreamDecoder(CAL)
    raw = packet(7, 1_000_000)
    assert dec.decode(raw) is not None
    assert dec.decode(raw) is None
    assert dec.stats.duplicate_packets == 1 and dec.stats.samples == 4


def test_malformed_packets_are_counted_not_raised() -> None:
    dec = BeltStreamDecoder(CAL)
    assert dec.decode(b"\x01\x00") is None
    assert dec.decode(packet(0, 0)[:-1]) is None
    assert dec.stats.malformed_packets == 2
    assert dec.last_error


def test_unknown_protocol_version_is_raised() -> None:
    dec = BeltStreamDecoder(CAL)
    raw = bytearray(packet(0, 0))
    raw[0] = 9
    with pytest.raises(UnsupportedVersionError):
        dec.decode(bytes(raw))


def test_link_loss_gap_is_labelled_and_measured_on_device_clock() -> None:
    dec = BeltStreamDecoder(CAL)
    dec.decode(packet(40, 10_000_000), received_at=10.0)
    dec.link_lost()
    b = dec.decode(packet(0, 13_000_000, flags=StreamFlags.STREAM_START), received_at=13.2)
    assert b is not None
    assert b.gap_before_s == pytest.approx(3.0 - 0.04)
    assert dec.stats.gaps[-1].cause == "link loss"
    assert dec.stats.lost_packets == 0  # a new stream restarts seq; the gap is from time


def test_long_outage_across_a_wrap_uses_the_host_clock() -> None:
    dec = BeltStreamDecoder(CAL)
    dec.decode(packet(0, 1_000_000), received_at=0.0)
    dec.link_lost()
    # 80 minutes later: the u32 clock wrapped once (71.6 min); raw time looks earlier.
    later_us = 1_040_000 + 80 * 60 * 10**6
    b = dec.decode(packet(0, later_us, flags=StreamFlags.STREAM_START), received_at=80 * 60.0)
    assert b is not None
    assert b.t_s[0] == pytest.approx(later_us / 1e6 - 1.0, abs=1e-6)


def test_rebooted_belt_clock_going_back_is_reanchored() -> None:
    dec = BeltStreamDecoder(CAL)
    dec.decode(packet(0, 50_000_000), received_at=100.0)
    dec.link_lost()
    b = dec.decode(packet(0, 2_000_000, flags=StreamFlags.STREAM_START), received_at=105.0)
    assert b is not None
    assert b.t_s[0] > 0.04  # time continues forward
    assert b.t_s[0] == pytest.approx(0.04 + 5.0, abs=0.05)


def test_calibration_change_applies_to_next_packet() -> None:
    dec = BeltStreamDecoder(CAL)
    a = dec.decode(packet(0, 0, first=1500))
    dec.calibration = CAL.with_zero(1500.0)
    b = dec.decode(packet(1, 40_000, first=1500))
    assert a is not None and b is not None
    assert a.force_n[0] == pytest.approx(5.0) and b.force_n[0] == pytest.approx(0.0)


def test_after_reanchoring_following_packets_continue_smoothly() -> None:
    dec = BeltStreamDecoder(CAL)
    dec.decode(packet(0, 50_000_000), received_at=100.0)
    dec.link_lost()
    b1 = dec.decode(packet(0, 2_000_000, flags=StreamFlags.STREAM_START), received_at=105.0)
    b2 = dec.decode(packet(1, 2_040_000), received_at=105.04)
    assert b1 is not None and b2 is not None
    assert b2.t_s[0] == pytest.approx(b1.t_s[-1] + 0.01)
    assert len(dec.stats.gaps) == 1
