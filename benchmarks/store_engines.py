"""PostgreSQL against SQLite, measured in the same run: concurrent recorders and the History load.

    python benchmarks/store_engines.py                 # exits 1 if a ratio is above its target
    python benchmarks/store_engines.py --seconds 60 --rounds 3 --days 365

Starts a throwaway PostgreSQL cluster (tests/pg_cluster.py) with fsync on, so that a commit is
durable on both engines (SQLite runs with synchronous=FULL), and alternates the engines ``--rounds``
times (medians of the per-round ratios, as benchmarks/ratio_targets.py does):

* **three recorders at once**: three processes, each with its own store connection, record one
  session of ``--seconds`` of 1 kHz samples in 20-sample notifications as fast as they can, through
  ``SessionRecorder`` (a commit per 0.5 s of device time: 500 samples), then ``finish``. Figures: the
  samples/s of the three together (wall time from the first start to the last finish), and the
  99th percentile of the commit times (the ``add_samples`` calls that committed). 1 kHz x 3 = 3000
  samples/s is what a clinic with three rooms needs.
* **History load** with a clinic's year: ``--patients`` x ``--per-day`` sessions a day for ``--days``
  (20 x 3 x 365 = 21 900 sessions with their reps and summaries; each keeps only a 100-sample stub of
  its samples, which History does not read). Measured: what the History screen does on opening a
  patient (``patients()``, ``sessions(pid)``, ``patient_trend``, ``adherence``) and the list of all
  sessions (``sessions()``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # pg_cluster: the tests' throwaway server
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "storage"))

from pg_cluster import start_cluster
from ratio_targets import Pair, Target, report
from storage_helpers import record_session

from sensorapp.storage.history import adherence, patient_trend
from sensorapp.storage.records import SessionSamples
from sensorapp.storage.store import SessionStore

RATE_HZ = 1000
BLOCK = 20  # samples per notification at 1 kHz and a 20 ms connection interval
RECORDERS = 3
# PostgreSQL / SQLite: time per sample, commit p99, History load. See benchmarks/README.md.
MAX_RATIOS = {"throughput": 4.0, "commit_p99": 6.0, "history_patient": 4.0, "history_all": 4.0}


def _record(data_dir: str, store_url: str | None, seconds: float, seed: int, out: Any) -> None:
    """One recorder process: a session of ``seconds`` at 1 kHz as fast as the store takes it."""
    store = SessionStore.open(data_dir, store_url=store_url)
    try:
        n = int(seconds * RATE_HZ)
        t = np.arange(n) / RATE_HZ
        f = 50 + 40 * np.sin(t * 0.7 + seed) + np.random.default_rng(seed).normal(0, 0.5, n)
        rec = store.begin_session(side="left")
        commit_s: list[float] = []
        started = time.perf_counter()
        for lo in range(0, n, BLOCK):
            before = rec.commits
            t0 = time.perf_counter()
            rec.add_samples(t[lo : lo + BLOCK], f[lo : lo + BLOCK])
            if rec.commits != before:
                commit_s.append(time.perf_counter() - t0)
        record = rec.finish()
        out.put((record.sample_count, started, time.perf_counter(), commit_s))
    finally:
        store.close()


def recorders_round(data_dir: Path, store_url: str | None, seconds: float) -> tuple[float, float]:
    """(samples/s of the three together, commit p99 in s)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_record, args=(str(data_dir), store_url, seconds, k, queue)) for k in range(RECORDERS)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(60)
        if p.exitcode != 0:
            raise RuntimeError(f"a recorder process failed (exit code {p.exitcode})")
    samples = sum(r[0] for r in results)
    wall = max(r[2] for r in results) - min(r[1] for r in results)
    commits = np.concatenate([np.asarray(r[3]) for r in results])
    return samples / wall, float(np.percentile(commits, 99))


