"""Every tunable number of the rep detector, in one frozen dataclass.

Defaults come from shared/research/signal.md section 7 ("Default parameter
table"); docs/signal.md gives the source of each one. Parameters marked
"engineering" in the comments are ours (no literature value), chosen so that
the online detector stays cheap per packet and identical to the offline pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

# Beyond this the detector's device-time grid (multiples of baseline_update_s) cannot be
# computed (1e308 / 0.5 overflows) and float64 cannot tell 1 kHz samples apart; no clock gets there.
MAX_ABS_TIME_S = 1e13


@dataclass(frozen=True)
class DetectorParams:
    """All detector and metric parameters; units are in the names."""

    # --- baseline (research 0, 5.2, 7) ---
    baseline_window_s: float = 1.5  # median + MAD over the last 1.5 s of rest
    baseline_min_s: float = 0.5  # need this much rest before (re)computing; also the arming delay
    baseline_update_s: float = 0.5  # engineering: refresh on a fixed 0.5 s grid of device time
    baseline_max_points: int = 128  # engineering: median/MAD on at most this many evenly spaced samples
    baseline_delay_s: float = 0.5  # engineering: the window ends this long before the grid instant,
    #                                so the first samples of a slow press never raise the threshold
    rep_baseline_s: float = 1.0  # a rep's baseline_n: median of the rest this long before its onset
    post_baseline_s: float = 1.0  # rest after the release used to measure drift across the rep
    post_baseline_min_s: float = 0.5  # less than this (next press too soon, end of data): no correction
    drift_max_n_per_min: float = 12.0  # engineering: a larger pre/post change is a step, not drift
    #                                    (research 6.2: drift up to 10 N/min); 0 disables correction

    # --- onset / offset (research 1.3, 7) ---
    onset_k_sigma: float = 5.0  # delta_on = max(5 sigma, 5 N, 10 % of previous plateau)
    onset_floor_n: float = 5.0
    onset_rel_plateau: float = 0.10
    offset_rel_onset: float = 0.5  # offset threshold = baseline + 0.5 delta_on (hysteresis)
    on_confirm_s: float = 0.10  # above the onset threshold this long to confirm
    off_confirm_s: float = 0.30  # below the offset threshold this long to confirm
    min_rep_s: float = 1.0  # a contraction shorter than this is not a rep
    min_hold_s: float = 0.5  # engineering: nor one that never held 80 % of its plateau this long (a bump)
    backdate_k_sigma: float = 2.0  # onset = last sample <= baseline + 2 sigma before the crossing
    backdate_lookback_s: float = 2.0
    plateau_ref_expiry_s: float = 30.0  # engineering: forget the previous plateau after this much rest

    # --- stuck-active guard (research 1.3, 5.2, 7) ---
    stuck_quiet_s: float = 2.0  # quiet this long ...
    stuck_spread_k_sigma: float = 6.0  # ... meaning P90 - P10 < max(6 sigma, 2 N) ...
    stuck_spread_floor_n: float = 2.0
    stuck_rel_plateau: float = 0.3  # ... below baseline + 0.3 x previous plateau: close and re-baseline
    stuck_rel_press: float = 0.5  # engineering: or settled below half of the press (its 75th percentile)
    stuck_max_active_s: float = 30.0  # engineering: or quiet after this long active, whatever the level
    shelf_quiet_s: float = 0.5  # engineering: a quiet stretch this long, flat since the onset, ...
    shelf_max_rel_plateau: float = 0.5  # ... below half this side's last plateau (if known), ...
    shelf_rise_rel: float = 0.5  # ... followed by a rise of max(delta_on, 0.5 x its own level) is a
    #                               pre-tension shelf: the press starts there and is net of it (issue 3, 4)

    # --- plateau and hold: the contract (issue 3 section 4, research 2.2) ---
    plateau_quantile: float = 0.95
    plateau_rel_quantile: float = 0.5  # plateau = median of samples >= 50 % of the 95th percentile
    hold_rel_plateau: float = 0.80  # hold = longest stretch >= 80 % of the plateau
    dip_tolerance_s: float = 0.25  # dips shorter than this do not end the hold
    gap_bridge_s: float = 1.0  # data gaps up to this are bridged (and flagged)
    gap_flag_s: float = 0.25  # a bridged gap longer than this sets Rep.gap_bridged
    gap_factor: float = 1.5  # a step > 1.5 median sample periods is a data gap (research 0)
    target_hold_s: float = 6.0
    target_tolerance_s: float = 0.5  # target_met: hold_s >= target_hold_s - tolerance

    # --- metric filters (research 3, 5.1, 5.3) ---
    metric_lowpass_hz: float = 15.0  # zero-lag smoothing for plateau / hold / impulse ...
    metric_lowpass_rel_rate: float = 0.2  # ... capped at 0.2 x sample rate
    metric_min_filter_rate_hz: float = 25.0  # no low-pass at or below this rate (spike removal only)
    steadiness_trim_s: float = 0.5  # CV over the hold trimmed by 0.5 s at each end
    rfd_window_s: float = 0.2  # RFD 0-200 ms ...
    rfd_min_rate_hz: float = 50.0  # ... only at >= 50 Hz, and only without a gap near the onset
    rfd_gap_s: float = 0.05  # a sample step longer than this within the RFD epoch voids RFD

    # --- live display only (research 2.2); never changes which reps are found ---
    live_plateau_delay_s: float = 0.5  # first live plateau estimate this long after onset
    live_plateau_update_s: float = 0.25
    progress_interval_s: float = 0.1  # HoldProgress at most 10 per second of data

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise ValueError(f"DetectorParams.{f.name} must be a finite number, got {value!r}")
            if value < 0:
                raise ValueError(f"DetectorParams.{f.name} must be >= 0, got {value!r}")
        positive = (
            "baseline_window_s",
            "baseline_update_s",
            "on_confirm_s",
            "off_confirm_s",
            "stuck_quiet_s",
            "shelf_quiet_s",
            "gap_factor",
            "plateau_quantile",
            "hold_rel_plateau",
            "metric_lowpass_hz",
            "metric_lowpass_rel_rate",
            "rfd_window_s",
            "live_plateau_update_s",
            "progress_interval_s",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"DetectorParams.{name} must be > 0, got {getattr(self, name)!r}")
        if self.baseline_max_points < 8:
            raise ValueError("DetectorParams.baseline_max_points must be >= 8")
        if not self.plateau_quantile <= 1.0:
            raise ValueError("DetectorParams.plateau_quantile must be <= 1")
        if self.rep_baseline_s <= 0:
            raise ValueError("DetectorParams.rep_baseline_s must be > 0")
        if self.baseline_min_s > self.baseline_window_s:
            raise ValueError("DetectorParams.baseline_min_s must not exceed baseline_window_s")
        if not 0 < self.offset_rel_onset <= 1:
            raise ValueError("DetectorParams.offset_rel_onset must be in (0, 1]")
        if self.dip_tolerance_s > self.gap_bridge_s:
            raise ValueError("DetectorParams.dip_tolerance_s must not exceed gap_bridge_s")
