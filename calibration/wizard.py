"""The calibration wizard's steps, as a pure model: tare, known masses, fit, accept.

Procedure: with the belt hanging unloaded and still, capture the zero point;
then for each known mass: hang it, wait until it hangs still, capture; then
fit a line through all points (``fit_from_masses``, the zero point counts as
0 kg) and report its linearity error; the user accepts or discards it.

The model only sees device times and raw counts (``feed``), so it runs the
same under the CLI, the GUI and the tests. Talking to a device, saving the
file and writing the belt are the caller's job.

Why these rules (all thresholds are in ``WizardLimits``, as data):
- A capture averages ``capture_window_s`` of device time. It is refused while
  the load moves (max - min over the window above ``max_spread_n``): a mass
  still swinging or a hand still on it would bias that point.
- A capture is also refused when the load changed by clearly not the amount
  the named mass should add (off by more than ``step_tolerance`` of the
  expected change): the wrong mass, or the mass not hung yet. This is what lets
  a non-interactive run detect "the next mass is on and has settled".
- At least ``min_masses`` known masses besides the zero point, so a fit has
  three points or more and its linearity error means something; masses must
  be finite, > 0, at most ``max_mass_kg`` (the cell's capacity) and distinct.
- A fit whose linearity error exceeds ``max_linearity_pct`` of the largest
  load is refused: a wrong mass or a damaged cell, not a calibration.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import CalibrationError
from .fit import CalibrationFit, fit_from_masses
from .model import LinearCalibration
from .units import STANDARD_GRAVITY

MOVING_LOAD_MESSAGE = "the load is still moving: wait until it hangs still"


class LoadMovingError(CalibrationError):
    """The capture window was not still: the mass was swinging or touched."""


class WrongLoadError(CalibrationError):
    """The load did not change by about the named mass."""


@dataclass(frozen=True)
class WizardLimits:
    """Thresholds of the wizard, as data (docs/calibration.md, "Calibration wizard")."""

    capture_window_s: float = 2.0  # device time averaged per point
    max_spread_n: float = 0.5  # max - min over the window, N (about 50 gf); more is a moving load
    step_tolerance: float = 0.5  # fraction of the expected change the measured change may be off by
    min_masses: int = 2  # known masses besides the zero point
    max_mass_kg: float = 100.0  # used when the cell's capacity is unknown
    max_linearity_pct: float = 2.0  # of the largest applied load

    def __post_init__(self) -> None:
        for name in ("capture_window_s", "max_spread_n", "step_tolerance", "max_mass_kg", "max_linearity_pct"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise CalibrationError(f"{name} must be a positive number, got {value!r}")
        if self.min_masses < 1:
            raise CalibrationError(f"min_masses must be at least 1, got {self.min_masses!r}")


class Step(enum.Enum):
    TARE = "tare"  # capture the unloaded point
    MASS = "mass"  # capture the current known mass
    FIT = "fit"  # every point captured: fit and accept
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class CapturedPoint:
    mass_kg: float  # 0 for the tare point
    mean_counts: float
    n_samples: int
    spread_n: float  # max - min over the window, under the gain in use while capturing
    duration_s: float


@dataclass(frozen=True)
class WindowStats:
    """What the last ``capture_window_s`` of samples look like now."""

    n_samples: int
    duration_s: float
    mean_counts: float
    force_n: float  # mean, under the gain in use, relative to the tare point once there is one
    spread_n: float
    full: bool  # covers the whole capture window
    still: bool  # full and spread within the limit


def validate_masses(masses_kg: Sequence[float], *, limits: WizardLimits = WizardLimits(), capacity_n: float | None = None,
                    gravity: float = STANDARD_GRAVITY) -> tuple[float, ...]:
    """The known masses as floats, or ``CalibrationError`` naming what is wrong with them."""
    max_kg = capacity_n / gravity if capacity_n is not None else limits.max_mass_kg
    out: list[float] = []
    for raw in masses_kg:
        try:
            m = float(raw)
        except (TypeError, ValueError):
            raise CalibrationError(f"mass {raw!r} is not a number of kilograms") from None
        if not math.isfinite(m):
            raise CalibrationError(f"mass {raw!r} is not a finite number of kilograms")
        if m <= 0:
            raise CalibrationError(f"mass {m:g} kg must be more than 0 kg (the unloaded point is taken by the tare step)")
        if m > max_kg:
            raise CalibrationError(f"mass {m:g} kg is more than the belt's capacity of {max_kg:.0f} kg")
        if any(abs(m - other) < 1e-9 for other in out):
            raise CalibrationError(f"mass {m:g} kg is given twice: each known mass must be different")
        out.append(m)
    if len(out) < limits.min_masses:
        raise CalibrationError(
            f"give at least {limits.min_masses} different known masses (got {len(out)}), so the fit can show its linearity error"
        )
    return tuple(out)


@dataclass
class CalibrationWizard:
    """Tare, then each known mass in order, then the fit.

    ``calibration``: the one the device applies now (factory or nominal); it
    only converts counts to newtons for the stillness and step checks, so a
    few percent off does not matter.
    """

    masses_kg: Sequence[float]
    calibration: LinearCalibration
    limits: WizardLimits = field(default_factory=WizardLimits)
    gravity: float = STANDARD_GRAVITY
    capacity_n: float | None = None
    points: list[CapturedPoint] = field(default_factory=list, init=False)
    fit: CalibrationFit | None = field(default=None, init=False)
    _accepted: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.masses_kg = validate_masses(self.masses_kg, limits=self.limits, capacity_n=self.capacity_n, gravity=self.gravity)
        self._t = np.empty(0)
        self._c = np.empty(0)

    # ------------------------------------------------------------ where we are

    @property
    def step(self) -> Step:
        if self.fit is not None and self._accepted:
            return Step.ACCEPTED
        if not self.points:
            return Step.TARE
        if len(self.points) <= len(self.masses_kg):
            return Step.MASS
        return Step.FIT

    @property
    def current_mass_kg(self) -> float:
        """The mass the current step captures (0 for the tare); ``CalibrationError`` after the last one."""
        if self.step is Step.TARE:
            return 0.0
        if self.step is Step.MASS:
            return float(self.masses_kg[len(self.points) - 1])
        raise CalibrationError("every point has been captured")

    def instruction(self) -> str:
        """What the user should do now, in one line."""
        step = self.step
        if step is Step.TARE:
            return "remove every load: let the belt hang unloaded and still"
        if step is Step.MASS:
            return f"hang {self.current_mass_kg:g} kg from the belt"
        if step is Step.FIT:
            return "every point captured: check the fit and save it"
        return "calibration accepted"

    # ------------------------------------------------------------ samples

    def feed(self, t_s: np.ndarray, counts: np.ndarray) -> None:
        """Add samples (device seconds, raw counts); only the last capture window is kept."""
        t = np.asarray(t_s, dtype=np.float64)
        c = np.asarray(counts, dtype=np.float64)
        if t.shape != c.shape or t.ndim != 1:
            raise CalibrationError(f"feed needs two 1-D arrays of the same length, got {t.shape} and {c.shape}")
        if not t.size:
            return
        ok = np.isfinite(t) & np.isfinite(c)
        t, c = t[ok], c[ok]
        if self._t.size and t.size and t[0] <= self._t[-1]:
            # The device clock went back (a restarted source): the old window is not comparable.
            self._t, self._c = np.empty(0), np.empty(0)
        self._t = np.concatenate([self._t, t])
        self._c = np.concatenate([self._c, c])
        if self._t.size > 1:
            period = float(np.median(np.diff(self._t)))
            keep = self._t > self._t[-1] - self.limits.capture_window_s + period / 2
            self._t, self._c = self._t[keep], self._c[keep]

    def clear_window(self) -> None:
        """Forget the samples so far (after hanging a mass, for example)."""
        self._t, self._c = np.empty(0), np.empty(0)

    def window(self) -> WindowStats:
        n = int(self._t.size)
        gain = abs(self.calibration.newtons_per_count)
        if n < 2:
            mean = float(self._c.mean()) if n else float("nan")
            return WindowStats(n, 0.0, mean, float("nan"), float("nan"), False, False)
        period = float(np.median(np.diff(self._t)))
        duration = float(self._t[-1] - self._t[0]) + period
        mean = float(self._c.mean())
        spread = float(self._c.max() - self._c.min()) * gain
        reference = self.points[0].mean_counts if self.points else self.calibration.zero_counts
        force = (mean - reference) * self.calibration.newtons_per_count
        full = duration >= self.limits.capture_window_s * (1 - 1e-9)
        return WindowStats(n, duration, mean, force, spread, full, full and spread <= self.limits.max_spread_n)

    def ready(self) -> bool:
        """The window is full and still, and (for a mass) changed by about that mass: a capture would be accepted."""
        try:
            self._check_window(self.window())
        except CalibrationError:
            return False
        return True

    def _check_window(self, w: WindowStats) -> None:
        step = self.step
        if step not in (Step.TARE, Step.MASS):
            raise CalibrationError("every point has been captured: fit now")
        if not w.full:
            raise CalibrationError(f"not enough samples yet: {w.duration_s:.1f} of {self.limits.capture_window_s:g} s")
        if w.spread_n > self.limits.max_spread_n:
            raise LoadMovingError(
                f"{MOVING_LOAD_MESSAGE} (force varied by {w.spread_n:.2f} N over {w.duration_s:.1f} s; "
                f"at most {self.limits.max_spread_n:g} N)"
            )
        if step is Step.MASS:
            previous = self.points[-1]
            mass = self.current_mass_kg
            expected_n = (mass - previous.mass_kg) * self.gravity
            measured_n = (w.mean_counts - previous.mean_counts) * self.calibration.newtons_per_count
            if abs(measured_n - expected_n) > self.limits.step_tolerance * abs(expected_n):
                raise WrongLoadError(
                    f"the load changed by {measured_n / self.gravity:+.2f} kg since the last point, not about "
                    f"{expected_n / self.gravity:+.2f} kg: is the {mass:g} kg mass hanging freely from the belt?"
                )

    def capture(self) -> CapturedPoint:
        """Take the current window as this step's point, or raise why not (moving, wrong load, too short)."""
        w = self.window()
        self._check_window(w)
        point = CapturedPoint(self.current_mass_kg, w.mean_counts, w.n_samples, w.spread_n, w.duration_s)
        self.points.append(point)
        self.clear_window()
        return point

    def undo_last(self) -> None:
        """Drop the last captured point (and any fit), to capture it again."""
        if self.points:
            self.points.pop()
        self.fit = None
        self._accepted = False

    # ------------------------------------------------------------ result

    def compute_fit(self, *, created_at: str | None = None) -> CalibrationFit:
        """Least-squares fit over every point; refused when its linearity error is implausible."""
        if self.step is not Step.FIT:
            raise CalibrationError(f"{len(self.points)} of {len(self.masses_kg) + 1} points captured: capture the rest first")
        fit = fit_from_masses(
            [p.mean_counts for p in self.points],
            [p.mass_kg for p in self.points],
            gravity=self.gravity,
            capacity_n=self.capacity_n,
            created_at=created_at,
        )
        largest_n = max(self.masses_kg) * self.gravity
        if fit.linearity_error_n > self.limits.max_linearity_pct / 100 * largest_n:
            raise CalibrationError(
                f"linearity error {fit.linearity_error_n:.2f} N is more than {self.limits.max_linearity_pct:g} % of the largest load "
                f"({largest_n:.0f} N): check the masses and that each hung freely, then calibrate again"
            )
        self.fit = fit
        return fit

    def accept(self) -> LinearCalibration:
        """The fitted calibration, accepted by the user (fit first)."""
        if self.fit is None:
            raise CalibrationError("there is no fit to accept yet")
        self._accepted = True
        return self.fit.calibration
