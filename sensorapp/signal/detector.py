"""The rep detector: one causal state machine for live feedback and offline analysis.

``OnlineRepDetector.feed(t_s, force_n)`` is called per BLE packet and returns
events for the live display. ``analyze_recording`` (analysis.py) runs the very
same machine over a whole recording in one call. Why they agree exactly:

* every decision at sample i depends only on samples <= i, and on "grid"
  instants that are fixed multiples of ``baseline_update_s`` in device time,
  never on where a packet happens to end;
* every quantity is an order statistic (median, max, quantile via partition)
  or a comparison of raw samples, so the same samples give the same bits;
* a rep's metrics come from ``measure_rep`` on a copy of the same samples.

Where the parts live: the state machine (phases, thresholds, guards,
closing a contraction) in engine.py; window statistics in levels.py; the live
hold timer in live_hold.py. This module is the live facade: input checks and
the attributes the display reads.

Speed: between grid instants the thresholds are constant, so the common case
(REST with every sample under the threshold, or a steady hold above it) costs
one slice and one max/min per packet. Median-of-3 is evaluated only when a
raw sample crosses a threshold; this is exact because a median-of-3 can only
cross when two of its three raw samples do.
"""

from __future__ import annotations

import numpy as np

from .engine import CONTRACTION_PHASES, _RepEngine
from .events import DetectorEvent, RepRejected, RepState
from .levels import noise_sigma
from .metrics import Rep
from .params import MAX_ABS_TIME_S, DetectorParams

# _RepEngine is what analysis.py runs offline; noise_sigma was public here before the split.
__all__ = ["OnlineRepDetector", "_RepEngine", "noise_sigma"]


class OnlineRepDetector:
    """Causal rep detector fed packet by packet; see the module docstring.

    Read ``state``, ``baseline_n``, ``onset_threshold_n``, ``hold_elapsed_s``,
    ``plateau_ref_n`` and ``hold_level_n`` at any time for the live display.
    Set ``side`` when the patient turns over: reps completed afterwards carry
    it, and the previous side's plateau no longer raises the onset threshold.
    """

    def __init__(self, params: DetectorParams = DetectorParams(), side: str | None = None) -> None:
        self.params = params
        self._e = _RepEngine(params, live=True, side=side)

    # --- feeding ---

    def feed(self, t_s: np.ndarray, force_n: np.ndarray) -> list[DetectorEvent]:
        """Process one packet (device times in s, strictly increasing; force in N)."""
        t_s = np.asarray(t_s, dtype=np.float64)
        force_n = np.asarray(force_n, dtype=np.float64)
        k = t_s.size
        if k == 0:
            return []
        if force_n.size != k or t_s.ndim != 1:
            raise ValueError("feed: t_s and force_n must be 1-D arrays of the same length")
        e = self._e
        t_first = float(t_s[0])
        t_last = float(t_s[-1])
        if not t_first > e._last_t or (k > 1 and not t_last > t_first):
            raise ValueError(f"feed: time must increase (got {t_first!r} after {e._last_t!r})")
        if not (t_first >= -MAX_ABS_TIME_S and t_last <= MAX_ABS_TIME_S):
            raise ValueError(f"feed: device time {t_last!r} s is out of range (|t| <= {MAX_ABS_TIME_S:g} s)")
        return e.feed(t_s, force_n)

    def flush(self) -> list[DetectorEvent]:
        """End of a set or of the data: complete a rep still waiting for its post-release rest.

        A rep is measured ``post_baseline_s`` after its release (``Released`` comes
        at once), so the last rep of a recording needs this call.
        """
        e = self._e
        events: list[DetectorEvent] = []
        e._events = events
        e.finish()
        return events

    def reset(self) -> list[DetectorEvent]:
        """Flush, then forget everything but the rep counters and side (re-arms on new data)."""
        events = self.flush()
        e = self._e
        e._clear_buffer()
        e._reset_core()
        return events

    def rebaseline(self) -> list[DetectorEvent]:
        """Flush, then drop the baseline and any contraction in progress (e.g. after a tare)."""
        events = self.flush()
        e = self._e
        e._pos = e._n
        e._reset_core()
        e._rest_start = e._n
        return events

    # --- live attributes ---

    @property
    def state(self) -> RepState:
        return self._e.hold.state

    @property
    def baseline_n(self) -> float | None:
        e = self._e
        if e._phase in CONTRACTION_PHASES:
            return e._a_base
        return e._baseline

    @property
    def noise_sigma_n(self) -> float | None:
        return None if self._e._baseline is None else self._e._sigma

    @property
    def onset_threshold_n(self) -> float | None:
        """Absolute force the press has to cross (frozen while a contraction is on)."""
        e = self._e
        if e._phase in CONTRACTION_PHASES:
            return e._a_on
        return None if e._baseline is None else e._on_thr

    @property
    def offset_threshold_n(self) -> float | None:
        e = self._e
        if e._phase in CONTRACTION_PHASES:
            return e._a_off
        if e._baseline is None:
            return None
        return e._baseline + self.params.offset_rel_onset * e._delta_on

    @property
    def hold_elapsed_s(self) -> float:
        return self._e.hold.hold_elapsed_s

    @property
    def plateau_ref_n(self) -> float | None:
        """Live plateau estimate, net of baseline (None until 0.5 s into a contraction)."""
        e = self._e
        return e.hold.plateau_ref_n if e._phase in CONTRACTION_PHASES else None

    @property
    def hold_level_n(self) -> float | None:
        """Absolute force the hold timer counts above (80 % of the live plateau)."""
        e = self._e
        if e._phase in CONTRACTION_PHASES and e.hold.plateau_ref_n is not None:
            return e.hold.hold_level_n
        return None

    @property
    def side(self) -> str | None:
        return self._e._side

    @side.setter
    def side(self, value: str | None) -> None:
        e = self._e
        if value != e._side:
            if e._side is not None and value is not None:
                # A new side starts without the other side's plateau, from the next baseline
                # refresh on: the same instant the offline analysis applies it to side labels.
                e._side_changed = True
            e._side = value

    @property
    def reps(self) -> list[Rep]:
        """Every rep completed so far, in order."""
        return list(self._e.reps)

    @property
    def rejections(self) -> list[RepRejected]:
        return list(self._e.rejections)
