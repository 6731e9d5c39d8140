"""Per-rep metrics: the contract of issue 3 section 4, in one pure function.

``measure_rep`` takes the raw samples of one contraction (back-dated onset to
release, inclusive) and the rest level just before the press, and returns a
``Rep``. The online detector and the offline analysis both call it on the
same samples, so a rep is bit-identical whichever path found it.

Definitions (all forces are net of ``baseline_n``):

* signal: centred median-of-5 (spikes, also in pairs), then a zero-lag double moving average
  with its -3 dB point at min(15 Hz, 0.2 x rate); none at <= 25 Hz.
* ``plateau_n``: median of the samples >= 50 % of the rep's 95th percentile.
* ``hold_s``: longest stretch >= 80 % of ``plateau_n``; crossings are linearly
  interpolated, dips shorter than 250 ms do not end it, data gaps up to 1 s
  are bridged (``gap_bridged`` when one longer than 250 ms was).
* ``mean_n``: time-weighted mean over the hold; ``impulse_ns``: trapezoid
  over the whole contraction; ``steadiness_cv_pct``: CV over the hold trimmed
  by 0.5 s at each end; ``rfd_n_per_s``: 0-200 ms epoch from the onset on the
  despiked signal, None below 50 Hz or with a gap in the epoch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .filters import median5_centered, smoothing_half_width, zero_lag_smooth
from .params import DetectorParams


@dataclass(frozen=True)
class Rep:
    """One rep the belt saw, with the metrics of the contract."""

    side: str | None
    index: int  # 1-based within its side
    onset_s: float
    release_s: float
    hold_s: float
    baseline_n: float  # rest level just before the press (absolute)
    plateau_n: float
    peak_n: float
    mean_n: float
    impulse_ns: float
    time_to_peak_s: float
    rfd_n_per_s: float | None  # None when the rate cannot carry it
    steadiness_cv_pct: float | None
    release_duration_s: float  # last time at >= 80 % plateau -> release
    target_met: bool
    gap_bridged: bool
    hold_start_s: float
    hold_end_s: float
    ramp_s: float  # onset -> first time at >= 80 % plateau
    duration_s: float  # onset -> release
    rate_hz: float  # median sample rate within the rep
    max_gap_s: float  # longest step between samples within the rep
    target_hold_s: float
    baseline_drift_n_per_min: float = 0.0  # drift measured across the rep and removed
    closed_by: str = "release"  # "release", "stuck guard" or "end of data"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict: the issue's keys first; times to 1 ms, everything else to 0.01."""
        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float):
                value = round(value, 3 if key in _TIME_KEYS else 2)
            out[key] = value
        return out


_TIME_KEYS = frozenset(
    {
        "onset_s",
        "release_s",
        "hold_s",
        "time_to_peak_s",
        "release_duration_s",
        "hold_start_s",
        "hold_end_s",
        "ramp_s",
        "duration_s",
        "max_gap_s",
        "target_hold_s",
    }
)


def plateau_of(y_net: np.ndarray, params: DetectorParams = DetectorParams()) -> float:
    """Median of the samples at or above 50 % of the 95th percentile (0 if none)."""
    if y_net.size == 0:
        return 0.0
    q = float(np.quantile(y_net, params.plateau_quantile))
    if not q > 0:
        return 0.0
    return float(np.median(y_net[y_net >= params.plateau_rel_quantile * q]))


