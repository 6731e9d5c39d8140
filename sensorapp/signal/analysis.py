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
from .params import MAX_ABS_TIME_S, DetectorParams

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

SIDE_NAMES: tuple[str, ...] = ("", "left", "right")  # uint8 side code -> label (as the store codes it)
_CHECK_BLOCK = 1 << 16  # validation works in blocks: no full-length temporaries


class CodedSides:
    """Per-sample side labels held as uint8 codes (1 byte per sample instead of an 8-byte object).

    The detector only ever reads single labels (``labels[i]``), at grid instants and onsets.
    """

    def __init__(self, codes: np.ndarray) -> None:
        self.codes = codes
        self.shape = codes.shape

    def __getitem__(self, i: int) -> str:
        return SIDE_NAMES[int(self.codes[i])]

    def __len__(self) -> int:
        return int(self.codes.size)


def validate_recording(
    t_s: np.ndarray, force_n: np.ndarray, side: SideInput = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | CodedSides | None]:
    """Float64 contiguous copies-if-needed, checked: 1-D, equal length, finite, time increasing.

    ``side`` may be per-sample labels or uint8 codes (0 unknown, 1 left, 2 right); codes are
    wrapped, not converted. Checks run block by block, so a long recording costs no temporaries.
    """
    t = np.ascontiguousarray(t_s, dtype=np.float64)
    x = np.ascontiguousarray(force_n, dtype=np.float64)
    if t.ndim != 1 or x.ndim != 1:
        raise SignalInputError("t_s and force_n must be 1-D arrays")
    if t.size != x.size:
        raise SignalInputError(f"t_s has {t.size} samples but force_n has {x.size}")
    for lo in range(0, t.size, _CHECK_BLOCK):
        _check_block(t, x, lo, min(lo + _CHECK_BLOCK, t.size))
    labels: np.ndarray | CodedSides | None = None
    if side is not None and not isinstance(side, str):
        arr = np.asarray(side)
        if arr.shape != t.shape:
            raise SignalInputError(f"side labels have {arr.size} entries for {t.size} samples")
        if arr.dtype == np.uint8:
            if arr.size and int(arr.max()) >= len(SIDE_NAMES):
                i = int((arr >= len(SIDE_NAMES)).argmax())
                raise SignalInputError(f"side code {int(arr[i])} at sample {i} is not 0, 1 or 2", i)
            labels = CodedSides(arr)
        else:
            # Kept as given: the detector reads a label only at its grid instants and at onsets,
            # so 3.6 M labels are never converted one by one.
            labels = arr
    return t, x, labels


def _check_block(t: np.ndarray, x: np.ndarray, lo: int, hi: int) -> None:
    for name, arr in (("t_s", t), ("force_n", x)):
        bad = ~np.isfinite(arr[lo:hi])
        if bad.any():
            i = lo + int(bad.argmax())
            raise SignalInputError(f"{name} is not finite at sample {i} ({arr[i]!r})", i)
    far = np.abs(t[lo:hi]) > MAX_ABS_TIME_S
    if far.any():
        i = lo + int(far.argmax())
        raise SignalInputError(f"t_s at sample {i} ({t[i]!r}) is beyond {MAX_ABS_TIME_S:g} s", i)
    start = max(lo - 1, 0)
    step = np.diff(t[start:hi])
    bad = ~(step > 0)
    if bad.any():
        i = start + int(bad.argmax()) + 1
        raise SignalInputError(f"t_s must increase strictly: sample {i} has {t[i]!r} after {t[i - 1]!r}", i)


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
    # the engine only indexes labels[i]; CodedSides answers that like an array of str
    engine._sides = labels  # type: ignore[assignment]
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
    ("left"/"right"/"" for unknown, or uint8 codes 0/1/2); a rep takes the label at its onset.
    """
    return analyze(t_s, force_n, side, params).reps
