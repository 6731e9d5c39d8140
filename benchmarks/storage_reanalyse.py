"""Re-reading and re-analysing a 1 h, 1 kHz session from the store.

    python benchmarks/storage_reanalyse.py           # exits 1 above 1 s for read + analysis
    python benchmarks/storage_reanalyse.py --repeat 5 --target-s 1.0

Records one hour of belt-like samples (both sides) into a fresh store,
closes it, then opens it again (as the History view does) and times, best
of ``--repeat``: ``SessionStore.samples`` (decode every chunk), the signal
layer's ``analyze_recording`` on them (per-sample side labels), and
``summarize``. The page cache is warm (the file was just written), which is
also the usual case for a session reviewed right after it was recorded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from storage_data import belt_like_recording, record_into

from sensorapp.signal import analyze_recording, summarize
from sensorapp.storage.store import SessionStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target-s", type=float, default=1.0, help="read + analysis time above which the exit code is 1")
    args = parser.parse_args(argv)

    data = belt_like_recording(args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore.open(tmp)
        recorder, _ = record_into(store, data)
        session_id = recorder.finish().id
        store.close()

        best = {"read": float("inf"), "analyse": float("inf"), "summarize": float("inf"), "total": float("inf")}
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            store = SessionStore.open(tmp)
            samples = store.samples(session_id)
            t1 = time.perf_counter()
            reps = analyze_recording(samples.t_s, samples.force_n, samples.analysis_side())
            t2 = time.perf_counter()
            summary = summarize(reps)
            t3 = time.perf_counter()
            store.close()
            for key, value in (("read", t1 - t0), ("analyse", t2 - t1), ("summarize", t3 - t2), ("total", t3 - t0)):
                best[key] = min(best[key], value)
        sym = summary.symmetry
        print(f"{len(samples):,} samples, {len(reps)} reps, LSI {sym.lsi_pct:.1f} %" if sym else f"{len(samples):,} samples")
        print(
            f"open + read {best['read'] * 1e3:.0f} ms, analyze_recording {best['analyse'] * 1e3:.0f} ms, "
            f"summarize {best['summarize'] * 1e3:.1f} ms; total {best['total'] * 1e3:.0f} ms (best of {args.repeat})"
        )
    if best["total"] > args.target_s:
        print(f"FAIL: {best['total']:.2f} s is above the target of {args.target_s:.2f} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
