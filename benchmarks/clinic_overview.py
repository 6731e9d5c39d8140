"""A patient's flags and progression advice over a year of sessions, as a ratio to reading them.

    python benchmarks/clinic_overview.py            # exits 1 if the ratio is above its target
    python benchmarks/clinic_overview.py --days 365 --per-day 3 --repeat 7

Fills a fresh store with one patient's year of sessions (3 a day: 1095 sessions; six sessions of
the virtual patient recorded for real, the rest copies of their samples, reps and summaries with
their own start times and pain ratings), then alternates (``--repeat`` times, medians):

* measured: ``clinic.overview.patient_overview`` (read the sessions and the prescription, the
  per-session facts, the four flags, the progression rule with its 14-day plateau fit, the
  decisions);
* reference: ``SessionStore.sessions`` for the same patient, the read the overview cannot avoid.

The ratio is what the rules cost on top of the read.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "clinic"))

from clinic_store_helpers import record_patient_session
from ratio_targets import Target, interleaved, report

from sensorapp.clinic.overview import patient_overview
from sensorapp.clinic.prescription import Prescription
from sensorapp.storage.store import SessionStore

MAX_RATIO = 3.0  # see benchmarks/README.md for the measured ratios
TEMPLATES = 6


def fill(store: SessionStore, days: int, per_day: int) -> int:
    """One patient with ``days`` x ``per_day`` sessions; returns the patient's id."""
    start = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    p = store.add_patient("Benchmark", involved_side="left")
    store.set_prescription(p.id, Prescription(sessions_per_day=per_day, start_date=start.date()))
    templates = [
        record_patient_session(store, p.id, start + timedelta(hours=4 * k), seed=100 + k, asymmetry_pct=4.0, pain=(1, 2))
        for k in range(TEMPLATES)
    ]
    parts = [(t, store.samples(t.id), store.reps(t.id)) for t in templates]
    with store._transaction("fill the benchmark store") as conn:
        n = 0
        for d in range(days):
            for k in range(per_day):
                n += 1
                if n <= TEMPLATES:
                    continue
                record, samples, reps = parts[n % TEMPLATES]
                at = start + timedelta(days=d, hours=4 * k)
                sid = store._insert_finished_session(
                    session_uuid=str(uuid.uuid4()),
                    patient_id=p.id,
                    protocol=record.protocol,
                    device=record.device,
                    calibration=record.calibration,
                    started_at=at,
                    ended_at=at + timedelta(seconds=record.duration_s),
                    complete=True,
                    end_reason="finished",
                    app_version=record.app_version,
                    notes="",
                    samples=samples,
                    reps=reps,
                    summary=record.summary,
                    analysis=None,
                    conn=conn,
                )
                conn.execute("UPDATE sessions SET pain_before = 1, pain_after = ? WHERE id = ?", (n % 3, sid))
    return p.id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=7, help="alternating runs of code and reference (median)")
    parser.add_argument("--max-ratio", type=float, default=MAX_RATIO, help="measured / reference above which the exit code is 1")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore.open(Path(tmp) / "data")
        try:
            pid = fill(store, args.days, args.per_day)
            patient = store.patient(pid)
            today = (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=args.days)).date()
            sessions = len(store.sessions(pid))
            overview = patient_overview(store, patient, today=today, tz=UTC)
            pair = interleaved(
                lambda: patient_overview(store, patient, today=today, tz=UTC), lambda: store.sessions(pid), repeat=args.repeat
            )
        finally:
            store.close()
    flags = ", ".join(f.code for f in overview.flags) or "none"
    advice = "pending" if overview.advice is not None else "none"
    target = Target(
        f"overview, {sessions} sessions",
        pair,
        max_ratio=args.max_ratio,
        reference="SessionStore.sessions (the read)",
        notes=[f"flags: {flags}; advice: {advice}"],
    )
    return report([target], title=f"clinic overview of one patient: {args.days} days x {args.per_day} sessions")


if __name__ == "__main__":
    sys.exit(main())
