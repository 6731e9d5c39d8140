"""The rep detector's state machine, shared by the live detector and the offline analysis.

``OnlineRepDetector`` (detector.py) feeds it packet by packet; ``analyze`` (analysis.py)
loads a whole recording and runs it once. See detector.py for why the two agree bit for
bit, and docs/signal.md for the algorithm and its sources.

  UNARMED -> REST       after baseline_min_s of data (median / noise sigma)
  REST -> CANDIDATE     med3(force) >= baseline + delta_on
  CANDIDATE -> ACTIVE   ... for on_confirm_s. The onset is back-dated to the
                        last sample <= foot + 2 sigma, the foot being the last
                        rest level before the rise; the rep's baseline is the
                        median of the rep_baseline_s before the onset
  ACTIVE -> PENDING     med3(force) < rep baseline + 0.5 delta_on
  PENDING -> REST       ... for off_confirm_s: Released. A contraction shorter
                        than min_rep_s is rejected at once; a rep is measured
                        post_baseline_s later (drift seen over the rest after
                        it), then RepCompleted (or rejected as a bump)
  ACTIVE -> REST        stuck guard: quiet for stuck_quiet_s at a level that
                        is not the press (closes the rep, re-baselines)
  ACTIVE -> SPLIT       a quiet, flat shelf (belt tightened, no press yet)
                        followed by a rise that doubles it ...
  SPLIT -> ACTIVE       ... for on_confirm_s: the shelf was pre-tension, a new
                        contraction starts on top of it (net of the shelf)

Window statistics (baseline, noise, rest levels, the foot of a rise) live in
levels.py and the live hold timer in live_hold.py; this module owns the sample
buffer, the phases, their thresholds and the decisions.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .events import (
    ContractionStarted,
    DetectorEvent,
    Released,
    RepCompleted,
    RepRejected,
    RepState,
)
from .filters import even_subsample, lower_median, median3_causal
from .levels import (
    first_index_at,
    flat_tolerance_n,
    foot_of_rise,
    kth_smallest,
    noise_sigma,
    quiet_window,
    rest_level,
)
from .live_hold import LiveHoldTimer
from .metrics import Rep, measure_rep
from .params import DetectorParams

UNARMED, REST, CANDIDATE, ACTIVE, PENDING, SPLIT = range(6)
CONTRACTION_PHASES = (ACTIVE, PENDING, SPLIT)


def side_label(value: object) -> str:
    """A per-sample side label as a plain str ("" for unknown, None or NaN-like empties)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


class PendingRep(NamedTuple):
    """A closed contraction waiting for the rest after it (its drift) before it is measured."""

    onset: int
    release: int
    base_n: float
    base_t: float
    closed_by: str
    duration_s: float