def fill_clinic_year(store: SessionStore, patients: int, per_day: int, days: int) -> int:
    """``patients`` x ``per_day`` x ``days`` sessions copied from one real recording; returns one patient's id."""
    template = record_session(store, patient_id=store.add_patient("Template").id, reps_per_side=7)
    reps = store.reps(template.id)
    full = store.samples(template.id)
    stub = SessionSamples(full.t_s[:100], full.force_n[:100], full.side_codes[:100])
    start = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    ids = [store.add_patient(f"Patient {k + 1:02d}", involved_side="left").id for k in range(patients)]
    with store._transaction("fill the benchmark store") as conn:
        for pid in ids:
            for d in range(days):
                for k in range(per_day):
                    at = start + timedelta(days=d, hours=4 * k)
                    store._insert_finished_session(
                        session_uuid=str(uuid.uuid4()), patient_id=pid, protocol=template.protocol,
                        device=template.device, calibration=template.calibration, started_at=at,
                        ended_at=at + timedelta(seconds=template.duration_s), complete=True, end_reason="finished",
                        app_version=template.app_version, notes="", samples=stub, reps=reps,
                        summary=template.summary, analysis=None, conn=conn,
                    )  # fmt: skip
    return ids[0]


def history_patient(store: SessionStore, pid: int) -> None:
    store.patients()
    store.sessions(pid)
    patient_trend(store, pid)
    adherence(store, pid, tz=UTC)


def timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="device seconds each recorder records (1 kHz)")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two engines (medians)")
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--per-day", type=int, default=3)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--history-repeat", type=int, default=5)
    args = parser.parse_args(argv)
    cluster = start_cluster(durable=True)
    rows: dict[str, dict[str, list[float]]] = {k: {"pg": [], "sqlite": []} for k in MAX_RATIOS}
    rates: dict[str, list[float]] = {"pg": [], "sqlite": []}
    fill_s: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                order = ("sqlite", "pg") if r % 2 == 0 else ("pg", "sqlite")
                for engine in order:
                    url = cluster.create_database(f"rec_{r}") if engine == "pg" else None
                    rate, p99 = recorders_round(Path(tmp) / f"rec-{engine}-{r}", url, args.seconds)
                    rates[engine].append(rate)
                    rows["throughput"][engine].append(1.0 / rate)  # seconds per sample: lower is better
                    rows["commit_p99"][engine].append(p99)
            stores = {}
            pids = {}
            for engine in ("sqlite", "pg"):
                url = cluster.create_database("history") if engine == "pg" else None
                store = SessionStore.open(Path(tmp) / f"history-{engine}", store_url=url)
                t0 = time.perf_counter()
                pids[engine] = fill_clinic_year(store, args.patients, args.per_day, args.days)
                fill_s[engine] = time.perf_counter() - t0
                stores[engine] = store
            sessions = len(stores["sqlite"].sessions())
            for r in range(args.history_repeat):
                for engine in (("sqlite", "pg") if r % 2 == 0 else ("pg", "sqlite")):
                    store, pid = stores[engine], pids[engine]
                    rows["history_patient"][engine].append(timed(lambda s=store, p=pid: history_patient(s, p)))
                    rows["history_all"][engine].append(timed(lambda s=store: s.sessions()))
            for store in stores.values():
                store.close()
    finally:
        cluster.stop()
    names = {
        "throughput": (f"{RECORDERS} recorders, time per sample", "samples/s"),
        "commit_p99": ("commit p99", ""),
        "history_patient": (f"History: a patient ({args.days * args.per_day} sess.)", ""),
        "history_all": (f"History: all {sessions} sessions", ""),
    }
    targets = []
    for key, (label, _) in names.items():
        pair = Pair(rows[key]["pg"], rows[key]["sqlite"])
        value = ref = ""
        if key == "throughput":
            value = f"{np.median(rates['pg']) / 1000:.1f} k/s"
            ref = f"{np.median(rates['sqlite']) / 1000:.1f} k/s"
        targets.append(Target(label, pair, max_ratio=MAX_RATIOS[key], reference="SQLite, same run", value=value, reference_value=ref))
    print(f"fill of the clinic year: PostgreSQL {fill_s['pg']:.1f} s, SQLite {fill_s['sqlite']:.1f} s;"
          f" real time needs {RECORDERS * RATE_HZ} samples/s")  # fmt: skip
    return report(targets, title=f"PostgreSQL / SQLite ({args.rounds} rounds of {RECORDERS} x {args.seconds:g} s at 1 kHz)")


if __name__ == "__main__":
    sys.exit(main())
