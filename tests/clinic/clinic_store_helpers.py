"""Real sessions in a real store for the overview and CLI tests: the virtual patient through a recorder."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.storage.records import SessionRecord
from sensorapp.storage.store import SessionStore

RATE_HZ = 50.0  # enough for plateau and hold; keeps a session at about 0.1 s of CPU


def record_patient_session(
    store: SessionStore,
    patient_id: int,
    started_at: datetime,
    *,
    seed: int = 1,
    asymmetry_pct: float = 3.0,
    strong_plateau_n: float = 90.0,
    pain: tuple[int | None, int | None] = (None, None),
) -> SessionRecord:
    """One two-sided session (7 reps a side, left first) of the virtual patient, stored and analysed."""
    vp = VirtualPatient(
        PatientProfile(seed=seed, asymmetry_pct=asymmetry_pct, strong_plateau_n=strong_plateau_n, turnover_s=8.0)
    )
    t = np.arange(int(vp.duration_s * RATE_HZ)) / RATE_HZ
    force = vp.force_at(t)
    turn = vp.truth[vp.profile.reps_per_side].onset_s - 4.0
    rec = store.begin_session(patient_id=patient_id, side="left", started_at=started_at)
    block = int(RATE_HZ)
    for lo in range(0, t.size, block):
        if rec.side == "left" and t[lo] >= turn:
            rec.set_side("right")
        rec.add_samples(t[lo : lo + block], force[lo : lo + block])
    record = rec.finish()
    if pain != (None, None):
        record = store.set_pain(record.id, before=pain[0], after=pain[1])
    return record
