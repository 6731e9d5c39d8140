"""Rest-level statistics over a window of samples: baseline, noise sigma, quiet and flat levels.

The detector asks these questions of ``x[lo:i]`` (never of anything outside it):
what is the noise (``noise_sigma``), is the window quiet (``quiet_window``: its P10-P90
spread), is it a rest level (``rest_level``: quiet and the same in both halves), and where
is the last rest level before a rise (``foot_of_rise``). Every answer is an order statistic
of at most ``max_points`` evenly spaced samples, so the same samples give the same bits
online and offline, and a query costs a few microseconds whatever the rate.
"""

from __future__ import annotations

import math

import numpy as np

from .filters import even_subsample, lower_median

MAD_TO_SIGMA = 1.4826


def kth_smallest(w: np.ndarray, k: int) -> float:
    """k-th smallest of a scratch array (partitioned in place)."""
    w.partition(k)
    return float(w[k])


def noise_sigma(w: np.ndarray) -> float:
    """Noise sigma from the MAD of successive differences / sqrt(2).

    Unlike the MAD around the median it is not inflated by a step or a slow
    drift inside the window (research 1.3 wants sigma of the noise, not of the
    baseline's movement).
    """
    if w.size < 3:
        return 0.0
    return MAD_TO_SIGMA / math.sqrt(2.0) * lower_median(np.abs(w[1:] - w[:-1]))


def flat_tolerance_n(sigma: float, delta_on: float) -> float:
    """How much the medians of a window's two halves may differ for it to count as a level."""
    return max(1.5 * sigma, 0.1 * delta_on, 0.25)


def first_index_at(t: np.ndarray, a: int, b: int, t_value: float) -> int:
    """First index in [a, b) with t >= t_value (b if none)."""
    return a + int(t[a:b].searchsorted(t_value))


def quiet_window(x: np.ndarray, lo: int, i: int, max_points: int) -> tuple[float, float, np.ndarray] | None:
    """(P10-P90 spread, median, samples) of x[lo:i], subsampled; None if too few."""
    if i - lo < 3:
        return None
    w = even_subsample(x, lo, i, max_points)
    m = w.size - 1
    k10, k50, k90 = int(0.1 * m), m // 2, math.ceil(0.9 * m)
    part = np.partition(w, (k10, k50, k90))
    return float(part[k90] - part[k10]), float(part[k50]), w


def rest_level(x: np.ndarray, lo: int, i: int, quiet_n: float, flat_n: float, max_points: int) -> float | None:
    """Median of x[lo:i] if it is a rest level: quiet, and the same in both halves."""
    q = quiet_window(x, lo, i, max_points)
    if q is None or q[0] >= quiet_n:
        return None
    w = q[2]
    h = w.size // 2
    if abs(lower_median(w[:h]) - lower_median(w[h:])) > flat_n:
        return None  # quiet but sloping: the foot of a slow rise, not a level
    return q[1]


def foot_of_rise(
    t: np.ndarray,
    x: np.ndarray,
    lo: int,
    c: int,
    quiet_n: float,
    flat_n: float,
    window_s: float,
    max_points: int,
) -> tuple[float | None, int, int]:
    """(level, start, end) of the last rest-level window (window_s long) before c, not before lo.

    Windows are tried backwards from c in steps of a quarter window; (None, lo, lo) if none is a level.
    """
    end_t = float(t[c])
    while end_t - window_s >= float(t[lo]) - 1e-9:
        a = first_index_at(t, lo, c, end_t - window_s)
        b = first_index_at(t, a, c, end_t)
        if b - a >= 4 and t[b - 1] - t[a] >= 0.5 * window_s:
            level = rest_level(x, a, b, quiet_n, flat_n, max_points)
            if level is not None:
                return level, a, b
        end_t -= 0.25 * window_s
    return None, lo, lo
