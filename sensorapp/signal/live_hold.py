"""The live display layer of a contraction: plateau estimate, hold timer, hold events.

Online only, and it never changes which reps are found (docs/signal.md section 6): the
state machine (engine.py) tells it when a contraction starts, hands it each range of the
contraction's samples, and reads ``state`` and ``hold_elapsed_s`` back for the display.
0.5 s after the onset and every 0.25 s the live plateau is the median of the samples at
>= 50 % of the running maximum; the hold runs while the force is >= 80 % of it (dips
shorter than ``dip_tolerance_s`` tolerated, data gaps up to ``gap_bridge_s`` bridged).
"""

from __future__ import annotations

import math

import numpy as np

from .events import DetectorEvent, HoldProgress, RepState, TargetReached
from .filters import even_subsample, median3_causal_twice
from .params import DetectorParams


class LiveHoldTimer:
    """Hold timer of the contraction in progress; events go to the list the caller passes."""

    def __init__(self, params: DetectorParams) -> None:
        self.p = params
        self.reset()

    def reset(self) -> None:
        self.state = RepState.REST
        self.plateau_ref_n: float | None = None  # live plateau, net of the rep's baseline
        self.hold_level_n = math.inf  # absolute force the hold counts above
        self.holding = False
        self.hold_start_s = 0.0
        self.hold_elapsed_s = 0.0
        self.dip_start_s: float | None = None
        self.target_hit = False
        self.next_refresh_t = math.inf  # next live plateau refresh (device time)
        self.next_progress_t = math.inf
        self.last_t = -math.inf  # last sample time the timer has seen

    def start(self, onset_t: float, confirm_t: float) -> None:
        """A contraction was confirmed at confirm_t; its (back-dated) onset is onset_t."""
        self.state = RepState.RISING
        self.plateau_ref_n = None
        self.hold_level_n = math.inf
        self.holding = False
        self.hold_elapsed_s = 0.0
        self.dip_start_s = None
        self.target_hit = False
        self.next_refresh_t = onset_t + self.p.live_plateau_delay_s
        self.next_progress_t = math.inf
        self.last_t = confirm_t

    def resume_state(self) -> RepState:
        """The state to show when a dip turns out not to be the release."""
        if self.holding:
            return RepState.HOLDING
        return RepState.RISING if self.plateau_ref_n is None else RepState.RELEASING

    def refresh_plateau(
        self,
        t: np.ndarray,
        x: np.ndarray,
        onset: int,
        i: int,
        base_n: float,
        offset_threshold_n: float,
        events: list[DetectorEvent],
    ) -> None:
        """Refresh the live plateau (median of samples >= 50 % of the running max) at sample i."""
        p = self.p
        self.next_refresh_t = float(t[i]) + p.live_plateau_update_s
        if i - onset < 3:
            return
        d = even_subsample(median3_causal_twice(x, onset, i), 0, i - onset, 4 * p.baseline_max_points)
        net = d - base_n
        top = float(net.max())
        if top <= 0:
            return
        plateau = float(np.median(net[net >= p.plateau_rel_quantile * top]))
        self.plateau_ref_n = plateau
        self.hold_level_n = max(base_n + p.hold_rel_plateau * plateau, offset_threshold_n)
        if self.state == RepState.RISING:
            xs = x[onset:i]
            below = np.flatnonzero(xs < self.hold_level_n)
            if below.size == 0 or below[-1] < xs.size - 1:
                start = onset + (int(below[-1]) + 1 if below.size else 0)
                self._begin_hold(float(t[start]))
                self.update(float(t[i - 1]), events)

    def _begin_hold(self, t0: float) -> None:
        self.holding = True
        self.hold_start_s = t0
        self.dip_start_s = None
        self.state = RepState.HOLDING
        self.next_progress_t = t0 + self.p.progress_interval_s

    def update(self, t_now: float, events: list[DetectorEvent]) -> None:
        """The hold is still on at t_now: progress and target events."""
        elapsed = t_now - self.hold_start_s
        self.hold_elapsed_s = elapsed
        if t_now >= self.next_progress_t:
            events.append(HoldProgress(t_now, elapsed, self.p.target_hold_s))
            self.next_progress_t = t_now + self.p.progress_interval_s
        if not self.target_hit and elapsed >= self.p.target_hold_s:
            self.target_hit = True
            events.append(TargetReached(t_now, elapsed, self.p.target_hold_s))

    def advance(self, t: np.ndarray, x: np.ndarray, a: int, b: int, events: list[DetectorEvent]) -> None:
        """Hold timer over samples [a, b) of the current contraction."""
        if b <= a:
            return
        if self.plateau_ref_n is None:
            self.last_t = float(t[b - 1])
            return
        p = self.p
        if self.holding and float(t[a]) - self.last_t > p.gap_bridge_s:
            self._end_hold(self.last_t)  # a data gap too long to bridge
        above = x[a:b] >= self.hold_level_n
        cuts = np.flatnonzero(above[1:] != above[:-1]) + 1
        starts = [0, *cuts.tolist()]
        ends = [*cuts.tolist(), b - a]
        for s, e in zip(starts, ends, strict=True):
            t_first = float(t[a + s])
            t_last = float(t[a + e - 1])
            if above[s]:
                if self.holding and self.dip_start_s is not None:
                    if t_first - self.dip_start_s < p.dip_tolerance_s:
                        self.dip_start_s = None
                    else:
                        self._end_hold(self.dip_start_s)
                if not self.holding:
                    self._begin_hold(t_first)
                self.update(t_last, events)
            elif self.holding:
                if self.dip_start_s is None:
                    self.dip_start_s = t_first
                if t_last - self.dip_start_s >= p.dip_tolerance_s:
                    self._end_hold(self.dip_start_s)
                else:
                    self.update(t_last, events)
        self.last_t = float(t[b - 1])

    def _end_hold(self, t_end: float) -> None:
        self.holding = False
        self.hold_elapsed_s = max(0.0, t_end - self.hold_start_s)
        self.dip_start_s = None
        self.state = RepState.RELEASING
