"""A device-like clock for sources whose samples carry no timestamp (the
WH-C06 scale, the PitchSix Force Board): samples are placed by their host
arrival time, smoothed, so that one recording keeps a single increasing time
line with gaps where nothing arrived.

Assumptions, stated once (docs/devices.md repeats them):

- The last sample of a notification (or the one sample of an advertisement)
  was measured just before it arrived; the samples before it in the same
  notification are one sample period apart.
- The device samples at a steady rate: the period is estimated from the
  arrival times (a slow running average), starting from the nominal rate.
- Host arrival jitter (scheduling, D-Bus) is not device timing: the time line
  follows the arrivals through a low-pass (a tenth of each residual), so
  consecutive samples stay close to one period apart; it never runs backwards.
- A step longer than ``gap_factor`` expected steps is a hole (lost
  notifications or advertisements) and is recorded as a Gap; nothing is
  interpolated. A link loss announced by the source makes the next sample
  start a new stretch after a "link loss" gap.

Pure code: no bleak, no clock of its own (callers pass the host time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blocks import Gap, StreamStats

_FOLLOW = 0.1  # share of the arrival residual the time line follows per notification
_PERIOD_ALPHA = 0.05  # weight of one notification in the period estimate


@dataclass(frozen=True)
class Placement:
    t_s: np.ndarray  # sample times on the recording's time line
    gap_before_s: float
    lost_packets_before: int


class HostTimeline:
    """Places host-timed notifications of ``n`` samples on one recording time line."""

    def __init__(self, nominal_rate_hz: float, stats: StreamStats, *, gap_factor: float = 2.5) -> None:
        if not nominal_rate_hz > 0:
            raise ValueError(f"nominal rate must be positive, got {nominal_rate_hz!r}")
        self.nominal_period_s = 1.0 / nominal_rate_hz
        self.period_s = self.nominal_period_s
        self.gap_factor = gap_factor
        self.stats = stats
        self._origin: float | None = None  # host time of recording time 0
        self._last_t_s: float | None = None
        self._last_arrival: float | None = None
        self._last_n = 1
        self._next_cause: str | None = None

    @property
    def last_arrival(self) -> float | None:
        return self._last_arrival

    def link_lost(self) -> None:
        """The next notification starts a new stretch after a "link loss" gap."""
        self._next_cause = "link loss"

    def stream_started(self) -> None:
        """A stream (re)start after a stop: the pause is a gap but nothing was lost in it."""
        if self._next_cause is None and self._last_t_s is not None:
            self._next_cause = "stream restart"

    def place(self, n: int, arrival: float) -> Placement:
        """Times for the ``n`` samples of a notification that arrived at host time ``arrival`` (seconds)."""
        if n < 1:
            raise ValueError("a notification carries at least one sample")
        p = self.period_s
        if self._origin is None or self._last_t_s is None or self._last_arrival is None:
            self._origin = arrival - (n - 1) * p
            t = np.arange(n, dtype=np.float64) * p
            self._remember(t, arrival, n)
            return Placement(t, 0.0, 0)

        cause, self._next_cause = self._next_cause, None
        arrived_t = arrival - self._origin  # where the host clock puts the last sample
        predicted = self._last_t_s + n * p
        residual = arrived_t - predicted
        expected_step = n * p
        gap_s = 0.0
        lost = 0
        if cause is not None or residual > (self.gap_factor - 1.0) * expected_step:
            # A hole: start this notification where the host clock says, at least one period on.
            end = max(arrived_t, self._last_t_s + n * p)
            t = end - p * np.arange(n - 1, -1, -1, dtype=np.float64)
            gap_s = float(t[0] - (self._last_t_s + p))
            if gap_s > p / 2:
                lost_samples = round(gap_s / p)
                lost = max(1, round(lost_samples / max(1, self._last_n))) if cause is None else 0
                self.stats.gaps.append(Gap(t_s=self._last_t_s + p, duration_s=gap_s, lost_packets=lost, cause=cause or "packet loss"))
                if cause != "stream restart":
                    self.stats.lost_samples_est += lost_samples
                self.stats.lost_packets += lost
            else:
                gap_s = 0.0
        else:
            # Contiguous: one period per sample, nudged toward the arrivals, never backwards.
            step = max(p * 0.5, p + _FOLLOW * residual / n)
            t = self._last_t_s + step * np.arange(1, n + 1, dtype=np.float64)
            measured = (arrival - self._last_arrival) / n
            if measured > 0:
                self.period_s = (1 - _PERIOD_ALPHA) * p + _PERIOD_ALPHA * float(np.clip(measured, 0.5 * p, 2.0 * p))
        self._remember(t, arrival, n)
        return Placement(t, gap_s, lost)

    def _remember(self, t: np.ndarray, arrival: float, n: int) -> None:
        self._last_t_s = float(t[-1])
        self._last_arrival = arrival
        self._last_n = n
        self.stats.rate_hz = 1.0 / self.period_s
