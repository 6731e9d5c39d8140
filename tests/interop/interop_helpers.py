"""Sessions for the interop tests: the virtual patient's two-sided session, fed through a recorder."""

from __future__ import annotations

import numpy as np

from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.storage.records import SessionRecord
from sensorapp.storage.store import SessionStore

DEVICE = {"kind": "simulated", "name": "GMBelt-test", "serial": "GMB-T1", "model": "GMBelt A1", "firmware": "1.0.0"}


def record_session(
    store: SessionStore,
    *,
    patient_id: int | None = None,
    seed: int = 1,
    sides: tuple[str, ...] = ("left", "right"),
    rate_hz: float = 100.0,
    flat: bool = False,
) -> SessionRecord:
    """A stored session: both sides (turn-over half way), one side, or no side label at all (sides=())."""
    vp = VirtualPatient(PatientProfile(seed=seed, reps_per_side=7, rest_s=7.0, turnover_s=8.0))
    t = np.arange(int(vp.duration_s * rate_hz)) / rate_hz
    f = np.full_like(t, 2.0) if flat else vp.force_at(t)
    turn = vp.truth[7].onset_s - 4.0
    if len(sides) == 1:
        keep = t < turn  # the first side's reps only
        t, f = t[keep], f[keep]
    rec = store.begin_session(
        patient_id=patient_id,
        side=sides[0] if sides else None,
        device=DEVICE,
        calibration={"note": "test", "zero_counts": 12.0, "newtons_per_count": 0.001},
    )
    for lo in range(0, t.size, 10):
        if len(sides) == 2 and rec.side == sides[0] and t[lo] >= turn:
            rec.set_side(sides[1])
        rec.add_samples(t[lo : lo + 10], f[lo : lo + 10])
    return rec.finish()
