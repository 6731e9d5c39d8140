"""Multi-point least-squares calibration from known masses.

Procedure: hang known masses from the belt (including, ideally, no mass at
all), record the mean counts at each, and fit a straight line.

Regression direction: counts are regressed on the applied force, because the
applied force (a certified mass times gravity) is known far better than the
counts (which carry ADC and mechanical noise). Least squares assumes the error
is in the dependent variable, so this is the direction in which its estimate
is unbiased. The fitted line is then inverted into ``zero_counts`` and
``newtons_per_count``.

Residuals are reported in newtons as *indicated minus applied*:
``calibration.to_newtons(counts_i) - force_i``, i.e. exactly the error the user
would see at that load with the new calibration.

Linearity error is the largest absolute residual from this best-fit straight
line (the "BFSL" convention of load-cell data sheets, not the terminal-line
one). It is also given in % of full scale, where full scale is the cell's
rated capacity when the caller gives one (the data-sheet convention) and the
largest applied load otherwise (then it says how straight the cell is over the
range actually calibrated). ``full_scale_basis`` records which was used.
With two points the line passes through both, so the linearity error is 0 by
construction and says nothing: use three or more points to measure it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .errors import CalibrationError
from .model import LinearCalibration, _finite, utc_now_iso
from .units import STANDARD_GRAVITY


@dataclass(frozen=True, eq=False)
class CalibrationFit:
    """Result of ``fit_from_masses``: the calibration and how good it is."""

    calibration: LinearCalibration
    counts: np.ndarray  # mean counts per point, as fitted
    forces_n: np.ndarray  # applied force per point (mass * gravity), N
    residuals_n: np.ndarray  # indicated - applied per point, N
    linearity_error_n: float  # max |residual|, N
    linearity_error_pct_fs: float  # the same, in % of full_scale_n
    full_scale_n: float
    full_scale_basis: Literal["capacity", "max_load"]
    r_squared: float

    @property
    def n_points(self) -> int:
        return int(self.forces_n.size)


def _positive(name: str, value: object) -> float:
    x = _finite(name, value)
    if x <= 0:
        raise CalibrationError(f"{name} must be > 0, got {x!r}")
    return x


def _point_means(counts: np.ndarray | Sequence[float] | Sequence[np.ndarray]) -> np.ndarray:
    """One mean count per point: a 1-D array as is, a 2-D array row by row,
    or a sequence mixing scalars and per-point sample arrays."""
    if isinstance(counts, np.ndarray):
        arr = counts.astype(np.float64, copy=False)
        if arr.ndim == 1:
            return arr
        if arr.ndim == 2:
            if arr.shape[1] == 0:
                raise CalibrationError("each calibration point needs at least one sample")
            return arr.mean(axis=1)
        raise CalibrationError(f"counts must be 1-D (one mean per point) or 2-D (samples per point), got {arr.ndim}-D")
    means = []
    for i, point in enumerate(counts):
        try:
            a = np.asarray(point, dtype=np.float64)
        except (TypeError, ValueError):
            raise CalibrationError(f"point {i}: counts must be numbers, got {point!r}") from None
        if a.ndim == 0:
            means.append(float(a))
        elif a.ndim == 1:
            if a.size == 0:
                raise CalibrationError(f"point {i}: no samples")
            if not np.all(np.isfinite(a)):
                raise CalibrationError(f"point {i}: samples must be finite")
            means.append(float(a.mean()))
        else:
            raise CalibrationError(f"point {i}: expected a number or a 1-D array of samples, got {a.ndim}-D")
    return np.asarray(means, dtype=np.float64)


def fit_from_masses(
    counts: np.ndarray | Sequence[float] | Sequence[np.ndarray],
    masses_kg: np.ndarray | Sequence[float],
    *,
    gravity: float = STANDARD_GRAVITY,
    capacity_n: float | None = None,
    created_at: str | None = None,
) -> CalibrationFit:
    """Least-squares line through (applied force, counts) for known masses.

    ``counts``: the mean counts at each point, or per point an array of raw
    samples (they are averaged). ``masses_kg``: the mass hung at each point;
    the applied force is ``mass * gravity`` (pass the local gravity when it is
    known; the default is standard gravity). Raises ``CalibrationError`` for
    fewer than two points, mismatched lengths, non-finite input, negative
    masses, all masses equal, or counts that do not change with the load.
    """
    c = _point_means(counts)
    try:
        m = np.asarray(masses_kg, dtype=np.float64)
    except (TypeError, ValueError):
        raise CalibrationError(f"masses_kg must be numbers, got {masses_kg!r}") from None
    if m.ndim != 1:
        raise CalibrationError(f"masses_kg must be 1-D, got {m.ndim}-D")
    if c.size != m.size:
        raise CalibrationError(f"{c.size} count points but {m.size} masses: give one mass per point")
    if c.size < 2:
        raise CalibrationError(f"a calibration needs at least 2 points (different loads), got {c.size}")
    if not np.all(np.isfinite(c)):
        raise CalibrationError("counts contain NaN or infinity")
    if not np.all(np.isfinite(m)):
        raise CalibrationError("masses_kg contain NaN or infinity")
    if np.any(m < 0):
        raise CalibrationError(f"masses must be >= 0 kg, got {m[m < 0][0]!r} kg")
    g = _positive("gravity (m/s^2)", gravity)

    f = m * g
    f_mean = float(f.mean())
    c_mean = float(c.mean())
    df = f - f_mean
    dc = c - c_mean
    sff = float(df @ df)
    scc = float(dc @ dc)
    if sff == 0.0:
        raise CalibrationError("all points have the same mass: at least two different loads are needed")
    if scc == 0.0:
        raise CalibrationError("all points have the same counts: the cell did not respond to the load (disconnected or saturated?)")
    counts_per_newton = float(df @ dc) / sff
    if counts_per_newton == 0.0:
        raise CalibrationError("counts do not change with the load (zero slope): cannot derive a gain")
    zero = c_mean - counts_per_newton * f_mean  # counts at 0 N
    gain = 1.0 / counts_per_newton

    residuals = (c - zero - counts_per_newton * f) * gain  # == to_newtons(c) - f
    lin_n = float(np.max(np.abs(residuals)))
    sres = float(np.sum((c - zero - counts_per_newton * f) ** 2))
    r2 = 1.0 - sres / scc

    if capacity_n is not None:
        full_scale = _positive("capacity_n", capacity_n)
        basis: Literal["capacity", "max_load"] = "capacity"
    else:
        full_scale = float(f.max())
        basis = "max_load"

    cal = LinearCalibration(
        zero_counts=zero,
        newtons_per_count=gain,
        source="fit",
        created_at=created_at if created_at is not None else utc_now_iso(),
        linearity_error_n=lin_n,
        capacity_n=None if capacity_n is None else full_scale,
    )
    return CalibrationFit(
        calibration=cal,
        counts=c,
        forces_n=f,
        residuals_n=residuals,
        linearity_error_n=lin_n,
        linearity_error_pct_fs=100.0 * lin_n / full_scale,
        full_scale_n=full_scale,
        full_scale_basis=basis,
        r_squared=r2,
    )
