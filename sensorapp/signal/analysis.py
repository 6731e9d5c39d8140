"""Offline analysis: the online state machine run over a whole recording at once.

There is deliberately no second algorithm here. ``analyze_recording`` hands the
caller's arrays to the same engine as ``OnlineRepDetector`` (as one big
packet), so the reps are identical to what the live display saw, whatever the
packetisation. Zero-lag filtering is used for the metrics in both paths (the
online detector measures a rep once it is over).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .detector import _RepEngine
from .events import RepRejected
from .metrics import Rep
from .params import DetectorParams

SideInput = str | None | np.ndarray


class SignalInputError(ValueError):
    """Samples the analysis cannot use; ``sample_index`` points at the first bad one."""

    def __init__(self, message: str, sample_index: int | None = None) -> None:
        super().__init__(message)
        self.sample_index = sample_index


@dataclass(frozen=True)
class Analysis:
    """Reps and the contractions that were not reps (too short, baseline steps)."""

    reps: list[Rep]
    rejections: list[RepRejected]


def validate_recording(
    t_s: np.ndarray, force_n: np.ndarray, side: SideInput = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Float64 contiguous copies-if-needed, checked: 1-D, equal length, finite, time increasing."""
    t = np.ascontiguousarray(t_s, dtype=np.float64)
    x = np.ascontiguousarray(force_n, dtype=np.float64)
    if t.ndim != 1 or x.ndim != 1:
        raise SignalInputError("t_s and force_n must be 1-D arrays")
    if t.size != x.size:
        raise SignalInputError(f"t_s has {t.size} samples but force_n has {x.size}")
    for name, arr in (("t_s", t), ("force_n", x)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(bad.argmax())
            raise SignalInputError(f"{name} is not finite at sample {i} ({arr[i]!r})", i)
    if t.size > 1:
        step = np.diff(t)
        bad = ~(step > 0)
        if bad.any():
            i = int(bad.argmax()) + 1
            raise SignalInputError(
                f"t_s must increase strictly: sample {i} has {t[i]!r} after {t[i - 1]!r}", i
            )
    labels: np.ndarray | None = None
    if side is not None and not isinstance(side, str):
        # Kept as given: the detector reads a label only at its grid instants and at onsets,
        # so 3.6 M labels are never converted one by one.
        labels = np.asarray(side)
        if labels.shape != t.shape:
            raise SignalInputError(f"side labels have {labels.size} entries for {t.size} samples")
    return t, x, labels


def analyze(
    t_s: np.ndarray,
    force_n: np.ndarray,
    side: SideInput = None,
    params: DetectorParams = DetectorParams(),
) -> Analysis:
    """Reps and rejected contractions of a whole recording."""
    t, x, labels = validate_recording(t_s, force_n, side)
    engine = _RepEngine(params, live=False, side=side if isinstance(side, str) else None)
    if t.size == 0:
        return Analysis([], [])
    engine.load(t, x)
    engine._sides = labels
    engine.run()
    engine.finish()
    return Analysis(list(engine.reps), list(engine.rejections))


def analyze_recording(
    t_s: np.ndarray,
    force_n: np.ndarray,
    side: SideInput = None,
    params: DetectorParams = DetectorParams(),
) -> list[Rep]:
    """The reps of a whole recording, identical to the online detector's.

    ``side``: None, one side for every rep, or per-sample labels
    ("left"/"right"/"" for unknown); a rep takes the label at its onset.
    """
    return analyze(t_s, force_n, side, params).reps
