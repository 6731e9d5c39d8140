"""Builders of small, exactly known force signals for the signal-layer tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sensorapp.simulation.synthetic import Contraction


@dataclass
class Press:
    """One press for ``build``: starts at ``start_s``; level net of the baseline."""

    start_s: float
    level_n: float = 100.0
    rise_s: float = 0.6
    hold_s: float = 6.3
    release_s: float = 0.4
    dip_at_s: float = 0.0  # relative to start
    dip_depth: float = 0.0
    dip_width_s: float = 0.0

    def contraction(self) -> Contraction:
        return Contraction(
            "rep", "left", 1, self.start_s, self.rise_s, self.hold_s, self.release_s, self.level_n,
            0.0, self.dip_at_s, self.dip_depth, self.dip_width_s,
        )  # fmt: skip


@dataclass
class Signal:
    t_s: np.ndarray
    force_n: np.ndarray
    presses: list[Press] = field(default_factory=list)


def build(
    presses: list[Press],
    duration_s: float,
    rate_hz: float = 100.0,
    baseline_n: float | Callable[[np.ndarray], np.ndarray] = 5.0,
    noise_n: float = 0.0,
    seed: int = 0,
) -> Signal:
    """Regularly sampled force: baseline (constant or a function of t) + presses + white noise."""
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    base = baseline_n(t) if callable(baseline_n) else np.full(t.size, float(baseline_n))
    f = base.copy()
    for p in presses:
        f += p.contraction().envelope(t)
    if noise_n > 0:
        f += np.random.default_rng(seed).normal(0.0, noise_n, t.size)
    return Signal(t, f, list(presses))
