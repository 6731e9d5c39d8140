"""Sustained sample insert rate of the session store, and what a commit costs the caller.

    python benchmarks/storage_insert.py              # exits 1 below 200 k samples/s
    python benchmarks/storage_insert.py --seconds 600 --target 2e5

1. Throughput: one hour (default) of 1 kHz belt-like samples fed to
   ``SessionRecorder.add_block`` in 20-sample notifications as fast as Python
   can, real clock, commits every 0.5 s with ``synchronous=FULL`` (an fsync
   per commit), then ``flush``. ``finish`` (compaction + analysis) is timed
   separately.
2. Latency: the same recorder paced like a live 1 kHz stream (a fake clock
   advancing 20 ms per notification), timing each ``add_block`` call that
   committed (500 samples each): the pause a GUI thread would see.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from storage_data import BLOCK_SAMPLES, belt_like_recording, record_into

from sensorapp.acquisition.blocks import SampleBlock
from sensorapp.storage.store import SessionStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3600.0, help="length of the recording at 1 kHz (default 3600)")
    parser.add_argument("--target", type=float, default=2e5, help="samples/s below which the exit code is 1")
    parser.add_argument("--dir", type=Path, help="put the store here instead of a temporary folder (same disk as the app's)")
    args = parser.parse_args(argv)

    data = belt_like_recording(args.seconds)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        store = SessionStore.open(Path(tmp) / "throughput")
        recorder, ingest_s = record_into(store, data)
        t0 = time.perf_counter()
        record = recorder.finish()
        finish_s = time.perf_counter() - t0
        rate = len(data) / ingest_s
        print(f"throughput: {len(data):,} samples in {ingest_s:.2f} s = {rate / 1e3:,.0f} k samples/s "
              f"({recorder.commits} commits, {BLOCK_SAMPLES}-sample blocks, synchronous=FULL)")
        print(f"finish (compaction + analysis of {record.rep_count} reps): {finish_s:.2f} s")
        store.close()

        store = SessionStore.open(Path(tmp) / "latency")
        clock = [0.0]
        recorder = store.begin_session(side="left", clock=lambda: clock[0])
        pauses: list[float] = []
        n = min(len(data), 600_000)  # 10 min of live pacing is plenty for percentiles
        loop_started = time.perf_counter()
        for lo in range(0, n, BLOCK_SAMPLES):
            clock[0] += BLOCK_SAMPLES / data.rate_hz
            before = recorder.commits
            t0 = time.perf_counter()
            recorder.add_block(SampleBlock(data.t_s[lo : lo + BLOCK_SAMPLES], data.force_n[lo : lo + BLOCK_SAMPLES]))
            dt = time.perf_counter() - t0
            if recorder.commits != before:
                pauses.append(dt)
        paced_rate = n / (time.perf_counter() - loop_started)
        recorder.finish()
        store.close()
        print(f"throughput with a commit every 500 samples (the live batch size): {paced_rate / 1e3:,.0f} k samples/s")
        p = np.percentile(np.array(pauses) * 1e3, [50, 99, 100])
        print(f"commit pause at live 1 kHz ({len(pauses)} commits of {int(data.rate_hz * 0.5)} samples): "
              f"p50 {p[0]:.2f} ms, p99 {p[1]:.2f} ms, max {p[2]:.2f} ms")
    if rate < args.target:
        print(f"FAIL: {rate:,.0f} samples/s is below the target of {args.target:,.0f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
