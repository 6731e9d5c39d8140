"""Speed of the rep detector (issue 3, section 7).

    .venv/bin/python benchmarks/signal_speed.py [--repeat N] [--profile]

One hour at 1 kHz (3.6 M samples, 18 sets of 2 x 7 reps, 1 % packet loss) from
the synthetic generator. Targets (exit code 1 if one is missed):

* offline ``analyze_recording`` of the 3.6 M samples in <= 0.3 s;
* ``OnlineRepDetector.feed`` at >= 2 M samples/s with 20-sample packets.

Each figure is the best of ``--repeat`` runs (the machine is shared; the best
run is the one least disturbed by other processes); the median is printed too.
``--profile`` adds a cProfile summary of both paths.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sensorapp.signal import OnlineRepDetector, RepCompleted, analyze_recording
from sensorapp.simulation.synthetic import BeltProfile, PatientProfile, SessionScript, record

N_SAMPLES = 3_600_000
PACKET = 20
OFFLINE_TARGET_S = 0.3
ONLINE_TARGET_SPS = 2_000_000


def hour_at_1khz() -> tuple[np.ndarray, np.ndarray, int]:
    script = SessionScript.generate(2024, PatientProfile(), BeltProfile(), sets=18)
    rec = record(script, 1000.0, 1, packet_samples=PACKET, loss_prob=0.01)
    t, f = rec.t_s[:N_SAMPLES], rec.force_n[:N_SAMPLES]
    true_reps = sum(1 for r in script.truth if r.release_s < t[-1] - 2.0)
    return t, f, true_reps


def run_offline(t: np.ndarray, f: np.ndarray) -> tuple[float, int]:
    t0 = time.perf_counter()
    reps = analyze_recording(t, f)
    return time.perf_counter() - t0, len(reps)


def run_online(t: np.ndarray, f: np.ndarray) -> tuple[float, int, list]:
    det = OnlineRepDetector()
    packets = [(t[i : i + PACKET], f[i : i + PACKET]) for i in range(0, t.size, PACKET)]
    reps = []
    t0 = time.perf_counter()
    feed = det.feed
    for ts, fs in packets:
        events = feed(ts, fs)
        if events:
            reps += [e.rep for e in events if isinstance(e, RepCompleted)]
    reps += [e.rep for e in det.flush() if isinstance(e, RepCompleted)]
    return time.perf_counter() - t0, len(reps), reps


def profile(label: str, fn, *args) -> None:  # type: ignore[no-untyped-def]
    pr = cProfile.Profile()
    pr.enable()
    fn(*args)
    pr.disable()
    out = io.StringIO()
    pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(12)
    print(f"\n--- profile: {label} (cProfile adds overhead) ---")
    print("\n".join(line for line in out.getvalue().splitlines()[4:] if line.strip()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)

    t, f, true_reps = hour_at_1khz()
    print(f"Signal speed: {t.size / 1e6:.1f} M samples, {t[-1] - t[0]:.0f} s of device time at 1 kHz, {true_reps} reps\n")
    run_offline(t, f)  # warm-up (imports, page faults)
    offline = [run_offline(t, f) for _ in range(args.repeat)]
    off_times = [o[0] for o in offline]
    online = [run_online(t, f) for _ in range(max(1, args.repeat // 2 + 1))]
    on_rates = [t.size / o[0] for o in online]
    same = online[0][2] == analyze_recording(t, f)

    off_best = min(off_times)
    on_best = max(on_rates)
    rows = [
        ("offline analyze_recording", f"{off_best:.3f} s", f"{statistics.median(off_times):.3f} s", f"<= {OFFLINE_TARGET_S} s", off_best <= OFFLINE_TARGET_S, offline[0][1]),
        ("online feed, 20-sample packets", f"{on_best / 1e6:.2f} M/s", f"{statistics.median(on_rates) / 1e6:.2f} M/s", f">= {ONLINE_TARGET_SPS / 1e6:g} M/s", on_best >= ONLINE_TARGET_SPS, online[0][1]),
    ]
    header = f"{'path':<32}{'best':>11}{'median':>11}{'target':>12}{'reps':>6}  result"
    print(header)
    print("-" * len(header))
    for name, best, med, target, ok, n in rows:
        print(f"{name:<32}{best:>11}{med:>11}{target:>12}{n:>6}  {'ok' if ok else 'MISSED'}")
    print(f"\nonline reps == offline reps: {same}; reps found {offline[0][1]} of {true_reps} completed in the hour")

    if args.profile:
        profile("offline", analyze_recording, t, f)
        profile("online", run_online, t, f)

    failures = [name for name, _, _, _, ok, _ in rows if not ok]
    if not same:
        failures.append("online and offline reps differ")
    if failures:
        print("\nTARGETS MISSED: " + "; ".join(failures))
        return 1
    print("\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
