"""LSL latency: device time mapped onto LSL's clock -> an inlet's receive time, end to end.

    python benchmarks/lsl_latency.py [--duration 30] [--rate 100]

Runs the product path in a subprocess, ``sensorapp record --simulate --lsl --lsl-wait 30
--duration S --rate HZ --no-store`` (the simulated belt through bleak's backend, the decoder,
the calibration, the CSV writer, the LSL outlet), and in this process an inlet that resolves the
``Force`` stream by its source_id, pulls every sample with ``pull_sample`` and stamps its receive
time with ``local_clock()``. Latency per sample = receive time - the sample's LSL timestamp (its
device time mapped onto LSL's clock). It includes the wait inside a BLE notification (the newest
sample of a packet anchors the mapping), the asyncio loop, the push and the loopback transport.

Also reports the samples received against the CSV's rows (target: equal) and the markers.
Exits 1 if any sample is missing. The latency has no gate: it is a figure for the docs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SERIAL = "GMB-0001E240"  # the simulated belt's serial: the stream's source_id


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--rate", type=int, default=100)
    args = ap.parse_args()
    from sensorapp.interop.lsl import load_pylsl

    pylsl = load_pylsl()  # with the app's quiet liblsl config unless the user has one

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "x.csv"
        cmd = [sys.executable, "-m", "sensorapp", "record", "--simulate", "--lsl", "--lsl-wait", "30",
               "--duration", str(args.duration), "--rate", str(args.rate), "--out", str(out), "--no-store", "--quiet"]
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "SENSORAPP_DATA_DIR": tmp}, stderr=subprocess.PIPE, text=True)
        found = pylsl.resolve_byprop("source_id", SERIAL, 1, 60.0)
        if not found:
            proc.kill()
            print("no Force stream found", file=sys.stderr)
            return 1
        markers_found = pylsl.resolve_byprop("source_id", SERIAL + "-markers", 1, 10.0)
        inlet = pylsl.StreamInlet(found[0], max_buflen=600, recover=False)
        inlet.open_stream(30.0)
        markers: list[str] = []
        if markers_found:
            marker_inlet = pylsl.StreamInlet(markers_found[0], recover=False)
            marker_inlet.open_stream(30.0)

            def pull_markers() -> None:
                try:
                    while True:
                        m, _ = marker_inlet.pull_sample(timeout=1.0)
                        if m:
                            markers.append(m[0])
                except pylsl.util.LostError:
                    pass

            threading.Thread(target=pull_markers, daemon=True).start()
        latencies: list[float] = []
        try:
            while True:
                sample, stamp = inlet.pull_sample(timeout=1.0)
                if sample is not None:
                    latencies.append(pylsl.local_clock() - stamp)
        except pylsl.util.LostError:
            pass
        _, err = proc.communicate(timeout=120)
        rows = sum(1 for _ in out.open()) - 1 if out.exists() else 0
    lat_ms = 1000.0 * np.asarray(latencies)
    print(f"samples received {lat_ms.size} / CSV rows {rows}; markers {len(markers)} ({', '.join(sorted(set(markers)))})")
    if lat_ms.size:
        p50, p99, mx = np.percentile(lat_ms, 50), np.percentile(lat_ms, 99), lat_ms.max()
        print(f"latency device time (mapped) -> inlet receive: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {mx:.1f} ms, min {lat_ms.min():.1f} ms")
    if proc.returncode != 0:
        print(err.strip().splitlines()[-1] if err.strip() else f"record exited {proc.returncode}", file=sys.stderr)
        return 1
    return 0 if lat_ms.size == rows and rows > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