class _RepEngine:
    """The shared state machine. ``live=True`` adds the display layer (events, hold timer)."""

    # Set by _reset_core (and shifted by _make_room): indices into the buffer, thresholds
    # frozen at the onset (_a_*), the pre-tension shelf being watched, the rep held back.
    _phase: int
    _rest_start: int
    _cand: int
    _onset: int
    _confirm: int
    _below: int
    _split_c: int
    _shelf_lo: int
    _pending: PendingRep | None

    def __init__(self, params: DetectorParams, live: bool, side: str | None = None) -> None:
        self.p = params
        self._live = live
        self._side = side
        self._sides: np.ndarray | None = None
        self._side_changed = False
        self._counts: dict[str | None, int] = {}
        self.reps: list[Rep] = []
        self.rejections: list[RepRejected] = []
        self._events: list[DetectorEvent] = []
        self.hold = LiveHoldTimer(params)
        self._keep_s = (
            max(
                params.baseline_window_s + params.baseline_delay_s,
                params.backdate_lookback_s + params.rep_baseline_s,
                params.stuck_quiet_s,
            )
            + 1.0
        )
        self._clear_buffer()
        self._reset_core()

    # ------------------------------------------------------------------ buffer

    def _clear_buffer(self) -> None:
        self._t = np.empty(1 << 14)
        self._x = np.empty(1 << 14)
        self._n = 0
        self._pos = 0
        self._last_t = -math.inf

    def load(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        """Offline: use the caller's arrays as the buffer (no copy; never written)."""
        self._t = t_s
        self._x = force_n
        self._n = int(t_s.size)
        self._pos = 0
        self._last_t = float(t_s[-1]) if t_s.size else -math.inf

    def _append(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        k = t_s.size
        if self._n + k > self._t.size:
            self._make_room(k)
        n = self._n
        self._t[n : n + k] = t_s
        self._x[n : n + k] = force_n
        self._n = n + k

    def _make_room(self, k: int) -> None:
        """Drop samples nothing can look at any more, growing the buffer if needed."""
        n = self._n
        t = self._t
        keep = n
        if n:
            keep = int(np.searchsorted(t[:n], t[n - 1] - self._keep_s))
        keep = min(keep, self._pos)
        if self._phase in (ACTIVE, PENDING, SPLIT):
            keep = min(keep, self._onset)
        elif self._phase == CANDIDATE:
            back = self.p.backdate_lookback_s + self.p.rep_baseline_s
            keep = min(keep, int(np.searchsorted(t[:n], t[self._cand] - back)))
        if self._pending is not None:
            keep = min(keep, self._pending.onset)
        shift = max(0, keep - 2)
        live = n - shift
        cap = self._t.size
        while live + k > cap * 3 // 4:
            cap *= 2
        if cap != self._t.size:
            new_t = np.empty(cap)
            new_x = np.empty(cap)
            new_t[:live] = self._t[shift:n]
            new_x[:live] = self._x[shift:n]
            self._t, self._x = new_t, new_x
        elif shift:
            self._t[:live] = self._t[shift:n].copy()
            self._x[:live] = self._x[shift:n].copy()
        if shift:
            self._n = live
            self._pos -= shift
            self._rest_start = max(0, self._rest_start - shift)
            self._onset -= shift
            self._confirm -= shift
            self._cand -= shift
            self._below -= shift
            self._split_c -= shift
            self._shelf_lo -= shift
            if self._pending is not None:
                pend = self._pending
                self._pending = pend._replace(onset=pend.onset - shift, release=pend.release - shift)

    # ------------------------------------------------------------------ core state

    def _reset_core(self) -> None:
        self._phase = UNARMED
        self._next_grid_t = -math.inf
        self._rest_start = self._pos
        self._baseline: float | None = None
        self._sigma = 0.0
        self._sigma_hist: list[float] = []
        self._p_ref: float | None = None  # previous plateau, this side: onset threshold, stuck guard
        self._last_release_t = -math.inf
        self._cur_label = ""
        self._delta_on = self.p.onset_floor_n
        self._on_thr = math.inf
        self._cand = 0
        self._onset = 0
        self._confirm = 0
        self._below = 0
        self._a_base = 0.0
        self._a_sigma = 0.0
        self._a_delta = 0.0
        self._a_off = 0.0
        self._a_on = 0.0
        self._shelf_thr = math.inf
        self._shelf_level = 0.0
        self._shelf_sigma = 0.0
        self._shelf_lo = 0
        self._split_c = 0
        self._a_base_t = 0.0
        self._pending = None
        self._post_deadline_t = math.inf
        self.hold.reset()

    def _set_thresholds(self) -> None:
        if self._baseline is None:
            self._on_thr = math.inf
            return
        p = self.p
        delta = max(p.onset_k_sigma * self._sigma, p.onset_floor_n)
        if self._p_ref is not None:
            delta = max(delta, p.onset_rel_plateau * self._p_ref)
        self._delta_on = delta
        self._on_thr = self._baseline + delta

    def _search(self, a: int, b: int, value: float) -> int:
        """First index in [a, b) with t >= value (b if none)."""
        return first_index_at(self._t, a, b, value)

    # ------------------------------------------------------------------ driver

    def run(self) -> None:
        n = self._n
        while self._pos < n:
            phase = self._phase
            if phase == REST:
                self._step_rest(n)
            elif phase == ACTIVE:
                self._step_active(n)
            elif phase == PENDING:
                self._step_pending(n)
            elif phase == CANDIDATE:
                self._step_cand(n)
            elif phase == SPLIT:
                self._step_split(n)
            else:
                self._step_unarmed(n)

    def _step_unarmed(self, n: int) -> None:
        pos = self._pos
        if self._t[pos] >= self._next_grid_t:
            self._grid_rest(pos)
            if self._phase != UNARMED:
                return
        self._pos = self._search(pos, n, self._next_grid_t)

    def _step_rest(self, n: int) -> None:
        pos = self._pos
        t = self._t
        x = self._x
        if t[pos] >= self._post_deadline_t:
            self._finish_pending(pos, pos)
            return
        if t[pos] >= self._next_grid_t:
            self._grid_rest(pos)
            return
        e = self._search(pos, n, min(self._next_grid_t, self._post_deadline_t))
        thr = self._on_thr
        if x[max(pos - 2, 0) : e].max() >= thr:
            above = median3_causal(x, pos, e) >= thr
            k = int(above.argmax())
            if above[k]:
                self._cand = pos + k
                self._phase = CANDIDATE
                self._pos = pos + k + 1
                return
        self._pos = e

    def _grid_rest(self, i: int) -> None:
        """Baseline refresh on the device-time grid (REST only; frozen while active)."""
        p = self.p
        t = self._t
        ti = float(t[i])
        self._next_grid_t = (math.floor(ti / p.baseline_update_s) + 1.0) * p.baseline_update_s
        self._check_side(i)
        if self._p_ref is not None and ti - self._last_release_t > p.plateau_ref_expiry_s:
            self._p_ref = None
        hi = self._search(self._rest_start, i, ti - p.baseline_delay_s)
        lo = self._search(self._rest_start, hi, ti - p.baseline_delay_s - p.baseline_window_s)
        if hi - lo >= 4 and t[hi - 1] - t[lo] >= p.baseline_min_s:
            w = even_subsample(self._x, lo, hi, p.baseline_max_points)
            self._baseline = lower_median(w)
            # sigma from a short window is noisy (15 samples at 10 Hz): use the median of the
            # last few refreshes, which also shrugs off one window spoilt by a step or a twitch
            hist = self._sigma_hist
            hist.append(noise_sigma(w))
            if len(hist) > 9:
                del hist[0]
            self._sigma = lower_median(np.array(hist))
            if self._phase == UNARMED:
                self._phase = REST
        self._set_thresholds()

    def _check_side(self, i: int) -> None:
        """At a grid instant: a new side forgets the other side's plateau (labels offline,
        the ``side`` attribute online; both take effect at the first grid instant after)."""
        if self._sides is not None:
            label = side_label(self._sides[i])
            if label and label != self._cur_label:
                if self._cur_label:
                    self._p_ref = None
                self._cur_label = label
        elif self._side_changed:
            self._p_ref = None
            self._side_changed = False

    def _step_cand(self, n: int) -> None:
        pos = self._pos
        t = self._t
        x = self._x
        c = self._cand
        thr = self._on_thr
        j = self._search(pos, n, float(t[c]) + self.p.on_confirm_s)
        end = min(j + 1, n)
        if x[max(pos - 2, 0) : end].min() < thr:
            below = median3_causal(x, pos, end) < thr
            k = int(below.argmax())
            if below[k]:
                self._phase = REST  # a blip, not a press
                self._pos = pos + k
                return
        if j < n:
            self._start_active(c, j)
            self._pos = j + 1
        else:
            self._pos = n

    def _start_active(self, c: int, j: int) -> None:
        """Confirmed at j: back-date the onset of the rise that crossed at c, fix the rep's baseline."""
        p = self.p
        t = self._t
        x = self._x
        assert self._baseline is not None  # armed: REST is entered with a baseline
        base = self._baseline
        sigma = self._sigma
        quiet_n = max(p.stuck_spread_k_sigma * sigma, p.stuck_spread_floor_n)
        flat_n = flat_tolerance_n(sigma, self._delta_on)
        lo = max(self._rest_start, self._search(self._rest_start, c, float(t[c]) - p.backdate_lookback_s))
        # The foot of the rise: the last rest level before the crossing. Normally that is
        # the rest the baseline came from; after a pre-tension step it is the new level.
        foot, foot_lo, foot_hi = foot_of_rise(t, x, lo, c, quiet_n, flat_n, p.shelf_quiet_s, p.baseline_max_points)
        foot_t = 0.5 * float(t[foot_lo] + t[max(foot_hi - 1, foot_lo)])
        if foot is None:
            foot = base
        low = foot + p.backdate_k_sigma * sigma
        onset = c
        if c > foot_lo:
            quiet = (x[foot_lo:c] <= low) & (median3_causal(x, foot_lo, c) <= low)
            hits = np.flatnonzero(quiet)
            onset = foot_lo + int(hits[-1]) if hits.size else foot_lo
        # The rep's baseline: the rest level just before the press (issue 3, section 4):
        # the rep_baseline_s before the onset if that is a rest level, else the foot.
        b0 = self._search(self._rest_start, onset, float(t[onset]) - p.rep_baseline_s)
        level = rest_level(x, b0, onset + 1, quiet_n, flat_n, p.baseline_max_points)
        if level is not None:
            base, base_t = level, 0.5 * float(t[b0] + t[onset])
        elif foot_hi > foot_lo:
            base, base_t = foot, foot_t
        else:
            base, base_t = foot, float(t[onset])
        if self._pending is not None:
            self._finish_pending(min(onset, self._search(self._pending.release + 1, onset, self._post_deadline_t)), j)
        self._a_base_t = base_t
        self._onset = onset
        self._confirm = j
        self._a_base = base
        self._a_sigma = self._sigma
        self._a_delta = self._delta_on
        self._a_on = self._on_thr
        self._a_off = base + p.offset_rel_onset * self._delta_on
        self._shelf_thr = math.inf
        self._phase = ACTIVE
        if self._live:
            self._events.append(ContractionStarted(float(t[j]), float(t[onset]), base, self._on_thr))
            self.hold.start(float(t[onset]), float(t[j]))

    def _step_active(self, n: int) -> None:
        pos = self._pos
        t = self._t
        x = self._x
        if t[pos] >= self._next_grid_t:
            self._grid_active(pos)
            return
        e = self._search(pos, n, self._next_grid_t)
        if self._live:
            hold = self.hold
            if t[pos] >= hold.next_refresh_t:
                hold.refresh_plateau(t, x, self._onset, pos, self._a_base, self._a_off, self._events)
            e = min(e, self._search(pos, e, hold.next_refresh_t))
            if e == pos:
                return
        off = self._a_off
        seg = x[max(pos - 2, 0) : e]
        k_off = e
        if seg.min() < off:
            below = median3_causal(x, pos, e) < off
            kk = int(below.argmax())
            if below[kk]:
                k_off = pos + kk
        k_up = e
        shelf_thr = self._shelf_thr
        if shelf_thr < math.inf and seg.max() >= shelf_thr:
            above = median3_causal(x, pos, k_off) >= shelf_thr
            if above.size:
                kk = int(above.argmax())
                if above[kk]:
                    k_up = pos + kk
        k = min(k_off, k_up)
        if self._live:
            self.hold.advance(t, x, pos, min(k + 1, e), self._events)
        if k_up < e:
            self._split_c = k_up
            self._phase = SPLIT
            self._pos = k_up + 1
        elif k_off < e:
            self._below = k_off
            self._phase = PENDING
            if self._live:
                self.hold.state = RepState.RELEASING
            self._pos = k_off + 1
        else:
            self._pos = e

    def _step_split(self, n: int) -> None:
        """Confirm a rise above a pre-tension shelf (like CANDIDATE, but inside a contraction)."""
        pos = self._pos
        t = self._t
        x = self._x
        c = self._split_c
        thr = self._shelf_thr
        j = self._search(pos, n, float(t[c]) + self.p.on_confirm_s)
        end = min(j + 1, n)
        if self._live:
            self.hold.advance(t, x, pos, end, self._events)
        if x[max(pos - 2, 0) : end].min() < thr:
            below = median3_causal(x, pos, end) < thr
            k = int(below.argmax())
            if below[k]:
                self._phase = ACTIVE
                self._pos = pos + k
                return
        if j >= n:
            self._pos = n
            return
        onset_s = float(t[self._onset])
        self._reject("baseline step", float(t[c]) - onset_s, onset_s, float(t[j]))
        self._baseline = self._shelf_level
        self._sigma = self._shelf_sigma
        self._rest_start = self._shelf_lo
        self._set_thresholds()
        self._start_active(c, j)
        self._pos = j + 1

    def _step_pending(self, n: int) -> None:
        pos = self._pos
        t = self._t
        x = self._x
        off = self._a_off
        j = self._search(pos, n, float(t[self._below]) + self.p.off_confirm_s)
        end = min(j + 1, n)
        k = end
        if x[max(pos - 2, 0) : end].max() >= off:
            above = median3_causal(x, pos, end) >= off
            kk = int(above.argmax())
            if above[kk]:
                k = pos + kk
        if self._live:
            self.hold.advance(t, x, pos, k, self._events)
        if k < end:
            self._phase = ACTIVE  # back up: a dip, not the release
            if self._live:
                self.hold.state = self.hold.resume_state()
            self._pos = k
            return
        if j < n:
            b = self._below
            low = self._a_base + self.p.backdate_k_sigma * self._a_sigma
            at_base = (x[b : j + 1] <= low) & (median3_causal(x, b, j + 1) <= low)
            r = int(at_base.argmax())
            release = b + r if at_base[r] else b
            self._close(release, j, "release")
            self._pos = j + 1
        else:
            self._pos = n

    def _grid_active(self, i: int) -> None:
        """Shelf detection and the stuck-active guard, on the device-time grid."""
        p = self.p
        t = self._t
        ti = float(t[i])
        self._next_grid_t = (math.floor(ti / p.baseline_update_s) + 1.0) * p.baseline_update_s
        self._check_side(i)
        since = ti - float(t[self._confirm])
        base = self._a_base
        quiet_n = max(p.stuck_spread_k_sigma * self._a_sigma, p.stuck_spread_floor_n)

        # A quiet, flat shelf: the belt was tightened but nobody pressed (yet).
        if since >= p.shelf_quiet_s:
            lo = self._search(self._confirm, i, ti - p.shelf_quiet_s)
            win = quiet_window(self._x, lo, i, p.baseline_max_points)
            level = win[1] - base if win is not None and win[0] < quiet_n else math.inf
            if self._p_ref is not None and level > p.shelf_max_rel_plateau * self._p_ref:
                level = math.inf  # a hold, not pre-tension
            if level < math.inf:
                pre = even_subsample(self._x, self._onset, lo, 4 * p.baseline_max_points)
                k90 = int(0.9 * (pre.size - 1))
                if pre.size and kth_smallest(pre, k90) - base <= level + self._a_delta:  # flat since the onset
                    assert win is not None
                    self._shelf_level = win[1]
                    self._shelf_sigma = noise_sigma(win[2])
                    self._shelf_lo = lo
                    self._shelf_thr = win[1] + max(self._a_delta, p.shelf_rise_rel * level)

        # Stuck-active guard: quiet for stuck_quiet_s at a level that is not the press.
        if since < p.stuck_quiet_s:
            return
        lo = self._search(self._confirm, i, ti - p.stuck_quiet_s)
        win = quiet_window(self._x, lo, i, p.baseline_max_points)
        if win is None or win[0] >= quiet_n:
            return
        _spread, q50, w = win
        level = q50 - base
        low = self._p_ref is not None and level <= p.stuck_rel_plateau * self._p_ref
        too_long = ti - float(t[self._onset]) >= p.stuck_max_active_s
        # The press: the level held through most of the contraction before the quiet
        # window (its 75th percentile), so a twitch on top of a step is not a press.
        pre = even_subsample(self._x, self._onset, lo, 4 * p.baseline_max_points)
        if pre.size == 0:
            return
        if not (low or too_long) and level > p.stuck_rel_press * (float(pre.max()) - base):
            return  # still at the press (cheap test: the 75th percentile is below the max)
        press_abs = kth_smallest(pre, int(0.75 * (pre.size - 1)))
        press = press_abs - base
        settled = level <= p.stuck_rel_press * press
        if not (settled or low or too_long):
            return
        sigma_w = noise_sigma(w)
        onset = self._onset
        if press - level < self._a_delta:
            # Never pressed above the new level: a pre-tension step, not a rep.
            self._reject("baseline step", ti - float(t[onset]), float(t[onset]), ti)
            self._rest_start = lo
        else:
            settle = q50 + max(2.0 * p.backdate_k_sigma * sigma_w, 0.1 * (press_abs - q50))
            hits = np.flatnonzero(median3_causal(self._x, onset, lo) > settle)
            release = onset + int(hits[-1]) + 1 if hits.size else lo
            self._close(release, i, "stuck guard")
        self._baseline = q50
        self._sigma = sigma_w
        self._phase = REST
        self._set_thresholds()

    # ------------------------------------------------------------------ closing a contraction

    def _side_for(self, onset: int) -> str | None:
        if self._sides is not None:
            return side_label(self._sides[onset]) or None
        return self._side

    def _reject(self, reason: str, duration_s: float, onset_s: float, at_t: float) -> None:
        ev = RepRejected(at_t, reason, duration_s, onset_s)
        self.rejections.append(ev)
        if self._live:
            self._events.append(ev)
            self.hold.state = RepState.REST

    def _refine_onset(self, onset: int, release: int) -> tuple[int, float, float]:
        """Re-anchor a rep on its press when it began on a pre-tension step.

        A step that crossed the threshold shortly before the press (too soon for a
        shelf split) leaves the onset at the step and the baseline below it. The
        foot of the rise to half the press is then a quiet level above the onset
        threshold: the press starts there and is net of it (issue 3, section 4).
        """
        p = self.p
        x = self._x
        base = self._a_base
        w = even_subsample(x, onset, release + 1, 4 * p.baseline_max_points)
        k90 = int(0.9 * (w.size - 1))
        top = float(np.partition(w, k90)[k90])
        if not top - base > 2 * self._a_delta:
            return onset, base, self._a_base_t
        d = median3_causal(x, onset, release + 1)
        # The rise into the press: the last crossing of half the press before it is reached
        # (an earlier twitch also crosses half, but does not lead to the press).
        k_top = int((d >= top).argmax())
        below = np.flatnonzero(d[:k_top] < base + 0.5 * (top - base))
        k_mid = onset + (int(below[-1]) + 1 if below.size else 0)
        quiet_n = max(p.stuck_spread_k_sigma * self._a_sigma, p.stuck_spread_floor_n)
        flat_n = flat_tolerance_n(self._a_sigma, self._a_delta)
        foot, foot_lo, foot_hi = foot_of_rise(
            self._t, x, onset, k_mid, quiet_n, flat_n, p.shelf_quiet_s, p.baseline_max_points
        )
        if foot is None or foot - base < p.offset_rel_onset * self._a_delta:
            return onset, base, self._a_base_t
        low = foot + p.backdate_k_sigma * self._a_sigma
        quiet = (x[foot_lo:k_mid] <= low) & (d[foot_lo - onset : k_mid - onset] <= low)
        hits = np.flatnonzero(quiet)
        new_onset = foot_lo + int(hits[-1]) if hits.size else foot_lo
        return new_onset, foot, 0.5 * float(self._t[foot_lo] + self._t[foot_hi - 1])

    def _duration(self, onset: int, release: int, base: float) -> float:
        """Contraction time for the min_rep_s rule: between the interpolated crossings
        of baseline + 2 sigma, and counting a data gap as one sample period (a twitch
        whose end fell into lost packets is not stretched into a rep)."""
        t = self._t
        x = self._x
        dt = np.diff(t[onset : release + 1])
        if dt.size == 0:
            return 0.0
        duration = float(np.minimum(dt, self.p.gap_factor * lower_median(dt)).sum())
        low = base + self.p.backdate_k_sigma * self._a_sigma
        x0, x1 = float(x[onset]), float(x[onset + 1])
        if x0 <= low < x1:
            duration -= (low - x0) / (x1 - x0) * min(float(dt[0]), self.p.gap_factor * lower_median(dt))
        y0, y1 = float(x[release - 1]), float(x[release])
        if y1 <= low < y0 and release - 1 > onset:
            duration -= (low - y1) / (y0 - y1) * min(float(dt[-1]), self.p.gap_factor * lower_median(dt))
        return duration

    def _close(self, release: int, at: int, closed_by: str) -> None:
        """The contraction is over: reject it, or hold it until the post-release rest is in."""
        p = self.p
        t = self._t
        onset, base, base_t = self._refine_onset(self._onset, release)
        t_at = float(t[at])
        duration = self._duration(onset, release, base)
        if self._live:
            self._events.append(Released(t_at, float(t[release]), self.hold.hold_elapsed_s))
        self._phase = REST
        self.hold.state = RepState.REST
        if duration < p.min_rep_s:
            # A rejected twitch does not end the rest: its samples stay in the baseline
            # windows (medians shrug it off) and the next press can see the level before it.
            self._reject("too short", duration, float(t[onset]), t_at)
        else:
            self._pending = PendingRep(onset, release, base, base_t, closed_by, duration)
            self._post_deadline_t = float(t[release]) + p.post_baseline_s
            self._rest_start = release + 1
        self._set_thresholds()

    def _finish_pending(self, end: int, at: int) -> None:
        """Measure the held-back rep, with the drift seen over the rest after it (samples < end)."""
        assert self._pending is not None
        p = self.p
        t = self._t
        onset, release, base, base_t, closed_by, duration = self._pending
        self._pending = None
        self._post_deadline_t = math.inf
        drift = 0.0
        a = release + 1
        if p.drift_max_n_per_min > 0 and end - a >= 3 and t[end - 1] - t[a] >= p.post_baseline_min_s:
            post = lower_median(even_subsample(self._x, a, end, p.baseline_max_points))
            post_t = 0.5 * float(t[a] + t[end - 1])
            if post_t > base_t:
                slope = (post - base) / (post_t - base_t)
                if abs(slope) * 60.0 <= p.drift_max_n_per_min:
                    drift = slope
        t_at = float(t[at])
        side = self._side_for(onset)
        rep = measure_rep(
            t[onset : release + 1].copy(),
            self._x[onset : release + 1].copy(),
            base,
            p,
            side=side,
            index=self._counts.get(side, 0) + 1,
            closed_by=closed_by,
            drift_n_per_s=drift,
            baseline_t_s=base_t,
        )
        if rep.hold_s < p.min_hold_s:
            self._reject("bump", duration, float(t[onset]), t_at)
            return
        if self._p_ref is not None and rep.plateau_n < p.stuck_rel_plateau * self._p_ref:
            # Below 30 % of this side's last plateau is what the stuck guard calls "not the
            # press": a pre-tension step that came and went, not a rep.
            self._reject("baseline step", duration, float(t[onset]), t_at)
            return
        self._counts[side] = rep.index
        self.reps.append(rep)
        if rep.plateau_n > 0:
            self._p_ref = rep.plateau_n
        self._last_release_t = float(t[release])
        if self._live:
            self._events.append(RepCompleted(t_at, rep))
        self._set_thresholds()

    def finish(self) -> None:
        """End of data: close a contraction whose release was under way, then measure a
        rep still waiting for its post-release rest. (A contraction still above the offset
        threshold when the data ends was not seen released: it is not a rep.)"""
        if self._phase == PENDING and self._n > self._below:
            b = self._below
            end = self._n
            low = self._a_base + self.p.backdate_k_sigma * self._a_sigma
            x = self._x
            at_base = (x[b:end] <= low) & (median3_causal(x, b, end) <= low)
            r = int(at_base.argmax())
            self._close(b + r if at_base[r] else b, end - 1, "end of data")
            self._pos = end
        if self._pending is not None:
            end = self._search(self._pending.release + 1, self._n, self._post_deadline_t)
            self._finish_pending(end, max(end - 1, self._pending.release))

    # ------------------------------------------------------------------ online entry point

    def feed(self, t_s: np.ndarray, force_n: np.ndarray) -> list[DetectorEvent]:
        """Append one checked packet (float64, 1-D, time increasing after ``_last_t``) and run.

        The common packets skip the machine: at rest with every sample under the onset
        threshold, or in a steady hold above the hold level, before the next grid instant.
        """
        t_first = float(t_s[0])
        t_last = float(t_s[-1])
        self._last_t = t_last
        self._append(t_s, force_n)
        n = self._n
        pos = self._pos
        phase = self._phase
        hold = self.hold
        if phase == REST:
            if (
                t_last < self._next_grid_t
                and t_last < self._post_deadline_t
                and self._x[max(pos - 2, 0) : n].max() < self._on_thr
            ):
                self._pos = n
                return []
        elif (
            phase == ACTIVE
            and t_last < self._next_grid_t
            and t_last < hold.next_refresh_t
            and hold.dip_start_s is None
            and t_first - hold.last_t <= self.p.gap_bridge_s
            and (self._shelf_thr == math.inf or self._x[max(pos - 2, 0) : n].max() < self._shelf_thr)
        ):
            seg = self._x[max(pos - 2, 0) : n]
            lo = seg.min()
            if hold.holding:
                if lo >= hold.hold_level_n and lo >= self._a_off:
                    self._pos = n
                    hold.last_t = t_last
                    events: list[DetectorEvent] = []
                    self._events = events
                    hold.update(t_last, events)
                    return events
            elif lo >= self._a_off and (hold.plateau_ref_n is None or self._x[pos:n].max() < hold.hold_level_n):
                self._pos = n
                hold.last_t = t_last
                return []
        self._events = []
        self.run()
        return self._events
