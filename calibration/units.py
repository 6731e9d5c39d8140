"""Force units: newtons internally, kgf and lbf for display.

Everything in the app is computed and stored in newtons; other units exist only
at the edges (what the therapist types and reads). Both conversion factors are
exact by definition, so round trips lose nothing beyond float64 rounding.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from .errors import UnitError

#: Standard acceleration of gravity, m/s^2 (exact, CGPM 1901). 1 kgf = this many N.
STANDARD_GRAVITY: float = 9.80665

#: One pound-force in newtons (exact: 0.45359237 kg * 9.80665 m/s^2).
LBF_IN_N: float = 4.4482216152605


class Unit(Enum):
    """A force unit; the value is its display label."""

    N = "N"
    KGF = "kgf"
    LBF = "lbf"

    @property
    def newtons_per_unit(self) -> float:
        """How many newtons one of this unit is."""
        return _N_PER_UNIT[self]

    @property
    def label(self) -> str:
        """Short label for axis titles and readouts ("N", "kgf", "lbf")."""
        return self.value


_N_PER_UNIT: dict[Unit, float] = {Unit.N: 1.0, Unit.KGF: STANDARD_GRAVITY, Unit.LBF: LBF_IN_N}

# Lower-case aliases. "kg" and "lb" are accepted because that is what people
# type when they mean the force of that mass under standard gravity.
_ALIASES: dict[str, Unit] = {
    "n": Unit.N,
    "newton": Unit.N,
    "newtons": Unit.N,
    "kgf": Unit.KGF,
    "kg": Unit.KGF,
    "kgs": Unit.KGF,
    "kilogram": Unit.KGF,
    "kilograms": Unit.KGF,
    "kilogram-force": Unit.KGF,
    "kilogramforce": Unit.KGF,
    "kp": Unit.KGF,
    "lbf": Unit.LBF,
    "lb": Unit.LBF,
    "lbs": Unit.LBF,
    "pound": Unit.LBF,
    "pounds": Unit.LBF,
    "pound-force": Unit.LBF,
    "poundforce": Unit.LBF,
}

#: Every name ``parse_unit`` accepts (case-insensitive).
ACCEPTED_UNIT_NAMES: tuple[str, ...] = tuple(_ALIASES)


def parse_unit(name: str | Unit) -> Unit:
    """A unit from what a user or a settings file wrote ("kgf", "kg", "lbf", "lb", "N"...).

    Case-insensitive, surrounding spaces ignored. Anything else raises
    ``UnitError`` listing the accepted names, so a typo in a settings file is
    reported rather than silently shown in newtons.
    """
    if isinstance(name, Unit):
        return name
    if not isinstance(name, str):
        raise UnitError(f"a unit name must be a string, got {name!r}")
    unit = _ALIASES.get(name.strip().lower())
    if unit is None:
        raise UnitError(f"unknown force unit {name!r}; accepted (any case): {', '.join(ACCEPTED_UNIT_NAMES)}")
    return unit


def convert(values: np.ndarray | float, from_unit: Unit | str, to_unit: Unit | str) -> np.ndarray | float:
    """Convert forces between units; a scalar gives a float, an array a float64 array."""
    src = parse_unit(from_unit)
    dst = parse_unit(to_unit)
    if isinstance(values, (int, float, np.integer, np.floating)):
        if src is dst:
            return float(values)
        return float(values) * src.newtons_per_unit / dst.newtons_per_unit
    out = np.array(values, dtype=np.float64)  # always a copy: never alias the caller's buffer
    if src is not dst:
        # Through newtons: multiply then divide by the exact factors.
        if src is not Unit.N:
            out *= src.newtons_per_unit
        if dst is not Unit.N:
            out /= dst.newtons_per_unit
    return out if out.ndim else float(out)


def unit_label(unit: Unit | str) -> str:
    """Display label of a unit: "N", "kgf" or "lbf"."""
    return parse_unit(unit).label


def format_force(value_n: float, unit: Unit | str = Unit.N, *, decimals: int = 1) -> str:
    """A force given in newtons, shown in ``unit`` with its label: "12.3 kgf"."""
    u = parse_unit(unit)
    return f"{convert(float(value_n), Unit.N, u):.{decimals}f} {u.label}"
