"""The linear counts-to-newtons model.

    force_n = (counts - zero_counts) * newtons_per_count

This is the same model the belt stores (``BeltCalibration`` in the protocol),
so a factory calibration read over BLE maps onto it field by field.

Gain sign: any finite, non-zero gain is accepted. A negative gain means the
bridge output falls as the load rises (a cell mounted or wired the other way
round, e.g. loaded in compression). The sign lives in the gain so that the
app's newtons are always positive for the load the patient applies, whatever
the mounting. Note that the belt itself only stores a positive gain, so a
negative-gain calibration can live in the app's store but cannot be written
to the belt (``belt_compatible`` says so).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import overload

import numpy as np

from .errors import CalibrationError

#: Where a calibration came from.
SOURCES: tuple[str, ...] = ("factory", "fit", "manual")


def utc_now_iso() -> str:
    """Current UTC time as an ISO 8601 string (seconds), for ``created_at``."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool):
        raise CalibrationError(f"{name} must be a number, got {value!r}")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CalibrationError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise CalibrationError(f"{name} must be finite, got {x!r}")
    return x


@dataclass(frozen=True)
class LinearCalibration:
    """Offset and gain that turn raw ADC counts into newtons.

    Immutable: a tare or a refit produces a new object, so a calibration shared
    with the acquisition thread never changes under its feet.
    """

    zero_counts: float
    newtons_per_count: float
    source: str = "manual"
    created_at: str | None = None  # ISO 8601, ideally with a UTC offset
    linearity_error_n: float | None = None  # max |residual| of the fit, N
    capacity_n: float | None = None  # rated capacity of the cell, N

    def __post_init__(self) -> None:
        zero = _finite("zero_counts", self.zero_counts)
        gain = _finite("newtons_per_count", self.newtons_per_count)
        if gain == 0.0:
            raise CalibrationError("newtons_per_count must be non-zero (a zero gain turns every reading into 0 N)")
        object.__setattr__(self, "zero_counts", zero)
        object.__setattr__(self, "newtons_per_count", gain)
        if self.source not in SOURCES:
            raise CalibrationError(f"source must be one of {', '.join(SOURCES)}; got {self.source!r}")
        if self.created_at is not None:
            if not isinstance(self.created_at, str):
                raise CalibrationError(f"created_at must be an ISO 8601 string, got {self.created_at!r}")
            try:
                datetime.fromisoformat(self.created_at)
            except ValueError:
                raise CalibrationError(f"created_at {self.created_at!r} is not an ISO 8601 date-time") from None
        if self.linearity_error_n is not None:
            lin = _finite("linearity_error_n", self.linearity_error_n)
            if lin < 0:
                raise CalibrationError(f"linearity_error_n must be >= 0, got {lin!r}")
            object.__setattr__(self, "linearity_error_n", lin)
        if self.capacity_n is not None:
            cap = _finite("capacity_n", self.capacity_n)
            if cap <= 0:
                raise CalibrationError(f"capacity_n must be > 0, got {cap!r}")
            object.__setattr__(self, "capacity_n", cap)

    # -- conversion (hot path: runs on every packet) -------------------------

    @overload
    def to_newtons(self, counts: int | float) -> float: ...
    @overload
    def to_newtons(self, counts: np.ndarray) -> np.ndarray: ...

    def to_newtons(self, counts: np.ndarray | int | float) -> np.ndarray | float:
        """Counts to newtons, float64. A scalar gives a float, an array an array.

        Subtracting the zero before scaling keeps full precision for counts
        near the 24-bit rails; one allocation per call.
        """
        if isinstance(counts, (int, float, np.integer, np.floating)):
            return (float(counts) - self.zero_counts) * self.newtons_per_count
        out = np.subtract(counts, self.zero_counts, dtype=np.float64)
        out *= self.newtons_per_count
        if out.ndim == 0:
            return float(out)
        return out

    @overload
    def to_counts(self, force_n: int | float) -> float: ...
    @overload
    def to_counts(self, force_n: np.ndarray) -> np.ndarray: ...

    def to_counts(self, force_n: np.ndarray | int | float) -> np.ndarray | float:
        """Newtons back to (fractional) counts: the inverse of ``to_newtons``.

        Used for thresholds set in newtons that must be compared with raw
        counts (e.g. saturation margins), and by the simulator.
        """
        if isinstance(force_n, (int, float, np.integer, np.floating)):
            return float(force_n) / self.newtons_per_count + self.zero_counts
        out = np.divide(force_n, self.newtons_per_count, dtype=np.float64)
        out += self.zero_counts
        if out.ndim == 0:
            return float(out)
        return out

    # -- derived calibrations --------------------------------------------------

    def with_zero(self, zero_counts: float) -> LinearCalibration:
        """A copy with a new zero (what a tare does); gain and metadata kept."""
        return dataclasses.replace(self, zero_counts=zero_counts)

    @property
    def belt_compatible(self) -> bool:
        """True if the belt can store this calibration (it only takes a positive gain)."""
        return self.newtons_per_count > 0

    def linearity_error_pct_fs(self) -> float | None:
        """Linearity error in % of the rated capacity, when both are known."""
        if self.linearity_error_n is None or self.capacity_n is None:
            return None
        return 100.0 * self.linearity_error_n / self.capacity_n
