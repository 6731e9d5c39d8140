"""Throughput of firmware_protocol.decode_stream_packet, one notification per call.

    python benchmarks/protocol_decode.py [--target 1e6] [--repeat 5] [--packets 2000]

Decodes a batch of distinct, valid packets (random counts, consecutive seq
and t0) of each size and reports the best of --repeat runs as samples/s and
microseconds per packet. Exits 1 if the MTU-23 (3 samples) or MTU-247
(77 samples) figure is below --target samples/s (default 1 M, the issue's
target); the other sizes are informational.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from firmware_protocol import (
    StreamFlags,
    StreamPacket,
    decode_stream_packet,
    encode_stream_packet,
    max_samples_per_packet,
)

# (label, samples per packet, gated by the target?)
CASES = [
    ("MTU 23", max_samples_per_packet(23), True),  # 3: the default MTU, always full
    ("1 sample", 1, False),  # 10-50 Hz: one sample per 20 ms notify interval
    ("1 kHz / 20 ms", 20, False),  # 1000 Hz at the 20 ms notify interval, MTU >= 74
    ("MTU 247", max_samples_per_packet(247), True),  # 77: a full packet at the preferred MTU
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


def best_time(packets: list[bytes], repeat: int) -> float:
    decode = decode_stream_packet
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for data in packets:
            decode(data)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=1e6, help="minimum samples/s for the MTU 23 and MTU 247 cases")
    ap.add_argument("--repeat", type=int, default=5, help="runs per case; the best counts")
    ap.add_argument("--packets", type=int, default=2000, help="distinct packets decoded per run")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(20260101)
    print(f"decode_stream_packet, Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"{'case':<15} {'samples/pkt':>11} {'bytes':>6} {'us/packet':>10} {'samples/s':>14}")
    failed = []
    for label, n, gated in CASES:
        packets = make_packets(n, args.packets, rng)
        assert decode_stream_packet(packets[1]).counts.size == n
        best_time(packets[:200], 1)  # warm-up
        t = best_time(packets, args.repeat)
        per_packet_us = t / len(packets) * 1e6
        rate = n * len(packets) / t
        mark = ""
        if gated:
            ok = rate >= args.target
            mark = "  ok" if ok else f"  BELOW TARGET {args.target:,.0f}"
            if not ok:
                failed.append(label)
        print(f"{label:<15} {n:>11} {len(packets[0]):>6} {per_packet_us:>10.2f} {rate:>14,.0f}{mark}")
    if failed:
        print(f"FAIL: {', '.join(failed)} below {args.target:,.0f} samples/s", file=sys.stderr)
        return 1
    print(f"target {args.target:,.0f} samples/s met at MTU 23 and MTU 247")
    return 0


if __name__ == "__main__":
    sys.exit(main())
