"""Tare: a new zero from samples taken while the belt is at rest.

Rule: the window must cover at least ``min_window_s`` (1 s by default, never
less) of *device* time, and the belt must be at rest in it: the standard
deviation of the window, in newtons under the current gain, must not exceed
``max_noise_n`` (0.5 N by default, about 50 gf). The belt's own ADC noise is
around 0.01 N, so a leg lying still passes by a wide margin; a patient who
starts pushing, or a leg shifting in the strap, moves the force by newtons
and is refused, rather than baked into every later reading as an offset.

The new zero is the **mean** of the window, not the median. The rest check
has already refused windows with motion or large spikes, so what is left is
noise, for which the mean is the most precise estimate; it also resolves
below one count, whereas the median of integer counts snaps to a half-count
grid, and it matches the belt's own TARE command (mean counts). A spike
small enough to pass the check shifts the mean by at most about
``max_noise_n / sqrt(n)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import TareError
from .model import LinearCalibration, _finite

#: The shortest tare window the app accepts, seconds of device time.
MIN_TARE_WINDOW_S: float = 1.0

#: Default rest threshold: largest standard deviation of a tare window, N.
DEFAULT_MAX_NOISE_N: float = 0.5

# Float sums of sample periods (100 * 0.01) land a hair under 1.0.
_DURATION_SLACK = 1e-9


@dataclass(frozen=True)
class TareResult:
    """The tared calibration and what the window looked like."""

    calibration: LinearCalibration  # the input calibration with the new zero
    zero_counts: float  # mean counts of the window
    offset_n: float  # what the old calibration read at rest: the offset removed, N
    noise_n: float  # standard deviation of the window, N
    spread_n: float  # max - min of the window, N
    duration_s: float  # device time covered: last - first + one sample period
    n_samples: int


def tare(
    t_s: np.ndarray,
    counts: np.ndarray,
    calibration: LinearCalibration,
    *,
    min_window_s: float = MIN_TARE_WINDOW_S,
    max_noise_n: float = DEFAULT_MAX_NOISE_N,
) -> TareResult:
    """Zero the calibration on a window of rest samples (all of them are used).

    ``t_s``: device timestamps in seconds, strictly increasing; ``counts``: the
    raw counts at those times. The window covers ``t_s[-1] - t_s[0]`` plus one
    sample period (each sample stands for one period), so 100 samples at
    100 Hz cover exactly 1 s. Raises ``TareError`` if the window is shorter
    than ``min_window_s``, the belt was not at rest (standard deviation above
    ``max_noise_n``), or the input is malformed.
    """
    min_w = _finite("min_window_s", min_window_s)
    if min_w < MIN_TARE_WINDOW_S:
        raise TareError(f"min_window_s must be at least {MIN_TARE_WINDOW_S} s, got {min_w!r}")
    max_noise = _finite("max_noise_n", max_noise_n)
    if max_noise <= 0:
        raise TareError(f"max_noise_n must be > 0, got {max_noise!r}")

    t = np.asarray(t_s, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if t.ndim != 1 or c.ndim != 1:
        raise TareError("t_s and counts must be 1-D arrays")
    if t.size != c.size:
        raise TareError(f"{t.size} timestamps but {c.size} counts")
    if t.size < 2:
        raise TareError(f"tare needs at least {min_w:g} s of samples, got {t.size} sample(s)")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(c))):
        raise TareError("tare window contains NaN or infinity")
    dt = np.diff(t)
    if np.any(dt <= 0):
        raise TareError("tare timestamps must be strictly increasing (device time)")

    duration = float(t[-1] - t[0] + np.median(dt))
    if duration < min_w * (1.0 - _DURATION_SLACK):
        raise TareError(f"tare window covers {duration:.3f} s of device time; at least {min_w:g} s of rest is needed")

    zero = float(c.mean())
    gain = abs(calibration.newtons_per_count)
    noise_n = float(c.std(ddof=1)) * gain
    spread_n = float(c.max() - c.min()) * gain
    if noise_n > max_noise:
        raise TareError(
            f"belt not at rest during tare: force varied by {noise_n:.2f} N (standard deviation), "
            f"more than {max_noise:g} N; keep the leg still and try again"
        )
    return TareResult(
        calibration=calibration.with_zero(zero),
        zero_counts=zero,
        offset_n=float(calibration.to_newtons(zero)),
        noise_n=noise_n,
        spread_n=spread_n,
        duration_s=duration,
        n_samples=int(c.size),
    )
