"""The Tindeq Progressor frames and stream decoder, starting from a real capture.

data/progressor-capture.txt: 46 notifications of a real Progressor's data
point, one Python byte list per line (public data from the open-source
TendonLoader project, copied from shared/data/progressor-capture.txt). The
last notification repeats the one before it byte for byte.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorapp.acquisition import progressor_protocol as pp
from sensorapp.acquisition.progressor_stream import ProgressorStreamDecoder

CAPTURE = Path(__file__).parent / "data" / "progressor-capture.txt"
SHARED_CAPTURE = Path(__file__).resolve().parents[3] / "shared" / "data" / "progressor-capture.txt"
G = 9.80665


def capture() -> list[bytes]:
    return [bytes(ast.literal_eval(line)) for line in CAPTURE.read_text().splitlines() if line.strip()]


def arrival_s(frame: bytes) -> float:
    """When a notification arrived: right after its last sample (+10 ms of radio)."""
    weights = pp.decode_weights(pp.parse_frame(frame).payload)
    return float(weights.us[-1]) / 1e6 + 0.010


def frame(us: list[int] | np.ndarray, kg: list[float] | np.ndarray | None = None) -> bytes:
    us = np.asarray(us)
    return pp.encode_weights(np.full(us.size, 1.0) if kg is None else np.asarray(kg, dtype=float), us)


def decode_all(dec: ProgressorStreamDecoder, frames: list[bytes], arrivals: list[float]) -> tuple[np.ndarray, np.ndarray]:
    blocks = [b for b in (dec.decode(f, received_at=t) for f, t in zip(frames, arrivals, strict=True)) if b is not None]
    return np.concatenate([b.t_s for b in blocks]), np.concatenate([b.force_n for b in blocks])


# ------------------------------------------------------------ conformance


def test_the_capture_is_the_shared_one() -> None:
    if not SHARED_CAPTURE.exists():
        pytest.skip("shared/data is not next to this checkout (a plain clone); the copy in tests/ is used")
    assert CAPTURE.read_bytes() == SHARED_CAPTURE.read_bytes()


def test_real_capture_conformance() -> None:
    frames = capture()
    assert len(frames) == 46
    dec = ProgressorStreamDecoder()
    t, f = decode_all(dec, frames, [arrival_s(x) for x in frames])
    # 44 notifications of 15 samples and 2 of 9, the last of which is a repeat.
    assert len(t) == 44 * 15 + 9 == 669
    assert dec.stats.duplicate_packets == 1 and dec.stats.packets == 45 and dec.stats.samples == 669
    assert dec.stats.malformed_packets == 0 and dec.stats.gaps == []
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    # Delivered rate about 80 Hz: 11.47 ms inside a notification, 22.94 ms between two.
    assert (len(t) - 1) / (t[-1] - t[0]) == pytest.approx(81.3, abs=1.0)
    steps_ms = np.round(np.diff(t) * 1e3, 1)
    assert set(np.unique(steps_ms)) <= {11.3, 11.4, 11.5, 11.6, 22.9, 23.0}
    # Plausible kilograms: rest noise around zero, one pull to about 9.1 kg.
    kg = f / G
    assert -0.05 < kg.min() < 0 and kg.max() == pytest.approx(9.11, abs=0.01)
    assert abs(float(np.median(kg[:50]))) < 0.02
    first = pp.decode_weights(pp.parse_frame(frames[0]).payload)
    assert first.kg[0] == pytest.approx(0.0130, abs=1e-4) and first.us[0] == 54_636  # anchors.md 1.4
    np.testing.assert_allclose(f[:15], first.kg * G)


# ------------------------------------------------------------ frames


@pytest.mark.parametrize("n", [1, 2, 15, pp.MAX_SAMPLES_PER_FRAME])
def test_any_whole_number_of_samples(n: int) -> None:
    us = 1000 + np.arange(n) * 12_500
    kg = np.linspace(-1.5, 20.0, n)
    data = frame(us, kg)
    assert len(data) == 2 + 8 * n and data[1] == 8 * n
    block = ProgressorStreamDecoder().decode(data, received_at=1.0)
    assert block is not None and len(block) == n
    np.testing.assert_allclose(block.force_n, kg.astype(np.float32) * G)
    np.testing.assert_allclose(block.t_s, (us - us[0]) / 1e6)


def test_declared_length_is_clipped_to_what_arrived() -> None:
    full = frame([1000, 13_500, 26_000])
    dec = ProgressorStreamDecoder()
    block = dec.decode(full[:-5], received_at=1.0)  # the last sample lost 5 bytes
    assert block is not None and len(block) == 2
    assert dec.stats.malformed_packets == 1 and "declares 24 payload bytes but 19 arrived" in (dec.last_error or "")


def test_bytes_after_the_declared_length_are_ignored() -> None:
    dec = ProgressorStreamDecoder()
    block = dec.decode(frame([1000, 13_500]) + b"\xff\xff\xff", received_at=1.0)
    assert block is not None and len(block) == 2 and dec.stats.malformed_packets == 0


def test_partial_sample_is_dropped_and_counted() -> None:
    data = bytearray(frame([1000, 13_500]))
    data[1] = 13  # a length that is not a multiple of 8
    dec = ProgressorStreamDecoder()
    block = dec.decode(bytes(data), received_at=1.0)
    assert block is not None and len(block) == 1
    assert dec.stats.malformed_packets == 1 and "5 bytes after the last whole 8-byte sample" in (dec.last_error or "")


def test_implausible_weights_are_dropped() -> None:
    dec = ProgressorStreamDecoder()
    block = dec.decode(frame([1000, 13_500, 26_000, 38_500], [1.0, float("nan"), 5000.0, 2.0]), received_at=1.0)
    assert block is not None
    np.testing.assert_allclose(block.force_n, [1.0 * G, 2.0 * G])
    np.testing.assert_allclose(block.t_s, [0.0, 0.0375])
    assert dec.stats.malformed_packets == 1


@pytest.mark.parametrize("data", [b"", b"\x01", bytes([pp.Tag.COMMAND_RESPONSE, 4, 1, 2, 3, 4]), bytes([pp.Tag.WEIGHT_MEASUREMENT, 0])])
def test_frames_without_weights_give_nothing(data: bytes) -> None:
    dec = ProgressorStreamDecoder()
    assert dec.decode(data, received_at=1.0) is None
    assert dec.stats.samples == 0


def test_replies_are_read_as_answers_to_the_last_command() -> None:
    assert pp.parse_reply(pp.Opcode.GET_BATTERY_VOLTAGE, (3871).to_bytes(4, "little")) == 3871
    assert pp.parse_reply(pp.Opcode.GET_APP_VERSION, b"1.2.4\x00\x00") == "1.2.4"
    assert pp.parse_reply(pp.Opcode.GET_PROGRESSOR_ID, bytes([0x61, 0x3A, 0, 0, 0xED, 0x5E])) == 0x5EED00003A61
    assert pp.format_progressor_id(0x5EED00003A61) == "5EED00003A61"
    with pytest.raises(pp.ProgressorProtocolError, match="battery reply of 2 bytes"):
        pp.parse_reply(pp.Opcode.GET_BATTERY_VOLTAGE, b"\x01\x02")
    with pytest.raises(pp.ProgressorProtocolError, match="has no reply"):
        pp.parse_reply(pp.Opcode.START_WEIGHT_MEAS, b"")


def test_encoding_refuses_what_does_not_fit() -> None:
    with pytest.raises(pp.ProgressorProtocolError, match="1..31 samples"):
        frame(np.arange(32) * 1000)
    with pytest.raises(pp.ProgressorProtocolError, match="does not fit the one-byte length"):
        pp.encode_frame(pp.Tag.COMMAND_RESPONSE, bytes(256))
    with pytest.raises(pp.ProgressorProtocolError, match="shorter than its 2-byte header"):
        pp.parse_frame(b"\x01")


# ------------------------------------------------------------ the device clock


def test_clock_wrap_at_2_32_keeps_time_increasing() -> None:
    dec = ProgressorStreamDecoder()
    start = 2**32 - 100_000
    frames = [frame(start + (np.arange(15) + 16 * k) * 11_467) for k in range(4)]
    t, _ = decode_all(dec, frames, [0.2 * k for k in range(4)])
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(np.diff(t), np.where(np.arange(59) % 15 == 14, 0.022934, 0.011467), atol=1e-9)
    assert dec.stats.gaps == []


def test_restart_is_anchored_on_the_host_clock_and_leaves_a_gap() -> None:
    dec = ProgressorStreamDecoder()
    # Streaming since 0 s; the last sample arrives at host 1.0 s.
    first = frame(54_636 + np.arange(15) * 11_467)
    b1 = dec.decode(first, received_at=1.0)
    assert b1 is not None
    # START again: the device clock starts over; its first notification arrives 2.5 s later.
    dec.stream_started()
    second = frame(54_636 + np.arange(15) * 11_467)  # byte-identical to the first, but a new stream
    b2 = dec.decode(second, received_at=3.5)
    assert b2 is not None
    # The last sample of each notification sits at its arrival on the host time line.
    assert b2.t_s[-1] - b1.t_s[-1] == pytest.approx(2.5)
    (gap,) = dec.stats.gaps
    # Until a step between two notifications has been seen, the nominal 80 Hz period is expected.
    assert gap.cause == "stream restart" and gap.duration_s == pytest.approx(b2.t_s[0] - b1.t_s[-1] - 0.0125)
    assert b2.gap_before_s == pytest.approx(gap.duration_s)
    assert dec.stats.lost_samples_est == 0  # a stopped unit measured nothing


def test_link_loss_gap_counts_as_lost_samples() -> None:
    dec = ProgressorStreamDecoder()
    assert dec.decode(frame(54_636 + np.arange(15) * 11_467), received_at=1.0) is not None
    dec.link_lost()
    dec.stream_started()  # the reconnect restarts the stream: still a link-loss gap
    assert dec.decode(frame(54_636 + np.arange(15) * 11_467), received_at=4.0) is not None
    (gap,) = dec.stats.gaps
    assert gap.cause == "link loss" and 2.5 < gap.duration_s < 3.0
    assert dec.stats.lost_samples_est == round(gap.duration_s * 80)


def test_unannounced_restart_is_detected() -> None:
    dec = ProgressorStreamDecoder()
    t_a, _ = decode_all(dec, [frame(5_000_000 + np.arange(15) * 11_467)], [6.0])
    t_b, _ = decode_all(dec, [frame(54_636 + np.arange(15) * 11_467)], [7.0])  # the clock went back
    assert t_b[0] > t_a[-1] and t_b[-1] - t_a[-1] == pytest.approx(1.0)
    assert [g.cause for g in dec.stats.gaps] == ["stream restart"]


def test_lost_notification_is_a_packet_loss_gap() -> None:
    dec = ProgressorStreamDecoder()
    frames = [frame(54_636 + (np.arange(15) + 16 * k) * 11_467) for k in (0, 1, 3)]  # notification 2 lost
    t, _ = decode_all(dec, frames, [0.2, 0.4, 0.8])
    (gap,) = dec.stats.gaps
    assert gap.cause == "packet loss" and gap.lost_packets == 1
    assert gap.duration_s == pytest.approx(16 * 0.011467, abs=1e-6)  # one notification's worth of slots
    assert dec.stats.lost_samples_est == 15 and dec.stats.lost_packets == 1
    assert np.sum(np.diff(t) > 0.05) == 1


def test_duplicate_is_dropped_by_device_time() -> None:
    dec = ProgressorStreamDecoder()
    a = frame(1000 + np.arange(15) * 11_467)
    b = frame(1000 + (np.arange(15) + 16) * 11_467)
    assert dec.decode(a, received_at=0.2) is not None
    assert dec.decode(b, received_at=0.4) is not None
    assert dec.decode(b, received_at=0.41) is None  # repeated notification
    overlap = frame(1000 + (np.arange(15) + 24) * 11_467)  # half old, half new samples
    block = dec.decode(overlap, received_at=0.5)
    assert block is not None and len(block) == 8
    assert dec.stats.duplicate_packets == 2 and dec.stats.samples == 38


# ------------------------------------------------------------ robustness


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=260), max_size=12), st.lists(st.booleans(), max_size=12))
def test_decoder_never_raises_and_time_never_goes_back(frames: list[bytes], restarts: list[bool]) -> None:
    dec = ProgressorStreamDecoder()
    last = -np.inf
    for i, data in enumerate(frames):
        if i < len(restarts) and restarts[i]:
            dec.stream_started()
        block = dec.decode(bytes([pp.Tag.WEIGHT_MEASUREMENT]) + data, received_at=0.2 * i)
        if block is not None:
            assert len(block) > 0 and np.all(np.isfinite(block.force_n))
            assert block.t_s[0] > last and np.all(np.diff(block.t_s) > 0)
            last = block.t_s[-1]
