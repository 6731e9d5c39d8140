"""Small numpy filters used by the detector and the rep metrics.

All of them are order statistics or fixed-order sums, so the same samples
always give bit-identical output whatever the array around them: that is what
lets the online detector and the offline analysis agree exactly.
"""

from __future__ import annotations

import numpy as np


def median3_causal(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """Causal median-of-3 of ``x[a:b]``: y[i] = median(x[i-2], x[i-1], x[i]).

    Removes single-sample spikes (HX711 rail codes, zeros) with one sample of
    latency (research 5.3). Indices below 2 fall back to the raw value, which
    only happens at the very start of a recording.
    """
    if a >= 2:
        x0 = x[a - 2 : b - 2]
        x1 = x[a - 1 : b - 1]
        x2 = x[a:b]
        return np.maximum(np.minimum(x0, x1), np.minimum(np.maximum(x0, x1), x2))
    head = x[a:min(2, b)].copy()
    if b <= 2:
        return head
    return np.concatenate((head, median3_causal(x, 2, b)))


def median3_causal_twice(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """Median-of-3 applied twice (causal, 2 samples of latency), over ``x[a:b]``.

    Also removes two spikes one sample apart (spike, good, spike), which a
    single median-of-3 lets through; used where a peak must not be a glitch.
    """
    lo = max(a - 2, 0)
    d = median3_causal(x, lo, b)
    if a - lo < 2:
        return d[a - lo :]
    d0 = d[:-2]
    d1 = d[1:-1]
    d2 = d[2:]
    return np.maximum(np.minimum(d0, d1), np.minimum(np.maximum(d0, d1), d2))


def median5_centered(x: np.ndarray) -> np.ndarray:
    """Zero-lag median-of-5; the two samples at each end are kept as they are.

    Removes single spikes and pairs of spikes (the offline counterpart of the
    Hampel filter in research 5.3, without its risk of eating real edges: a
    monotone ramp passes unchanged).
    """
    n = x.size
    if n < 5:
        return median3_centered(x)
    y = x.copy()
    a, b, c, d, e = x[:-4], x[1:-3], x[2:-2], x[3:-1], x[4:]
    f = np.maximum(np.minimum(a, b), np.minimum(d, e))
    g = np.minimum(np.maximum(a, b), np.maximum(d, e))
    y[2:-2] = np.maximum(np.minimum(f, g), np.minimum(np.maximum(f, g), c))
    return y


def median3_centered(x: np.ndarray) -> np.ndarray:
    """Zero-lag median-of-3; the two end samples are kept as they are."""
    if x.size < 3:
        return x.copy()
    y = x.copy()
    x0 = x[:-2]
    x1 = x[1:-1]
    x2 = x[2:]
    y[1:-1] = np.maximum(np.minimum(x0, x1), np.minimum(np.maximum(x0, x1), x2))
    return y


def centered_mean(x: np.ndarray, half_width: int) -> np.ndarray:
    """Centred moving average over 2*half_width+1 samples, shrinking at the ends."""
    n = x.size
    if half_width <= 0 or n < 2:
        return x.copy()
    c = np.empty(n + 1)
    c[0] = 0.0
    np.cumsum(x, out=c[1:])
    i = np.arange(n)
    lo = np.maximum(i - half_width, 0)
    hi = np.minimum(i + half_width + 1, n)
    return (c[hi] - c[lo]) / (hi - lo)


def smoothing_half_width(rate_hz: float, cutoff_hz: float, min_filter_rate_hz: float) -> int:
    """Half-width of a double moving average whose -3 dB point is ~cutoff_hz.

    Two passes of an L-sample boxcar give a triangular, zero-phase FIR with its
    -3 dB point near 0.31 * rate / L. No smoothing at or below
    ``min_filter_rate_hz`` (research 5.1: spike removal only at <= 25 Hz).
    """
    if rate_hz <= min_filter_rate_hz or cutoff_hz <= 0:
        return 0
    length = 0.31 * rate_hz / cutoff_hz
    return max(0, round((length - 1.0) / 2.0))


def zero_lag_smooth(x: np.ndarray, half_width: int) -> np.ndarray:
    """Two passes of a centred moving average: a zero-lag triangular low-pass."""
    if half_width <= 0:
        return x.copy()
    return centered_mean(centered_mean(x, half_width), half_width)


def lower_median(values: np.ndarray) -> float:
    """The lower median: an actual sample value, exact whatever the array's layout."""
    k = (values.size - 1) // 2
    return float(np.partition(values, k)[k])


_STEPS = np.arange(4096, dtype=np.int64)


def even_subsample(x: np.ndarray, a: int, b: int, max_points: int) -> np.ndarray:
    """A new array of at most ``max_points`` evenly spaced samples of ``x[a:b]``."""
    m = b - a
    if m <= max_points:
        return x[a:b].copy()
    steps = _STEPS[:max_points] if max_points <= _STEPS.size else np.arange(max_points)
    return x[a + (steps * m) // max_points]
