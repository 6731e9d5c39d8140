"""Stores with many sessions, seeded fast through the store API (also used by benchmarks/report_render.py).

A session here is a short synthetic recording (seven presses per side as
trapezoids at 20 Hz, a little seeded noise) fed through a real recorder and
analysed by the store on finish, so its reps, summary and LSI are the store's
own: only the virtual patient's slower, richer signal is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from sensorapp.clinic.prescription import Prescription
from sensorapp.storage.records import SessionRecord
from sensorapp.storage.store import SessionStore

RATE_HZ = 20.0
DEVICE = {"kind": "belt", "name": "GMBelt-7F3A", "serial": "GMB-000123", "firmware": "1.4.2", "rate_hz": RATE_HZ}
CALIBRATION = {"zero_counts": 8123.0, "newtons_per_count": 0.0049, "source": "factory", "created_at": "2026-01-15T10:00:00+00:00", "linearity_error_n": 0.21}


def presses(plateaus_n: Sequence[float], holds_s: Sequence[float], *, t0: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid presses (0.8 s ramps, ``holds_s`` at ``plateaus_n``) with 5 s rests, from device time ``t0``."""
    ts: list[np.ndarray] = []
    fs: list[np.ndarray] = []
    t = t0
    for plateau, hold in zip(plateaus_n, holds_s, strict=True):
        seg = np.array([0.0, 3.0, 3.8, 3.8 + hold, 4.6 + hold, 9.6 + hold])
        lvl = np.array([0.0, 0.0, plateau, plateau, 0.0, 0.0])
        n = int(seg[-1] * RATE_HZ)
        tt = np.arange(n) / RATE_HZ
        ts.append(t + tt)
        fs.append(np.interp(tt, seg, lvl) + 2.0 + rng.normal(0.0, 0.25, n))
        t += seg[-1]
    return np.concatenate(ts), np.concatenate(fs)


def seed_session(
    store: SessionStore,
    patient_id: int,
    started_at: datetime,
    *,
    left_n: float,
    right_n: float,
    seed: int,
    reps_per_side: int = 7,
    short_holds: int = 0,
    prescription: Prescription | None = None,
) -> SessionRecord:
    """One two-sided session (left first) through the store's recorder; ``short_holds`` of the right side's reps last 4 s."""
    rng = np.random.default_rng(seed)
    holds_l = [6.5] * reps_per_side
    holds_r = [4.0 if k < short_holds else 6.5 for k in range(reps_per_side)]
    var = rng.normal(1.0, 0.03, 2 * reps_per_side)
    tl, fl = presses([left_n * v for v in var[:reps_per_side]], holds_l, t0=0.0, rng=rng)
    tr, fr = presses([right_n * v for v in var[reps_per_side:]], holds_r, t0=float(tl[-1]) + 10.0, rng=rng)
    # A seeded session is written in one go: no crash to survive, so one commit per side instead of one per 0.5 s.
    rec = store.begin_session(
        patient_id=patient_id, side="left", started_at=started_at, device=DEVICE, calibration=CALIBRATION,
        prescription=prescription, commit_span_s=1e6,
    )
    rec.add_samples(tl, fl)
    rec.set_side("right")
    rec.add_samples(tr, fr)
    return rec.finish()


def seed_period(
    store: SessionStore,
    patient_id: int,
    *,
    days: int,
    per_day: int = 3,
    first_day: datetime = datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
    pain: bool = True,
    left_from_n: float = 60.0,
    left_to_n: float = 85.0,
) -> list[SessionRecord]:
    """``per_day`` sessions a day for ``days`` days; the involved (left) side goes from ``left_from_n`` to ``left_to_n``."""
    prescription = store.prescription(patient_id)
    out = []
    for d in range(days):
        for k in range(per_day):
            i = d * per_day + k
            left = left_from_n + (left_to_n - left_from_n) * d / max(days - 1, 1)
            record = seed_session(
                store, patient_id, first_day + timedelta(days=d, hours=4 * k), left_n=left, right_n=85.0, seed=i, prescription=prescription
            )
            if pain:
                record = store.set_pain(record.id, before=max(0, 5 - d // 7) if k == 0 else 2, after=(i % 3) + 1)
            out.append(record)
    return out
