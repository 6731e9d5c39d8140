"""Shared by the storage benchmarks: one hour of belt-like 1 kHz data, and a store holding it.

The force is the virtual patient doing ~236 holds (left for the first half,
right for the second), put through the belt's own quantisation: 24-bit
counts turned into newtons by a LinearCalibration, exactly as the belt
stream decoder does. Time is built per 20-sample notification from a
microsecond clock, as ``acquisition.belt_stream`` does. So the bytes compress
like real recordings, not like a smooth synthetic curve.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calibration import LinearCalibration
from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.storage.store import SessionStore

BLOCK_SAMPLES = 20  # 1 kHz at the belt's 20 ms notification interval


@dataclass(frozen=True)
class BeltLikeRecording:
    t_s: np.ndarray
    force_n: np.ndarray
    right_from: int  # index of the first right-side sample
    rate_hz: float

    def __len__(self) -> int:
        return int(self.t_s.size)


def belt_like_recording(seconds: float = 3600.0, rate_hz: float = 1000.0, seed: int = 1) -> BeltLikeRecording:
    reps = max(1, round(seconds / 15.2 / 2))
    patient = VirtualPatient(PatientProfile(seed=seed, reps_per_side=reps))
    n = int(seconds * rate_hz)
    period_us = round(1e6 / rate_hz)
    starts_us = np.arange(0, n, BLOCK_SAMPLES, dtype=np.int64) * period_us
    t = (starts_us[:, None] / 1e6 + np.arange(BLOCK_SAMPLES) * (period_us / 1e6)).reshape(-1)[:n]
    cal = LinearCalibration(zero_counts=8_388_608 * 0.01, newtons_per_count=2.4e-4)
    counts = np.round(cal.to_counts(patient.force_at(t)))
    force = cal.to_newtons(counts)
    right_from = int(np.searchsorted(t, patient.truth[reps].onset_s - 5.0))
    return BeltLikeRecording(t, force, right_from, rate_hz)


def record_into(store: SessionStore, rec_data: BeltLikeRecording, *, clock=time.monotonic):
    """Feed the recording through a SessionRecorder in notification blocks; returns (recorder, seconds)."""
    from sensorapp.acquisition.blocks import SampleBlock

    recorder = store.begin_session(side="left", clock=clock, device={"kind": "benchmark"})
    t, f = rec_data.t_s, rec_data.force_n
    started = time.perf_counter()
    for lo in range(0, len(rec_data), BLOCK_SAMPLES):
        if lo >= rec_data.right_from and recorder.side == "left":
            recorder.set_side("right")
        recorder.add_block(SampleBlock(t[lo : lo + BLOCK_SAMPLES], f[lo : lo + BLOCK_SAMPLES]))
    recorder.flush()
    return recorder, time.perf_counter() - started


def dir_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