def hold_intervals(
    t_s: np.ndarray,
    y_n: np.ndarray,
    level_n: float,
    dip_tolerance_s: float,
    gap_bridge_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times of the stretches with y >= level.

    Crossings are interpolated linearly between samples, except across a data
    gap longer than ``gap_bridge_s`` where only observed time counts. Two
    stretches separated by a dip shorter than ``dip_tolerance_s`` are merged;
    a gap longer than ``gap_bridge_s`` always splits.
    """
    above = y_n >= level_n
    empty = np.empty(0)
    if y_n.size == 0 or not above.any():
        return empty, empty
    i = np.flatnonzero(above[1:] != above[:-1])
    t0 = t_s[i]
    t1 = t_s[i + 1]
    y0 = y_n[i]
    y1 = y_n[i + 1]
    tc = t0 + (level_n - y0) / (y1 - y0) * (t1 - t0)
    going_up = above[i + 1]
    long_gap = (t1 - t0) > gap_bridge_s
    tc = np.where(long_gap, np.where(going_up, t1, t0), tc)
    starts = tc[going_up]
    ends = tc[~going_up]
    if above[0]:
        starts = np.concatenate((t_s[:1], starts))
    if above[-1]:
        ends = np.concatenate((ends, t_s[-1:]))
    g = np.flatnonzero(above[:-1] & above[1:] & (np.diff(t_s) > gap_bridge_s))
    if g.size:
        starts = np.sort(np.concatenate((starts, t_s[g + 1])))
        ends = np.sort(np.concatenate((ends, t_s[g])))
    if starts.size > 1:
        split = (starts[1:] - ends[:-1]) >= dip_tolerance_s
        first = np.concatenate(([0], np.flatnonzero(split) + 1))
        last = np.concatenate((np.flatnonzero(split), [ends.size - 1]))
        starts = starts[first]
        ends = ends[last]
    return starts, ends


def longest_hold(
    t_s: np.ndarray, y_n: np.ndarray, plateau_n: float, params: DetectorParams = DetectorParams()
) -> tuple[float, float, float]:
    """(hold_s, hold_start_s, hold_end_s) by the contract; zeros without a plateau."""
    if not plateau_n > 0:
        t0 = float(t_s[0]) if t_s.size else 0.0
        return 0.0, t0, t0
    starts, ends = hold_intervals(
        t_s, y_n, params.hold_rel_plateau * plateau_n, params.dip_tolerance_s, params.gap_bridge_s
    )
    if starts.size == 0:
        t0 = float(t_s[0])
        return 0.0, t0, t0
    k = int(np.argmax(ends - starts))
    return float(ends[k] - starts[k]), float(starts[k]), float(ends[k])


def measure_rep(
    t_s: np.ndarray,
    force_n: np.ndarray,
    baseline_n: float,
    params: DetectorParams = DetectorParams(),
    *,
    side: str | None = None,
    index: int = 0,
    closed_by: str = "release",
    drift_n_per_s: float = 0.0,
    baseline_t_s: float | None = None,
) -> Rep:
    """All metrics of one contraction from its raw samples (onset..release).

    ``baseline_n`` is the rest level at ``baseline_t_s`` (default: the onset);
    with ``drift_n_per_s`` the baseline is carried along that slope, so a
    drifting belt does not bias the plateau.
    """
    t_s = np.ascontiguousarray(t_s, dtype=np.float64)
    force_n = np.ascontiguousarray(force_n, dtype=np.float64)
    if t_s.size < 2 or t_s.size != force_n.size:
        raise ValueError("measure_rep needs at least two samples and equal-length arrays")
    t_on = float(t_s[0])
    t_off = float(t_s[-1])
    dt = np.diff(t_s)
    rate_hz = float(1.0 / np.median(dt))
    if drift_n_per_s:
        t_ref = float(t_s[0]) if baseline_t_s is None else float(baseline_t_s)
        despiked = median5_centered(force_n - (baseline_n + drift_n_per_s * (t_s - t_ref)))
    else:
        despiked = median5_centered(force_n - baseline_n)
    cutoff = min(params.metric_lowpass_hz, params.metric_lowpass_rel_rate * rate_hz)
    y = zero_lag_smooth(despiked, smoothing_half_width(rate_hz, cutoff, params.metric_min_filter_rate_hz))

    plateau = plateau_of(y, params)
    level = params.hold_rel_plateau * plateau
    if plateau > 0:
        starts, ends = hold_intervals(t_s, y, level, params.dip_tolerance_s, params.gap_bridge_s)
    else:
        starts = ends = np.empty(0)
    if starts.size:
        k = int(np.argmax(ends - starts))
        hold_start, hold_end = float(starts[k]), float(ends[k])
        ramp_s = float(starts[0]) - t_on
        release_duration = t_off - float(ends[-1])
    else:
        hold_start = hold_end = t_on
        ramp_s = release_duration = t_off - t_on
    hold_s = hold_end - hold_start

    # Samples inside the hold and the sample steps that touch it.
    i0 = int(np.searchsorted(t_s, hold_start, "left"))
    i1 = int(np.searchsorted(t_s, hold_end, "right"))
    # sample steps (k, k+1) overlapping the hold: t[k] < hold_end and t[k+1] > hold_start
    j0 = max(int(np.searchsorted(t_s, hold_start, "right")) - 1, 0)
    j1 = min(int(np.searchsorted(t_s, hold_end, "left")), dt.size)
    gap_bridged = bool(hold_s > 0 and j1 > j0 and float(dt[j0:j1].max()) > params.gap_flag_s)

    k_peak = int(np.argmax(y))
    peak = float(y[k_peak])

    if i1 - i0 >= 2 and t_s[i1 - 1] > t_s[i0]:
        ts = t_s[i0:i1]
        ys = y[i0:i1]
        mean_n = float(np.sum((ys[1:] + ys[:-1]) * np.diff(ts)) / (2.0 * (ts[-1] - ts[0])))
    elif i1 > i0:
        mean_n = float(np.mean(y[i0:i1]))
    else:
        mean_n = float(level)

    impulse = float(np.sum((y[1:] + y[:-1]) * dt) / 2.0)

    trim = params.steadiness_trim_s
    if hold_s >= 2 * trim + 1.0:
        c0 = int(np.searchsorted(t_s, hold_start + trim, "left"))
        c1 = int(np.searchsorted(t_s, hold_end - trim, "right"))
    else:
        c0, c1 = i0, i1
    cv: float | None = None
    if c1 - c0 >= 3:
        seg = y[c0:c1]
        m = float(np.mean(seg))
        if m > 0:
            cv = float(100.0 * np.std(seg) / m)

    rfd: float | None = None
    w = params.rfd_window_s
    if rate_hz >= params.rfd_min_rate_hz and t_off - t_on >= w:
        k_end = int(np.searchsorted(t_s, t_on + w, "left"))
        if k_end >= 1 and float(dt[: min(k_end, dt.size)].max()) <= params.rfd_gap_s:
            f_w = float(np.interp(t_on + w, t_s, despiked))
            rfd = (f_w - float(despiked[0])) / w

    return Rep(
        side=side,
        index=int(index),
        onset_s=t_on,
        release_s=t_off,
        hold_s=hold_s,
        baseline_n=float(baseline_n),
        plateau_n=plateau,
        peak_n=peak,
        mean_n=mean_n,
        impulse_ns=impulse,
        time_to_peak_s=float(t_s[k_peak] - t_on),
        rfd_n_per_s=rfd,
        steadiness_cv_pct=cv,
        release_duration_s=release_duration,
        target_met=bool(hold_s >= params.target_hold_s - params.target_tolerance_s),
        gap_bridged=gap_bridged,
        hold_start_s=hold_start,
        hold_end_s=hold_end,
        ramp_s=ramp_s,
        duration_s=t_off - t_on,
        rate_hz=rate_hz,
        max_gap_s=float(dt.max()),
        target_hold_s=float(params.target_hold_s),
        baseline_drift_n_per_min=float(drift_n_per_s * 60.0),
        closed_by=closed_by,
    )
