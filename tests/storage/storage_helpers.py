"""Helpers for the storage tests: sessions from the virtual patient, CLI runs."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import numpy as np

from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.storage.records import SessionRecord
from sensorapp.storage.store import SessionStore


def patient_recording(
    seed: int = 1, rate_hz: float = 100.0, reps_per_side: int = 7, rest_s: float = 7.0
) -> tuple[np.ndarray, np.ndarray, float]:
    """(t_s, force_n, time of the turn-over) of the virtual patient's both-sides session."""
    vp = VirtualPatient(PatientProfile(seed=seed, reps_per_side=reps_per_side, rest_s=rest_s, turnover_s=8.0))
    t = np.arange(int(vp.duration_s * rate_hz)) / rate_hz
    turn = vp.truth[reps_per_side].onset_s - 4.0
    return t, vp.force_at(t), turn


def record_session(
    store: SessionStore,
    *,
    patient_id: int | None = None,
    seed: int = 1,
    rate_hz: float = 100.0,
    reps_per_side: int = 7,
    started_at: datetime | None = None,
    block: int = 10,
    offset_n: float = 0.0,
    prescription: Any = None,
) -> SessionRecord:
    """Feed a whole two-sided session through a recorder in notification-sized blocks, then finish it."""
    t, f, turn = patient_recording(seed, rate_hz, reps_per_side)
    f = f + offset_n
    rec = store.begin_session(
        patient_id=patient_id,
        prescription=prescription,
        side="left",
        started_at=started_at,
        device={"kind": "simulated", "name": "GMBelt-test", "serial": "GMB-T1"},
        calibration={"note": "test", "zero_counts": 12.0, "newtons_per_count": 0.001},
    )
    for lo in range(0, t.size, block):
        if rec.side == "left" and t[lo] >= turn:
            rec.set_side("right")
        rec.add_samples(t[lo : lo + block], f[lo : lo + block])
    return rec.finish()


def utc(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def sensorapp(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sensorapp", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def reopen(store: SessionStore, **kwargs: Any) -> SessionStore:
    """Another connection to the same store, whatever its engine (what a second process or workstation opens)."""
    return SessionStore.open(store.data_dir, store_url=store.location.url, **kwargs)
