"""Throughput of firmware_protocol.decode_stream_packet, one notification per call, as a ratio.

    python benchmarks/protocol_decode.py [--max-ratio R] [--repeat 21] [--packets 2000]

Decodes a batch of distinct, valid packets (random counts, consecutive seq
and t0) of each size, alternating with the reference: ``np.frombuffer`` of
the same bytes, one call per packet (the least any decoder of a notification
does: Python call overhead dominates both, so load slows both alike). Prints
us/packet and samples/s (medians) for both and their ratio. Exits 1 if the
MTU-23 (3 samples) ratio is above 15 or the MTU-247 (77 samples) one above 30; the
other sizes are informational. Issue 2's absolute figure (>= 1 M samples/s at
MTU 23) is printed for reference, not gated: it measures the machine too.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from ratio_targets import Target, interleaved, report

from firmware_protocol import (
    StreamFlags,
    StreamPacket,
    decode_stream_packet,
    encode_stream_packet,
    max_samples_per_packet,
)

# (label, samples per packet, max decode / np.frombuffer time per packet, or None: informational).
# Measured 7-9 (MTU 23) and 12-18 (MTU 247) on the busy 2-core container: see benchmarks/README.md.
CASES = [
    ("MTU 23", max_samples_per_packet(23), 15.0),  # 3: the default MTU, always full
    ("1 sample", 1, None),  # 10-50 Hz: one sample per 20 ms notify interval
    ("1 kHz / 20 ms", 20, None),  # 1000 Hz at the 20 ms notify interval, MTU >= 74
    ("MTU 247", max_samples_per_packet(247), 30.0),  # 77: a full packet at the preferred MTU
]


def make_packets(n_samples: int, n_packets: int, rng: np.random.Generator) -> list[bytes]:
    period = 1000
    out = []
    for i in range(n_packets):
        counts = rng.integers(-(1 << 23), 1 << 23, size=n_samples, dtype=np.int32)
        flags = StreamFlags.STREAM_START if i == 0 else StreamFlags.NONE
        packet = StreamPacket(seq=i % 65536, t0_us=(123_456 + i * n_samples * period) % (1 << 32), period_us=period, counts=counts, flags=flags)
        out.append(encode_stream_packet(packet))
    return out


def decode_all(packets: list[bytes]) -> None:
    decode = decode_stream_packet
    for data in packets:
        decode(data)


def frombuffer_all(packets: list[bytes]) -> None:
    frombuffer = np.frombuffer
    u8 = np.uint8
    for data in packets:
        frombuffer(data, u8)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-ratio", type=float, help="one decode / frombuffer ratio for both gated sizes (default: per size, 15 and 30)")
    ap.add_argument("--repeat", type=int, default=21, help="alternating runs per case (median; short runs pair load best)")
    ap.add_argument("--packets", type=int, default=2000, help="distinct packets decoded per run")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(20260101)
    print(f"decode_stream_packet, Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}\n")
    gated: list[Target] = []
    info: list[Target] = []
    for label, n, max_ratio in CASES:
        is_gated = max_ratio is not None
        packets = make_packets(n, args.packets, rng)
        assert decode_stream_packet(packets[1]).counts.size == n
        pair = interleaved(lambda p=packets: decode_all(p), lambda p=packets: frombuffer_all(p), args.repeat)
        per_packet_us = pair.measured_median_s / len(packets) * 1e6
        ref_us = pair.reference_median_s / len(packets) * 1e6
        rate = n * len(packets) / pair.measured_median_s
        target = Target(
            f"{label} ({n} samples, {len(packets[0])} B)",
            pair,
            (args.max_ratio or max_ratio) if max_ratio is not None else float("inf"),
            "np.frombuffer of the same bytes",
            value=f"{per_packet_us:.2f} us",
            reference_value=f"{ref_us:.2f} us",
            notes=[f"{rate / 1e6:.2f} M samples/s"],
        )
        (gated if is_gated else info).append(target)
    code = report(gated, "gated (us per packet):")
    print()
    report(info, "informational (no target):")
    return code


if __name__ == "__main__":
    sys.exit(main())
