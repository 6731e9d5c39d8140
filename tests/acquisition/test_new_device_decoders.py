"""Decoders of the WH-C06 advertisement and the Force Board notification: golden
bytes from the public protocol descriptions (anchors.md 2.2, 2.3), the host time
line, and fuzzing (only the app's protocol errors escape the protocol functions;
the stream decoders never raise)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorapp.acquisition import forceboard_protocol as fp
from sensorapp.acquisition import progressor_protocol as pp
from sensorapp.acquisition import whc06_protocol as wp
from sensorapp.acquisition.forceboard_stream import ForceBoardStreamDecoder
from sensorapp.acquisition.progressor_stream import ProgressorStreamDecoder
from sensorapp.acquisition.whc06_stream import Whc06StreamDecoder
from sensorapp.devices.registry import classify

G = pp.STANDARD_GRAVITY

# 17 bytes after company id 0x0100: weight 0x04D2 = 1234 -> 12.34 at [10:12], status 0x11 (stable, kg) at [14]
WHC06_GOLDEN = bytes.fromhex("00112233445566778899" "04d2" "0000" "11" "0000")


def test_whc06_golden_bytes() -> None:
    r = wp.decode_payload(WHC06_GOLDEN)
    assert (r.weight, r.unit, r.stable) == (12.34, wp.Unit.KG, True)
    assert r.force_n == pytest.approx(12.34 * G)
    lb = wp.decode_payload(WHC06_GOLDEN[:14] + b"\x02" + WHC06_GOLDEN[15:])
    assert not lb.stable and lb.force_n == pytest.approx(12.34 * 0.45359237 * G)
    with pytest.raises(wp.Whc06ProtocolError, match="cannot be converted"):
        _ = wp.decode_payload(WHC06_GOLDEN[:14] + b"\x13" + WHC06_GOLDEN[15:]).force_n  # stones: refused, not guessed
    assert wp.encode_payload(12.34, wp.Unit.KG, True, header=WHC06_GOLDEN[:10]) == WHC06_GOLDEN


def test_whc06_classified_by_its_payload_not_the_name_alone() -> None:
    kind = classify(None, [], {wp.COMPANY_ID: WHC06_GOLDEN})
    assert kind is not None and kind.key == "whc06"
    assert classify("IF_B7", [], {wp.COMPANY_ID: WHC06_GOLDEN[:12]}) is None  # a look-alike with another layout
    assert classify("IF_B7", [], {0x004C: WHC06_GOLDEN}) is None
    assert classify("Crimpdeq", []).key == "progressor"  # type: ignore[union-attr]
    assert classify("Force Board 12", []).key == "forceboard"  # type: ignore[union-attr]


def test_forceboard_golden_bytes() -> None:
    # count 2 (u16 BE), then 3-byte samples: 0x00 0x00 0x2A = 42 lbs; 0x01 0x01 0x01 = 32768 + 256 + 1
    lbs = fp.decode_notification(bytes.fromhex("0002" "00002a" "010101"))
    assert lbs.tolist() == [42.0, 33025.0]
    assert fp.encode_notification([42, 33025]) == bytes.fromhex("0002" "00002a" "010101")
    with pytest.raises(fp.ForceBoardProtocolError, match="declares 3 samples"):
        fp.decode_notification(bytes.fromhex("0003" "00002a" "010101"))


def test_forceboard_stream_in_newtons_on_the_host_clock() -> None:
    dec = ForceBoardStreamDecoder(nominal_rate_hz=40.0)
    blocks = [dec.decode(fp.encode_notification([10, 10, 11, 11]), 0.1 * (k + 1)) for k in range(50)]
    t = np.concatenate([b.t_s for b in blocks if b is not None])
    f = np.concatenate([b.force_n for b in blocks if b is not None])
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    assert np.diff(t) == pytest.approx(0.025, abs=0.002)
    assert f[:4] == pytest.approx(np.array([10, 10, 11, 11]) * 0.45359237 * G)
    gap_block = dec.decode(fp.encode_notification([10, 10, 10, 10]), 5.0 + 1.0)  # 9 notifications (0.9 s) missing
    assert gap_block is not None and gap_block.gap_before_s == pytest.approx(0.9, abs=0.01)
    assert gap_block.lost_packets_before == 9 and dec.stats.gaps[-1].cause == "packet loss"


def test_whc06_stream_keeps_equal_readings_and_drops_one_event_seen_twice() -> None:
    dec = Whc06StreamDecoder()
    data = {wp.COMPANY_ID: WHC06_GOLDEN}
    times = [0.125 * k for k in range(40)]
    blocks = [dec.decode(data, t) for t in times]
    assert all(b is not None for b in blocks)  # a steady hold repeats the reading: kept
    assert dec.decode(data, times[-1] + 0.005) is None and dec.stats.duplicate_packets == 1
    t = np.concatenate([b.t_s for b in blocks if b is not None])
    assert np.diff(t) == pytest.approx(0.125, abs=0.01)
    dec.link_lost()
    b = dec.decode(data, times[-1] + 3.0)
    assert b is not None and b.gap_before_s == pytest.approx(2.875, abs=0.05) and dec.stats.gaps[-1].cause == "link loss"


def test_the_progressor_decoder_takes_a_crimpdeq_single_sample_frame() -> None:
    dec = ProgressorStreamDecoder()
    got = [dec.decode(pp.encode_weights(np.array([1.5]), np.array([12_500 * k])), 0.0125 * k) for k in range(1, 30)]
    assert all(b is not None and len(b) == 1 for b in got)
    assert dec.stats.gaps == [] and dec.stats.malformed_packets == 0


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40))
def test_whc06_fuzz(payload: bytes) -> None:
    try:
        r = wp.decode_payload(payload)
        _ = r.force_n
    except wp.Whc06ProtocolError:
        pass
    dec = Whc06StreamDecoder()
    block = dec.decode({wp.COMPANY_ID: payload}, 1.0)
    assert block is None or (len(block) == 1 and np.isfinite(block.force_n).all())


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=80))
def test_forceboard_fuzz(data: bytes) -> None:
    try:
        lbs = fp.decode_notification(data)
        assert lbs.size >= 1 and np.all(lbs >= 0)
    except fp.ForceBoardProtocolError:
        pass
    dec = ForceBoardStreamDecoder()
    for k in range(3):
        block = dec.decode(data, 0.1 * k)
        assert block is None or (np.isfinite(block.force_n).all() and np.all(np.diff(block.t_s) > 0))
