"""Known masses hung from the simulated belt, for the calibration wizard.

``HangingMassRig.force_at(t_s)`` is the force the belt feels, a pure function
of device time like the virtual patient's: nothing hung until ``hang`` is
called, then each change of mass arrives as an underdamped step (a hand lets
the mass go, it bounces and swings, and settles within a few seconds), plus a
slow sway of a few hundredths of a newton that never settles. The belt's own
transfer (offset, gain, bow) and ADC noise are the virtual belt's, so counts
follow the belt's true transfer as they would on a bench.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from calibration.units import STANDARD_GRAVITY


@dataclass(frozen=True)
class MassChange:
    at_s: float
    mass_kg: float  # the total mass hanging from then on


@dataclass
class HangingMassRig:
    gravity: float = STANDARD_GRAVITY
    bounce_hz: float = 1.4  # the mass on the strap: a soft spring
    settle_tau_s: float = 0.45  # decay of the bounce: under 1 N after about 2.5 s for 10 kg
    sway_n: float = 0.02  # residual sway amplitude, N (air, a building)
    changes: list[MassChange] = field(default_factory=list)

    def hang(self, mass_kg: float, at_s: float) -> None:
        """From device time ``at_s``, ``mass_kg`` hangs from the belt (0: nothing)."""
        if not (math.isfinite(mass_kg) and mass_kg >= 0):
            raise ValueError(f"a hung mass must be a finite number of kg >= 0, got {mass_kg!r}")
        if self.changes and at_s < self.changes[-1].at_s:
            raise ValueError(f"masses are hung in time order: {at_s} s is before {self.changes[-1].at_s} s")
        self.changes.append(MassChange(float(at_s), float(mass_kg)))

    def mass_at(self, t_s: float) -> float:
        mass = 0.0
        for change in self.changes:
            if change.at_s <= t_s:
                mass = change.mass_kg
        return mass

    def force_at(self, t_s: np.ndarray) -> np.ndarray:
        t = np.asarray(t_s, dtype=np.float64)
        force = self.sway_n * np.sin(2 * np.pi * 0.23 * t) * np.sin(2 * np.pi * 0.071 * t + 0.4)
        previous = 0.0
        omega = 2 * np.pi * self.bounce_hz
        for change in self.changes:
            step_n = (change.mass_kg - previous) * self.gravity
            previous = change.mass_kg
            dt = t - change.at_s
            on = dt >= 0
            d = np.where(on, dt, 0.0)
            # The step response of a lightly damped spring: starts at 0, overshoots, settles on the step.
            response = 1.0 - np.exp(-d / self.settle_tau_s) * np.cos(omega * d)
            force = force + np.where(on, step_n * response, 0.0)
        return force
