"""Reading a samples CSV and ``sensorapp analyze`` of it, as ratios to ``np.loadtxt`` (issue 11, item 2).

    python benchmarks/csv_analyze.py             # 1 h at 1 kHz; exits 1 if a target is missed
    python benchmarks/csv_analyze.py --hours 8   # 28.8 M samples: the laptop case (needs ~2.5 GB of disk)
    python benchmarks/csv_analyze.py --keep DIR  # keep the generated CSV in DIR (reused if there)

Writes a realistic session (the synthetic virtual patient, 18 sets of 2 x 7 reps per hour,
1 % packet loss, both sides labelled) with the app's own writer, then measures in the same run,
``--repeat`` times interleaved (medians), on a warm page cache:

* reference: ``np.loadtxt`` of the time and force columns, in this process;
* the reader: ``read_samples_csv`` in this process, and the table's bytes per sample;
* ``sensorapp analyze FILE`` end to end as a subprocess (start-up, read, analysis, report):
  wall time, and peak RSS above the RSS of ``sensorapp analyze --help`` (the same imports, no work)
  (``/usr/bin/time -f %M`` gives each child's own peak);
* ``sensorapp record --replay FILE --speed 1e6 --no-store`` as a subprocess (read, replay through the
  live path, CSV written again).

Targets: analyze end to end <= 1.0 x loadtxt; <= 40 bytes per sample above start-up; the table
<= 20 bytes per sample; replay <= 1.5 x analyze.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sensorapp.simulation.synthetic import BeltProfile, PatientProfile, SessionScript, record  # noqa: E402
from sensorapp.storage.samples_csv import SampleTable, read_samples_csv, write_samples_csv  # noqa: E402

TARGET_ANALYZE_RATIO = 1.0
TARGET_BYTES_ABOVE_STARTUP = 40.0
TARGET_TABLE_BYTES = 20.0
TARGET_REPLAY_RATIO = 1.5


def make_csv(path: Path, hours: float) -> int:
    n = round(3_600_000 * hours)
    if path.exists():
        return n
    sets = max(1, round(18 * hours))
    script = SessionScript.generate(2024, PatientProfile(), BeltProfile(), sets=sets)
    rec = record(script, 1000.0, 1, packet_samples=20, loss_prob=0.01)
    write_samples_csv(path, rec.t_s[:n], rec.force_n[:n], rec.side[:n])
    return min(n, rec.t_s.size)


def child(argv: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in bytes and exit code of one child process.

    The peak comes from /usr/bin/time when there is one: a child started straight from this
    process inherits its (large) high-water mark on Linux, one started by ``time`` does not.
    """
    time_bin = Path("/usr/bin/time")
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        cmd = [str(time_bin), "-f", "%M", "-o", rss_file.name, *argv] if time_bin.exists() else argv
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
        if time_bin.exists():
            lines = [line for line in rss_file.read().splitlines() if line.strip().isdigit()]
            return wall, int(lines[-1]) * 1024, code
    return wall, usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024), code


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="folder to keep (and reuse) the generated CSV in")
    ap.add_argument("--no-replay", action="store_true", help="skip the replay measurement")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"session_{args.hours:g}h_1khz.csv"
        t0 = time.perf_counter()
        n = make_csv(path, args.hours)
        print(f"{path.name}: {n} samples, {path.stat().st_size / 1e6:.0f} MB (made in {time.perf_counter() - t0:.0f} s)")
        py = sys.executable
        startup_cmd = [py, "-m", "sensorapp", "analyze", "--help"]  # the same command's imports, no work
        analyze_cmd = [py, "-m", "sensorapp", "analyze", str(path)]
        replay_cmd = [py, "-m", "sensorapp", "record", "--replay", str(path), "--speed", "1e6",
                      "--no-store", "--quiet", "--out", str(Path(tmp) / "replayed.csv")]
        loadtxt_s, reader_s, analyze_s, replay_s, above = [], [], [], [], []
        table_bytes = 0.0
        for _ in range(args.repeat):
            loadtxt_s.append(timed(lambda: np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1))))
            start = time.perf_counter()
            table: SampleTable = read_samples_csv(path)
            reader_s.append(time.perf_counter() - start)
            table_bytes = sum(a.nbytes for a in (table.t_s, table.force_n, table.side_codes) if a is not None) / n
            del table
            _, base_rss, _ = child(startup_cmd)
            wall, rss, code = child(analyze_cmd)
            if code != 0:
                print(f"sensorapp analyze failed with exit code {code}")
                return 1
            analyze_s.append(wall)
            above.append((rss - base_rss) / n)
            if not args.no_replay:
                wall, _, code = child(replay_cmd)
                if code != 0:
                    print(f"sensorapp record --replay failed with exit code {code}")
                    return 1
                replay_s.append(wall)

    ref = statistics.median(loadtxt_s)
    rows = [
        ("np.loadtxt (reference)", ref, 1.0, ""),
        ("read_samples_csv", statistics.median(reader_s), statistics.median(reader_s) / ref, ""),
        ("sensorapp analyze, end to end", statistics.median(analyze_s), statistics.median(analyze_s) / ref, ""),
    ]
    if replay_s:
        rows.append(("record --replay --speed 1e6", statistics.median(replay_s), statistics.median(replay_s) / ref, ""))
    print(f"{'':34}{'median s':>10}{'x loadtxt':>11}")
    for name, s, ratio, _ in rows:
        print(f"{name:34}{s:10.2f}{ratio:11.2f}")
    checks = [
        ("analyze end to end / loadtxt", statistics.median(analyze_s) / ref, TARGET_ANALYZE_RATIO, ""),
        ("analyze peak RSS above start-up, B/sample", statistics.median(above), TARGET_BYTES_ABOVE_STARTUP, ""),
        ("table, B/sample", table_bytes, TARGET_TABLE_BYTES, ""),
    ]
    if replay_s:
        checks.append(("replay / analyze", statistics.median(replay_s) / statistics.median(analyze_s), TARGET_REPLAY_RATIO, ""))
    failed = False
    for name, value, target, _ in checks:
        ok = value <= target
        failed |= not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {value:.2f} (target <= {target:g})")
    print(f"(all runs: loadtxt {', '.join(f'{s:.2f}' for s in loadtxt_s)}; analyze {', '.join(f'{s:.2f}' for s in analyze_s)}"
          + (f"; replay {', '.join(f'{s:.2f}' for s in replay_s)}" if replay_s else "") + ")")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
